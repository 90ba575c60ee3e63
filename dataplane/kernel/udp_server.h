// UdpServer answers DNS over UDP with one or more worker threads. Each worker has its own
// SO_REUSEPORT socket on every listen address, so the kernel spreads flows over the workers, and
// answers recvmmsg/sendmmsg bursts in place. Sockets on a wildcard address reply from the
// address each query was sent to (IP_PKTINFO / IPV6_PKTINFO).
#pragma once

#include <sys/socket.h>

#include <utility>
#include <vector>

#include "dataplane/kernel/serving_thread.h"
#include "maps/unique_fd.h"

namespace sextant::dataplane {

using maps::UniqueFd;

class UdpServer {
 public:
  struct Socket {
    UniqueFd fd;
    bool wildcard = false;     // bound to 0.0.0.0 / ::, so replies need IP(V6)_PKTINFO
    sockaddr_storage local{};  // the bound address (dnstap's response address)
  };

  // Opens one worker's socket bound to `addr`: SO_REUSEPORT, PKTINFO on a wildcard address, no
  // path MTU discovery, a large receive buffer. Invalid, with errno set, on failure.
  static UniqueFd OpenSocket(const sockaddr_storage& addr, socklen_t len);

  // `sockets[w]` are worker w's sockets, one per listen address.
  explicit UdpServer(std::vector<std::vector<Socket>> sockets) : sockets_(std::move(sockets)) {}

  int workers() const { return static_cast<int>(sockets_.size()); }

  // Serves worker `w`'s sockets until `thread` is told to stop. Call on the worker's own thread.
  void RunWorker(int w, ServingThread thread) const;

 private:
  std::vector<std::vector<Socket>> sockets_;
};

}  // namespace sextant::dataplane
