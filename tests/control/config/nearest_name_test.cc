// "Did you mean" (control/config/nearest_name.h): the nearest known name is offered only when it
// is near enough to be a typo and no other is as near.
#include "control/config/nearest_name.h"

#include <optional>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace sextant::control {
namespace {

TEST(NearestName, EditDistanceCountsTranspositionsAndIgnoresCase) {
  const struct {
    const char* a;
    const char* b;
    int distance;
  } rows[] = {
      {"geo", "geo", 0},
      {"goe", "geo", 1},
      {"GEO", "geo", 0},
      {"intervall", "interval", 1},
      {"latitute", "latitude", 1},
      {"sng", "sgp", 2},
      {"", "abc", 3},
      {"abc", "", 3},
      {"nearset", "nearest", 1},
  };
  for (const auto& r : rows) EXPECT_EQ(EditDistance(r.a, r.b), r.distance) << r.a << " " << r.b;
}

TEST(NearestName, OffersOnlyANearAndUniqueName) {
  const std::vector<std::string> dcs = {"ams", "nyc", "sgp"};
  const struct {
    const char* wrong;
    std::vector<std::string> candidates;
    std::optional<std::string> offered;
  } rows[] = {
      {"sng", dcs, "sgp"},
      {"amss", dcs, "ams"},
      {"lon", dcs, std::nullopt},          // three edits from each: no guess
      {"ams", dcs, std::nullopt},          // not wrong
      {"ab", {"aa", "bb"}, std::nullopt},  // a tie
      {"x", {"y"}, std::nullopt},          // as far as the whole name
      {"multivalu", {"static", "multivalue"}, "multivalue"},
  };
  for (const auto& r : rows) EXPECT_EQ(NearestName(r.wrong, r.candidates), r.offered) << r.wrong;
}

TEST(NearestName, HintListsTheKnownNamesOrCountsALongList) {
  EXPECT_EQ(KnownNamesHint("sng", {"ams", "nyc", "sgp"}),
            " (known: ams, nyc, sgp; did you mean sgp?)");
  EXPECT_EQ(KnownNamesHint("lon", {"ams", "nyc"}), " (known: ams, nyc)");
  EXPECT_EQ(KnownNamesHint("x", {}), "");
  std::vector<std::string> many;
  for (int i = 0; i < 40; ++i) many.push_back("pool" + std::to_string(i));
  EXPECT_EQ(KnownNamesHint("pool7x", many), " (40 known; did you mean pool7?)");
}

}  // namespace
}  // namespace sextant::control
