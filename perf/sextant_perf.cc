// sextant-perf: latency and correctness of the real DPDK dataplane, in one process, without a NIC.
//
//   sextant-perf -l 0-1 --no-huge -m 1024 --no-pci -- [--seconds 5] [--rate 0] [--zone FILE]
//
// Two ethdev ports are made from two rte_rings (rte_eth_from_rings), crossed: what the generator
// port transmits the dataplane port receives, and the other way round. The zone (--zone, or a
// generated one) is compiled and published by the control-plane code (LoadConfig, CompileSnapshot,
// Publisher) to a fresh instance in /dev/shm, picked up by a SnapshotFollower, and served by the
// real DpdkDataplane on one ring port, its run-to-completion loop on the worker lcore. The main
// lcore is the generator: it sends query frames in bursts on the other port, keeps the TSC of
// each query by DNS id, receives the answers and checks every one of them: the id is outstanding,
// IPv4 header and UDP checksums are valid, addresses and ports are the query's swapped, the
// question is the query's, the rcode is the expected one, and the answer section holds exactly
// the zone's A RRset for that name (in any order: rotation is allowed).
//
// --rate 0 (default) is closed loop: as fast as possible with at most --window queries
// outstanding. --rate R offers R queries per second on a TSC schedule (open loop).
//
// Reported: queries sent, answered (correct / wrong), lost, unexpected answers, Mqps, and the
// latency distribution (p50/p90/p99/p99.9/max, microseconds) from just before the generator's
// tx burst to just after its rx burst. The dataplane's own per-lcore counters are printed too.
#include <arpa/inet.h>
#include <dirent.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "control/compile/compiler.h"
#include "control/config/config.h"
#include "control/daemon/publisher.h"
#include "control/zones/dns_name.h"
#include "dataplane/dpdk/dpdk_dataplane.h"
#include "dataplane/snapshot_follower.h"
#include "maps/control_block.h"

namespace sextant::perf {
namespace {

constexpr uint16_t kBurst = 32;  // the dataplane's burst, and the generator's
constexpr unsigned kRingSize = 4096;
constexpr unsigned kGenMbufs = 16383;
constexpr uint8_t kServer[4] = {198, 18, 0, 2};
constexpr size_t kEth = 14, kIp = 20, kUdp = 8, kDnsOff = kEth + kIp + kUdp;
constexpr uint16_t kTypeA = 1;
constexpr uint16_t kEdnsSize = 1232;
constexpr size_t kMaxA = 64;  // names with larger A RRsets are not asked for

std::atomic<bool> g_interrupted{false};
void OnSignal(int) { g_interrupted.store(true, std::memory_order_relaxed); }

int Fail(const std::string& m) {
  std::fprintf(stderr, "sextant-perf: %s\n", m.c_str());
  return 1;
}

inline uint16_t Get16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
inline void Put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}

// RFC 1071 sum over big-endian 16-bit words, written independently of the dataplane's helper so
// that a checksum bug there cannot hide itself here.
uint32_t Sum16(const uint8_t* p, size_t n, uint32_t acc = 0) {
  for (; n >= 2; p += 2, n -= 2) acc += Get16(p);
  if (n) acc += uint32_t{p[0]} << 8;
  return acc;
}
uint16_t Fold(uint32_t acc) {
  while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
  return static_cast<uint16_t>(acc);
}
// Sum of the IPv4 pseudo header and the UDP segment; a valid checksum makes it 0xffff.
uint16_t UdpSum(const uint8_t* ip, const uint8_t* udp, uint16_t ulen) {
  return Fold(Sum16(udp, ulen, Sum16(ip + 12, 8) + 17 + ulen));
}

// ---- the zone and what its answers must be ---------------------------------------------------

std::string DefaultZone(const std::string& origin, int hosts) {
  std::string z =
      absl::StrCat("$ORIGIN ", origin, "\n$TTL 3600\n@ IN SOA ns1.", origin, " hostmaster.", origin,
                   " 2024010101 7200 3600 1209600 300\n",
                   "@ IN NS ns1\n@ IN NS ns2\nns1 IN A 198.18.0.1\n", "ns2 IN A 198.18.0.2\n");
  for (int i = 0; i < hosts; ++i) {
    absl::StrAppendFormat(&z, "host%04d 300 IN A 198.18.%d.%d\n", i, 1 + i / 200, i % 200 + 1);
    if (i % 4 == 0) {
      absl::StrAppendFormat(&z, "host%04d 300 IN A 198.19.%d.%d\n", i, 1 + i / 200, i % 200 + 1);
    }
    absl::StrAppendFormat(&z, "host%04d 300 IN AAAA 2001:db8:1::%x\n", i, i + 1);
  }
  return z;
}

// The $ORIGIN of a zone file, when it has one before its first record.
std::string OriginOf(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream s(line);
    std::string word, value;
    s >> word;
    if (word == "$ORIGIN" && (s >> value)) return value;
  }
  return "";
}

// A name the generator asks about, with the A rdatas a correct answer holds (sorted), or
// NXDOMAIN.
struct Question {
  std::string wire;  // lowered, uncompressed, absolute
  bool nxdomain = false;
  std::vector<uint32_t> a;  // host order, sorted
};

