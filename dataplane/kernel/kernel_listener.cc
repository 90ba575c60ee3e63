#include "dataplane/kernel/kernel_listener.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <thread>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "dataplane/engine/engine.h"
#include "maps/qsbr.h"

namespace sextant::dataplane {
namespace {

// Datagrams per recvmmsg/sendmmsg call. 32 is the DPDK workers' burst (l3fwd's MAX_PKT_BURST),
// so both serving modes batch alike. gdnsd's MMSG_WIDTH note (it uses 16) explains the trade-off:
// wider batches amortise the two syscalls further but buy little beyond that, while every query
// in a batch waits for the whole batch to be answered before any reply is sent. At 32 the
// syscall cost is already a small share per query, the bytes a batch touches stay in L2, and
// the added latency stays in microseconds.
constexpr int kBurst = 32;
// How long a thread blocks in poll/epoll_wait before it re-checks the stop flags: the bound on
// shutdown latency after SIGINT/SIGTERM.
constexpr int kPollMs = 100;
// Accepts per wake-up, so a connection flood cannot starve established connections.
constexpr int kMaxAcceptsPerWake = 64;
// A connection's output buffer keeps at most this much capacity once drained; a burst of big
// responses should not pin memory for the rest of the connection's life.
constexpr size_t kKeepOutCapacity = 16 * 1024;
// epoll tags: listening sockets have the top bit set; connections carry slot | generation << 32
// so an event can never reach a connection that reused the slot of a closed one.
constexpr uint64_t kListenTag = uint64_t{1} << 63;

inline void CountAnswer(maps::LcoreCounters& c, const AnswerInfo& info) {
  maps::CountAnswer(c, info.rcode, info.truncated);
}

// The engine returns 0 only for a message shorter than a header or one with QR=1.
inline maps::DropReason DropReasonOf(const uint8_t* msg, size_t len) {
  return len >= 12 && (msg[2] & 0x80) != 0 ? maps::kDropResponse : maps::kDropMalformed;
}

inline void ClientFromSockaddr(const sockaddr_storage& ss, bool tcp, ClientInfo* client) {
  client->tcp = tcp;
  if (ss.ss_family == AF_INET6) {
    const auto& sin6 = reinterpret_cast<const sockaddr_in6&>(ss);
    // IPV6_V6ONLY keeps mapped addresses away, but a client is an IPv4 client however it came.
    if (IN6_IS_ADDR_V4MAPPED(&sin6.sin6_addr)) {
      client->family = 4;
      std::memcpy(client->addr, sin6.sin6_addr.s6_addr + 12, 4);
    } else {
      client->family = 6;
      std::memcpy(client->addr, sin6.sin6_addr.s6_addr, 16);
    }
  } else {
    client->family = 4;
    std::memcpy(client->addr, &reinterpret_cast<const sockaddr_in&>(ss).sin_addr, 4);
  }
}

// Monotonic milliseconds; the coarse clock (a few ms resolution, no syscall) is plenty for
// timeouts measured in seconds.
inline int64_t NowMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1000000;
}

uint16_t PortOf(const sockaddr_storage& ss) {
  return ntohs(ss.ss_family == AF_INET6 ? reinterpret_cast<const sockaddr_in6&>(ss).sin6_port
                                        : reinterpret_cast<const sockaddr_in&>(ss).sin_port);
}

bool IsWildcard(const sockaddr_storage& ss) {
  if (ss.ss_family == AF_INET6) {
    return IN6_IS_ADDR_UNSPECIFIED(&reinterpret_cast<const sockaddr_in6&>(ss).sin6_addr);
  }
  return reinterpret_cast<const sockaddr_in&>(ss).sin_addr.s_addr == htonl(INADDR_ANY);
}

std::string FormatAddress(const sockaddr_storage& ss) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (ss.ss_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(ss).sin6_addr, buf, sizeof(buf));
    return absl::StrCat("[", buf, "]:", PortOf(ss));
  }
  inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(ss).sin_addr, buf, sizeof(buf));
  return absl::StrCat(buf, ":", PortOf(ss));
}

absl::Status ListenError(const std::string& address, int err, absl::string_view proto) {
  return absl::Status(absl::ErrnoToStatusCode(err),
                      absl::StrCat("listen ", address, ": ", std::strerror(err), " (", proto, ")"));
}

