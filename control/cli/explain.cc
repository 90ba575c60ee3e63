#include "control/cli/explain.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "control/cli/instance_files.h"
#include "control/config/enum_names.h"
#include "control/geo/geo_config.h"
#include "control/geo/geo_provenance.h"
#include "control/geo/mmdb_lookup.h"
#include "control/util/log.h"
#include "control/zones/dns_name.h"
#include "dataplane/engine/engine.h"
#include "dataplane/engine/trace.h"
#include "maps/dns/query_builder.h"
#include "maps/dns/wire.h"
#include "maps/status_macros.h"

// ldns last: its common.h defines `false` as a macro (see control/config/health_check.cc).
#include <ldns/ldns.h>

namespace sextant::control {
namespace {

using dataplane::PolicyTrace;
using dataplane::TraceStep;
namespace dns = maps::dns;

// The query explain asks, and the client it asks as.
struct Question {
  std::string wire;  // the name, wire form
  uint16_t qtype = 0;
  std::string type_text;
  bool has_client = false;
  IpPrefix client;
};

absl::StatusOr<Question> ParseQuestion(const ExplainRequest& req) {
  Question q;
  const std::string name = !req.name.empty() && req.name.back() == '.' ? req.name : req.name + ".";
  SX_ASSIGN_OR_RETURN(q.wire, TextToWire(name));
  const ldns_rr_type t = ldns_get_rr_type_by_name(req.type.c_str());
  if (t == 0) {
    return absl::InvalidArgumentError(absl::StrCat("'", req.type, "' is not a record type"));
  }
  q.qtype = static_cast<uint16_t>(t);
  char* text = ldns_rr_type2str(t);
  q.type_text = text != nullptr ? text : req.type;
  free(text);
  if (!req.client.empty()) {
    SX_ASSIGN_OR_RETURN(q.client, ParseIpPrefix(req.client));
    q.has_client = true;
  }
  return q;
}

std::vector<uint8_t> QueryBytes(const Question& q) {
  dns::QueryOptions o{.id = 0x5358, .edns_size = 1232};
  if (q.has_client && q.client.length > 0) {
    o.options.push_back(
        dns::EcsOption(q.client.family == kFamilyIpv4 ? dns::kEcsFamilyIpv4 : dns::kEcsFamilyIpv6,
                       static_cast<uint8_t>(q.client.length), q.client.addr));
  }
  return dns::BuildQueryWire(reinterpret_cast<const uint8_t*>(q.wire.data()), q.wire.size(),
                             q.qtype, o);
}

dataplane::ClientInfo ClientOf(const Question& q) {
  dataplane::ClientInfo c;
  if (q.has_client) {
    c.family = q.client.family == kFamilyIpv4 ? 4 : 6;
    std::memcpy(c.addr, q.client.addr, sizeof(c.addr));
  }
  return c;
}

// The client's record in a MaxMind DB: the fields the geo compiler reads, and the database
// network it belongs to.
std::string MmdbRecordText(const std::string& path, const IpPrefix& client) {
  absl::StatusOr<MmdbFile> db = MmdbFile::Open(path);
  if (!db.ok()) return std::string(db.status().message());
  IpPrefix address = client;
  address.length = address.max_length();
  absl::StatusOr<MmdbLookup> hit = db->Lookup(address);
  if (!hit.ok()) return std::string(hit.status().message());
  if (!hit->found) {
    return hit->ipv4_only_database
               ? "no record (no IPv6 data)"
               : absl::StrCat("no record (database network ", FormatIpPrefix(hit->network), ")");
  }
  return absl::StrCat(MmdbFile::Describe(&hit->entry), " (database network ",
                      FormatIpPrefix(hit->network), ")");
}

// Writes the trace in words, reading names, records and maps from the snapshot.
class TraceWriter {
 public:
  TraceWriter(const maps::SnapshotReader& snap, const dataplane::SnapshotView& v,
              const std::atomic<uint32_t>* health, const Question& q,
              const absl::StatusOr<Config>* config, std::string* out)
      : snap_(snap), v_(v), health_(health), q_(q), config_(config), out_(*out) {
    for (const maps::Target& t : snap.section<maps::Target>(maps::kTargets)) {
      target_of_word_[t.health] = SnapshotString(snap, t.name);
    }
  }