// Every owner with an A RRset that the engine answers authoritatively from that RRset: not
// wildcards, not at or below a delegation, not in a more specific configured zone.
std::vector<Question> AnswerableNames(const std::vector<control::ZoneData>& zones) {
  std::vector<Question> out;
  for (const control::ZoneData& z : zones) {
    std::vector<std::string> cuts;
    for (const auto& [owner, nd] : z.names) {
      if (owner == z.origin_wire) continue;
      for (const control::RRsetData& s : nd.rrsets) {
        if (s.type == 2) cuts.push_back(owner);  // NS below the apex: a delegation
      }
    }
    for (const auto& [owner, nd] : z.names) {
      if (owner.size() >= 2 && owner[0] == 1 && owner[1] == '*') continue;
      bool skip = false;
      for (const std::string& cut : cuts) skip |= control::WireIsSubdomain(owner, cut);
      for (const control::ZoneData& other : zones) {
        skip |= other.origin_wire.size() > z.origin_wire.size() &&
                control::WireIsSubdomain(owner, other.origin_wire);
      }
      if (skip) continue;
      for (const control::RRsetData& s : nd.rrsets) {
        if (s.type != kTypeA) continue;
        Question q;
        q.wire = owner;
        for (const std::string& r : s.rdatas) {
          const auto* b = reinterpret_cast<const uint8_t*>(r.data());
          if (r.size() == 4) q.a.push_back(uint32_t{Get16(b)} << 16 | Get16(b + 2));
        }
        std::sort(q.a.begin(), q.a.end());
        if (q.a.size() > kMaxA) continue;  // the answer would be truncated at 1232 octets anyway
        out.push_back(std::move(q));
      }
    }
  }
  return out;
}

// Names under the first zone's apex that do not exist (none when the apex has a wildcard).
std::vector<Question> NxdomainNames(const std::vector<control::ZoneData>& zones, int n) {
  std::vector<Question> out;
  if (zones.empty()) return out;
  const control::ZoneData& z = zones[0];
  if (z.names.count(std::string("\x01*", 2) + z.origin_wire)) return out;
  for (int i = 0; static_cast<int>(out.size()) < n && i < 10 * n; ++i) {
    const std::string label = absl::StrFormat("sxperf-nx-%05d", i);
    std::string wire = std::string(1, static_cast<char>(label.size())) + label + z.origin_wire;
    if (z.names.count(wire)) continue;
    Question q;
    q.wire = std::move(wire);
    q.nxdomain = true;
    out.push_back(std::move(q));
  }
  return out;
}

// ---- query frames ---------------------------------------------------------------------------

// A query frame with DNS id 0; the generator copies it into an mbuf and patches the id (and the
// UDP checksum, incrementally).
struct Template {
  uint8_t bytes[384];  // Ethernet + IPv4 + UDP + a question of up to 255 octets + OPT
  uint16_t len = 0;
  uint16_t question_len = 0;  // QNAME + QTYPE + QCLASS
  uint16_t udp_sum0 = 0;      // ~checksum with id 0: the running sum to add the id to
  uint32_t question = 0;      // index into the questions
  uint8_t client[4];
  uint16_t sport = 0;
};

Template MakeTemplate(const Question& q, uint32_t index, uint32_t qi, const uint8_t dst_mac[6],
                      const uint8_t src_mac[6]) {
  Template t;
  t.question = qi;
  uint8_t* f = t.bytes;
  std::memcpy(f, dst_mac, 6);
  std::memcpy(f + 6, src_mac, 6);
  Put16(f + 12, 0x0800);
  // Clients in 198.18.16.0 - 198.18.215.254, each with its own source port.
  t.client[0] = 198;
  t.client[1] = 18;
  t.client[2] = static_cast<uint8_t>(16 + index / 254 % 200);
  t.client[3] = static_cast<uint8_t>(1 + index % 254);
  t.sport = static_cast<uint16_t>(1024 + (index * 7919u) % 64000);
  uint8_t* dns = f + kDnsOff;
  std::memset(dns, 0, 12);
  Put16(dns + 4, 1);   // QDCOUNT
  Put16(dns + 10, 1);  // ARCOUNT: OPT
  size_t n = 12;
  std::memcpy(dns + n, q.wire.data(), q.wire.size());
  n += q.wire.size();
  Put16(dns + n, kTypeA);
  Put16(dns + n + 2, 1);
  n += 4;
  t.question_len = static_cast<uint16_t>(q.wire.size() + 4);
  const uint8_t opt[11] = {0, 0, 41, kEdnsSize >> 8, kEdnsSize & 0xff, 0, 0, 0, 0, 0, 0};
  std::memcpy(dns + n, opt, sizeof(opt));
  n += sizeof(opt);
  const uint16_t ulen = static_cast<uint16_t>(kUdp + n);
  uint8_t* ip = f + kEth;
  ip[0] = 0x45;
  ip[1] = 0;
  Put16(ip + 2, static_cast<uint16_t>(kIp + ulen));
  Put16(ip + 4, static_cast<uint16_t>(index));
  Put16(ip + 6, 0x4000);
  ip[8] = 64;
  ip[9] = 17;
  Put16(ip + 10, 0);
  std::memcpy(ip + 12, t.client, 4);
  std::memcpy(ip + 16, kServer, 4);
  Put16(ip + 10, static_cast<uint16_t>(~Fold(Sum16(ip, kIp))));
  uint8_t* udp = ip + kIp;
  Put16(udp, t.sport);
  Put16(udp + 2, 53);
  Put16(udp + 4, ulen);
  Put16(udp + 6, 0);
  t.udp_sum0 = UdpSum(ip, udp, ulen);
  t.len = static_cast<uint16_t>(kEth + kIp + ulen);
  return t;
}

