#include "tests/dataplane/engine/policy_cases.h"

#include <arpa/inet.h>

#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "maps/dns/wire.h"
#include "maps/snapshot_format.h"
#include "tests/support/test_snapshot.h"

namespace sextant::dataplane::policy_cases {

namespace sxt = ::sextant::testing;

const char kZone[] = R"($ORIGIN pol.test.
$TTL 3600
@      IN SOA ns1.pol.test. hostmaster.pol.test. 1 7200 3600 1209600 300
@      IN NS  ns1
ns1    IN A   192.0.2.53
c1     IN A   192.0.2.101
c2     IN A   192.0.2.102
c3     IN A   192.0.2.103
sorry  IN A   192.0.2.199
)";

std::string TypeText(uint16_t type) {
  switch (type) {
    case kAaaa:
      return "AAAA";
    case kCname:
      return "CNAME";
    default:
      return "A";
  }
}

// `targets:` t1..t16 (declared in order, so tN is health word N-1 when BuildSnapshot numbers
// them; the tests still look the index up in the snapshot's target table).
std::string TargetsYaml() {
  std::string y = "targets:\n";
  for (int i = 1; i <= kHealthWords; ++i) absl::StrAppend(&y, "  t", i, ": {initial: up}\n");
  return y;
}

// `resources` is the body of `resources:` (one resource per line, flow style).
std::string PolicyYaml(const std::string& resources, const std::string& records) {
  std::string y = TargetsYaml() + "resources:\n";
  for (absl::string_view line : absl::StrSplit(resources, '\n', absl::SkipEmpty())) {
    absl::StrAppend(&y, "  ", line, "\n");
  }
  return absl::StrCat(y, "records:\n", records);
}

uint32_t PolicySnapshot::ResourceIndex(const std::string& name) const {
  auto rs = reader->section<maps::Resource>(maps::kResources);
  for (size_t i = 0; i < rs.size(); ++i) {
    const std::string n(reinterpret_cast<const char*>(view.strings) + rs[i].name.offset,
                        rs[i].name.length);
    if (n == name) return static_cast<uint32_t>(i);
  }
  ADD_FAILURE() << "no resource " << name << " in the snapshot";
  return 0;
}
absl::StatusOr<PolicySnapshot> BuildPolicies(const std::string& resources, uint16_t type,
                                             const std::string& zone) {
  const std::string records =
      absl::StrCat("  - {name: r.pol.test., type: ", TypeText(type), ", resource: r}\n");
  auto reader =
      sxt::BuildTestSnapshot({{"pol.test.", zone}}, "", 1, PolicyYaml(resources, records));
  if (!reader.ok()) return reader.status();
  PolicySnapshot s;
  s.reader = std::move(reader).value();
  s.view = SnapshotView::Of(*s.reader);
  // Until SnapshotView::Of fills the policy sections itself (the engine integration), do it
  // here so that EvaluateResource can be tested on its own.
  if (s.view.resources == nullptr) {
    s.view.resources = s.reader->section<maps::Resource>(maps::kResources).data();
  }
  if (s.view.members == nullptr) {
    s.view.members = s.reader->section<maps::Member>(maps::kMembers).data();
  }
  for (const maps::Target& t : s.reader->section<maps::Target>(maps::kTargets)) {
    s.health_word[std::string(reinterpret_cast<const char*>(s.view.strings) + t.name.offset,
                              t.name.length)] = t.health;
  }
  return s;
}

void Health::Set(const std::vector<uint32_t>& states) {
  for (auto& w : words_) w.store(Up, std::memory_order_relaxed);
  for (size_t i = 0; i < states.size(); ++i) Of(static_cast<int>(i) + 1).store(states[i]);
}

std::atomic<uint32_t>& Health::Of(int target) {
  return words_[s_.health_word.at(absl::StrCat("t", target))];
}

