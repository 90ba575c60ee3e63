#include "control/geo/geo_compiler.h"

#include <maxminddb.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "maps/status_macros.h"

namespace sextant::control {

using maps::kMaxDatacenters;
using maps::kMaxDcsPerList;
using maps::kPrefixMaxListId;
namespace {

struct MmdbCloser {
  void operator()(MMDB_s* m) const {
    MMDB_close(m);
    delete m;
  }
};
using MmdbHandle = std::unique_ptr<MMDB_s, MmdbCloser>;

struct EntryDataListFreer {
  void operator()(MMDB_entry_data_list_s* l) const { MMDB_free_entry_data_list(l); }
};

absl::StatusOr<MmdbHandle> OpenMmdb(const std::string& path) {
  auto raw = std::make_unique<MMDB_s>();
  const int rc = MMDB_open(path.c_str(), MMDB_MODE_MMAP, raw.get());
  if (rc != MMDB_SUCCESS) {
    // MMDB_open releases what it allocated itself when it fails; there is nothing to close.
    std::string detail = MMDB_strerror(rc);
    if (rc == MMDB_IO_ERROR) absl::StrAppend(&detail, " (", std::strerror(errno), ")");
    return absl::InvalidArgumentError(absl::StrCat(path, ": cannot open MaxMind DB: ", detail));
  }
  return MmdbHandle(raw.release());
}

// IPv6 ranges whose lookups go to the IPv4 table (prefix_table.h), so their IPv6 entries are
// never read and a nets entry or latency row inside them could never apply.
struct EmbeddedRange {
  uint8_t addr[16];
  int length;
  const char* what;
};
constexpr EmbeddedRange kEmbeddedV4Ranges[] = {
    {{}, 96, "IPv4-compatible ::/96"},
    {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}, 96, "IPv4-mapped ::ffff:0:0/96"},
    {{0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}, 96, "SIIT ::ffff:0:0:0/96"},
    {{0, 0x64, 0xff, 0x9b}, 96, "NAT64 64:ff9b::/96"},
    {{0x20, 0x01}, 32, "Teredo 2001::/32"},
    {{0x20, 0x02}, 16, "6to4 2002::/16"},
};

bool PrefixInside(const uint8_t* addr, int len, const uint8_t* range, int range_len) {
  if (len < range_len) return false;
  for (int bit = 0; bit < range_len; ++bit) {
    const uint8_t m = 0x80 >> (bit % 8);
    if ((addr[bit / 8] & m) != (range[bit / 8] & m)) return false;
  }
  return true;
}

double ToRadians(double deg) { return deg * M_PI / 180.0; }

// One compilation: the resolved config, the list set, and the two tries being painted.
class GeoCompilation {
 public:
  explicit GeoCompilation(const GeoMapConfig& config) : config_(config), v4_(32, 0), v6_(128, 0) {}

  absl::StatusOr<CompiledGeoMap> Run();

 private:
  // Latency lists are marked while painted so a less specific row group leaves them alone.
  static constexpr uint32_t kLatencyDone = 0x80000000u;

  absl::Status Error(absl::string_view msg) const {
    return absl::InvalidArgumentError(absl::StrCat("geo map '", config_.name, "': ", msg));
  }
  absl::Status ResolveConfig();
  absl::StatusOr<std::vector<uint8_t>> ResolveList(const std::vector<std::string>& names,
                                                   absl::string_view where) const;
  absl::Status WalkDatabase();
  absl::Status WalkNode(uint32_t node, int depth, uint8_t* addr, bool v6, bool zero_path);
  absl::StatusOr<uint32_t> ListForRecord(uint64_t record, uint32_t offset);
  absl::StatusOr<uint32_t> ListForEntry(MMDB_entry_s* entry);
  uint32_t NearestList(double lat, double lon);
  absl::Status ApplyNets();
  absl::Status ApplyLatency();
  PrefixTrie& TrieFor(const IpPrefix& p) { return p.family == kFamilyIpv4 ? v4_ : v6_; }
  int ListCap() const {
    return config_.max_datacenters > 0 ? config_.max_datacenters : kMaxDcsPerList;
  }

