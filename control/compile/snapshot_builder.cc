#include "control/compile/snapshot_builder.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <string_view>
#include <utility>

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

// One snapshot in the making. The steps run in the order Build calls them; each fills the
// sections it names.
class SnapshotBuilder {
 public:
  SnapshotBuilder(const Config& config, const SnapshotInputs& inputs,
                  const std::map<std::string, uint32_t>* target_index,
                  std::vector<GeoMapBuilt>* geo_summaries)
      : config_(config),
        zones_(inputs.zones),
        compiled_maps_(inputs.geo_maps),
        target_index_(target_index),
        geo_summaries_(geo_summaries) {}

  absl::StatusOr<std::vector<uint8_t>> Build(uint64_t generation) {
    SX_RETURN_IF_ERROR(CompileResources());
    SX_RETURN_IF_ERROR(CompileGeoMaps());
    CollectZoneNames();
    CollectServedChildApexes();
    SX_RETURN_IF_ERROR(AttachPolicyRecords());
    OrderNodes();
    SX_RETURN_IF_ERROR(WriteNodes());
    LinkCutsAndWildcards();
    ResolveAdditionals();
    BuildNameTable();
    WriteSettings();
    WriteDataplane();
    WriteDnstap();
    WriteTcp();
    WriteRateLimit();
    cookies_ = {.enabled = config_.cookies.enabled ? uint8_t{1} : uint8_t{0},
                .require = config_.cookies.require ? uint8_t{1} : uint8_t{0},
                .reserved = {}};
    return Seal(generation);
  }

 private:
  maps::StringRef AddString(const std::string& s) {
    maps::StringRef ref{static_cast<uint32_t>(strings_.size()), static_cast<uint32_t>(s.size())};
    strings_.insert(strings_.end(), s.begin(), s.end());
    return ref;
  }

  // Resources, members and targets (resource_compiler.h); member rdata goes first in kRdata.
  absl::Status CompileResources() {
    return CompilePolicies(
        config_.policies, config_.path, target_index_, &rdata_,
        [this](const std::string& s) { return AddString(s); }, &policies_);
  }