// One selected record (`u16 len | rdata`, length in host order) in presentation form.
std::string RdataText(const uint8_t* rd, uint16_t type) {
  uint16_t len;
  std::memcpy(&len, rd, 2);
  const uint8_t* p = rd + 2;
  char buf[INET6_ADDRSTRLEN] = {};
  if (type == kA && len == 4) return inet_ntop(AF_INET, p, buf, sizeof(buf));
  if (type == kAaaa && len == 16) return inet_ntop(AF_INET6, p, buf, sizeof(buf));
  std::string name;  // an uncompressed wire name
  for (size_t i = 0; i < len && p[i] != 0; i += p[i] + 1) {
    name.append(reinterpret_cast<const char*>(p + i + 1), p[i]);
    name.push_back('.');
  }
  return name.empty() ? "." : name;
}

std::vector<std::string> Picked(const Selection& sel, uint16_t type) {
  std::vector<std::string> out;
  for (int i = 0; i < sel.n; ++i) out.push_back(RdataText(sel.rd[i], type));
  return out;
}

Expect InOrder(std::vector<std::string> r) { return {Match::kInOrder, r.size(), std::move(r)}; }
Expect AnyOrder(std::vector<std::string> r) { return {Match::kAnyOrder, r.size(), std::move(r)}; }
Expect PickFrom(size_t n, std::vector<std::string> r) {
  return {Match::kPickFrom, n, std::move(r)};
}
Expect OneOf(std::vector<std::string> r) { return {Match::kOneOf, 1, std::move(r)}; }
Expect NoData() { return {Match::kInOrder, 0, {}, PolicyOutcome::kNoData}; }
Expect ServFail() { return {Match::kInOrder, 0, {}, PolicyOutcome::kServFail}; }

std::string OutcomeName(PolicyOutcome o) {
  switch (o) {
    case PolicyOutcome::kAnswer:
      return "answer";
    case PolicyOutcome::kNoData:
      return "nodata";
    case PolicyOutcome::kServFail:
      return "servfail";
  }
  return "?";
}

namespace {

namespace dns = ::sextant::maps::dns;

class ReplyDecoder {
 public:
  ReplyDecoder(const uint8_t* p, size_t n) : p_(p), n_(n) {}

  Reply Run() {
    Reply r;
    if (n_ < dns::kHeaderSize) return r;
    r.rcode = p_[dns::kOffFlags2] & 0xF;
    r.aa = p_[dns::kOffFlags1] & dns::kFlag1Aa;
    const uint16_t qd = dns::Get16(p_ + dns::kOffQdcount);
    const uint16_t an = dns::Get16(p_ + dns::kOffAncount);
    const uint16_t ns = dns::Get16(p_ + dns::kOffNscount);
    pos_ = dns::kHeaderSize;
    for (int i = 0; i < qd; ++i) {
      Name();
      pos_ += 4;
    }
    for (int i = 0; i < an; ++i) r.answer.push_back(Record());
    for (int i = 0; i < ns; ++i) r.authority.push_back(Record());
    return r;
  }

 private:
  std::string Name() { return NameAt(&pos_); }
  std::string NameAt(size_t* at) {
    std::string out;
    size_t pos = *at;
    bool jumped = false;
    for (int guard = 0; guard < 128 && pos < n_; ++guard) {
      const uint8_t len = p_[pos];
      if ((len & 0xC0) == 0xC0) {
        if (!jumped) *at = pos + 2;
        jumped = true;
        pos = ((len & 0x3F) << 8) | p_[pos + 1];
        continue;
      }
      if (len == 0) {
        if (!jumped) *at = pos + 1;
        return out.empty() ? "." : out;
      }
      out.append(reinterpret_cast<const char*>(p_ + pos + 1), len);
      out.push_back('.');
      pos += len + 1;
    }
    return "<bad name>";
  }
  std::string Record() {
    const std::string owner = Name();
    if (pos_ + 10 > n_) return "<truncated>";
    const uint16_t type = dns::Get16(p_ + pos_);
    const uint32_t ttl = dns::Get32(p_ + pos_ + 4);
    const uint16_t rdlen = dns::Get16(p_ + pos_ + 8);
    pos_ += 10;
    const size_t end = pos_ + rdlen;
    std::string rdata;
    char buf[INET6_ADDRSTRLEN] = {};
    if (type == kA && rdlen == 4) {
      rdata = inet_ntop(AF_INET, p_ + pos_, buf, sizeof(buf));
    } else if (type == kAaaa && rdlen == 16) {
      rdata = inet_ntop(AF_INET6, p_ + pos_, buf, sizeof(buf));
    } else if (type == kCname) {
      size_t at = pos_;
      rdata = NameAt(&at);
    }
    pos_ = end;
    std::string type_name = type == kA       ? "A"
                            : type == kAaaa  ? "AAAA"
                            : type == kCname ? "CNAME"
                            : type == kSoa   ? "SOA"
                                             : absl::StrCat("TYPE", type);
    return absl::StrCat(owner, " ", ttl, " ", type_name, rdata.empty() ? "" : " ", rdata);
  }

