// Publishing while readers read: reader threads hammer the engine through a SnapshotFollower
// while the writer publishes 1,000 generations through the real Publisher (/dev/shm files +
// control block). Every answer must come from one whole snapshot (all its records carry the
// generation of the snapshot the reader held), and no snapshot may be unmapped while a reader
// uses it (run under ASan in CI: a use-after-unmap faults, a use-after-free is reported).
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "control/compile/snapshot_builder.h"
#include "control/config/config.h"
#include "control/daemon/publisher.h"
#include "control/zones/zone_loader.h"
#include "dataplane/snapshot_follower.h"
#include "gtest/gtest.h"
#include "maps/dns/wire.h"
#include "tests/support/test_snapshot.h"

namespace sextant {
namespace {

using maps::dns::Get16;

std::string ZoneFor(uint64_t gen) {
  const int hi = static_cast<int>((gen >> 8) & 0xff), lo = static_cast<int>(gen & 0xff);
  return absl::StrCat(
      "$ORIGIN example.test.\n$TTL 60\n"
      "@ IN SOA ns hostmaster ",
      gen, " 1 1 1 1\n@ IN NS ns\nns IN A 198.18.0.1\n", "www IN A 198.18.", hi, ".", lo, "\n",
      "www IN A 198.19.", hi, ".", lo, "\n", "www IN A 198.20.", hi, ".", lo, "\n",
      "alias IN CNAME www\n");
}

// Returns the generations encoded in the A records of a response, or {} if malformed.
std::vector<uint64_t> GenerationsIn(const uint8_t* r, size_t len) {
  std::vector<uint64_t> out;
  if (len < 12) return out;
  size_t pos = 12;
  while (pos < len && r[pos] != 0) pos += 1 + r[pos];
  pos += 5;
  const int an = Get16(r + 6);
  for (int i = 0; i < an && pos + 12 <= len; ++i) {
    while (pos < len && r[pos] != 0 && (r[pos] & 0xC0) != 0xC0) pos += 1 + r[pos];
    pos += (pos < len && (r[pos] & 0xC0) == 0xC0) ? 2 : 1;
    const uint16_t type = Get16(r + pos), rdlen = Get16(r + pos + 8);
    if (type == 1 && rdlen == 4) out.push_back(uint64_t{r[pos + 12]} << 8 | r[pos + 13]);
    pos += 10 + rdlen;
  }
  return out;
}

TEST(PublishConcurrency, ReadersSeeOneWholeSnapshotAcrossAThousandGenerations) {
  const std::string instance = absl::StrCat("sxtest-pub-", getpid());
  auto cfg =
      control::ParseConfig("zones:\n  - {origin: example.test., file: x}\n", "t.yaml", "/tmp");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  auto publisher = control::Publisher::Create(instance);
  ASSERT_TRUE(publisher.ok()) << publisher.status();
  auto build = [&](uint64_t gen) -> absl::StatusOr<std::vector<uint8_t>> {
    auto zone = control::LoadZoneText("example.test.", ZoneFor(gen), "gen.zone", "/tmp");
    if (!zone.ok()) return zone.status();
    return control::BuildSnapshot(*cfg, {*zone}, gen);
  };
  ASSERT_TRUE((*publisher)->Publish(build).ok());

  dataplane::SnapshotFollower follower(instance, (*publisher)->block());
  ASSERT_TRUE(follower.LoadInitial(false, nullptr).ok());

  const auto q_www = testing::MakeQuery("www.example.test", 1, {.edns_size = 1232});
  const auto q_alias = testing::MakeQuery("alias.example.test", 1);
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> answers{0}, mixed{0}, wrong_gen{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      const int id = follower.qsbr().Register();
      follower.qsbr().Online(id);
      std::vector<uint8_t> out(65535);
      while (!stop.load(std::memory_order_relaxed)) {
        for (int burst = 0; burst < 32; ++burst) {
          const dataplane::LoadedSnapshot* s = follower.current();
          const uint64_t gen = s->reader->generation() & 0xffff;
          const auto& q = (burst & 1) ? q_alias : q_www;
          dataplane::ClientInfo client;
          size_t n = s->engine.Answer(q.data(), q.size(), client, out.data(), out.size(), nullptr);
          auto gens = GenerationsIn(out.data(), n);
          if (gens.size() != 3) mixed.fetch_add(1);
          for (uint64_t g : gens) {
            if (g != gen) wrong_gen.fetch_add(1);
          }
          answers.fetch_add(1, std::memory_order_relaxed);
        }
        follower.qsbr().Quiescent(id);
      }
      follower.qsbr().Offline(id);
      follower.qsbr().Unregister(id);
    });
  }

  for (int i = 0; i < 1000; ++i) {
    auto gen = (*publisher)->Publish(build);
    ASSERT_TRUE(gen.ok()) << gen.status();
    ASSERT_TRUE(follower.PollOnce()) << "generation " << *gen << " was not picked up";
    ASSERT_EQ(follower.generation(), *gen);
  }
  stop = true;
  for (auto& t : readers) t.join();

  EXPECT_EQ(mixed.load(), 0u);
  EXPECT_EQ(wrong_gen.load(), 0u);
  EXPECT_GT(answers.load(), 1000u);
  EXPECT_EQ(follower.generation(), 1001u);
  // Control keeps only the active snapshot and its predecessor on disk.
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator("/dev/shm")) {
    if (e.path().filename().string().rfind(instance + ".snap.", 0) == 0) ++files;
  }
  EXPECT_EQ(files, 2);
  for (const auto& e : std::filesystem::directory_iterator("/dev/shm")) {
    if (e.path().filename().string().rfind(instance + ".", 0) == 0)
      std::filesystem::remove(e.path());
  }
}

}  // namespace
}  // namespace sextant
