// libFuzzer target for the snapshot reader and validator (maps/snapshot_reader.h): the dataplane
// maps files it did not write, so nothing SnapshotReader accepts may crash the engine that
// answers from it. Any bytes in as a snapshot; the header's size and checksum are set to match
// the input first (otherwise nearly every mutation would stop at the checksum, the first check).
// When the reader accepts the blob, an Engine is built on it (the policy plan is derived then)
// and answers a spread of queries over UDP and TCP, with and without ECS, with health words of
// which some are down.
//
// Invariants: ASan/UBSan stay silent (no read outside the blob, however its offsets lie); a
// refused blob says why; an answer fits its buffer.
//
// SEXTANT_FUZZ_WRITE_SEEDS=DIR writes the seed corpus (snapshots compiled by the real control
// plane from small zones, record-set policies and a geo map over the MaxMind test database)
// into DIR and exits: tests/fuzz/snapshot_corpus/ was made so.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "dataplane/engine/engine.h"
#include "maps/control_block.h"
#include "maps/snapshot_checksum.h"
#include "maps/snapshot_format.h"
#include "maps/snapshot_reader.h"
#include "tests/fuzz/fuzz_support.h"
#include "tests/support/test_snapshot.h"

namespace {

using sextant::fuzz::Require;

using sextant::dataplane::AnswerInfo;
using sextant::dataplane::ClientInfo;
using sextant::dataplane::Engine;
using sextant::maps::SnapshotHeader;
using sextant::testing::QueryOptions;

constexpr char kZone[] = R"($ORIGIN snap.test.
$TTL 300
@      3600 IN SOA ns1 hostmaster 1 7200 3600 1209600 300
@      IN NS    ns1
@      IN MX    10 mail
ns1    IN A     198.18.0.1
mail   IN A     198.18.1.25
www    IN A     198.18.1.1
www    IN AAAA  2001:db8:1::1
alias  IN CNAME www
*.wild IN A     198.18.2.1
sub    IN NS    ns.sub
ns.sub IN A     198.18.6.1
)";

constexpr char kPolicies[] = R"(targets:
  t1: {initial: up}
  t2: {initial: up}
  t3: {initial: up}
datacenters:
  dc-ap: {latitude: 1.35, longitude: 103.82}
  dc-eu: {latitude: 51.51, longitude: -0.13}
geo_maps:
  world: {database: )" SEXTANT_MAXMIND_TESTDATA R"(/GeoIP2-City-Test.mmdb}
resources:
  mv: {kind: multivalue, count: 2, members: [{address: 198.18.30.1, target: t1}, {address: 198.18.30.2, target: t2}, {address: 198.18.30.3, target: t3}]}
  fo: {kind: failover, all_down: servfail, members: [{address: 198.18.31.1, target: t1}, {address: 198.18.31.2, target: t2}]}
  geo: {kind: geo, map: world, datacenters: {dc-ap: {members: [{address: 198.18.32.1, target: t1}]}, dc-eu: {members: [198.18.32.2]}}}
records:
  - {name: mv.snap.test., type: A, resource: mv}
  - {name: fo.snap.test., type: A, resource: fo}
  - {name: geo.snap.test., type: A, resource: geo}
)";

std::atomic<uint32_t>* HealthWords() {
  static std::atomic<uint32_t> words[sextant::maps::kMaxHealthWords];
  for (uint32_t i = 0; i < sextant::maps::kMaxHealthWords; ++i) {
    words[i].store(i % 3 == 1 ? 0 : sextant::maps::kHealthUp, std::memory_order_relaxed);
  }
  return words;
}

struct Query {
  std::vector<uint8_t> wire;
  ClientInfo client;
};

std::vector<Query> Queries() {
  std::vector<Query> q;
  const auto add = [&q](const std::string& name, uint16_t type, const QueryOptions& o, bool tcp) {
    Query x{sextant::testing::MakeQuery(name, type, o), {}};
    x.client.tcp = tcp;
    q.push_back(std::move(x));
  };
  QueryOptions edns;
  edns.edns_size = 1232;
  QueryOptions ecs = edns;
  // ECS (RFC 7871): IPv4, source /24, scope 0, 81.2.69.0 (London in the MaxMind test data).
  ecs.options = {{8, std::string("\x00\x01\x18\x00\x51\x02\x45", 7)}};
  for (const char* name :
       {"www.snap.test", "snap.test", "x.wild.snap.test", "alias.snap.test", "a.sub.snap.test",
        "nothere.snap.test", "mv.snap.test", "fo.snap.test", "geo.snap.test", "other.test"}) {
    add(name, 1, {}, false);
    add(name, 28, edns, true);
  }
  add("geo.snap.test", 1, ecs, false);
  add("snap.test", 255, edns, false);
  add("snap.test", 6, ecs, true);
  return q;
}

void Answer(const Engine& engine) {
  static const std::vector<Query> queries = Queries();
  static std::vector<uint8_t> out(65535);
  for (const Query& q : queries) {
    AnswerInfo info;
    const size_t cap = q.client.tcp ? out.size() : 1232;
    const size_t n = engine.Answer(q.wire.data(), q.wire.size(), q.client, out.data(), cap, &info);
    Require(n <= cap);
  }
}

absl::StatusOr<std::unique_ptr<sextant::maps::SnapshotReader>> Seed(const std::string& extra_yaml) {
  return sextant::testing::BuildTestSnapshot({{"snap.test.", kZone}}, "  edns_udp_size: 1232\n", 1,
                                             extra_yaml);
}

void WriteSeeds(const char* dir) {
  const std::pair<const char*, std::string> seeds[] = {{"zone_only", ""}, {"policies", kPolicies}};
  for (const auto& [name, yaml] : seeds) {
    auto snap = Seed(yaml);
    if (!snap.ok()) {
      std::fprintf(stderr, "%s: %s\n", name, std::string(snap.status().message()).c_str());
      std::exit(1);
    }
    sextant::fuzz::WriteSeed(dir, name, (*snap)->base(), (*snap)->size());
  }
  std::exit(0);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  if (const char* dir = std::getenv("SEXTANT_FUZZ_WRITE_SEEDS")) WriteSeeds(dir);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> blob(data, data + size);
  if (blob.size() >= sizeof(SnapshotHeader)) {
    SnapshotHeader h;
    std::memcpy(&h, blob.data(), sizeof(h));
    // Size, checksum and ABI version made to match, so that mutations reach the sections (and
    // the seeds outlive an ABI bump that leaves the layout as it was).
    h.abi_version = sextant::maps::kAbiVersion;
    h.size = blob.size();
    h.checksum = sextant::maps::SnapshotChecksum(blob.data() + sizeof(h), blob.size() - sizeof(h));
    std::memcpy(blob.data(), &h, sizeof(h));
  }
  auto reader = sextant::maps::SnapshotReader::FromBytes(std::move(blob));
  if (!reader.ok()) {
    Require(!reader.status().message().empty());
    return 0;
  }
  Engine engine(**reader);
  engine.set_health(HealthWords());
  Answer(engine);
  return 0;
}
