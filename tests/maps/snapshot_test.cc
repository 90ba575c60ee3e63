// SnapshotWriter and SnapshotReader: what the writer seals the reader opens unchanged, and a
// blob that is damaged in any way the header can tell (magic, ABI version, size, checksum,
// section bounds, record indices) is refused with a message that says which.
#include <fcntl.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/types/span.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "maps/snapshot_checksum.h"
#include "maps/snapshot_format.h"
#include "maps/snapshot_reader.h"
#include "maps/snapshot_writer.h"
#include "tests/support/shm_file.h"
#include "tests/support/test_snapshot.h"

namespace sextant::maps {
namespace {

using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::Not;

using Blob = std::vector<uint8_t>;

constexpr size_t kDirectoryEnd = sizeof(SnapshotHeader) + kSectionCount * sizeof(SectionRef);

// A small hand-made snapshot: settings with an NSID, the strings they point into, and two byte
// sections with recognisable contents. No zones: the reader accepts an empty snapshot.
struct Parts {
  Settings settings{};
  std::vector<uint8_t> strings;
  std::vector<uint8_t> rdata;
  std::vector<uint8_t> names;
};

Parts MakeParts() {
  Parts p;
  const std::string nsid = "ns1-test";
  p.strings.assign(nsid.begin(), nsid.end());
  p.settings.edns_udp_size = 4096;
  p.settings.nsid = StringRef{0, static_cast<uint32_t>(nsid.size())};
  p.settings.chaos_version = StringRef{kNone, 0};
  p.settings.chaos_identity = StringRef{kNone, 0};
  for (int i = 0; i < 13; ++i) p.rdata.push_back(static_cast<uint8_t>(i * 7));  // odd length
  p.names = {3, 'w', 'w', 'w', 0};
  return p;
}

Blob Write(const Parts& p, uint64_t generation) {
  SnapshotWriter w;
  w.SetSection(kSettings, &p.settings, 1, sizeof(p.settings));
  w.SetSection(kStrings, p.strings);
  w.SetSection(kRdata, p.rdata);
  w.SetSection(kNames, p.names);
  auto blob = w.Build(generation);
  EXPECT_TRUE(blob.ok()) << blob.status();
  return blob.ok() ? *blob : Blob{};
}

// A full snapshot from the real builder, so that every section and index is populated.
Blob RealBlob() {
  auto snap = sextant::testing::BuildTestSnapshot({{"example.test.", R"($ORIGIN example.test.
$TTL 300
@    IN SOA ns1 hostmaster 1 7200 3600 1209600 300
@    IN NS  ns1
@    IN MX  10 mail
ns1  IN A   192.0.2.53
mail IN A   192.0.2.25
www  IN A   192.0.2.1
*.wild IN TXT "wildcard"
)"}},
                                                  "  nsid: ns1-test\n", 7);
  EXPECT_TRUE(snap.ok()) << snap.status();
  if (!snap.ok()) return {};
  return Blob((*snap)->base(), (*snap)->base() + (*snap)->size());
}

SnapshotHeader HeaderOf(const Blob& b) {
  SnapshotHeader h;
  std::memcpy(&h, b.data(), sizeof(h));
  return h;
}
void PutHeader(Blob& b, const SnapshotHeader& h) { std::memcpy(b.data(), &h, sizeof(h)); }
SectionRef DirOf(const Blob& b, SectionId id) {
  SectionRef r;
  std::memcpy(&r, b.data() + sizeof(SnapshotHeader) + id * sizeof(SectionRef), sizeof(r));
  return r;
}
void PutDir(Blob& b, SectionId id, const SectionRef& r) {
  std::memcpy(b.data() + sizeof(SnapshotHeader) + id * sizeof(SectionRef), &r, sizeof(r));
}
// Seals a blob edited after the fact, so that only the edit itself is wrong.
void Reseal(Blob& b) {
  SnapshotHeader h = HeaderOf(b);
  h.checksum = SnapshotChecksum(b.data() + sizeof(SnapshotHeader), b.size() - sizeof(h));
  PutHeader(b, h);
}
// Rewrites element `index` of a record section in place.
template <typename T>
void EditRecord(Blob& b, SectionId id, size_t index, const std::function<void(T&)>& edit) {
  const SectionRef r = DirOf(b, id);
  ASSERT_LT(index, r.count);
  T rec;
  std::memcpy(&rec, b.data() + r.offset + index * sizeof(T), sizeof(T));
  edit(rec);
  std::memcpy(b.data() + r.offset + index * sizeof(T), &rec, sizeof(T));
}

// One edit of a good blob, resealed, and the words the reader's refusal must contain.
struct Damage {
  std::string what;
  std::function<void(Blob&)> damage;
  std::string message;
};

void ExpectRefusedResealed(const Blob& good, const std::vector<Damage>& cases) {
  for (const Damage& c : cases) {
    SCOPED_TRACE(c.what);
    Blob b = good;
    c.damage(b);
    Reseal(b);
    auto r = SnapshotReader::FromBytes(b);
    ASSERT_FALSE(r.ok());
    EXPECT_THAT(std::string(r.status().message()), HasSubstr(c.message));
  }
}

// Edits of record 0 of section `id`, each expected to be refused with `message` in the reason.
template <typename T>
using RecordEdits = std::vector<std::pair<std::string, std::function<void(T&)>>>;
template <typename T>
void ExpectRecordEditsRefused(const Blob& good, SectionId id, const std::string& message,
                              const RecordEdits<T>& edits) {
  std::vector<Damage> cases;
  for (const auto& [what, edit] : edits) {
    cases.push_back({what, [id, edit](Blob& b) { EditRecord<T>(b, id, 0, edit); }, message});
  }
  ExpectRefusedResealed(good, cases);
}

std::vector<uint8_t> Bytes(absl::Span<const uint8_t> s) { return {s.begin(), s.end()}; }

TEST(Snapshot, RoundTripsThroughWriterAndReader) {
  const Parts p = MakeParts();
  Blob blob = Write(p, 42);
  ASSERT_FALSE(blob.empty());
  auto r = SnapshotReader::FromBytes(blob);
  ASSERT_TRUE(r.ok()) << r.status();
  const SnapshotReader& s = **r;

  EXPECT_EQ(s.generation(), 42u);
  EXPECT_EQ(s.size(), blob.size());
  EXPECT_EQ(s.header().magic, kSnapshotMagic);
  EXPECT_EQ(s.header().abi_version, kAbiVersion);
  EXPECT_EQ(s.header().header_size, kDirectoryEnd);
  EXPECT_EQ(s.header().size, blob.size());
  EXPECT_EQ(s.size() % 8, 0u);
  EXPECT_GT(s.header().created_unix_ns, 0u);

  EXPECT_EQ(s.settings().edns_udp_size, 4096);
  EXPECT_EQ(s.settings().nsid.length, 8u);
  EXPECT_EQ(s.settings().chaos_version.offset, kNone);
  EXPECT_THAT(Bytes(s.bytes(kStrings)), ElementsAreArray(p.strings));
  EXPECT_THAT(Bytes(s.bytes(kRdata)), ElementsAreArray(p.rdata));
  EXPECT_THAT(Bytes(s.bytes(kNames)), ElementsAreArray(p.names));
  // Sections never set read as empty.
  EXPECT_TRUE(s.section<Zone>(kZones).empty());
  EXPECT_TRUE(s.section<Node>(kNodes).empty());
  EXPECT_TRUE(s.bytes(static_cast<SectionId>(12)).empty());

  // Every section starts 8-byte aligned, after the directory, inside the blob.
  for (const SectionId id : {kSettings, kStrings, kRdata, kNames}) {
    SCOPED_TRACE(id);
    const SectionRef ref = DirOf(blob, id);
    EXPECT_EQ(ref.offset % 8, 0u);
    EXPECT_GE(ref.offset, kDirectoryEnd);
    EXPECT_LE(ref.offset + uint64_t{ref.count} * ref.elem_size, blob.size());
  }
}

TEST(Snapshot, RoundTripsARealSnapshot) {
  const Blob blob = RealBlob();
  ASSERT_FALSE(blob.empty());
  auto r = SnapshotReader::FromBytes(blob);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)->generation(), 7u);
  EXPECT_EQ((*r)->section<Zone>(kZones).size(), 1u);
  EXPECT_FALSE((*r)->section<Node>(kNodes).empty());
  EXPECT_FALSE((*r)->section<AdditionalRef>(kAdditionals).empty());  // the MX target
  EXPECT_EQ(std::vector<uint8_t>((*r)->base(), (*r)->base() + (*r)->size()), blob);
}

TEST(Snapshot, RefusesDamagedBlobsSayingWhy) {
  struct Case {
    std::string what;
    std::function<void(Blob&)> damage;
    std::string message;
  } cases[] = {
      {"bad magic", [](Blob& b) { b[0] ^= 0xFF; }, "magic"},
      {"wrong ABI version",
       [](Blob& b) {
         SnapshotHeader h = HeaderOf(b);
         h.abi_version = kAbiVersion + 1;
         PutHeader(b, h);
       },
       "ABI version"},
      {"truncated by 8 bytes", [](Blob& b) { b.resize(b.size() - 8); }, "size"},
      {"truncated to the directory", [](Blob& b) { b.resize(kDirectoryEnd); }, "size"},
      {"extended by 8 bytes", [](Blob& b) { b.resize(b.size() + 8, 0); }, "size"},
      {"shorter than a header", [](Blob& b) { b.resize(sizeof(SnapshotHeader) - 1); },
       "shorter than a header"},
      {"empty", [](Blob& b) { b.clear(); }, "shorter than a header"},
      {"flipped byte in the last section", [](Blob& b) { b[b.size() - 9] ^= 0x01; }, "checksum"},
      {"flipped byte in the directory", [](Blob& b) { b[sizeof(SnapshotHeader) + 3] ^= 0x40; },
       "checksum"},
      {"checksum itself changed",
       [](Blob& b) {
         SnapshotHeader h = HeaderOf(b);
         h.checksum ^= 1;
         PutHeader(b, h);
       },
       "checksum"},
      {"section starting past the end",
       [](Blob& b) {
         SectionRef r = DirOf(b, kStrings);
         r.offset = b.size() + 8;
         PutDir(b, kStrings, r);
         Reseal(b);
       },
       "outside"},
      {"section running past the end",
       [](Blob& b) {
         SectionRef r = DirOf(b, kRdata);
         r.count = static_cast<uint32_t>(b.size());
         PutDir(b, kRdata, r);
         Reseal(b);
       },
       "outside"},
      {"section overlapping the directory",
       [](Blob& b) {
         SectionRef r = DirOf(b, kNames);
         r.offset = sizeof(SnapshotHeader);
         PutDir(b, kNames, r);
         Reseal(b);
       },
       "outside"},
      {"misaligned section",
       [](Blob& b) {
         SectionRef r = DirOf(b, kNames);
         r.offset += 1;
         PutDir(b, kNames, r);
         Reseal(b);
       },
       "section 6"},
      {"wrong element size",
       [](Blob& b) {
         SectionRef r = DirOf(b, kNodes);
         r.elem_size = 16;
         r.count *= 2;
         PutDir(b, kNodes, r);
         Reseal(b);
       },
       "element size"},
      {"no settings",
       [](Blob& b) {
         PutDir(b, kSettings, SectionRef{0, 0, 0});
         Reseal(b);
       },
       "settings"},
      {"node index out of range",
       [](Blob& b) {
         EditRecord<Node>(b, kNodes, 0, [](Node& n) { n.zone = 99; });
         Reseal(b);
       },
       "node 0"},
      {"rrset rdata out of range",
       [](Blob& b) {
         EditRecord<RRset>(b, kRRsets, 0, [](RRset& r) { r.rdata_length += 1000; });
         Reseal(b);
       },
       "rrset 0"},
      {"bucket pointing past the nodes",
       [](Blob& b) {
         const SectionRef buckets = DirOf(b, kBuckets);
         for (size_t i = 0; i < buckets.count; ++i) {
           EditRecord<Bucket>(b, kBuckets, i, [](Bucket& k) {
             if (k.node != kNone) k.node = 1000;
           });
         }
         Reseal(b);
       },
       "bucket"},
      {"bucket with a name other than its node's",
       [](Blob& b) {
         const SectionRef buckets = DirOf(b, kBuckets);
         for (size_t i = 0; i < buckets.count; ++i) {
           EditRecord<Bucket>(b, kBuckets, i, [](Bucket& k) {
             if (k.node != kNone) k.name_offset += 1;
           });
         }
         Reseal(b);
       },
       "carry the node's name"},
      {"settings string out of range",
       [](Blob& b) {
         EditRecord<Settings>(b, kSettings, 0, [](Settings& s) { s.nsid.length = 1000; });
         Reseal(b);
       },
       "settings string"},
  };
  const Blob good = RealBlob();
  ASSERT_FALSE(good.empty());
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    Blob b = good;
    c.damage(b);
    auto r = SnapshotReader::FromBytes(b);
    ASSERT_FALSE(r.ok());
    EXPECT_THAT(std::string(r.status().message()), HasSubstr(c.message));
  }
}

