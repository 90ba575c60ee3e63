// Engine::Answer throughput per query kind, on a snapshot built once from a generated zone of
// about 1,000 names (hosts with A/AAAA, CNAMEs, a wildcard, delegations with glue, MX, TXT:
// perf/engine_bench_zone.h) and query pools per kind (perf/engine_bench_queries.h).
//
// Record-set policy cases (pol_*) answer A queries from a policy-driven RRset (`records:` entry
// pointing at a resource whose members all have a target, health words in a local array given
// to Engine::set_health). Each has a base_* twin: a plain zone RRset at an owner name of the
// same length, with as many A records as the policy answers, so pol_X - base_X is what the
// policy costs over a static answer of the same size.
//
// Every case cycles through a pre-built pool of distinct query buffers (up to 1,000) so that the
// hash table, the rdata and the names are touched as real traffic touches them, not one hot
// line. Queries are built and every answer is checked (rcode, flags, section counts) before
// anything is timed, so a case measures what its name says; the timed loop allocates nothing.
//
// Two modes:
//   engine_benchmark [--benchmark_filter=...]      Google Benchmark, items_per_second per case.
//   engine_benchmark --sx_case=a_edns --sx_count=N  exactly N answers of one case, then exit:
//     under callgrind, (Ir(N) - Ir(0)) / N is instructions per query (perf/callgrind_engine.sh).
#include <benchmark/benchmark.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "dataplane/dnstap/tap_ring.h"
#include "dataplane/engine/dns_cookie.h"
#include "dataplane/engine/engine.h"
#include "dataplane/engine/policy_pickers.h"
#include "maps/control_block.h"
#include "maps/dns/wire.h"
#include "maps/snapshot_reader.h"
#include "perf/counting_mode.h"
#include "perf/engine_bench_queries.h"
#include "perf/engine_bench_zone.h"
#include "tests/support/test_snapshot.h"

