// ListenerOptions: what an operator sets for kernel-socket serving (addresses, which protocols,
// UDP threads, TCP limits). Its own header because the facade (kernel_listener.h) and the TCP
// server (tcp_server.h) both read it.
#pragma once

#include <string>
#include <vector>

#include "maps/snapshot_format.h"

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

  // TCP abuse limits (maps::TcpSettings says what each means). These are the starting values;
  // a snapshot with a `tcp:` section (maps::kTcp) replaces them from its generation on.
  int tcp_max_connections = static_cast<int>(maps::kDefaultTcpMaxConnections);
  int tcp_max_per_client = static_cast<int>(maps::kDefaultTcpMaxPerClient);  // 0 = no limit
  // RFC 7766 section 6.2.3 recommends a few seconds; 10 s is what Knot and BIND use.
  int tcp_idle_timeout_ms = static_cast<int>(maps::kDefaultTcpIdleTimeoutMs);
  int tcp_query_timeout_ms = static_cast<int>(maps::kDefaultTcpQueryTimeoutMs);  // 0 = off
  int tcp_max_queries = 0;  // per connection; 0 = unlimited
  // Responses one connection may have waiting to be written. When a client pipelines faster
  // than it reads, the listener stops reading that connection until it has drained, which bounds
  // the memory one client can make the server hold (at most this many 64 KiB responses).
  int tcp_max_pipelined = 16;
  // Largest query accepted on TCP. A query is one question plus an OPT record (ECS, cookies,
  // padding): well under 4 KiB. A bigger frame is not a query this server answers, and buffering
  // it would only let a client pin memory; the connection is closed instead.
  int tcp_max_message = 4096;
};

}  // namespace sextant::dataplane
