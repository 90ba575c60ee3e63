#include "dataplane/kernel/tcp_server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <memory>
#include <utility>
#include <vector>

#include "absl/base/optimization.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "dataplane/engine/engine.h"
#include "dataplane/kernel/listen_socket.h"
#include "maps/control_block.h"
#include "maps/dns/wire.h"
#include "maps/log.h"
#include "maps/snapshot_format.h"

namespace sextant::dataplane {
namespace {

// RFC 1035 section 4.2.2: every message on TCP is preceded by its length in two bytes.
constexpr size_t kLengthPrefix = 2;
// Accepts per wake-up, so a connection flood cannot starve established connections.
constexpr int kMaxAcceptsPerWake = 64;
// A connection's output buffer keeps at most this much capacity once drained; a burst of big
// responses should not pin memory for the rest of the connection's life.
constexpr size_t kKeepOutCapacity = 16 * 1024;
// epoll tags: listening sockets have the top bit set; connections carry slot | generation << 32
// so an event can never reach a connection that reused the slot of a closed one.
constexpr uint64_t kListenTag = uint64_t{1} << 63;
constexpr uint32_t kNoSlot = 0xffffffffu;
// How often, at most, the TCP thread logs what its limits refused and closed.
constexpr int64_t kReportMs = 5000;

// The limits in force (maps::TcpSettings says what each means).
struct Limits {
  uint32_t max_connections;
  uint32_t max_per_client;
  uint32_t idle_timeout_ms;
  uint32_t query_timeout_ms;
  uint32_t max_queries;
  bool operator==(const Limits&) const = default;
};

Limits LimitsOf(const ListenerOptions& o) {
  return {static_cast<uint32_t>(o.tcp_max_connections), static_cast<uint32_t>(o.tcp_max_per_client),
          static_cast<uint32_t>(o.tcp_idle_timeout_ms),
          static_cast<uint32_t>(o.tcp_query_timeout_ms), static_cast<uint32_t>(o.tcp_max_queries)};
}

// The snapshot's `tcp:` section (validated by the reader), or the listener's own options.
Limits LimitsOf(const ListenerOptions& o, const maps::SnapshotReader& snap) {
  const auto section = snap.section<maps::TcpSettings>(maps::kTcp);
  if (section.empty()) return LimitsOf(o);
  const maps::TcpSettings& t = section[0];
  return {t.max_connections, t.max_per_client, t.idle_timeout_ms, t.query_timeout_ms,
          t.max_queries};
}

std::string Seconds(uint32_t ms) {
  return ms % 1000 == 0 ? absl::StrCat(ms / 1000, " s") : absl::StrCat(ms, " ms");
}

std::string Describe(const Limits& l) {
  return absl::StrCat(l.max_connections, " connections, ",
                      l.max_per_client == 0 ? std::string("no per-client limit")
                                            : absl::StrCat(l.max_per_client, " per client"),
                      ", idle timeout ", Seconds(l.idle_timeout_ms), ", query timeout ",
                      l.query_timeout_ms == 0 ? std::string("off") : Seconds(l.query_timeout_ms),
                      ", ",
                      l.max_queries == 0 ? std::string("unlimited") : absl::StrCat(l.max_queries),
                      " queries per connection");
}

// Whom the per-client limit counts together: an IPv4 address, or an IPv6 /64 (one subscriber
// or host usually holds a whole /64, so counting single IPv6 addresses would be no limit).
using ClientKey = std::pair<uint8_t, uint64_t>;
ClientKey KeyOf(const ClientInfo& c) {
  uint64_t v = 0;
  std::memcpy(&v, c.addr, c.family == 4 ? 4 : 8);
  return {c.family, v};
}

// What the limits did since the last report.
struct LimitStats {
  uint64_t refused_client = 0;  // over the per-client limit
  uint64_t refused_full = 0;    // at a connection limit lowered below those open
  uint64_t evicted = 0;         // stalled connections closed for a newcomer
  uint64_t idle = 0;            // closed by the idle timeout
  uint64_t slow = 0;            // closed by the query timeout
  uint64_t spent = 0;           // closed after max_queries
  bool any() const { return refused_client + refused_full + evicted + idle + slow + spent > 0; }
};

// Monotonic milliseconds; the coarse clock (a few ms resolution, no syscall) is plenty for
// timeouts measured in seconds.
int64_t NowMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1000000;
}

// The epoll registration of listening socket `i`: watched for connections, or not at all.
epoll_event ListenerEvent(size_t i, bool watch) {
  epoll_event ev{};
  if (watch) {
    ev.events = EPOLLIN;
    ev.data.u64 = kListenTag | i;
  }
  return ev;
}

// One run of the TCP thread: the connection table and the epoll loop over it. Connections are
// closed when it goes away.
class TcpLoop {
 public:
  TcpLoop(const ListenerOptions& options, int epoll_fd, const std::vector<UniqueFd>& listeners,
          ServingThread thread)
      : opt_(options),
        epfd_(epoll_fd),
        listeners_(listeners),
        thread_(thread),
        ctr_(thread_.counters()),
        in_cap_(kLengthPrefix + static_cast<size_t>(options.tcp_max_message)),
        lim_(LimitsOf(options)),
        resp_(std::make_unique_for_overwrite<uint8_t[]>(kLengthPrefix + kMaxDnsMessage)) {
    Grow(lim_.max_connections);
  }