  const GeoMapConfig& config_;
  absl::flat_hash_map<std::string, uint8_t> dc_ids_;
  std::map<std::string, uint32_t> continent_lists_, country_lists_, subdivision_lists_;
  DcListSet lists_;
  uint32_t default_list_ = 0;
  PrefixTrie v4_;
  PrefixTrie v6_;
  GeoCompileStats stats_;

  MmdbHandle mmdb_;
  uint32_t node_count_ = 0;
  std::optional<uint32_t> ipv4_start_;  // IPv6 database: the node at ::/96, if there is one
  std::vector<bool> visited_;
  absl::flat_hash_map<uint32_t, uint32_t> record_lists_;  // data offset -> list id
};

absl::StatusOr<std::vector<uint8_t>> GeoCompilation::ResolveList(
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

absl::Status GeoCompilation::ResolveConfig() {
  const auto& dcs = config_.datacenters;
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
  if (config_.max_datacenters < 0 || config_.max_datacenters > kMaxDcsPerList) {
    return Error(
        absl::StrCat("max datacenters ", config_.max_datacenters, " not in 0..", kMaxDcsPerList));
  }
  // The default list is interned first so that it is list 0: the answer for unknown space.
  std::vector<uint8_t> def;
  if (config_.default_datacenters.empty()) {
    const size_t cap = config_.mode == GeoMode::kNearest ? ListCap() : kMaxDcsPerList;
    for (size_t i = 0; i < dcs.size() && i < cap; ++i) def.push_back(static_cast<uint8_t>(i));
  } else {
    SX_ASSIGN_OR_RETURN(def, ResolveList(config_.default_datacenters, "default"));
  }
  default_list_ = lists_.Intern(def);

  const bool has_rules = !config_.continent_rules.empty() || !config_.country_rules.empty() ||
                         !config_.subdivision_rules.empty();
  if (config_.mode == GeoMode::kNearest && has_rules) {
    return Error("continent/country/subdivision rules are only used in rules mode");
  }
  const std::pair<const std::map<std::string, std::vector<std::string>>*,
                  std::map<std::string, uint32_t>*>
      rule_sets[] = {{&config_.continent_rules, &continent_lists_},
                     {&config_.country_rules, &country_lists_},
                     {&config_.subdivision_rules, &subdivision_lists_}};
  for (const auto& [in, out] : rule_sets) {
    for (const auto& [key, names] : *in) {
      SX_ASSIGN_OR_RETURN(auto ids, ResolveList(names, absl::StrCat("rule '", key, "'")));
      (*out)[key] = lists_.Intern(ids);
    }
  }
  return absl::OkStatus();
}

uint32_t GeoCompilation::NearestList(double lat, double lon) {
  const auto& dcs = config_.datacenters;
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

absl::StatusOr<uint32_t> GeoCompilation::ListForEntry(MMDB_entry_s* entry) {
  if (config_.mode == GeoMode::kNearest) {
    static const char* const kLat[] = {"location", "latitude", nullptr};
    static const char* const kLon[] = {"location", "longitude", nullptr};
    const std::optional<double> lat = RecordDouble(entry, kLat);
    const std::optional<double> lon = RecordDouble(entry, kLon);
    if (!lat || !lon || !(*lat >= -90 && *lat <= 90 && *lon >= -180 && *lon <= 180)) {
      return default_list_;  // Country/ASN databases, or a City record without a location
    }
    return NearestList(*lat, *lon);
  }
  static const char* const kCountry[] = {"country", "iso_code", nullptr};
  static const char* const kContinent[] = {"continent", "code", nullptr};
  const std::string country = RecordString(entry, kCountry);
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
        auto it = subdivision_lists_.find(absl::StrCat(country, "-", code));
        if (it != subdivision_lists_.end()) return it->second;
      }
    }
  }
  if (auto it = country_lists_.find(country); !country.empty() && it != country_lists_.end()) {
    return it->second;
  }
  const std::string continent = RecordString(entry, kContinent);
  if (auto it = continent_lists_.find(continent);
      !continent.empty() && it != continent_lists_.end()) {
    return it->second;
  }
  return default_list_;
}