void CloseFd(int* fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

// Opens a socket of `type` bound to `addr`; returns the fd, or -1 with errno set.
int OpenBound(const sockaddr_storage& addr, socklen_t len, int type, bool wildcard) {
  const int family = addr.ss_family;
  int fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  const int one = 1;
  auto fail = [fd]() {
    const int e = errno;
    close(fd);
    errno = e;
    return -1;
  };
  // Separate sockets per address family, as Knot and NSD do: mapped addresses would hide the
  // real family from the engine and from IP_PKTINFO.
  if (family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) != 0) {
    return fail();
  }
  if (type == SOCK_STREAM) {
    // Restarts must not wait for TIME_WAIT connections of the previous process to expire. No
    // SO_REUSEPORT on TCP: its bind is what detects another server already holding the port
    // (UDP's SO_REUSEPORT would let a second instance of the same user share it silently).
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0) return fail();
  } else {
    // One socket per worker thread on the same address; the kernel hashes flows over them.
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) return fail();
    if (wildcard) {
      // On 0.0.0.0 / :: a reply must leave from the address the query was sent to, or the
      // client drops it; the kernel tells us that address per datagram.
      const int r = family == AF_INET6
                        ? setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one))
                        : setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
      if (r != 0) return fail();
    }
    // Best effort: fragment large replies at the interface MTU instead of trusting ICMP "packet
    // too big", which an attacker can forge to make us send tiny, easily spoofed fragments.
    const int omit = IP_PMTUDISC_OMIT;
    if (family == AF_INET6) {
      setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &omit, sizeof(omit));
    } else {
      setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &omit, sizeof(omit));
    }
    // Best effort (capped by net.core.rmem_max): absorbs bursts while a worker is descheduled.
    const int rcvbuf = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
  }
  if (bind(fd, reinterpret_cast<const sockaddr*>(&addr), len) != 0) return fail();
  if (type == SOCK_STREAM && listen(fd, SOMAXCONN) != 0) return fail();
  return fd;
}

// What the threads check between bursts.
struct StopFlags {
  const std::atomic<bool>* own;
  const std::atomic<bool>* external;
  bool operator()() const {
    return own->load(std::memory_order_relaxed) || external->load(std::memory_order_relaxed);
  }
};

// ---------------------------------------------------------------------------------------------
// UDP: one worker per thread, one socket per listen address.

class UdpWorker {
 public:
  struct Socket {
    int fd;
    bool wildcard;
  };

  UdpWorker(std::vector<Socket> sockets, SnapshotFollower* follower, int qsbr_id,
            maps::LcoreCounters* counters)
      : sockets_(std::move(sockets)),
        follower_(follower),
        qsbr_id_(qsbr_id),
        ctr_(*counters),
        b_(new Buffers) {  // default-initialised: the 2 MiB of payload is never zeroed
    for (int k = 0; k < kBurst; ++k) {
      b_->rx_iov[k] = {b_->data[k], kBufSize};
    }
  }

  void Run(StopFlags stopping) {
    maps::Qsbr& qsbr = follower_->qsbr();
    std::vector<pollfd> pfds;
    for (const Socket& s : sockets_) pfds.push_back({s.fd, POLLIN, 0});
    qsbr.Online(qsbr_id_);
    while (!stopping()) {
      bool busy = false;
      // One burst per socket per round keeps several addresses fair to each other.
      for (const Socket& s : sockets_) {
        if (ServeBurst(s)) {
          busy = true;
          // Nothing from this burst is referenced any more: a snapshot swap may proceed.
          qsbr.Quiescent(qsbr_id_);
        }
      }
      if (!busy) {
        // Blocking with the QSBR slot online would make every snapshot swap wait for traffic.
        qsbr.Offline(qsbr_id_);
        poll(pfds.data(), pfds.size(), kPollMs);
        qsbr.Online(qsbr_id_);
      }
    }
    qsbr.Offline(qsbr_id_);
  }

