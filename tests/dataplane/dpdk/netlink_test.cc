// RouteNetlink against the real kernel, each test in a network namespace of its own: links are
// made and brought up, addresses replaced, VLANs added (or refused by a kernel without 802.1Q),
// and every effect is read back through ioctl(2) and /proc/net, not through the code under test.
#include "dataplane/dpdk/netlink.h"

#include <arpa/inet.h>
#include <linux/if_addr.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <string>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/dataplane/dpdk/fresh_netns.h"

namespace sextant::dataplane {
namespace {

using ::sextant::dataplane::testing::InFreshNetworkNamespace;
using ::testing::HasSubstr;

// SIOCGIF* on `ifname`; false when the ioctl fails.
bool Ioctl(const char* ifname, unsigned long request, ifreq* ifr) {
  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  std::memset(ifr, 0, sizeof(*ifr));
  std::strncpy(ifr->ifr_name, ifname, IFNAMSIZ - 1);
  const bool ok = ioctl(fd, request, ifr) == 0;
  close(fd);
  return ok;
}

bool IsUp(const char* ifname) {
  ifreq ifr;
  return Ioctl(ifname, SIOCGIFFLAGS, &ifr) && (ifr.ifr_flags & IFF_UP) != 0;
}

// The interface's (first) IPv4 address and netmask, "198.18.0.2/255.255.255.0", or "".
std::string Ipv4Of(const char* ifname) {
  ifreq ifr;
  char addr[INET_ADDRSTRLEN] = {}, mask[INET_ADDRSTRLEN] = {};
  if (!Ioctl(ifname, SIOCGIFADDR, &ifr)) return "";
  inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&ifr.ifr_addr)->sin_addr, addr, sizeof(addr));
  if (!Ioctl(ifname, SIOCGIFNETMASK, &ifr)) return "";
  inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&ifr.ifr_netmask)->sin_addr, mask,
            sizeof(mask));
  return std::string(addr) + "/" + mask;
}

// The /proc/net/if_inet6 line of `ifname` whose address is `hex32` (32 hex digits, no colons):
// "<addr> <index> <prefix> <scope> <flags> <name>", all hex; "" when there is none.
std::string Inet6Line(const std::string& ifname, const std::string& hex32) {
  std::ifstream in("/proc/net/if_inet6");
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> f = absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (f.size() == 6 && f[0] == hex32 && f[5] == ifname) return line;
  }
  return "";
}

RouteNetlink OpenOrDie() {
  absl::StatusOr<RouteNetlink> nl = RouteNetlink::Open();
  EXPECT_TRUE(nl.ok()) << nl.status();
  if (!nl.ok()) _exit(3);
  return *std::move(nl);
}

constexpr uint8_t kV4[4] = {198, 18, 0, 2};
// 2001:db8:18::2
constexpr uint8_t kV6[16] = {0x20, 0x01, 0x0d, 0xb8, 0x00, 0x18, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};

TEST(RouteNetlink, CreatesAVethPairAndBringsItUp) {
  InFreshNetworkNamespace([] {
    RouteNetlink nl = OpenOrDie();
    ASSERT_TRUE(nl.AddVethPair("sxa0", "sxb0").ok());
    EXPECT_NE(if_nametoindex("sxa0"), 0u);
    EXPECT_NE(if_nametoindex("sxb0"), 0u);
    EXPECT_FALSE(IsUp("sxa0"));
    EXPECT_TRUE(nl.SetLinkUp("sxa0").ok());
    EXPECT_TRUE(IsUp("sxa0"));
    EXPECT_FALSE(IsUp("sxb0"));  // only the one asked for
  });
}

TEST(RouteNetlink, ReplacesIpv4AddressLikeIpAddrReplace) {
  InFreshNetworkNamespace([] {
    RouteNetlink nl = OpenOrDie();
    ASSERT_TRUE(nl.AddVethPair("sxa0", "sxb0").ok());
    ASSERT_TRUE(nl.SetLinkUp("sxa0").ok());
    absl::Status s = nl.ReplaceAddress("sxa0", 4, kV4, 24, false);
    EXPECT_TRUE(s.ok()) << s;
    EXPECT_EQ(Ipv4Of("sxa0"), "198.18.0.2/255.255.255.0");
    // Again: replace semantics (NLM_F_REPLACE), where a plain add would say "File exists".
    s = nl.ReplaceAddress("sxa0", 4, kV4, 24, false);
    EXPECT_TRUE(s.ok()) << s;
    EXPECT_EQ(Ipv4Of("sxa0"), "198.18.0.2/255.255.255.0");
  });
}

