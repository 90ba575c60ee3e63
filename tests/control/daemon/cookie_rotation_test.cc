// The DNS Cookie secret's rotation by control (control/daemon/cookie_rotation.h): a first secret
// when none is published, the next one when the period passed (the old one kept as previous), none
// before, and a repair when a writer stopped mid-rotation.
#include "control/daemon/cookie_rotation.h"

#include <cstdint>

#include "gtest/gtest.h"
#include "maps/control_block.h"

namespace sextant::control {
namespace {

constexpr int64_t kT0 = 1700000000000;  // ms

TEST(CookieRotation, PublishesThenRotatesOnlyWhenDue) {
  maps::CookieSecrets s{};
  maps::CookieKeys k{};
  EXPECT_FALSE(maps::ReadCookieKeys(s, &k)) << "all zero: nothing published";

  ASSERT_EQ(RotateCookieSecretIfDue(s, kT0, 2000).value(), true);
  ASSERT_TRUE(maps::ReadCookieKeys(s, &k));
  const maps::CookieKeys first = k;
  EXPECT_EQ(first.previous[0] | first.previous[1], 0u);
  EXPECT_EQ(s.rotations.load(), 1u);

  EXPECT_EQ(RotateCookieSecretIfDue(s, kT0 + 1999, 2000).value(), false);
  ASSERT_TRUE(maps::ReadCookieKeys(s, &k));
  EXPECT_EQ(k.current[0], first.current[0]);

  EXPECT_EQ(RotateCookieSecretIfDue(s, kT0 + 2000, 2000).value(), true);
  ASSERT_TRUE(maps::ReadCookieKeys(s, &k));
  EXPECT_EQ(k.previous[0], first.current[0]);
  EXPECT_EQ(k.previous[1], first.current[1]);
  EXPECT_NE(k.current[0], first.current[0]);
  EXPECT_EQ(s.rotations.load(), 2u);
  EXPECT_EQ(s.seq.load() % 2, 0u);
}

TEST(CookieRotation, AClockThatWentBackRotates) {
  maps::CookieSecrets s{};
  ASSERT_TRUE(RotateCookieSecretIfDue(s, kT0, 60000).value());
  EXPECT_TRUE(RotateCookieSecretIfDue(s, kT0 - 1000, 60000).value());
}

TEST(CookieRotation, RepairsATornRotationAndReadersRefuseIt) {
  maps::CookieSecrets s{};
  ASSERT_TRUE(RotateCookieSecretIfDue(s, kT0, 60000).value());
  s.seq.store(s.seq.load() | 1);  // as if control died in the middle of a rotation
  maps::CookieKeys k{};
  EXPECT_FALSE(maps::ReadCookieKeys(s, &k)) << "a reader gives up instead of spinning";
  EXPECT_TRUE(RotateCookieSecretIfDue(s, kT0 + 1, 60000).value());
  EXPECT_TRUE(maps::ReadCookieKeys(s, &k));
}

}  // namespace
}  // namespace sextant::control