  const uint8_t* p_;
  size_t n_;
  size_t pos_ = 0;
};

}  // namespace

Reply DecodeReply(const uint8_t* msg, size_t len) { return ReplyDecoder(msg, len).Run(); }

std::string Sixteen() {
  std::string m = "members: [";
  for (int i = 1; i <= 16; ++i) {
    absl::StrAppend(&m, i > 1 ? ", " : "", "{address: 192.0.2.", i, ", target: t", i, "}");
  }
  return m + "]}";
}

// ---------------------------------------------------------------------------------------------
// The tables

std::vector<Row> StaticAnswersEveryHealthyMemberRows() {
  const std::string three =
      "members: [{address: 192.0.2.1, target: t1}, {address: 192.0.2.2, target: t2},\n"
      "          {address: 192.0.2.3, target: t3}]}";
  return {
      {"cyclic, all up",
       "r: {kind: static, order: cyclic, " + three,
       {Up, Up, Up},
       AnyOrder({"192.0.2.1", "192.0.2.2", "192.0.2.3"})},
      {"cyclic, one down",
       "r: {kind: static, order: cyclic, " + three,
       {Up, Down, Up},
       AnyOrder({"192.0.2.1", "192.0.2.3"})},
      {"cyclic, one drained",
       "r: {kind: static, order: cyclic, " + three,
       {Drained, Up, Up},
       AnyOrder({"192.0.2.2", "192.0.2.3"})},
      {"random, one down",
       "r: {kind: static, order: random, " + three,
       {Down, Up, Up},
       AnyOrder({"192.0.2.2", "192.0.2.3"})},
      {"random, one drained",
       "r: {kind: static, order: random, " + three,
       {Up, Up, Drained},
       AnyOrder({"192.0.2.1", "192.0.2.2"})},
      {"fixed keeps config order",
       "r: {kind: static, order: fixed, " + three,
       {Up, Up, Up},
       InOrder({"192.0.2.1", "192.0.2.2", "192.0.2.3"})},
      {"fixed drops the unhealthy, keeps the order",
       "r: {kind: static, order: fixed, " + three,
       {Up, Down, Up},
       InOrder({"192.0.2.1", "192.0.2.3"})},
      {"fixed drops drained",
       "r: {kind: static, order: fixed, " + three,
       {Drained, Up, Up},
       InOrder({"192.0.2.2", "192.0.2.3"})},
      {"default kind is static, default order cyclic",
       "r: {" + three,
       {Up, Down, Up},
       AnyOrder({"192.0.2.1", "192.0.2.3"})},
      {"a member without target is always up",
       "r: {order: fixed, members: [{address: 192.0.2.1, target: t1}, 192.0.2.9]}",
       {Down},
       InOrder({"192.0.2.9"})},
      {"AAAA members",
       "r: {order: fixed, members: [{address: '2001:db8::1', target: t1},\n"
       "                            {address: '2001:db8::2', target: t2}]}",
       {Down, Up},
       InOrder({"2001:db8::2"}),
       kAaaa},
  };
}