TEST(Snapshot, NamesTheHeaderSizeWhenItIsWrong) {
  // A wrong header_size is refused, but the message blames the blob size and contradicts itself
  // ("size mismatch: header says N bytes, the blob has N" with the same N twice).
  Blob b = RealBlob();
  ASSERT_FALSE(b.empty());
  SnapshotHeader h = HeaderOf(b);
  h.header_size = sizeof(SnapshotHeader);
  PutHeader(b, h);
  auto r = SnapshotReader::FromBytes(b);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("header size"));
}

// Policy records hold what the policies mean; the reader refuses any the evaluator could not
// take at its word (a kind, order or all-down rule it does not know, a member kind out of range,
// a nested resource that does not come after its parent).
TEST(Snapshot, RefusesPolicyRecordsOutOfRange) {
  auto snap = sextant::testing::BuildTestSnapshot(
      {{"pol.test.",
        "$ORIGIN pol.test.\n$TTL 300\n@ IN SOA ns hm 1 2 3 4 5\n@ IN NS ns\n"
        "ns IN A 192.0.2.53\n"}},
      "", 3,
      "targets:\n  t1: {initial: up}\n  t2: {initial: up}\n"
      "resources:\n"
      "  top: {kind: failover, members: [{resource: w}, 192.0.2.9]}\n"
      "  w: {kind: weighted, members: [{address: 192.0.2.1, target: t1, weight: 3},\n"
      "      {address: 192.0.2.2, target: t2, weight: 1}]}\n"
      "records:\n  - {name: w.pol.test., type: A, resource: top}\n");
  ASSERT_TRUE(snap.ok()) << snap.status();
  const Blob good((*snap)->base(), (*snap)->base() + (*snap)->size());
  const std::vector<Damage> cases = {
      {"unknown kind",
       [](Blob& b) { EditRecord<Resource>(b, kResources, 0, [](Resource& r) { r.kind = 9; }); },
       "out of range"},
      {"unknown all_down rule",
       [](Blob& b) { EditRecord<Resource>(b, kResources, 0, [](Resource& r) { r.all_down = 7; }); },
       "out of range"},
      {"unknown member kind",
       [](Blob& b) { EditRecord<Member>(b, kMembers, 1, [](Member& m) { m.kind = 3; }); },
       "kind out of range"},
      {"nested resource before its parent",
       [](Blob& b) { EditRecord<Member>(b, kMembers, 0, [](Member& m) { m.ref = 0; }); },
       "not after it"},
  };
  ExpectRefusedResealed(good, cases);
}