absl::StatusOr<uint32_t> GeoCompilation::ListForRecord(uint64_t record, uint32_t offset) {
  auto it = record_lists_.find(offset);
  if (it != record_lists_.end()) return it->second;
  MMDB_entry_s entry{mmdb_.get(), offset};
  // Decoding the whole record validates it (types, sizes, pointers), not only the fields used.
  MMDB_entry_data_list_s* raw = nullptr;
  const int rc = MMDB_get_entry_data_list(&entry, &raw);
  std::unique_ptr<MMDB_entry_data_list_s, EntryDataListFreer> list(raw);
  if (rc != MMDB_SUCCESS) {
    return absl::DataLossError(absl::StrCat(config_.database_path, ": data record ", record,
                                            " (offset ", offset, "): ", MMDB_strerror(rc)));
  }
  SX_ASSIGN_OR_RETURN(const uint32_t id, ListForEntry(&entry));
  ++stats_.database_records;
  record_lists_.emplace(offset, id);
  return id;
}

absl::Status GeoCompilation::WalkNode(uint32_t node, int depth, uint8_t* addr, bool v6,
                                      bool zero_path) {
  MMDB_search_node_s sn;
  const int rc = MMDB_read_node(mmdb_.get(), node, &sn);
  if (rc != MMDB_SUCCESS) {
    return absl::DataLossError(
        absl::StrCat(config_.database_path, ": search tree node ", node, ": ", MMDB_strerror(rc)));
  }
  const int max_bits = v6 ? 128 : 32;
  PrefixTrie& trie = v6 ? v6_ : v4_;
  for (int side = 0; side < 2; ++side) {
    const uint64_t record = side ? sn.right_record : sn.left_record;
    const uint8_t type = side ? sn.right_record_type : sn.left_record_type;
    const int d = depth + 1;
    const uint8_t bit = 0x80 >> depth % 8;
    if (side) addr[depth / 8] |= bit;
    const bool child_zero_path = v6 && zero_path && side == 0;
    switch (type) {
      case MMDB_RECORD_TYPE_SEARCH_NODE: {
        const auto child = static_cast<uint32_t>(record);
        if (v6 && ipv4_start_ && child == *ipv4_start_ && !(child_zero_path && d == 96)) {
          break;  // an alias of the IPv4 subtree: painted unreachable later
        }
        if (d >= max_bits) {
          return absl::DataLossError(absl::StrCat(config_.database_path, ": search tree node ",
                                                  node, " goes deeper than ", max_bits, " bits"));
        }
        if (visited_[child]) {
          return absl::DataLossError(absl::StrCat(config_.database_path, ": search tree node ",
                                                  child, " is reached twice (not a tree)"));
        }
        visited_[child] = true;
        if (child_zero_path && d == 96) {
          uint8_t v4addr[16] = {};
          SX_RETURN_IF_ERROR(WalkNode(child, 0, v4addr, /*v6=*/false, false));
        } else {
          SX_RETURN_IF_ERROR(WalkNode(child, d, addr, v6, child_zero_path));
        }
        break;
      }
      case MMDB_RECORD_TYPE_EMPTY:
      case MMDB_RECORD_TYPE_DATA: {
        uint32_t list = default_list_;
        if (type == MMDB_RECORD_TYPE_DATA) {
          const uint32_t offset = side ? sn.right_record_entry.offset : sn.left_record_entry.offset;
          SX_ASSIGN_OR_RETURN(list, ListForRecord(record, offset));
        }
        ++stats_.database_networks;
        trie.Paint(addr, d, list);
        // A record at or above ::/96 in an IPv6 database covers the whole IPv4 space.
        if (child_zero_path && d <= 96) v4_.Paint(addr, 0, list);
        break;
      }
      default:
        return absl::DataLossError(absl::StrCat(config_.database_path, ": search tree node ", node,
                                                " has an invalid record ", record,
                                                " (past the data section)"));
    }
    if (side) addr[depth / 8] &= ~bit;
  }
  return absl::OkStatus();
}

