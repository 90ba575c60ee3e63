#include "dataplane/kernel/udp_server.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include "absl/base/optimization.h"
#include "dataplane/engine/engine.h"
#include "dataplane/kernel/listen_socket.h"
#include "maps/control_block.h"

namespace sextant::dataplane {
namespace {

// One worker: its sockets (one per listen address) and its burst buffers.
class UdpWorker {
 public:
  // `workers`: how many UDP workers share the rate limits (SO_REUSEPORT spreads a prefix's
  // flows over them as RSS does over lcores: dataplane/rrl/rate_limiter.h).
  UdpWorker(const std::vector<UdpServer::Socket>& sockets, ServingThread thread, int workers)
      : sockets_(sockets),
        thread_(thread),
        rrl_(static_cast<uint32_t>(workers), RateLimiter::RandomSeed()),
        b_(std::make_unique_for_overwrite<Buffers>()) {  // the 2 MiB of payload is never zeroed
    for (int k = 0; k < kBurst; ++k) {
      b_->rx_iov[k] = {b_->data[k], kBufSize};
    }
    thread_.set_rate_limiter(&rrl_);
  }

  void Run() {
    std::vector<pollfd> pfds;
    for (const UdpServer::Socket& s : sockets_) pfds.push_back({s.fd.get(), POLLIN, 0});
    thread_.Online();
    while (!thread_.stopping()) {
      bool busy = false;
      // One burst per socket per round keeps several addresses fair to each other.
      for (const UdpServer::Socket& s : sockets_) {
        if (ServeBurst(s)) {
          busy = true;
          // Nothing from this burst is referenced any more: a snapshot swap may proceed.
          thread_.Quiescent();
        }
      }
      if (!busy) {
        // Blocking with the QSBR slot online would make every snapshot swap wait for traffic.
        thread_.Offline();
        poll(pfds.data(), pfds.size(), kPollMs);
        thread_.Online();
      }
    }
    thread_.Offline();
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
  bool ServeBurst(const UdpServer::Socket& s) {
    Buffers& b = *b_;
    ArmReceive(s.wildcard);
    // Non-blocking: the thread sleeps in poll(), where it is offline for QSBR (recvmmsg's own
    // timeout is only checked after a datagram arrives, so it cannot bound the wait).
    const int n = recvmmsg(s.fd.get(), b.rx, kBurst, MSG_DONTWAIT, nullptr);
    if (n <= 0) return false;
    maps::LcoreCounters& ctr = thread_.counters();
    maps::CounterAdd(ctr.rx_packets, n);

    const LoadedSnapshot* snap = thread_.snapshot();
    if (ABSL_PREDICT_FALSE(snap == nullptr)) {
      maps::CounterAdd(ctr.dropped[maps::kDropNoSnapshot], n);
      return true;
    }
    // The limiter follows the snapshot's settings (a no-op unless the generation changed); its
    // clock is read once per burst.
    rrl_.Update(*snap->reader);
    rrl_.set_now(RateLimiter::NowNs());
    int out = 0;
    const uint32_t now = CoarseUnixSeconds();
    for (int k = 0; k < n; ++k) {
      uint8_t* buf = b.data[k];
      ClientInfo client;
      ClientFromSockaddr(b.src[k], /*tcp=*/false, &client);
      client.now = now;
      const size_t rlen =
          thread_.Answer(*snap, buf, b.rx[k].msg_len, client, buf, kBufSize, {&b.src[k], &s.local});
      if (rlen != 0) QueueReply(k, out++, rlen, s.wildcard);
    }
    maps::CounterAdd(ctr.queries, n);  // every datagram of the burst was a query to the engine
    Send(s.fd.get(), out);
    thread_.ReportGeneration(*snap);
    return true;
  }

  // recvmmsg overwrites the lengths: reset them for every call.
  void ArmReceive(bool wildcard) {
    Buffers& b = *b_;
    for (int k = 0; k < kBurst; ++k) {
      msghdr& h = b.rx[k].msg_hdr;
      h.msg_name = &b.src[k];
      h.msg_namelen = sizeof(b.src[k]);
      h.msg_iov = &b.rx_iov[k];
      h.msg_iovlen = 1;
      h.msg_control = wildcard ? b.rx_ctl[k].bytes : nullptr;
      h.msg_controllen = wildcard ? sizeof(b.rx_ctl[k].bytes) : 0;
      h.msg_flags = 0;
    }
  }

  // Makes the answer to datagram `k` (`rlen` bytes in its buffer) the `out`-th to send.
  void QueueReply(int k, int out, size_t rlen, bool wildcard) {
    Buffers& b = *b_;
    msghdr& t = b.tx[out].msg_hdr;
    b.tx_iov[out] = {b.data[k], rlen};
    t.msg_name = &b.src[k];
    t.msg_namelen = b.rx[k].msg_hdr.msg_namelen;
    t.msg_iov = &b.tx_iov[out];
    t.msg_iovlen = 1;
    t.msg_flags = 0;
    t.msg_control = nullptr;
    t.msg_controllen = 0;
    if (wildcard) SetReplySource(b.rx[k].msg_hdr, &b.tx_ctl[out], &t);
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
        PutControl(IPPROTO_IP, IP_PKTINFO, &reply, sizeof(reply), ctl, tx);
        return;
      }
      if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
        // Keeping the interface matters for link-local destinations.
        PutControl(IPPROTO_IPV6, IPV6_PKTINFO, CMSG_DATA(c), sizeof(in6_pktinfo), ctl, tx);
        return;
      }
    }
  }