  void Run() {
    epoll_event events[kBurst];
    int64_t next_sweep = NowMs() + kPollMs;
    while (!thread_.stopping()) {
      // Offline while blocked, so a snapshot swap never waits for this thread; being offline
      // also serves as the quiescent state after the previous batch.
      thread_.Offline();
      const int n = epoll_wait(epfd_, events, kBurst, kPollMs);
      thread_.Online();
      const LoadedSnapshot* snap = thread_.snapshot();
      const int64_t now = NowMs();
      if (snap != nullptr && snap->reader->generation() != limits_generation_) Apply(*snap);
      for (int i = 0; i < n; ++i) {
        const uint64_t tag = events[i].data.u64;
        if (tag & kListenTag) {
          Accept(static_cast<size_t>(tag & ~kListenTag), now);
          continue;
        }
        Conn& c = conns_[tag & 0xffffffffu];
        if (!c.fd || c.gen != static_cast<uint32_t>(tag >> 32)) continue;
        OnEvent(c, events[i].events, snap, now);
      }
      if (snap != nullptr) thread_.ReportGeneration(*snap);
      if (now >= next_sweep) {
        Sweep(now);
        next_sweep = now + kPollMs;
      }
    }
    thread_.Offline();
  }

 private:
  struct Conn {
    UniqueFd fd;
    uint32_t gen = 0;
    uint32_t interest = 0;  // current epoll events
    uint32_t pending = 0;   // responses queued since `out` was last empty
    bool eof = false;       // the client has shut down its sending side
    bool closing = false;   // framing error: send what is answered, then close
    int64_t last_ms = 0;    // last progress in either direction
    int64_t msg_ms = 0;     // when the first byte of the message in `in` arrived
    uint32_t answered = 0;  // queries answered on this connection
    ClientKey key;
    ClientInfo client;
    sockaddr_storage peer{};  // both ends, kept when dnstap samples
    sockaddr_storage local{};
    std::unique_ptr<uint8_t[]> in;  // kLengthPrefix + tcp_max_message bytes, from first use
    size_t in_len = 0;
    std::vector<uint8_t> out;
    size_t out_off = 0;
  };

  uint64_t Tag(uint32_t slot) const { return uint64_t{conns_[slot].gen} << 32 | slot; }
  uint32_t SlotOf(const Conn& c) const { return static_cast<uint32_t>(&c - conns_.data()); }