std::vector<Row> FailoverAnswersTheFirstHealthyMemberRows() {
  const std::string three =
      "r: {kind: failover, ttl: 60, members: [{address: 192.0.2.1, target: t1},\n"
      "    {address: 192.0.2.2, target: t2}, {address: 192.0.2.3, target: t3}]}";
  // Groups: r fails over from a (t1, t2) to b (t3, t4).
  const std::string groups =
      "r: {kind: failover, members: [{resource: a}, {resource: b}]}\n"
      "a: {order: fixed, members: [{address: 192.0.2.1, target: t1},\n"
      "                            {address: 192.0.2.2, target: t2}]}\n"
      "b: {order: fixed, members: [{address: 192.0.2.3, target: t3},\n"
      "                            {address: 192.0.2.4, target: t4}]}";
  return {
      {"all up: the first", three, {Up, Up, Up}, InOrder({"192.0.2.1"}).Ttl(60)},
      {"first down: the second", three, {Down, Up, Up}, InOrder({"192.0.2.2"}).Ttl(60)},
      {"skips down and drained", three, {Down, Drained, Up}, InOrder({"192.0.2.3"}).Ttl(60)},
      {"skips drained first", three, {Drained, Up, Up}, InOrder({"192.0.2.2"}).Ttl(60)},
      {"group a healthy: all of a's healthy members",
       groups,
       {Up, Up, Up, Up},
       InOrder({"192.0.2.1", "192.0.2.2"})},
      {"group a half down: a's healthy member only",
       groups,
       {Down, Up, Up, Up},
       InOrder({"192.0.2.2"})},
      {"group a all down: skipped (its own all_down rule does not apply)",
       groups,
       {Down, Down, Up, Up},
       InOrder({"192.0.2.3", "192.0.2.4"})},
      {"group a drained: skipped", groups, {Drained, Drained, Down, Up}, InOrder({"192.0.2.4"})},
      {"a target on a nested member takes the whole group out",
       "r: {kind: failover, members: [{resource: a, target: t5}, {resource: b}]}\n"
       "a: {members: [{address: 192.0.2.1, target: t1}]}\n"
       "b: {members: [{address: 192.0.2.3, target: t3}]}",
       {Up, Up, Up, Up, Down},
       InOrder({"192.0.2.3"})},
  };
}

std::vector<Row> WeightedPicksDistinctHealthyMembersByWeightRows() {
  const std::string count1 =
      "r: {kind: weighted, members: [{address: 192.0.2.1, target: t1, weight: 3},\n"
      "    {address: 192.0.2.2, target: t2, weight: 1}, {address: 192.0.2.3, target: t3}]}";
  const std::string count2 =
      "r: {kind: weighted, count: 2, members: [{address: 192.0.2.1, target: t1, weight: 3},\n"
      "    {address: 192.0.2.2, target: t2, weight: 1}, {address: 192.0.2.3, target: t3}]}";
  // t1 has weight 1, t2 and t3 weight 0.
  const std::string zero =
      "r: {kind: weighted, count: 2, members: [{address: 192.0.2.1, target: t1, weight: 1},\n"
      "    {address: 192.0.2.2, target: t2, weight: 0},\n"
      "    {address: 192.0.2.3, target: t3, weight: 0}]}";
  return {
      {"count 1 (default), all up",
       count1,
       {Up, Up, Up},
       PickFrom(1, {"192.0.2.1", "192.0.2.2", "192.0.2.3"})},
      {"count 1, two down", count1, {Down, Up, Drained}, InOrder({"192.0.2.2"})},
      {"count 1, one down", count1, {Up, Down, Up}, PickFrom(1, {"192.0.2.1", "192.0.2.3"})},
      {"count 2: two distinct",
       count2,
       {Up, Up, Up},
       PickFrom(2, {"192.0.2.1", "192.0.2.2", "192.0.2.3"})},
      {"count 2, one down: the other two",
       count2,
       {Up, Down, Up},
       AnyOrder({"192.0.2.1", "192.0.2.3"})},
      {"count 2, two down: fewer than count", count2, {Down, Down, Up}, InOrder({"192.0.2.3"})},
      {"weight 0 unused while a weighted member is up", zero, {Up, Up, Up}, InOrder({"192.0.2.1"})},
      {"weight 0 used when no weighted member is up",
       zero,
       {Down, Up, Up},
       AnyOrder({"192.0.2.2", "192.0.2.3"})},
      {"weight 0, one of them down", zero, {Drained, Down, Up}, InOrder({"192.0.2.3"})},
  };
}

