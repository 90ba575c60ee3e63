// SysctlChanges against the real /proc/sys of a network namespace the test makes (the settings
// the DPDK dataplane changes on an af_packet interface), and against a plain directory for what
// the kernel would not let us stage (a setting whose interface went away).
#include "dataplane/dpdk/sysctl.h"

#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "dataplane/dpdk/netlink.h"
#include "gtest/gtest.h"
#include "tests/dataplane/dpdk/fresh_netns.h"

namespace sextant::dataplane {
namespace {

using ::sextant::dataplane::testing::InFreshNetworkNamespace;

// Read without the class under test.
std::string ReadProc(const std::string& key) {
  std::ifstream in("/proc/sys/" + key);
  std::string value;
  std::getline(in, value);
  return value;
}

void MakeVeth() {
  absl::StatusOr<RouteNetlink> nl = RouteNetlink::Open();
  ASSERT_TRUE(nl.ok()) << nl.status();
  ASSERT_TRUE(nl->AddVethPair("sxa0", "sxb0").ok());
}

// What QuietKernelInterface sets on the af_packet interface, with values unlike the defaults.
struct Row {
  const char* key;
  const char* before;
  const char* during;
};
constexpr Row kQuietRows[] = {
    {"net/ipv4/conf/sxa0/arp_ignore", "2", "8"},
    {"net/ipv4/conf/sxa0/rp_filter", "2", "1"},
    {"net/ipv6/conf/sxa0/disable_ipv6", "0", "1"},
};

void WriteProc(const std::string& key, const std::string& value) {
  std::ofstream out("/proc/sys/" + key);
  out << value;
  out.close();
  ASSERT_EQ(ReadProc(key), value) << key;
}

TEST(SysctlChanges, SetsAnInterfacesSettingsAndRestoresThem) {
  InFreshNetworkNamespace([] {
    MakeVeth();
    for (const Row& r : kQuietRows) WriteProc(r.key, r.before);
    SysctlChanges changes;
    for (const Row& r : kQuietRows) {
      const absl::Status s = changes.Set(r.key, r.during);
      EXPECT_TRUE(s.ok()) << s;
      EXPECT_EQ(ReadProc(r.key), r.during) << r.key;
    }
    EXPECT_EQ(changes.changed(), 3u);
    const absl::Status restored = changes.Restore();
    EXPECT_TRUE(restored.ok()) << restored;
    for (const Row& r : kQuietRows) EXPECT_EQ(ReadProc(r.key), r.before) << r.key;
    EXPECT_EQ(changes.changed(), 0u);
  });
}

TEST(SysctlChanges, DestructorRestores) {
  InFreshNetworkNamespace([] {
    MakeVeth();
    for (const Row& r : kQuietRows) WriteProc(r.key, r.before);
    {
      SysctlChanges changes;
      for (const Row& r : kQuietRows) EXPECT_TRUE(changes.Set(r.key, r.during).ok());
    }
    for (const Row& r : kQuietRows) EXPECT_EQ(ReadProc(r.key), r.before) << r.key;
  });
}

TEST(SysctlChanges, RestoresInReverseOrderSoTheFirstOldValueWins) {
  InFreshNetworkNamespace([] {
    MakeVeth();
    const std::string key = "net/ipv4/conf/sxa0/arp_ignore";
    WriteProc(key, "1");
    SysctlChanges changes;
    ASSERT_TRUE(changes.Set(key, "8").ok());
    ASSERT_TRUE(changes.Set(key, "2").ok());
    EXPECT_EQ(ReadProc(key), "2");
    ASSERT_TRUE(changes.Restore().ok());
    EXPECT_EQ(ReadProc(key), "1");
  });
}

TEST(SysctlChanges, RefusedWritesAreErrorsAndNotRemembered) {
  InFreshNetworkNamespace([] {
    MakeVeth();
    SysctlChanges changes;
    absl::Status s = changes.Set("net/ipv4/conf/sxnone0/arp_ignore", "8");
    EXPECT_TRUE(absl::IsNotFound(s)) << s;
    EXPECT_EQ(s.message(),
              "cannot read /proc/sys/net/ipv4/conf/sxnone0/arp_ignore: No such file or directory");
    const std::string key = "net/ipv4/conf/sxa0/arp_ignore";
    WriteProc(key, "1");
    s = changes.Set(key, "banana");  // the kernel parses the value and says EINVAL
    EXPECT_EQ(s.message(),
              "cannot set /proc/sys/net/ipv4/conf/sxa0/arp_ignore to banana: Invalid argument");
    EXPECT_EQ(ReadProc(key), "1");
    EXPECT_EQ(changes.changed(), 0u);
  });
}

// Under a plain directory: a key that vanished (its interface went away) is skipped, one that
// cannot be written is reported, and every other one is still put back.
TEST(SysctlChanges, RestoreSkipsVanishedKeysAndReportsTheRest) {
  char tmpl[] = "/tmp/sysctl_test.XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::filesystem::path root(tmpl);
  for (const char* name : {"gone", "kept", "blocked"}) std::ofstream(root / name) << "0\n";
  {
    SysctlChanges changes(root.string());
    for (const char* name : {"gone", "kept", "blocked"}) ASSERT_TRUE(changes.Set(name, "1").ok());
    std::filesystem::remove(root / "gone");
    std::filesystem::remove(root / "blocked");
    std::filesystem::create_directory(root / "blocked");  // open(O_WRONLY) says EISDIR
    const absl::Status s = changes.Restore();
    EXPECT_TRUE(absl::IsInternal(s)) << s;
    EXPECT_EQ(s.message(), "restoring sysctls: cannot set " + (root / "blocked").string() +
                               " to 0: Is a directory");
    EXPECT_EQ(changes.changed(), 0u);
  }
  std::ifstream kept(root / "kept");
  std::string value;
  std::getline(kept, value);
  EXPECT_EQ(value, "0");
  EXPECT_FALSE(std::filesystem::exists(root / "gone"));  // never re-created
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace sextant::dataplane
