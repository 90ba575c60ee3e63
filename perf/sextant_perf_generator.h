// sextant-perf's generator, on the main lcore: sends query frames in bursts on its ring port,
// keeps the TSC of each query by DNS id, receives the answers and checks every one of them (the id
// is outstanding, IPv4 header and UDP checksums are valid, addresses and ports are the query's
// swapped, the question is the query's, the rcode is the expected one, and the answer section
// holds exactly the zone's A RRset for that name, in any order). Closed loop (at most `window`
// queries outstanding) or open loop (`rate` queries per second on a TSC schedule).
#pragma once

#include <rte_cycles.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <atomic>
#include <cstdint>
#include <vector>

#include "perf/sextant_perf_latency.h"
#include "perf/sextant_perf_zone.h"

namespace sextant::perf {

inline constexpr uint16_t kBurst = 32;  // the dataplane's burst, and the generator's

// Set by SIGINT and SIGTERM: the generator stops sending and drains.
extern std::atomic<bool> g_interrupted;

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
                      const uint8_t src_mac[6]);

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
inline constexpr const char* kWrongNames[kWrongCount] = {
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

  uint64_t answered() const { return correct + wrong; }
  uint64_t lost() const { return timed_out + unanswered; }
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

}  // namespace sextant::perf