// What the engine relies on and the reader must therefore check, found by tests/fuzz/
// snapshot_fuzz.cc: each of these, accepted, made an engine read outside the blob or through a
// null pointer. The records of RealBlob(): nodes sorted by name, the MX at the apex.
size_t NodeNamed(const Blob& b, const std::vector<uint8_t>& wire) {
  const SectionRef nodes = DirOf(b, kNodes), names = DirOf(b, kNames);
  for (size_t i = 0; i < nodes.count; ++i) {
    Node n;
    std::memcpy(&n, b.data() + nodes.offset + i * sizeof(Node), sizeof(n));
    if (n.name_length == wire.size() &&
        std::memcmp(b.data() + names.offset + n.name_offset, wire.data(), wire.size()) == 0) {
      return i;
    }
  }
  ADD_FAILURE() << "no such node";
  return 0;
}

size_t RRsetOfType(const Blob& b, uint16_t type) {
  const SectionRef rrsets = DirOf(b, kRRsets);
  for (size_t i = 0; i < rrsets.count; ++i) {
    RRset r;
    std::memcpy(&r, b.data() + rrsets.offset + i * sizeof(RRset), sizeof(r));
    if (r.type == type) return i;
  }
  ADD_FAILURE() << "no RRset of type " << type;
  return 0;
}

