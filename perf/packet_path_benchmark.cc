// ProcessFrame throughput (dataplane/packet_path.h): whole Ethernet frames of real queries are
// parsed, answered by the Engine and rewritten in place into their replies, as the lcore loop
// does with an mbuf, but without a PMD. The snapshot is built once from a generated zone of
// about 600 hosts (A, a second A on every fourth, AAAA) through the real control-plane code.
//
// ProcessFrame turns its buffer into the reply, so every iteration first copies a prebuilt query
// frame into the working buffer, as a receive would. The copy_* cases do only that copy: subtract
// them to get the cost of ProcessFrame itself. Each case cycles through a pool of distinct frames
// (different names, client addresses and ports); every frame is answered and its reply checked
// (verdict, DNS id/rcode/counts, addresses swapped, IP and UDP checksums) before anything is
// timed, so a case measures what its name says.
//
// Cases:
//   copy                 copy one IPv4 query frame into the working buffer (baseline)
//   v4_a_edns            IPv4, A hit with EDNS (udp 1232), checksums in software
//   v4_a_edns_offload    the same on a NIC with checksum offload both ways: sw_checksum = false
//                        (the NIC completes the reply's sums) and the query's sums found good by
//                        the NIC (RxChecksum bits: not summed again)
//   v6_aaaa              IPv6, AAAA hit with EDNS
//   v4_nxdomain          IPv4, NXDOMAIN with EDNS (SOA in authority)
//   copy_burst32         copy 32 frames into 32 mbuf-like buffers (baseline)
//   v4_a_edns_burst32    the lcore loop's shape: 32 frames copied into 32 buffers, then
//                        prefetch next + ProcessFrame over the burst
//
// Two modes:
//   packet_path_benchmark [--benchmark_filter=...]   Google Benchmark; items_per_second = qps.
//   packet_path_benchmark --sx_case=v4_a_edns --sx_count=N   exactly N frames of one case, then
//     exit: under callgrind (Ir(N) - Ir(0)) / N is instructions per packet
//     (perf/callgrind_packet_path.sh).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "dataplane/engine/engine.h"
#include "dataplane/inet_checksum.h"
#include "dataplane/packet_path.h"
#include "maps/control_block.h"
#include "maps/dns/wire.h"
#include "maps/snapshot_reader.h"
#include "perf/counting_mode.h"
#include "perf/engine_bench_zone.h"
#include "tests/support/test_snapshot.h"

