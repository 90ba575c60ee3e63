#include "dataplane/kernel/listen_socket.h"

#include <arpa/inet.h>
#include <net/if.h>

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace sextant::dataplane {

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

std::string FormatAddress(const sockaddr_storage& ss) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (ss.ss_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(ss).sin6_addr, buf, sizeof(buf));
    return absl::StrCat("[", buf, "]:", PortOf(ss));
  }
  inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(ss).sin_addr, buf, sizeof(buf));
  return absl::StrCat(buf, ":", PortOf(ss));
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

UniqueFd OpenBoundSocket(const sockaddr_storage& addr, socklen_t len, int type,
                         absl::FunctionRef<bool(int fd)> set_options) {
  const int family = addr.ss_family;
  UniqueFd fd(socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) return fd;
  const int one = 1;
  // Separate sockets per address family, as Knot and NSD do: mapped addresses would hide the
  // real family from the engine and from IP_PKTINFO.
  if (family == AF_INET6 &&
      setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) != 0) {
    return UniqueFd();
  }
  if (!set_options(fd.get())) return UniqueFd();
  if (bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), len) != 0) return UniqueFd();
  return fd;
}

void ReadBoundAddress(int fd, sockaddr_storage* addr) {
  socklen_t len = sizeof(*addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(addr), &len);
}

}  // namespace sextant::dataplane