const std::vector<uint8_t> kWww = {3,   'w', 'w', 'w', 7,   'e', 'x', 'a', 'm',
                                   'p', 'l', 'e', 4,   't', 'e', 's', 't', 0};

TEST(Snapshot, RefusesRecordsTheEngineWouldReadPast) {
  const Blob good = RealBlob();
  ASSERT_TRUE(SnapshotReader::FromBytes(good).ok());
  const std::vector<Damage> cases = {
      {"a section offset that wraps around 2^64",
       [](Blob& b) {
         SectionRef r = DirOf(b, kZones);
         r.offset = ~uint64_t{0} - 31;
         PutDir(b, kZones, r);
       },
       "outside"},
      {"an MX whose name runs past its rdata",
       [](Blob& b) {
         const SectionRef rdata = DirOf(b, kRdata);
         EditRecord<RRset>(b, kRRsets, RRsetOfType(b, 15), [&](RRset& r) {
           // rdlen, preference, then the name's first length byte: make it claim 63.
           b[rdata.offset + r.rdata_offset + 4] = 63;
         });
       },
       "lacks the names"},
      {"a name layout the engine does not know",
       [](Blob& b) {
         EditRecord<RRset>(b, kRRsets, RRsetOfType(b, 15), [](RRset& r) { r.rdata_names = 9; });
       },
       "name layout"},
      {"a node flagged as a CNAME without one",
       [](Blob& b) {
         EditRecord<Node>(b, kNodes, NodeNamed(b, kWww), [](Node& n) { n.flags |= kNodeHasCname; });
       },
       "without a CNAME RRset"},
      {"a cut at a node without NS",
       [](Blob& b) {
         const uint32_t www = static_cast<uint32_t>(NodeNamed(b, kWww));
         EditRecord<Node>(b, kNodes, www, [&](Node& n) { n.cut = www; });
       },
       "without an NS RRset"},
      {"a node name longer than its bytes",
       [](Blob& b) {
         EditRecord<Node>(b, kNodes, NodeNamed(b, kWww), [](Node& n) { n.name_length -= 1; });
       },
       "not a wire-format name"},
      {"a node's label count that is not its name's",
       [](Blob& b) {
         EditRecord<Node>(b, kNodes, NodeNamed(b, kWww), [](Node& n) { n.label_count = 9; });
       },
       "label count"},
  };
  ExpectRefusedResealed(good, cases);
}

