// The policy cases' helpers (policy_cases.h): the zone, YAML, snapshots, health words, expected
// outcomes and the reply decoder. The row tables are in policy_rows.cc.
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

}  // namespace sextant::dataplane::policy_cases
