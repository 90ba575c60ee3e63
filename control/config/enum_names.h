// One name table per enum that people write or read as a word: rows of {value, "name"}, used
// both to parse (YamlReader::Enum, EnumFromName) and to print (NameOf), so that each word is
// spelt in one place and a name the parser takes is the name every message and report shows.
//
// The first row of a value is its printed name; a later row with the same value is another
// spelling that parses to it. Names match case-insensitively. An enum declared outside
// control/config (control/health's ForcedState) specialises EnumNames next to its declaration.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "control/config/fleet_config.h"
#include "control/config/health_check.h"
#include "control/config/resource_config.h"
#include "control/geo/geo_config.h"
#include "maps/dns/wire.h"
#include "maps/log.h"

namespace sextant::control {

template <typename E>
struct EnumName {
  E value;
  const char* name;
};

// Specialised per enum with `static constexpr EnumName<E> kRows[]`.
template <typename E>
struct EnumNames;

// The printed name of `value`; "?" for a value the table does not name.
template <typename E>
const char* NameOf(E value) {
  for (const EnumName<E>& row : EnumNames<E>::kRows) {
    if (row.value == value) return row.name;
  }
  return "?";
}

template <typename E>
bool HasName(E value) {
  for (const EnumName<E>& row : EnumNames<E>::kRows) {
    if (row.value == value) return true;
  }
  return false;
}

template <typename E>
std::optional<E> EnumFromName(absl::string_view name) {
  for (const EnumName<E>& row : EnumNames<E>::kRows) {
    if (absl::EqualsIgnoreCase(row.name, name)) return row.value;
  }
  return std::nullopt;
}

// "a, b or c".
inline std::string JoinAlternatives(const std::vector<const char*>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    out += i == 0 ? "" : i + 1 == names.size() ? " or " : ", ";
    out += names[i];
  }
  return out;
}

// Every value's printed name in table order (not the other spellings), for messages.
template <typename E>
std::vector<std::string> EnumNameVector() {
  std::vector<std::string> names;
  for (const EnumName<E>& row : EnumNames<E>::kRows) {
    if (NameOf(row.value) == row.name) names.emplace_back(row.name);
  }
  return names;
}

// "tcp, http, https, dns or none".
template <typename E>
std::string EnumNameList() {
  std::vector<const char*> names;
  for (const EnumName<E>& row : EnumNames<E>::kRows) {
    if (NameOf(row.value) == row.name) names.push_back(row.name);  // not another spelling
  }
  return JoinAlternatives(names);
}

template <>
struct EnumNames<Quorum> {
  static constexpr EnumName<Quorum> kRows[] = {
      {Quorum::kLocal, "local"},
      {Quorum::kAny, "any"},
      {Quorum::kMajority, "majority"},
      {Quorum::kAll, "all"},
  };
};

template <>
struct EnumNames<PolicyKind> {
  static constexpr EnumName<PolicyKind> kRows[] = {
      {PolicyKind::kStatic, "static"},     {PolicyKind::kFailover, "failover"},
      {PolicyKind::kWeighted, "weighted"}, {PolicyKind::kMultivalue, "multivalue"},
      {PolicyKind::kGeo, "geo"},           {PolicyKind::kLatency, "latency"},
  };
};

template <>
struct EnumNames<StaticOrder> {
  static constexpr EnumName<StaticOrder> kRows[] = {
      {StaticOrder::kCyclic, "cyclic"},
      {StaticOrder::kRandom, "random"},
      {StaticOrder::kFixed, "fixed"},
  };
};

template <>
struct EnumNames<AllDown> {
  static constexpr EnumName<AllDown> kRows[] = {
      {AllDown::kAll, "all"},           {AllDown::kFirst, "first"},
      {AllDown::kNoData, "nodata"},     {AllDown::kServFail, "servfail"},
      {AllDown::kFallback, "fallback"},
  };
};

// In the order messages list them: the usual types first, `none` last.
template <>
struct EnumNames<CheckType> {
  static constexpr EnumName<CheckType> kRows[] = {
      {CheckType::kTcp, "tcp"}, {CheckType::kHttp, "http"}, {CheckType::kHttps, "https"},
      {CheckType::kDns, "dns"}, {CheckType::kNone, "none"},
  };
};

template <>
struct EnumNames<HttpMethod> {
  static constexpr EnumName<HttpMethod> kRows[] = {
      {HttpMethod::kGet, "GET"},
      {HttpMethod::kHead, "HEAD"},
      {HttpMethod::kPost, "POST"},
  };
};

template <>
struct EnumNames<GeoMode> {
  static constexpr EnumName<GeoMode> kRows[] = {
      {GeoMode::kNearest, "nearest"},
      {GeoMode::kRules, "rules"},
  };
};

// The record types maps/dns/wire.h names (resource records take A, AAAA and CNAME of them).
template <>
struct EnumNames<maps::dns::Type> {
  static constexpr EnumName<maps::dns::Type> kRows[] = {
      {maps::dns::kTypeA, "A"},         {maps::dns::kTypeNs, "NS"},
      {maps::dns::kTypeCname, "CNAME"}, {maps::dns::kTypeSoa, "SOA"},
      {maps::dns::kTypePtr, "PTR"},     {maps::dns::kTypeMx, "MX"},
      {maps::dns::kTypeTxt, "TXT"},     {maps::dns::kTypeAaaa, "AAAA"},
      {maps::dns::kTypeSrv, "SRV"},     {maps::dns::kTypeDname, "DNAME"},
      {maps::dns::kTypeOpt, "OPT"},     {maps::dns::kTypeDs, "DS"},
      {maps::dns::kTypeIxfr, "IXFR"},   {maps::dns::kTypeAxfr, "AXFR"},
      {maps::dns::kTypeAny, "ANY"},
  };
};

// Header rcodes 0..10 (RFC 1035, RFC 2136) and the extended BADVERS (RFC 6891). wire.h names
// only the rcodes the engine sends; the others are spelt as numbers here, once.
template <>
struct EnumNames<maps::dns::Rcode> {
  static constexpr EnumName<maps::dns::Rcode> kRows[] = {
      {maps::dns::kNoError, "NOERROR"},
      {maps::dns::kFormErr, "FORMERR"},
      {maps::dns::kServFail, "SERVFAIL"},
      {maps::dns::kNxDomain, "NXDOMAIN"},
      {maps::dns::kNotImp, "NOTIMP"},
      {maps::dns::kRefused, "REFUSED"},
      {static_cast<maps::dns::Rcode>(6), "YXDOMAIN"},
      {static_cast<maps::dns::Rcode>(7), "YXRRSET"},
      {static_cast<maps::dns::Rcode>(8), "NXRRSET"},
      {maps::dns::kNotAuth, "NOTAUTH"},
      {static_cast<maps::dns::Rcode>(10), "NOTZONE"},
      {maps::dns::kBadVers, "BADVERS"},
  };
};

template <>
struct EnumNames<maps::LogLevel> {
  static constexpr EnumName<maps::LogLevel> kRows[] = {
      {maps::LogLevel::kError, "error"},   {maps::LogLevel::kWarning, "warning"},
      {maps::LogLevel::kNotice, "notice"}, {maps::LogLevel::kInfo, "info"},
      {maps::LogLevel::kDebug, "debug"},
  };
};

}  // namespace sextant::control