// The fuzzer's reproducers, checked in beside its seeds, are refused (the fuzz target itself
// replays them at every run, under ASan).
TEST(Snapshot, RefusesTheFuzzersReproducers) {
  for (const char* name :
       {"regression-rdata-name-past-rdata", "regression-cut-without-ns",
        "regression-section-offset-wraps", "regression-cname-flag-without-cname"}) {
    SCOPED_TRACE(name);
    const std::string path = absl::StrCat(SEXTANT_SOURCE_DIR, "/tests/fuzz/snapshot_corpus/", name);
    const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0) << path;
    Blob b(1 << 20);
    const ssize_t n = read(fd, b.data(), b.size());
    close(fd);
    ASSERT_GT(n, static_cast<ssize_t>(sizeof(SnapshotHeader)));
    b.resize(static_cast<size_t>(n));
    // As the fuzz target does: size, checksum and ABI version made to match.
    SnapshotHeader h = HeaderOf(b);
    h.size = b.size();
    h.abi_version = kAbiVersion;
    PutHeader(b, h);
    Reseal(b);
    const auto r = SnapshotReader::FromBytes(b);
    ASSERT_FALSE(r.ok());
    // Refused for what the reproducer holds, not for its header.
    EXPECT_THAT(std::string(r.status().message()), Not(HasSubstr("ABI version")));
  }
}

// ---------------------------------------------------------------------------------------------
// Files (the dataplane maps /dev/shm files)

using ::sextant::testing::ShmFile;

// A small zone's snapshot with `extra` (config sections) added to the config.
Blob BlobWithConfig(const std::string& extra) {
  auto snap = sextant::testing::BuildTestSnapshot(
      {{"example.test.",
        "$ORIGIN example.test.\n$TTL 300\n@ SOA ns1 hm 1 7200 3600 1209600 "
        "300\n@ NS ns1\nns1 A 192.0.2.53\n"}},
      "", 3, extra);
  EXPECT_TRUE(snap.ok()) << snap.status();
  if (!snap.ok()) return {};
  return Blob((*snap)->base(), (*snap)->base() + (*snap)->size());
}

// The dataplane's settings travel in the snapshot: the builder writes the config's dataplane:
// section, and the reader refuses records the dataplane could not use safely (the interface name
// reaches the kernel's network configuration).
Blob DataplaneBlob() {
  return BlobWithConfig(
      "dataplane: {addresses: [198.18.0.2/24, \"2001:db8:18::2\", {address: 198.18.5.2, vlan: 5}],"
      " queues: 2, mtu: 1400, dns_port: 5353, exception_interface: sxtest0}\n");
}