std::vector<Row> MultivalueAnswersUpToCountHealthyMembersRows() {
  const std::string four =
      "members: [{address: 192.0.2.1, target: t1}, {address: 192.0.2.2, target: t2},\n"
      "          {address: 192.0.2.3, target: t3}, {address: 192.0.2.4, target: t4}]}";
  return {
      {"default count (8): all healthy",
       "r: {kind: multivalue, " + four,
       {Up, Up, Up, Up},
       AnyOrder({"192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"})},
      {"default count: unhealthy left out",
       "r: {kind: multivalue, " + four,
       {Up, Down, Drained, Up},
       AnyOrder({"192.0.2.1", "192.0.2.4"})},
      {"count 2 of 4: two distinct",
       "r: {kind: multivalue, count: 2, " + four,
       {Up, Up, Up, Up},
       PickFrom(2, {"192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"})},
      {"count 2 of 3 healthy",
       "r: {kind: multivalue, count: 2, " + four,
       {Up, Up, Down, Up},
       PickFrom(2, {"192.0.2.1", "192.0.2.2", "192.0.2.4"})},
      {"count 2, one healthy",
       "r: {kind: multivalue, count: 2, " + four,
       {Down, Down, Drained, Up},
       InOrder({"192.0.2.4"})},
  };
}

std::vector<Row> OverlappingNestedPoolsNeverRepeatARecordRows() {
  const std::string pools =
      "p1: {order: fixed, members: [{address: 192.0.2.1, target: t1},\n"
      "                             {address: 192.0.2.2, target: t2}]}\n"
      "p2: {order: fixed, members: [{address: 192.0.2.2, target: t2},\n"
      "                             {address: 192.0.2.3, target: t3}]}";
  return {
      {"multivalue of both pools",
       "r: {kind: multivalue, members: [{resource: p1}, {resource: p2}]}\n" + pools,
       {Up, Up, Up},
       AnyOrder({"192.0.2.1", "192.0.2.2", "192.0.2.3"})},
      {"static of both pools",
       "r: {order: fixed, members: [{resource: p1}, {resource: p2}]}\n" + pools,
       {Up, Up, Up},
       InOrder({"192.0.2.1", "192.0.2.2", "192.0.2.3"})},
      {"all down (rule all)",
       "r: {order: fixed, members: [{resource: p1}, {resource: p2}]}\n" + pools,
       {Down, Down, Down},
       InOrder({"192.0.2.1", "192.0.2.2", "192.0.2.3"})},
  };
}

