#include "control/exporter/dataplane_metrics.h"

#include <atomic>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "control/exporter/prom_text.h"
#include "maps/dataplane_attachment.h"

namespace sextant::exporter {
namespace {

// Rcode names as control's config spells them (control/config/enum_names.h); slot 15 holds
// BADVERS (16) and the other extended rcodes.
constexpr const char* kRcodeNames[16] = {
    "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP",  "REFUSED", "YXDOMAIN", "YXRRSET",
    "NXRRSET", "NOTAUTH", "NOTZONE",  "RCODE11",  "RCODE12", "RCODE13", "RCODE14",  "BADVERS"};

constexpr const char* kQtypeNames[maps::kQtypeSlots] = {
    "A",   "NS",    "CNAME", "SOA",    "PTR",   "MX",  "TXT", "AAAA",
    "SRV", "NAPTR", "DS",    "DNSKEY", "HTTPS", "ANY", "CAA", "other"};

constexpr const char* kDropNames[6] = {"malformed", "response", "no_snapshot",
                                       "not_ours",  "tx_full",  "other"};

absl::string_view SnapshotString(const maps::SnapshotReader& s, const maps::StringRef& r) {
  const auto strings = s.bytes(maps::kStrings);
  if (r.offset == maps::kNone || r.offset + uint64_t{r.length} > strings.size()) return {};
  return {reinterpret_cast<const char*>(strings.data()) + r.offset, r.length};
}

// A family of one counter without labels.
void Counter(std::string* o, const char* name, const char* help, uint64_t value) {
  Family(o, name, "counter", help);
  absl::StrAppend(o, name, " ", value, "\n");
}

void Totals(std::string* o, const maps::LcoreCounters& t, int lcores) {
  Family(o, "sextant_dataplane_lcores", "gauge", "Dataplane lcores that have counted anything.");
  absl::StrAppend(o, "sextant_dataplane_lcores ", lcores, "\n");
  Family(o, "sextant_packets_total", "counter", "Packets received and sent by the dataplane.");
  absl::StrAppend(o, "sextant_packets_total{direction=\"rx\"} ", t.rx_packets, "\n");
  absl::StrAppend(o, "sextant_packets_total{direction=\"tx\"} ", t.tx_packets, "\n");
  Counter(o, "sextant_queries_total", "DNS queries answered by the dataplane.", t.queries);
  Family(o, "sextant_responses_total", "counter", "Responses by rcode.");
  for (int k = 0; k < 16; ++k) {
    if (t.rcode[k] == 0 && k != 0 && k != 2 && k != 3 && k != 5) continue;
    absl::StrAppend(o, "sextant_responses_total{rcode=\"", kRcodeNames[k], "\"} ", t.rcode[k],
                    "\n");
  }
  Counter(o, "sextant_truncated_total", "Responses sent with TC set.", t.truncated);
  Counter(o, "sextant_exception_packets_total",
          "Packets handed to the kernel exception path (TCP, non-DNS).", t.exception_packets);
  Family(o, "sextant_dropped_total", "counter", "Packets dropped by the dataplane, by reason.");
  for (int k = 0; k < 6; ++k) {
    absl::StrAppend(o, "sextant_dropped_total{reason=\"", kDropNames[k], "\"} ", t.dropped[k],
                    "\n");
  }
  Counter(o, "sextant_dnstap_sampled_total",
          "Queries copied into the lcores' dnstap rings (dnstap: in the config).",
          t.dnstap_sampled);
  Counter(o, "sextant_dnstap_dropped_total",
          "Sampled queries not copied because the lcore's dnstap ring was full.", t.dnstap_dropped);
}

// Response rate limiting per lcore (kernel mode: per UDP thread): RSS spreads a prefix over the
// lcores, each with its share of the limit, so the split shows how evenly a flood landed.
void RateLimited(std::string* o, const maps::ControlBlock& b) {
  std::string limited, slipped;
  for (uint32_t i = 0; i < maps::kMaxLcores; ++i) {
    const maps::LcoreCounters& c = b.lcores[i];
    if (c.rx_packets == 0 && c.queries == 0) continue;
    absl::StrAppend(&limited, "sextant_rrl_limited_total{lcore=\"", i, "\"} ",
                    maps::CounterLoad(c.rrl_limited), "\n");
    absl::StrAppend(&slipped, "sextant_rrl_slipped_total{lcore=\"", i, "\"} ",
                    maps::CounterLoad(c.rrl_slipped), "\n");
  }
  Family(o, "sextant_rrl_limited_total", "counter",
         "UDP responses held back by response rate limiting (dropped or sent truncated).");
  *o += limited;
  Family(o, "sextant_rrl_slipped_total", "counter",
         "Rate-limited responses sent truncated (TC=1) instead of dropped: every slip-th.");
  *o += slipped;
}

// DNS Cookies (RFC 7873) and the TCP limits (kernel listener and DPDK exception path), summed
// over the serving threads.
void CookiesAndTcp(std::string* o, const maps::ControlBlock& b, const maps::LcoreCounters& t) {
  const maps::LcoreCookies c = maps::SumCookies(b);
  Counter(o, "sextant_cookie_queries_total",
          "Queries that carried a well-formed DNS COOKIE option (RFC 7873).", c.seen);
  Counter(o, "sextant_cookie_valid_total",
          "Queries whose server cookie validated (such clients are exempt from rate limiting).",
          c.valid);
  Counter(o, "sextant_cookie_badcookie_total",
          "Queries answered BADCOOKIE (cookies.require and no valid server cookie).", c.badcookie);
  Family(o, "sextant_tcp_refused_total", "counter",
         "TCP connections refused by a limit: over max_connections_per_client, or at a "
         "max_connections lowered below the connections open.");
  absl::StrAppend(o, "sextant_tcp_refused_total{reason=\"per_client\"} ", t.tcp_refused_per_client,
                  "\n");
  absl::StrAppend(o, "sextant_tcp_refused_total{reason=\"connection_limit\"} ", t.tcp_refused_full,
                  "\n");
  Family(o, "sextant_tcp_closed_total", "counter",
         "TCP connections closed by a limit: the one stalled longest, for a newcomer at "
         "max_connections (evicted); idle_timeout; query_timeout; after max_queries.");
  absl::StrAppend(o, "sextant_tcp_closed_total{reason=\"evicted\"} ", t.tcp_closed_evicted, "\n");
  absl::StrAppend(o, "sextant_tcp_closed_total{reason=\"idle_timeout\"} ", t.tcp_closed_idle, "\n");
  absl::StrAppend(o, "sextant_tcp_closed_total{reason=\"query_timeout\"} ", t.tcp_closed_slow,
                  "\n");
  absl::StrAppend(o, "sextant_tcp_closed_total{reason=\"max_queries\"} ", t.tcp_closed_spent, "\n");
}

// Geo and latency answers by the site they came from: slot 1 + member index (kMaxSiteSlots),
// labelled with the resource's and the datacenter's names from the active snapshot.
void GeoAnswers(std::string* o, const maps::LcoreAnswers& a, const maps::SnapshotReader& s) {
  Family(o, "sextant_geo_answers_total", "counter",
         "Answers of geo and latency resources by the datacenter whose records they carry.");
  const auto resources = s.section<maps::Resource>(maps::kResources);
  const auto members = s.section<maps::Member>(maps::kMembers);
  const auto geo_maps = s.section<maps::GeoMap>(maps::kGeoMaps);
  for (const maps::Resource& r : resources) {
    if ((r.kind != maps::kPolicyGeo && r.kind != maps::kPolicyLatency) ||
        r.count >= geo_maps.size())
      continue;
    const std::vector<absl::string_view> dcs =
        absl::StrSplit(SnapshotString(s, geo_maps[r.count].dc_names), ',');
    const std::string resource = LabelValue(SnapshotString(s, r.name));
    for (uint32_t k = 0; k < r.member_count; ++k) {
      const uint32_t m = r.member_first + k;
      if (m >= members.size() || m + 1 >= maps::kMaxSiteSlots) break;
      const uint16_t dc = members[m].weight;
      const std::string dc_name = dc < dcs.size() ? LabelValue(dcs[dc]) : absl::StrCat("dc", dc);
      absl::StrAppend(o, "sextant_geo_answers_total{resource=\"", resource, "\",datacenter=\"",
                      dc_name, "\"} ", a.site[m + 1], "\n");
    }
  }
}

// Members of resource `ri` that the dataplane may hand out now (up and not drained, by the
// health words), and all of them; a site's sub-resource counts its own members.
struct MemberCount {
  uint64_t up = 0, all = 0;
};
MemberCount CountMembers(const maps::ControlBlock& b, const maps::SnapshotReader& s, uint32_t ri,
                         int depth) {
  MemberCount c;
  const auto resources = s.section<maps::Resource>(maps::kResources);
  const auto members = s.section<maps::Member>(maps::kMembers);
  if (ri >= resources.size() || depth > 8) return c;
  const maps::Resource& r = resources[ri];
  for (uint32_t k = 0; k < r.member_count && r.member_first + k < members.size(); ++k) {
    const maps::Member& m = members[r.member_first + k];
    if (m.kind == maps::kMemberResource) {
      const MemberCount sub = CountMembers(b, s, m.ref, depth + 1);
      c.up += sub.up;
      c.all += sub.all;
      continue;
    }
    ++c.all;
    if (m.health == maps::kNone || m.health >= maps::kMaxHealthWords) {
      ++c.up;
      continue;
    }
    const uint32_t w = b.health[m.health].load(std::memory_order_relaxed);
    if ((w & maps::kHealthUp) && !(w & maps::kHealthDrained)) ++c.up;
  }
  return c;
}

// Per named resource: its members up and in all (geo and latency: over every site).
void ResourceMembers(std::string* o, const maps::ControlBlock& b, const maps::SnapshotReader& s) {
  const auto resources = s.section<maps::Resource>(maps::kResources);
  std::string up, all;
  for (uint32_t ri = 0; ri < resources.size(); ++ri) {
    const absl::string_view name = SnapshotString(s, resources[ri].name);
    if (name.empty()) continue;
    const MemberCount c = CountMembers(b, s, ri, 0);
    const std::string label = absl::StrCat("{resource=\"", LabelValue(name), "\"} ");
    absl::StrAppend(&up, "sextant_resource_members_up", label, c.up, "\n");
    absl::StrAppend(&all, "sextant_resource_members", label, c.all, "\n");
  }
  Family(o, "sextant_resource_members_up", "gauge",
         "Members of the resource the dataplane may hand out now (up and not drained).");
  *o += up;
  Family(o, "sextant_resource_members", "gauge", "Members of the resource (over every site).");
  *o += all;
}

void Answers(std::string* o, const maps::ControlBlock& b, const maps::SnapshotReader* snap) {
  maps::LcoreAnswers a;
  maps::SumAnswers(b, &a);
  Family(o, "sextant_responses_by_qtype_total", "counter",
         "Responses by the question's type (common types; the rest as \"other\").");
  for (uint32_t k = 0; k < maps::kQtypeSlots; ++k) {
    absl::StrAppend(o, "sextant_responses_by_qtype_total{qtype=\"", kQtypeNames[k], "\"} ",
                    a.qtype[k], "\n");
  }
  if (snap == nullptr) return;
  GeoAnswers(o, a, *snap);
  ResourceMembers(o, b, *snap);
}

void Lcores(std::string* o, const maps::ControlBlock& b) {
  Family(o, "sextant_snapshot_generation", "gauge",
         "Snapshot generation published in the control block (the one dataplanes load).");
  absl::StrAppend(o, "sextant_snapshot_generation ",
                  b.hdr.active_generation.load(std::memory_order_acquire), "\n");
  Family(o, "sextant_lcore_snapshot_generation", "gauge",
         "Snapshot generation each serving lcore (or kernel-mode thread) answers from.");
  for (uint32_t i = 0; i < maps::kMaxLcores; ++i) {
    const maps::LcoreCounters& c = b.lcores[i];
    if (c.rx_packets == 0 && c.queries == 0 && c.generation == 0) continue;
    absl::StrAppend(o, "sextant_lcore_snapshot_generation{lcore=\"", i, "\"} ",
                    maps::CounterLoad(c.generation), "\n");
  }
  Family(o, "sextant_dataplanes_attached", "gauge",
         "sextant-dataplane processes attached to the control block and alive.");
  absl::StrAppend(o, "sextant_dataplanes_attached ", maps::AttachedDataplanes(b).size(), "\n");
  const int64_t beat =
      static_cast<int64_t>(b.hdr.control_heartbeat_unix_ms.load(std::memory_order_relaxed));
  Family(o, "sextant_control_heartbeat_timestamp_seconds", "gauge",
         "When sextant-control last marked itself alive in the control block.");
  absl::StrAppendFormat(o, "sextant_control_heartbeat_timestamp_seconds %.3f\n", beat / 1000.0);
}

// One family of the ports' statistics: `field` of every published port.
template <typename F>
void PortFamily(std::string* o, const maps::ControlBlock& b, const char* name, const char* type,
                const char* help, F field) {
  Family(o, name, type, help);
  for (const maps::PortStats& p : b.ports) {
    if (p.updated_unix_ms.load(std::memory_order_acquire) == 0) continue;
    absl::StrAppend(o, name, "{port=\"", LabelValue(p.name), "\"} ", field(p), "\n");
  }
}

// One per-queue family: `field`[q] of every published port's queues.
template <typename F>
void QueueFamily(std::string* o, const maps::ControlBlock& b, const char* name, const char* help,
                 F field) {
  Family(o, name, "counter", help);
  for (const maps::PortStats& p : b.ports) {
    if (p.updated_unix_ms.load(std::memory_order_acquire) == 0) continue;
    for (uint64_t q = 0; q < p.queues && q < maps::kMaxPortQueues; ++q) {
      absl::StrAppend(o, name, "{port=\"", LabelValue(p.name), "\",queue=\"", q, "\"} ",
                      field(p)[q], "\n");
    }
  }
}

void Ports(std::string* o, const maps::ControlBlock& b) {
  using P = maps::PortStats;
  PortFamily(o, b, "sextant_nic_link_up", "gauge", "1 while the DPDK port's link is up.",
             [](const P& p) { return p.link_up; });
  PortFamily(o, b, "sextant_nic_link_speed_bytes_per_second", "gauge",
             "The DPDK port's link speed (0: unknown).",
             [](const P& p) { return p.link_speed_mbps * 125000; });
  PortFamily(o, b, "sextant_nic_received_packets_total", "counter",
             "Packets the DPDK port received.", [](const P& p) { return p.ipackets; });
  PortFamily(o, b, "sextant_nic_transmitted_packets_total", "counter",
             "Packets the DPDK port sent.", [](const P& p) { return p.opackets; });
  PortFamily(o, b, "sextant_nic_received_bytes_total", "counter", "Bytes the DPDK port received.",
             [](const P& p) { return p.ibytes; });
  PortFamily(o, b, "sextant_nic_transmitted_bytes_total", "counter", "Bytes the DPDK port sent.",
             [](const P& p) { return p.obytes; });
  PortFamily(o, b, "sextant_nic_missed_packets_total", "counter",
             "Packets the NIC dropped for want of a free RX descriptor (imissed).",
             [](const P& p) { return p.imissed; });
  PortFamily(o, b, "sextant_nic_receive_errors_total", "counter",
             "Erroneous packets received (ierrors).", [](const P& p) { return p.ierrors; });
  PortFamily(o, b, "sextant_nic_transmit_errors_total", "counter",
             "Packets the port failed to send (oerrors).", [](const P& p) { return p.oerrors; });
  PortFamily(o, b, "sextant_nic_rx_mbuf_allocation_failures_total", "counter",
             "RX mbuf allocation failures (rx_nombuf).", [](const P& p) { return p.rx_nombuf; });
  PortFamily(o, b, "sextant_nic_stats_timestamp_seconds", "gauge",
             "When the dataplane's main lcore last copied the port's statistics.",
             [](const P& p) { return absl::StrFormat("%.3f", p.updated_unix_ms.load() / 1000.0); });
  QueueFamily(o, b, "sextant_nic_queue_received_packets_total",
              "Packets received per RX queue, as the driver counts them.",
              [](const P& p) { return p.q_ipackets; });
  QueueFamily(o, b, "sextant_nic_queue_transmitted_packets_total",
              "Packets sent per TX queue, as the driver counts them.",
              [](const P& p) { return p.q_opackets; });
}

}  // namespace

const char* QtypeSlotName(uint32_t slot) {
  return kQtypeNames[slot < maps::kQtypeSlots ? slot : maps::kQtypeSlots - 1];
}

std::string DataplaneMetricsText(const maps::ControlBlock& block,
                                 const maps::SnapshotReader* snap) {
  int lcores = 0;
  const maps::LcoreCounters total = maps::SumLcores(block, &lcores);
  std::string o;
  AppendBuildInfo(&o, "exporter");
  Lcores(&o, block);
  Totals(&o, total, lcores);
  RateLimited(&o, block);
  CookiesAndTcp(&o, block, total);
  Answers(&o, block, snap);
  Ports(&o, block);
  return o;
}

}  // namespace sextant::exporter