TEST(Snapshot, CarriesTheDataplaneSection) {
  const Blob b = DataplaneBlob();
  auto r = SnapshotReader::FromBytes(b);
  ASSERT_TRUE(r.ok()) << r.status();
  const auto d = (*r)->section<DataplaneSettings>(kDataplane);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].queues, 2);
  EXPECT_EQ(d[0].mtu, 1400);
  EXPECT_EQ(d[0].dns_port, 5353);
  EXPECT_EQ(d[0].exception_path, 1);
  const auto strings = (*r)->bytes(kStrings);
  EXPECT_EQ(
      std::string(reinterpret_cast<const char*>(strings.data()) + d[0].exception_interface.offset,
                  d[0].exception_interface.length),
      "sxtest0");
  const auto a = (*r)->section<DataplaneAddress>(kDataplaneAddresses);
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(a[0].family, 4);
  EXPECT_EQ(a[0].prefix, 24);
  EXPECT_EQ(a[1].family, 6);
  EXPECT_EQ(a[1].prefix, 64);
  EXPECT_EQ(a[2].vlan, 5);
  // Without the section in the config there is none in the snapshot.
  auto plain = SnapshotReader::FromBytes(RealBlob());
  ASSERT_TRUE(plain.ok());
  EXPECT_TRUE((*plain)->section<DataplaneSettings>(kDataplane).empty());
}

TEST(Snapshot, RefusesDataplaneSettingsItCannotUse) {
  std::vector<Damage> cases = {
      {"interface name with a shell character",
       [](Blob& b) {
         EditRecord<DataplaneSettings>(b, kDataplane, 0, [&](DataplaneSettings& d) {
           b[DirOf(b, kStrings).offset + d.exception_interface.offset] = ';';
         });
       },
       "dataplane"},
      {"interface name too long",
       [](Blob& b) {
         EditRecord<DataplaneSettings>(
             b, kDataplane, 0, [](DataplaneSettings& d) { d.exception_interface.length = 11; });
       },
       "dataplane"},
      {"mtu below 576",
       [](Blob& b) {
         EditRecord<DataplaneSettings>(b, kDataplane, 0, [](DataplaneSettings& d) { d.mtu = 500; });
       },
       "dataplane"},
      {"address family 5",
       [](Blob& b) {
         EditRecord<DataplaneAddress>(b, kDataplaneAddresses, 1,
                                      [](DataplaneAddress& a) { a.family = 5; });
       },
       "dataplane"},
      {"IPv4 prefix 33",
       [](Blob& b) {
         EditRecord<DataplaneAddress>(b, kDataplaneAddresses, 0,
                                      [](DataplaneAddress& a) { a.prefix = 33; });
       },
       "dataplane"},
      {"VLAN 4095",
       [](Blob& b) {
         EditRecord<DataplaneAddress>(b, kDataplaneAddresses, 2,
                                      [](DataplaneAddress& a) { a.vlan = 4095; });
       },
       "dataplane"},
  };
  const Blob good = DataplaneBlob();
  ASSERT_FALSE(good.empty());
  ExpectRefusedResealed(good, cases);
}

// Rate limiting's settings (section 20): on by default, so every compiled snapshot has them;
// `enabled: false` leaves the section out.
TEST(Snapshot, CarriesTheRateLimitSection) {
  auto r = SnapshotReader::FromBytes(BlobWithConfig(
      "rate_limit: {responses_per_second: {answers: 50, errors: 0}, slip: 3, ipv6_prefix: 48, "
      "exempt: [192.0.2.0/24, \"2001:db8::1\"], table_size: 1024}\n"));
  ASSERT_TRUE(r.ok()) << r.status();
  const auto s = (*r)->section<RateLimitSettings>(kRateLimit);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].per_second[kRrlAnswer], 50u);
  EXPECT_EQ(s[0].per_second[kRrlNxdomain], 200u);
  EXPECT_EQ(s[0].per_second[kRrlError], 0u);
  EXPECT_EQ(s[0].slip, 3);
  EXPECT_EQ(s[0].ipv4_prefix, 24);
  EXPECT_EQ(s[0].ipv6_prefix, 48);
  EXPECT_EQ(s[0].table_size, 1024u);
  ASSERT_EQ(s[0].exempt_count, 2u);
  EXPECT_EQ(s[0].exempt[0].length, 24);
  EXPECT_EQ(s[0].exempt[1].family, 6);
  EXPECT_EQ(s[0].exempt[1].length, 128);
  auto defaults = SnapshotReader::FromBytes(RealBlob());
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ((*defaults)->section<RateLimitSettings>(kRateLimit).size(), 1u);
  auto off = SnapshotReader::FromBytes(BlobWithConfig("rate_limit: {enabled: false}\n"));
  ASSERT_TRUE(off.ok());
  EXPECT_TRUE((*off)->section<RateLimitSettings>(kRateLimit).empty());
}