  void Accept(size_t listen_index, int64_t now) {
    const int lfd = listeners_[listen_index].get();
    for (int k = 0; k < kMaxAcceptsPerWake; ++k) {
      sockaddr_storage ss;
      socklen_t sl = sizeof(ss);
      UniqueFd fd(
          accept4(lfd, reinterpret_cast<sockaddr*>(&ss), &sl, SOCK_NONBLOCK | SOCK_CLOEXEC));
      if (!fd) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
          // The pending connection stays queued and the socket stays readable: stop watching
          // it until the next sweep rather than spin.
          WatchListeners(false);
        }
        return;
      }
      ClientInfo client;
      ClientFromSockaddr(ss, /*tcp=*/true, &client);
      // RFC 7766 section 6.2.2 leaves the limits' policy to the server: over the per-client
      // limit the newcomer is refused (its own connections are what it would push out); at the
      // total limit it takes the place of the connection stalled longest (see Admit). A
      // refused `fd` closes on the way out.
      const ClientKey key = KeyOf(client);
      if (!Admit(key)) {
        maps::CounterAdd(ctr_.dropped[maps::kDropOther], 1);
        continue;
      }
      const uint32_t slot = free_.back();
      free_.pop_back();
      Conn& c = conns_[slot];
      c.fd = std::move(fd);
      c.client = client;
      c.key = key;
      c.answered = 0;
      ++per_client_[key];
      ++active_;
      c.last_ms = now;
      if (thread_.tapping()) {  // dnstap logs both ends
        c.peer = ss;
        socklen_t ll = sizeof(c.local);
        if (getsockname(c.fd.get(), reinterpret_cast<sockaddr*>(&c.local), &ll) != 0) {
          c.local = sockaddr_storage{};
        }
      }
      if (!c.in) c.in = std::make_unique_for_overwrite<uint8_t[]>(in_cap_);
      // Answers are written whole; Nagle would only hold back the last one of a pipeline.
      const int one = 1;
      setsockopt(c.fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = Tag(slot);
      if (epoll_ctl(epfd_, EPOLL_CTL_ADD, c.fd.get(), &ev) != 0) {
        Close(c, slot);
        continue;
      }
      c.interest = EPOLLIN;
    }
  }

  // Whether a connection from `key` may open now. Over the per-client limit it is refused. At
  // the connection limit it always gets in, and the connection stalled longest (MostStalled) makes
  // room: refusing newcomers instead would let whoever fills the table first (a slowloris from
  // enough addresses, reconnecting as soon as it is closed) keep real clients out. A real client
  // sends its query as soon as it is connected and is answered within a round trip, so it is
  // never the one stalled longest unless the whole table turns over faster than that; RFC 7766
  // section 6.2.3 lets a server close idle connections under pressure, and they reconnect.
  // Counts what it refuses or closes.
  bool Admit(const ClientKey& key) {
    if (lim_.max_per_client != 0) {
      const auto it = per_client_.find(key);
      if (it != per_client_.end() && it->second >= lim_.max_per_client) {
        Counted(stats_.refused_client, ctr_.tcp_refused_per_client);
        return false;
      }
    }
    if (active_ < lim_.max_connections) return true;
    const uint32_t victim = MostStalled();
    if (victim != kNoSlot) {
      Counted(stats_.evicted, ctr_.tcp_closed_evicted);
      Close(conns_[victim], victim);
      if (active_ < lim_.max_connections) return true;  // the limit may have been lowered
    }
    Counted(stats_.refused_full, ctr_.tcp_refused_full);
    return false;
  }

  // The connection stalled since longest: since its last byte either way, or, holding a query
  // still incomplete, since that query's first byte (a slowloris trickling bytes is never quiet).
  // A scan of the table, done only at the connection limit.
  uint32_t MostStalled() const {
    uint32_t best = kNoSlot;
    int64_t best_since = INT64_MAX;
    for (uint32_t slot = 0; slot < conns_.size(); ++slot) {
      const Conn& c = conns_[slot];
      if (!c.fd) continue;
      const int64_t since = PartialMessage(c) ? c.msg_ms : c.last_ms;
      if (since < best_since) {
        best = slot;
        best_since = since;
      }
    }
    return best;
  }

