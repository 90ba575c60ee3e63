#include "control/geo/geo_list_rules.h"

#include <algorithm>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "control/geo/geo_compiler.h"
#include "control/geo/mmdb_lookup.h"
#include "maps/status_macros.h"

namespace sextant::control {

using maps::kMaxDatacenters;
using maps::kMaxDcsPerList;

namespace {

constexpr EmbeddedRange kEmbeddedV4Ranges[] = {
    {{}, 96, "IPv4-compatible ::/96"},
    {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}, 96, "IPv4-mapped ::ffff:0:0/96"},
    {{0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}, 96, "SIIT ::ffff:0:0:0/96"},
    {{0, 0x64, 0xff, 0x9b}, 96, "NAT64 64:ff9b::/96"},
    {{0x20, 0x01}, 32, "Teredo 2001::/32"},
    {{0x20, 0x02}, 16, "6to4 2002::/16"},
};

// Reads one string at `path` (a NULL-terminated list) of the record, "" if absent.
std::string RecordString(MMDB_entry_s* entry, const char* const* path) {
  MMDB_entry_data_s data;
  if (MMDB_aget_value(entry, &data, path) != MMDB_SUCCESS || !data.has_data ||
      data.type != MMDB_DATA_TYPE_UTF8_STRING) {
    return "";
  }
  return std::string(data.utf8_string, data.data_size);
}

std::optional<double> RecordDouble(MMDB_entry_s* entry, const char* const* path) {
  MMDB_entry_data_s data;
  if (MMDB_aget_value(entry, &data, path) != MMDB_SUCCESS || !data.has_data) return std::nullopt;
  if (data.type == MMDB_DATA_TYPE_DOUBLE) return data.double_value;
  if (data.type == MMDB_DATA_TYPE_FLOAT) return data.float_value;
  return std::nullopt;
}

// "' is inside ..., which is looked up as IPv4" for an IPv6 prefix in an embedding range.
absl::Status CheckNotEmbedded(const GeoListRules& rules, const std::string& where,
                              const IpPrefix& p) {
  if (p.family != kFamilyIpv6) return absl::OkStatus();
  for (const EmbeddedRange& r : kEmbeddedV4Ranges) {
    if (PrefixInside(p.addr, p.length, r.addr, r.length)) {
      return rules.Error(absl::StrCat(where, ": ", FormatIpPrefix(p), " is inside ", r.what,
                                      ", which is looked up as IPv4: write the IPv4 network"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Span<const EmbeddedRange> EmbeddedV4Ranges() { return kEmbeddedV4Ranges; }

bool PrefixInside(const uint8_t* addr, int len, const uint8_t* range, int range_len) {
  if (len < range_len) return false;
  for (int bit = 0; bit < range_len; ++bit) {
    const uint8_t m = 0x80 >> (bit % 8);
    if ((addr[bit / 8] & m) != (range[bit / 8] & m)) return false;
  }
  return true;
}

absl::StatusOr<GeoListRules> GeoListRules::Create(const GeoMapConfig& config) {
  GeoListRules rules(config);
  SX_RETURN_IF_ERROR(rules.Resolve());
  return rules;
}

absl::Status GeoListRules::Error(absl::string_view msg) const {
  return absl::InvalidArgumentError(absl::StrCat("geo map '", config_->name, "': ", msg));
}

int GeoListRules::ListCap() const {
  return config_->max_datacenters > 0 ? config_->max_datacenters : kMaxDcsPerList;
}

absl::StatusOr<std::vector<uint8_t>> GeoListRules::ResolveList(
    const std::vector<std::string>& names, absl::string_view where) const {
  if (names.empty()) return Error(absl::StrCat(where, ": empty datacenter list"));
  if (names.size() > static_cast<size_t>(kMaxDcsPerList)) {
    return Error(absl::StrCat(where, ": ", names.size(), " datacenters, at most ", kMaxDcsPerList,
                              " per list"));
  }
  std::vector<uint8_t> ids;
  for (const std::string& n : names) {
    auto it = dc_ids_.find(n);
    if (it == dc_ids_.end()) return Error(absl::StrCat(where, ": unknown datacenter '", n, "'"));
    if (std::find(ids.begin(), ids.end(), it->second) != ids.end()) {
      return Error(absl::StrCat(where, ": datacenter '", n, "' listed twice"));
    }
    ids.push_back(it->second);
  }
  return ids;
}

absl::Status GeoListRules::Resolve() {
  const auto& dcs = config_->datacenters;
  if (dcs.empty()) return Error("no datacenters");
  if (dcs.size() > static_cast<size_t>(kMaxDatacenters)) {
    return Error(absl::StrCat(dcs.size(), " datacenters, at most ", kMaxDatacenters));
  }
  for (size_t i = 0; i < dcs.size(); ++i) {
    const Datacenter& dc = dcs[i];
    if (dc.name.empty()) return Error(absl::StrCat("datacenter ", i, " has no name"));
    if (!(dc.latitude >= -90 && dc.latitude <= 90 && dc.longitude >= -180 && dc.longitude <= 180)) {
      return Error(absl::StrCat("datacenter '", dc.name, "': coordinates ", dc.latitude, ",",
                                dc.longitude, " out of range"));
    }
    if (!dc_ids_.emplace(dc.name, static_cast<uint8_t>(i)).second) {
      return Error(absl::StrCat("datacenter '", dc.name, "' defined twice"));
    }
  }
  if (config_->max_datacenters < 0 || config_->max_datacenters > kMaxDcsPerList) {
    return Error(
        absl::StrCat("max datacenters ", config_->max_datacenters, " not in 0..", kMaxDcsPerList));
  }
  // The default list is interned first so that it is list 0: the answer for unknown space.
  std::vector<uint8_t> def;
  if (config_->default_datacenters.empty()) {
    const size_t cap = config_->mode == GeoMode::kNearest ? ListCap() : kMaxDcsPerList;
    for (size_t i = 0; i < dcs.size() && i < cap; ++i) def.push_back(static_cast<uint8_t>(i));
  } else {
    SX_ASSIGN_OR_RETURN(def, ResolveList(config_->default_datacenters, "default"));
  }
  default_list_ = lists_.Intern(def);

  const bool has_rules = !config_->continent_rules.empty() || !config_->country_rules.empty() ||
                         !config_->subdivision_rules.empty();
  if (config_->mode == GeoMode::kNearest && has_rules) {
    return Error("continent/country/subdivision rules are only used in rules mode");
  }
  const std::pair<const std::map<std::string, std::vector<std::string>>*,
                  std::map<std::string, uint32_t>*>
      rule_sets[] = {{&config_->continent_rules, &continent_lists_},
                     {&config_->country_rules, &country_lists_},
                     {&config_->subdivision_rules, &subdivision_lists_}};
  for (const auto& [in, out] : rule_sets) {
    for (const auto& [key, names] : *in) {
      SX_ASSIGN_OR_RETURN(auto ids, ResolveList(names, absl::StrCat("rule '", key, "'")));
      (*out)[key] = lists_.Intern(ids);
    }
  }
  return absl::OkStatus();
}

uint32_t GeoListRules::NearestList(double lat, double lon) {
  const auto& dcs = config_->datacenters;
  std::vector<std::pair<double, uint8_t>> by_distance;
  by_distance.reserve(dcs.size());
  for (size_t i = 0; i < dcs.size(); ++i) {
    by_distance.emplace_back(GreatCircleKm(lat, lon, dcs[i].latitude, dcs[i].longitude),
                             static_cast<uint8_t>(i));
  }
  // Ties (equal distance) keep config order: the pair compares the id second.
  std::sort(by_distance.begin(), by_distance.end());
  std::vector<uint8_t> ids;
  for (size_t i = 0; i < by_distance.size() && i < static_cast<size_t>(ListCap()); ++i) {
    ids.push_back(by_distance[i].second);
  }
  return lists_.Intern(ids);
}

uint32_t GeoListRules::ListForEntry(MMDB_entry_s* entry, RecordChoice* why) {
  if (config_->mode == GeoMode::kRules) return RuleList(entry, why);
  static const char* const kLat[] = {"location", "latitude", nullptr};
  static const char* const kLon[] = {"location", "longitude", nullptr};
  const std::optional<double> lat = RecordDouble(entry, kLat);
  const std::optional<double> lon = RecordDouble(entry, kLon);
  if (!lat || !lon || !(*lat >= -90 && *lat <= 90 && *lon >= -180 && *lon <= 180)) {
    // Country/ASN databases, or a City record without a location.
    if (why != nullptr) {
      why->by_default = true;
      why->fields = !lat || !lon ? "no coordinates"
                                 : absl::StrCat("coordinates ", DegreesText(*lat), ",",
                                                DegreesText(*lon), " out of range");
    }
    return default_list_;
  }
  if (why != nullptr) {
    static const char* const kCity[] = {"city", "names", "en", nullptr};
    const std::string city = RecordString(entry, kCity);
    why->fields =
        absl::StrCat("coordinates ", DegreesText(*lat), ",", DegreesText(*lon),
                     city.empty() ? "" : absl::StrCat(" (city '", city, "')"), ", nearest first");
  }
  return NearestList(*lat, *lon);
}

// Rules mode: the most specific rule the record matches. The compiler asks with `why` null, so
// the reasons cost it nothing.
uint32_t GeoListRules::RuleList(MMDB_entry_s* entry, RecordChoice* why) const {
  static const char* const kCountry[] = {"country", "iso_code", nullptr};
  static const char* const kContinent[] = {"continent", "code", nullptr};
  const std::string country = RecordString(entry, kCountry);
  std::vector<std::string> seen;  // what the record has without a rule (explain only)
  auto chose = [why](absl::string_view kind, absl::string_view code, uint32_t list) {
    if (why != nullptr) why->fields = absl::StrCat("rule ", kind, " ", code);
    return list;
  };
  if (!subdivision_lists_.empty() && !country.empty()) {
    // Subdivisions are ordered largest first; the most specific one with a rule wins.
    MMDB_entry_data_s subs;
    static const char* const kSubs[] = {"subdivisions", nullptr};
    if (MMDB_aget_value(entry, &subs, kSubs) == MMDB_SUCCESS && subs.has_data &&
        subs.type == MMDB_DATA_TYPE_ARRAY) {
      for (int i = static_cast<int>(subs.data_size) - 1; i >= 0; --i) {
        const std::string index = std::to_string(i);
        const char* const path[] = {"subdivisions", index.c_str(), "iso_code", nullptr};
        const std::string code = RecordString(entry, path);
        if (code.empty()) continue;
        const std::string key = absl::StrCat(country, "-", code);
        auto it = subdivision_lists_.find(key);
        if (it != subdivision_lists_.end()) return chose("subdivision", key, it->second);
        if (why != nullptr) seen.push_back(absl::StrCat("subdivision ", key));
      }
    }
  }
  if (auto it = country_lists_.find(country); !country.empty() && it != country_lists_.end()) {
    return chose("country", country, it->second);
  }
  const std::string continent = RecordString(entry, kContinent);
  if (auto it = continent_lists_.find(continent);
      !continent.empty() && it != continent_lists_.end()) {
    return chose("continent", continent, it->second);
  }
  if (why != nullptr) {
    if (!country.empty()) seen.push_back(absl::StrCat("country ", country));
    if (!continent.empty()) seen.push_back(absl::StrCat("continent ", continent));
    why->by_default = true;
    why->fields = seen.empty() ? "no country or continent"
                               : absl::StrCat("no rule for ", absl::StrJoin(seen, ", "));
  }
  return default_list_;
}

absl::StatusOr<std::vector<ResolvedNet>> GeoListRules::Nets() {
  std::vector<NetOverride> nets = config_->nets;
  if (!config_->nets_path.empty()) {
    // The file's own errors name it and the line; the map's name says which key to look at.
    absl::StatusOr<std::vector<NetOverride>> from_file = ReadNetsFile(config_->nets_path);
    if (!from_file.ok()) return Error(from_file.status().message());
    for (auto& n : *from_file) nets.push_back(std::move(n));
  }
  std::vector<ResolvedNet> resolved;
  std::map<std::string, std::string> seen;  // prefix text -> where
  for (NetOverride& n : nets) {
    const std::string where = n.where.empty() ? FormatIpPrefix(n.prefix) : n.where;
    SX_RETURN_IF_ERROR(CheckNotEmbedded(*this, where, n.prefix));
    auto [it, fresh] = seen.emplace(FormatIpPrefix(n.prefix), where);
    if (!fresh) {
      return Error(absl::StrCat(where, ": ", it->first, " already given at ", it->second));
    }
    SX_ASSIGN_OR_RETURN(auto ids, ResolveList(n.datacenters, where));
    resolved.push_back({n.prefix, lists_.Intern(ids), where, std::move(n.datacenters)});
  }
  // Less specific first, so that more specific entries are painted over them.
  std::stable_sort(
      resolved.begin(), resolved.end(),
      [](const ResolvedNet& a, const ResolvedNet& b) { return a.prefix.length < b.prefix.length; });
  return resolved;
}

absl::StatusOr<std::vector<LatencyGroup>> GeoListRules::LatencyGroups() const {
  std::vector<LatencyRow> rows = config_->latency;
  if (!config_->latency_path.empty()) {
    // The file's own errors name it and the line; the map's name says which key to look at.
    absl::StatusOr<std::vector<LatencyRow>> from_file = ReadLatencyCsvFile(config_->latency_path);
    if (!from_file.ok()) return Error(from_file.status().message());
    for (auto& r : *from_file) rows.push_back(std::move(r));
  }
  std::map<std::string, LatencyGroup> groups;
  for (const LatencyRow& r : rows) {
    const std::string where = r.where.empty() ? FormatIpPrefix(r.prefix) : r.where;
    SX_RETURN_IF_ERROR(CheckNotEmbedded(*this, where, r.prefix));
    auto dc = dc_ids_.find(r.datacenter);
    if (dc == dc_ids_.end()) {
      return Error(absl::StrCat(where, ": unknown datacenter '", r.datacenter, "'"));
    }
    LatencyGroup& g = groups[FormatIpPrefix(r.prefix)];
    g.prefix = r.prefix;
    auto [it, fresh] = g.where.emplace(dc->second, where);
    if (!fresh) {
      return Error(absl::StrCat(where, ": ", FormatIpPrefix(r.prefix), " -> ", r.datacenter,
                                " already measured at ", it->second));
    }
    g.measured.emplace_back(r.rtt_ms, dc->second);
  }
  std::vector<LatencyGroup> out;
  for (auto& [key, g] : groups) {
    std::sort(g.measured.begin(), g.measured.end());  // by rtt, ties in config order
    out.push_back(std::move(g));
  }
  // Most specific first: the compiler marks their networks done, so an enclosing group skips
  // them.
  std::stable_sort(out.begin(), out.end(), [](const LatencyGroup& a, const LatencyGroup& b) {
    return a.prefix.length > b.prefix.length;
  });
  return out;
}

uint32_t GeoListRules::LatencyList(const LatencyGroup& g, uint32_t beneath) {
  const size_t cap = ListCap();
  std::vector<uint8_t> ids;
  for (const auto& [rtt, dc] : g.measured) {
    if (ids.size() < cap) ids.push_back(dc);
  }
  // Unmeasured datacenters follow in the order the network had without measurements.
  for (uint8_t dc : lists_.Get(beneath)) {
    if (ids.size() < cap && std::find(ids.begin(), ids.end(), dc) == ids.end()) {
      ids.push_back(dc);
    }
  }
  return lists_.Intern(ids);
}

}  // namespace sextant::control
