#include "control/cli/dump_report.h"

#include <cstring>
#include <ctime>
#include <map>
#include <nlohmann/json.hpp>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "control/cli/instance_files.h"
#include "control/cli/shm_reports.h"
#include "control/config/enum_names.h"
#include "control/config/resource_config.h"
#include "control/geo/mmdb_lookup.h"
#include "control/zones/dns_name.h"
#include "maps/prefix_table.h"
#include "maps/status_macros.h"

namespace sextant::control {
namespace {

using nlohmann::json;

std::string IsoDate(uint64_t unix_s, const char* format) {
  const auto t = static_cast<std::time_t>(unix_s);
  std::tm tm{};
  char buf[32];
  std::strftime(buf, sizeof(buf), format, gmtime_r(&t, &tm));
  return buf;
}

// The zone's SOA serial: its rdata is MNAME, RNAME (uncompressed wire names), then the serial.
uint32_t SoaSerial(const maps::SnapshotReader& s, const maps::Zone& z) {
  const maps::RRset& soa = s.section<maps::RRset>(maps::kRRsets)[z.soa_rrset];
  const absl::Span<const uint8_t> rdata = s.bytes(maps::kRdata);
  const uint8_t* rd = rdata.data() + soa.rdata_offset + 2;
  const size_t max = soa.rdata_length - 2;
  const size_t mname = WireNameLength(rd, max);
  const size_t rname = mname == 0 ? 0 : WireNameLength(rd + mname, max - mname);
  if (rname == 0 || mname + rname + 4 > max) return 0;
  const uint8_t* p = rd + mname + rname;
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

json ZonesJson(const maps::SnapshotReader& s) {
  const auto nodes = s.section<maps::Node>(maps::kNodes);
  const auto rrsets = s.section<maps::RRset>(maps::kRRsets);
  const auto names = s.bytes(maps::kNames);
  std::vector<uint64_t> records(s.section<maps::Zone>(maps::kZones).size());
  for (const maps::Node& n : nodes) {
    for (uint32_t i = 0; i < n.rrset_count; ++i)
      records[n.zone] += rrsets[n.rrset_first + i].rr_count;
  }
  json out = json::array();
  uint32_t index = 0;
  for (const maps::Zone& z : s.section<maps::Zone>(maps::kZones)) {
    const maps::Node& apex = nodes[z.apex_node];
    out.push_back({{"origin", WireToText(std::string_view(
                                  reinterpret_cast<const char*>(names.data()) + apex.name_offset,
                                  apex.name_length))},
                   {"serial", SoaSerial(s, z)},
                   {"records", records[index++]},
                   {"negative_ttl", z.negative_ttl}});
  }
  return out;
}

// One member: its value (an address or name, or the sub-resource it hands over to), the target
// whose health word it follows (null: always up), its weight or, for geo and latency, its
// datacenter.
json MemberJson(const maps::SnapshotReader& s, const maps::Resource& r, const maps::Member& m,
                const std::map<uint32_t, std::string>& targets,
                const std::vector<std::string>& dcs) {
  const auto resources = s.section<maps::Resource>(maps::kResources);
  json j = {{"target", nullptr}};
  if (m.kind == maps::kMemberRdata) {
    j["value"] = RdataText(r.type, s.bytes(maps::kRdata).data() + m.ref);
  } else {
    j["resource"] = SnapshotString(s, resources[m.ref].name);
  }
  if (const auto t = targets.find(m.health); t != targets.end()) j["target"] = t->second;
  if (r.kind == maps::kPolicyGeo || r.kind == maps::kPolicyLatency) {
    j["datacenter"] = m.weight < dcs.size() ? dcs[m.weight] : absl::StrCat(m.weight);
  } else if (r.kind == maps::kPolicyWeighted) {
    j["weight"] = m.weight;
  }
  return j;
}

std::vector<std::string> DcNames(const maps::SnapshotReader& s, uint32_t map) {
  const auto maps_section = s.section<maps::GeoMap>(maps::kGeoMaps);
  if (map >= maps_section.size()) return {};
  return absl::StrSplit(SnapshotString(s, maps_section[map].dc_names), ',');
}

}  // namespace

std::map<uint32_t, std::vector<std::string>> ResourceOwners(const maps::SnapshotReader& s) {
  const auto rrsets = s.section<maps::RRset>(maps::kRRsets);
  const auto names = s.bytes(maps::kNames);
  std::map<uint32_t, std::vector<std::string>> owners;
  for (const maps::Node& n : s.section<maps::Node>(maps::kNodes)) {
    for (uint32_t i = 0; i < n.rrset_count; ++i) {
      const maps::RRset& r = rrsets[n.rrset_first + i];
      if (r.resource == maps::kNone) continue;
      owners[r.resource].push_back(WireToText(std::string_view(
          reinterpret_cast<const char*>(names.data()) + n.name_offset, n.name_length)));
    }
  }
  return owners;
}

std::vector<std::string> ZoneOrigins(const maps::SnapshotReader& s) {
  std::vector<std::string> out;
  for (const json& z : ZonesJson(s)) out.push_back(z["origin"].get<std::string>());
  return out;
}

namespace {

json ResourcesJson(const maps::SnapshotReader& s, const std::map<uint32_t, std::string>& targets) {
  const auto members = s.section<maps::Member>(maps::kMembers);
  std::map<uint32_t, std::vector<std::string>> owners = ResourceOwners(s);
  uint32_t index = 0;
  const auto geo_maps = s.section<maps::GeoMap>(maps::kGeoMaps);
  json out = json::array();
  for (const maps::Resource& r : s.section<maps::Resource>(maps::kResources)) {
    const bool geo = r.kind == maps::kPolicyGeo || r.kind == maps::kPolicyLatency;
    const std::vector<std::string> dcs = geo ? DcNames(s, r.count) : std::vector<std::string>();
    json j = {{"name", SnapshotString(s, r.name)},
              {"policy", NameOf(static_cast<PolicyKind>(r.kind))},
              {"type", NameOf(static_cast<maps::dns::Type>(r.type))},
              {"ttl", r.ttl},
              {"owners", std::move(owners[index++])},
              {"geo_map", nullptr},
              {"members", json::array()},
              {"fallback", json::array()}};
    if (geo && r.count < geo_maps.size()) j["geo_map"] = SnapshotString(s, geo_maps[r.count].name);
    for (uint32_t i = 0; i < r.member_count; ++i) {
      j["members"].push_back(MemberJson(s, r, members[r.member_first + i], targets, dcs));
    }
    for (uint32_t i = 0; i < r.fallback_count; ++i) {
      j["fallback"].push_back(MemberJson(s, r, members[r.fallback_first + i], targets, dcs));
    }
    out.push_back(std::move(j));
  }
  return out;
}

// Networks a prefix table encodes: the leaves of the merged trie it was flattened from (what the
// daemon's log line counts when it builds the map). A leaf of prefix length L is an aligned block
// expanded over one or more entries, all with the same value; exactly one of them starts at the
// block's start, the one whose address bits from L on are zero.
struct LeafCounter {
  absl::Span<const uint32_t> table;
  uint8_t addr[16] = {};  // the address of the entry being looked at, bits [0, depth) set
  uint64_t leaves = 0;

