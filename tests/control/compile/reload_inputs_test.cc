// Per-input isolation and geo map reuse (control/compile/reload_inputs.h), through real files: a
// config and zone files in a temporary directory, MaxMind's test databases (a corrupt one
// among them), LoadConfig and the real loaders.
#include "control/compile/reload_inputs.h"

#include <filesystem>
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sextant::control {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

const std::string kData = SEXTANT_MAXMIND_TESTDATA "/";

std::string Zone(const std::string& origin, const std::string& extra) {
  return "$ORIGIN " + origin + "\n$TTL 300\n@ SOA ns hostmaster 1 3600 600 86400 60\n@ NS ns\n" +
         "ns A 198.18.0.2\n" + extra;
}

class ReloadInputsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    Write("a.test.zone", Zone("a.test.", "www A 198.18.1.1\n"));
    Write("b.test.zone", Zone("b.test.", "www A 198.18.2.1\n"));
    Write("nets.txt", "198.18.7.0/24 dc-us\n");
    fs::copy_file(kData + "GeoIP2-City-Test.mmdb", dir_ / "world.mmdb");
    WriteConfig("", "[dc-eu, dc-us]");
  }

  void TearDown() override { fs::remove_all(dir_); }

  void Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name, std::ios::trunc) << text;
  }

  void WriteConfig(const std::string& more_zones, const std::string& default_list,
                   const std::string& more_dcs = "") {
    Write("sextant.yaml",
          "zones:\n  - {origin: a.test., file: a.test.zone}\n"
          "  - {origin: b.test., file: b.test.zone}\n" +
              more_zones +
              "datacenters:\n  dc-eu: {latitude: 51.5, longitude: -0.13}\n"
              "  dc-us: {latitude: 40.7, longitude: -74.0}\n" +
              more_dcs +
              "geo_maps:\n  world:\n    database: world.mmdb\n    mode: nearest\n"
              "    nets: nets.txt\n    default: " +
              default_list + "\n");
  }

  // Loads the config on disk against the last good state, which a success then replaces (as a
  // publish would).
  absl::StatusOr<ReloadInputs> Load(InputMode mode = InputMode::kIsolate) {
    absl::StatusOr<Config> config = LoadConfig((dir_ / "sextant.yaml").string());
    if (!config.ok()) return config.status();
    absl::StatusOr<ReloadInputs> r = LoadReloadInputs(*config, last_good_, mode, ++now_);
    if (r.ok()) last_good_ = r->next;
    return r;
  }

  fs::path dir_;
  LastGoodInputs last_good_;
  int64_t now_ = 1000;
};

const ZoneData* ZoneOf(const ReloadInputs& r, const std::string& origin) {
  for (const auto& z : r.zones) {
    if (z->origin == origin) return z.get();
  }
  return nullptr;
}

TEST_F(ReloadInputsTest, ABrokenZoneKeepsItsLastGoodVersionWhileTheOtherChanges) {
  ASSERT_TRUE(Load().ok());
  const ZoneData* b_before = ZoneOf(*Load(), "b.test.");
  Write("a.test.zone", Zone("a.test.", "www A 198.18.1.1\nnew A 198.18.1.2\n"));
  Write("b.test.zone", Zone("b.test.", "www A 198.18.2.1\nthis is not a record\n"));
  absl::StatusOr<ReloadInputs> r = Load();
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->zones.size(), 2u);
  EXPECT_EQ(ZoneOf(*r, "a.test.")->record_count, 5u);  // SOA, NS, ns A, www A, new A
  EXPECT_EQ(ZoneOf(*r, "b.test."), b_before);          // the very version served before
  ASSERT_EQ(r->refusals.size(), 1u);
  EXPECT_EQ(r->refusals[0].kind, InputRefusal::Kind::kZone);
  EXPECT_EQ(r->refusals[0].name, "b.test.");
  EXPECT_THAT(r->refusals[0].reason, HasSubstr("b.test.zone line 7"));
  EXPECT_EQ(r->refusals[0].last_good_unix_ms, 1002);
  EXPECT_THAT(r->files, ::testing::Contains((dir_ / "b.test.zone").string()));

  Write("b.test.zone", Zone("b.test.", "www A 198.18.2.9\n"));  // fixed: the refusal clears
  r = Load();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->refusals.empty());
  EXPECT_NE(ZoneOf(*r, "b.test."), b_before);
}

TEST_F(ReloadInputsTest, ANewZoneThatDoesNotLoadIsLeftOutNamed) {
  ASSERT_TRUE(Load().ok());
  Write("c.test.zone", "not a zone\n");
  WriteConfig("  - {origin: c.test., file: c.test.zone}\n", "[dc-eu, dc-us]");
  absl::StatusOr<ReloadInputs> r = Load();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->zones.size(), 2u);
  EXPECT_EQ(ZoneOf(*r, "c.test."), nullptr);
  ASSERT_EQ(r->refusals.size(), 1u);
  EXPECT_EQ(r->refusals[0].name, "c.test.");
  EXPECT_EQ(r->refusals[0].last_good_unix_ms, 0);
}