namespace sextant::dataplane {
namespace {

namespace dns = ::sextant::maps::dns;

using dns::Get16;
using dns::kTypeA;
using dns::kTypeAaaa;
using dns::Put16;
using engine_bench::ARecordsOf;
using engine_bench::HostName;
using engine_bench::kHosts;
using engine_bench::kOrigin;

constexpr int kPoolSize = 1000;  // distinct frames per case (names repeat, clients do not)
constexpr uint16_t kEdnsSize = 1232;
constexpr size_t kBurst = 32;  // dpdk_dataplane.cc's burst

// An mbuf with RTE_MBUF_DEFAULT_BUF_SIZE: 2048 bytes of data room after a 128-byte headroom,
// the whole object (header, headroom, data) about 2.3 KiB apart in its mempool.
constexpr uint32_t kRoom = 2048;
constexpr size_t kMbufStride = 2304;
constexpr size_t kMbufDataOffset = 256;

constexpr uint8_t kOurMac[6] = {0x02, 0x53, 0x58, 0x00, 0x00, 0x01};
constexpr uint8_t kOurV4[4] = {198, 18, 0, 2};
constexpr uint8_t kOurV6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0x18, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};

std::string ZoneText() {
  std::string z =
      absl::StrCat("$ORIGIN ", kOrigin, "\n$TTL 3600\n",
                   "@ IN SOA ns1.bench.test. hostmaster.bench.test. 2024010101 7200 "
                   "3600 1209600 300\n",
                   "@ IN NS ns1\n@ IN NS ns2\n", "ns1 IN A 198.18.0.1\nns2 IN A 198.18.0.2\n");
  engine_bench::AppendHosts(&z);
  return z;
}

// ---- frame building -------------------------------------------------------------------------

struct alignas(64) Frame {
  uint8_t bytes[192];
  uint16_t len = 0;
};

struct Expect {
  uint16_t id = 0;
  uint8_t rcode = 0;
  uint16_t an = 0;
};

void StoreSum(uint8_t* at, uint16_t sum) { std::memcpy(at, &sum, 2); }

// Sum of the pseudo header and the UDP segment as InternetChecksum wants it: one contiguous
// buffer, so the helper under test is not also the only reference.
uint16_t UdpChecksum(int family, const uint8_t* src, const uint8_t* dst, const uint8_t* udp,
                     uint16_t ulen) {
  std::vector<uint8_t> b;
  const int alen = family == 4 ? 4 : 16;
  b.insert(b.end(), src, src + alen);
  b.insert(b.end(), dst, dst + alen);
  if (family == 4) {
    b.insert(b.end(), {0, 17, static_cast<uint8_t>(ulen >> 8), static_cast<uint8_t>(ulen)});
  } else {
    b.insert(b.end(),
             {0, 0, static_cast<uint8_t>(ulen >> 8), static_cast<uint8_t>(ulen), 0, 0, 0, 17});
  }
  b.insert(b.end(), udp, udp + ulen);
  return InternetChecksum(b.data(), b.size());
}

// Ethernet + IPv4/IPv6 + UDP around `dns`, from client number `client` to our address.
Frame MakeFrame(int family, uint32_t client, const std::vector<uint8_t>& dns) {
  Frame f;
  uint8_t* p = f.bytes;
  std::memcpy(p, kOurMac, 6);
  const uint8_t client_mac[6] = {0x02,
                                 0x43,
                                 0x4c,
                                 static_cast<uint8_t>(client >> 16),
                                 static_cast<uint8_t>(client >> 8),
                                 static_cast<uint8_t>(client)};
  std::memcpy(p + 6, client_mac, 6);
  Put16(p + 12, family == 4 ? 0x0800 : 0x86DD);
  const size_t l3 = 14, iplen = family == 4 ? 20 : 40, l4 = l3 + iplen;
  const uint16_t ulen = static_cast<uint16_t>(8 + dns.size());
  if (l4 + ulen > sizeof(f.bytes)) {
    std::fprintf(stderr, "packet_path_benchmark: frame too long\n");
    std::exit(1);
  }
  uint8_t* ip = p + l3;
  const uint8_t* src;
  const uint8_t* dst;
  if (family == 4) {
    ip[0] = 0x45;
    ip[1] = 0;
    Put16(ip + 2, static_cast<uint16_t>(20 + ulen));
    Put16(ip + 4, static_cast<uint16_t>(client * 7919));
    Put16(ip + 6, 0x4000);
    ip[8] = 64;
    ip[9] = 17;
    Put16(ip + 10, 0);
    // Clients in 198.18.16.0 - 198.18.215.254 (inside 198.18.0.0/15, RFC 2544).
    const uint8_t c[4] = {198, 18, static_cast<uint8_t>(16 + client / 254 % 200),
                          static_cast<uint8_t>(1 + client % 254)};
    std::memcpy(ip + 12, c, 4);
    std::memcpy(ip + 16, kOurV4, 4);
    StoreSum(ip + 10, InternetChecksum(ip, 20));
    src = ip + 12;
    dst = ip + 16;
  } else {
    ip[0] = 0x60;
    ip[1] = ip[2] = ip[3] = 0;
    Put16(ip + 4, ulen);
    ip[6] = 17;
    ip[7] = 64;
    uint8_t c[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0x18, 0, 1};
    c[12] = static_cast<uint8_t>(client >> 24);
    c[13] = static_cast<uint8_t>(client >> 16);
    c[14] = static_cast<uint8_t>(client >> 8);
    c[15] = static_cast<uint8_t>(client);
    std::memcpy(ip + 8, c, 16);
    std::memcpy(ip + 24, kOurV6, 16);
    src = ip + 8;
    dst = ip + 24;
  }
  uint8_t* udp = p + l4;
  Put16(udp, static_cast<uint16_t>(1024 + client * 37 % 60000));
  Put16(udp + 2, 53);
  Put16(udp + 4, ulen);
  Put16(udp + 6, 0);
  std::memcpy(udp + 8, dns.data(), dns.size());
  uint16_t s = UdpChecksum(family, src, dst, udp, ulen);
  if (s == 0) s = 0xffff;
  StoreSum(udp + 6, s);
  f.len = static_cast<uint16_t>(l4 + ulen);
  return f;
}

struct Pool {
  int family = 4;
  std::vector<Frame> frames;
  std::vector<Expect> expect;

