// The row tables of the policy cases (policy_cases.h): for each rule, record-set policies as an
// operator writes them, the health of their targets, and what the general evaluator must answer.
#include <string>
#include <vector>

#include "tests/dataplane/engine/policy_cases.h"

namespace sextant::dataplane::policy_cases {

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