namespace sextant::dataplane {
namespace {

namespace dns = ::sextant::maps::dns;
namespace eb = engine_bench;

using dns::kTypeA;

using eb::AddAaaaHit;
using eb::AddAHit;
using eb::AddAHitCookie;
using eb::AddCname;
using eb::AddNxdomain;
using eb::AddPolicyA;
using eb::AddReferral;
using eb::AddWildcard;
using eb::Expect;
using eb::GeoCase;
using eb::GeoPool;
using eb::GeoSites3Pool;
using eb::kAliases;
using eb::kBenchClient;
using eb::kBenchNow;
using eb::kCookieKey;
using eb::kGeoCases;
using eb::kHosts;
using eb::kOrigin;
using eb::kPacketRoom;
using eb::kPolicyCases;
using eb::kPolicyOwners;
using eb::kPoolSize;
using eb::kSubs;
using eb::MixPool;
using eb::PolicyCase;
using eb::PolicyTarget;
using eb::PolicyYaml;
using eb::Pool;
using eb::PoolOf;
using eb::StaticGeoPool;
using eb::WireQuery;
using eb::ZoneText;

// tap_every: 0 = the plain loop; otherwise the loop a serving thread runs with a dnstap sampler
// (dataplane/dnstap/tap_ring.h) of 1 in tap_every queries, kTapOff = a sampler that is off.
inline constexpr uint32_t kTapOff = 0xffffffffu;

struct Case {
  const char* name;
  bool in_place;  // answer over the query, in a packet-sized buffer (the DPDK path)
  Pool pool;
  uint32_t tap_every = 0;
};

struct Bench {
  std::unique_ptr<maps::SnapshotReader> snap;
  std::unique_ptr<Engine> engine;
  std::vector<Case> cases;
  ClientInfo client;
  // The health words the policies read (what the control block holds in production).
  std::unique_ptr<std::atomic<uint32_t>[]> health;
  maps::CookieSecrets cookie_secrets{};
};

// One health word per target of the snapshot: all up but the targets the cases put down.
void SetHealth(Bench* b) {
  std::set<std::string> down;
  for (const PolicyCase& pc : kPolicyCases) {
    for (int m = 0; m < pc.down; ++m) down.insert(PolicyTarget(pc, m));
  }
  const SnapshotView v = SnapshotView::Of(*b->snap);
  const auto targets = b->snap->section<maps::Target>(maps::kTargets);
  uint32_t words = 0;
  for (const maps::Target& t : targets) words = std::max(words, t.health + 1);
  b->health = std::make_unique<std::atomic<uint32_t>[]>(words);
  for (uint32_t i = 0; i < words; ++i) b->health[i].store(maps::kHealthUp);
  size_t set_down = 0;
  for (const maps::Target& t : targets) {
    const std::string name(reinterpret_cast<const char*>(v.strings) + t.name.offset, t.name.length);
    if (down.count(name) != 0) {
      b->health[t.health].store(0);
      ++set_down;
    }
  }
  if (set_down != down.size()) {
    std::fprintf(stderr, "engine_benchmark: %zu of %zu down targets found in the snapshot\n",
                 set_down, down.size());
    std::exit(1);
  }
  b->engine->set_health(b->health.get());
}

Bench* BuildBench() {
  auto* b = new Bench;
  auto snap = testing::BuildTestSnapshot({{kOrigin, ZoneText()}}, "", 1, PolicyYaml());
  if (!snap.ok()) {
    std::fprintf(stderr, "engine_benchmark: snapshot: %s\n", snap.status().ToString().c_str());
    std::exit(1);
  }
  b->snap = *std::move(snap);
  b->engine = std::make_unique<Engine>(*b->snap);
  SetHealth(b);
  maps::RotateCookieKeys(b->cookie_secrets, kCookieKey, 1);
  b->engine->set_cookie_secrets(&b->cookie_secrets);
  b->client.family = 4;
  std::memcpy(b->client.addr, kBenchClient, sizeof(kBenchClient));
  b->client.now = kBenchNow;

  b->cases.push_back(
      {"a_noedns", false, PoolOf(kHosts, [](Pool* p, int i) { AddAHit(p, i, false); })});
  b->cases.push_back(
      {"a_edns", false, PoolOf(kHosts, [](Pool* p, int i) { AddAHit(p, i, true); })});
  b->cases.push_back(
      {"a_edns_inplace", true, PoolOf(kHosts, [](Pool* p, int i) { AddAHit(p, i, true); })});
  // dnstap's cost: a_edns_inplace with a sampler that is off, samples 1 in 1000, or all.
  for (const auto& [name, every] :
       {std::pair{"tap_off", kTapOff}, std::pair{"tap_1000", 1000u}, std::pair{"tap_all", 1u}}) {
    b->cases.push_back(
        {name, true, PoolOf(kHosts, [](Pool* p, int i) { AddAHit(p, i, true); }), every});
  }
  // DNS Cookies: a_edns with a client cookie (a server cookie made: one SipHash), and with a
  // valid server cookie (checked: one SipHash; sent back as it is).
  b->cases.push_back(
      {"a_cookie", false, PoolOf(kHosts, [](Pool* p, int i) { AddAHitCookie(p, i, false); })});
  b->cases.push_back(
      {"a_cookie_valid", false, PoolOf(kHosts, [](Pool* p, int i) { AddAHitCookie(p, i, true); })});
  b->cases.push_back({"aaaa", false, PoolOf(kHosts, AddAaaaHit)});
  b->cases.push_back({"nxdomain", false, PoolOf(kPoolSize, AddNxdomain)});
  b->cases.push_back({"cname", false, PoolOf(kAliases, AddCname)});
  b->cases.push_back({"wildcard", false, PoolOf(kPoolSize, AddWildcard)});
  b->cases.push_back({"referral", false, PoolOf(kSubs, AddReferral)});
  b->cases.push_back({"mix", false, MixPool()});
  for (int c = 0; c < static_cast<int>(std::size(kPolicyCases)); ++c) {
    for (bool policy : {false, true}) {
      Pool p;
      for (int o = 0; o < kPolicyOwners; ++o) AddPolicyA(&p, c, o, policy);
      const PolicyCase& pc = kPolicyCases[c];
      b->cases.push_back({policy ? pc.pol_case : pc.base_case, false, std::move(p)});
    }
  }
  for (const GeoCase& gc : kGeoCases) {
    b->cases.push_back({gc.base_case, false, GeoPool(gc, false)});
    b->cases.push_back({gc.geo_case, false, GeoPool(gc, true)});
  }
  b->cases.push_back({"base_geo4_sites3", false, GeoSites3Pool(false)});
  b->cases.push_back({"geo_geo4_sites3", false, GeoSites3Pool(true)});
  b->cases.push_back({"static_geo4", false, StaticGeoPool()});
  return b;
}

// Skips the (possibly compressed) name at p[off]; returns the offset after it, or n.
size_t SkipName(const uint8_t* p, size_t off, size_t n) {
  while (off < n) {
    const uint8_t l = p[off];
    if (l == 0) return off + 1;
    if ((l & 0xC0) == 0xC0) return off + 2;
    off += 1 + l;
  }
  return n;
}

// The address of the first answer record when it is an A record, else 0.
uint32_t FirstA(const uint8_t* p, size_t n) {
  if (n < dns::kHeaderSize || dns::Get16(p + dns::kOffAncount) == 0) return 0;
  size_t off = SkipName(p, dns::kHeaderSize, n) + 4;  // question: name, type, class
  off = SkipName(p, off, n);                          // owner
  if (off + 14 > n || dns::Get16(p + off) != kTypeA || dns::Get16(p + off + 8) != 4) return 0;
  return static_cast<uint32_t>(p[off + 10]) << 24 | p[off + 11] << 16 | p[off + 12] << 8 |
         p[off + 13];
}

// Checks every pool answer once, so that a snapshot or engine change that turns a hit into a
// miss fails loudly instead of silently speeding the benchmark up.
void CheckAnswers(const Bench& b) {
  static uint8_t out[kPacketRoom];
  for (const Case& c : b.cases) {
    for (size_t i = 0; i < c.pool.queries.size(); ++i) {
      const WireQuery& q = c.pool.queries[i];
      const Expect& e = c.pool.expect[i];
      AnswerInfo info;
      const size_t n = b.engine->Answer(q.bytes, q.len, b.client, out, sizeof(out), &info);
      const bool aa = n >= dns::kHeaderSize && (out[dns::kOffFlags1] & dns::kFlag1Aa);
      const uint16_t an = n >= dns::kHeaderSize ? dns::Get16(out + dns::kOffAncount) : 0;
      const uint16_t ns = n >= dns::kHeaderSize ? dns::Get16(out + dns::kOffNscount) : 0;
      const uint16_t ar = n >= dns::kHeaderSize ? dns::Get16(out + dns::kOffArcount) : 0;
      const uint32_t first_a = e.first_a != 0 ? FirstA(out, n) : 0;
      if (first_a != e.first_a) {
        std::fprintf(stderr, "engine_benchmark: case %s query %zu: first A %08x, want %08x\n",
                     c.name, i, first_a, e.first_a);
        std::exit(1);
      }
      if (n < q.len || info.rcode != e.rcode || info.truncated || aa != e.aa || an != e.an ||
          ns != e.ns || ar < e.ar_min) {
        std::fprintf(stderr,
                     "engine_benchmark: case %s query %zu: got len %zu rcode %u tc %d aa %d "
                     "an %u ns %u ar %u; want rcode %u aa %d an %u ns %u ar >= %u\n",
                     c.name, i, n, info.rcode, info.truncated, aa, an, ns, ar, e.rcode, e.aa, e.an,
                     e.ns, e.ar_min);
        std::exit(1);
      }
    }
  }
}

// One answer: shared by the benchmark loop and the counting mode so both run the same code.
// The in-place variant first copies the query into the packet buffer, as a receive would.
inline size_t AnswerOne(const Engine& engine, const ClientInfo& client, const WireQuery& q,
                        bool in_place, uint8_t* pkt, AnswerInfo* info) {
  if (in_place) {
    std::memcpy(pkt, q.bytes, q.len);
    return engine.Answer(pkt, q.len, client, pkt, kPacketRoom, info);
  }
  return engine.Answer(q.bytes, q.len, client, pkt, kPacketRoom, info);
}

alignas(64) uint8_t g_packet[kPacketRoom];

// What a serving thread holds for dnstap. The ring is emptied right after each sample: that is
// the writer thread's work, off the fast path, so it is left out of what is measured.
struct TapBench {
  TapRing ring{1024};
  TapSampler sampler;
  maps::LcoreCounters ctr{};
  sockaddr_storage peer{};
  sockaddr_storage local{};
};

[[gnu::noinline]] size_t AnswerSampled(const Engine& engine, const ClientInfo& client,
                                       const WireQuery& q, uint8_t* pkt, AnswerInfo* info,
                                       TapBench& t) {
  TapRecord* r = t.sampler.Start(pkt, q.len, false, t.ctr);
  if (r != nullptr) FillTapEndpoints(t.peer, t.local, r);
  const size_t n = engine.Answer(pkt, q.len, client, pkt, kPacketRoom, info);
  if (r != nullptr) {
    t.sampler.Finish(r, pkt, n, t.ctr);
    if (t.ring.Peek() != nullptr) t.ring.Release();
  }
  return n;
}

// The in-place answer with the sampler's check in front, as ServingThread::Answer runs it.
inline size_t AnswerOneTapped(const Engine& engine, const ClientInfo& client, const WireQuery& q,
                              uint8_t* pkt, AnswerInfo* info, TapBench& t) {
  std::memcpy(pkt, q.bytes, q.len);
  if (t.sampler.Due()) return AnswerSampled(engine, client, q, pkt, info, t);
  return engine.Answer(pkt, q.len, client, pkt, kPacketRoom, info);
}

std::unique_ptr<TapBench> MakeTapBench(uint32_t every) {
  auto t = std::make_unique<TapBench>();
  if (every != kTapOff) t->sampler = TapSampler(&t->ring, every);
  t->peer.ss_family = AF_INET;
  t->local.ss_family = AF_INET;
  return t;
}

void RunCase(benchmark::State& state, const Bench* b, const Case* c) {
  const Engine& engine = *b->engine;
  const WireQuery* queries = c->pool.queries.data();
  const size_t n = c->pool.queries.size();
  const bool in_place = c->in_place;
  AnswerInfo info;
  size_t i = 0;
  if (c->tap_every != 0) {
    std::unique_ptr<TapBench> t = MakeTapBench(c->tap_every);
    for (auto _ : state) {
      size_t len = AnswerOneTapped(engine, b->client, queries[i], g_packet, &info, *t);
      benchmark::DoNotOptimize(len);
      benchmark::DoNotOptimize(info);
      if (++i == n) i = 0;
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
    return;
  }
  for (auto _ : state) {
    size_t len = AnswerOne(engine, b->client, queries[i], in_place, g_packet, &info);
    benchmark::DoNotOptimize(len);
    benchmark::DoNotOptimize(info);
    if (++i == n) i = 0;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

// Counting mode: exactly `count` answers, same loop shape as RunCase.
[[gnu::noinline]] size_t RunCount(const Bench& b, const Case& c, uint64_t count) {
  const WireQuery* queries = c.pool.queries.data();
  const size_t n = c.pool.queries.size();
  AnswerInfo info;
  size_t total = 0, i = 0;
  if (c.tap_every != 0) {
    std::unique_ptr<TapBench> t = MakeTapBench(c.tap_every);
    for (uint64_t k = 0; k < count; ++k) {
      total += AnswerOneTapped(*b.engine, b.client, queries[i], g_packet, &info, *t);
      if (++i == n) i = 0;
    }
    return total;
  }
  for (uint64_t k = 0; k < count; ++k) {
    total += AnswerOne(*b.engine, b.client, queries[i], c.in_place, g_packet, &info);
    if (++i == n) i = 0;
  }
  return total;
}

int Main(int argc, char** argv) {
  const perf::CountingMode mode = perf::TakeCountingFlags(&argc, argv);
  Bench* b = BuildBench();
  SeedPolicyRandom(20240101);  // weighted / multivalue picks: the same sequence every run
  CheckAnswers(*b);
  if (mode.on()) {
    return perf::RunCountingMode(
        "engine_benchmark", mode, b->cases, [b](const Case& c, unsigned long long count) {
          const size_t total = RunCount(*b, c, count);
          return absl::StrFormat("case %s count %llu response_bytes %zu", c.name, count, total);
        });
  }
  return perf::RunBenchmarks(argc, argv, "Answer", b, b->cases, RunCase);
}

}  // namespace
}  // namespace sextant::dataplane

int main(int argc, char** argv) { return sextant::dataplane::Main(argc, argv); }
