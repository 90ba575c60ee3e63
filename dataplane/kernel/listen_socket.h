// What the UDP and the TCP server share about sockets: listen addresses parsed from and written
// as "ADDR:PORT" / "[ADDR]:PORT", opening a socket bound to one, and turning a client's address
// into the engine's ClientInfo. Start-up code, except ClientFromSockaddr (once per UDP query or
// TCP connection).
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <cstring>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "dataplane/engine/engine.h"
#include "maps/unique_fd.h"

namespace sextant::dataplane {

using maps::UniqueFd;

// One parsed listen address.
struct ListenAddress {
  sockaddr_storage addr{};
  socklen_t len = 0;
  std::string text;  // as "ADDR:PORT" / "[ADDR]:PORT", with the real port once bound
};

// Parses "ADDR:PORT" or "[V6ADDR]:PORT" (numeric addresses only: no DNS at start-up).
absl::StatusOr<ListenAddress> ParseListenAddress(absl::string_view spec);

// "ADDR:PORT" or "[V6ADDR]:PORT".
std::string FormatAddress(const sockaddr_storage& ss);
uint16_t PortOf(const sockaddr_storage& ss);
// 0.0.0.0 or ::, where replies need IP(V6)_PKTINFO to leave from the address that was asked.
bool IsWildcard(const sockaddr_storage& ss);

// Opens a non-blocking, close-on-exec socket of `type` (SOCK_DGRAM, SOCK_STREAM) in `addr`'s
// family, lets `set_options` configure it, and binds it to `addr`. Invalid, with errno set, when
// a step fails (`set_options` returns false with errno set).
UniqueFd OpenBoundSocket(const sockaddr_storage& addr, socklen_t len, int type,
                         absl::FunctionRef<bool(int fd)> set_options);

// Replaces `addr` by the address `fd` is bound to: the port the kernel picked for port 0.
void ReadBoundAddress(int fd, sockaddr_storage* addr);

// The engine's view of a client at `ss`. Inline: it runs once per UDP query.
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

}  // namespace sextant::dataplane
