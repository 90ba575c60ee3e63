#include "control/compile/snapshot_builder.h"

#include <algorithm>
#include <cstring>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "control/compile/resource_compiler.h"
#include "control/geo/geo_compiler.h"
#include "control/zones/dns_name.h"
#include "maps/dns/wire.h"
#include "maps/name_table.h"
#include "maps/snapshot_format.h"
#include "maps/snapshot_writer.h"
#include "maps/status_macros.h"

namespace sextant::control {
namespace {

using maps::kNone;

using maps::dns::kTypeA;
using maps::dns::kTypeAaaa;
using maps::dns::kTypeCname;
using maps::dns::kTypeDs;
using maps::dns::kTypeMx;
using maps::dns::kTypeNs;
using maps::dns::kTypePtr;
using maps::dns::kTypeSoa;
using maps::dns::kTypeSrv;

maps::RdataNames NamesOf(uint16_t type) {
  switch (type) {
    case kTypeNs:
    case kTypeCname:
    case kTypePtr:
      return maps::kRdataOneName;
    case kTypeMx:
      return maps::kRdataMx;
    case kTypeSoa:
      return maps::kRdataSoa;
    default:
      return maps::kRdataNoNames;
  }
}

// The name in rdata whose addresses go to the additional section (RFC 1034 4.3.2 step 6 for NS
// and MX; RFC 2782 recommends it for SRV).
std::string AdditionalTarget(uint16_t type, const std::string& rdata) {
  size_t off;
  switch (type) {
    case kTypeNs:
      off = 0;
      break;
    case kTypeMx:
      off = 2;
      break;
    case kTypeSrv:
      off = 6;
      break;
    default:
      return {};
  }
  if (rdata.size() <= off) return {};
  const auto* p = reinterpret_cast<const uint8_t*>(rdata.data()) + off;
  size_t len = WireNameLength(p, rdata.size() - off);
  if (len == 0) return {};
  return LowerWireName(std::string_view(rdata.data() + off, len));
}

struct BuildNode {
  std::string name;  // lowered wire
  int zone = -1;
  const NameData* data = nullptr;  // null for empty non-terminals
  std::vector<size_t> records;     // indices into PolicyConfig::records (policy-driven RRsets)
};

}  // namespace

absl::StatusOr<std::vector<uint8_t>> BuildSnapshot(
    const Config& config, const std::vector<ZoneData>& zones, uint64_t generation,
    const std::map<std::string, uint32_t>* target_index) {
  std::vector<uint8_t> strings;
  auto add_string = [&](const std::string& s) {
    maps::StringRef ref{static_cast<uint32_t>(strings.size()), static_cast<uint32_t>(s.size())};
    strings.insert(strings.end(), s.begin(), s.end());
    return ref;
  };
  std::vector<uint8_t> rdata_blob;
  CompiledPolicies policies;
  SX_RETURN_IF_ERROR(CompilePolicies(config.policies, config.path, target_index, &rdata_blob,
                                     add_string, &policies));

  // Geo maps: each compiled map's arrays appended to sections 12-14, found through its GeoMap.
  std::vector<uint32_t> geo_v4, geo_v6;
  std::vector<maps::DcList> geo_lists;
  std::vector<maps::GeoMap> geo_maps;
  for (const control::GeoMapConfig& mc : config.geo_maps) {
    absl::StatusOr<control::CompiledGeoMap> cm = control::CompileGeoMap(mc);
    if (!cm.ok()) {
      return absl::Status(cm.status().code(),
                          absl::StrCat(config.path, ": ", cm.status().message()));
    }
    maps::GeoMap g{};
    g.v4_first = static_cast<uint32_t>(geo_v4.size());
    g.v4_count = static_cast<uint32_t>(cm->table.v4.size());
    g.v6_first = static_cast<uint32_t>(geo_v6.size());
    g.v6_count = static_cast<uint32_t>(cm->table.v6.size());
    g.list_first = static_cast<uint32_t>(geo_lists.size());
    g.list_count = static_cast<uint32_t>(cm->lists.size());
    g.dc_count = static_cast<uint32_t>(cm->datacenters.size());
    g.dc_names = add_string(absl::StrJoin(cm->datacenters, ","));
    g.name = add_string(mc.name);
    g.database = add_string(mc.database_path);
    geo_v4.insert(geo_v4.end(), cm->table.v4.begin(), cm->table.v4.end());
    geo_v6.insert(geo_v6.end(), cm->table.v6.begin(), cm->table.v6.end());
    geo_lists.insert(geo_lists.end(), cm->lists.begin(), cm->lists.end());
    geo_maps.push_back(g);
  }

  // 1. Nodes: every owner plus the empty non-terminals between it and its apex. A name at or
  //    below the apex of a deeper served zone belongs to that zone (we are authoritative there),
  //    so the parent's copy (its delegation NS and glue) is not served.
  std::map<std::string, BuildNode> by_name;
  auto deepest_zone = [&](const std::string& name) {
    int best = -1;
    for (size_t z = 0; z < zones.size(); ++z) {
      if (WireIsSubdomain(name, zones[z].origin_wire) &&
          (best < 0 || zones[z].origin_wire.size() > zones[best].origin_wire.size())) {
        best = static_cast<int>(z);
      }
    }
    return best;
  };
  // DS records of a served child's apex, kept from the parent (RFC 4035 3.1.4.1: the parent
  // answers DS at a cut even when the same server also serves the child).
  std::map<std::string, std::pair<int, const RRsetData*>> parent_ds;
  auto add_ents = [&](std::string_view name, size_t z) {
    std::string_view up = name;
    while (up.size() > zones[z].origin_wire.size()) {
      up = WireParent(up);
      if (deepest_zone(std::string(up)) != static_cast<int>(z)) continue;
      BuildNode& e = by_name[std::string(up)];
      if (e.zone < 0) {
        e.name = std::string(up);
        e.zone = static_cast<int>(z);
      }
    }
  };
  for (size_t z = 0; z < zones.size(); ++z) {
    for (const auto& [name, nd] : zones[z].names) {
      if (deepest_zone(name) != static_cast<int>(z)) {
        // Owned by a deeper served zone; the parent's empty non-terminals above it stay.
        add_ents(name, z);
        if (name == zones[deepest_zone(name)].origin_wire) {
          for (const RRsetData& s : nd.rrsets) {
            if (s.type == kTypeDs) parent_ds[name] = {static_cast<int>(z), &s};
          }
          parent_ds.emplace(name, std::make_pair(static_cast<int>(z), nullptr));
        }
        continue;
      }
      BuildNode& n = by_name[name];
      n.name = name;
      n.zone = static_cast<int>(z);
      n.data = &nd;
      add_ents(name, z);  // empty non-terminals up to the apex
    }
  }
  // A served child's apex below a served parent, even when the parent has no records there.
  for (size_t z = 0; z < zones.size(); ++z) {
    for (size_t p = 0; p < zones.size(); ++p) {
      if (p == z || !WireIsSubdomain(zones[z].origin_wire, zones[p].origin_wire)) continue;
      if (deepest_zone(std::string(WireParent(zones[z].origin_wire))) != static_cast<int>(p)) {
        continue;  // an intermediate served zone is the parent
      }
      add_ents(zones[z].origin_wire, p);
      parent_ds.emplace(zones[z].origin_wire, std::make_pair(static_cast<int>(p), nullptr));
    }
  }

  // Policy-driven records (resources attached to owner names).
  for (size_t k = 0; k < config.policies.records.size(); ++k) {
    const RecordConfig& rec = config.policies.records[k];
    auto perr = [&](const std::string& what) {
      return absl::InvalidArgumentError(
          absl::StrCat(config.path, " line ", rec.line, ": record ", rec.name, ": ", what));
    };
    auto wire = TextToWire(rec.name);
    if (!wire.ok()) return perr(std::string(wire.status().message()));
    const int z = deepest_zone(*wire);
    if (z < 0) return perr("is not inside any configured zone");
    BuildNode& n = by_name[*wire];
    if (n.zone < 0) {
      n.name = *wire;
      n.zone = z;
      add_ents(*wire, static_cast<size_t>(z));
    }
    if (n.data != nullptr) {
      for (const RRsetData& st : n.data->rrsets) {
        if (st.type == rec.type) {
          return perr(
              "the zone file already has records of this type here; remove them or "
              "the resource");
        }
        if (st.type == kTypeCname || rec.type == kTypeCname) {
          return perr("a CNAME cannot share its name with other data (RFC 1034 3.6.2)");
        }
      }
    }
    for (size_t other : n.records) {
      const uint16_t t = config.policies.records[other].type;
      if (t == rec.type) return perr("is listed twice with this type");
      if (t == kTypeCname || rec.type == kTypeCname) {
        return perr("a CNAME cannot share its name with other data (RFC 1034 3.6.2)");
      }
    }
    n.records.push_back(k);
  }

  // Order nodes by depth so that parents get indices before children (cut propagation below).
  std::vector<const BuildNode*> order;
  order.reserve(by_name.size());
  for (const auto& [name, n] : by_name) order.push_back(&n);
  std::stable_sort(order.begin(), order.end(), [](const BuildNode* a, const BuildNode* b) {
    return WireLabelCount(a->name) < WireLabelCount(b->name);
  });
  std::map<std::string_view, uint32_t> index;
  for (size_t i = 0; i < order.size(); ++i) index[order[i]->name] = static_cast<uint32_t>(i);

  std::vector<maps::Node> nodes(order.size());
  std::vector<maps::RRset> rrsets;
  std::vector<uint8_t> names_blob;
  std::vector<maps::Zone> zone_recs(zones.size());
  std::vector<std::vector<std::pair<std::string, uint32_t>>> pending_additional;  // per rrset

  // An RRset record for `s`, its rdata appended to the blob as `u16 len | rdata` per RR.
  auto AppendRRset = [&](const RRsetData& s) {
    maps::RRset r{};
    r.resource = kNone;
    r.type = s.type;
    r.rr_count = static_cast<uint16_t>(s.rdatas.size());
    r.ttl = s.ttl;
    r.rdata_offset = static_cast<uint32_t>(rdata_blob.size());
    r.rdata_names = NamesOf(s.type);
    uint64_t wire = 0;
    for (const std::string& rd : s.rdatas) {
      const uint16_t len = static_cast<uint16_t>(rd.size());
      uint8_t lb[2];
      std::memcpy(lb, &len, 2);
      rdata_blob.insert(rdata_blob.end(), lb, lb + 2);
      rdata_blob.insert(rdata_blob.end(), rd.begin(), rd.end());
      wire += 2 + 10 + rd.size();  // owner pointer + fixed fields + rdata
    }
    r.rdata_length = static_cast<uint32_t>(rdata_blob.size()) - r.rdata_offset;
    r.wire_size = static_cast<uint32_t>(std::min<uint64_t>(wire, 0xffffffffu));
    return r;
  };

  for (size_t i = 0; i < order.size(); ++i) {
    const BuildNode& b = *order[i];
    maps::Node& n = nodes[i];
    n.name_offset = static_cast<uint32_t>(names_blob.size());
    n.name_length = static_cast<uint8_t>(b.name.size());
    n.label_count = static_cast<uint8_t>(WireLabelCount(b.name));
    names_blob.insert(names_blob.end(), b.name.begin(), b.name.end());
    n.zone = static_cast<uint32_t>(b.zone);
    n.cut = kNone;
    n.wildcard = kNone;
    n.parent_zone = kNone;
    n.rrset_first = static_cast<uint32_t>(rrsets.size());
    const bool apex = b.name == zones[b.zone].origin_wire;
    if (apex) n.flags |= maps::kNodeApex;
    if (b.name.size() > 1 && b.name[0] == 1 && b.name[1] == '*') n.flags |= maps::kNodeWildcard;
    if (b.data != nullptr) {
      if (b.data->rrsets.size() > 0xffff) {
        return absl::InvalidArgumentError(absl::StrCat("too many types at ", b.data->display));
      }
      std::vector<const RRsetData*> sorted;
      for (const RRsetData& s : b.data->rrsets) sorted.push_back(&s);
      // Types in ascending order: lookups scan a handful of entries, and a minimal ANY answer
      // (RFC 8482) gives the first one, as Knot does.
      std::stable_sort(sorted.begin(), sorted.end(),
                       [](const RRsetData* x, const RRsetData* y) { return x->type < y->type; });
      for (const RRsetData* sp : sorted) {
        const RRsetData& s = *sp;
        maps::RRset r = AppendRRset(s);
        std::vector<std::pair<std::string, uint32_t>> targets;
        for (const std::string& rd : s.rdatas) {
          std::string t = AdditionalTarget(s.type, rd);
          if (!t.empty()) targets.emplace_back(std::move(t), 0);
        }
        if (s.type == kTypeNs && !apex) n.flags |= maps::kNodeDelegation;
        if (s.type == kTypeCname) n.flags |= maps::kNodeHasCname;
        if (s.type == kTypeSoa && apex) {
          zone_recs[b.zone].soa_rrset = static_cast<uint32_t>(rrsets.size());
          // RFC 2308 section 5: negative TTL = min(SOA TTL, SOA MINIMUM).
          const std::string& soa = s.rdatas[0];
          uint32_t minimum;
          std::memcpy(&minimum, soa.data() + soa.size() - 4, 4);
          minimum = __builtin_bswap32(minimum);
          zone_recs[b.zone].negative_ttl = std::min(minimum, s.ttl);
        }
        rrsets.push_back(r);
        pending_additional.push_back(std::move(targets));
      }
      n.rrset_count = static_cast<uint16_t>(b.data->rrsets.size());
    }
    for (size_t k : b.records) {
      // A policy-driven RRset: no records of its own; the resource picks them per query.
      const uint32_t res = policies.record_resource[k];
      maps::RRset r{};
      r.type = config.policies.records[k].type;
      r.ttl = policies.resources[res].ttl;
      r.rdata_offset = 0;
      r.rdata_names = policies.resources[res].rdata_names;
      r.resource = res;
      if (r.type == kTypeCname) n.flags |= maps::kNodeHasCname;
      rrsets.push_back(r);
      pending_additional.emplace_back();
      ++n.rrset_count;
    }
    if (apex) zone_recs[b.zone].apex_node = static_cast<uint32_t>(i);
    if (auto it = parent_ds.find(b.name); apex && it != parent_ds.end()) {
      n.parent_zone = static_cast<uint32_t>(it->second.first);
      if (const RRsetData* ds = it->second.second; ds != nullptr) {
        // The parent's DS joins the child apex node; the engine answers it for the parent.
        bool child_has_ds = false;
        for (uint32_t k = n.rrset_first; k < n.rrset_first + n.rrset_count; ++k) {
          child_has_ds |= rrsets[k].type == kTypeDs;
        }
        if (!child_has_ds) {
          rrsets.push_back(AppendRRset(*ds));
          pending_additional.emplace_back();
          ++n.rrset_count;
        }
      }
    }
  }

  // 2. Zone cuts (the highest delegation on the path from the apex) and wildcard children.
  //    Parents precede children in `order`, so one pass suffices.
  for (size_t i = 0; i < order.size(); ++i) {
    maps::Node& n = nodes[i];
    if (n.flags & maps::kNodeApex) continue;
    std::string_view parent = WireParent(order[i]->name);
    auto it = index.find(parent);
    if (it == index.end()) continue;
    const maps::Node& p = nodes[it->second];
    if (p.cut != kNone) {
      n.cut = p.cut;
    } else if (n.flags & maps::kNodeDelegation) {
      n.cut = static_cast<uint32_t>(i);
    }
    if (n.flags & maps::kNodeWildcard) nodes[it->second].wildcard = static_cast<uint32_t>(i);
  }

  // 3. Additional-section targets: A/AAAA of NS/MX/SRV targets in the same zone. Glue (data
  //    below a cut) is used only for the NS rrset of that delegation; other answers take only
  //    authoritative data.
  std::vector<maps::AdditionalRef> adds;
  for (size_t i = 0; i < nodes.size(); ++i) {
    const maps::Node& owner = nodes[i];
    for (uint32_t r = owner.rrset_first; r < owner.rrset_first + owner.rrset_count; ++r) {
      rrsets[r].additional_first = static_cast<uint32_t>(adds.size());
      for (const auto& [target, unused] : pending_additional[r]) {
        auto it = index.find(target);
        if (it == index.end()) continue;
        const maps::Node& t = nodes[it->second];
        if (t.zone != owner.zone) continue;
        const bool is_glue_for_this_cut = rrsets[r].type == kTypeNs && owner.cut == i && t.cut == i;
        if (t.cut != kNone && !is_glue_for_this_cut) continue;
        for (uint16_t want : {kTypeA, kTypeAaaa}) {
          for (uint32_t k = t.rrset_first; k < t.rrset_first + t.rrset_count; ++k) {
            if (rrsets[k].type != want) continue;
            const maps::AdditionalRef ref{it->second, k};
            bool dup = false;  // two MX records may share a target
            for (size_t a = rrsets[r].additional_first; a < adds.size(); ++a) {
              dup |= adds[a].node == ref.node && adds[a].rrset == ref.rrset;
            }
            if (!dup) adds.push_back(ref);
          }
        }
      }
      size_t count = adds.size() - rrsets[r].additional_first;
      rrsets[r].additional_count = static_cast<uint16_t>(std::min<size_t>(count, 0xffff));
    }
  }

  // 4. The name table (maps/name_table.h).
  std::vector<maps::Bucket> buckets(maps::NameTableBuckets(nodes.size()), maps::Bucket{0, kNone});
  for (size_t i = 0; i < order.size(); ++i) {
    const std::string& name = order[i]->name;
    maps::NameTableInsert(buckets.data(), static_cast<uint32_t>(buckets.size() - 1),
                          reinterpret_cast<const uint8_t*>(name.data()), name.size(),
                          static_cast<uint32_t>(i));
  }

  // 5. Settings and their strings.
  maps::Settings settings{};
  settings.edns_udp_size = config.server.edns_udp_size;
  settings.nsid = add_string(config.server.nsid);
  // A configured but empty string still answers (an empty TXT string); absent refuses. Store
  // absent as length 0 with offset kNone so the engine can tell the two apart.
  settings.chaos_version =
      config.server.version ? add_string(*config.server.version) : maps::StringRef{kNone, 0};
  settings.chaos_identity =
      config.server.identity ? add_string(*config.server.identity) : maps::StringRef{kNone, 0};

  // 6. The dataplane's port settings, when the config has them.
  std::vector<maps::DataplaneSettings> dataplane;
  std::vector<maps::DataplaneAddress> dataplane_addresses;
  if (config.dataplane.present) {
    const DataplaneConfig& dc = config.dataplane;
    maps::DataplaneSettings d{};
    d.port = dc.port;
    d.tx_port = static_cast<int16_t>(dc.tx_port);
    d.queues = static_cast<uint16_t>(dc.queues);
    d.mtu = dc.mtu;
    d.mbufs = static_cast<uint32_t>(dc.mbufs);
    d.dns_port = dc.dns_port;
    d.exception_path = dc.exception_path ? 1 : 0;
    d.exception_interface = add_string(dc.exception_interface);
    dataplane.push_back(d);
    for (const DataplaneAddress& a : dc.addresses) {
      maps::DataplaneAddress m{};
      m.family = static_cast<uint8_t>(a.family);
      m.prefix = static_cast<uint8_t>(a.prefix);
      m.vlan = a.vlan;
      std::memcpy(m.addr, a.addr, sizeof(m.addr));
      dataplane_addresses.push_back(m);
    }
  }

  maps::SnapshotWriter w;
  w.SetSection(maps::kSettings, &settings, 1, sizeof(settings));
  w.SetSection(maps::kZones, zone_recs);
  w.SetSection(maps::kBuckets, buckets);
  w.SetSection(maps::kNodes, nodes);
  w.SetSection(maps::kRRsets, rrsets);
  w.SetSection(maps::kRdata, rdata_blob);
  w.SetSection(maps::kNames, names_blob);
  w.SetSection(maps::kAdditionals, adds);
  w.SetSection(maps::kStrings, strings);
  w.SetSection(maps::kResources, policies.resources);
  w.SetSection(maps::kMembers, policies.members);
  w.SetSection(maps::kTargets, policies.targets);
  w.SetSection(maps::kGeoPrefixesV4, geo_v4);
  w.SetSection(maps::kGeoPrefixesV6, geo_v6);
  w.SetSection(maps::kGeoDcLists, geo_lists);
  w.SetSection(maps::kGeoMaps, geo_maps);
  w.SetSection(maps::kDataplane, dataplane);
  w.SetSection(maps::kDataplaneAddresses, dataplane_addresses);
  return w.Build(generation);
}

}  // namespace sextant::control