std::vector<Row> NestedResourcesCombineRows() {
  // Failover from weighted pool w1 (t1, t2) to weighted pool w2 (t3, t4).
  const std::string failover_of_weighted =
      "r: {kind: failover, members: [{resource: w1}, {resource: w2}]}\n"
      "w1: {kind: weighted, members: [{address: 192.0.2.1, target: t1},\n"
      "                               {address: 192.0.2.2, target: t2}]}\n"
      "w2: {kind: weighted, members: [{address: 192.0.2.3, target: t3},\n"
      "                               {address: 192.0.2.4, target: t4}]}";
  // A fixed list of the winners of two failover pairs (t1 > t2, t3 > t4).
  const std::string static_of_failover =
      "r: {kind: static, order: fixed, members: [{resource: f1}, {resource: f2}]}\n"
      "f1: {kind: failover, members: [{address: 192.0.2.1, target: t1},\n"
      "                               {address: 192.0.2.2, target: t2}]}\n"
      "f2: {kind: failover, members: [{address: 192.0.2.3, target: t3},\n"
      "                               {address: 192.0.2.4, target: t4}]}";
  // Three levels: failover of (multivalue of (failover pair, address), address).
  const std::string three_levels =
      "r: {kind: failover, members: [{resource: m}, {address: 192.0.2.9}]}\n"
      "m: {kind: multivalue, members: [{resource: f}, {address: 192.0.2.3, target: t3}]}\n"
      "f: {kind: failover, members: [{address: 192.0.2.1, target: t1},\n"
      "                              {address: 192.0.2.2, target: t2}]}";
  return {
      {"failover of weighted: first pool",
       failover_of_weighted,
       {Up, Up, Up, Up},
       PickFrom(1, {"192.0.2.1", "192.0.2.2"})},
      {"failover of weighted: first pool half up",
       failover_of_weighted,
       {Down, Up, Up, Up},
       InOrder({"192.0.2.2"})},
      {"failover of weighted: first pool down",
       failover_of_weighted,
       {Down, Drained, Up, Up},
       PickFrom(1, {"192.0.2.3", "192.0.2.4"})},
      {"static of failover: both primaries",
       static_of_failover,
       {Up, Up, Up, Up},
       InOrder({"192.0.2.1", "192.0.2.3"})},
      {"static of failover: one secondary",
       static_of_failover,
       {Down, Up, Up, Up},
       InOrder({"192.0.2.2", "192.0.2.3"})},
      {"static of failover: one pair gone",
       static_of_failover,
       {Up, Up, Down, Down},
       InOrder({"192.0.2.1"})},
      {"three levels, all up", three_levels, {Up, Up, Up}, AnyOrder({"192.0.2.1", "192.0.2.3"})},
      {"three levels, inner failover",
       three_levels,
       {Down, Up, Up},
       AnyOrder({"192.0.2.2", "192.0.2.3"})},
      {"three levels, everything inside down",
       three_levels,
       {Down, Down, Down},
       InOrder({"192.0.2.9"})},
  };
}

std::vector<Row> AllDownRulesRows() {
  // Static t1, t2 plus nested n (t3, t4); every member has a target.
  auto with_nested = [](const std::string& rule) {
    return "r: {order: fixed, " + rule +
           "members: [{address: 192.0.2.1, target: t1},\n"
           "    {address: 192.0.2.2, target: t2}, {resource: n}]}\n"
           "n: {order: fixed, all_down: servfail, members: [{address: 192.0.2.3, target: t3},\n"
           "                                                {address: 192.0.2.4, target: t4}]}";
  };
  auto failover = [](const std::string& rule) {
    return "r: {kind: failover, " + rule +
           "members: [{address: 192.0.2.1, target: t1}, {address: 192.0.2.2, target: t2}]}";
  };
  const std::vector<uint32_t> all_down = {Down, Drained, Down, Down};
  return {
      {"all (default): every member, nested too", with_nested(""), all_down,
       AnyOrder({"192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"})},
      {"all, explicit", with_nested("all_down: all, "), all_down,
       AnyOrder({"192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"})},
      {"all does not apply while one nested member is up",
       with_nested("all_down: nodata, "),
       {Down, Down, Down, Up},
       InOrder({"192.0.2.4"})},
      {"all, failover",
       failover("all_down: all, "),
       {Down, Down},
       AnyOrder({"192.0.2.1", "192.0.2.2"})},
      {"first", failover("all_down: first, "), {Down, Down}, InOrder({"192.0.2.1"})},
      {"first, static", with_nested("all_down: first, "), all_down, InOrder({"192.0.2.1"})},
      {"nodata", with_nested("all_down: nodata, "), all_down, NoData()},
      {"servfail", with_nested("all_down: servfail, "), all_down, ServFail()},
      {"servfail, failover", failover("all_down: servfail, "), {Drained, Drained}, ServFail()},
      {"nodata, weighted",
       "r: {kind: weighted, all_down: nodata, members: [{address: 192.0.2.1, target: t1},\n"
       "    {address: 192.0.2.2, target: t2, weight: 0}]}",
       {Down, Down},
       NoData()},
      {"fallback addresses",
       failover("all_down: fallback, fallback: [198.51.100.1, 198.51.100.2], "),
       {Down, Down},
       AnyOrder({"198.51.100.1", "198.51.100.2"})},
      {"fallback unused while a member is up",
       failover("all_down: fallback, fallback: [198.51.100.1], "),
       {Down, Up},
       InOrder({"192.0.2.2"})},
      {"fallback CNAME",
       "r: {kind: failover, all_down: fallback, fallback: sorry.pol.test.,\n"
       "    members: [{cname: c1.pol.test., target: t1}, {cname: c2.pol.test., target: t2}]}",
       {Down, Down},
       InOrder({"sorry.pol.test."}),
       kCname},
  };
}