 private:
  // In-place answers (engine.h allows out == query): one buffer per datagram, big enough for any
  // response the engine may produce whatever UDP size is configured.
  static constexpr size_t kBufSize = kMaxDnsMessage;
  union Control {
    cmsghdr align;
    char bytes[CMSG_SPACE(sizeof(in6_pktinfo))];  // in6_pktinfo is the larger of the two
  };
  struct Buffers {
    mmsghdr rx[kBurst];
    mmsghdr tx[kBurst];
    iovec rx_iov[kBurst];
    iovec tx_iov[kBurst];
    sockaddr_storage src[kBurst];
    Control rx_ctl[kBurst];
    Control tx_ctl[kBurst];
    uint8_t data[kBurst][kBufSize];
  };

  // Receives, answers and sends one burst. Returns false when the socket had nothing.
  bool ServeBurst(const Socket& s) {
    Buffers& b = *b_;
    for (int k = 0; k < kBurst; ++k) {
      // recvmmsg overwrites the lengths: reset them for every call.
      msghdr& h = b.rx[k].msg_hdr;
      h.msg_name = &b.src[k];
      h.msg_namelen = sizeof(b.src[k]);
      h.msg_iov = &b.rx_iov[k];
      h.msg_iovlen = 1;
      h.msg_control = s.wildcard ? b.rx_ctl[k].bytes : nullptr;
      h.msg_controllen = s.wildcard ? sizeof(b.rx_ctl[k].bytes) : 0;
      h.msg_flags = 0;
    }
    // Non-blocking: the thread sleeps in poll(), where it is offline for QSBR (recvmmsg's own
    // timeout is only checked after a datagram arrives, so it cannot bound the wait).
    const int n = recvmmsg(s.fd, b.rx, kBurst, MSG_DONTWAIT, nullptr);
    if (n <= 0) return false;
    maps::CounterAdd(ctr_.rx_packets, n);

    const LoadedSnapshot* snap = follower_->current();
    if (ABSL_PREDICT_FALSE(snap == nullptr)) {
      maps::CounterAdd(ctr_.dropped[maps::kDropNoSnapshot], n);
      return true;
    }
    int out = 0;
    uint64_t queries = 0;
    for (int k = 0; k < n; ++k) {
      uint8_t* buf = b.data[k];
      const size_t len = b.rx[k].msg_len;
      ClientInfo client;
      ClientFromSockaddr(b.src[k], /*tcp=*/false, &client);
      AnswerInfo info;
      ++queries;
      const size_t rlen = snap->engine.Answer(buf, len, client, buf, kBufSize, &info);
      if (ABSL_PREDICT_FALSE(rlen == 0)) {
        maps::CounterAdd(ctr_.dropped[DropReasonOf(buf, len)], 1);
        continue;
      }
      CountAnswer(ctr_, info);
      msghdr& t = b.tx[out].msg_hdr;
      b.tx_iov[out] = {buf, rlen};
      t.msg_name = &b.src[k];
      t.msg_namelen = b.rx[k].msg_hdr.msg_namelen;
      t.msg_iov = &b.tx_iov[out];
      t.msg_iovlen = 1;
      t.msg_flags = 0;
      t.msg_control = nullptr;
      t.msg_controllen = 0;
      if (s.wildcard) SetReplySource(b.rx[k].msg_hdr, &b.tx_ctl[out], &t);
      ++out;
    }
    maps::CounterAdd(ctr_.queries, queries);
    Send(s.fd, out);
    const uint64_t gen = snap->reader->generation();
    if (gen != served_generation_) {
      served_generation_ = gen;
      maps::CounterSet(ctr_.generation, gen);
    }
    return true;
  }

