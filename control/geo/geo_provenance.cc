#include "control/geo/geo_provenance.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "control/geo/geo_list_rules.h"
#include "control/geo/mmdb_lookup.h"
#include "maps/status_macros.h"

namespace sextant::control {
namespace {

uint64_t LoadBe64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = v << 8 | p[i];
  return v;
}

// The IPv4 address an IPv6 address embeds, masked to the bits the lookup uses, when it lies in
// one of the ranges the dataplane looks up as IPv4 (maps/prefix_table.h, LookupEmbedded: the
// same tests in the same order).
std::optional<IpPrefix> EmbeddedIpv4(const IpPrefix& a) {
  if (a.family != kFamilyIpv6) return std::nullopt;
  const uint64_t hi = LoadBe64(a.addr);
  const uint64_t lo = LoadBe64(a.addr + 8);
  uint32_t v4 = 0;
  int adj = 96;
  if (hi == 0 || hi == 0x0064ff9b00000000ull) {
    const auto top = static_cast<uint32_t>(lo >> 32);
    if (!(top == 0 || (hi == 0 && (top == 0xffff || top == 0xffff0000u)))) return std::nullopt;
    v4 = static_cast<uint32_t>(lo);
  } else if ((hi >> 32) == 0x20010000u) {  // Teredo: the client's address is inverted
    v4 = ~static_cast<uint32_t>(lo);
  } else if ((hi >> 48) == 0x2002) {  // 6to4
    v4 = static_cast<uint32_t>(hi >> 16);
    adj = 16;
  } else {
    return std::nullopt;
  }
  const int bits = std::clamp(a.length - adj, 0, 32);
  if (bits < 32) v4 &= bits == 0 ? 0 : ~0u << (32 - bits);
  IpPrefix out;
  out.family = kFamilyIpv4;
  out.length = 32;
  for (int i = 0; i < 4; ++i) out.addr[i] = static_cast<uint8_t>(v4 >> (24 - 8 * i));
  return out;
}

bool Contains(const IpPrefix& net, const IpPrefix& a) {
  return net.family == a.family && PrefixInside(a.addr, a.max_length(), net.addr, net.length);
}

// The default list, and why it is what it is.
std::string DefaultText(const GeoMapConfig& map) {
  return map.default_datacenters.empty()
             ? absl::StrCat("default list (geo map '", map.name,
                            "' has no 'default': every datacenter in config order)")
             : absl::StrCat("default list ('default' of geo map '", map.name, "')");
}

struct Layer {
  uint32_t list;
  GeoSource source;
};

// The bottom layer: the database record of `a`, or the default list.
absl::StatusOr<Layer> DatabaseLayer(const GeoMapConfig& map, GeoListRules& rules,
                                    const IpPrefix& a) {
  const std::string def = DefaultText(map);
  if (map.database_path.empty()) {
    return Layer{rules.default_list(), {GeoLayer::kDefault, def + ": the map has no database"}};
  }
  absl::StatusOr<MmdbFile> db = MmdbFile::Open(map.database_path);
  if (!db.ok()) return rules.Error(db.status().message());
  SX_ASSIGN_OR_RETURN(MmdbLookup hit, db->Lookup(a));
  const std::string in = absl::StrCat(" in ", map.database_path, " (", db->database_type(), ")");
  if (hit.ipv4_only_database) {
    return Layer{rules.default_list(),
                 {GeoLayer::kDefault, absl::StrCat(def, ": no IPv6 data", in)}};
  }
  if (!hit.found) {
    return Layer{rules.default_list(),
                 {GeoLayer::kDefault,
                  absl::StrCat(def, ": no record for ", FormatIpPrefix(hit.network), in)}};
  }
  RecordChoice why;
  const uint32_t list = rules.ListForEntry(&hit.entry, &why);
  const std::string record =
      absl::StrCat("database record for ", FormatIpPrefix(hit.network), in, ": ", why.fields);
  if (why.by_default) return Layer{list, {GeoLayer::kDefault, absl::StrCat(def, ": the ", record)}};
  return Layer{list, {GeoLayer::kDatabase, record}};
}

}  // namespace

const char* GeoLayerName(GeoLayer layer) {
  switch (layer) {
    case GeoLayer::kLatency:
      return "latency rows";
    case GeoLayer::kNets:
      return "nets line";
    case GeoLayer::kDatabase:
      return "database record";
    case GeoLayer::kDefault:
      return "default list";
  }
  return "?";
}

absl::StatusOr<GeoProvenance> FindGeoProvenance(const GeoMapConfig& map, const IpPrefix& address) {
  SX_ASSIGN_OR_RETURN(GeoListRules rules, GeoListRules::Create(map));
  GeoProvenance p;
  IpPrefix a = address;
  if (std::optional<IpPrefix> v4 = EmbeddedIpv4(address)) {
    a = *v4;
    p.looked_up = FormatIpPrefix(a);
  }
  SX_ASSIGN_OR_RETURN(Layer layer, DatabaseLayer(map, rules, a));

  SX_ASSIGN_OR_RETURN(const std::vector<ResolvedNet> nets, rules.Nets());
  // Less specific first: the last one containing the address is the most specific.
  for (auto it = nets.rbegin(); it != nets.rend(); ++it) {
    if (!Contains(it->prefix, a)) continue;
    layer = {
        it->list,
        {GeoLayer::kNets, absl::StrCat("nets line ", it->where, ": ", FormatIpPrefix(it->prefix),
                                       " ", absl::StrJoin(it->datacenters, ","))}};
    break;
  }

  SX_ASSIGN_OR_RETURN(const std::vector<LatencyGroup> groups, rules.LatencyGroups());
  // Most specific first.
  for (const LatencyGroup& g : groups) {
    if (!Contains(g.prefix, a)) continue;
    std::vector<std::string> rows;
    for (const auto& [rtt, dc] : g.measured) {
      rows.push_back(
          absl::StrCat(g.where.at(dc), " (", rules.datacenter_name(dc), " ", rtt, " ms)"));
    }
    p.beneath = layer.source;
    layer = {
        rules.LatencyList(g, layer.list),
        {GeoLayer::kLatency, absl::StrCat("latency rows for ", FormatIpPrefix(g.prefix), ": ",
                                          absl::StrJoin(rows, ", "), ", lowest round trip first")}};
    break;
  }
  p.chosen = std::move(layer.source);
  for (uint8_t dc : rules.lists().Get(layer.list)) p.list.push_back(rules.datacenter_name(dc));
  return p;
}

}  // namespace sextant::control
