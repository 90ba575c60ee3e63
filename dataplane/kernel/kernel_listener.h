// KernelListener answers DNS over ordinary kernel sockets from the snapshot a SnapshotFollower
// serves: UDP with one or more worker threads (SO_REUSEPORT, recvmmsg/sendmmsg bursts) and TCP
// per RFC 7766 on one epoll thread (length framing, pipelining, idle timeout, connection limit).
// It is sextant-dataplane's kernel-socket mode, and the listener behind the DPDK exception path
// (TCP/53 handed to the kernel). Every thread is a QSBR reader of the follower, so snapshot swaps
// never wait for an idle listener, and each writes its own per-lcore counter slot.
// This class binds the addresses (one port for UDP and TCP) and runs the threads; the serving
// itself is in udp_server.h and tcp_server.h.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "dataplane/dnstap/tap_ring.h"
#include "dataplane/kernel/listen_socket.h"     // ListenAddress, ParseListenAddress
#include "dataplane/kernel/listener_options.h"  // ListenerOptions
#include "dataplane/kernel/tcp_server.h"
#include "dataplane/kernel/udp_server.h"
#include "dataplane/snapshot_follower.h"
#include "maps/control_block.h"

namespace sextant::dataplane {

class KernelListener {
 public:
  // Opens and binds every socket now, so that start-up errors ("listen 127.0.0.1:53: Address
  // already in use (tcp)") surface here, not in a thread. `follower` must outlive the listener.
  // `counters` points at an array with at least counter_slots() entries (thread i writes entry
  // i: UDP workers first, then the TCP thread) or is null; `answers` and `cookies` likewise (the
  // entries of the same index as `counters` in the control block; null cookies: not counted).
  static absl::StatusOr<std::unique_ptr<KernelListener>> Create(
      const ListenerOptions& options, SnapshotFollower* follower, maps::LcoreCounters* counters,
      maps::LcoreAnswers* answers = nullptr, maps::LcoreCookies* cookies = nullptr);
  ~KernelListener();
  KernelListener(const KernelListener&) = delete;
  KernelListener& operator=(const KernelListener&) = delete;

  // Serves until `stop` is set or Stop() is called; every thread notices within 100 ms. Returns
  // an error only when the threads cannot start (e.g. no free QSBR reader slot). Call once.
  absl::Status Run(const std::atomic<bool>& stop);
  // dnstap: thread i samples 1 in `every` queries into rings[i] (counter_slots() rings, each
  // outliving Run()). Call before Run(); without it, nothing is sampled.
  void SetTap(std::vector<TapRing*> rings, uint32_t every);

  // Asks Run() to return. Async-signal-safe (one lock-free atomic store).
  void Stop() { stop_.store(true, std::memory_order_relaxed); }

  // The bound addresses as "ADDR:PORT" (ports resolved when 0 was asked for).
  std::vector<std::string> bound_addresses() const;
  // The bound port of listen address i (for tests that asked for port 0).
  uint16_t port(size_t i) const;
  // Counter slots used: the UDP workers, then one for TCP.
  int counter_slots() const;

 private:
  KernelListener(const ListenerOptions& options, SnapshotFollower* follower,
                 maps::LcoreCounters* counters, maps::LcoreAnswers* answers,
                 maps::LcoreCookies* cookies);

  ListenerOptions options_;
  SnapshotFollower* follower_;
  maps::LcoreCounters* counters_;
  std::unique_ptr<maps::LcoreCounters[]> owned_counters_;  // when the caller passes none
  maps::LcoreAnswers* answers_;
  std::unique_ptr<maps::LcoreAnswers[]> owned_answers_;  // when the caller passes none
  maps::LcoreCookies* cookies_;                          // null: not counted
  std::vector<ListenAddress> addresses_;                 // as bound
  std::unique_ptr<UdpServer> udp_;                       // null without UDP
  std::unique_ptr<TcpServer> tcp_;                       // null without TCP
  std::atomic<bool> stop_{false};
  bool ran_ = false;
  std::vector<TapRing*> tap_rings_;  // empty: dnstap off
  uint32_t tap_every_ = 0;
};

}  // namespace sextant::dataplane
