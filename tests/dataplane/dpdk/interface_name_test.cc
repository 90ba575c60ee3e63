// The dataplane's own check of the exception interface name (the snapshot carries it; control
// and the snapshot reader check it too, so a bad one can only come from a broken writer).
#include "dataplane/dpdk/interface_name.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sextant::dataplane {
namespace {

using ::testing::HasSubstr;

struct NameRow {
  const char* name;
  bool ok;
};
constexpr NameRow kNames[] = {
    {"sxexc0", true},
    {"a", true},
    {"Tap_1-x", true},
    {"abcdefghijklmno", true},    // 15: IFNAMSIZ - 1
    {"abcdefghijklmnop", false},  // 16
    {"", false},
    {"sx exc", false},
    {"sxexc0,mac=00", false},  // would end the net_tap devargs
    {"a=b", false},
    {"sx.5", false},  // a VLAN sub-interface name is made, never given
    {"../all", false},
    {"sx/x", false},
    {"sx;reboot", false},
    {"sx$(id)", false},
    {"s\xc3\xa9", false},  // not ASCII
};

TEST(ValidateInterfaceName, AcceptsOnlyShortNamesOfTheSafeCharacters) {
  for (const NameRow& row : kNames) {
    const absl::Status s = ValidateInterfaceName(row.name);
    EXPECT_EQ(s.ok(), row.ok) << '"' << row.name << "\": " << s;
  }
}

TEST(ValidateInterfaceName, RefusalNamesTheValueAndTheRule) {
  const absl::Status s = ValidateInterfaceName(absl::string_view("sx\0x,y", 6));
  EXPECT_TRUE(absl::IsInvalidArgument(s));
  EXPECT_EQ(std::string(s.message()),
            "exception interface name \"sx\\x00x,y\" refused: it must be 1-15 characters of A-Z, "
            "a-z, 0-9, _ and -");
}

struct VlanRow {
  const char* parent;
  uint16_t vlan;
  const char* name;  // nullptr: refused
};
constexpr VlanRow kVlans[] = {
    {"sxexc0", 5, "sxexc0.5"},
    {"abcdefghij", 4094, "abcdefghij.4094"},  // control's 10 characters plus the longest id
    {"abcdefghijk", 4094, nullptr},           // 16
    {"sxexc0", 0, nullptr},
    {"sxexc0", 4095, nullptr},
};

TEST(VlanInterfaceName, AppendsTheIdWhenItFits) {
  for (const VlanRow& row : kVlans) {
    const absl::StatusOr<std::string> name = VlanInterfaceName(row.parent, row.vlan);
    if (row.name == nullptr) {
      EXPECT_TRUE(absl::IsInvalidArgument(name.status())) << row.parent << " " << row.vlan;
    } else {
      ASSERT_TRUE(name.ok()) << name.status();
      EXPECT_EQ(*name, row.name);
    }
  }
  EXPECT_THAT(VlanInterfaceName("abcdefghijk", 4094).status().message(),
              HasSubstr("abcdefghijk.4094 is longer than 15 characters"));
}

}  // namespace
}  // namespace sextant::dataplane
