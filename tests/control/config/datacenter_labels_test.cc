// A target's `datacenter:` label (control/config/datacenter_labels.h): checked against
// `datacenters:` when there is one, warned about when there is none, and compared with the site
// of every geo or latency resource that uses the target.
#include "control/config/datacenter_labels.h"

#include <string>
#include <vector>

#include "control/config/config.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sextant::control {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kFile[] = "/etc/sextant/sextant.yaml";
constexpr char kZones[] = "zones: [{origin: dc.test., file: dc.test.zone}]\n";  // line 1
constexpr char kDatacenters[] =                                                 // lines 2-5
    "datacenters:\n"
    "  ams: {latitude: 52.4, longitude: 4.9}\n"
    "  nyc: {latitude: 40.7, longitude: -74.0}\n"
    "  sgp: {latitude: 1.35, longitude: 103.8}\n";

absl::StatusOr<Config> Parse(const std::string& yaml) { return ParseConfig(yaml, kFile, "/etc"); }

TEST(DatacenterLabels, AnUnknownLabelIsRefusedWithTheKnownNamesAndTheNearest) {
  auto c = Parse(std::string(kZones) + kDatacenters +
                 "targets:\n"
                 "  ams1: {datacenter: ams}\n"
                 "  sgp1:\n"
                 "    initial: up\n"
                 "    datacenter: sng\n");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()),
              HasSubstr("sextant.yaml line 10: targets.sgp1.datacenter: unknown datacenter 'sng' "
                        "(known: ams, nyc, sgp; did you mean sgp?)"));
}

TEST(DatacenterLabels, KnownLabelsPassQuietly) {
  auto c = Parse(std::string(kZones) + kDatacenters +
                 "targets:\n  ams1: {datacenter: ams}\n  nyc1: {datacenter: nyc}\n  x: {}\n");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_THAT(c->warnings, IsEmpty());
}

TEST(DatacenterLabels, WithoutADatacentersSectionOneWarningSaysLabelsAreUnchecked) {
  auto c = Parse(std::string(kZones) +
                 "targets:\n  web1: {}\n  ams1: {datacenter: ams}\n  sgp1: {datacenter: sng}\n"
                 "  ams2: {datacenter: ams}\n");
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->warnings.size(), 1u);
  EXPECT_THAT(c->warnings[0], HasSubstr("sextant.yaml line 4: targets name datacenters (ams, sng) "
                                        "but there is no datacenters: section"));
  EXPECT_THAT(c->warnings[0], HasSubstr("sextantctl force NAME --datacenter"));
  EXPECT_THAT(Parse(std::string(kZones) + "targets:\n  web1: {}\n")->warnings, IsEmpty());
}

TEST(DatacenterLabels, ATargetServingAnotherSiteThanItsLabelIsWarnedAbout) {
  auto c = Parse(std::string(kZones) + kDatacenters +
                 "geo_maps: {world: {default: [ams]}}\n"  // line 6
                 "targets:\n"
                 "  ams1: {datacenter: ams}\n"  // line 8
                 "  nyc1: {datacenter: nyc}\n"
                 "  any1: {}\n"
                 "resources:\n"
                 "  us-pool: {kind: failover, members: [{address: 198.18.2.1, target: nyc1},\n"
                 "                                      {address: 198.18.2.2, target: ams1}]}\n"
                 "  app:\n"
                 "    kind: geo\n"
                 "    map: world\n"
                 "    datacenters:\n"
                 "      ams: {kind: failover, members: [{address: 198.18.1.1, target: ams1},\n"
                 "                                      {address: 198.18.1.2, target: any1}]}\n"
                 "      nyc: {resource: us-pool}\n");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_THAT(c->warnings,
              ElementsAre(HasSubstr(
                  "sextant.yaml line 13: resources.us-pool.members[1].target: target ams1 serves "
                  "the nyc site of resources.app but is labelled datacenter ams (line 8): "
                  "`sextantctl force nyc --datacenter` would not move it, `force ams "
                  "--datacenter` would")));
}

}  // namespace
}  // namespace sextant::control
