// The fast writers (fast_writers.cc) against the general evaluator and against Explain, for every
// row of the policy cases (policy_cases.h: every resource kind and health pattern the evaluator
// tests check), through whole responses of Engine::Answer:
//   * the fast writers' answers meet the row: the records, TTL and outcome the general evaluator
//     must give (many runs for the random kinds, every candidate showing up);
//   * where the row fixes the answer (kInOrder), the response is byte for byte the one of an
//     engine that sends every resource to the general evaluator; where it fixes the records but
//     not their order, the same records;
//   * Explain, from the same per-thread random state, returns the very bytes Answer returned, and
//     its trace names the writer the policy plan chose; the traced general evaluator likewise
//     returns the untraced one's bytes.
#include <algorithm>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "dataplane/engine/engine.h"
#include "dataplane/engine/policy_pickers.h"
#include "dataplane/engine/trace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "maps/dns/wire.h"
#include "tests/dataplane/engine/policy_cases.h"
#include "tests/support/test_snapshot.h"

namespace sextant::dataplane {
namespace {

using namespace ::sextant::dataplane::policy_cases;  // NOLINT: the tables' vocabulary
using ::testing::ElementsAreArray;
using ::testing::UnorderedElementsAreArray;
namespace dns = ::sextant::maps::dns;

constexpr int kRuns = 48;

// One response: its bytes and what they say.
struct Answered {
  std::vector<uint8_t> bytes;
  Reply reply;
};

Answered Ask(const Engine& e, const std::vector<uint8_t>& q, AnswerTrace* trace = nullptr) {
  Answered a;
  a.bytes.resize(kMaxDnsMessage);
  AnswerInfo info;
  const size_t n = trace == nullptr ? e.Answer(q.data(), q.size(), ClientInfo{}, a.bytes.data(),
                                               a.bytes.size(), &info)
                                    : e.Explain(q.data(), q.size(), ClientInfo{}, a.bytes.data(),
                                                a.bytes.size(), &info, trace);
  a.bytes.resize(n);
  a.reply = DecodeReply(a.bytes.data(), n);
  return a;
}

// The records of the answer section as the rows write them ("192.0.2.1", "c1.pol.test."), and
// whether every one has the row's TTL.
std::vector<std::string> Records(const Reply& r, uint32_t ttl, bool* ttl_ok) {
  std::vector<std::string> out;
  *ttl_ok = true;
  for (const std::string& rr : r.answer) {
    const std::vector<std::string> f = absl::StrSplit(rr, ' ');
    if (f.size() < 4) continue;
    *ttl_ok &= f[1] == absl::StrCat(ttl);
    out.push_back(f[3]);
  }
  return out;
}

// Whether the response is what the row wants (for one run); `seen` collects the records.
void ExpectMeetsRow(const Row& row, const Reply& r, std::set<std::string>* seen) {
  switch (row.want.outcome) {
    case PolicyOutcome::kServFail:
      EXPECT_EQ(r.rcode, dns::kServFail);
      return;
    case PolicyOutcome::kNoData:
      EXPECT_EQ(r.rcode, dns::kNoError);
      EXPECT_TRUE(r.answer.empty());
      EXPECT_EQ(r.authority.size(), 1u);
      return;
    case PolicyOutcome::kAnswer:
      break;
  }
  ASSERT_EQ(r.rcode, dns::kNoError);
  bool ttl_ok = false;
  const std::vector<std::string> got = Records(r, row.want.ttl, &ttl_ok);
  EXPECT_TRUE(ttl_ok) << absl::StrJoin(r.answer, " | ");
  switch (row.want.match) {
    case Match::kInOrder:
      EXPECT_THAT(got, ElementsAreArray(row.want.records));
      break;
    case Match::kAnyOrder:
      EXPECT_THAT(got, UnorderedElementsAreArray(row.want.records));
      break;
    case Match::kPickFrom:
    case Match::kOneOf:
      EXPECT_EQ(got.size(), row.want.picks) << absl::StrJoin(got, " ");
      EXPECT_EQ(std::set<std::string>(got.begin(), got.end()).size(), got.size());
      for (const std::string& g : got) EXPECT_THAT(row.want.records, ::testing::Contains(g));
      break;
  }
  seen->insert(got.begin(), got.end());
}

// The trace's policy step for resource r: the writer id it names.
int TracedWriter(const AnswerTrace& t, uint32_t resource) {
  for (int i = 0; i < t.n; ++i) {
    if (t.steps[i].kind == TraceStep::kPolicy && t.steps[i].resource == resource) {
      return t.steps[i].writer;
    }
  }
  return -1;
}

class Engines {
 public:
  Engines(const PolicySnapshot& s, const Health& health) : fast_(*s.reader), general_(*s.reader) {
    fast_.set_health(health.words());
    general_.set_health(health.words());
    general_.set_general_only(true);
  }
  const Engine& fast() const { return fast_; }
  const Engine& general() const { return general_; }