std::vector<Row> ShuffledPoliciesWithEverythingDownApplyTheAllDownRuleRows() {
  const std::string two =
      "members: [{address: 192.0.2.1, target: t1}, {address: 192.0.2.2, target: t2}]}";
  return {
      {"multivalue, servfail",
       "r: {kind: multivalue, all_down: servfail, " + two,
       {Down, Down},
       ServFail()},
      {"multivalue, all",
       "r: {kind: multivalue, " + two,
       {Down, Down},
       AnyOrder({"192.0.2.1", "192.0.2.2"})},
      {"static random, nodata",
       "r: {order: random, all_down: nodata, " + two,
       {Down, Drained},
       NoData()},
      {"static random, all",
       "r: {order: random, " + two,
       {Down, Down},
       AnyOrder({"192.0.2.1", "192.0.2.2"})},
  };
}

std::vector<Row> TtlShrinksWhileAMemberIsDownAndNeverExceedsNestedTtlsRows() {
  const std::string pair =
      "r: {order: fixed, ttl: 60, ttl_when_down: 10,\n"
      "    members: [{address: 192.0.2.1, target: t1}, {address: 192.0.2.2, target: t2}]}";
  // r (300) fails over from a (ttl 30) to b (ttl 120).
  const std::string nested =
      "r: {kind: failover, members: [{resource: a}, {resource: b}]}\n"
      "a: {ttl: 30, members: [{address: 192.0.2.1, target: t1}]}\n"
      "b: {ttl: 120, members: [{address: 192.0.2.2, target: t2}]}";
  const std::string nested_when_down =
      "r: {kind: failover, ttl_when_down: 20, members: [{resource: a}, {resource: b}]}\n"
      "a: {ttl: 5, members: [{address: 192.0.2.1, target: t1}]}\n"
      "b: {ttl: 120, members: [{address: 192.0.2.2, target: t2}, 192.0.2.3]}";
  return {
      {"all up: ttl", pair, {Up, Up}, InOrder({"192.0.2.1", "192.0.2.2"}).Ttl(60)},
      {"one down: ttl_when_down", pair, {Up, Down}, InOrder({"192.0.2.1"}).Ttl(10)},
      {"one drained: ttl_when_down", pair, {Drained, Up}, InOrder({"192.0.2.2"}).Ttl(10)},
      {"all down (rule all): ttl_when_down",
       pair,
       {Down, Down},
       AnyOrder({"192.0.2.1", "192.0.2.2"}).Ttl(10)},
      {"recovered: ttl again", pair, {Up, Up}, InOrder({"192.0.2.1", "192.0.2.2"}).Ttl(60)},
      {"no ttl_when_down: ttl while down",
       "r: {ttl: 60, members: [{address: 192.0.2.1, target: t1}, {address: 192.0.2.2, target: "
       "t2}]}",
       {Up, Down},
       InOrder({"192.0.2.1"}).Ttl(60)},
      {"nested a used: a's ttl", nested, {Up, Up}, InOrder({"192.0.2.1"}).Ttl(30)},
      {"nested b used: b's ttl, not the unused a's",
       nested,
       {Down, Up},
       InOrder({"192.0.2.2"}).Ttl(120)},
      {"all down (rule all): smallest nested ttl",
       nested,
       {Down, Down},
       AnyOrder({"192.0.2.1", "192.0.2.2"}).Ttl(30)},
      {"ttl_when_down never raises a nested ttl",
       nested_when_down,
       {Up, Down},
       InOrder({"192.0.2.1"}).Ttl(5)},
      {"ttl_when_down below the nested ttl",
       nested_when_down,
       {Down, Up},
       AnyOrder({"192.0.2.2", "192.0.2.3"}).Ttl(20)},
      {"nothing down anywhere: nested ttl",
       nested_when_down,
       {Up, Up},
       InOrder({"192.0.2.1"}).Ttl(5)},
      {"ttl_when_down above ttl does not raise it",
       "r: {ttl: 30, ttl_when_down: 90, members: [{address: 192.0.2.1, target: t1}, 192.0.2.2]}",
       {Down},
       InOrder({"192.0.2.2"}).Ttl(30)},
  };
}