// ---- latency histogram ----------------------------------------------------------------------

// 10 ns bins up to 10 ms, one overflow bin; the exact maximum is kept beside.
class Histogram {
 public:
  static constexpr uint32_t kBinNs = 10;
  static constexpr uint32_t kBins = 1000000;
  Histogram() : bins_(kBins + 1, 0) {}
  void Add(uint64_t ns) {
    ++bins_[std::min<uint64_t>(ns / kBinNs, kBins)];
    max_ = std::max(max_, ns);
    sum_ += ns;
    ++n_;
  }
  uint64_t count() const { return n_; }
  double mean_us() const { return n_ ? sum_ / 1e3 / n_ : 0; }
  double max_us() const { return max_ / 1e3; }
  // Upper edge of the bin holding the p-quantile, in microseconds.
  double Quantile_us(double p) const {
    if (n_ == 0) return 0;
    const uint64_t rank = static_cast<uint64_t>(p * (n_ - 1)) + 1;
    uint64_t seen = 0;
    for (uint32_t i = 0; i <= kBins; ++i) {
      seen += bins_[i];
      if (seen >= rank) return i == kBins ? max_us() : (i + 1) * kBinNs / 1e3;
    }
    return max_us();
  }

 private:
  std::vector<uint32_t> bins_;
  uint64_t max_ = 0, sum_ = 0, n_ = 0;
};

// ---- the generator --------------------------------------------------------------------------

enum Wrong {
  kWrongShort,
  kWrongNotIpv4Udp,
  kWrongIpChecksum,
  kWrongAddresses,
  kWrongPorts,
  kWrongUdpChecksum,
  kWrongHeader,  // QR, opcode, QDCOUNT
  kWrongQuestion,
  kWrongRcode,
  kWrongAnswer,
  kWrongCount,
};
const char* const kWrongNames[kWrongCount] = {
    "frame too short",  "not IPv4/UDP",     "bad IPv4 checksum", "addresses not swapped",
    "ports wrong",      "bad UDP checksum", "bad DNS header",    "question differs",
    "rcode unexpected", "answer differs"};

struct GenOptions {
  double seconds = 5;
  double rate = 0;  // queries per second; 0 = closed loop
  uint32_t window = 512;
  double timeout_ms = 100;
};

struct GenResult {
  uint64_t sent = 0, correct = 0, wrong = 0, unexpected = 0, timed_out = 0, unanswered = 0;
  uint64_t not_sent = 0;  // ring to the dataplane full (open loop beyond capacity)
  uint64_t wrong_by[kWrongCount] = {};
  double elapsed_s = 0;
  Histogram latency;
};

class Generator {
 public:
  Generator(uint16_t port, rte_mempool* pool, std::vector<Template> templates,
            std::vector<Question> questions, const GenOptions& o)
      : port_(port),
        pool_(pool),
        templates_(std::move(templates)),
        questions_(std::move(questions)),
        o_(o),
        slots_(kIds) {}

  void Run(GenResult* r);

 private:
  static constexpr uint32_t kIds = 65536;
  struct Slot {
    uint64_t seq_plus1 = 0;  // 0: free
    uint64_t tsc = 0;
    uint32_t tmpl = 0;
  };

  void Receive(GenResult* r);
  Wrong Check(const rte_mbuf* m, const Template** t_out, uint16_t* id_out) const;
  bool CheckAnswer(const uint8_t* dns, size_t len, const Template& t) const;

  uint16_t port_;
  rte_mempool* pool_;
  std::vector<Template> templates_;
  std::vector<Question> questions_;
  GenOptions o_;
  std::vector<Slot> slots_;
  uint64_t seq_ = 0, oldest_ = 0, outstanding_ = 0;
  uint64_t hz_ = rte_get_tsc_hz();
};

