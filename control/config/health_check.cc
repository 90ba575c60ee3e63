#include "control/config/health_check.h"

#include <arpa/inet.h>
#include <ldns/ldns.h>
#include <yaml-cpp/yaml.h>

#include <cstring>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "control/config/yaml_util.h"
#include "maps/status_macros.h"

namespace sextant::control {
namespace {

constexpr uint32_t kMinTimeoutMs = 10;
constexpr uint32_t kMaxThreshold = 100;
constexpr size_t kMaxBodyContains = 4096;  // well under the engine's 64 KiB body window

const char* const kRcodeNames[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
                                   "NOTIMP",  "REFUSED", "YXDOMAIN", "YXRRSET",
                                   "NXRRSET", "NOTAUTH", "NOTZONE"};

// Keys every check type takes, then the ones only some types take: a key that the type would
// ignore is refused, so `verify: false` on an http check does not look like it did something.
const std::set<std::string> kCommonKeys = {"type",    "address", "port", "interval",
                                           "timeout", "rise",    "fall", "source"};
const std::set<std::string> kHttpKeys = {"method", "path", "host", "expect_status",
                                         "body_contains"};
const std::set<std::string> kHttpsKeys = {"verify", "ca_file"};
const std::set<std::string> kDnsKeys = {"query", "qtype", "expect_rcode", "expect_answer"};

// Binds file and target so that each refusal below is one line.
class CheckParser {
 public:
  CheckParser(const std::string& file, const std::string& target) : file_(file), target_(target) {}

  absl::Status Err(const YAML::Node& n, const std::string& what) const {
    return YamlError(file_, n, absl::StrCat("target ", target_, ": ", what));
  }

  absl::StatusOr<std::string> Str(const YAML::Node& n, const std::string& key) const {
    if (!n.IsScalar()) return Err(n, absl::StrCat("check.", key, " must be a string"));
    return n.as<std::string>();
  }

  absl::StatusOr<int64_t> Int(const YAML::Node& n, const std::string& key, int64_t lo,
                              int64_t hi) const {
    int64_t v = 0;
    if (!n.IsScalar() || !YAML::convert<int64_t>::decode(n, v) || v < lo || v > hi) {
      return Err(n, absl::StrCat("check.", key, " must be an integer in ", lo, "..", hi));
    }
    return v;
  }

  absl::StatusOr<uint32_t> Duration(const YAML::Node& n, const std::string& key, uint32_t lo,
                                    uint32_t hi) const {
    uint64_t ms = 0;
    if (!n.IsScalar() || !ParseCheckDurationMs(n.as<std::string>(), &ms) || ms < lo || ms > hi) {
      return Err(n, absl::StrCat("check.", key, " must be a duration (like 500ms, 2s, 1m) from ",
                                 lo, "ms to ", hi / 1000, "s"));
    }
    return static_cast<uint32_t>(ms);
  }

  // An IPv4 or IPv6 literal: the engine never resolves names, so that a check can not hang on
  // a resolver and a probe goes where the configuration says.
  absl::StatusOr<std::string> Address(const YAML::Node& n, const std::string& key,
                                      int* family) const {
    SX_ASSIGN_OR_RETURN(std::string s, Str(n, key));
    in6_addr buf;
    if (inet_pton(AF_INET, s.c_str(), &buf) == 1) {
      *family = AF_INET;
    } else if (inet_pton(AF_INET6, s.c_str(), &buf) == 1) {
      *family = AF_INET6;
    } else {
      return Err(n, absl::StrCat("check.", key, " '", s, "' is not an IPv4 or IPv6 address"));
    }
    return s;
  }

 private:
  const std::string& file_;
  const std::string& target_;
};

bool HostnameChars(const std::string& s) {
  if (s.empty() || s.size() > 253) return false;
  for (char c : s) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' && c != '_') {
      return false;
    }
  }
  return true;
}

}  // namespace

const char* CheckTypeName(CheckType t) {
  switch (t) {
    case CheckType::kNone:
      return "none";
    case CheckType::kTcp:
      return "tcp";
    case CheckType::kHttp:
      return "http";
    case CheckType::kHttps:
      return "https";
    case CheckType::kDns:
      return "dns";
  }
  return "?";
}