  // Takes the limits of a new snapshot generation, growing the table for a higher connection
  // limit (a lower one closes nobody at once: newcomers are refused until enough have gone).
  void Apply(const LoadedSnapshot& snap) {
    limits_generation_ = snap.reader->generation();
    const Limits now = LimitsOf(opt_, *snap.reader);
    if (now == lim_ && logged_limits_) return;
    lim_ = now;
    logged_limits_ = true;
    Grow(lim_.max_connections);
    maps::Log(maps::LogLevel::kInfo, absl::StrCat("TCP limits: ", Describe(lim_)));
  }

  // Makes room for `n` connections. The table only grows: slots are epoll tags.
  void Grow(uint32_t n) {
    if (n <= conns_.size()) return;
    const size_t old = conns_.size();
    conns_.resize(n);
    free_.reserve(n);
    for (size_t i = n; i-- > old;) free_.push_back(static_cast<uint32_t>(i));
    per_client_.reserve(n);
  }

  // Stops or resumes watching every listening socket for new connections.
  void WatchListeners(bool watch) {
    const bool paused = !watch;
    if (paused == listening_paused_) return;
    for (size_t i = 0; i < listeners_.size(); ++i) {
      epoll_event ev = ListenerEvent(i, watch);
      epoll_ctl(epfd_, EPOLL_CTL_MOD, listeners_[i].get(), &ev);
    }
    listening_paused_ = paused;
  }

  void OnEvent(Conn& c, uint32_t events, const LoadedSnapshot* snap, int64_t now) {
    const uint32_t slot = SlotOf(c);
    if (events & EPOLLERR) {
      Close(c, slot);
      return;
    }
    if ((events & EPOLLOUT) && !Flush(c, now)) {
      Close(c, slot);
      return;
    }
    if ((events & (EPOLLIN | EPOLLHUP)) && !c.eof && !c.closing && !Read(c, now)) {
      Close(c, slot);
      return;
    }
    // Answer what is complete, send it, and repeat while frames held back by the pipelining
    // limit can now go (level-triggered EPOLLIN does not fire again for bytes already read).
    for (;;) {
      const bool held_back = AnswerFrames(c, snap, now);
      if (!Flush(c, now)) {
        Close(c, slot);
        return;
      }
      if (!held_back || c.out_off < c.out.size()) break;
    }
    if ((c.eof || c.closing) && c.out_off == c.out.size()) {
      // RFC 7766 section 6.2.4: a client that half-closed still gets every answer first.
      Close(c, slot);
      return;
    }
    UpdateInterest(c, slot);
  }

  // Reads while the pipeline has room and the client may send; writes while output is waiting.
  void UpdateInterest(Conn& c, uint32_t slot) {
    uint32_t want = 0;
    if (!c.eof && !c.closing && c.pending < static_cast<uint32_t>(opt_.tcp_max_pipelined)) {
      want |= EPOLLIN;
    }
    if (c.out_off < c.out.size()) want |= EPOLLOUT;
    if (want == c.interest) return;
    epoll_event ev{};
    ev.events = want;
    ev.data.u64 = Tag(slot);
    epoll_ctl(epfd_, EPOLL_CTL_MOD, c.fd.get(), &ev);
    c.interest = want;
  }

  // One recv per wake-up (level-triggered: more data wakes us again). False on a socket error.
  bool Read(Conn& c, int64_t now) {
    const size_t room = in_cap_ - c.in_len;
    if (room == 0) return true;  // only with frames held back, when EPOLLIN is off anyway
    const ssize_t n = recv(c.fd.get(), c.in.get() + c.in_len, room, MSG_DONTWAIT);
    if (n > 0) {
      if (c.in_len == 0) c.msg_ms = now;
      c.in_len += static_cast<size_t>(n);
      c.last_ms = now;
      return true;
    }
    if (n == 0) {
      c.eof = true;
      return true;
    }
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
  }