// Checks one answer frame. On kWrongCount (= all right) or a DNS-level failure, *t_out and *id_out
// name the query it answers.
Wrong Generator::Check(const rte_mbuf* m, const Template** t_out, uint16_t* id_out) const {
  const uint8_t* f = rte_pktmbuf_mtod(m, const uint8_t*);
  const size_t len = m->data_len;
  *t_out = nullptr;
  if (len < kDnsOff + 12) return kWrongShort;
  const uint8_t* ip = f + kEth;
  if (Get16(f + 12) != 0x0800 || ip[0] != 0x45 || ip[9] != 17) return kWrongNotIpv4Udp;
  if (Fold(Sum16(ip, kIp)) != 0xffff) return kWrongIpChecksum;
  const uint16_t total = Get16(ip + 2);
  const uint8_t* udp = ip + kIp;
  const uint16_t ulen = Get16(udp + 4);
  if (kEth + total > len || total != kIp + ulen || ulen < kUdp + 12) return kWrongShort;
  const uint8_t* dns = udp + kUdp;
  const uint16_t id = Get16(dns);
  const Slot& s = slots_[id];
  if (s.seq_plus1 == 0) return kWrongCount;  // not outstanding: the caller counts it unexpected
  const Template& t = templates_[s.tmpl];
  *t_out = &t;
  *id_out = id;
  if (std::memcmp(ip + 12, kServer, 4) != 0 || std::memcmp(ip + 16, t.client, 4) != 0 ||
      std::memcmp(f, t.bytes + 6, 6) != 0) {
    return kWrongAddresses;
  }
  if (Get16(udp) != 53 || Get16(udp + 2) != t.sport) return kWrongPorts;
  uint16_t stored;
  std::memcpy(&stored, udp + 6, 2);
  if (stored == 0 || UdpSum(ip, udp, ulen) != 0xffff) return kWrongUdpChecksum;
  const size_t dlen = ulen - kUdp;
  // QR set, opcode QUERY, one question, the query's question (case and all).
  if (!(dns[2] & 0x80) || (dns[2] & 0x78) != 0 || Get16(dns + 4) != 1) return kWrongHeader;
  if (dlen < 12u + t.question_len ||
      std::memcmp(dns + 12, t.bytes + kDnsOff + 12, t.question_len) != 0) {
    return kWrongQuestion;
  }
  const Question& q = questions_[t.question];
  if ((dns[3] & 0xF) != (q.nxdomain ? 3 : 0)) return kWrongRcode;
  if (!CheckAnswer(dns, dlen, t)) return kWrongAnswer;
  return kWrongCount;
}

// The answer section is exactly the expected A RRset (any order), owned by the question name;
// NXDOMAIN has no answers and an SOA in authority.
bool Generator::CheckAnswer(const uint8_t* dns, size_t len, const Template& t) const {
  const Question& q = questions_[t.question];
  const uint16_t an = Get16(dns + 6), ns = Get16(dns + 8);
  if (q.nxdomain) return an == 0 && ns >= 1;
  if (an != q.a.size()) return false;
  size_t p = 12 + t.question_len;
  uint32_t got[kMaxA];
  if (an > kMaxA) return false;
  for (uint16_t i = 0; i < an; ++i) {
    // Owner: a compression pointer to the question (offset 12) or the name spelled out.
    if (p + 2 > len) return false;
    if ((dns[p] & 0xC0) == 0xC0) {
      if ((Get16(dns + p) & 0x3FFF) != 12) return false;
      p += 2;
    } else {
      const size_t n = q.wire.size();
      if (p + n > len) return false;
      for (size_t k = 0; k < n; ++k) {
        const uint8_t c = dns[p + k];
        if ((c >= 'A' && c <= 'Z' ? c | 0x20 : c) != static_cast<uint8_t>(q.wire[k])) {
          return false;
        }
      }
      p += n;
    }
    if (p + 14 > len) return false;
    if (Get16(dns + p) != kTypeA || Get16(dns + p + 2) != 1 || Get16(dns + p + 8) != 4) {
      return false;
    }
    got[i] = uint32_t{Get16(dns + p + 10)} << 16 | Get16(dns + p + 12);
    p += 14;
  }
  std::sort(got, got + an);
  return std::equal(got, got + an, q.a.begin());
}

void Generator::Receive(GenResult* r) {
  rte_mbuf* rx[kBurst];
  const uint16_t n = rte_eth_rx_burst(port_, 0, rx, kBurst);
  if (n == 0) return;
  const uint64_t now = rte_rdtsc();
  for (uint16_t i = 0; i < n; ++i) {
    const Template* t = nullptr;
    uint16_t id = 0;
    const Wrong w = Check(rx[i], &t, &id);
    if (t == nullptr) {
      if (w == kWrongCount) {
        ++r->unexpected;  // an id that is not outstanding: duplicate, late, or never sent
      } else {
        ++r->wrong;  // cannot even tell which query it answers
        ++r->wrong_by[w];
      }
      continue;
    }
    Slot& s = slots_[id];
    r->latency.Add((now - s.tsc) * 1000000000ull / hz_);
    if (w == kWrongCount) {
      ++r->correct;
    } else {
      ++r->wrong;
      ++r->wrong_by[w];
    }
    s.seq_plus1 = 0;
    --outstanding_;
  }
  rte_pktmbuf_free_bulk(rx, n);
}

