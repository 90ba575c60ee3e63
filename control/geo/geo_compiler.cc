#include "control/geo/geo_compiler.h"

#include <maxminddb.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <map>
#include <memory>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "control/geo/database_fit.h"
#include "control/geo/geo_list_rules.h"
#include "control/geo/mmdb_lookup.h"
#include "maps/status_macros.h"

namespace sextant::control {

using maps::kPrefixMaxListId;
namespace {

struct EntryDataListFreer {
  void operator()(MMDB_entry_data_list_s* l) const { MMDB_free_entry_data_list(l); }
};

double ToRadians(double deg) { return deg * M_PI / 180.0; }

// One compilation: the list rules, and the two tries being painted.
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
  absl::Status WalkDatabase();
  absl::Status WalkNode(uint32_t node, int depth, uint8_t* addr, bool v6, bool zero_path);
  absl::StatusOr<uint32_t> ListForRecord(uint64_t record, uint32_t offset);
  absl::Status ApplyNets();
  absl::Status ApplyLatency();
  PrefixTrie& TrieFor(const IpPrefix& p) { return p.family == kFamilyIpv4 ? v4_ : v6_; }

  const GeoMapConfig& config_;
  std::optional<GeoListRules> rules_;  // set first thing in Run()
  uint32_t default_list_ = 0;
  PrefixTrie v4_;
  PrefixTrie v6_;
  GeoCompileStats stats_;
  DatabaseFieldCounts fields_;  // what the database's records carry, for CheckDatabaseServesMode

  std::optional<MmdbFile> mmdb_;
  uint32_t node_count_ = 0;
  std::optional<uint32_t> ipv4_start_;  // IPv6 database: the node at ::/96, if there is one
  std::vector<bool> visited_;
  absl::flat_hash_map<uint32_t, uint32_t> record_lists_;  // data offset -> list id
};

absl::StatusOr<uint32_t> GeoCompilation::ListForRecord(uint64_t record, uint32_t offset) {
  auto it = record_lists_.find(offset);
  if (it != record_lists_.end()) return it->second;
  MMDB_entry_s entry{mmdb_->get(), offset};
  // Decoding the whole record validates it (types, sizes, pointers), not only the fields used.
  MMDB_entry_data_list_s* raw = nullptr;
  const int rc = MMDB_get_entry_data_list(&entry, &raw);
  std::unique_ptr<MMDB_entry_data_list_s, EntryDataListFreer> list(raw);
  if (rc != MMDB_SUCCESS) {
    return absl::DataLossError(absl::StrCat(config_.database_path, ": data record ", record,
                                            " (offset ", offset, "): ", MMDB_strerror(rc)));
  }
  const uint32_t id = rules_->ListForEntry(&entry, nullptr);
  ++stats_.database_records;
  CountRecordFields(&entry, &fields_);
  record_lists_.emplace(offset, id);
  return id;
}

absl::Status GeoCompilation::WalkNode(uint32_t node, int depth, uint8_t* addr, bool v6,
                                      bool zero_path) {
  MMDB_search_node_s sn;
  const int rc = MMDB_read_node(mmdb_->get(), node, &sn);
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
  SX_ASSIGN_OR_RETURN(mmdb_, MmdbFile::Open(config_.database_path));
  const MMDB_metadata_s& md = mmdb_->get()->metadata;
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
      if (MMDB_read_node(mmdb_->get(), node, &sn) != MMDB_SUCCESS) break;  // reported by the walk
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
  SX_ASSIGN_OR_RETURN(const std::vector<ResolvedNet> nets, rules_->Nets());
  for (const ResolvedNet& n : nets) TrieFor(n.prefix).Paint(n.prefix.addr, n.prefix.length, n.list);
  return absl::OkStatus();
}

absl::Status GeoCompilation::ApplyLatency() {
  SX_ASSIGN_OR_RETURN(const std::vector<LatencyGroup> groups, rules_->LatencyGroups());
  // Most specific first; their leaves are marked done, so an enclosing group skips them.
  for (const LatencyGroup& g : groups) {
    absl::flat_hash_map<uint32_t, uint32_t> memo;  // base list -> latency list
    TrieFor(g.prefix).Transform(g.prefix.addr, g.prefix.length, [&](uint32_t v) {
      if (v & kLatencyDone) return v;
      auto it = memo.find(v);
      if (it != memo.end()) return it->second;
      const uint32_t out = rules_->LatencyList(g, v) | kLatencyDone;
      memo.emplace(v, out);
      return out;
    });
  }
  if (!groups.empty()) {
    auto strip = [](uint32_t v) { return v == PrefixTrie::kUnreachable ? v : v & ~kLatencyDone; };
    v4_.TransformAll(strip);
    v6_.TransformAll(strip);
  }
  return absl::OkStatus();
}

absl::StatusOr<CompiledGeoMap> GeoCompilation::Run() {
  SX_ASSIGN_OR_RETURN(rules_, GeoListRules::Create(config_));
  default_list_ = rules_->default_list();
  v4_ = PrefixTrie(32, default_list_);
  v6_ = PrefixTrie(128, default_list_);
  if (!config_.database_path.empty()) {
    absl::Status s = WalkDatabase();
    if (s.ok()) s = CheckDatabaseServesMode(config_, stats_.database_type, fields_);
    if (!s.ok()) return Error(s.message());
  }
  SX_RETURN_IF_ERROR(ApplyNets());
  SX_RETURN_IF_ERROR(ApplyLatency());
  for (const EmbeddedRange& r : EmbeddedV4Ranges()) {
    v6_.Paint(r.addr, r.length, PrefixTrie::kUnreachable);
  }
  if (rules_->lists().size() > kPrefixMaxListId) {
    return Error(absl::StrCat(rules_->lists().size(), " distinct datacenter lists, at most ",
                              kPrefixMaxListId));
  }
  stats_.networks_before_merge = v4_.LeafCount() + v6_.LeafCount();
  v4_.Merge();
  v6_.Merge();
  stats_.v4_networks = v4_.LeafCount();
  stats_.v6_networks = v6_.LeafCount();
  stats_.networks_after_merge = stats_.v4_networks + stats_.v6_networks;

  CompiledGeoMap out;
  for (const Datacenter& dc : config_.datacenters) out.datacenters.push_back(dc.name);
  out.lists = rules_->lists().lists();
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

std::string GeoMapSummary(const std::string& name, const CompiledGeoMap& map, int64_t ms) {
  const GeoCompileStats& s = map.stats;
  std::string db = "no database";
  if (!s.database_type.empty()) {
    const auto epoch = static_cast<time_t>(s.build_epoch);
    tm utc{};
    gmtime_r(&epoch, &utc);
    char date[16];
    std::strftime(date, sizeof(date), "%Y-%m-%d", &utc);
    db = absl::StrCat(s.database_type, " built ", date);
  }
  return absl::StrCat("geo map '", name, "': ", db, ", ", s.networks_after_merge, " networks (v4 ",
                      s.v4_networks, ", v6 ", s.v6_networks, "), ", map.datacenters.size(),
                      " datacenters, ", ms, " ms");
}

}  // namespace sextant::control