TEST(RouteNetlink, ReplacesIpv6AddressWithoutDad) {
  InFreshNetworkNamespace([] {
    RouteNetlink nl = OpenOrDie();
    ASSERT_TRUE(nl.AddVethPair("sxa0", "sxb0").ok());
    ASSERT_TRUE(nl.SetLinkUp("sxa0").ok());
    absl::Status s = nl.ReplaceAddress("sxa0", 6, kV6, 64, true);
    EXPECT_TRUE(s.ok()) << s;
    s = nl.ReplaceAddress("sxa0", 6, kV6, 64, true);
    EXPECT_TRUE(s.ok()) << s;
    const std::string line = Inet6Line("sxa0", "20010db8001800000000000000000002");
    ASSERT_FALSE(line.empty()) << "2001:db8:18::2 not on sxa0";
    std::vector<std::string> f = absl::StrSplit(line, ' ', absl::SkipEmpty());
    EXPECT_EQ(f[2], "40") << line;  // prefix 64
    const unsigned long flags = std::stoul(f[4], nullptr, 16);
    EXPECT_NE(flags & IFA_F_NODAD, 0u) << line;
    EXPECT_EQ(flags & IFA_F_TENTATIVE, 0u) << line;  // usable at once
  });
}

TEST(RouteNetlink, ErrorsSayWhatWasAttemptedAndTheErrno) {
  InFreshNetworkNamespace([] {
    RouteNetlink nl = OpenOrDie();
    absl::Status s = nl.ReplaceAddress("sxnone0", 4, kV4, 24, false);
    EXPECT_TRUE(absl::IsNotFound(s)) << s;  // ENODEV
    EXPECT_EQ(s.message(), "netlink RTM_NEWADDR 198.18.0.2/24 on sxnone0: No such device");
    s = nl.SetLinkUp("sxnone0");
    EXPECT_EQ(s.message(), "netlink RTM_NEWLINK sxnone0 up: No such device");
    // An error the kernel answers (NLMSG_ERROR), not one found before sending.
    ASSERT_TRUE(nl.AddVethPair("sxa0", "sxb0").ok());
    s = nl.AddVethPair("sxa0", "sxb1");
    EXPECT_TRUE(absl::IsAlreadyExists(s)) << s;
    EXPECT_EQ(s.message(), "netlink RTM_NEWLINK sxa0 (veth, peer sxb1): File exists");
    // 198.18.0.2/33 is no prefix: the kernel refuses it.
    s = nl.ReplaceAddress("sxa0", 4, kV4, 33, false);
    EXPECT_FALSE(s.ok());
    EXPECT_THAT(s.message(), HasSubstr("netlink RTM_NEWADDR 198.18.0.2/33 on sxa0: "));
  });
}

TEST(RouteNetlink, VlanLinkIsAddedOrRefusedAsNo8021Q) {
  InFreshNetworkNamespace([] {
    RouteNetlink nl = OpenOrDie();
    ASSERT_TRUE(nl.AddVethPair("sxa0", "sxb0").ok());
    const absl::Status s = nl.EnsureVlanLink("sxa0", "sxa0.5", 5);
    if (s.ok()) {
      EXPECT_NE(if_nametoindex("sxa0.5"), 0u);
      std::ifstream config("/proc/net/vlan/config");
      std::string text((std::istreambuf_iterator<char>(config)), {});
      EXPECT_THAT(text, HasSubstr("sxa0.5")) << text;
      EXPECT_TRUE(nl.SetLinkUp("sxa0.5").ok());
      EXPECT_TRUE(IsUp("sxa0.5"));
      // A second start finds it and leaves it be.
      EXPECT_TRUE(nl.EnsureVlanLink("sxa0", "sxa0.5", 5).ok());
    } else {
      // The documented refusal of a kernel without 802.1Q: EOPNOTSUPP, and no link left behind.
      EXPECT_TRUE(IsNoVlanSupport(s)) << s;
      EXPECT_EQ(s.message(),
                "netlink RTM_NEWLINK sxa0.5 (VLAN 5 on sxa0): Operation not supported");
      EXPECT_EQ(if_nametoindex("sxa0.5"), 0u);
    }
  });
}

TEST(RouteNetlink, VlanLinkThatExistsIsLeftAsItIs) {
  InFreshNetworkNamespace([] {
    RouteNetlink nl = OpenOrDie();
    ASSERT_TRUE(nl.AddVethPair("sxa0", "sxb0").ok());
    // `ip link show NAME || ip link add ...`: an existing link of that name is taken as it is,
    // whatever the kernel's 802.1Q support.
    EXPECT_TRUE(nl.EnsureVlanLink("sxa0", "sxb0", 5).ok());
    const absl::Status s = nl.EnsureVlanLink("sxnone0", "sxa0.7", 7);
    EXPECT_EQ(s.message(), "netlink RTM_NEWLINK sxa0.7 (VLAN 7 on sxnone0): No such device");
    EXPECT_FALSE(IsNoVlanSupport(s));
  });
}

}  // namespace
}  // namespace sextant::dataplane