  // Copies the query's destination address into the reply's source (IP_PKTINFO).
  static void SetReplySource(const msghdr& rx, Control* ctl, msghdr* tx) {
    for (cmsghdr* c = CMSG_FIRSTHDR(&rx); c != nullptr;
         c = CMSG_NXTHDR(const_cast<msghdr*>(&rx), c)) {
      if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
        in_pktinfo in;
        std::memcpy(&in, CMSG_DATA(c), sizeof(in));
        in_pktinfo reply{};
        // Source = the address the query was sent to; interface 0 lets routing pick the way out.
        reply.ipi_spec_dst = in.ipi_addr;
        tx->msg_control = ctl->bytes;
        tx->msg_controllen = CMSG_SPACE(sizeof(reply));
        cmsghdr* o = CMSG_FIRSTHDR(tx);
        o->cmsg_level = IPPROTO_IP;
        o->cmsg_type = IP_PKTINFO;
        o->cmsg_len = CMSG_LEN(sizeof(reply));
        std::memcpy(CMSG_DATA(o), &reply, sizeof(reply));
        return;
      }
      if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
        // Keeping the interface matters for link-local destinations.
        tx->msg_control = ctl->bytes;
        tx->msg_controllen = CMSG_SPACE(sizeof(in6_pktinfo));
        cmsghdr* o = CMSG_FIRSTHDR(tx);
        o->cmsg_level = IPPROTO_IPV6;
        o->cmsg_type = IPV6_PKTINFO;
        o->cmsg_len = CMSG_LEN(sizeof(in6_pktinfo));
        std::memcpy(CMSG_DATA(o), CMSG_DATA(c), sizeof(in6_pktinfo));
        return;
      }
    }
  }

  void Send(int fd, int count) {
    int done = 0;
    while (done < count) {
      const int r = sendmmsg(fd, b_->tx + done, count - done, MSG_DONTWAIT);
      if (r > 0) {
        maps::CounterAdd(ctr_.tx_packets, r);
        done += r;
        continue;
      }
      if (r < 0 && errno == EINTR) continue;
      // sendmmsg fails only for the first unsent message: drop that one, as a full DPDK TX ring
      // drops what did not go out, and go on with the rest.
      const bool full = r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS);
      maps::CounterAdd(ctr_.dropped[full ? maps::kDropTxFull : maps::kDropOther], 1);
      ++done;
    }
  }

  std::vector<Socket> sockets_;
  SnapshotFollower* follower_;
  int qsbr_id_;
  maps::LcoreCounters& ctr_;
  std::unique_ptr<Buffers> b_;
  uint64_t served_generation_ = 0;
};

// ---------------------------------------------------------------------------------------------
// TCP (RFC 7766): one epoll thread, non-blocking sockets, level-triggered.

class TcpServer {
 public:
  TcpServer(const ListenerOptions& options, int epoll_fd, std::vector<int> listen_fds,
            SnapshotFollower* follower, int qsbr_id, maps::LcoreCounters* counters)
      : opt_(options),
        epfd_(epoll_fd),
        listen_fds_(std::move(listen_fds)),
        follower_(follower),
        qsbr_id_(qsbr_id),
        ctr_(*counters),
        in_cap_(2 + static_cast<size_t>(options.tcp_max_message)),
        conns_(options.tcp_max_connections),
        resp_(new uint8_t[2 + kMaxDnsMessage]) {
    free_.reserve(conns_.size());
    for (size_t i = conns_.size(); i-- > 0;) free_.push_back(static_cast<uint32_t>(i));
  }

  ~TcpServer() {
    for (Conn& c : conns_) {
      if (c.fd >= 0) close(c.fd);
    }
  }

  void Run(StopFlags stopping) {
    maps::Qsbr& qsbr = follower_->qsbr();
    epoll_event events[kBurst];
    int64_t next_sweep = NowMs() + kPollMs;
    while (!stopping()) {
      // Offline while blocked, so a snapshot swap never waits for this thread; being offline
      // also serves as the quiescent state after the previous batch.
      qsbr.Offline(qsbr_id_);
      const int n = epoll_wait(epfd_, events, kBurst, kPollMs);
      qsbr.Online(qsbr_id_);
      const LoadedSnapshot* snap = follower_->current();
      const int64_t now = NowMs();
      for (int i = 0; i < n; ++i) {
        const uint64_t tag = events[i].data.u64;
        if (tag & kListenTag) {
          Accept(static_cast<size_t>(tag & ~kListenTag), now);
          continue;
        }
        Conn& c = conns_[tag & 0xffffffffu];
        if (c.fd < 0 || c.gen != static_cast<uint32_t>(tag >> 32)) continue;
        OnEvent(c, events[i].events, snap, now);
      }
      if (snap != nullptr && snap->reader->generation() != served_generation_) {
        served_generation_ = snap->reader->generation();
        maps::CounterSet(ctr_.generation, served_generation_);
      }
      if (now >= next_sweep) {
        Sweep(now);
        next_sweep = now + kPollMs;
      }
    }
    qsbr.Offline(qsbr_id_);
  }