  bool ZeroFrom(int from, int to) const {
    for (int bit = from; bit < to; ++bit) {
      if (addr[bit / 8] & (0x80 >> (bit % 8))) return false;
    }
    return true;
  }
  void SetBits(int from, int n, uint32_t value) {
    for (int i = 0; i < n; ++i) {
      const int bit = from + i;
      const uint8_t mask = 0x80 >> (bit % 8);
      addr[bit / 8] = (value >> (n - 1 - i)) & 1 ? addr[bit / 8] | mask : addr[bit / 8] & ~mask;
    }
  }
  // The `1 << bits` entries from `first`, which stand for address bits [depth, depth + bits).
  void Walk(size_t first, int depth, int bits) {
    for (uint32_t i = 0; i < (1u << bits) && first + i < table.size(); ++i) {
      SetBits(depth, bits, i);
      const uint32_t e = table[first + i];
      if (e & maps::kPrefixChunkFlag) {
        Walk(size_t{e & ~maps::kPrefixChunkFlag} * maps::kPrefixChunkEntries, depth + bits, 8);
      } else if (ZeroFrom(static_cast<int>(e & 0xff), depth + bits)) {
        ++leaves;
      }
    }
    SetBits(depth, bits, 0);
  }
};

uint64_t Networks(absl::Span<const uint32_t> table) {
  LeafCounter counter{table};
  counter.Walk(0, 0, 16);
  return counter.leaves;
}

json GeoMapsJson(const maps::SnapshotReader& s) {
  const auto v4 = s.section<uint32_t>(maps::kGeoPrefixesV4);
  const auto v6 = s.section<uint32_t>(maps::kGeoPrefixesV6);
  json out = json::array();
  for (uint32_t i = 0; i < s.section<maps::GeoMap>(maps::kGeoMaps).size(); ++i) {
    const maps::GeoMap& g = s.section<maps::GeoMap>(maps::kGeoMaps)[i];
    const std::string path = SnapshotString(s, g.database);
    json db = nullptr;
    if (!path.empty()) {
      db = {{"path", path}, {"type", nullptr}, {"build_epoch", nullptr}, {"error", nullptr}};
      if (absl::StatusOr<MmdbFile> f = MmdbFile::Open(path); f.ok()) {
        db["type"] = f->database_type();
        db["build_epoch"] = f->build_epoch();
      } else {
        db["error"] = std::string(f.status().message());
      }
    }
    out.push_back({{"name", SnapshotString(s, g.name)},
                   {"database", std::move(db)},
                   {"networks",
                    {{"v4", g.v4_count == 0 ? 0 : Networks(v4.subspan(g.v4_first, g.v4_count))},
                     {"v6", g.v6_count == 0 ? 0 : Networks(v6.subspan(g.v6_first, g.v6_count))}}},
                   {"datacenters", DcNames(s, i)},
                   {"lists", g.list_count}});
  }
  return out;
}

std::string TargetsText(const json& targets) {
  std::string out = "targets\n";
  for (const json& t : targets) {
    const json& dc = t["datacenter"];
    absl::StrAppendFormat(&out, "  %-20s %-8s %-7s %s\n", t["target"].get<std::string>(),
                          t["state"].get<std::string>(), t["forced"].get<bool>() ? "forced" : "",
                          dc.is_string() && !dc.get<std::string>().empty()
                              ? absl::StrCat("datacenter ", dc.get<std::string>())
                              : "");
    absl::StripTrailingAsciiWhitespace(&out);
    out += "\n";
  }
  return out;
}

std::string MemberText(const json& m) {
  std::string out = m.contains("value") ? m["value"].get<std::string>()
                                        : absl::StrCat("-> ", m["resource"].get<std::string>());
  if (m.contains("datacenter"))
    absl::StrAppend(&out, "  datacenter ", m["datacenter"].get<std::string>());
  if (m.contains("weight")) absl::StrAppend(&out, "  weight ", m["weight"].get<int>());
  if (m["target"].is_string()) absl::StrAppend(&out, "  target ", m["target"].get<std::string>());
  return out;
}

std::string DumpText(const json& d) {
  std::string out = absl::StrFormat(
      "instance %s  generation %d  published %s (targets from %s)\nzones\n",
      d["instance"].get<std::string>(), d["generation"].get<uint64_t>(),
      IsoDate(d["published_unix_ms"].get<uint64_t>() / 1000, "%Y-%m-%d %H:%M:%S UTC"),
      d["targets_from"].get<std::string>());
  for (const json& z : d["zones"]) {
    absl::StrAppendFormat(&out, "  %-30s serial %-10d %d records\n", z["origin"].get<std::string>(),
                          z["serial"].get<uint32_t>(), z["records"].get<uint64_t>());
  }
  out += "resources\n";
  for (const json& r : d["resources"]) {
    absl::StrAppendFormat(
        &out, "  %s  %s %s ttl %d%s%s\n", r["name"].get<std::string>(),
        r["policy"].get<std::string>(), r["type"].get<std::string>(), r["ttl"].get<uint32_t>(),
        r["geo_map"].is_string() ? absl::StrCat(" map ", r["geo_map"].get<std::string>()) : "",
        r["owners"].empty()
            ? ""
            : absl::StrCat("  at ",
                           absl::StrJoin(r["owners"].get<std::vector<std::string>>(), ", ")));
    for (const json& m : r["members"]) absl::StrAppend(&out, "    ", MemberText(m), "\n");
    for (const json& m : r["fallback"]) absl::StrAppend(&out, "    fallback ", MemberText(m), "\n");
  }
  out += "geo maps\n";
  for (const json& g : d["geo_maps"]) {
    std::string db = "no database";
    if (g["database"].is_object()) {
      const json& f = g["database"];
      db =
          f["build_epoch"].is_number()
              ? absl::StrCat(f["path"].get<std::string>(), " (", f["type"].get<std::string>(),
                             ", built ", IsoDate(f["build_epoch"].get<uint64_t>(), "%Y-%m-%d"), ")")
              : absl::StrCat(f["path"].get<std::string>(), " (", f["error"].get<std::string>(),
                             ")");
    }
    absl::StrAppendFormat(&out, "  %s  %s\n    networks v4 %d, v6 %d; %d lists; datacenters %s\n",
                          g["name"].get<std::string>(), db, g["networks"]["v4"].get<uint64_t>(),
                          g["networks"]["v6"].get<uint64_t>(), g["lists"].get<uint32_t>(),
                          absl::StrJoin(g["datacenters"].get<std::vector<std::string>>(), ","));
  }
  return out + TargetsText(d["targets"]);
}

}  // namespace

absl::StatusOr<std::string> DumpReport(const std::string& instance, bool json_out,
                                       const std::string* daemon_health) {
  SX_ASSIGN_OR_RETURN(InstanceFiles f, OpenInstanceFiles(instance));
  const maps::SnapshotReader& s = *f.snapshot;
  std::map<uint32_t, std::string> targets;  // health word -> target
  for (const maps::Target& t : s.section<maps::Target>(maps::kTargets)) {
    targets[t.health] = SnapshotString(s, t.name);
  }
  json health = daemon_health != nullptr ? json::parse(*daemon_health, nullptr, false) : json();
  const bool from_daemon = health.is_array();
  if (!from_daemon) {
    SX_ASSIGN_OR_RETURN(const std::string words, HealthReport(instance, /*json=*/true));
    health = json::parse(words);
  }
  const json d = {{"instance", instance},
                  {"generation", s.generation()},
                  {"published_unix_ms", s.header().created_unix_ns / 1000000},
                  {"targets_from", from_daemon ? "daemon" : "shared_memory"},
                  {"zones", ZonesJson(s)},
                  {"resources", ResourcesJson(s, targets)},
                  {"geo_maps", GeoMapsJson(s)},
                  {"targets", std::move(health)}};
  return json_out ? d.dump() + "\n" : DumpText(d);
}

}  // namespace sextant::control
