#include "control/config/health_check.h"

#include <arpa/inet.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "control/config/enum_names.h"
#include "control/config/yaml_reader.h"
#include "maps/dns/wire.h"
#include "maps/status_macros.h"

// Last: ldns/common.h defines bool, true and false as macros, which break C++ headers that come
// after it (std::optional's operator<=> compares with `false`).
#include <ldns/ldns.h>

namespace sextant::control {
namespace {

constexpr uint32_t kMinTimeoutMs = 10;
constexpr uint32_t kMaxThreshold = 100;
constexpr size_t kMaxBodyContains = 4096;  // well under the engine's 64 KiB body window

// Keys every check type takes, then the ones only some types take: a key that the type would
// ignore is refused, so `verify: false` on an http check does not look like it did something.
const std::set<std::string> kCommonKeys = {"type",    "address", "port", "interval",
                                           "timeout", "rise",    "fall", "source"};
const std::set<std::string> kHttpKeys = {"method", "path", "host", "expect_status",
                                         "body_contains"};
const std::set<std::string> kHttpsKeys = {"verify", "ca_file"};
const std::set<std::string> kDnsKeys = {"query", "qtype", "expect_rcode", "expect_answer"};

std::set<std::string> KnownKeys(CheckType type) {
  if (type == CheckType::kNone) return {"type"};
  std::set<std::string> known = kCommonKeys;
  if (type == CheckType::kHttp || type == CheckType::kHttps) {
    known.insert(kHttpKeys.begin(), kHttpKeys.end());
  }
  if (type == CheckType::kHttps) known.insert(kHttpsKeys.begin(), kHttpsKeys.end());
  if (type == CheckType::kDns) known.insert(kDnsKeys.begin(), kDnsKeys.end());
  return known;
}

uint16_t DefaultPort(CheckType type) {
  switch (type) {
    case CheckType::kHttp:
      return 80;
    case CheckType::kHttps:
      return 443;
    case CheckType::kDns:
      return 53;
    case CheckType::kNone:
    case CheckType::kTcp:
      break;
  }
  return 0;
}

bool HostnameChars(const std::string& s) {
  if (s.empty() || s.size() > 253) return false;
  for (char c : s) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' && c != '_') {
      return false;
    }
  }
  return true;
}

// Refuses keys the type does not take: those of another type by saying so, others as unknown.
absl::Status CheckKeysForType(const YamlReader& r, CheckType type) {
  const std::set<std::string> known = KnownKeys(type);
  const std::optional<std::string> key = r.UnknownKey(known);
  if (key && (kCommonKeys.count(*key) || kHttpKeys.count(*key) || kHttpsKeys.count(*key) ||
              kDnsKeys.count(*key))) {
    return r.ErrorAt(
        *key, absl::StrCat(r.KeyName(*key), " does not apply to a ", NameOf(type), " check"));
  }
  return r.Keys(known);
}

// `interval` and `timeout` of a check or a feed; the timeout defaults to min(interval, 5s). The
// caller refuses a timeout past the interval: one run at a time, so runs would overlap.
absl::Status ReadTiming(const YamlReader& r, uint32_t* interval_ms, uint32_t* timeout_ms) {
  SX_RETURN_IF_ERROR(r.Duration("interval", kMinCheckIntervalMs, kMaxCheckIntervalMs, interval_ms));
  *timeout_ms = std::min(*interval_ms, kMaxDefaultCheckTimeoutMs);
  return r.Duration("timeout", kMinTimeoutMs, kMaxCheckIntervalMs, timeout_ms);
}

// What every type but none takes: where to probe, how often, and how many results count.
absl::Status ReadProbe(const YamlReader& r, CheckSpec* c) {
  if (!r.Has("address")) {
    return r.ErrorAt("address",
                     absl::StrCat(r.KeyName("address"), " is required (the address to probe)"));
  }
  int family = 0;
  SX_RETURN_IF_ERROR(r.Address("address", &c->address, &family));
  if (!r.Has("port") && c->type == CheckType::kTcp) {
    return r.ErrorAt("port", absl::StrCat(r.KeyName("port"), " is required for a tcp check"));
  }
  SX_RETURN_IF_ERROR(r.Int("port", 1, 65535, &c->port));
  SX_RETURN_IF_ERROR(ReadTiming(r, &c->interval_ms, &c->timeout_ms));
  if (c->timeout_ms > c->interval_ms) {
    return r.ErrorAt("timeout",
                     absl::StrCat(r.KeyName("timeout"), " (", c->timeout_ms, "ms) must not exceed ",
                                  r.KeyName("interval"), " (", c->interval_ms, "ms)"));
  }
  SX_RETURN_IF_ERROR(r.Int("rise", 1, kMaxThreshold, &c->rise));
  SX_RETURN_IF_ERROR(r.Int("fall", 1, kMaxThreshold, &c->fall));
  int source_family = family;
  SX_RETURN_IF_ERROR(r.Address("source", &c->source, &source_family));
  if (source_family != family) {
    return r.ErrorAt("source", absl::StrCat(r.KeyName("source"), " and ", r.KeyName("address"),
                                            " must be the same family"));
  }
  return absl::OkStatus();
}

