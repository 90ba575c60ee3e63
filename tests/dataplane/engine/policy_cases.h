// The record-set policy cases the policy tests share: each policy written as the YAML an
// operator would write, compiled through the real control plane (BuildTestSnapshot), health
// words set per row, and what the general evaluator must answer. policy_evaluator_test.cc checks
// the rows against the evaluator; fast_writers_test.cc runs every row through the engine's fast
// writers, the general evaluator and Explain, which must all agree.
//
// Conventions in the tables:
//   * member address 192.0.2.N (or 2001:db8::N, or cN.pol.test. for CNAME targets), when it
//     has a target, is watched by tN; `health` lists the words of t1, t2, ... in that order
//     (Up, Down or Drained), the rest stay up;
//   * the record under test is `r.pol.test.` and uses resource `r`;
//   * randomised policies are evaluated many times per row (fixed seed) and every evaluation
//     must match the row.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "dataplane/engine/policy_evaluator.h"
#include "dataplane/engine/snapshot_view.h"
#include "maps/control_block.h"
#include "maps/snapshot_reader.h"

namespace sextant::dataplane::policy_cases {

inline constexpr uint16_t kA = 1, kCname = 5, kSoa = 6, kAaaa = 28, kAny = 255;

// Health words, as the health checker writes them.
inline constexpr uint32_t Up = maps::kHealthUp;
inline constexpr uint32_t Down = 0;
inline constexpr uint32_t Drained = maps::kHealthUp | maps::kHealthDrained;

inline constexpr int kHealthWords = 20;

// The zone every test serves. c1..c3 and sorry are in-zone CNAME targets.
extern const char kZone[];

std::string TypeText(uint16_t type);
// `resources` is the body of `resources:` (one resource per line, flow style); `records` the
// body of `records:`; targets t1..t20 are declared.
std::string PolicyYaml(const std::string& resources, const std::string& records);

// A compiled snapshot with its view, and the names the tables use.
struct PolicySnapshot {
  std::unique_ptr<maps::SnapshotReader> reader;
  SnapshotView view;
  std::map<std::string, uint32_t> health_word;  // target name -> health word index

  uint32_t ResourceIndex(const std::string& name) const;
};

// The snapshot of `resources` with record r.pol.test. of `type` using resource r.
absl::StatusOr<PolicySnapshot> BuildPolicies(const std::string& resources, uint16_t type = kA,
                                             const std::string& zone = kZone);

// Health words: t1.. from `states`, everything else up.
class Health {
 public:
  Health(const PolicySnapshot& s, const std::vector<uint32_t>& states) : s_(s) { Set(states); }
  void Set(const std::vector<uint32_t>& states);
  std::atomic<uint32_t>& Of(int target);
  const std::atomic<uint32_t>* words() const { return words_; }

 private:
  const PolicySnapshot& s_;
  std::atomic<uint32_t> words_[kHealthWords];
};

// One selected record (`u16 len | rdata`, length in host order) in presentation form.
std::string RdataText(const uint8_t* rd, uint16_t type);
std::vector<std::string> Picked(const Selection& sel, uint16_t type = kA);

// What a row expects of the records picked.
enum class Match {
  kInOrder,   // exactly these, in this order
  kAnyOrder,  // exactly these, in any order
  kPickFrom,  // `picks` distinct ones of these; over the row's runs, each of them at least once
  kOneOf,     // one of these; which one is not specified
};
struct Expect {
  Match match;
  size_t picks;
  std::vector<std::string> records;
  PolicyOutcome outcome = PolicyOutcome::kAnswer;
  uint32_t ttl = 300;  // the default when the resource sets none

  Expect Ttl(uint32_t t) const {
    Expect e = *this;
    e.ttl = t;
    return e;
  }
};
Expect InOrder(std::vector<std::string> r);
Expect AnyOrder(std::vector<std::string> r);
Expect PickFrom(size_t n, std::vector<std::string> r);
Expect OneOf(std::vector<std::string> r);
Expect NoData();
Expect ServFail();

std::string OutcomeName(PolicyOutcome o);

// A decoded response: rcode and the answer and authority sections, one record per string
// ("r.pol.test. 45 A 192.0.2.1"; SOA rdata left out).
struct Reply {
  uint16_t rcode = 0xffff;
  bool aa = false;
  std::vector<std::string> answer, authority;
};
Reply DecodeReply(const uint8_t* msg, size_t len);

// "members: [...]}" of 16 members 192.0.2.1..16, watched by t1..t16 (what the engine
// benchmark's policy cases use).
std::string Sixteen();

struct Row {
  std::string rule;
  std::string resources;         // YAML; the record uses resource `r`
  std::vector<uint32_t> health;  // words of t1, t2, ...
  Expect want;
  uint16_t type = kA;
};

std::vector<Row> StaticAnswersEveryHealthyMemberRows();
std::vector<Row> FailoverAnswersTheFirstHealthyMemberRows();
std::vector<Row> WeightedPicksDistinctHealthyMembersByWeightRows();
std::vector<Row> MultivalueAnswersUpToCountHealthyMembersRows();
std::vector<Row> OverlappingNestedPoolsNeverRepeatARecordRows();
std::vector<Row> NestedResourcesCombineRows();
std::vector<Row> AllDownRulesRows();
std::vector<Row> ShuffledPoliciesWithEverythingDownApplyTheAllDownRuleRows();
std::vector<Row> TtlShrinksWhileAMemberIsDownAndNeverExceedsNestedTtlsRows();
std::vector<Row> CnameResourcesAnswerExactlyOneTargetRows();

// Every table above, with the name of its rule.
struct RowTable {
  const char* name;
  std::vector<Row> rows;
};
std::vector<RowTable> AllRowTables();

}  // namespace sextant::dataplane::policy_cases