std::vector<Row> CnameResourcesAnswerExactlyOneTargetRows() {
  const std::string failover =
      "r: {kind: failover, members: [{cname: c1.pol.test., target: t1},\n"
      "    {cname: c2.pol.test., target: t2}]}";
  const std::string weighted =
      "r: {kind: weighted, members: [{cname: c1.pol.test., target: t1},\n"
      "    {cname: c2.pol.test., target: t2}, {cname: c3.pol.test., target: t3}]}";
  const std::string nested =
      "r: {kind: failover, members: [{resource: w}, {cname: c3.pol.test., target: t3}]}\n"
      "w: {kind: weighted, members: [{cname: c1.pol.test., target: t1},\n"
      "    {cname: c2.pol.test., target: t2}]}";
  return {
      {"failover, all up", failover, {Up, Up}, InOrder({"c1.pol.test."}), kCname},
      {"failover, first down", failover, {Down, Up}, InOrder({"c2.pol.test."}), kCname},
      {"failover, all down (rule all): still one",
       failover,
       {Down, Down},
       OneOf({"c1.pol.test.", "c2.pol.test."}),
       kCname},
      {"weighted count 1",
       weighted,
       {Up, Up, Up},
       PickFrom(1, {"c1.pol.test.", "c2.pol.test.", "c3.pol.test."}),
       kCname},
      {"weighted, all down (rule all): still one",
       weighted,
       {Down, Down, Down},
       OneOf({"c1.pol.test.", "c2.pol.test.", "c3.pol.test."}),
       kCname},
      {"static single",
       "r: {members: [{cname: c2.pol.test., target: t2}]}",
       {Down, Up},
       InOrder({"c2.pol.test."}),
       kCname},
      {"failover of weighted",
       nested,
       {Up, Up, Up},
       PickFrom(1, {"c1.pol.test.", "c2.pol.test."}),
       kCname},
      {"failover of weighted, pool down",
       nested,
       {Down, Down, Up},
       InOrder({"c3.pol.test."}),
       kCname},
  };
}

std::vector<RowTable> AllRowTables() {
  return {
      {"StaticAnswersEveryHealthyMember", StaticAnswersEveryHealthyMemberRows()},
      {"FailoverAnswersTheFirstHealthyMember", FailoverAnswersTheFirstHealthyMemberRows()},
      {"WeightedPicksDistinctHealthyMembersByWeight",
       WeightedPicksDistinctHealthyMembersByWeightRows()},
      {"MultivalueAnswersUpToCountHealthyMembers", MultivalueAnswersUpToCountHealthyMembersRows()},
      {"OverlappingNestedPoolsNeverRepeatARecord", OverlappingNestedPoolsNeverRepeatARecordRows()},
      {"NestedResourcesCombine", NestedResourcesCombineRows()},
      {"AllDownRules", AllDownRulesRows()},
      {"ShuffledPoliciesWithEverythingDownApplyTheAllDownRule",
       ShuffledPoliciesWithEverythingDownApplyTheAllDownRuleRows()},
      {"TtlShrinksWhileAMemberIsDownAndNeverExceedsNestedTtls",
       TtlShrinksWhileAMemberIsDownAndNeverExceedsNestedTtlsRows()},
      {"CnameResourcesAnswerExactlyOneTarget", CnameResourcesAnswerExactlyOneTargetRows()},
  };
}

}  // namespace sextant::dataplane::policy_cases