absl::Status ReadHttp(const YamlReader& r, CheckSpec* c) {
  SX_RETURN_IF_ERROR(r.Enum("method", &c->method));
  SX_RETURN_IF_ERROR(r.Str("path", &c->path));
  bool clean = !c->path.empty() && c->path[0] == '/';
  for (unsigned char ch : c->path) clean = clean && ch > 0x20 && ch < 0x7f;
  if (!clean) {
    return r.ErrorAt("path", absl::StrCat(r.KeyName("path"), " '", c->path,
                                          "' must start with '/' and hold no spaces or control "
                                          "characters"));
  }
  SX_RETURN_IF_ERROR(r.Str("host", &c->host));
  if (r.Has("host") && !HostnameChars(c->host)) {
    return r.ErrorAt("host",
                     absl::StrCat(r.KeyName("host"), " '", c->host, "' is not a host name"));
  }
  SX_RETURN_IF_ERROR(r.IntList("expect_status", 100, 599, &c->expect_status));
  if (r.Has("body_contains")) {
    SX_RETURN_IF_ERROR(r.Str("body_contains", &c->body_contains));
    if (c->body_contains.empty() || c->body_contains.size() > kMaxBodyContains) {
      return r.ErrorAt("body_contains",
                       absl::StrCat(r.KeyName("body_contains"), " must be 1..", kMaxBodyContains,
                                    " bytes, not ", c->body_contains.size()));
    }
    if (c->method == HttpMethod::kHead) {
      return r.ErrorAt("body_contains",
                       absl::StrCat(r.KeyName("body_contains"), " needs a body (not method HEAD)"));
    }
  }
  SX_RETURN_IF_ERROR(r.Bool("verify", &c->verify));
  SX_RETURN_IF_ERROR(r.Str("ca_file", &c->ca_file));
  // Checks run from the daemon, whose working directory says nothing about the config.
  if (r.Has("ca_file") && (c->ca_file.empty() || c->ca_file[0] != '/')) {
    return r.ErrorAt("ca_file", absl::StrCat(r.KeyName("ca_file"),
                                             " must be an absolute path, not '", c->ca_file, "'"));
  }
  return absl::OkStatus();
}

absl::Status ReadDnsQuestion(const YamlReader& r, CheckSpec* c) {
  if (!r.Has("query")) {
    return r.ErrorAt("query", absl::StrCat(r.KeyName("query"), " is required for a dns check"));
  }
  SX_RETURN_IF_ERROR(r.Str("query", &c->query));
  if (c->query.empty() || c->query.back() != '.') c->query += '.';
  ldns_rdf* dname = nullptr;
  if (ldns_str2rdf_dname(&dname, c->query.c_str()) != LDNS_STATUS_OK) {
    return r.ErrorAt("query",
                     absl::StrCat(r.KeyName("query"), " '", c->query, "' is not a domain name"));
  }
  ldns_rdf_deep_free(dname);
  if (r.Has("qtype")) {
    // Any type ldns knows, not only those maps/dns/wire.h names: a check may ask for anything.
    std::string t;
    SX_RETURN_IF_ERROR(r.Str("qtype", &t));
    t = absl::AsciiStrToUpper(t);
    const ldns_rr_type rt = ldns_get_rr_type_by_name(t.c_str());
    if (rt == 0) {
      return r.ErrorAt("qtype", absl::StrCat(r.KeyName("qtype"), " '", t,
                                             "' is not a record type (like A, AAAA, TXT, SOA or "
                                             "TYPE65280)"));
    }
    c->qtype = static_cast<uint16_t>(rt);
  }
  return absl::OkStatus();
}

absl::Status ReadDnsExpectations(const YamlReader& r, CheckSpec* c) {
  maps::dns::Rcode rcode = maps::dns::kNoError;
  SX_RETURN_IF_ERROR(r.Enum("expect_rcode", &rcode, "an rcode"));
  // A check compares the header's four rcode bits; an extended rcode never shows there.
  if (rcode > maps::dns::kRcodeMask) {
    return r.ErrorAt("expect_rcode", absl::StrCat(r.KeyName("expect_rcode"), " ", NameOf(rcode),
                                                  " is an extended rcode, which a check does "
                                                  "not see"));
  }
  c->expect_rcode = static_cast<uint8_t>(rcode);
  if (!r.Has("expect_answer")) return absl::OkStatus();
  SX_RETURN_IF_ERROR(r.Str("expect_answer", &c->expect_answer));
  const std::optional<IpLiteral> ip = ParseIpLiteral(c->expect_answer);
  const std::string key = r.KeyName("expect_answer");
  if (c->qtype == maps::dns::kTypeA && (!ip || ip->family != AF_INET)) {
    return r.ErrorAt("expect_answer", absl::StrCat(key, " must be an IPv4 address (qtype A), not '",
                                                   c->expect_answer, "'"));
  }
  if (c->qtype == maps::dns::kTypeAaaa && (!ip || ip->family != AF_INET6)) {
    return r.ErrorAt(
        "expect_answer",
        absl::StrCat(key, " must be an IPv6 address (qtype AAAA), not '", c->expect_answer, "'"));
  }
  if (c->expect_answer.empty()) return r.ErrorAt("expect_answer", absl::StrCat(key, " is empty"));
  return absl::OkStatus();
}