std::string DnsRcodeName(uint8_t rcode) {
  if (rcode < sizeof(kRcodeNames) / sizeof(kRcodeNames[0])) return kRcodeNames[rcode];
  return absl::StrCat("RCODE", rcode);
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
    *ms = static_cast<uint64_t>(v * static_cast<double>(u.ms) + 0.5);
    return true;
  }
  return false;
}

absl::Status ParseCheck(const std::string& file, const YAML::Node& node, const std::string& target,
                        CheckSpec* out) {
  const CheckParser p(file, target);
  const std::string where = absl::StrCat("targets.", target, ".check");
  if (!node.IsMap()) return p.Err(node, "check must be a mapping with at least 'type'");
  CheckSpec c;
  c.line = node.Mark().line + 1;
  if (!node["type"]) return p.Err(node, "check.type is required (tcp, http, https, dns or none)");
  SX_ASSIGN_OR_RETURN(std::string type, p.Str(node["type"], "type"));
  type = absl::AsciiStrToLower(type);
  std::set<std::string> known = kCommonKeys;
  if (type == "none") {
    c.type = CheckType::kNone;
    known = {"type"};
  } else if (type == "tcp") {
    c.type = CheckType::kTcp;
  } else if (type == "http" || type == "https") {
    c.type = type == "http" ? CheckType::kHttp : CheckType::kHttps;
    c.port = type == "http" ? 80 : 443;
    known.insert(kHttpKeys.begin(), kHttpKeys.end());
    if (c.type == CheckType::kHttps) known.insert(kHttpsKeys.begin(), kHttpsKeys.end());
  } else if (type == "dns") {
    c.type = CheckType::kDns;
    c.port = 53;
    known.insert(kDnsKeys.begin(), kDnsKeys.end());
  } else {
    return p.Err(node["type"],
                 absl::StrCat("check.type '", type, "' is not tcp, http, https, dns or none"));
  }
  for (const auto& kv : node) {
    const std::string key = kv.first.as<std::string>();
    if (known.count(key)) continue;
    const bool other_type = kCommonKeys.count(key) || kHttpKeys.count(key) ||
                            kHttpsKeys.count(key) || kDnsKeys.count(key);
    if (other_type) {
      return p.Err(kv.first, absl::StrCat("check.", key, " does not apply to a ", type, " check"));
    }
    return CheckYamlKeys(file, node, where, known);  // the generic "unknown key" message
  }
  if (c.type == CheckType::kNone) {
    *out = std::move(c);
    return absl::OkStatus();
  }

  int family = 0;
  if (!node["address"]) return p.Err(node, "check.address is required (the address to probe)");
  SX_ASSIGN_OR_RETURN(c.address, p.Address(node["address"], "address", &family));
  if (node["port"]) {
    SX_ASSIGN_OR_RETURN(int64_t port, p.Int(node["port"], "port", 1, 65535));
    c.port = static_cast<uint16_t>(port);
  } else if (c.type == CheckType::kTcp) {
    return p.Err(node, "check.port is required for a tcp check");
  }
  if (node["interval"]) {
    SX_ASSIGN_OR_RETURN(c.interval_ms, p.Duration(node["interval"], "interval", kMinCheckIntervalMs,
                                                  kMaxCheckIntervalMs));
  }
  c.timeout_ms = std::min(c.interval_ms, kMaxDefaultCheckTimeoutMs);
  if (node["timeout"]) {
    SX_ASSIGN_OR_RETURN(c.timeout_ms,
                        p.Duration(node["timeout"], "timeout", kMinTimeoutMs, kMaxCheckIntervalMs));
    // One check at a time per target: a timeout past the interval would make checks overlap.
    if (c.timeout_ms > c.interval_ms) {
      return p.Err(node["timeout"], absl::StrCat("check.timeout (", c.timeout_ms,
                                                 "ms) must not exceed "
                                                 "check.interval (",
                                                 c.interval_ms, "ms)"));
    }
  }
  if (node["rise"]) {
    SX_ASSIGN_OR_RETURN(int64_t v, p.Int(node["rise"], "rise", 1, kMaxThreshold));
    c.rise = static_cast<uint32_t>(v);
  }
  if (node["fall"]) {
    SX_ASSIGN_OR_RETURN(int64_t v, p.Int(node["fall"], "fall", 1, kMaxThreshold));
    c.fall = static_cast<uint32_t>(v);
  }
  if (node["source"]) {
    int source_family = 0;
    SX_ASSIGN_OR_RETURN(c.source, p.Address(node["source"], "source", &source_family));
    if (source_family != family) {
      return p.Err(node["source"], "check.source and check.address must be the same family");
    }
  }

  if (c.type == CheckType::kHttp || c.type == CheckType::kHttps) {
    if (node["method"]) {
      SX_ASSIGN_OR_RETURN(std::string m, p.Str(node["method"], "method"));
      m = absl::AsciiStrToUpper(m);
      if (m == "GET") {
        c.method = HttpMethod::kGet;
      } else if (m == "HEAD") {
        c.method = HttpMethod::kHead;
      } else if (m == "POST") {
        c.method = HttpMethod::kPost;
      } else {
        return p.Err(node["method"],
                     absl::StrCat("check.method '", m, "' is not GET, HEAD or POST"));
      }
    }
    if (node["path"]) {
      SX_ASSIGN_OR_RETURN(c.path, p.Str(node["path"], "path"));
      bool clean = !c.path.empty() && c.path[0] == '/';
      for (unsigned char ch : c.path) clean = clean && ch > 0x20 && ch < 0x7f;
      if (!clean) {
        return p.Err(node["path"],
                     "check.path must start with '/' and hold no spaces or control characters");
      }
    }
    if (node["host"]) {
      SX_ASSIGN_OR_RETURN(c.host, p.Str(node["host"], "host"));
      if (!HostnameChars(c.host)) {
        return p.Err(node["host"], absl::StrCat("check.host '", c.host, "' is not a host name"));
      }
    }
    if (const YAML::Node s = node["expect_status"]) {
      auto add = [&](const YAML::Node& x) -> absl::Status {
        SX_ASSIGN_OR_RETURN(int64_t v, p.Int(x, "expect_status", 100, 599));
        c.expect_status.push_back(static_cast<uint16_t>(v));
        return absl::OkStatus();
      };
      if (s.IsSequence() && s.size() > 0) {
        for (const YAML::Node& x : s) SX_RETURN_IF_ERROR(add(x));
      } else if (s.IsScalar()) {
        SX_RETURN_IF_ERROR(add(s));
      } else {
        return p.Err(s, "check.expect_status must be a status code or a non-empty list of them");
      }
    }
    if (node["body_contains"]) {
      SX_ASSIGN_OR_RETURN(c.body_contains, p.Str(node["body_contains"], "body_contains"));
      if (c.body_contains.empty() || c.body_contains.size() > kMaxBodyContains) {
        return p.Err(node["body_contains"],
                     absl::StrCat("check.body_contains must be 1..", kMaxBodyContains, " bytes"));
      }
      if (c.method == HttpMethod::kHead) {
        return p.Err(node["body_contains"], "check.body_contains needs a body (not method HEAD)");
      }
    }
    if (node["verify"]) {
      if (!node["verify"].IsScalar() || !YAML::convert<bool>::decode(node["verify"], c.verify)) {
        return p.Err(node["verify"], "check.verify must be true or false");
      }
    }
    if (node["ca_file"]) {
      SX_ASSIGN_OR_RETURN(c.ca_file, p.Str(node["ca_file"], "ca_file"));
      // Checks run from the daemon, whose working directory says nothing about the config.
      if (c.ca_file.empty() || c.ca_file[0] != '/') {
        return p.Err(node["ca_file"], "check.ca_file must be an absolute path");
      }
    }
  }

  if (c.type == CheckType::kDns) {
    if (!node["query"]) return p.Err(node, "check.query is required for a dns check");
    SX_ASSIGN_OR_RETURN(c.query, p.Str(node["query"], "query"));
    if (c.query.empty() || c.query.back() != '.') c.query += '.';
    ldns_rdf* dname = nullptr;
    if (ldns_str2rdf_dname(&dname, c.query.c_str()) != LDNS_STATUS_OK) {
      return p.Err(node["query"], absl::StrCat("check.query '", c.query, "' is not a domain name"));
    }
    ldns_rdf_deep_free(dname);
    if (node["qtype"]) {
      SX_ASSIGN_OR_RETURN(std::string t, p.Str(node["qtype"], "qtype"));
      t = absl::AsciiStrToUpper(t);
      const ldns_rr_type rt = ldns_get_rr_type_by_name(t.c_str());
      if (rt == 0) return p.Err(node["qtype"], absl::StrCat("check.qtype '", t, "' is unknown"));
      c.qtype = static_cast<uint16_t>(rt);
    }
    if (node["expect_rcode"]) {
      SX_ASSIGN_OR_RETURN(std::string r, p.Str(node["expect_rcode"], "expect_rcode"));
      r = absl::AsciiStrToUpper(r);
      bool found = false;
      for (uint8_t i = 0; i < sizeof(kRcodeNames) / sizeof(kRcodeNames[0]); ++i) {
        if (r == kRcodeNames[i]) {
          c.expect_rcode = i;
          found = true;
        }
      }
      if (!found) {
        return p.Err(node["expect_rcode"],
                     absl::StrCat("check.expect_rcode '", r, "' is not an rcode (NOERROR, ...)"));
      }
    }
    if (node["expect_answer"]) {
      SX_ASSIGN_OR_RETURN(c.expect_answer, p.Str(node["expect_answer"], "expect_answer"));
      in6_addr buf;
      if (c.qtype == LDNS_RR_TYPE_A && inet_pton(AF_INET, c.expect_answer.c_str(), &buf) != 1) {
        return p.Err(node["expect_answer"],
                     "check.expect_answer must be an IPv4 address (qtype A)");
      }
      if (c.qtype == LDNS_RR_TYPE_AAAA && inet_pton(AF_INET6, c.expect_answer.c_str(), &buf) != 1) {
        return p.Err(node["expect_answer"],
                     "check.expect_answer must be an IPv6 address (qtype AAAA)");
      }
      if (c.expect_answer.empty())
        return p.Err(node["expect_answer"], "check.expect_answer is empty");
    }
  }
  *out = std::move(c);
  return absl::OkStatus();
}