 private:
  struct Conn {
    int fd = -1;
    uint32_t gen = 0;
    uint32_t interest = 0;  // current epoll events
    uint32_t pending = 0;   // responses queued since `out` was last empty
    bool eof = false;       // the client has shut down its sending side
    bool closing = false;   // framing error: send what is answered, then close
    int64_t last_ms = 0;    // last progress in either direction
    ClientInfo client;
    std::unique_ptr<uint8_t[]> in;  // 2 + tcp_max_message bytes, allocated on first use
    size_t in_len = 0;
    std::vector<uint8_t> out;
    size_t out_off = 0;
  };

  uint64_t Tag(uint32_t slot) const { return uint64_t{conns_[slot].gen} << 32 | slot; }

  void Accept(size_t listen_index, int64_t now) {
    const int lfd = listen_fds_[listen_index];
    for (int k = 0; k < kMaxAcceptsPerWake; ++k) {
      sockaddr_storage ss;
      socklen_t sl = sizeof(ss);
      const int fd =
          accept4(lfd, reinterpret_cast<sockaddr*>(&ss), &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
          // The pending connection stays queued and the socket stays readable: stop watching
          // it until the next sweep rather than spin.
          PauseListening();
        }
        return;
      }
      if (free_.empty()) {
        // At the limit: refuse the newcomer (RFC 7766 section 6.2.2 leaves the policy to the
        // server); established clients keep their pipelines.
        close(fd);
        maps::CounterAdd(ctr_.dropped[maps::kDropOther], 1);
        continue;
      }
      const uint32_t slot = free_.back();
      free_.pop_back();
      Conn& c = conns_[slot];
      c.fd = fd;
      c.last_ms = now;
      ClientFromSockaddr(ss, /*tcp=*/true, &c.client);
      if (!c.in) c.in.reset(new uint8_t[in_cap_]);
      // Answers are written whole; Nagle would only hold back the last one of a pipeline.
      const int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = Tag(slot);
      if (epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
        Close(c, slot);
        continue;
      }
      c.interest = EPOLLIN;
    }
  }

  void PauseListening() {
    if (listening_paused_) return;
    for (int lfd : listen_fds_) {
      epoll_event ev{};
      ev.data.u64 = 0;
      epoll_ctl(epfd_, EPOLL_CTL_MOD, lfd, &ev);
    }
    listening_paused_ = true;
  }

  void ResumeListening() {
    if (!listening_paused_) return;
    for (size_t i = 0; i < listen_fds_.size(); ++i) {
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = kListenTag | i;
      epoll_ctl(epfd_, EPOLL_CTL_MOD, listen_fds_[i], &ev);
    }
    listening_paused_ = false;
  }

  uint32_t SlotOf(const Conn& c) const { return static_cast<uint32_t>(&c - conns_.data()); }

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
      const bool held_back = AnswerFrames(c, snap);
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
    uint32_t want = 0;
    if (!c.eof && !c.closing && c.pending < static_cast<uint32_t>(opt_.tcp_max_pipelined)) {
      want |= EPOLLIN;
    }
    if (c.out_off < c.out.size()) want |= EPOLLOUT;
    if (want != c.interest) {
      epoll_event ev{};
      ev.events = want;
      ev.data.u64 = Tag(slot);
      epoll_ctl(epfd_, EPOLL_CTL_MOD, c.fd, &ev);
      c.interest = want;
    }
  }

  // One recv per wake-up (level-triggered: more data wakes us again). False on a socket error.
  bool Read(Conn& c, int64_t now) {
    const size_t room = in_cap_ - c.in_len;
    if (room == 0) return true;  // only with frames held back, when EPOLLIN is off anyway
    const ssize_t n = recv(c.fd, c.in.get() + c.in_len, room, MSG_DONTWAIT);
    if (n > 0) {
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
  bool AnswerFrames(Conn& c, const LoadedSnapshot* snap) {
    size_t off = 0;
    bool held_back = false;
    while (!c.closing && c.in_len - off >= 2) {
      const uint8_t* p = c.in.get() + off;
      const size_t len = size_t{p[0]} << 8 | p[1];
      if (len == 0 || len > static_cast<size_t>(opt_.tcp_max_message)) {
        // Nothing to resynchronise on in a byte stream: give up on the connection.
        maps::CounterAdd(ctr_.rx_packets, 1);
        maps::CounterAdd(ctr_.dropped[maps::kDropMalformed], 1);
        c.closing = true;
        break;
      }
      if (c.in_len - off < 2 + len) break;
      if (c.pending >= static_cast<uint32_t>(opt_.tcp_max_pipelined)) {
        held_back = true;
        break;
      }
      AnswerOne(c, p + 2, len, snap);
      off += 2 + len;
    }
    if (off > 0) {
      std::memmove(c.in.get(), c.in.get() + off, c.in_len - off);
      c.in_len -= off;
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
    AnswerInfo info;
    const size_t rlen =
        snap->engine.Answer(query, len, c.client, resp_.get() + 2, kMaxDnsMessage, &info);
    if (ABSL_PREDICT_FALSE(rlen == 0)) {
      maps::CounterAdd(ctr_.dropped[DropReasonOf(query, len)], 1);
      return;
    }
    CountAnswer(ctr_, info);
    resp_[0] = static_cast<uint8_t>(rlen >> 8);
    resp_[1] = static_cast<uint8_t>(rlen);
    c.out.insert(c.out.end(), resp_.get(), resp_.get() + 2 + rlen);
    ++c.pending;
    maps::CounterAdd(ctr_.tx_packets, 1);
  }

  // Writes as much of c.out as the socket takes. False on a socket error.
  bool Flush(Conn& c, int64_t now) {
    while (c.out_off < c.out.size()) {
      const ssize_t n = send(c.fd, c.out.data() + c.out_off, c.out.size() - c.out_off,
                             MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        c.out_off += static_cast<size_t>(n);
        c.last_ms = now;
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    }
    c.out.clear();
    c.out_off = 0;
    c.pending = 0;
    if (c.out.capacity() > kKeepOutCapacity) std::vector<uint8_t>().swap(c.out);
    return true;
  }

  void Close(Conn& c, uint32_t slot) {
    close(c.fd);  // also removes it from the epoll set
    c.fd = -1;
    ++c.gen;
    c.interest = 0;
    c.pending = 0;
    c.eof = false;
    c.closing = false;
    c.in_len = 0;
    c.out.clear();
    c.out_off = 0;
    if (c.out.capacity() > kKeepOutCapacity) std::vector<uint8_t>().swap(c.out);
    free_.push_back(slot);
  }

  // Closes connections without progress for the idle timeout (RFC 7766 section 6.2.3); a linear
  // scan every 100 ms over at most tcp_max_connections slots costs next to nothing.
  void Sweep(int64_t now) {
    ResumeListening();
    for (uint32_t slot = 0; slot < conns_.size(); ++slot) {
      Conn& c = conns_[slot];
      if (c.fd >= 0 && now - c.last_ms >= opt_.tcp_idle_timeout_ms) Close(c, slot);
    }
  }

  const ListenerOptions& opt_;
  int epfd_;
  std::vector<int> listen_fds_;
  SnapshotFollower* follower_;
  int qsbr_id_;
  maps::LcoreCounters& ctr_;
  size_t in_cap_;
  std::vector<Conn> conns_;
  std::vector<uint32_t> free_;
  std::unique_ptr<uint8_t[]> resp_;  // 2-byte length + one response of up to 65535 bytes
  bool listening_paused_ = false;
  uint64_t served_generation_ = 0;
};

void NameThread(const std::string& name) {
  pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
}

}  // namespace

absl::StatusOr<ListenAddress> ParseListenAddress(absl::string_view spec) {
  auto bad = [spec](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("listen address \"", spec, "\": ", why,
                                                   " (expected ADDR:PORT or [IPV6ADDR]:PORT)"));
  };
  std::string host;
  absl::string_view port_text;
  bool bracketed = false;
  if (!spec.empty() && spec.front() == '[') {
    const size_t close_pos = spec.find("]:");
    if (close_pos == absl::string_view::npos) return bad("missing \"]:PORT\"");
    host = std::string(spec.substr(1, close_pos - 1));
    port_text = spec.substr(close_pos + 2);
    bracketed = true;
  } else {
    const size_t colon = spec.rfind(':');
    if (colon == absl::string_view::npos) return bad("missing \":PORT\"");
    host = std::string(spec.substr(0, colon));
    port_text = spec.substr(colon + 1);
    if (host.find(':') != std::string::npos) return bad("IPv6 addresses need brackets");
  }
  uint32_t port = 0;
  if (port_text.empty() || !std::all_of(port_text.begin(), port_text.end(), absl::ascii_isdigit) ||
      !absl::SimpleAtoi(port_text, &port) || port > 65535) {
    return bad("bad port");
  }
  ListenAddress out;
  if (bracketed) {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&out.addr);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(static_cast<uint16_t>(port));
    // A link-local address needs its interface: [fe80::1%eth0]:53.
    const size_t pct = host.find('%');
    if (pct != std::string::npos) {
      const std::string ifname = host.substr(pct + 1);
      host.resize(pct);
      uint32_t index = if_nametoindex(ifname.c_str());
      if (index == 0 && !absl::SimpleAtoi(ifname, &index)) return bad("unknown interface");
      sin6->sin6_scope_id = index;
    }
    if (inet_pton(AF_INET6, host.c_str(), &sin6->sin6_addr) != 1) return bad("bad IPv6 address");
    out.len = sizeof(sockaddr_in6);
  } else {
    auto* sin = reinterpret_cast<sockaddr_in*>(&out.addr);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(static_cast<uint16_t>(port));
    if (inet_pton(AF_INET, host.c_str(), &sin->sin_addr) != 1) return bad("bad IPv4 address");
    out.len = sizeof(sockaddr_in);
  }
  out.text = FormatAddress(out.addr);
  return out;
}