  void Write(const dataplane::AnswerTrace& t) {
    trace_ = &t;
    for (int i = 0; i < t.n; ++i) Step(t.steps[i], i);
    if (t.n == dataplane::AnswerTrace::kMaxSteps) Line(1, "(trace cut short)");
  }

 private:
  void Line(int indent, const std::string& text) {
    absl::StrAppend(&out_, std::string(2 * indent, ' '), text, "\n");
  }
  std::string NodeName(uint32_t node) const {
    const maps::Node& n = v_.nodes[node];
    return WireToText(
        std::string_view(reinterpret_cast<const char*>(v_.names + n.name_offset), n.name_length));
  }
  std::string TypeName(uint16_t type) const {
    char* t = ldns_rr_type2str(static_cast<ldns_rr_type>(type));
    std::string s = t != nullptr ? t : absl::StrCat("TYPE", type);
    free(t);
    return s;
  }
  std::string ResourceName(uint32_t r) const { return SnapshotString(snap_, v_.resources[r].name); }
  std::string KindName(uint32_t r) const {
    return NameOf(static_cast<PolicyKind>(v_.resources[r].kind));
  }
  std::string DatacenterName(const maps::GeoMap& g, uint32_t dc) const {
    const std::vector<std::string> names = absl::StrSplit(SnapshotString(snap_, g.dc_names), ',');
    return dc < names.size() ? names[dc] : "?";
  }
  // Member k of resource r: its record or nested resource, its target and datacenter.
  std::string MemberText(uint32_t r, uint32_t k) const {
    const maps::Resource& res = v_.resources[r];
    const maps::Member& m = v_.members[res.member_first + k];
    std::string s = m.kind == maps::kMemberRdata ? RdataText(res.type, v_.rdata + m.ref)
                                                 : "resource " + ResourceName(m.ref);
    if (m.health != maps::kNone) {
      auto it = target_of_word_.find(m.health);
      absl::StrAppend(&s, " (target ", it != target_of_word_.end() ? it->second : "?", ")");
    }
    if (res.kind == maps::kPolicyGeo || res.kind == maps::kPolicyLatency) {
      absl::StrAppend(&s, " (datacenter ", DatacenterName(v_.geo_maps[res.count], m.weight), ")");
    }
    return s;
  }

  void Step(const TraceStep& s, int index) {
    switch (s.kind) {
      case TraceStep::kLookup:
        Line(1,
             absl::StrCat("look up ", s.rdata == maps::kNone ? WireToText(q_.wire) : CnameTarget(s),
                          " ", q_.type_text));
        break;
      case TraceStep::kFound:
        Line(2, absl::StrCat(NodeName(s.node), " exists"));
        break;
      case TraceStep::kWildcard:
        Line(2, absl::StrCat("no such name; the wildcard ", NodeName(s.node),
                             " answers for it (RFC 4592)"));
        break;
      case TraceStep::kNxDomain:
        Line(2, absl::StrCat("no such name and no wildcard: NXDOMAIN, zone ", ZoneName(s.zone)));
        break;
      case TraceStep::kReferral:
        Line(2, absl::StrCat("below the zone cut ", NodeName(s.node), ": a referral"));
        break;
      case TraceStep::kNotAuth:
        Line(2, "in no zone served here: REFUSED");
        break;
      case TraceStep::kLeftZone:
        Line(2, "outside the zone of the chain: the CNAME chain ends here");
        break;
      case TraceStep::kCnameLoop:
        Line(2, absl::StrCat("CNAME loop back to ", NodeName(s.node), ": the chain ends here"));
        break;
      case TraceStep::kNoData:
        Line(2, absl::StrCat("no ", q_.type_text, " data at ", NodeName(s.node), ": NODATA, zone ",
                             ZoneName(s.zone)));
        break;
      case TraceStep::kRRset:
        Line(2, absl::StrCat(TypeName(v_.rrsets[s.rrset].type), " records from the zone file"));
        break;
      case TraceStep::kCname:
        Line(2, "CNAME: followed");
        break;
      default:
        PolicyStep(s, index);
        break;
    }
  }