absl::Status ParseHealthFeeds(const std::string& file, const YAML::Node& node,
                              std::vector<FeedSpec>* out) {
  if (!node.IsSequence()) {
    return YamlError(file, node, "'health_feeds' must be a list of {file} or {command, interval}");
  }
  for (const YAML::Node& n : node) {
    FeedSpec f;
    f.line = n.Mark().line + 1;
    if (!n.IsMap() || (n["file"] ? 1 : 0) + (n["command"] ? 1 : 0) != 1) {
      return YamlError(file, n, "each health feed needs exactly one of 'file' or 'command'");
    }
    if (n["file"]) {
      SX_RETURN_IF_ERROR(CheckYamlKeys(file, n, "health_feeds[]", {"file"}));
      if (!n["file"].IsScalar())
        return YamlError(file, n["file"], "health feed file must be a path");
      f.kind = FeedSpec::Kind::kFile;
      f.file = n["file"].as<std::string>();
      if (f.file.empty() || f.file[0] != '/') {
        return YamlError(file, n["file"], "health feed file must be an absolute path");
      }
    } else {
      SX_RETURN_IF_ERROR(
          CheckYamlKeys(file, n, "health_feeds[]", {"command", "interval", "timeout"}));
      if (!n["command"].IsScalar() || n["command"].as<std::string>().empty()) {
        return YamlError(file, n["command"], "health feed command must be a non-empty string");
      }
      f.kind = FeedSpec::Kind::kCommand;
      f.command = n["command"].as<std::string>();
      auto duration = [&](const char* key, uint32_t lo, uint32_t* v) -> absl::Status {
        uint64_t ms = 0;
        if (!n[key].IsScalar() || !ParseCheckDurationMs(n[key].as<std::string>(), &ms) || ms < lo ||
            ms > kMaxCheckIntervalMs) {
          return YamlError(
              file, n[key],
              absl::StrCat("health feed ", key, " must be a duration (like 500ms, 2s, 1m) from ",
                           lo, "ms to ", kMaxCheckIntervalMs / 1000, "s"));
        }
        *v = static_cast<uint32_t>(ms);
        return absl::OkStatus();
      };
      if (n["interval"])
        SX_RETURN_IF_ERROR(duration("interval", kMinCheckIntervalMs, &f.interval_ms));
      f.timeout_ms = std::min(f.interval_ms, kMaxDefaultCheckTimeoutMs);
      if (n["timeout"]) {
        SX_RETURN_IF_ERROR(duration("timeout", kMinTimeoutMs, &f.timeout_ms));
        if (f.timeout_ms > f.interval_ms) {
          return YamlError(file, n["timeout"],
                           "health feed timeout must not exceed its interval (one run at a time)");
        }
      }
    }
    out->push_back(std::move(f));
  }
  return absl::OkStatus();
}

}  // namespace sextant::control
