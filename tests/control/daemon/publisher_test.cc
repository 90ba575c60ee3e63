// Publishing in two steps (publisher.h), as a reload compiled off the event loop does: Stage
// writes and verifies a generation's snapshot without publishing it; Commit publishes it unless
// another generation came first, in which case the staged file goes and the active one stays.
#include "control/daemon/publisher.h"

#include <unistd.h>

#include <filesystem>
#include <string>

#include "control/compile/snapshot_builder.h"
#include "control/zones/zone_loader.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "maps/snapshot_reader.h"

namespace sextant::control {
namespace {

namespace fs = std::filesystem;

class PublisherTest : public ::testing::Test {
 protected:
  void TearDown() override {
    for (const auto& e : fs::directory_iterator("/dev/shm")) {
      if (e.path().filename().string().rfind(instance_ + ".", 0) == 0) fs::remove(e.path());
    }
  }

  // A snapshot of generation `gen` with one zone.
  static std::vector<uint8_t> Blob(uint64_t gen) {
    Config config;
    auto zone = LoadZoneText("p.test.", "@ 300 SOA ns h 1 3600 600 86400 60\n@ 300 NS ns\n",
                             "p.test.zone", "/tmp");
    EXPECT_TRUE(zone.ok()) << zone.status();
    if (!zone.ok()) return {};
    auto blob = BuildSnapshot(config, {*zone}, gen);
    EXPECT_TRUE(blob.ok()) << blob.status();
    return blob.ok() ? *blob : std::vector<uint8_t>();
  }

  bool Exists(uint64_t gen) const { return fs::exists(maps::SnapshotPath(instance_, gen)); }

  std::string instance_ = "sxpubtest" + std::to_string(getpid());
};

TEST_F(PublisherTest, AStagedGenerationIsPublishedOnlyByCommit) {
  auto p = Publisher::Create(instance_);
  ASSERT_TRUE(p.ok()) << p.status();
  const uint64_t gen = (*p)->NextGeneration();
  ASSERT_TRUE((*p)->Stage(gen, Blob(gen)).ok());
  EXPECT_TRUE(Exists(gen));                                         // written and verified ...
  EXPECT_EQ((*p)->block()->hdr.active_generation.load(), gen - 1);  // ... but not published
  auto committed = (*p)->Commit(gen);
  ASSERT_TRUE(committed.ok()) << committed.status();
  EXPECT_EQ(*committed, gen);
  EXPECT_EQ((*p)->block()->hdr.active_generation.load(), gen);
}

TEST_F(PublisherTest, AStaleStagedGenerationIsRefusedAndRemoved) {
  auto p = Publisher::Create(instance_);
  ASSERT_TRUE(p.ok()) << p.status();
  const uint64_t staged = (*p)->NextGeneration();
  ASSERT_TRUE((*p)->Stage(staged, Blob(staged)).ok());
  // Another publish takes that generation first; the staged file is overwritten by it.
  auto other = (*p)->Publish([](uint64_t g) { return Blob(g); });
  ASSERT_TRUE(other.ok()) << other.status();
  ASSERT_EQ(*other, staged);
  // A generation staged when it was next but committed after another publish: refused.
  const uint64_t ahead = staged + 2;  // staged + 1 is the next one now
  ASSERT_TRUE((*p)->Stage(ahead, Blob(ahead)).ok());
  auto refused = (*p)->Commit(ahead);
  EXPECT_TRUE(absl::IsAborted(refused.status())) << refused.status();
  EXPECT_FALSE(Exists(ahead));                                     // removed
  EXPECT_TRUE(Exists(staged));                                     // the active one stays
  EXPECT_EQ((*p)->block()->hdr.active_generation.load(), staged);  // and is still active
  // Committing the active generation again is refused too, and does not remove it.
  EXPECT_TRUE(absl::IsAborted((*p)->Commit(staged).status()));
  EXPECT_TRUE(Exists(staged));
}

}  // namespace
}  // namespace sextant::control