  // Makes `ctl` hold one control message of `size` bytes and attaches it to `tx`.
  static void PutControl(int level, int type, const void* data, size_t size, Control* ctl,
                         msghdr* tx) {
    tx->msg_control = ctl->bytes;
    tx->msg_controllen = CMSG_SPACE(size);
    cmsghdr* o = CMSG_FIRSTHDR(tx);
    o->cmsg_level = level;
    o->cmsg_type = type;
    o->cmsg_len = CMSG_LEN(size);
    std::memcpy(CMSG_DATA(o), data, size);
  }

  void Send(int fd, int count) {
    maps::LcoreCounters& ctr = thread_.counters();
    int done = 0;
    while (done < count) {
      const int r = sendmmsg(fd, b_->tx + done, count - done, MSG_DONTWAIT);
      if (r > 0) {
        maps::CounterAdd(ctr.tx_packets, r);
        done += r;
        continue;
      }
      if (r < 0 && errno == EINTR) continue;
      // sendmmsg fails only for the first unsent message: drop that one, as a full DPDK TX ring
      // drops what did not go out, and go on with the rest.
      const bool full = r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS);
      maps::CounterAdd(ctr.dropped[full ? maps::kDropTxFull : maps::kDropOther], 1);
      ++done;
    }
  }

  const std::vector<UdpServer::Socket>& sockets_;
  ServingThread thread_;
  RateLimiter rrl_;
  std::unique_ptr<Buffers> b_;
};

}  // namespace

UniqueFd UdpServer::OpenSocket(const sockaddr_storage& addr, socklen_t len) {
  const bool v6 = addr.ss_family == AF_INET6;
  const bool wildcard = IsWildcard(addr);
  return OpenBoundSocket(addr, len, SOCK_DGRAM, [v6, wildcard](int fd) {
    const int one = 1;
    // One socket per worker thread on the same address; the kernel hashes flows over them.
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) return false;
    if (wildcard) {
      // On 0.0.0.0 / :: a reply must leave from the address the query was sent to, or the
      // client drops it; the kernel tells us that address per datagram.
      const int r = v6 ? setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one))
                       : setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
      if (r != 0) return false;
    }
    // Best effort: fragment large replies at the interface MTU instead of trusting ICMP "packet
    // too big", which an attacker can forge to make us send tiny, easily spoofed fragments.
    const int omit = IP_PMTUDISC_OMIT;
    if (v6) {
      setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &omit, sizeof(omit));
    } else {
      setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &omit, sizeof(omit));
    }
    // Best effort (capped by net.core.rmem_max): absorbs bursts while a worker is descheduled.
    const int rcvbuf = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    return true;
  });
}

void UdpServer::RunWorker(int w, ServingThread thread) const {
  UdpWorker(sockets_[w], thread, workers()).Run();
}

}  // namespace sextant::dataplane