  // Answers the complete frames in c.in, in order, while the pipeline has room. Returns true
  // when a complete frame was left for later because the pipeline is full.
  bool AnswerFrames(Conn& c, const LoadedSnapshot* snap, int64_t now) {
    size_t off = 0;
    bool held_back = false;
    while (!c.closing && c.in_len - off >= kLengthPrefix) {
      const uint8_t* p = c.in.get() + off;
      const size_t len = maps::dns::Get16(p);
      if (len == 0 || len > static_cast<size_t>(opt_.tcp_max_message)) {
        // Nothing to resynchronise on in a byte stream: give up on the connection.
        maps::CounterAdd(ctr_.rx_packets, 1);
        maps::CounterAdd(ctr_.dropped[maps::kDropMalformed], 1);
        c.closing = true;
        break;
      }
      if (c.in_len - off < kLengthPrefix + len) break;
      if (c.pending >= static_cast<uint32_t>(opt_.tcp_max_pipelined)) {
        held_back = true;
        break;
      }
      AnswerOne(c, p + kLengthPrefix, len, snap);
      off += kLengthPrefix + len;
      if (lim_.max_queries != 0 && ++c.answered >= lim_.max_queries) {
        // Its last answer goes out, then the connection closes; anything pipelined after it is
        // dropped unanswered and the client asks again on a new connection (RFC 7766 6.2.4).
        Counted(stats_.spent, ctr_.tcp_closed_spent);
        c.closing = true;
      }
    }
    if (off > 0) {
      std::memmove(c.in.get(), c.in.get() + off, c.in_len - off);
      c.in_len -= off;
      c.msg_ms = now;  // what is left is the start of the next message, read just now
    }
    return held_back;
  }

  void AnswerOne(Conn& c, const uint8_t* query, size_t len, const LoadedSnapshot* snap) {
    maps::CounterAdd(ctr_.rx_packets, 1);
    if (ABSL_PREDICT_FALSE(snap == nullptr)) {
      maps::CounterAdd(ctr_.dropped[maps::kDropNoSnapshot], 1);
      return;
    }
    maps::CounterAdd(ctr_.queries, 1);
    c.client.now = CoarseUnixSeconds();
    const size_t rlen = thread_.Answer(*snap, query, len, c.client, resp_.get() + kLengthPrefix,
                                       kMaxDnsMessage, {&c.peer, &c.local});
    if (rlen == 0) return;
    maps::dns::Put16(resp_.get(), static_cast<uint16_t>(rlen));
    c.out.insert(c.out.end(), resp_.get(), resp_.get() + kLengthPrefix + rlen);
    ++c.pending;
    maps::CounterAdd(ctr_.tx_packets, 1);
  }