KernelListener::KernelListener(const ListenerOptions& options, SnapshotFollower* follower,
                               maps::LcoreCounters* counters)
    : options_(options), follower_(follower), counters_(counters) {}

KernelListener::~KernelListener() {
  Stop();
  for (Bound& b : bound_) {
    CloseFd(&b.tcp_fd);
    for (int& fd : b.udp_fds) CloseFd(&fd);
  }
  CloseFd(&epoll_fd_);
}

absl::StatusOr<std::unique_ptr<KernelListener>> KernelListener::Create(
    const ListenerOptions& options, SnapshotFollower* follower, maps::LcoreCounters* counters) {
  if (follower == nullptr) return absl::InvalidArgumentError("listener: no snapshot follower");
  if (options.listen.empty()) return absl::InvalidArgumentError("listener: no listen address");
  if (!options.udp && !options.tcp) {
    return absl::InvalidArgumentError("listener: neither UDP nor TCP enabled");
  }
  if (options.udp &&
      (options.udp_threads < 1 || options.udp_threads > static_cast<int>(maps::kMaxLcores) - 1)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "listener: UDP threads must be 1..", maps::kMaxLcores - 1, ", not ", options.udp_threads));
  }
  if (options.tcp && (options.tcp_max_connections < 1 || options.tcp_idle_timeout_ms < 1 ||
                      options.tcp_max_pipelined < 1 || options.tcp_max_message < 12 ||
                      options.tcp_max_message > static_cast<int>(kMaxDnsMessage))) {
    return absl::InvalidArgumentError(
        "listener: TCP limits out of range (connections, idle timeout and pipelined must be "
        "positive; max message 12..65535)");
  }
  std::unique_ptr<KernelListener> l(new KernelListener(options, follower, counters));
  if (counters == nullptr) {
    l->owned_counters_ = std::make_unique<maps::LcoreCounters[]>(l->counter_slots());
    l->counters_ = l->owned_counters_.get();
  }
  for (const std::string& spec : options.listen) {
    absl::StatusOr<ListenAddress> addr = ParseListenAddress(spec);
    if (!addr.ok()) return addr.status();
    l->bound_.emplace_back();
    Bound& b = l->bound_.back();
    b.address = *std::move(addr);
    b.wildcard = IsWildcard(b.address.addr);
    absl::Status s = l->Bind(&b);
    if (!s.ok()) return s;
  }
  if (options.tcp) {
    l->epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
    if (l->epoll_fd_ < 0) {
      return absl::ErrnoToStatus(errno, "listener: epoll_create1");
    }
    for (size_t i = 0; i < l->bound_.size(); ++i) {
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = kListenTag | i;
      if (epoll_ctl(l->epoll_fd_, EPOLL_CTL_ADD, l->bound_[i].tcp_fd, &ev) != 0) {
        return absl::ErrnoToStatus(errno, "listener: epoll_ctl");
      }
    }
  }
  return l;
}