TEST(Snapshot, RefusesRateLimitSettingsItCannotUse) {
  ExpectRecordEditsRefused<RateLimitSettings>(
      RealBlob(), kRateLimit, "rate limit",
      {
          {"window 0", [](RateLimitSettings& r) { r.window = 0; }},
          {"window 61", [](RateLimitSettings& r) { r.window = 61; }},
          {"table of 1000", [](RateLimitSettings& r) { r.table_size = 1000; }},
          {"table of 32", [](RateLimitSettings& r) { r.table_size = 32; }},
          {"table too large", [](RateLimitSettings& r) { r.table_size = 1u << 25; }},
          {"slip 11", [](RateLimitSettings& r) { r.slip = 11; }},
          {"ipv4 /0", [](RateLimitSettings& r) { r.ipv4_prefix = 0; }},
          {"ipv6 /65", [](RateLimitSettings& r) { r.ipv6_prefix = 65; }},
          {"33 exempt", [](RateLimitSettings& r) { r.exempt_count = 33; }},
          {"rate too high", [](RateLimitSettings& r) { r.per_second[2] = 20000000; }},
          {"exempt family 5",
           [](RateLimitSettings& r) {
             r.exempt_count = 1;
             r.exempt[0].family = 5;
           }},
          {"exempt /33",
           [](RateLimitSettings& r) {
             r.exempt_count = 1;
             r.exempt[0] = {4, 33, {}, {}};
           }},
      });
}

// dnstap's settings (section 18) travel the same way; the path reaches open(2)/connect(2).
Blob DnstapBlob() {
  return BlobWithConfig(
      "dnstap: {socket: /run/sextant/tap.sock, sample: 100, identity: ns1, ring: 64}\n");
}

TEST(Snapshot, CarriesTheDnstapSection) {
  const Blob b = DnstapBlob();
  auto r = SnapshotReader::FromBytes(b);
  ASSERT_TRUE(r.ok()) << r.status();
  const auto d = (*r)->section<DnstapSettings>(kDnstap);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].sample, 100u);
  EXPECT_EQ(d[0].ring_slots, 64u);
  EXPECT_EQ(d[0].output, kDnstapToSocket);
  const auto strings = (*r)->bytes(kStrings);
  auto str = [&](const StringRef& ref) {
    return std::string(reinterpret_cast<const char*>(strings.data()) + ref.offset, ref.length);
  };
  EXPECT_EQ(str(d[0].path), "/run/sextant/tap.sock");
  EXPECT_EQ(str(d[0].identity), "ns1");
  EXPECT_EQ(d[0].version.length, 0u);
  auto plain = SnapshotReader::FromBytes(RealBlob());
  ASSERT_TRUE(plain.ok());
  EXPECT_TRUE((*plain)->section<DnstapSettings>(kDnstap).empty());
}

TEST(Snapshot, RefusesDnstapSettingsItCannotUse) {
  const Blob good = DnstapBlob();
  ASSERT_FALSE(good.empty());
  ExpectRecordEditsRefused<DnstapSettings>(
      good, kDnstap, "dnstap",
      {
          {"sample 0", [](DnstapSettings& d) { d.sample = 0; }},
          {"ring of 3", [](DnstapSettings& d) { d.ring_slots = 3; }},
          {"ring too large", [](DnstapSettings& d) { d.ring_slots = kMaxDnstapRingSlots * 2; }},
          {"output 3", [](DnstapSettings& d) { d.output = 3; }},
          {"empty path", [](DnstapSettings& d) { d.path.length = 0; }},
          {"path past the strings", [](DnstapSettings& d) { d.path.offset = 0xfffff; }},
      });
}

// The TCP limits (section 19) travel the same way; the dataplane sizes a table by them.
Blob TcpBlob() {
  return BlobWithConfig(
      "tcp: {max_connections: 300, max_connections_per_client: 3, idle_timeout: 4s,\n"
      "      query_timeout: 1500ms, max_queries_per_connection: 100}\n");
}