TEST_F(ReloadInputsTest, StrictModeRefusesAnyFailingInputWithItsOwnMessage) {
  ASSERT_TRUE(Load().ok());
  Write("b.test.zone", "garbage\n");
  absl::StatusOr<ReloadInputs> r = Load(InputMode::kStrict);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("b.test.zone"));
  Write("b.test.zone", Zone("b.test.", ""));
  fs::copy_file(kData + "GeoIP2-City-Test-Broken-Double-Format.mmdb", dir_ / "world.mmdb",
                fs::copy_options::overwrite_existing);
  r = Load(InputMode::kStrict);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("geo map 'world'"));
}

TEST_F(ReloadInputsTest, AGeoMapWithUnchangedInputsIsReusedNotCompiled) {
  absl::StatusOr<ReloadInputs> first = Load();
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->geo_outcomes.size(), 1u);
  EXPECT_EQ(first->geo_outcomes[0].source, GeoMapSource::kCompiled);
  // The same bytes written again (a new inode and mtime) and a zone edit: still reused.
  fs::remove(dir_ / "world.mmdb");
  fs::copy_file(kData + "GeoIP2-City-Test.mmdb", dir_ / "world.mmdb");
  Write("a.test.zone", Zone("a.test.", "www A 198.18.1.3\n"));
  absl::StatusOr<ReloadInputs> again = Load();
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->geo_outcomes[0].source, GeoMapSource::kReused);
  EXPECT_EQ(again->geo_maps[0], first->geo_maps[0]);
}

// Each row changes one input of the map; each must compile it again.
TEST_F(ReloadInputsTest, AnyChangedGeoInputCompilesTheMapAgain) {
  struct Row {
    const char* what;
    std::function<void()> change;
  };
  const std::vector<Row> rows = {
      {"nets file", [&] { Write("nets.txt", "198.18.7.0/24 dc-eu\n"); }},
      {"config section", [&] { WriteConfig("", "[dc-us, dc-eu]"); }},
      {"database bytes",
       [&] {
         fs::copy_file(kData + "GeoLite2-City-Test.mmdb", dir_ / "world.mmdb",
                       fs::copy_options::overwrite_existing);
       }},
  };
  ASSERT_TRUE(Load().ok());
  for (const Row& row : rows) {
    const auto before = last_good_.geo_maps.at("world").map;
    row.change();
    absl::StatusOr<ReloadInputs> r = Load();
    ASSERT_TRUE(r.ok()) << row.what << ": " << r.status();
    EXPECT_EQ(r->geo_outcomes[0].source, GeoMapSource::kCompiled) << row.what;
    EXPECT_NE(r->geo_maps[0], before) << row.what;
  }
}

TEST_F(ReloadInputsTest, ACorruptDatabaseKeepsTheLastGoodMapAndTheZonesStillChange) {
  absl::StatusOr<ReloadInputs> first = Load();
  ASSERT_TRUE(first.ok());
  fs::copy_file(kData + "MaxMind-DB-test-broken-search-tree-24.mmdb", dir_ / "world.mmdb",
                fs::copy_options::overwrite_existing);
  Write("a.test.zone", Zone("a.test.", "www A 198.18.1.4\n"));
  absl::StatusOr<ReloadInputs> r = Load();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->geo_outcomes[0].source, GeoMapSource::kLastGood);
  EXPECT_EQ(r->geo_maps[0], first->geo_maps[0]);
  ASSERT_EQ(r->refusals.size(), 1u);
  EXPECT_EQ(r->refusals[0].kind, InputRefusal::Kind::kGeoMap);
  EXPECT_EQ(r->refusals[0].name, "world");
  EXPECT_THAT(r->refusals[0].reason, HasSubstr("world.mmdb"));
  EXPECT_NE(ZoneOf(*r, "a.test."), ZoneOf(*first, "a.test."));
  // Still broken: still the last good one, not the broken one's fingerprint.
  r = Load();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->geo_outcomes[0].source, GeoMapSource::kLastGood);
}

TEST_F(ReloadInputsTest, AGeoMapWithoutAUsableLastGoodVersionRefusesTheReload) {
  // New map, does not compile: nothing to serve for it.
  fs::copy_file(kData + "GeoIP2-City-Test-Invalid-Node-Count.mmdb", dir_ / "world.mmdb",
                fs::copy_options::overwrite_existing);
  absl::StatusOr<ReloadInputs> r = Load();
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("no earlier version"));
  // Last good compiled for two datacenters; the config now has three: its list ids would lie.
  fs::copy_file(kData + "GeoIP2-City-Test.mmdb", dir_ / "world.mmdb",
                fs::copy_options::overwrite_existing);
  ASSERT_TRUE(Load().ok());
  fs::copy_file(kData + "GeoIP2-City-Test-Invalid-Node-Count.mmdb", dir_ / "world.mmdb",
                fs::copy_options::overwrite_existing);
  WriteConfig("", "[dc-eu, dc-us]", "  dc-ap: {latitude: 1.3, longitude: 103.8}\n");
  r = Load();
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("compiled for datacenters dc-eu,dc-us"));
}

}  // namespace
}  // namespace sextant::control