absl::Status KernelListener::Bind(Bound* b) {
  // Port 0 asks for any free port, the same for UDP and TCP. TCP picks it; UDP may find it taken
  // (the two port spaces are separate), so try a few times before giving up.
  const bool any_port = PortOf(b->address.addr) == 0;
  const int attempts = any_port ? 16 : 1;
  int err = 0;
  const char* proto = "tcp";
  for (int attempt = 0; attempt < attempts; ++attempt) {
    sockaddr_storage addr = b->address.addr;
    err = 0;
    if (options_.tcp) {
      proto = "tcp";
      b->tcp_fd = OpenBound(addr, b->address.len, SOCK_STREAM, b->wildcard);
      if (b->tcp_fd < 0) {
        err = errno;
      } else if (any_port) {
        socklen_t len = sizeof(addr);
        getsockname(b->tcp_fd, reinterpret_cast<sockaddr*>(&addr), &len);
      }
    }
    const int workers = options_.udp ? options_.udp_threads : 0;
    for (int w = 0; err == 0 && w < workers; ++w) {
      proto = "udp";
      const int fd = OpenBound(addr, b->address.len, SOCK_DGRAM, b->wildcard);
      if (fd < 0) {
        err = errno;
        break;
      }
      b->udp_fds.push_back(fd);
      if (any_port && PortOf(addr) == 0) {  // UDP only: the first socket picks the port
        socklen_t len = sizeof(addr);
        getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
      }
    }
    if (err == 0) {
      b->address.addr = addr;
      b->address.text = FormatAddress(addr);
      return absl::OkStatus();
    }
    CloseFd(&b->tcp_fd);
    for (int& fd : b->udp_fds) CloseFd(&fd);
    b->udp_fds.clear();
    if (err != EADDRINUSE) break;
  }
  return ListenError(b->address.text, err, proto);
}