  void PolicyStep(const TraceStep& s, int index) {
    switch (s.kind) {
      case TraceStep::kPolicy:
        Line(2, absl::StrCat(TypeName(v_.rrsets[s.rrset].type), " from resource ",
                             ResourceName(s.resource), " (", KindName(s.resource),
                             "): the policy plan's writer is ", WriterName(s.writer)));
        break;
      case TraceStep::kMemberState: {
        static constexpr const char* kState[] = {"up", "down", "drained"};
        Line(3, absl::StrCat("resource ", ResourceName(s.resource), " member ", s.member, " ",
                             MemberText(s.resource, s.member), ": ", kState[s.state % 3]));
        break;
      }
      case TraceStep::kPicked:
        Line(3, absl::StrCat("picked member ", s.member, " ", MemberText(s.resource, s.member)));
        break;
      case TraceStep::kGeoSite:
        Geo(s.resource, s.list, s.scope, s.member);
        break;
      case TraceStep::kHandedOver:
        Line(3, absl::StrCat("the writer hands over to the general evaluator: ",
                             ReasonText(s.reason)));
        break;
      case TraceStep::kGeneral:
        GeneralEvents(s, index);
        break;
      case TraceStep::kTruncated:
        Line(1, "the answer does not fit: sent empty with TC (retry over TCP)");
        break;
      default:
        break;
    }
  }

  std::string CnameTarget(const TraceStep& s) const {
    uint16_t len;
    std::memcpy(&len, v_.rdata + s.rdata, 2);
    return WireToText(std::string_view(reinterpret_cast<const char*>(v_.rdata + s.rdata + 2), len));
  }
  std::string ZoneName(uint32_t zone) const { return NodeName(v_.zones[zone].apex_node); }

  static std::string WriterName(uint8_t id) {
    static constexpr const char* kWriter[] = {"the general evaluator",
                                              "run (every member, rotated)",
                                              "failover (first up)",
                                              "weighted (one by weight)",
                                              "shuffled sample",
                                              "geo (lookup, then the site's writer)",
                                              "vector sample of A records",
                                              "vector sample of AAAA records",
                                              "lone A member",
                                              "lone AAAA member"};
    static constexpr const char* kHealth[] = {"no health words", "health words in a run",
                                              "health words by member"};
    const int writer = id >> 2;
    if (writer == 0) return kWriter[0];
    const std::string health = kHealth[(id & 3) % 3];
    if (writer >= dataplane::kWriterGeoSites) {
      const int site = writer - dataplane::kWriterGeoSites;
      return absl::StrCat("geo lookup fused with every site's writer, ",
                          site < 10 ? kWriter[site] : "?", " (", health, ")");
    }
    return absl::StrCat(writer < 10 ? kWriter[writer] : "?", " (", health, ")");
  }
  static std::string ReasonText(TraceStep::Reason r) {
    switch (r) {
      case TraceStep::kReasonMemberDown:
        return "a member it looked at is down or drained";
      case TraceStep::kReasonNoSite:
        return "the resource serves no site at the client's first datacenter";
      case TraceStep::kReasonSiteNotFast:
        return "the chosen site needs the general evaluator";
      case TraceStep::kReasonOwnerNotInPacket:
        return "the owner name is not in the message yet";
      default:
        return "-";
    }
  }

