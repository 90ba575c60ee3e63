// KernelListener answers DNS over ordinary kernel sockets from the snapshot a SnapshotFollower
// serves: UDP with one or more worker threads (SO_REUSEPORT, recvmmsg/sendmmsg bursts) and TCP
// per RFC 7766 on one epoll thread (length framing, pipelining, idle timeout, connection limit).
// It is sextant-dataplane's kernel-socket mode, and the listener behind the DPDK exception path
// (TCP/53 handed to the kernel). Every thread is a QSBR reader of the follower, so snapshot swaps
// never wait for an idle listener, and each writes its own per-lcore counter slot.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "dataplane/snapshot_follower.h"
#include "maps/control_block.h"

namespace sextant::dataplane {

struct ListenerOptions {
  // "ADDR:PORT" (IPv4) or "[ADDR]:PORT" (IPv6). Port 0 picks one free port shared by UDP and
  // TCP on that address (tests). IPv6 sockets are IPV6_V6ONLY: list 0.0.0.0:53 and [::]:53 both
  // for a dual-stack wildcard listener.
  std::vector<std::string> listen;

  bool udp = true;
  bool tcp = true;  // the DPDK exception path runs TCP only
  // UDP worker threads; each has its own SO_REUSEPORT socket per address, so the kernel spreads
  // flows over them the way RSS spreads them over DPDK queues.
  int udp_threads = 1;

  int tcp_max_connections = 1024;
  // RFC 7766 section 6.2.3 recommends a few seconds; 10 s is what Knot and BIND use.
  int tcp_idle_timeout_ms = 10000;
  // Responses one connection may have waiting to be written. When a client pipelines faster
  // than it reads, the listener stops reading that connection until it has drained, which bounds
  // the memory one client can make the server hold (at most this many 64 KiB responses).
  int tcp_max_pipelined = 16;
  // Largest query accepted on TCP. A query is one question plus an OPT record (ECS, cookies,
  // padding): well under 4 KiB. A bigger frame is not a query this server answers, and buffering
  // it would only let a client pin memory; the connection is closed instead.
  int tcp_max_message = 4096;
};

// One parsed listen address.
struct ListenAddress {
  sockaddr_storage addr{};
  socklen_t len = 0;
  std::string text;  // as "ADDR:PORT" / "[ADDR]:PORT", with the real port once bound
};

// Parses "ADDR:PORT" or "[V6ADDR]:PORT" (numeric addresses only: no DNS at start-up).
absl::StatusOr<ListenAddress> ParseListenAddress(absl::string_view spec);

class KernelListener {
 public:
  // Opens and binds every socket now, so that start-up errors ("listen 127.0.0.1:53: Address
  // already in use (tcp)") surface here, not in a thread. `follower` must outlive the listener.
  // `counters` points at an array with at least counter_slots() entries (thread i writes entry
  // i: UDP workers first, then the TCP thread) or is null.
  static absl::StatusOr<std::unique_ptr<KernelListener>> Create(const ListenerOptions& options,
                                                                SnapshotFollower* follower,
                                                                maps::LcoreCounters* counters);
  ~KernelListener();
  KernelListener(const KernelListener&) = delete;
  KernelListener& operator=(const KernelListener&) = delete;

  // Serves until `stop` is set or Stop() is called; every thread notices within 100 ms. Returns
  // an error only when the threads cannot start (e.g. no free QSBR reader slot). Call once.
  absl::Status Run(const std::atomic<bool>& stop);
  // Asks Run() to return. Async-signal-safe (one lock-free atomic store).
  void Stop() { stop_.store(true, std::memory_order_relaxed); }

  // The bound addresses as "ADDR:PORT" (ports resolved when 0 was asked for).
  std::vector<std::string> bound_addresses() const;
  // The bound port of listen address i (for tests that asked for port 0).
  uint16_t port(size_t i) const;
  // Counter slots used: the UDP workers, then one for TCP.
  int counter_slots() const;

 private:
  struct Bound {
    ListenAddress address;
    int tcp_fd = -1;
    std::vector<int> udp_fds;  // one per UDP worker
    bool wildcard = false;     // bound to 0.0.0.0 / ::, so replies need IP(V6)_PKTINFO
  };

  KernelListener(const ListenerOptions& options, SnapshotFollower* follower,
                 maps::LcoreCounters* counters);
  absl::Status Bind(Bound* b);

  ListenerOptions options_;
  SnapshotFollower* follower_;
  maps::LcoreCounters* counters_;
  std::unique_ptr<maps::LcoreCounters[]> owned_counters_;  // when the caller passes none
  std::vector<Bound> bound_;
  int epoll_fd_ = -1;  // the TCP thread's: listening sockets are registered at Create()
  std::atomic<bool> stop_{false};
  bool ran_ = false;
};

}  // namespace sextant::dataplane