int KernelListener::counter_slots() const {
  return (options_.udp ? options_.udp_threads : 0) + (options_.tcp ? 1 : 0);
}

std::vector<std::string> KernelListener::bound_addresses() const {
  std::vector<std::string> out;
  for (const Bound& b : bound_) out.push_back(b.address.text);
  return out;
}

uint16_t KernelListener::port(size_t i) const { return PortOf(bound_.at(i).address.addr); }

absl::Status KernelListener::Run(const std::atomic<bool>& stop) {
  if (ran_) return absl::FailedPreconditionError("listener: Run() called twice");
  ran_ = true;
  const StopFlags stopping{&stop_, &stop};
  maps::Qsbr& qsbr = follower_->qsbr();

  std::vector<int> ids;
  for (int i = 0; i < counter_slots(); ++i) {
    const int id = qsbr.Register();
    if (id < 0) {
      for (int r : ids) qsbr.Unregister(r);
      return absl::ResourceExhaustedError(
          absl::StrCat("listener: all ", maps::Qsbr::kMaxReaders, " QSBR reader slots are taken"));
    }
    ids.push_back(id);
  }

  std::vector<std::thread> threads;
  int slot = 0;
  if (options_.udp) {
    for (int w = 0; w < options_.udp_threads; ++w, ++slot) {
      std::vector<UdpWorker::Socket> sockets;
      for (const Bound& b : bound_) sockets.push_back({b.udp_fds[w], b.wildcard});
      threads.emplace_back([this, w, stopping, sockets = std::move(sockets), id = ids[slot],
                            ctr = &counters_[slot]]() mutable {
        NameThread(absl::StrCat("sx-udp-", w));
        UdpWorker(std::move(sockets), follower_, id, ctr).Run(stopping);
      });
    }
  }
  if (options_.tcp) {
    std::vector<int> listen_fds;
    for (const Bound& b : bound_) listen_fds.push_back(b.tcp_fd);
    threads.emplace_back([this, stopping, listen_fds = std::move(listen_fds), id = ids[slot],
                          ctr = &counters_[slot]]() mutable {
      NameThread("sx-tcp");
      TcpServer(options_, epoll_fd_, std::move(listen_fds), follower_, id, ctr).Run(stopping);
    });
  }
  for (std::thread& t : threads) t.join();
  for (int id : ids) qsbr.Unregister(id);
  return absl::OkStatus();
}

}  // namespace sextant::dataplane