void Generator::Run(GenResult* r) {
  const uint64_t timeout = static_cast<uint64_t>(o_.timeout_ms * 1e-3 * hz_);
  const uint64_t start = rte_rdtsc();
  const uint64_t end = start + static_cast<uint64_t>(o_.seconds * hz_);
  const double per_tsc = o_.rate / hz_;
  // Open loop never has more ids in flight than can be told apart.
  const uint64_t max_outstanding = o_.rate > 0 ? kIds - kBurst : o_.window;
  uint64_t now = start, last_send = start, send_end = 0;
  size_t next_tmpl = 0;
  rte_mbuf* tx[kBurst];
  while (true) {
    Receive(r);
    now = rte_rdtsc();
    // Time out the oldest outstanding queries, so that losses do not shrink the window forever.
    while (oldest_ < seq_) {
      Slot& s = slots_[oldest_ & (kIds - 1)];
      if (s.seq_plus1 != oldest_ + 1) {
        ++oldest_;
        continue;
      }
      if (now - s.tsc < timeout) break;
      s.seq_plus1 = 0;
      --outstanding_;
      ++r->timed_out;
      ++oldest_;
    }
    const bool sending = now < end && !g_interrupted.load(std::memory_order_relaxed);
    if (!sending) {
      if (send_end == 0) send_end = now;
      if (outstanding_ == 0 || now - last_send > timeout) break;
      continue;
    }
    uint64_t want = kBurst;
    if (o_.rate > 0) {
      const uint64_t due = static_cast<uint64_t>((now - start) * per_tsc);
      want = due > r->sent + r->not_sent ? due - r->sent - r->not_sent : 0;
    }
    want = std::min<uint64_t>(
        {want, kBurst, max_outstanding - std::min(max_outstanding, outstanding_)});
    if (want == 0) continue;
    if (rte_pktmbuf_alloc_bulk(pool_, tx, static_cast<unsigned>(want)) != 0) continue;
    uint16_t ids[kBurst];
    uint16_t n = 0;
    for (; n < want; ++n) {
      const uint16_t id = static_cast<uint16_t>(seq_);
      Slot& s = slots_[id];
      if (s.seq_plus1 != 0) break;  // still outstanding from 65536 queries ago
      const Template& t = templates_[next_tmpl];
      uint8_t* f = rte_pktmbuf_mtod(tx[n], uint8_t*);
      std::memcpy(f, t.bytes, t.len);
      Put16(f + kDnsOff, id);
      // RFC 1624: the id word went from 0 to `id`, so the running sum grows by `id`.
      uint16_t c = static_cast<uint16_t>(~Fold(uint32_t{t.udp_sum0} + id));
      if (c == 0) c = 0xffff;
      Put16(f + kEth + kIp + 6, c);
      tx[n]->data_len = t.len;
      tx[n]->pkt_len = t.len;
      s.seq_plus1 = ++seq_;
      s.tmpl = static_cast<uint32_t>(next_tmpl);
      ids[n] = id;
      if (++next_tmpl == templates_.size()) next_tmpl = 0;
    }
    if (n < want) rte_pktmbuf_free_bulk(tx + n, static_cast<unsigned>(want - n));
    if (n == 0) continue;
    // One timestamp for the burst, just before it leaves: the queries of a burst go together.
    const uint64_t stamp = rte_rdtsc();
    for (uint16_t i = 0; i < n; ++i) slots_[ids[i]].tsc = stamp;
    const uint16_t sent = rte_eth_tx_burst(port_, 0, tx, n);
    for (uint16_t i = sent; i < n; ++i) slots_[ids[i]].seq_plus1 = 0;
    if (sent < n) rte_pktmbuf_free_bulk(tx + sent, n - sent);
    r->sent += sent;
    r->not_sent += n - sent;
    outstanding_ += sent;
    last_send = stamp;
  }
  r->elapsed_s = static_cast<double>((send_end ? send_end : now) - start) / hz_;
  r->unanswered = outstanding_;
}

// ---- wiring ---------------------------------------------------------------------------------

// CPU seconds (user + system) of this process's threads, by thread name. On a machine whose cores
// are shared, a busy-polling thread gets only part of its core: its CPU time over the run's wall
// time says how much, and explains latency tails of milliseconds (time slices of other tasks).
std::map<std::string, double> ThreadCpu() {
  std::map<std::string, double> out;
  const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  DIR* d = opendir("/proc/self/task");
  if (d == nullptr) return out;
  while (const dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    const std::string base = absl::StrCat("/proc/self/task/", e->d_name);
    std::string comm, stat;
    std::getline(std::ifstream(base + "/comm"), comm);
    std::getline(std::ifstream(base + "/stat"), stat);
    const size_t paren = stat.rfind(')');
    if (paren == std::string::npos) continue;
    std::istringstream fields(stat.substr(paren + 2));
    std::string f;
    unsigned long long utime = 0, stime = 0;
    for (int i = 0; i < 13 && fields >> f; ++i) {
      if (i == 11) utime = std::strtoull(f.c_str(), nullptr, 10);
      if (i == 12) stime = std::strtoull(f.c_str(), nullptr, 10);
    }
    // The main thread carries the process name; name it for what it does here.
    const std::string name =
        std::string(e->d_name) == std::to_string(getpid()) ? "generator" : comm;
    out[name] += (utime + stime) / tick;
  }
  closedir(d);
  return out;
}

void RemoveTree(const std::string& dir) {
  if (DIR* d = opendir(dir.c_str())) {
    while (const dirent* e = readdir(d)) {
      if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) {
        unlink((dir + "/" + e->d_name).c_str());
      }
    }
    closedir(d);
  }
  rmdir(dir.c_str());
}

