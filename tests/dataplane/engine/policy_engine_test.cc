// Record-set policies through Engine::Answer: the fast writers the policy plan chooses and the
// general evaluator they hand over to, seen in whole responses (rcode, sections, TTLs).
#include <arpa/inet.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "dataplane/engine/engine.h"
#include "dataplane/engine/policy_evaluator.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "maps/dns/wire.h"
#include "tests/dataplane/engine/policy_cases.h"
#include "tests/support/test_snapshot.h"

namespace sextant::dataplane {
namespace {

namespace dns = ::sextant::maps::dns;
namespace sxt = ::sextant::testing;
using namespace ::sextant::dataplane::policy_cases;  // NOLINT: the tables' vocabulary
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAreArray;

Reply Ask(const Engine& e, const std::string& name, uint16_t qtype) {
  const std::vector<uint8_t> q = sxt::MakeQuery(name, qtype);
  std::vector<uint8_t> out(kMaxDnsMessage);
  AnswerInfo info;
  const size_t n = e.Answer(q.data(), q.size(), ClientInfo{}, out.data(), out.size(), &info);
  if (n == 0) {
    ADD_FAILURE() << "query dropped";
    return {};
  }
  Reply r = DecodeReply(out.data(), n);
  EXPECT_EQ(info.rcode, r.rcode);
  return r;
}

// A snapshot, its health words and an engine reading both.
struct PolicyServer {
  std::unique_ptr<maps::SnapshotReader> reader;
  std::unique_ptr<Engine> engine;
  std::map<std::string, uint32_t> health_word;
  std::atomic<uint32_t> words[kHealthWords];