 private:
  Engine fast_;
  Engine general_;
};

void CheckRow(const Row& row, uint64_t seed) {
  auto snap = BuildPolicies(row.resources, row.type);
  ASSERT_TRUE(snap.ok()) << snap.status();
  Health health(*snap, row.health);
  const Engines engines(*snap, health);
  const uint32_t r = snap->ResourceIndex("r");
  const std::vector<uint8_t> q = sextant::testing::MakeQuery("r.pol.test", row.type);
  std::set<std::string> seen, seen_general;
  auto trace = std::make_unique<AnswerTrace>();
  for (int run = 0; run < kRuns; ++run) {
    SCOPED_TRACE(absl::StrCat("run ", run));
    SeedPolicyRandom(seed + run);
    const Answered fast = Ask(engines.fast(), q);
    ExpectMeetsRow(row, fast.reply, &seen);
    // Explain: the same bytes from the same random state, and the plan's writer in its trace.
    SeedPolicyRandom(seed + run);
    trace->n = 0;
    trace->policy.n = 0;
    const Answered explained = Ask(engines.fast(), q, trace.get());
    ASSERT_EQ(explained.bytes, fast.bytes);
    EXPECT_EQ(TracedWriter(*trace, r), engines.fast().view().plans[r].writer);
    // The general evaluator alone, untraced and traced: the same bytes again.
    SeedPolicyRandom(seed + run);
    const Answered general = Ask(engines.general(), q);
    SeedPolicyRandom(seed + run);
    trace->n = 0;
    trace->policy.n = 0;
    ASSERT_EQ(Ask(engines.general(), q, trace.get()).bytes, general.bytes);
    EXPECT_EQ(TracedWriter(*trace, r), 0);
    ExpectMeetsRow(row, general.reply, &seen_general);
    if (row.want.match == Match::kInOrder) {
      ASSERT_EQ(fast.bytes, general.bytes) << "the row fixes the answer";
    } else if (row.want.match == Match::kAnyOrder) {
      EXPECT_THAT(fast.reply.answer, UnorderedElementsAreArray(general.reply.answer));
    }
    if (::testing::Test::HasFailure()) return;  // one run's story is enough
  }
  if (row.want.outcome == PolicyOutcome::kAnswer && row.want.match == Match::kPickFrom) {
    EXPECT_THAT(seen, UnorderedElementsAreArray(row.want.records)) << "never picked some";
  }
}

TEST(FastWriters, AnswerEveryPolicyRowAsTheGeneralEvaluatorAndExplainDoes) {
  uint64_t seed = 1;
  int rows = 0;
  for (const RowTable& table : AllRowTables()) {
    for (const Row& row : table.rows) {
      SCOPED_TRACE(absl::StrCat(table.name, ": ", row.rule));
      CheckRow(row, seed);
      seed += kRuns;
      ++rows;
      if (::testing::Test::HasFailure()) return;
    }
  }
  EXPECT_GT(rows, 50);
}

}  // namespace
}  // namespace sextant::dataplane