absl::Status ReadFeed(const YamlReader& r, FeedSpec* f) {
  if (r.Has("file")) {
    SX_RETURN_IF_ERROR(r.Keys({"file"}));
    f->kind = FeedSpec::Kind::kFile;
    SX_RETURN_IF_ERROR(r.Str("file", &f->file));
    if (f->file.empty() || f->file[0] != '/') {
      return r.ErrorAt("file", absl::StrCat(r.KeyName("file"), " must be an absolute path, not '",
                                            f->file, "'"));
    }
    return absl::OkStatus();
  }
  SX_RETURN_IF_ERROR(r.Keys({"command", "interval", "timeout"}));
  f->kind = FeedSpec::Kind::kCommand;
  SX_RETURN_IF_ERROR(r.Str("command", &f->command));
  if (f->command.empty()) {
    return r.ErrorAt("command", absl::StrCat(r.KeyName("command"), " must be a non-empty string"));
  }
  SX_RETURN_IF_ERROR(ReadTiming(r, &f->interval_ms, &f->timeout_ms));
  if (f->timeout_ms > f->interval_ms) {
    return r.ErrorAt("timeout", absl::StrCat(r.KeyName("timeout"), " must not exceed ",
                                             r.KeyName("interval"), " (one run at a time)"));
  }
  return absl::OkStatus();
}

}  // namespace

const char* CheckTypeName(CheckType t) { return NameOf(t); }

std::string DnsRcodeName(uint8_t rcode) {
  const auto r = static_cast<maps::dns::Rcode>(rcode);
  return HasName(r) ? NameOf(r) : absl::StrCat("RCODE", rcode);
}

bool ParseCheckDurationMs(const std::string& text, uint64_t* ms) {
  static constexpr struct {
    const char* suffix;
    uint64_t ms;
  } kUnits[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"", 1000}};
  const absl::string_view t = absl::StripAsciiWhitespace(text);
  for (const auto& u : kUnits) {
    if (!absl::EndsWith(t, u.suffix)) continue;
    const absl::string_view num = t.substr(0, t.size() - std::strlen(u.suffix));
    double v = 0;
    if (num.empty() || !absl::SimpleAtod(num, &v) || !(v >= 0) || v > 1e9) return false;
    *ms = static_cast<uint64_t>(std::llround(v * static_cast<double>(u.ms)));
    return true;
  }
  return false;
}

absl::Status ParseCheck(const std::string& file, const YAML::Node& node, const std::string& target,
                        CheckSpec* out) {
  const YamlReader r(file, node, absl::StrCat("targets.", target, ".check"));
  if (!node.IsMap()) {
    return r.ErrorAt("",
                     absl::StrCat(r.KeyName(""), " must be a mapping with at least 'type', not ",
                                  ValueForMessage(node)));
  }
  if (!r.Has("type")) {
    return r.ErrorAt("type", absl::StrCat(r.KeyName("type"), " is required (one of ",
                                          absl::StrJoin(EnumNameVector<CheckType>(), ", "), ")"));
  }
  CheckSpec c;
  c.line = r.line();
  SX_RETURN_IF_ERROR(r.Enum("type", &c.type));
  c.port = DefaultPort(c.type);
  SX_RETURN_IF_ERROR(CheckKeysForType(r, c.type));
  if (c.type != CheckType::kNone) SX_RETURN_IF_ERROR(ReadProbe(r, &c));
  if (c.type == CheckType::kHttp || c.type == CheckType::kHttps) {
    SX_RETURN_IF_ERROR(ReadHttp(r, &c));
  }
  if (c.type == CheckType::kDns) {
    SX_RETURN_IF_ERROR(ReadDnsQuestion(r, &c));
    SX_RETURN_IF_ERROR(ReadDnsExpectations(r, &c));
  }
  *out = std::move(c);
  return absl::OkStatus();
}

absl::Status ParseHealthFeeds(const std::string& file, const YAML::Node& node,
                              std::vector<FeedSpec>* out) {
  SX_ASSIGN_OR_RETURN(
      const std::vector<YamlReader> items,
      YamlReader(file, node, "health_feeds").Items("", false, "of {file} or {command, interval}"));
  for (const YamlReader& r : items) {
    if (!r.node().IsMap() || r.Has("file") == r.Has("command")) {
      return r.Error("each health feed needs exactly one of 'file' or 'command'");
    }
    FeedSpec f;
    f.line = r.line();
    SX_RETURN_IF_ERROR(ReadFeed(r, &f));
    out->push_back(std::move(f));
  }
  return absl::OkStatus();
}

}  // namespace sextant::control