  void Add(const std::string& name, uint16_t qtype, Expect e) {
    testing::QueryOptions o;
    o.id = static_cast<uint16_t>(frames.size() * 2654435761u >> 16);
    o.edns_size = kEdnsSize;
    e.id = o.id;
    frames.push_back(MakeFrame(family, static_cast<uint32_t>(frames.size()) + 1,
                               testing::MakeQuery(name, qtype, o)));
    expect.push_back(e);
  }
};

Pool APool() {
  Pool p;
  p.family = 4;
  for (int i = 0; i < kPoolSize; ++i) {
    const int h = i % kHosts;
    p.Add(absl::StrCat(HostName(h), ".", kOrigin), kTypeA,
          {.rcode = 0, .an = static_cast<uint16_t>(ARecordsOf(h))});
  }
  return p;
}
Pool AaaaPool() {
  Pool p;
  p.family = 6;
  for (int i = 0; i < kPoolSize; ++i) {
    p.Add(absl::StrCat(HostName(i % kHosts), ".", kOrigin), kTypeAaaa, {.rcode = 0, .an = 1});
  }
  return p;
}
Pool NxPool() {
  Pool p;
  p.family = 4;
  for (int i = 0; i < kPoolSize; ++i) {
    p.Add(absl::StrFormat("nohost%04d.%s", i, kOrigin), kTypeA, {.rcode = 3, .an = 0});
  }
  return p;
}

// ---- the cases ------------------------------------------------------------------------------

enum class Mode { kCopy, kProcess };

struct Case {
  const char* name;
  Mode mode;
  bool burst;
  bool sw_checksum;
  const Pool* pool;
  bool rrl = false;  // through the response rate limiter (limits never reached: its cost alone)
};

struct Bench {
  std::unique_ptr<maps::SnapshotReader> snap;
  std::unique_ptr<Engine> engine;
  PathConfig path_sw, path_offload;
  Pool a, aaaa, nx;
  std::vector<Case> cases;
};

// Working memory: one packet buffer for the single-frame cases, 32 mbuf-like buffers for the
// burst cases. Counters as the lcore loop has them (one cache-aligned slot, and its answers by
// qtype and geo site).
alignas(64) uint8_t g_packet[kRoom];
alignas(64) uint8_t g_mbufs[kBurst * kMbufStride];
maps::LcoreCounters g_counters;
maps::LcoreAnswers g_answers;
// The _rrl cases' limiter, as a DPDK worker has one, with limits no pool reaches (every frame is
// still answered and checked): what the bucket lookup costs per frame.
RateLimiter g_rrl(1, 42);

void SetUpRateLimiter() {
  maps::RateLimitSettings s{};
  for (uint32_t& r : s.per_second) r = maps::kMaxRateLimitPerSecond;
  s.window = maps::kMaxRateLimitWindow;
  s.table_size = 65536;  // the default
  s.slip = 2;
  s.ipv4_prefix = 24;
  s.ipv6_prefix = 56;
  g_rrl.Update(&s, 1);
  g_rrl.set_now(RateLimiter::NowNs());
}

// ProcessFrame on the frame in buf; for the offload cases ProcessCheckedFrame, as from a NIC that
// found the query's checksums good.
inline Verdict Process(uint8_t* buf, uint32_t* len, const PathConfig& path, const Engine* engine,
                       maps::LcoreCounters* ctr, maps::LcoreAnswers* answers, RateLimiter* rrl,
                       TxOffload* off) {
  if (path.sw_checksum) {
    return ProcessFrame(buf, len, kRoom, path, engine, ctr, off, nullptr, answers, rrl);
  }
  return ProcessCheckedFrame(buf, len, kRoom, path, engine, ctr, off, kRxIpv4Good | kRxL4Good,
                             nullptr, answers, rrl);
}

inline uint8_t* MbufData(size_t i) { return g_mbufs + i * kMbufStride + kMbufDataOffset; }

Bench* BuildBench() {
  auto* b = new Bench;
  auto snap = testing::BuildTestSnapshot({{kOrigin, ZoneText()}});
  if (!snap.ok()) {
    std::fprintf(stderr, "packet_path_benchmark: snapshot: %s\n", snap.status().ToString().c_str());
    std::exit(1);
  }
  b->snap = *std::move(snap);
  b->engine = std::make_unique<Engine>(*b->snap);
  for (PathConfig* c : {&b->path_sw, &b->path_offload}) {
    std::memcpy(c->mac, kOurMac, 6);
    c->n_v4 = 1;
    std::memcpy(c->v4[0], kOurV4, 4);
    c->n_v6 = 1;
    std::memcpy(c->v6[0], kOurV6, 16);
  }
  b->path_sw.sw_checksum = true;
  b->path_offload.sw_checksum = false;
  b->a = APool();
  b->aaaa = AaaaPool();
  b->nx = NxPool();
  b->cases = {
      {"copy", Mode::kCopy, false, true, &b->a},
      {"v4_a_edns", Mode::kProcess, false, true, &b->a},
      {"v4_a_edns_offload", Mode::kProcess, false, false, &b->a},
      {"v6_aaaa", Mode::kProcess, false, true, &b->aaaa},
      {"v4_nxdomain", Mode::kProcess, false, true, &b->nx},
      {"copy_burst32", Mode::kCopy, true, true, &b->a},
      {"v4_a_edns_burst32", Mode::kProcess, true, true, &b->a},
      {"v4_a_edns_rrl", Mode::kProcess, false, true, &b->a, true},
      {"v4_nxdomain_rrl", Mode::kProcess, false, true, &b->nx, true},
      {"v4_a_edns_burst32_rrl", Mode::kProcess, true, true, &b->a, true},
  };
  SetUpRateLimiter();
  return b;
}

// The reply to `q` in `r` (rlen bytes) is right: transmitted, addresses and ports swapped,
// checksums valid, the DNS id, rcode and answer count expected.
bool CheckReply(const Frame& q, const Expect& e, int family, const uint8_t* r, uint32_t rlen,
                std::string* why) {
  const size_t iplen = family == 4 ? 20 : 40, l4 = 14 + iplen;
  if (rlen < l4 + 8 + dns::kHeaderSize) return *why = "reply too short", false;
  if (std::memcmp(r, q.bytes + 6, 6) != 0 || std::memcmp(r + 6, kOurMac, 6) != 0) {
    return *why = "MACs not swapped", false;
  }
  const uint8_t* ip = r + 14;
  const uint8_t* qip = q.bytes + 14;
  const uint8_t* udp = r + l4;
  const uint16_t ulen = Get16(udp + 4);
  if (l4 + ulen != rlen) return *why = "UDP length does not match the frame", false;
  if (family == 4) {
    if (Get16(ip + 2) != 20 + ulen) return *why = "IPv4 total length wrong", false;
    if (InternetChecksum(ip, 20) != 0) return *why = "bad IPv4 header checksum", false;
    if (std::memcmp(ip + 12, qip + 16, 4) != 0 || std::memcmp(ip + 16, qip + 12, 4) != 0) {
      return *why = "IPv4 addresses not swapped", false;
    }
    if (UdpChecksum(4, ip + 12, ip + 16, udp, ulen) != 0) return *why = "bad UDP checksum", false;
  } else {
    if (Get16(ip + 4) != ulen) return *why = "IPv6 payload length wrong", false;
    if (std::memcmp(ip + 8, qip + 24, 16) != 0 || std::memcmp(ip + 24, qip + 8, 16) != 0) {
      return *why = "IPv6 addresses not swapped", false;
    }
    if (UdpChecksum(6, ip + 8, ip + 24, udp, ulen) != 0) return *why = "bad UDP checksum", false;
  }
  const uint8_t* qudp = q.bytes + l4;
  if (Get16(udp) != 53 || Get16(udp + 2) != Get16(qudp)) return *why = "ports not swapped", false;
  const uint8_t* dns = udp + 8;
  if (Get16(dns) != e.id) return *why = "wrong DNS id", false;
  if (!(dns[dns::kOffFlags1] & dns::kFlag1Qr)) return *why = "QR not set", false;
  if ((dns[dns::kOffFlags2] & 0xF) != e.rcode) {
    return *why = absl::StrCat("rcode ", dns[dns::kOffFlags2] & 0xF, ", want ", e.rcode), false;
  }
  if (Get16(dns + dns::kOffAncount) != e.an) {
    return *why = absl::StrCat("ancount ", Get16(dns + dns::kOffAncount), ", want ", e.an), false;
  }
  return true;
}

void CheckAll(const Bench& b) {
  for (const Case& c : b.cases) {
    if (c.mode != Mode::kProcess) continue;
    const PathConfig& path = c.sw_checksum ? b.path_sw : b.path_offload;
    for (size_t i = 0; i < c.pool->frames.size(); ++i) {
      const Frame& q = c.pool->frames[i];
      std::memcpy(g_packet, q.bytes, q.len);
      uint32_t len = q.len;
      TxOffload off;
      const Verdict v =
          Process(g_packet, &len, path, b.engine.get(), nullptr, nullptr, nullptr, &off);
      std::string why;
      if (v != Verdict::kTransmit) {
        why = "not transmitted";
      } else if (!c.sw_checksum) {
        // Offload leaves the checksums to the NIC: check the rest only, and what it asks for.
        if (!off.udp || off.l2_len != 14) why = "no checksum offload requested";
      } else {
        CheckReply(q, c.pool->expect[i], c.pool->family, g_packet, len, &why);
      }
      if (!why.empty()) {
        std::fprintf(stderr, "packet_path_benchmark: case %s frame %zu: %s\n", c.name, i,
                     why.c_str());
        std::exit(1);
      }
    }
  }
}

// One frame: copy the query into the buffer (the receive), then answer it in place.
inline Verdict OneFrame(const Frame& q, uint8_t* buf, const PathConfig& path, const Engine* engine,
                        RateLimiter* rrl) {
  std::memcpy(buf, q.bytes, q.len);
  uint32_t len = q.len;
  TxOffload off;
  const Verdict v = Process(buf, &len, path, engine, &g_counters, &g_answers, rrl, &off);
  benchmark::DoNotOptimize(len);
  return v;
}

// One burst of n frames starting at pool index `first`, shaped like WorkerLoop: the receive
// fills n buffers, then prefetch the next frame's data while the current one is processed.
inline uint32_t OneBurst(const Frame* frames, size_t pool_n, size_t first, size_t n,
                         const PathConfig& path, const Engine* engine, bool process,
                         RateLimiter* rrl) {
  size_t k = first;
  for (size_t i = 0; i < n; ++i) {
    std::memcpy(MbufData(i), frames[k].bytes, frames[k].len);
    if (++k == pool_n) k = 0;
  }
  benchmark::ClobberMemory();
  if (!process) return 0;
  uint32_t sent = 0;
  k = first;
  __builtin_prefetch(MbufData(0));
  for (size_t i = 0; i < n; ++i) {
    if (i + 1 < n) __builtin_prefetch(MbufData(i + 1));
    uint32_t len = frames[k].len;
    TxOffload off;
    const Verdict v = Process(MbufData(i), &len, path, engine, &g_counters, &g_answers, rrl, &off);
    sent += v == Verdict::kTransmit;
    if (++k == pool_n) k = 0;
  }
  return sent;
}

// One frame of the single-frame cases: processed (1 when its reply goes out), or only copied in
// (the copy baselines). RunCase and RunCount measure the very same step.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline bool Step(const Frame& f, const PathConfig& path,
                                              const Engine* engine, bool process,
                                              RateLimiter* rrl) {
  if (process) return OneFrame(f, g_packet, path, engine, rrl) == Verdict::kTransmit;
  std::memcpy(g_packet, f.bytes, f.len);
  benchmark::ClobberMemory();
  return false;
}

