// TcpServer answers DNS over TCP per RFC 7766 on one epoll thread: length-prefixed messages,
// pipelined queries answered in order, and a cap on the answers one connection may have waiting
// (its reads pause until they drain). Abuse limits (maps::TcpSettings, from the snapshot's `tcp:`
// section or ListenerOptions): connections per client (IPv4 address, IPv6 /64) and in all (a
// newcomer at the limit replaces the connection stalled longest), idle and whole-query timeouts,
// queries per connection. Non-blocking sockets, level-triggered epoll.
#pragma once

#include <sys/socket.h>

#include <memory>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "dataplane/kernel/listener_options.h"
#include "dataplane/kernel/serving_thread.h"
#include "maps/unique_fd.h"

namespace sextant::dataplane {

using maps::UniqueFd;

class TcpServer {
 public:
  // Opens a socket listening on `addr`. Invalid, with errno set, on failure.
  static UniqueFd OpenListener(const sockaddr_storage& addr, socklen_t len);

  // Registers `listeners` with a new epoll set now, so that a failure surfaces at start-up rather
  // than in the thread. `options` must outlive the server.
  static absl::StatusOr<std::unique_ptr<TcpServer>> Create(const ListenerOptions& options,
                                                           std::vector<UniqueFd> listeners);

  // Serves until `thread` is told to stop, then closes every connection. Call once, on the TCP
  // thread.
  void Run(ServingThread thread);

 private:
  TcpServer(const ListenerOptions& options, UniqueFd epoll, std::vector<UniqueFd> listeners)
      : options_(options), epoll_(std::move(epoll)), listeners_(std::move(listeners)) {}

  const ListenerOptions& options_;
  UniqueFd epoll_;
  std::vector<UniqueFd> listeners_;
};

}  // namespace sextant::dataplane