  void Set(const std::vector<uint32_t>& states) {
    for (auto& w : words) w.store(Up, std::memory_order_relaxed);
    for (size_t i = 0; i < states.size(); ++i) {
      words[health_word.at(absl::StrCat("t", i + 1))].store(states[i], std::memory_order_relaxed);
    }
  }
};

// `records` is the body of `records:`.
std::unique_ptr<PolicyServer> MakeServer(const std::string& resources, const std::string& records,
                                         const std::string& zone = kZone) {
  auto reader =
      sxt::BuildTestSnapshot({{"pol.test.", zone}}, "", 1, PolicyYaml(resources, records));
  if (!reader.ok()) {
    ADD_FAILURE() << reader.status();
    return nullptr;
  }
  auto s = std::make_unique<PolicyServer>();
  s->reader = std::move(reader).value();
  const SnapshotView v = SnapshotView::Of(*s->reader);
  for (const maps::Target& t : s->reader->section<maps::Target>(maps::kTargets)) {
    s->health_word[std::string(reinterpret_cast<const char*>(v.strings) + t.name.offset,
                               t.name.length)] = t.health;
  }
  s->Set({});
  s->engine = std::make_unique<Engine>(*s->reader);
  s->engine->set_health(s->words);
  return s;
}

const std::string kSoaAuthority = "pol.test. 300 SOA";

TEST(PolicyEngine, AnswersTheHealthyAddressesWithTheResourceTtl) {
  auto s = MakeServer(
      "web: {kind: static, ttl: 45, members: [{address: 192.0.2.1, target: t1},\n"
      "    {address: 192.0.2.2, target: t2}, {address: 192.0.2.3, target: t3}]}",
      "  - {name: www.pol.test., type: A, resource: web}\n");
  ASSERT_NE(s, nullptr);
  struct Case {
    std::vector<uint32_t> health;
    std::vector<std::string> answer;
  } cases[] = {
      {{Up, Up, Up},
       {"www.pol.test. 45 A 192.0.2.1", "www.pol.test. 45 A 192.0.2.2",
        "www.pol.test. 45 A 192.0.2.3"}},
      {{Up, Down, Up}, {"www.pol.test. 45 A 192.0.2.1", "www.pol.test. 45 A 192.0.2.3"}},
      {{Drained, Down, Up}, {"www.pol.test. 45 A 192.0.2.3"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::StrJoin(c.answer, ", "));
    s->Set(c.health);
    const Reply r = Ask(*s->engine, "www.pol.test", kA);
    EXPECT_EQ(r.rcode, dns::kNoError);
    EXPECT_TRUE(r.aa);
    EXPECT_THAT(r.answer, UnorderedElementsAreArray(c.answer));
  }
  // ANY (minimal, RFC 8482): the one RRset there, picked by the policy like an A query.
  EXPECT_THAT(Ask(*s->engine, "www.pol.test", kAny).answer,
              ElementsAre("www.pol.test. 45 A 192.0.2.3"));
  // Another type at the name: NODATA.
  const Reply aaaa = Ask(*s->engine, "www.pol.test", kAaaa);
  EXPECT_EQ(aaaa.rcode, dns::kNoError);
  EXPECT_THAT(aaaa.answer, IsEmpty());
  EXPECT_THAT(aaaa.authority, ElementsAre(kSoaAuthority));
}

TEST(PolicyEngine, AHealthChangeShowsInTheVeryNextAnswer) {
  auto s = MakeServer(
      "web: {kind: failover, ttl: 30, ttl_when_down: 5, members: [{address: 192.0.2.1, "
      "target: t1},\n    {address: 192.0.2.2, target: t2}]}",
      "  - {name: www.pol.test., type: A, resource: web}\n");
  ASSERT_NE(s, nullptr);
  struct Step {
    uint32_t t1;
    std::string answer;
  } steps[] = {
      {Up, "www.pol.test. 30 A 192.0.2.1"}, {Down, "www.pol.test. 5 A 192.0.2.2"},
      {Up, "www.pol.test. 30 A 192.0.2.1"}, {Drained, "www.pol.test. 5 A 192.0.2.2"},
      {Up, "www.pol.test. 30 A 192.0.2.1"},
  };
  for (const Step& st : steps) {
    s->words[s->health_word.at("t1")].store(st.t1, std::memory_order_relaxed);
    EXPECT_THAT(Ask(*s->engine, "www.pol.test", kA).answer, ElementsAre(st.answer));
  }
}

TEST(PolicyEngine, AllDownRulesShapeTheResponse) {
  struct Case {
    std::string rule;
    uint16_t rcode;
    std::vector<std::string> answer, authority;
  } cases[] = {
      {"servfail", dns::kServFail, {}, {}},
      {"nodata", dns::kNoError, {}, {kSoaAuthority}},
      {"all",
       dns::kNoError,
       {"www.pol.test. 300 A 192.0.2.1", "www.pol.test. 300 A 192.0.2.2"},
       {}},
      {"first", dns::kNoError, {"www.pol.test. 300 A 192.0.2.1"}, {}},
      {"fallback, fallback: [198.51.100.7]",
       dns::kNoError,
       {"www.pol.test. 300 A 198.51.100.7"},
       {}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.rule);
    auto s = MakeServer(absl::StrCat("web: {kind: failover, all_down: ", c.rule,
                                     ", members: [{address: 192.0.2.1, target: t1},\n"
                                     "    {address: 192.0.2.2, target: t2}]}"),
                        "  - {name: www.pol.test., type: A, resource: web}\n");
    ASSERT_NE(s, nullptr);
    s->Set({Down, Drained});
    const Reply r = Ask(*s->engine, "www.pol.test", kA);
    EXPECT_EQ(r.rcode, c.rcode);
    EXPECT_THAT(r.answer, UnorderedElementsAreArray(c.answer));
    EXPECT_THAT(r.authority, ElementsAreArray(c.authority));
  }
}

TEST(PolicyEngine, FollowsCnameResourcesInsideTheZone) {
  auto s = MakeServer(
      "web: {kind: failover, ttl: 20, members: [{cname: c1.pol.test., target: t1},\n"
      "    {cname: c2.pol.test., target: t2}]}\n"
      "pool: {order: fixed, ttl: 40, members: [{address: 192.0.2.1, target: t1},\n"
      "    {address: 192.0.2.2, target: t2}]}",
      "  - {name: www.pol.test., type: CNAME, resource: web}\n"
      "  - {name: pool.pol.test., type: A, resource: pool}\n",
      std::string(kZone) + "alias IN CNAME pool\n");
  ASSERT_NE(s, nullptr);
  struct Case {
    std::string rule;
    std::string query;
    uint16_t qtype;
    std::vector<uint32_t> health;
    std::vector<std::string> answer;
  } cases[] = {
      {"resource CNAME, then the target's A",
       "www.pol.test",
       kA,
       {Up, Up},
       {"www.pol.test. 20 CNAME c1.pol.test.", "c1.pol.test. 3600 A 192.0.2.101"}},
      {"resource CNAME fails over",
       "www.pol.test",
       kA,
       {Down, Up},
       {"www.pol.test. 20 CNAME c2.pol.test.", "c2.pol.test. 3600 A 192.0.2.102"}},
      {"CNAME query: the CNAME only",
       "www.pol.test",
       kCname,
       {Up, Up},
       {"www.pol.test. 20 CNAME c1.pol.test."}},
      {"zone CNAME into a policy name",
       "alias.pol.test",
       kA,
       {Up, Down},
       {"alias.pol.test. 3600 CNAME pool.pol.test.", "pool.pol.test. 40 A 192.0.2.1"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.rule);
    s->Set(c.health);
    const Reply r = Ask(*s->engine, c.query, c.qtype);
    EXPECT_EQ(r.rcode, dns::kNoError);
    EXPECT_THAT(r.answer, ElementsAreArray(c.answer));
  }
}

// The engine's fast writers answer 16-member sets in every policy like the general path, with
// the resource's TTL.
TEST(PolicyEngine, WritesFastPathAnswersLikeTheGeneralPath) {
  struct Case {
    std::string spec;
    std::vector<uint32_t> health;
    size_t answers;
    std::vector<std::string> must;  // records every answer has
    size_t distinct;                // records seen over all answers
  } cases[] = {
      {"kind: static, order: cyclic", {}, 16, {"www.pol.test. 60 A 192.0.2.16"}, 16},
      {"kind: static, order: fixed", {}, 16, {"www.pol.test. 60 A 192.0.2.1"}, 16},
      {"kind: static, order: random", {}, 16, {"www.pol.test. 60 A 192.0.2.9"}, 16},
      {"kind: failover", {Down, Drained, Down}, 1, {"www.pol.test. 60 A 192.0.2.4"}, 1},
      {"kind: weighted", {}, 1, {}, 16},
      {"kind: multivalue, count: 8", {}, 8, {}, 16},
      {"kind: multivalue, count: 8", {Down, Down}, 8, {}, 14},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.spec);
    auto s = MakeServer("web: {" + c.spec + ", ttl: 60, " + Sixteen(),
                        "  - {name: www.pol.test., type: A, resource: web}\n");
    ASSERT_NE(s, nullptr);
    s->Set(c.health);
    std::set<std::string> seen;
    for (int i = 0; i < 200; ++i) {
      const Reply r = Ask(*s->engine, "www.pol.test", kA);
      ASSERT_EQ(r.rcode, dns::kNoError);
      ASSERT_EQ(r.answer.size(), c.answers);
      ASSERT_EQ(std::set<std::string>(r.answer.begin(), r.answer.end()).size(), c.answers);
      for (const std::string& m : c.must) ASSERT_THAT(r.answer, ::testing::Contains(m));
      for (const std::string& a : r.answer) {
        for (size_t k = 0; k < c.health.size(); ++k) {
          if (c.health[k] != Up) {
            ASSERT_NE(a, absl::StrCat("www.pol.test. 60 A 192.0.2.", k + 1));
          }
        }
      }
      seen.insert(r.answer.begin(), r.answer.end());
    }
    EXPECT_EQ(seen.size(), c.distinct);
  }
}

// A lone member (kWriterOneA/Aaaa, any kind): through Engine::Answer, the same answer,
// TTL and rcode as the general evaluator (asked with a trace, so it never takes a fast path),
// with the member up, down and drained, for every kind, all-down rule and ttl_when_down.
TEST(PolicyEngine, LoneMemberWriterAnswersAsTheGeneralEvaluator) {
  const std::string kinds[] = {
      "kind: static",
      "kind: static, order: random",
      "kind: failover, ttl_when_down: 5",
      "kind: weighted",
      "kind: weighted, count: 2",
      "kind: multivalue, count: 3, ttl_when_down: 5",
      "kind: static, all_down: nodata",
      "kind: failover, all_down: servfail",
      "kind: multivalue, all_down: fallback, fallback: [192.0.2.99]",
  };
  for (const bool aaaa : {false, true}) {
    for (std::string kind : kinds) {
      if (aaaa) absl::StrReplaceAll({{"192.0.2.99", "'2001:db8::99'"}}, &kind);
      const std::string address = aaaa ? "'2001:db8::1'" : "192.0.2.1";
      for (const uint32_t state : {Up, Down, Drained}) {
        SCOPED_TRACE(absl::StrCat(kind, aaaa ? ", AAAA" : ", A", ", state ", state));
        auto s = MakeServer(absl::StrCat("web: {", kind, ", ttl: 60, members: [{address: ", address,
                                         ", target: t1}]}"),
                            absl::StrCat("  - {name: www.pol.test., type: ", aaaa ? "AAAA" : "A",
                                         ", resource: web}\n"));
        ASSERT_NE(s, nullptr);
        const uint32_t id = s->engine->view().plans[0].writer;
        ASSERT_EQ(id >> 2, aaaa ? kWriterOneAaaa : kWriterOneA);
        s->Set({state});
        Selection sel;
        PolicyTrace trace;
        EvaluateResource(SnapshotView::Of(*s->reader), s->words, 0, &sel, &trace);
        const Reply r = Ask(*s->engine, "www.pol.test", aaaa ? kAaaa : kA);
        if (sel.outcome == PolicyOutcome::kServFail) {
          EXPECT_EQ(r.rcode, dns::kServFail);
          continue;
        }
        ASSERT_EQ(r.rcode, dns::kNoError);
        std::vector<std::string> want;
        if (sel.outcome == PolicyOutcome::kAnswer) {
          for (const std::string& a : Picked(sel, aaaa ? kAaaa : kA)) {
            want.push_back(absl::StrCat("www.pol.test. ", sel.ttl, aaaa ? " AAAA " : " A ", a));
          }
        }
        EXPECT_EQ(r.answer, want);
      }
    }
  }
}

// Multivalue over at most 16 A or AAAA members is answered by the engine's sample writer
// (kWriterSampleA/Aaaa), which draws in a vector register and writes from it. Through
// Engine::Answer, for every run length, A and AAAA, counts below, at and above 8 (the writer
// writes the high and the low half of its sample separately), all up and with two members
// down: every answer has min(count, up) distinct up members; each up member comes first, and
// is in the answer, about equally often (chi-square, p = 0.001; sampling without replacement
// only makes the membership statistic smaller); every member is written whole.
TEST(PolicyEngine, SampleWriterAnswersUniformSamplesOfTheUpMembers) {
  const std::map<int, double> kChi2 = {{1, 10.83},  {2, 13.82},  {3, 16.27},  {4, 18.47},
                                       {5, 20.52},  {6, 22.46},  {7, 24.32},  {8, 26.12},
                                       {9, 27.88},  {10, 29.59}, {11, 31.26}, {12, 32.91},
                                       {13, 34.53}, {14, 36.12}, {15, 37.70}};
  for (const bool aaaa : {false, true}) {
    for (const int n : {1, 2, 3, 4, 5, 7, 8, 9, 12, 13, 16}) {
      for (const int count : {1, 3, 8, 9, 16}) {
        if (count > n && count != 16) continue;  // one case of count > n is enough
        for (const bool two_down : {false, true}) {
          if (two_down && n < 3) continue;
          SCOPED_TRACE(absl::StrCat(aaaa ? "AAAA" : "A", ", ", n, " members, count ", count,
                                    two_down ? ", members 1 and n down" : ", all up"));
          std::string members = "members: [";
          std::vector<std::string> address;
          for (int i = 1; i <= n; ++i) {
            address.push_back(aaaa ? absl::StrCat("2001:db8::", i) : absl::StrCat("192.0.2.", i));
            absl::StrAppend(&members, i > 1 ? ", " : "", "{address: '", address.back(),
                            "', target: t", i, "}");
          }
          auto s = MakeServer(
              absl::StrCat("web: {kind: multivalue, count: ", count, ", ttl: 60, ", members, "]}"),
              absl::StrCat("  - {name: www.pol.test., type: ", aaaa ? "AAAA" : "A",
                           ", resource: web}\n"));
          ASSERT_NE(s, nullptr);
          const uint32_t id = s->engine->view().plans[0].writer;
          // (A lone member has the lone-member writer, which this checks as well.)
          ASSERT_EQ(id >> 2, n == 1 ? (aaaa ? kWriterOneAaaa : kWriterOneA)
                             : aaaa ? kWriterSampleAaaa
                                    : kWriterSampleA);
          std::vector<uint32_t> health(static_cast<size_t>(n), Up);
          if (two_down) health[0] = health[n - 1] = Down;
          s->Set(health);
          std::set<std::string> up;
          for (int i = 0; i < n; ++i) {
            if (health[i] == Up) up.insert(address[i]);
          }
          const int keep = std::min<int>(count, static_cast<int>(up.size()));
          const int runs = 400 * static_cast<int>(up.size());
          // Seeded per case, as the other statistical tests: about 250 tests at p = 0.001
          // would otherwise fail somewhere in one run of four by chance.
          SeedPolicyRandom(uint64_t{1000} * n + 10 * count + (two_down ? 1 : 0) + (aaaa ? 5 : 0));
          std::map<std::string, int> firsts, in_answer;
          for (int i = 0; i < runs; ++i) {
            const Reply r = Ask(*s->engine, "www.pol.test", aaaa ? kAaaa : kA);
            ASSERT_EQ(r.rcode, dns::kNoError);
            ASSERT_EQ(r.answer.size(), static_cast<size_t>(keep));
            std::set<std::string> distinct;
            for (const std::string& rr : r.answer) {
              const std::string prefix =
                  absl::StrCat("www.pol.test. 60 ", aaaa ? "AAAA" : "A", " ");
              ASSERT_TRUE(absl::StartsWith(rr, prefix)) << rr;
              const std::string a = rr.substr(prefix.size());
              ASSERT_TRUE(up.count(a)) << a << " is not an up member";
              distinct.insert(a);
              ++in_answer[a];
            }
            ASSERT_EQ(distinct.size(), r.answer.size()) << "repeats";
            ++firsts[r.answer[0].substr(r.answer[0].rfind(' ') + 1)];
          }
          if (up.size() < 2) continue;
          const double df_limit = kChi2.at(static_cast<int>(up.size()) - 1);
          double chi2_first = 0, chi2_in = 0;
          const double first_expected = double{1.0} * runs / up.size();
          const double in_expected = double{1.0} * runs * keep / up.size();
          for (const std::string& a : up) {
            chi2_first +=
                (firsts[a] - first_expected) * (firsts[a] - first_expected) / first_expected;
            chi2_in += (in_answer[a] - in_expected) * (in_answer[a] - in_expected) / in_expected;
          }
          EXPECT_LT(chi2_first, df_limit);
          if (keep < static_cast<int>(up.size())) {
            EXPECT_LT(chi2_in, df_limit);
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace sextant::dataplane