void RunCase(benchmark::State& state, const Bench* b, const Case* c) {
  const PathConfig& path = c->sw_checksum ? b->path_sw : b->path_offload;
  const Engine* engine = b->engine.get();
  const Frame* frames = c->pool->frames.data();
  const size_t n = c->pool->frames.size();
  const bool process = c->mode == Mode::kProcess;
  RateLimiter* rrl = c->rrl ? &g_rrl : nullptr;
  size_t i = 0;
  uint64_t transmitted = 0;
  if (c->burst) {
    for (auto _ : state) {
      transmitted += OneBurst(frames, n, i, kBurst, path, engine, process, rrl);
      i = (i + kBurst) % n;
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kBurst));
  } else {
    for (auto _ : state) {
      transmitted += Step(frames[i], path, engine, process, rrl);
      if (++i == n) i = 0;
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  }
  const uint64_t items = static_cast<uint64_t>(state.items_processed());
  if (process && transmitted != items) {
    state.SkipWithError("a frame was not answered");
  }
}

// Counting mode: exactly `count` frames of one case, through the same helpers as RunCase.
[[gnu::noinline]] uint64_t RunCount(const Bench& b, const Case& c, uint64_t count) {
  const PathConfig& path = c.sw_checksum ? b.path_sw : b.path_offload;
  const Engine* engine = b.engine.get();
  const Frame* frames = c.pool->frames.data();
  const size_t n = c.pool->frames.size();
  const bool process = c.mode == Mode::kProcess;
  RateLimiter* rrl = c.rrl ? &g_rrl : nullptr;
  uint64_t transmitted = 0;
  size_t i = 0;
  if (c.burst) {
    for (uint64_t done = 0; done < count;) {
      const size_t burst = static_cast<size_t>(std::min<uint64_t>(kBurst, count - done));
      transmitted += OneBurst(frames, n, i, burst, path, engine, process, rrl);
      i = (i + burst) % n;
      done += burst;
    }
  } else {
    for (uint64_t k = 0; k < count; ++k) {
      transmitted += Step(frames[i], path, engine, process, rrl);
      if (++i == n) i = 0;
    }
  }
  return transmitted;
}

int Main(int argc, char** argv) {
  const perf::CountingMode mode = perf::TakeCountingFlags(&argc, argv);
  Bench* b = BuildBench();
  CheckAll(*b);
  if (mode.on()) {
    return perf::RunCountingMode(
        "packet_path_benchmark", mode, b->cases, [b](const Case& c, unsigned long long count) {
          const uint64_t sent = RunCount(*b, c, count);
          return absl::StrFormat("case %s count %llu transmitted %llu", c.name, count,
                                 static_cast<unsigned long long>(sent));
        });
  }
  return perf::RunBenchmarks(argc, argv, "ProcessFrame", b, b->cases, RunCase);
}

}  // namespace
}  // namespace sextant::dataplane

int main(int argc, char** argv) { return sextant::dataplane::Main(argc, argv); }
