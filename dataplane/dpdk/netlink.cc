#include "dataplane/dpdk/netlink.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>

#include <cerrno>
#include <ctime>
#include <string>

#include "absl/strings/str_cat.h"

namespace sextant::dataplane {
namespace {

// Every request here is a header, one fixed struct and a few short attributes; answers are acks.
// 8 KiB is libmnl's MNL_SOCKET_BUFFER_SIZE on 4 KiB-page hosts, and more than any of them needs.
constexpr size_t kBufferSize = 8192;

// The interface's index, or a status in the same "netlink ...: errno text" form as the request.
absl::StatusOr<int> IndexOf(absl::string_view ifname, absl::string_view what) {
  const unsigned index = if_nametoindex(std::string(ifname).c_str());
  if (index == 0) return absl::ErrnoToStatus(errno, what);
  return static_cast<int>(index);
}

}  // namespace

void RouteNetlink::SocketCloser::operator()(mnl_socket* s) const { mnl_socket_close(s); }

absl::StatusOr<RouteNetlink> RouteNetlink::Open() {
  RouteNetlink nl;
  nl.socket_.reset(mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC));
  if (nl.socket_ == nullptr) return absl::ErrnoToStatus(errno, "netlink: cannot open a socket");
  if (mnl_socket_bind(nl.socket_.get(), 0, MNL_SOCKET_AUTOPID) < 0) {
    return absl::ErrnoToStatus(errno, "netlink: cannot bind the socket");
  }
  nl.port_id_ = mnl_socket_get_portid(nl.socket_.get());
  nl.seq_ = static_cast<uint32_t>(time(nullptr));
  return nl;
}

absl::Status RouteNetlink::Request(nlmsghdr* nlh, absl::string_view what) {
  nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
  nlh->nlmsg_seq = ++seq_;
  if (mnl_socket_sendto(socket_.get(), nlh, nlh->nlmsg_len) < 0) {
    return absl::ErrnoToStatus(errno, what);
  }
  alignas(nlmsghdr) char buf[kBufferSize];
  for (;;) {
    const ssize_t n = mnl_socket_recvfrom(socket_.get(), buf, sizeof(buf));
    if (n < 0) return absl::ErrnoToStatus(errno, what);
    // The ack (an NLMSG_ERROR with error 0) stops the run; an error sets errno from it.
    const int rc =
        mnl_cb_run(buf, static_cast<size_t>(n), nlh->nlmsg_seq, port_id_, nullptr, nullptr);
    if (rc == MNL_CB_ERROR) return absl::ErrnoToStatus(errno, what);
    if (rc == MNL_CB_STOP) return absl::OkStatus();
  }
}

absl::Status RouteNetlink::SetLinkUp(absl::string_view ifname) {
  const std::string what = absl::StrCat("netlink RTM_NEWLINK ", ifname, " up");
  absl::StatusOr<int> index = IndexOf(ifname, what);
  if (!index.ok()) return index.status();
  alignas(nlmsghdr) char buf[kBufferSize];
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = RTM_NEWLINK;
  auto* ifi = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = *index;
  ifi->ifi_flags = IFF_UP;
  ifi->ifi_change = IFF_UP;
  return Request(nlh, what);
}

absl::Status RouteNetlink::EnsureVlanLink(absl::string_view parent, absl::string_view name,
                                          uint16_t vlan) {
  const std::string name_str(name);
  if (if_nametoindex(name_str.c_str()) != 0) return absl::OkStatus();  // as `ip link show` finds
  const std::string what =
      absl::StrCat("netlink RTM_NEWLINK ", name, " (VLAN ", vlan, " on ", parent, ")");
  absl::StatusOr<int> parent_index = IndexOf(parent, what);
  if (!parent_index.ok()) return parent_index.status();
  alignas(nlmsghdr) char buf[kBufferSize];
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = RTM_NEWLINK;
  nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
  auto* ifi = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
  ifi->ifi_family = AF_UNSPEC;
  mnl_attr_put_u32(nlh, IFLA_LINK, static_cast<uint32_t>(*parent_index));
  mnl_attr_put_strz(nlh, IFLA_IFNAME, name_str.c_str());
  nlattr* info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
  mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "vlan");
  nlattr* data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
  mnl_attr_put_u16(nlh, IFLA_VLAN_ID, vlan);
  mnl_attr_nest_end(nlh, data);
  mnl_attr_nest_end(nlh, info);
  return Request(nlh, what);
}

absl::Status RouteNetlink::ReplaceAddress(absl::string_view ifname, int family, const uint8_t* addr,
                                          int prefix, bool nodad) {
  const int af = family == 6 ? AF_INET6 : AF_INET;
  const size_t len = family == 6 ? 16 : 4;
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(af, addr, text, sizeof(text));
  const std::string what = absl::StrCat("netlink RTM_NEWADDR ", text, "/", prefix, " on ", ifname);
  absl::StatusOr<int> index = IndexOf(ifname, what);
  if (!index.ok()) return index.status();
  alignas(nlmsghdr) char buf[kBufferSize];
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = RTM_NEWADDR;
  nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
  auto* ifa = static_cast<ifaddrmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifaddrmsg)));
  ifa->ifa_family = static_cast<uint8_t>(af);
  ifa->ifa_prefixlen = static_cast<uint8_t>(prefix);
  ifa->ifa_flags = nodad ? IFA_F_NODAD : 0;
  ifa->ifa_scope = RT_SCOPE_UNIVERSE;
  ifa->ifa_index = static_cast<uint32_t>(*index);
  // As ip(8) sends it: the local address, and the same as the (peer) address.
  mnl_attr_put(nlh, IFA_LOCAL, len, addr);
  mnl_attr_put(nlh, IFA_ADDRESS, len, addr);
  return Request(nlh, what);
}

absl::Status RouteNetlink::AddVethPair(absl::string_view name, absl::string_view peer) {
  const std::string what = absl::StrCat("netlink RTM_NEWLINK ", name, " (veth, peer ", peer, ")");
  const std::string name_str(name), peer_str(peer);
  alignas(nlmsghdr) char buf[kBufferSize];
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = RTM_NEWLINK;
  nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
  auto* ifi = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
  ifi->ifi_family = AF_UNSPEC;
  mnl_attr_put_strz(nlh, IFLA_IFNAME, name_str.c_str());
  nlattr* info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
  mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
  nlattr* data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
  // The peer is described by its own ifinfomsg and attributes, nested.
  nlattr* peer_attr = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
  mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg));
  mnl_attr_put_strz(nlh, IFLA_IFNAME, peer_str.c_str());
  mnl_attr_nest_end(nlh, peer_attr);
  mnl_attr_nest_end(nlh, data);
  mnl_attr_nest_end(nlh, info);
  return Request(nlh, what);
}

bool IsNoVlanSupport(const absl::Status& s) { return absl::IsUnimplemented(s); }

}  // namespace sextant::dataplane
