// The name table (maps/name_table.h): NameTableFind finds every inserted name wherever linear
// probing put it, comparing the name its bucket carries, and NameTableGuess, the burst prefetch's
// hint, names the same node for a name past its home bucket, stops at an empty bucket, and looks no
// further than its limit. NameHash reads only the name, depends on each of its bytes, and spreads
// names as an ideal hash would.
#include "maps/name_table.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "maps/snapshot_format.h"

namespace sextant::maps {
namespace {

const uint8_t* Bytes(const std::string& s) { return reinterpret_cast<const uint8_t*>(s.data()); }

// A table of `count` buckets (a power of two) holding `names` as nodes 0, 1, ...
struct Table {
  std::vector<Bucket> buckets;
  std::vector<Node> nodes;
  std::string names;

  Table(uint32_t count, const std::vector<std::string>& names_in) : buckets(count, kEmptyBucket) {
    for (const std::string& n : names_in) {
      Node node{};
      node.name_offset = static_cast<uint32_t>(names.size());
      node.name_length = static_cast<uint8_t>(n.size());
      names += n;
      const auto index = static_cast<uint32_t>(nodes.size());
      nodes.push_back(node);
      NameTableInsert(buckets.data(), mask(), Bytes(n), n.size(), index, node.name_offset);
    }
  }
  uint32_t mask() const { return static_cast<uint32_t>(buckets.size() - 1); }
  uint32_t Find(const std::string& n) const {
    return NameTableFind(buckets.data(), mask(), Bytes(names), Bytes(n), n.size());
  }
  // The guessed bucket's node (kNone: no guess); the bucket carries that node's name.
  uint32_t Guess(const std::string& n) const {
    const Bucket* b = NameTableGuess(buckets.data(), mask(), NameHash(Bytes(n), n.size()));
    if (b == nullptr) return kNone;
    EXPECT_EQ(b->name_offset, nodes[b->node].name_offset);
    EXPECT_EQ(b->name_length, nodes[b->node].name_length);
    return b->node;
  }
  uint32_t Home(const std::string& n) const {
    return static_cast<uint32_t>(NameHash(Bytes(n), n.size())) & mask();
  }
};

// Wire names "\x04hNNN\0" (lowered, as the table keeps them).
std::vector<std::string> HostNames(int count) {
  std::vector<std::string> out;
  for (int i = 0; i < count; ++i) {
    const std::string label = absl::StrCat("h", i);
    std::string wire(1, static_cast<char>(label.size()));
    wire.append(label);
    wire.push_back('\0');
    out.push_back(wire);
  }
  return out;
}

TEST(NameTable, FindNamesEveryNodeAndGuessThoseNearHome) {
  const std::vector<std::string> names = HostNames(2000);
  const Table t(static_cast<uint32_t>(NameTableBuckets(names.size())), names);
  int past_home = 0;
  int out_of_reach = 0;
  for (uint32_t i = 0; i < names.size(); ++i) {
    EXPECT_EQ(t.Find(names[i]), i) << i;
    const uint32_t home = t.Home(names[i]);
    uint32_t displacement = 0;
    while (t.buckets[(home + displacement) & t.mask()].node != i) ++displacement;
    if (displacement > 0) ++past_home;
    if (displacement >= kNameTableGuessProbes) ++out_of_reach;
    EXPECT_EQ(t.Guess(names[i]), displacement < kNameTableGuessProbes ? i : kNone) << i;
  }
  // What the guess's probe is for: at this load a good share of the names are past their home
  // bucket, and nearly all of those within the guess's reach.
  EXPECT_GT(past_home, static_cast<int>(names.size()) / 10);
  EXPECT_LT(out_of_reach, static_cast<int>(names.size()) / 50);
  std::printf("%d of %zu names past their home bucket, %d past the guess's reach\n", past_home,
              names.size(), out_of_reach);
}

TEST(NameTable, AnAbsentNameIsNeitherFoundNorGuessed) {
  const Table t(4096, HostNames(1000));
  for (const std::string& n : {std::string("\x07missing\0", 9), std::string("\0", 1)}) {
    EXPECT_EQ(t.Find(n), kNone);
    EXPECT_EQ(t.Guess(n), kNone);
  }
}

// The lookup compares the name the bucket carries (the nodes are not read): a bucket whose name
// is changed no longer finds its node by the old name, and the other node is still found by its
// own.
TEST(NameTable, FindComparesTheBucketsName) {
  const std::vector<std::string> names = HostNames(100);
  Table t(256, names);
  ASSERT_EQ(t.Find(names[7]), 7u);
  ASSERT_EQ(t.Find(names[8]), 8u);
  for (Bucket& b : t.buckets) {
    if (b.node == 7) b.name_offset = t.nodes[8].name_offset;  // names[7] and [8]: same length
  }
  EXPECT_EQ(t.Find(names[7]), kNone);
  EXPECT_EQ(t.Find(names[8]), 8u);
}

TEST(NameTable, GuessLooksNoFurtherThanItsLimit) {
  // Sixteen names of one home bucket in a 32-bucket table: the lookup finds each of them, the
  // guess only those within kNameTableGuessProbes buckets of home.
  const std::vector<std::string> all = HostNames(5000);
  std::vector<std::string> same_home;
  for (const std::string& n : all) {
    if ((static_cast<uint32_t>(NameHash(Bytes(n), n.size())) & 31u) == 3u) same_home.push_back(n);
    if (same_home.size() == 16) break;
  }
  ASSERT_EQ(same_home.size(), 16u);
  const Table t(32, same_home);
  for (uint32_t i = 0; i < same_home.size(); ++i) {
    EXPECT_EQ(t.Find(same_home[i]), i);
    EXPECT_EQ(t.buckets[3 + i].node, i);  // inserted in order from the home bucket on
    EXPECT_EQ(t.Guess(same_home[i]), i < kNameTableGuessProbes ? i : kNone) << i;
  }
}

TEST(NameHash, ReadsOnlyTheNameAndDependsOnEveryByte) {
  // Each length 1..255 in a heap block of exactly that size (ASan, as CI runs it, catches a read
  // past the name), and at two addresses: the same value. Changing any one byte changes it.
  for (size_t len = 1; len <= 255; ++len) {
    std::vector<uint8_t> name(len);
    for (size_t i = 0; i < len; ++i) name[i] = static_cast<uint8_t>('a' + (i * 7 + len) % 26);
    const auto exact = std::make_unique<uint8_t[]>(len);
    std::memcpy(exact.get(), name.data(), len);
    const uint64_t h = NameHash(exact.get(), len);
    EXPECT_EQ(h, NameHash(name.data(), len)) << len;
    for (size_t i = 0; i < len; ++i) {
      exact[i] ^= 0x20;
      EXPECT_NE(NameHash(exact.get(), len), h) << len << " " << i;
      exact[i] ^= 0x20;
    }
  }
  // No name at all (len 0) reads nothing (from a null pointer, a read would fault).
  EXPECT_EQ(NameHash(nullptr, 0), NameHash(nullptr, 0));
}

// The hash is part of the snapshot format (the buckets are where it says): these values pin it,
// one length for each way it reads a name. A change here needs maps::kAbiVersion bumped.
TEST(NameHash, IsPinned) {
  const std::vector<std::pair<size_t, uint64_t>> pinned = {
      {1, 0x7772ceee40a65c95u},  {2, 0xfa7c86c75923dd7fu},  {3, 0xe896716ca1f66708u},
      {4, 0x5ac1ece8f319d38fu},  {7, 0xea7b6fba0e1e5cafu},  {8, 0x9c585bdf30d7f1fcu},
      {9, 0xa33d3c359906749au},  {15, 0xd1e2038d31d64f27u}, {16, 0x552435db62874374u},
      {17, 0x1918ce85430d5fcbu}, {19, 0x21aeb3701f57e505u}, {24, 0xcd42c9220319d1d8u},
      {31, 0x6494afa3350af96au}, {32, 0x324621d759a6591cu}, {33, 0x07b3690e13a4ab3bu},
      {48, 0x084e8ccb5366d44du}, {49, 0xe871b31fcc66b290u}, {64, 0x7516a4db0e22988bu},
      {255, 0xb9628d3bd86d6349u}};
  for (const auto& [len, want] : pinned) {
    std::vector<uint8_t> name(len);
    for (size_t i = 0; i < len; ++i) name[i] = static_cast<uint8_t>((i * 37 + 11) & 0x7f);
    EXPECT_EQ(NameHash(name.data(), len), want) << len;
  }
}

TEST(NameHash, SpreadsHostNamesOverTheBucketsAndTheUpperHalf) {
  // 100,000 names into 262,144 buckets: about as many distinct home buckets as an ideal hash
  // gives (n * (1 - e^(-load)) = 82,700), and distinct upper halves for nearly all.
  const std::vector<std::string> names = HostNames(100000);
  std::vector<uint8_t> used(262144);
  std::vector<uint32_t> upper;
  for (const std::string& n : names) {
    const uint64_t h = NameHash(Bytes(n), n.size());
    used[h & (used.size() - 1)] = 1;
    upper.push_back(static_cast<uint32_t>(h >> 32));
  }
  int homes = 0;
  for (uint8_t u : used) homes += u;
  EXPECT_GT(homes, 81000);
  std::sort(upper.begin(), upper.end());
  const auto distinct = std::unique(upper.begin(), upper.end()) - upper.begin();
  EXPECT_GT(distinct, 99990);
}

}  // namespace
}  // namespace sextant::maps