TEST(Snapshot, CarriesTheTcpSection) {
  auto r = SnapshotReader::FromBytes(TcpBlob());
  ASSERT_TRUE(r.ok()) << r.status();
  const auto t = (*r)->section<TcpSettings>(kTcp);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].max_connections, 300u);
  EXPECT_EQ(t[0].max_per_client, 3u);
  EXPECT_EQ(t[0].idle_timeout_ms, 4000u);
  EXPECT_EQ(t[0].query_timeout_ms, 1500u);
  EXPECT_EQ(t[0].max_queries, 100u);
  auto plain = SnapshotReader::FromBytes(RealBlob());
  ASSERT_TRUE(plain.ok());
  EXPECT_TRUE((*plain)->section<TcpSettings>(kTcp).empty());
}

TEST(Snapshot, RefusesTcpSettingsItCannotUse) {
  const Blob good = TcpBlob();
  ASSERT_FALSE(good.empty());
  ExpectRecordEditsRefused<TcpSettings>(
      good, kTcp, "tcp",
      {
          {"no connections", [](TcpSettings& t) { t.max_connections = 0; }},
          {"too many connections",
           [](TcpSettings& t) { t.max_connections = kMaxTcpConnections + 1; }},
          {"idle timeout 0", [](TcpSettings& t) { t.idle_timeout_ms = 0; }},
          {"query timeout too long",
           [](TcpSettings& t) { t.query_timeout_ms = kMaxTcpTimeoutMs + 1; }},
      });
}

// DNS Cookies' settings (section 21): always written, flags only.
TEST(Snapshot, CarriesTheCookiesSection) {
  auto plain = SnapshotReader::FromBytes(RealBlob());
  ASSERT_TRUE(plain.ok()) << plain.status();
  const auto d = (*plain)->section<CookieSettings>(kCookies);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].enabled, 1);
  EXPECT_EQ(d[0].require, 0);
  auto req = SnapshotReader::FromBytes(BlobWithConfig("cookies: {require: true}\n"));
  ASSERT_TRUE(req.ok()) << req.status();
  EXPECT_EQ((*req)->section<CookieSettings>(kCookies)[0].require, 1);
}

TEST(Snapshot, RefusesCookieSettingsItCannotUse) {
  ExpectRecordEditsRefused<CookieSettings>(
      RealBlob(), kCookies, "cookies",
      {
          {"enabled 2", [](CookieSettings& d) { d.enabled = 2; }},
          {"require 7", [](CookieSettings& d) { d.require = 7; }},
      });
}

TEST(Snapshot, OpensAValidFile) {
  const Blob blob = RealBlob();
  ASSERT_FALSE(blob.empty());
  const ShmFile f("valid");
  ASSERT_TRUE(f.Write(blob));
  auto r = SnapshotReader::OpenFile(f.path());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)->generation(), 7u);
  ASSERT_EQ((*r)->size(), blob.size());
  EXPECT_EQ(std::memcmp((*r)->base(), blob.data(), blob.size()), 0);
  EXPECT_EQ((*r)->settings().nsid.length, 8u);
}

TEST(Snapshot, RefusesBadFilesNamingThePath) {
  Blob corrupt = RealBlob();
  ASSERT_FALSE(corrupt.empty());
  corrupt[corrupt.size() - 9] ^= 1;
  struct Case {
    std::string what;
    std::string tag;
    std::optional<Blob> content;  // nullopt: no file
    absl::StatusCode code;
    std::string message;
  } cases[] = {
      {"missing", "missing", std::nullopt, absl::StatusCode::kNotFound, "No such file"},
      {"empty", "empty", Blob{}, absl::StatusCode::kDataLoss, "shorter than a header"},
      {"short", "short", Blob(10, 0), absl::StatusCode::kDataLoss, "shorter than a header"},
      {"corrupt", "corrupt", corrupt, absl::StatusCode::kDataLoss, "checksum"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    const ShmFile f(c.tag);
    if (c.content) {
      ASSERT_TRUE(f.Write(*c.content));
    }
    auto r = SnapshotReader::OpenFile(f.path());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), c.code);
    EXPECT_THAT(std::string(r.status().message()), HasSubstr(f.path()));
    EXPECT_THAT(std::string(r.status().message()), HasSubstr(c.message));
  }
}

}  // namespace
}  // namespace sextant::maps