// /dev/shm/<instance>.ctl and every /dev/shm/<instance>.snap.<generation>.
void RemoveInstanceFiles(const std::string& instance) {
  unlink(maps::ControlBlockPath(instance).c_str());
  const std::string snap = maps::SnapshotPath(instance, 1);
  const size_t slash = snap.rfind('/');
  const std::string dir = snap.substr(0, slash);
  const std::string prefix = snap.substr(slash + 1, snap.size() - slash - 2);  // "<instance>.snap."
  if (DIR* d = opendir(dir.c_str())) {
    while (const dirent* e = readdir(d)) {
      if (std::strncmp(e->d_name, prefix.c_str(), prefix.size()) == 0) {
        unlink((dir + "/" + e->d_name).c_str());
      }
    }
    closedir(d);
  }
}

struct RingDeleter {
  void operator()(rte_ring* r) const { rte_ring_free(r); }
};
struct PoolDeleter {
  void operator()(rte_mempool* p) const { rte_mempool_free(p); }
};

int Main(int argc, char** argv) {
  // A private EAL runtime directory unless one is named, so that another DPDK process on the
  // machine (with the default prefix "rte") does not collide with this one; removed at the end.
  std::vector<char*> eal_argv(argv, argv + argc);
  std::string own_prefix;
  bool has_prefix = false;
  for (int i = 1; i < argc && std::strcmp(argv[i], "--") != 0; ++i) {
    has_prefix |= std::strncmp(argv[i], "--file-prefix", 13) == 0;
  }
  if (!has_prefix) {
    own_prefix = absl::StrCat("--file-prefix=sxperf-", getpid());
    eal_argv.insert(eal_argv.begin() + 1, own_prefix.data());
  }
  eal_argv.push_back(nullptr);
  argc = static_cast<int>(eal_argv.size()) - 1;
  argv = eal_argv.data();
  const int eal_args = rte_eal_init(argc, argv);
  if (eal_args < 0) return Fail(absl::StrCat("EAL init failed: ", rte_strerror(rte_errno)));
  argc -= eal_args;
  argv += eal_args;

  GenOptions go;
  std::string zone_path, origin, instance;
  int nx_percent = 10, hosts = 1000;
  uint32_t templates_n = 4096;
  CLI::App app{"sextant-perf: <EAL args> -- [--seconds S] [--rate QPS] [--zone FILE]"};
  app.add_option("--seconds", go.seconds, "how long to send queries")->check(CLI::PositiveNumber);
  app.add_option("--rate", go.rate, "queries per second offered; 0 = closed loop (--window)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--window", go.window, "closed loop: queries outstanding at most")
      ->check(CLI::Range(1u, 65000u));
  app.add_option("--timeout-ms", go.timeout_ms, "a query unanswered this long is lost");
  app.add_option("--zone", zone_path, "zone file (default: a generated zone of --hosts hosts)");
  app.add_option("--origin", origin, "origin of --zone (default: its $ORIGIN line)");
  app.add_option("--hosts", hosts, "hosts in the generated zone")->check(CLI::Range(1, 100000));
  app.add_option("--nxdomain-percent", nx_percent, "share of queries for missing names")
      ->check(CLI::Range(0, 100));
  app.add_option("--frames", templates_n, "distinct query frames (names x client addresses)")
      ->check(CLI::Range(1u, 1000000u));
  app.add_option("--instance", instance, "shm instance name (default sxperf-<pid>)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    rte_eal_cleanup();
    return rc;
  }
  if (rte_lcore_count() < 2) {
    return Fail(
        "needs two lcores (-l 0-1): the generator on the main one, the dataplane's "
        "worker on the other");
  }
  if (instance.empty()) instance = absl::StrCat("sxperf-", getpid());

  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  // The config: the zone file (given or generated) in a private directory.
  char dir_template[] = "/tmp/sxperf.XXXXXX";
  const char* dir = mkdtemp(dir_template);
  if (dir == nullptr) return Fail("cannot create a temporary directory");
  const std::string work = dir;
  // Whatever happens below, leave no files behind: the work directory and the instance's shm
  // files (control block and snapshots).
  struct Cleanup {
    std::string work, instance;
    ~Cleanup() {
      RemoveTree(work);
      RemoveInstanceFiles(instance);
    }
  } cleanup{work, instance};
  if (zone_path.empty()) {
    origin = "perf.test.";
    zone_path = work + "/perf.test.zone";
    std::ofstream(zone_path) << DefaultZone(origin, hosts);
  } else {
    char* abs = realpath(zone_path.c_str(), nullptr);
    if (abs == nullptr) return Fail(absl::StrCat("no zone file ", zone_path));
    zone_path = abs;
    free(abs);
    if (origin.empty()) origin = OriginOf(zone_path);
    if (origin.empty()) return Fail(absl::StrCat(zone_path, " has no $ORIGIN; pass --origin"));
  }
  const std::string config_path = work + "/config.yaml";
  std::ofstream(config_path) << "instance: " << instance << "\nzones:\n  - origin: " << origin
                             << "\n    file: " << zone_path << "\n";

  auto config = control::LoadConfig(config_path);
  if (!config.ok()) return Fail(std::string(config.status().message()));
  auto zones = control::LoadZones(*config);
  if (!zones.ok()) return Fail(std::string(zones.status().message()));
  std::vector<Question> questions = AnswerableNames(*zones);
  if (questions.empty()) return Fail(absl::StrCat(zone_path, " has no A records to ask for"));
  const size_t n_answerable = questions.size();
  std::vector<Question> nx = NxdomainNames(*zones, 256);
  if (nx.empty()) nx_percent = 0;
  for (Question& q : nx) questions.push_back(std::move(q));

  // Publish through the control-plane code, then follow it as sextant-dataplane does.
  auto publisher = control::Publisher::Create(instance);
  if (!publisher.ok()) return Fail(std::string(publisher.status().message()));
  control::CompileStats stats;
  auto gen = (*publisher)->Publish([&](uint64_t g) {
    return control::CompileSnapshot(*config, g, &stats);
  });
  if (!gen.ok()) return Fail(std::string(gen.status().message()));
  auto block = maps::ControlBlockMapping::Open(instance, false);
  if (!block.ok()) return Fail(std::string(block.status().message()));
  maps::ControlBlock* cb = (*block)->get();
  std::atomic<bool> stop_dp{false};
  dataplane::SnapshotFollower follower(instance, cb);
  if (absl::Status s = follower.LoadInitial(false, &stop_dp); !s.ok()) {
    return Fail(std::string(s.message()));
  }
  follower.Start();

  // Two crossed rings: queries gen -> dataplane, answers dataplane -> gen.
  const int socket = static_cast<int>(rte_socket_id());
  std::unique_ptr<rte_ring, RingDeleter> to_dp(
      rte_ring_create("sxperf_q", kRingSize, socket, RING_F_SP_ENQ | RING_F_SC_DEQ));
  std::unique_ptr<rte_ring, RingDeleter> to_gen(
      rte_ring_create("sxperf_a", kRingSize, socket, RING_F_SP_ENQ | RING_F_SC_DEQ));
  if (!to_dp || !to_gen) return Fail(absl::StrCat("rings: ", rte_strerror(rte_errno)));
  rte_ring* dp_rx = to_dp.get();
  rte_ring* dp_tx = to_gen.get();
  const int dp_port = rte_eth_from_rings("sxperf_dp", &dp_rx, 1, &dp_tx, 1, socket);
  const int gen_port = rte_eth_from_rings("sxperf_gen", &dp_tx, 1, &dp_rx, 1, socket);
  if (dp_port < 0 || gen_port < 0) {
    return Fail(absl::StrCat("rte_eth_from_rings: ", rte_strerror(rte_errno)));
  }

  // The ring port exists only in this process, so its id cannot come from the config.
  dataplane::PortSettings dc;
  dataplane::PortAddress a;
  a.family = 4;
  std::memcpy(a.addr, kServer, 4);
  dc.addresses.push_back(a);
  dc.port = static_cast<uint16_t>(dp_port);
  dc.exception_path = false;
  auto dp = dataplane::DpdkDataplane::Create(dc, &follower, cb);
  if (!dp.ok()) return Fail(absl::StrCat("dataplane: ", dp.status().message()));

  std::unique_ptr<rte_mempool, PoolDeleter> pool(
      rte_pktmbuf_pool_create("sxperf_gen", kGenMbufs, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, socket));
  if (!pool) return Fail(absl::StrCat("generator mbuf pool: ", rte_strerror(rte_errno)));
  {
    rte_eth_conf conf{};
    int rc = rte_eth_dev_configure(gen_port, 1, 1, &conf);
    if (rc == 0) rc = rte_eth_rx_queue_setup(gen_port, 0, 1024, socket, nullptr, pool.get());
    if (rc == 0) rc = rte_eth_tx_queue_setup(gen_port, 0, 1024, socket, nullptr);
    if (rc == 0) rc = rte_eth_dev_start(gen_port);
    if (rc != 0) return Fail(absl::StrCat("generator port: ", rte_strerror(-rc)));
  }

  rte_ether_addr dp_mac, gen_mac;
  rte_eth_macaddr_get(dp_port, &dp_mac);
  rte_eth_macaddr_get(gen_port, &gen_mac);
  std::vector<Template> templates;
  templates.reserve(templates_n);
  for (uint32_t i = 0; i < templates_n; ++i) {
    // Every (100 / nx_percent)-th frame or so asks for a missing name, spread evenly.
    const bool want_nx = nx_percent > 0 && (i * nx_percent) / 100 != ((i + 1) * nx_percent) / 100;
    const uint32_t qi =
        want_nx ? static_cast<uint32_t>(n_answerable + i % (questions.size() - n_answerable))
                : static_cast<uint32_t>(i * 2654435761u % n_answerable);
    templates.push_back(MakeTemplate(questions[qi], i, qi, dp_mac.addr_bytes, gen_mac.addr_bytes));
  }

  std::printf(
      "sextant-perf: generation %llu (%zu records), %zu names with A records%s; dataplane on "
      "%s (%d worker lcore), generator on lcore %u; %s; %.1f s\n",
      static_cast<unsigned long long>(*gen), stats.records, n_answerable,
      nx_percent ? absl::StrCat(", ", nx_percent, "% NXDOMAIN").c_str() : "",
      (*dp)->port_name().c_str(), (*dp)->worker_count(), rte_lcore_id(),
      go.rate > 0 ? absl::StrFormat("open loop at %.0f qps", go.rate).c_str()
                  : absl::StrCat("closed loop, window ", go.window).c_str(),
      go.seconds);
  std::fflush(stdout);

  // DpdkDataplane::Run launches the worker loop and then blocks until `stop_dp`: it runs on a
  // helper thread so that the main lcore is free for the generator. That thread is not the main
  // lcore, which rte_eal_remote_launch and rte_eal_mp_wait_lcore are documented to want; in DPDK
  // 22.11 they only touch the worker's state and pipe, so this works. A Launch()/Wait() pair on
  // DpdkDataplane would make it by the book.
  std::thread runner([&] { (*dp)->Run(stop_dp); });
  const std::map<std::string, double> cpu_before = ThreadCpu();
  const auto wall_before = std::chrono::steady_clock::now();
  auto result = std::make_unique<GenResult>();
  Generator generator(static_cast<uint16_t>(gen_port), pool.get(), std::move(templates),
                      std::move(questions), go);
  generator.Run(result.get());
  const std::map<std::string, double> cpu_after = ThreadCpu();
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_before).count();
  stop_dp = true;
  runner.join();

  const GenResult& r = *result;
  const uint64_t answered = r.correct + r.wrong;
  const uint64_t lost = r.timed_out + r.unanswered;
  std::printf("  sent        %llu", static_cast<unsigned long long>(r.sent));
  if (r.not_sent) {
    std::printf(" (+%llu not sent: ring to the dataplane full)",
                static_cast<unsigned long long>(r.not_sent));
  }
  std::printf("\n  answered    %llu (correct %llu, wrong %llu)\n",
              static_cast<unsigned long long>(answered), static_cast<unsigned long long>(r.correct),
              static_cast<unsigned long long>(r.wrong));
  for (int w = 0; w < kWrongCount; ++w) {
    if (r.wrong_by[w]) {
      std::printf("    wrong: %s: %llu\n", kWrongNames[w],
                  static_cast<unsigned long long>(r.wrong_by[w]));
    }
  }
  std::printf("  lost        %llu (timed out %llu, unanswered at the end %llu)\n",
              static_cast<unsigned long long>(lost), static_cast<unsigned long long>(r.timed_out),
              static_cast<unsigned long long>(r.unanswered));
  std::printf("  unexpected  %llu\n", static_cast<unsigned long long>(r.unexpected));
  std::printf("  throughput  %.3f Mqps answered (%.3f Mqps sent) over %.2f s\n",
              answered / r.elapsed_s / 1e6, r.sent / r.elapsed_s / 1e6, r.elapsed_s);
  std::printf(
      "  latency us  p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f  mean %.2f  (n=%llu)\n",
      r.latency.Quantile_us(0.5), r.latency.Quantile_us(0.9), r.latency.Quantile_us(0.99),
      r.latency.Quantile_us(0.999), r.latency.max_us(), r.latency.mean_us(),
      static_cast<unsigned long long>(r.latency.count()));
  std::string shares;
  for (const auto& [name, sec] : cpu_after) {
    const auto it = cpu_before.find(name);
    const double used = sec - (it == cpu_before.end() ? 0 : it->second);
    if (used > 0.01 * wall) absl::StrAppendFormat(&shares, "  %s %.2f", name, used / wall);
  }
  std::printf("  cpu share  %s  (CPU seconds per wall second, per thread)\n", shares.c_str());
  unsigned lcore;
  RTE_LCORE_FOREACH_WORKER(lcore) {
    const maps::LcoreCounters& c = cb->lcores[lcore];
    uint64_t drops = 0;
    for (uint64_t d : c.dropped) drops += d;
    std::printf(
        "  dataplane lcore %u: rx %llu tx %llu queries %llu nxdomain %llu drops %llu\n", lcore,
        static_cast<unsigned long long>(c.rx_packets),
        static_cast<unsigned long long>(c.tx_packets), static_cast<unsigned long long>(c.queries),
        static_cast<unsigned long long>(c.rcode[3]), static_cast<unsigned long long>(drops));
  }

  dp->reset();  // stops and closes the dataplane's port
  rte_eth_dev_stop(gen_port);
  rte_eth_dev_close(gen_port);
  follower.Stop();
  pool.reset();
  to_dp.reset();
  to_gen.reset();
  rte_eal_cleanup();
  if (!own_prefix.empty()) {
    RemoveTree(absl::StrCat("/var/run/dpdk/", own_prefix.substr(own_prefix.find('=') + 1)));
  }
  const bool clean = r.wrong == 0 && lost == 0 && r.unexpected == 0 && answered > 0;
  return clean ? 0 : 3;
}

}  // namespace
}  // namespace sextant::perf

int main(int argc, char** argv) { return sextant::perf::Main(argc, argv); }