  // A geo lookup of resource r: its map, the client's network and preference list, the site.
  void Geo(uint32_t r, uint32_t list, uint8_t scope, uint32_t site) {
    const maps::Resource& res = v_.resources[r];
    const maps::GeoMap& g = v_.geo_maps[res.count];
    const bool ecs = res.order == maps::kGeoEcsUse && q_.has_client && q_.client.length > 0;
    Line(3, absl::StrCat(
                "geo lookup of resource ", ResourceName(r), ": map ", SnapshotString(snap_, g.name),
                res.order == maps::kGeoEcsIgnore ? " (ecs: ignore: by packet source)" : ""));
    const std::string db = SnapshotString(snap_, g.database);
    if (q_.has_client && !db.empty()) {
      Line(4, absl::StrCat("client ", FormatIpPrefix(q_.client), " in ", db, ": ",
                           MmdbRecordText(db, q_.client)));
    }
    std::string matched = "the packet source";
    if (ecs) {
      IpPrefix p;  // the client's address cut to the matched map network
      p.family = q_.client.family;
      p.length = scope;
      for (int bit = 0; bit < scope && bit < 128; ++bit) {
        p.addr[bit / 8] |= q_.client.addr[bit / 8] & (0x80 >> (bit % 8));
      }
      matched = FormatIpPrefix(p);
    }
    const maps::DcList& l = v_.geo_lists[g.list_first + list];
    std::vector<std::string> names, prefs;
    const maps::Member* m = v_.members + res.member_first;
    for (uint8_t i = 0; i < l.count; ++i) {
      const bool served = std::any_of(m, m + res.member_count, [&](const maps::Member& x) {
        return x.weight == l.dcs[i];  // a geo member's weight is its datacenter id
      });
      names.push_back(DatacenterName(g, l.dcs[i]));
      prefs.push_back(absl::StrCat(names.back(), served ? "" : " (not served)"));
    }
    Line(4, absl::StrCat("matched map network ", matched, " (ECS scope ", scope,
                         "); preference list: ", absl::StrJoin(prefs, ", ")));
    if (config_ != nullptr) ListSource(SnapshotString(snap_, g.name), ecs, names);
    if (site < res.member_count) {
      Line(4, absl::StrCat("first choice served by member ", site, " ", MemberText(r, site)));
    }
  }

  // Which layer of map `map_name` chose the client's list `published`, from the config's own
  // files; and whether they still give that list.
  void ListSource(const std::string& map_name, bool ecs,
                  const std::vector<std::string>& published) {
    auto unknown = [&](absl::string_view why) {
      Line(4, absl::StrCat("where the list comes from: unknown: ", why));
    };
    if (!config_->ok()) return unknown(config_->status().message());
    const Config& config = **config_;
    auto map = std::find_if(config.geo_maps.begin(), config.geo_maps.end(),
                            [&](const GeoMapConfig& m) { return m.name == map_name; });
    if (map == config.geo_maps.end()) {
      return unknown(absl::StrCat(config.path, " has no geo map '", map_name, "' now"));
    }
    // The address the lookup used: the ECS prefix, else the packet source, whole.
    IpPrefix address = q_.client;
    if (!ecs) address.length = address.max_length();
    absl::StatusOr<GeoProvenance> p = FindGeoProvenance(*map, address);
    if (!p.ok()) return unknown(p.status().message());
    if (!p->looked_up.empty()) {
      Line(4, absl::StrCat("looked up as ", p->looked_up, ", the IPv4 address it embeds"));
    }
    if (p->list != published) {
      Line(4, absl::StrCat("where the list comes from: unknown: ", config.path,
                           " and its files now give ", absl::StrJoin(p->list, ", "),
                           " (chosen by the ", p->chosen.text, "), not the published list: ",
                           "they changed after generation ", snap_.generation(),
                           " was published, or their reload was refused (sextantctl status)"));
      return;
    }
    Line(4, absl::StrCat("chosen by the ", p->chosen.text));
    if (p->beneath) {
      Line(4, absl::StrCat("datacenters without a measurement follow the ", p->beneath->text));
    }
  }