  // Each compiled geo map's arrays appended to sections 12-14, found through its GeoMap. Maps the
  // caller compiled (SnapshotInputs::geo_maps) are taken as they are.
  absl::Status CompileGeoMaps() {
    for (size_t i = 0; i < config_.geo_maps.size(); ++i) {
      const GeoMapConfig& mc = config_.geo_maps[i];
      if (i < compiled_maps_.size()) {
        AppendGeoMap(mc, *compiled_maps_[i]);
        continue;
      }
      const auto start = std::chrono::steady_clock::now();
      absl::StatusOr<CompiledGeoMap> cm = CompileGeoMap(mc);
      if (!cm.ok()) {
        return absl::Status(
            cm.status().code(),
            absl::StrCat(config_.path, mc.line > 0 ? absl::StrCat(" line ", mc.line) : "", ": ",
                         cm.status().message()));
      }
      if (geo_summaries_ != nullptr) {
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::steady_clock::now() - start)
                            .count();
        geo_summaries_->push_back(GeoMapBuilt{mc.name, GeoMapSummary(mc.name, *cm, ms),
                                              cm->stats.build_epoch,
                                              cm->stats.networks_after_merge});
      }
      AppendGeoMap(mc, *cm);
    }
    return absl::OkStatus();
  }

  void AppendGeoMap(const GeoMapConfig& mc, const CompiledGeoMap& cm) {
    maps::GeoMap g{};
    g.v4_first = static_cast<uint32_t>(geo_v4_.size());
    g.v4_count = static_cast<uint32_t>(cm.table.v4.size());
    g.v6_first = static_cast<uint32_t>(geo_v6_.size());
    g.v6_count = static_cast<uint32_t>(cm.table.v6.size());
    g.list_first = static_cast<uint32_t>(geo_lists_.size());
    g.list_count = static_cast<uint32_t>(cm.lists.size());
    g.dc_count = static_cast<uint32_t>(cm.datacenters.size());
    g.dc_names = AddString(absl::StrJoin(cm.datacenters, ","));
    g.name = AddString(mc.name);
    g.database = AddString(mc.database_path);
    geo_v4_.insert(geo_v4_.end(), cm.table.v4.begin(), cm.table.v4.end());
    geo_v6_.insert(geo_v6_.end(), cm.table.v6.begin(), cm.table.v6.end());
    geo_lists_.insert(geo_lists_.end(), cm.lists.begin(), cm.lists.end());
    geo_maps_.push_back(g);
  }

  // The deepest served zone `name` is in, or -1.
  int DeepestZone(const std::string& name) const {
    int best = -1;
    for (size_t z = 0; z < zones_.size(); ++z) {
      if (WireIsSubdomain(name, zones_[z]->origin_wire) &&
          (best < 0 || zones_[z]->origin_wire.size() > zones_[best]->origin_wire.size())) {
        best = static_cast<int>(z);
      }
    }
    return best;
  }

  // The empty non-terminals of zone z between `name` and the apex (RFC 4592 needs them).
  void AddEmptyNonTerminals(std::string_view name, size_t z) {
    std::string_view up = name;
    while (up.size() > zones_[z]->origin_wire.size()) {
      up = WireParent(up);
      if (DeepestZone(std::string(up)) != static_cast<int>(z)) continue;
      BuildNode& e = by_name_[std::string(up)];
      if (e.zone < 0) {
        e.name = std::string(up);
        e.zone = static_cast<int>(z);
      }
    }
  }

  // Every owner plus the empty non-terminals between it and its apex. A name at or below the
  // apex of a deeper served zone belongs to that zone (we are authoritative there), so the
  // parent's copy (its delegation NS and glue) is not served, except DS at a served child's
  // apex, which the parent answers (RFC 4035 3.1.4.1).
  void CollectZoneNames() {
    for (size_t z = 0; z < zones_.size(); ++z) {
      for (const auto& [name, nd] : zones_[z]->names) {
        if (DeepestZone(name) != static_cast<int>(z)) {
          // Owned by a deeper served zone; the parent's empty non-terminals above it stay.
          AddEmptyNonTerminals(name, z);
          if (name == zones_[DeepestZone(name)]->origin_wire) {
            for (const RRsetData& s : nd.rrsets) {
              if (s.type == kTypeDs) parent_ds_[name] = {static_cast<int>(z), &s};
            }
            parent_ds_.emplace(name, std::make_pair(static_cast<int>(z), nullptr));
          }
          continue;
        }
        BuildNode& n = by_name_[name];
        n.name = name;
        n.zone = static_cast<int>(z);
        n.data = &nd;
        AddEmptyNonTerminals(name, z);
      }
    }
  }

  // A served child's apex below a served parent, even when the parent has no records there.
  void CollectServedChildApexes() {
    for (size_t z = 0; z < zones_.size(); ++z) {
      for (size_t p = 0; p < zones_.size(); ++p) {
        if (p == z || !WireIsSubdomain(zones_[z]->origin_wire, zones_[p]->origin_wire)) continue;
        if (DeepestZone(std::string(WireParent(zones_[z]->origin_wire))) != static_cast<int>(p)) {
          continue;  // an intermediate served zone is the parent
        }
        AddEmptyNonTerminals(zones_[z]->origin_wire, p);
        parent_ds_.emplace(zones_[z]->origin_wire, std::make_pair(static_cast<int>(p), nullptr));
      }
    }
  }

  // Why record `rec` cannot share node `n` with what is there already, or "" when it can.
  std::string RecordConflict(const BuildNode& n, const RecordConfig& rec) const {
    std::string cname = "cannot have a CNAME beside other data (RFC 1034 3.6.2)";
    if (n.data != nullptr) {
      for (const RRsetData& st : n.data->rrsets) {
        if (st.type == rec.type) {
          return "already has records of this type in the zone file; remove them or the "
                 "resource";
        }
        if (st.type == kTypeCname || rec.type == kTypeCname) return cname;
      }
    }
    for (size_t other : n.records) {
      const uint16_t t = config_.policies.records[other].type;
      if (t == rec.type) return "is listed twice with this type";
      if (t == kTypeCname || rec.type == kTypeCname) return cname;
    }
    return "";
  }

  // Policy-driven records: resources attached to owner names.
  absl::Status AttachPolicyRecords() {
    for (size_t k = 0; k < config_.policies.records.size(); ++k) {
      const RecordConfig& rec = config_.policies.records[k];
      auto err = [&](absl::string_view what) {
        return absl::InvalidArgumentError(absl::StrCat(
            config_.path, " line ", rec.line, ": ",
            rec.path.empty() ? "record" : rec.path + ".name", ": ", rec.name, " ", what));
      };
      auto wire = TextToWire(rec.name);
      if (!wire.ok()) return err(absl::StrCat("is not a domain name: ", wire.status().message()));
      const int z = DeepestZone(*wire);
      if (z < 0) return err("is not inside any configured zone");
      BuildNode& n = by_name_[*wire];
      if (n.zone < 0) {
        n.name = *wire;
        n.zone = z;
        AddEmptyNonTerminals(*wire, static_cast<size_t>(z));
      }
      if (const std::string why = RecordConflict(n, rec); !why.empty()) return err(why);
      n.records.push_back(k);
    }
    return absl::OkStatus();
  }

  // Parents get indices before children (cut propagation relies on it).
  void OrderNodes() {
    order_.reserve(by_name_.size());
    for (const auto& [name, n] : by_name_) order_.push_back(&n);
    std::stable_sort(order_.begin(), order_.end(), [](const BuildNode* a, const BuildNode* b) {
      return WireLabelCount(a->name) < WireLabelCount(b->name);
    });
    for (size_t i = 0; i < order_.size(); ++i) index_[order_[i]->name] = static_cast<uint32_t>(i);
    nodes_.resize(order_.size());
    zone_recs_.resize(zones_.size());
  }

  // An RRset record for `s`, its rdata appended to kRdata as `u16 len | rdata` per RR.
  maps::RRset AppendRRset(const RRsetData& s) {
    maps::RRset r{};
    r.resource = kNone;
    r.type = s.type;
    r.rr_count = static_cast<uint16_t>(s.rdatas.size());
    r.ttl = s.ttl;
    r.rdata_offset = static_cast<uint32_t>(rdata_.size());
    r.rdata_names = NamesOf(s.type);
    uint64_t wire = 0;
    for (const std::string& rd : s.rdatas) {
      const uint16_t len = static_cast<uint16_t>(rd.size());
      uint8_t lb[2];
      std::memcpy(lb, &len, 2);
      rdata_.insert(rdata_.end(), lb, lb + 2);
      rdata_.insert(rdata_.end(), rd.begin(), rd.end());
      wire += 2 + 10 + rd.size();  // owner pointer + fixed fields + rdata
    }
    r.rdata_length = static_cast<uint32_t>(rdata_.size()) - r.rdata_offset;
    r.wire_size = static_cast<uint32_t>(std::min<uint64_t>(wire, 0xffffffffu));
    return r;
  }

  // The zone file's RRsets of node i, types ascending: lookups scan a handful of entries, and a
  // minimal ANY answer (RFC 8482) gives the first one, as Knot does.
  absl::Status WriteZoneRRsets(size_t i, bool apex) {
    const BuildNode& b = *order_[i];
    maps::Node& n = nodes_[i];
    if (b.data->rrsets.size() > 0xffff) {
      return absl::InvalidArgumentError(absl::StrCat("too many types at ", b.data->display));
    }
    std::vector<const RRsetData*> sorted;
    for (const RRsetData& s : b.data->rrsets) sorted.push_back(&s);
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const RRsetData* x, const RRsetData* y) { return x->type < y->type; });
    for (const RRsetData* s : sorted) {
      std::vector<std::pair<std::string, uint32_t>> targets;
      for (const std::string& rd : s->rdatas) {
        std::string t = AdditionalTarget(s->type, rd);
        if (!t.empty()) targets.emplace_back(std::move(t), 0);
      }
      if (s->type == kTypeNs && !apex) n.flags |= maps::kNodeDelegation;
      if (s->type == kTypeCname) n.flags |= maps::kNodeHasCname;
      if (s->type == kTypeSoa && apex) {
        zone_recs_[b.zone].soa_rrset = static_cast<uint32_t>(rrsets_.size());
        // RFC 2308 section 5: negative TTL = min(SOA TTL, SOA MINIMUM).
        const std::string& soa = s->rdatas[0];
        uint32_t minimum;
        std::memcpy(&minimum, soa.data() + soa.size() - 4, 4);
        zone_recs_[b.zone].negative_ttl = std::min(__builtin_bswap32(minimum), s->ttl);
      }
      rrsets_.push_back(AppendRRset(*s));
      pending_additional_.push_back(std::move(targets));
    }
    n.rrset_count = static_cast<uint16_t>(b.data->rrsets.size());
    return absl::OkStatus();
  }

  // Policy-driven RRsets: no records of their own; the resource picks them per query.
  void WritePolicyRRsets(size_t i) {
    maps::Node& n = nodes_[i];
    for (size_t k : order_[i]->records) {
      const uint32_t res = policies_.record_resource[k];
      maps::RRset r{};
      r.type = config_.policies.records[k].type;
      r.ttl = policies_.resources[res].ttl;
      r.rdata_offset = 0;
      r.rdata_names = policies_.resources[res].rdata_names;
      r.resource = res;
      if (r.type == kTypeCname) n.flags |= maps::kNodeHasCname;
      rrsets_.push_back(r);
      pending_additional_.emplace_back();
      ++n.rrset_count;
    }
  }

  // At a served child's apex: the parent zone, and the parent's DS records (the engine answers
  // DS there for the parent, RFC 4035 3.1.4.1) unless the child has its own.
  void WriteParentDs(size_t i) {
    maps::Node& n = nodes_[i];
    auto it = parent_ds_.find(order_[i]->name);
    if (it == parent_ds_.end()) return;
    n.parent_zone = static_cast<uint32_t>(it->second.first);
    const RRsetData* ds = it->second.second;
    if (ds == nullptr) return;
    for (uint32_t k = n.rrset_first; k < n.rrset_first + n.rrset_count; ++k) {
      if (rrsets_[k].type == kTypeDs) return;
    }
    rrsets_.push_back(AppendRRset(*ds));
    pending_additional_.emplace_back();
    ++n.rrset_count;
  }

  // Nodes and their RRsets, in node order (kNodes, kRRsets, kNames, kZones).
  absl::Status WriteNodes() {
    for (size_t i = 0; i < order_.size(); ++i) {
      const BuildNode& b = *order_[i];
      maps::Node& n = nodes_[i];
      n.name_offset = static_cast<uint32_t>(names_.size());
      n.name_length = static_cast<uint8_t>(b.name.size());
      n.label_count = static_cast<uint8_t>(WireLabelCount(b.name));
      names_.insert(names_.end(), b.name.begin(), b.name.end());
      n.zone = static_cast<uint32_t>(b.zone);
      n.cut = kNone;
      n.wildcard = kNone;
      n.parent_zone = kNone;
      n.rrset_first = static_cast<uint32_t>(rrsets_.size());
      const bool apex = b.name == zones_[b.zone]->origin_wire;
      if (apex) n.flags |= maps::kNodeApex;
      if (b.name.size() > 1 && b.name[0] == 1 && b.name[1] == '*') n.flags |= maps::kNodeWildcard;
      if (b.data != nullptr) SX_RETURN_IF_ERROR(WriteZoneRRsets(i, apex));
      WritePolicyRRsets(i);
      if (apex) {
        zone_recs_[b.zone].apex_node = static_cast<uint32_t>(i);
        WriteParentDs(i);
      }
    }
    return absl::OkStatus();
  }

  // Zone cuts (the highest delegation on the path from the apex) and wildcard children.
  // Parents precede children, so one pass suffices.
  void LinkCutsAndWildcards() {
    for (size_t i = 0; i < order_.size(); ++i) {
      maps::Node& n = nodes_[i];
      if (n.flags & maps::kNodeApex) continue;
      auto it = index_.find(WireParent(order_[i]->name));
      if (it == index_.end()) continue;
      const maps::Node& p = nodes_[it->second];
      if (p.cut != kNone) {
        n.cut = p.cut;
      } else if (n.flags & maps::kNodeDelegation) {
        n.cut = static_cast<uint32_t>(i);
      }
      if (n.flags & maps::kNodeWildcard) nodes_[it->second].wildcard = static_cast<uint32_t>(i);
    }
  }

  // The A and AAAA RRsets of `target` that RRset r of node `owner` adds. Glue (data below a cut)
  // only for the NS RRset of that delegation; other answers take only authoritative data.
  void AddAdditionalsOf(uint32_t owner, uint32_t r, const std::string& target) {
    auto it = index_.find(target);
    if (it == index_.end()) return;
    const maps::Node& o = nodes_[owner];
    const maps::Node& t = nodes_[it->second];
    if (t.zone != o.zone) return;
    const bool glue_for_this_cut = rrsets_[r].type == kTypeNs && o.cut == owner && t.cut == owner;
    if (t.cut != kNone && !glue_for_this_cut) return;
    for (uint16_t want : {kTypeA, kTypeAaaa}) {
      for (uint32_t k = t.rrset_first; k < t.rrset_first + t.rrset_count; ++k) {
        if (rrsets_[k].type != want) continue;
        const maps::AdditionalRef ref{it->second, k};
        bool dup = false;  // two MX records may share a target
        for (size_t a = rrsets_[r].additional_first; a < adds_.size(); ++a) {
          dup |= adds_[a].node == ref.node && adds_[a].rrset == ref.rrset;
        }
        if (!dup) adds_.push_back(ref);
      }
    }
  }

  // Additional-section targets: A/AAAA of NS/MX/SRV targets in the same zone.
  void ResolveAdditionals() {
    for (size_t i = 0; i < nodes_.size(); ++i) {
      const maps::Node& owner = nodes_[i];
      for (uint32_t r = owner.rrset_first; r < owner.rrset_first + owner.rrset_count; ++r) {
        rrsets_[r].additional_first = static_cast<uint32_t>(adds_.size());
        for (const auto& [target, unused] : pending_additional_[r]) {
          AddAdditionalsOf(static_cast<uint32_t>(i), r, target);
        }
        const size_t count = adds_.size() - rrsets_[r].additional_first;
        rrsets_[r].additional_count = static_cast<uint16_t>(std::min<size_t>(count, 0xffff));
      }
    }
  }

  // The name table (maps/name_table.h).
  void BuildNameTable() {
    buckets_.assign(maps::NameTableBuckets(nodes_.size()), maps::kEmptyBucket);
    for (size_t i = 0; i < order_.size(); ++i) {
      const std::string& name = order_[i]->name;
      maps::NameTableInsert(buckets_.data(), static_cast<uint32_t>(buckets_.size() - 1),
                            reinterpret_cast<const uint8_t*>(name.data()), name.size(),
                            static_cast<uint32_t>(i), nodes_[i].name_offset);
    }
  }

  void WriteSettings() {
    settings_.edns_udp_size = config_.server.edns_udp_size;
    settings_.nsid = AddString(config_.server.nsid);
    // A configured but empty string still answers (an empty TXT string); absent refuses. Store
    // absent as length 0 with offset kNone so the engine can tell the two apart.
    settings_.chaos_version =
        config_.server.version ? AddString(*config_.server.version) : maps::StringRef{kNone, 0};
    settings_.chaos_identity =
        config_.server.identity ? AddString(*config_.server.identity) : maps::StringRef{kNone, 0};
  }

  // The dataplane's port settings, when the config has them.
  void WriteDataplane() {
    if (!config_.dataplane.present) return;
    const DataplaneConfig& dc = config_.dataplane;
    maps::DataplaneSettings d{};
    d.port = dc.port;
    d.tx_port = static_cast<int16_t>(dc.tx_port);
    d.queues = static_cast<uint16_t>(dc.queues);
    d.mtu = dc.mtu;
    d.mbufs = static_cast<uint32_t>(dc.mbufs);
    d.dns_port = dc.dns_port;
    d.exception_path = dc.exception_path ? 1 : 0;
    d.exception_interface = AddString(dc.exception_interface);
    dataplane_.push_back(d);
    for (const DataplaneAddress& a : dc.addresses) {
      maps::DataplaneAddress m{};
      m.family = static_cast<uint8_t>(a.family);
      m.prefix = static_cast<uint8_t>(a.prefix);
      m.vlan = a.vlan;
      std::memcpy(m.addr, a.addr, sizeof(m.addr));
      dataplane_addresses_.push_back(m);
    }
  }

  // Query logging, when the config asks for it.
  void WriteDnstap() {
    if (!config_.dnstap.present) return;
    const DnstapConfig& dc = config_.dnstap;
    maps::DnstapSettings d{};
    d.sample = dc.sample;
    d.ring_slots = dc.ring_slots;
    d.output = dc.to_socket ? maps::kDnstapToSocket : maps::kDnstapToFile;
    d.path = AddString(dc.path);
    d.identity = AddString(dc.identity);
    d.version = AddString(dc.version);
    dnstap_.push_back(d);
  }

  // TCP limits, when the config sets them (the dataplane's defaults are the same numbers).
  void WriteTcp() {
    if (!config_.tcp.present) return;
    const TcpConfig& tc = config_.tcp;
    maps::TcpSettings t{};
    t.max_connections = tc.max_connections;
    t.max_per_client = tc.max_per_client;
    t.idle_timeout_ms = tc.idle_timeout_ms;
    t.query_timeout_ms = tc.query_timeout_ms;
    t.max_queries = tc.max_queries;
    tcp_.push_back(t);
  }

  // Response rate limiting: on unless the config turns it off (no section: no limiting).
  void WriteRateLimit() {
    const RateLimitConfig& rc = config_.rate_limit;
    if (!rc.enabled) return;
    maps::RateLimitSettings r{};
    std::copy(std::begin(rc.per_second), std::end(rc.per_second), r.per_second);
    r.window = rc.window;
    r.table_size = rc.table_size;
    r.slip = static_cast<uint8_t>(rc.slip);
    r.ipv4_prefix = static_cast<uint8_t>(rc.ipv4_prefix);
    r.ipv6_prefix = static_cast<uint8_t>(rc.ipv6_prefix);
    r.exempt_count = static_cast<uint32_t>(rc.exempt.size());
    for (size_t i = 0; i < rc.exempt.size(); ++i) {
      r.exempt[i].family = static_cast<uint8_t>(rc.exempt[i].family);
      r.exempt[i].length = static_cast<uint8_t>(rc.exempt[i].length);
      std::copy(std::begin(rc.exempt[i].addr), std::end(rc.exempt[i].addr), r.exempt[i].addr);
    }
    rate_limit_.push_back(r);
  }

  absl::StatusOr<std::vector<uint8_t>> Seal(uint64_t generation) {
    maps::SnapshotWriter w;
    w.SetSection(maps::kSettings, &settings_, 1, sizeof(settings_));
    w.SetSection(maps::kZones, zone_recs_);
    w.SetSection(maps::kBuckets, buckets_);
    w.SetSection(maps::kNodes, nodes_);
    w.SetSection(maps::kRRsets, rrsets_);
    w.SetSection(maps::kRdata, rdata_);
    w.SetSection(maps::kNames, names_);
    w.SetSection(maps::kAdditionals, adds_);
    w.SetSection(maps::kStrings, strings_);
    w.SetSection(maps::kResources, policies_.resources);
    w.SetSection(maps::kMembers, policies_.members);
    w.SetSection(maps::kTargets, policies_.targets);
    w.SetSection(maps::kGeoPrefixesV4, geo_v4_);
    w.SetSection(maps::kGeoPrefixesV6, geo_v6_);
    w.SetSection(maps::kGeoDcLists, geo_lists_);
    w.SetSection(maps::kGeoMaps, geo_maps_);
    w.SetSection(maps::kDataplane, dataplane_);
    w.SetSection(maps::kDataplaneAddresses, dataplane_addresses_);
    w.SetSection(maps::kDnstap, dnstap_);
    w.SetSection(maps::kTcp, tcp_);
    w.SetSection(maps::kRateLimit, rate_limit_);
    w.SetSection(maps::kCookies, &cookies_, 1, sizeof(cookies_));
    return w.Build(generation);
  }

  const Config& config_;
  const std::vector<const ZoneData*>& zones_;
  const std::vector<const CompiledGeoMap*>& compiled_maps_;  // empty: compile them here
  const std::map<std::string, uint32_t>* target_index_;
  std::vector<GeoMapBuilt>* geo_summaries_;

  std::vector<uint8_t> strings_;
  std::vector<uint8_t> rdata_;
  CompiledPolicies policies_;
  std::vector<uint32_t> geo_v4_, geo_v6_;
  std::vector<maps::DcList> geo_lists_;
  std::vector<maps::GeoMap> geo_maps_;
  std::map<std::string, BuildNode> by_name_;
  // Served child apexes: the parent zone and its DS RRset there (null: none).
  std::map<std::string, std::pair<int, const RRsetData*>> parent_ds_;
  std::vector<const BuildNode*> order_;
  std::map<std::string_view, uint32_t> index_;
  std::vector<maps::Node> nodes_;
  std::vector<maps::RRset> rrsets_;
  std::vector<uint8_t> names_;
  std::vector<maps::Zone> zone_recs_;
  std::vector<std::vector<std::pair<std::string, uint32_t>>> pending_additional_;  // per RRset
  std::vector<maps::AdditionalRef> adds_;
  std::vector<maps::Bucket> buckets_;
  maps::Settings settings_{};
  std::vector<maps::DataplaneSettings> dataplane_;
  std::vector<maps::DnstapSettings> dnstap_;
  std::vector<maps::TcpSettings> tcp_;
  std::vector<maps::RateLimitSettings> rate_limit_;
  maps::CookieSettings cookies_{};
  std::vector<maps::DataplaneAddress> dataplane_addresses_;
};

}  // namespace

absl::StatusOr<std::vector<uint8_t>> BuildSnapshot(
    const Config& config, const SnapshotInputs& inputs, uint64_t generation,
    const std::map<std::string, uint32_t>* target_index) {
  return SnapshotBuilder(config, inputs, target_index, nullptr).Build(generation);
}

absl::StatusOr<std::vector<uint8_t>> BuildSnapshot(
    const Config& config, const std::vector<ZoneData>& zones, uint64_t generation,
    const std::map<std::string, uint32_t>* target_index, std::vector<GeoMapBuilt>* geo_summaries) {
  SnapshotInputs inputs;
  for (const ZoneData& z : zones) inputs.zones.push_back(&z);
  return SnapshotBuilder(config, inputs, target_index, geo_summaries).Build(generation);
}

}  // namespace sextant::control