  // Writes as much of c.out as the socket takes. False on a socket error.
  bool Flush(Conn& c, int64_t now) {
    while (c.out_off < c.out.size()) {
      const ssize_t n = send(c.fd.get(), c.out.data() + c.out_off, c.out.size() - c.out_off,
                             MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        c.out_off += static_cast<size_t>(n);
        c.last_ms = now;
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    }
    ClearOutput(c);
    return true;
  }

  // Forgets the answers sent, and the capacity beyond kKeepOutCapacity.
  static void ClearOutput(Conn& c) {
    c.out.clear();
    c.out_off = 0;
    c.pending = 0;
    if (c.out.capacity() > kKeepOutCapacity) std::vector<uint8_t>().swap(c.out);
  }

  void Close(Conn& c, uint32_t slot) {
    c.fd.reset();  // also removes it from the epoll set
    if (auto it = per_client_.find(c.key); it != per_client_.end() && --it->second == 0) {
      per_client_.erase(it);
    }
    --active_;
    ++c.gen;
    c.interest = 0;
    c.eof = false;
    c.closing = false;
    c.in_len = 0;
    ClearOutput(c);
    free_.push_back(slot);
  }

  // Closes connections without progress for the idle timeout (RFC 7766 section 6.2.3) and those
  // whose query has not come whole within the query timeout (a slowloris trickling a byte now and
  // then is never idle); a linear scan every 100 ms over the table costs next to nothing.
  void Sweep(int64_t now) {
    WatchListeners(true);
    for (uint32_t slot = 0; slot < conns_.size(); ++slot) {
      Conn& c = conns_[slot];
      if (!c.fd) continue;
      if (now - c.last_ms >= lim_.idle_timeout_ms) {
        Counted(stats_.idle, ctr_.tcp_closed_idle);
        Close(c, slot);
      } else if (lim_.query_timeout_ms != 0 && PartialMessage(c) &&
                 now - c.msg_ms >= lim_.query_timeout_ms) {
        Counted(stats_.slow, ctr_.tcp_closed_slow);
        Close(c, slot);
      }
    }
    if (now - last_report_ms_ >= kReportMs) Report(now);
  }

  // `c` holds the start of a message, not all of it (and is not on its way out).
  static bool PartialMessage(const Conn& c) {
    if (c.in_len == 0 || c.closing || c.eof) return false;
    return c.in_len < kLengthPrefix || c.in_len < kLengthPrefix + maps::dns::Get16(c.in.get());
  }

  // What a limit did: into the next log line, and into this thread's counters in the control
  // block, which /metrics and `sextantctl stats` read (its one writer, so a plain add).
  static void Counted(uint64_t& since_report, uint64_t& shared) {
    ++since_report;
    maps::CounterAdd(shared);
  }

  // One line for what the limits did since the last one, when they did anything.
  void Report(int64_t now) {
    last_report_ms_ = now;
    if (!stats_.any()) return;
    maps::Log(maps::LogLevel::kNotice,
              absl::StrCat("TCP limits: refused ", stats_.refused_client,
                           " connections over the per-client limit and ", stats_.refused_full,
                           " at a lowered connection limit; closed ", stats_.evicted,
                           " stalled ones for newcomers, ", stats_.idle, " idle, ", stats_.slow,
                           " with a slow query, ", stats_.spent, " after their last query (",
                           Describe(lim_), ")"));
    stats_ = {};
  }

  const ListenerOptions& opt_;
  int epfd_;  // owned by TcpServer, like the listeners
  const std::vector<UniqueFd>& listeners_;
  ServingThread thread_;
  maps::LcoreCounters& ctr_;
  size_t in_cap_;
  Limits lim_;
  uint64_t limits_generation_ = 0;
  bool logged_limits_ = false;
  std::vector<Conn> conns_;
  std::vector<uint32_t> free_;
  uint32_t active_ = 0;
  absl::flat_hash_map<ClientKey, uint32_t> per_client_;  // open connections per client
  LimitStats stats_;
  int64_t last_report_ms_ = 0;
  std::unique_ptr<uint8_t[]> resp_;  // length prefix + one response of up to 65535 bytes
  bool listening_paused_ = false;
};

}  // namespace

UniqueFd TcpServer::OpenListener(const sockaddr_storage& addr, socklen_t len) {
  UniqueFd fd = OpenBoundSocket(addr, len, SOCK_STREAM, [](int fd) {
    // Restarts must not wait for TIME_WAIT connections of the previous process to expire. No
    // SO_REUSEPORT on TCP: its bind is what detects another server already holding the port
    // (UDP's SO_REUSEPORT would let a second instance of the same user share it silently).
    const int one = 1;
    return setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == 0;
  });
  if (fd && listen(fd.get(), SOMAXCONN) != 0) fd.reset();  // reset() keeps listen()'s errno
  return fd;
}

absl::StatusOr<std::unique_ptr<TcpServer>> TcpServer::Create(const ListenerOptions& options,
                                                             std::vector<UniqueFd> listeners) {
  UniqueFd epoll(epoll_create1(EPOLL_CLOEXEC));
  if (!epoll) return absl::ErrnoToStatus(errno, "listener: epoll_create1");
  for (size_t i = 0; i < listeners.size(); ++i) {
    epoll_event ev = ListenerEvent(i, /*watch=*/true);
    if (epoll_ctl(epoll.get(), EPOLL_CTL_ADD, listeners[i].get(), &ev) != 0) {
      return absl::ErrnoToStatus(errno, "listener: epoll_ctl");
    }
  }
  return std::unique_ptr<TcpServer>(new TcpServer(options, std::move(epoll), std::move(listeners)));
}

void TcpServer::Run(ServingThread thread) {
  TcpLoop(options_, epoll_.get(), listeners_, thread).Run();
}

}  // namespace sextant::dataplane