absl::Status GeoCompilation::WalkDatabase() {
  SX_ASSIGN_OR_RETURN(mmdb_, OpenMmdb(config_.database_path));
  const MMDB_metadata_s& md = mmdb_->metadata;
  stats_.database_type = md.database_type ? md.database_type : "";
  stats_.build_epoch = md.build_epoch;
  node_count_ = md.node_count;
  if (node_count_ == 0) {
    return absl::DataLossError(absl::StrCat(config_.database_path, ": empty search tree"));
  }
  const bool v6 = md.ip_version == 6;
  if (!v6 && md.ip_version != 4) {
    return absl::DataLossError(
        absl::StrCat(config_.database_path, ": ip_version ", md.ip_version, " is neither 4 nor 6"));
  }
  if (v6) {
    // Find the node at ::/96, if the tree reaches that deep along the all-zero path.
    uint32_t node = 0;
    int depth = 0;
    while (depth < 96) {
      MMDB_search_node_s sn;
      if (MMDB_read_node(mmdb_.get(), node, &sn) != MMDB_SUCCESS) break;  // reported by the walk
      if (sn.left_record_type != MMDB_RECORD_TYPE_SEARCH_NODE) break;
      node = static_cast<uint32_t>(sn.left_record);
      ++depth;
    }
    if (depth == 96) ipv4_start_ = node;
  }
  visited_.assign(node_count_, false);
  visited_[0] = true;
  uint8_t addr[16] = {};
  return WalkNode(0, 0, addr, v6, /*zero_path=*/true);
}

absl::Status GeoCompilation::ApplyNets() {
  std::vector<NetOverride> nets = config_.nets;
  if (!config_.nets_path.empty()) {
    SX_ASSIGN_OR_RETURN(auto from_file, ReadNetsFile(config_.nets_path));
    for (auto& n : from_file) nets.push_back(std::move(n));
  }
  struct Resolved {
    IpPrefix prefix;
    uint32_t list;
  };
  std::vector<Resolved> resolved;
  std::map<std::string, std::string> seen;  // prefix text -> where
  for (const NetOverride& n : nets) {
    const std::string where = n.where.empty() ? FormatIpPrefix(n.prefix) : n.where;
    if (n.prefix.family == kFamilyIpv6) {
      for (const EmbeddedRange& r : kEmbeddedV4Ranges) {
        if (PrefixInside(n.prefix.addr, n.prefix.length, r.addr, r.length)) {
          return Error(absl::StrCat(where, ": ", FormatIpPrefix(n.prefix), " is inside ", r.what,
                                    ", which is looked up as IPv4: write the IPv4 network"));
        }
      }
    }
    auto [it, fresh] = seen.emplace(FormatIpPrefix(n.prefix), where);
    if (!fresh) {
      return Error(absl::StrCat(where, ": ", it->first, " already given at ", it->second));
    }
    SX_ASSIGN_OR_RETURN(auto ids, ResolveList(n.datacenters, where));
    resolved.push_back({n.prefix, lists_.Intern(ids)});
  }
  // Less specific first, so that more specific entries are painted over them.
  std::stable_sort(resolved.begin(), resolved.end(), [](const Resolved& a, const Resolved& b) {
    return a.prefix.length < b.prefix.length;
  });
  for (const Resolved& r : resolved)
    TrieFor(r.prefix).Paint(r.prefix.addr, r.prefix.length, r.list);
  return absl::OkStatus();
}