  // The general evaluator's events of one evaluation.
  void GeneralEvents(const TraceStep& s, int index) {
    Line(3, absl::StrCat("general evaluator, resource ", ResourceName(s.resource), ":"));
    int end = trace_->policy.n;
    for (int i = index + 1; i < trace_->n; ++i) {
      if (trace_->steps[i].kind == TraceStep::kGeneral) {
        end = trace_->steps[i].events;
        break;
      }
    }
    for (int i = s.events; i < end; ++i) Event(trace_->policy.entries[i]);
  }
  void Event(const PolicyTrace::Entry& e) {
    const maps::Resource& r = v_.resources[e.resource];
    if (e.event == PolicyTrace::kGeoLookup) {
      Geo(e.resource, e.list, e.scope, r.member_count);
      return;
    }
    if (e.event == PolicyTrace::kAllDownRule) {
      Line(4, absl::StrCat("resource ", ResourceName(e.resource), ": no member up, all_down rule '",
                           NameOf(static_cast<AllDown>(r.all_down)), "' applies"));
      return;
    }
    static constexpr const char* kEvent[] = {"up", "down: skipped", "drained: skipped", "picked",
                                             "nested resource has nothing up"};
    Line(4, absl::StrCat("resource ", ResourceName(e.resource), " (", KindName(e.resource),
                         ") member ", e.member, " ", MemberText(e.resource, e.member), ": ",
                         kEvent[e.event]));
  }

  const maps::SnapshotReader& snap_;
  const dataplane::SnapshotView& v_;
  const std::atomic<uint32_t>* health_;
  const Question& q_;
  const absl::StatusOr<Config>* config_;
  std::string& out_;
  const dataplane::AnswerTrace* trace_ = nullptr;
  std::map<uint32_t, std::string> target_of_word_;
};

// The response's parts (docs/schema/explain.schema.json "answer"): rcode, flags, the ECS scope
// it carries, the answer and authority records as dig shows them, the additional count, size.
nlohmann::json AnswerJson(const uint8_t* msg, size_t len, const dataplane::AnswerInfo& info) {
  ldns_pkt* pkt = nullptr;
  if (ldns_wire2pkt(&pkt, msg, len) != LDNS_STATUS_OK) return nullptr;
  char* rcode = ldns_pkt_rcode2str(ldns_pkt_get_rcode(pkt));
  nlohmann::json flags = nlohmann::json::array();
  if (ldns_pkt_aa(pkt)) flags.push_back("aa");
  if (ldns_pkt_tc(pkt)) flags.push_back("tc");
  nlohmann::json j = {{"rcode", info.rcode == dns::kBadVers ? "BADVERS" : rcode},
                      {"flags", std::move(flags)},
                      {"ecs_scope", nullptr},
                      {"answer", nlohmann::json::array()},
                      {"authority", nlohmann::json::array()},
                      {"additional", ldns_pkt_arcount(pkt)},
                      {"bytes", len}};
  free(rcode);
  if (ldns_edns_option_list* opts = ldns_pkt_edns_get_option_list(pkt); opts != nullptr) {
    for (size_t i = 0; i < ldns_edns_option_list_get_count(opts); ++i) {
      const ldns_edns_option* o = ldns_edns_option_list_get_option(opts, i);
      if (static_cast<int>(ldns_edns_get_code(o)) == dns::kOptEcs && ldns_edns_get_size(o) >= 4) {
        j["ecs_scope"] = ldns_edns_get_data(o)[3];
      }
    }
  }
  for (const auto& [key, section] : {std::pair{"answer", ldns_pkt_answer(pkt)},
                                     std::pair{"authority", ldns_pkt_authority(pkt)}}) {
    for (size_t i = 0; i < ldns_rr_list_rr_count(section); ++i) {
      char* rr = ldns_rr2str(ldns_rr_list_rr(section, i));
      j[key].push_back(std::string(absl::StripTrailingAsciiWhitespace(rr)));
      free(rr);
    }
  }
  ldns_pkt_free(pkt);
  return j;
}

// The response as dig would show its sections, and the ECS scope it carries.
std::string AnswerText(const nlohmann::json& a) {
  if (a.is_null()) return "answer: (cannot be parsed)\n";
  const size_t answers = a["answer"].size(), authority = a["authority"].size();
  std::string out = absl::StrCat("answer: ", a["rcode"].get<std::string>());
  for (const nlohmann::json& f : a["flags"]) absl::StrAppend(&out, ", ", f.get<std::string>());
  absl::StrAppend(&out, "; ", answers, " answer, ", authority, " authority, ",
                  Plural(a["additional"].get<size_t>(), "additional record"), ", ",
                  a["bytes"].get<size_t>(), " bytes");
  if (a["ecs_scope"].is_number()) absl::StrAppend(&out, ", ECS scope /", a["ecs_scope"].get<int>());
  out += "\n";
  for (const char* section : {"answer", "authority"}) {
    for (const nlohmann::json& rr : a[section])
      absl::StrAppend(&out, "  ", rr.get<std::string>(), "\n");
  }
  return out;
}

// The trace's lines as {depth, text}: depth is the indentation the text output gives them.
nlohmann::json StepsJson(const std::string& text) {
  nlohmann::json steps = nlohmann::json::array();
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    const size_t spaces = line.find_first_not_of(' ');
    steps.push_back({{"depth", spaces / 2}, {"text", std::string(line.substr(spaces))}});
  }
  return steps;
}

}  // namespace

