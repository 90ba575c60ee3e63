// The exception path's kernel side, configured over rtnetlink (libmnl, as Knot's and iproute2's
// tools do) instead of running ip(8): a link brought up, a VLAN sub-interface added, an address
// replaced. No shell and no child process, and each failure comes back as a status that says
// what was attempted and the kernel's errno text, e.g.
// "netlink RTM_NEWADDR 198.18.0.2/24 on sxexc0: File exists".
#pragma once

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

struct mnl_socket;
struct nlmsghdr;

namespace sextant::dataplane {

class RouteNetlink {
 public:
  // A NETLINK_ROUTE socket bound to this process's network namespace.
  static absl::StatusOr<RouteNetlink> Open();

  // ip link set IFNAME up.
  absl::Status SetLinkUp(absl::string_view ifname);

  // ip link add link PARENT name NAME type vlan id VLAN, unless a link NAME exists already.
  // A kernel without 802.1Q answers EOPNOTSUPP: kUnimplemented (see IsNoVlanSupport).
  absl::Status EnsureVlanLink(absl::string_view parent, absl::string_view name, uint16_t vlan);

  // ip [-6] addr replace ADDR/PREFIX dev IFNAME [nodad]: created or updated in place
  // (NLM_F_CREATE | NLM_F_REPLACE). `addr` holds 4 (family 4) or 16 (family 6) bytes; `nodad`
  // sets IFA_F_NODAD, so an IPv6 address is usable at once.
  absl::Status ReplaceAddress(absl::string_view ifname, int family, const uint8_t* addr, int prefix,
                              bool nodad);

  // ip link add NAME type veth peer name PEER. The dataplane needs none; tests build their
  // wire with it.
  absl::Status AddVethPair(absl::string_view name, absl::string_view peer);

 private:
  struct SocketCloser {
    void operator()(mnl_socket* s) const;
  };
  RouteNetlink() = default;
  // Sends `nlh` with NLM_F_ACK and waits for the kernel's answer; `what` names the request in
  // the error.
  absl::Status Request(nlmsghdr* nlh, absl::string_view what);

  std::unique_ptr<mnl_socket, SocketCloser> socket_;
  uint32_t port_id_ = 0;
  uint32_t seq_ = 0;
};

// True when `s` (from EnsureVlanLink) means the kernel cannot have VLAN links at all.
bool IsNoVlanSupport(const absl::Status& s);

}  // namespace sextant::dataplane