absl::Status GeoCompilation::ApplyLatency() {
  std::vector<LatencyRow> rows = config_.latency;
  if (!config_.latency_path.empty()) {
    SX_ASSIGN_OR_RETURN(auto from_file, ReadLatencyCsvFile(config_.latency_path));
    for (auto& r : from_file) rows.push_back(std::move(r));
  }
  struct Group {
    IpPrefix prefix;
    std::vector<std::pair<double, uint8_t>> measured;  // (rtt, dc id)
    std::map<uint8_t, std::string> where;              // dc -> row location
  };
  std::map<std::string, Group> groups;
  for (const LatencyRow& r : rows) {
    const std::string where = r.where.empty() ? FormatIpPrefix(r.prefix) : r.where;
    if (r.prefix.family == kFamilyIpv6) {
      for (const EmbeddedRange& e : kEmbeddedV4Ranges) {
        if (PrefixInside(r.prefix.addr, r.prefix.length, e.addr, e.length)) {
          return Error(absl::StrCat(where, ": ", FormatIpPrefix(r.prefix), " is inside ", e.what,
                                    ", which is looked up as IPv4: write the IPv4 network"));
        }
      }
    }
    auto dc = dc_ids_.find(r.datacenter);
    if (dc == dc_ids_.end()) {
      return Error(absl::StrCat(where, ": unknown datacenter '", r.datacenter, "'"));
    }
    Group& g = groups[FormatIpPrefix(r.prefix)];
    g.prefix = r.prefix;
    auto [it, fresh] = g.where.emplace(dc->second, where);
    if (!fresh) {
      return Error(absl::StrCat(where, ": ", FormatIpPrefix(r.prefix), " -> ", r.datacenter,
                                " already measured at ", it->second));
    }
    g.measured.emplace_back(r.rtt_ms, dc->second);
  }
  std::vector<Group*> order;
  for (auto& [key, g] : groups) {
    std::sort(g.measured.begin(), g.measured.end());  // by rtt, ties in config order
    order.push_back(&g);
  }
  // Most specific first; their leaves are marked done, so an enclosing group skips them.
  std::stable_sort(order.begin(), order.end(), [](const Group* a, const Group* b) {
    return a->prefix.length > b->prefix.length;
  });
  const size_t cap = ListCap();
  for (const Group* g : order) {
    absl::flat_hash_map<uint32_t, uint32_t> memo;  // base list -> latency list
    TrieFor(g->prefix).Transform(g->prefix.addr, g->prefix.length, [&](uint32_t v) {
      if (v & kLatencyDone) return v;
      auto it = memo.find(v);
      if (it != memo.end()) return it->second;
      std::vector<uint8_t> ids;
      for (const auto& [rtt, dc] : g->measured) {
        if (ids.size() < cap) ids.push_back(dc);
      }
      // Unmeasured datacenters follow in the order the network had without measurements.
      for (uint8_t dc : lists_.Get(v)) {
        if (ids.size() < cap && std::find(ids.begin(), ids.end(), dc) == ids.end()) {
          ids.push_back(dc);
        }
      }
      const uint32_t out = lists_.Intern(ids) | kLatencyDone;
      memo.emplace(v, out);
      return out;
    });
  }
  if (!order.empty()) {
    auto strip = [](uint32_t v) { return v == PrefixTrie::kUnreachable ? v : v & ~kLatencyDone; };
    v4_.TransformAll(strip);
    v6_.TransformAll(strip);
  }
  return absl::OkStatus();
}

absl::StatusOr<CompiledGeoMap> GeoCompilation::Run() {
  SX_RETURN_IF_ERROR(ResolveConfig());
  v4_ = PrefixTrie(32, default_list_);
  v6_ = PrefixTrie(128, default_list_);
  if (!config_.database_path.empty()) {
    absl::Status s = WalkDatabase();
    if (!s.ok()) return Error(s.message());
  }
  SX_RETURN_IF_ERROR(ApplyNets());
  SX_RETURN_IF_ERROR(ApplyLatency());
  for (const EmbeddedRange& r : kEmbeddedV4Ranges) {
    v6_.Paint(r.addr, r.length, PrefixTrie::kUnreachable);
  }
  if (lists_.size() > kPrefixMaxListId) {
    return Error(
        absl::StrCat(lists_.size(), " distinct datacenter lists, at most ", kPrefixMaxListId));
  }
  stats_.networks_before_merge = v4_.LeafCount() + v6_.LeafCount();
  v4_.Merge();
  v6_.Merge();
  stats_.v4_networks = v4_.LeafCount();
  stats_.v6_networks = v6_.LeafCount();
  stats_.networks_after_merge = stats_.v4_networks + stats_.v6_networks;

  CompiledGeoMap out;
  for (const Datacenter& dc : config_.datacenters) out.datacenters.push_back(dc.name);
  out.lists = lists_.lists();
  out.table.v4 = v4_.Flatten(default_list_);
  out.table.v6 = v6_.Flatten(default_list_);
  out.stats = stats_;
  return out;
}

}  // namespace

double GreatCircleKm(double lat1, double lon1, double lat2, double lon2) {
  constexpr double kEarthRadiusKm = 6371.0088;
  const double dlat = ToRadians(lat2 - lat1);
  const double dlon = ToRadians(lon2 - lon1);
  const double a = std::sin(dlat / 2) * std::sin(dlat / 2) +
                   std::cos(ToRadians(lat1)) * std::cos(ToRadians(lat2)) * std::sin(dlon / 2) *
                       std::sin(dlon / 2);
  return 2 * kEarthRadiusKm * std::asin(std::min(1.0, std::sqrt(a)));
}

absl::StatusOr<CompiledGeoMap> CompileGeoMap(const GeoMapConfig& config) {
  return GeoCompilation(config).Run();
}

}  // namespace sextant::control