absl::StatusOr<std::string> ExplainSnapshot(const maps::SnapshotReader& snapshot,
                                            const std::atomic<uint32_t>* health,
                                            const ExplainRequest& request,
                                            const absl::StatusOr<Config>* config, bool json) {
  SX_ASSIGN_OR_RETURN(Question q, ParseQuestion(request));
  dataplane::Engine engine(snapshot, dataplane::EngineUse::kExplain);
  engine.set_health(health);
  const std::vector<uint8_t> query = QueryBytes(q);
  std::vector<uint8_t> response(dataplane::kMaxDnsMessage);
  dataplane::AnswerInfo info;
  auto trace = std::make_unique<dataplane::AnswerTrace>();
  const size_t len = engine.Explain(query.data(), query.size(), ClientOf(q), response.data(),
                                    response.size(), &info, trace.get());
  std::string steps;
  TraceWriter(snapshot, engine.view(), health, q, config, &steps).Write(*trace);
  const nlohmann::json answer = AnswerJson(response.data(), len, info);
  if (json) {
    const nlohmann::json j = {
        {"generation", snapshot.generation()},
        {"query",
         {{"name", WireToText(q.wire)},
          {"type", q.type_text},
          {"client", q.has_client ? nlohmann::json(FormatIpPrefix(q.client)) : nullptr}}},
        {"steps", StepsJson(steps)},
        {"answer", answer}};
    return j.dump() + "\n";
  }
  std::string out = absl::StrCat("snapshot generation ", snapshot.generation(), "\nquery ",
                                 WireToText(q.wire), " ", q.type_text);
  if (q.has_client) {
    absl::StrAppend(&out, ", client ", FormatIpPrefix(q.client), " (ECS option and packet source)");
  }
  return absl::StrCat(out, "\n", steps, AnswerText(answer));
}

absl::StatusOr<std::string> Explain(const std::string& instance, const ExplainRequest& request,
                                    const absl::StatusOr<Config>& config, bool json) {
  SX_ASSIGN_OR_RETURN(InstanceFiles f, OpenInstanceFiles(instance));
  return ExplainSnapshot(*f.snapshot, (*f.block)->health, request, &config, json);
}

}  // namespace sextant::control
