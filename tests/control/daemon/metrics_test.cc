// /metrics: the exposition text of the daemon's state (control) and of a control block
// (sextant-exporter's families), served over real HTTP on loopback (MetricsServer) and fetched
// with libcurl.
#include "control/daemon/metrics.h"

#include <curl/curl.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <string>

#include "control/exporter/dataplane_metrics.h"
#include "gmock/gmock.h"
#include "maps/control_block.h"

namespace sextant::control {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

size_t Append(char* p, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(p, size * n);
  return size * n;
}

// GET url; returns the HTTP status (0 when the request failed) and the body.
long Get(const std::string& url, std::string* body) {
  CURL* c = curl_easy_init();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, Append);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
  long status = 0;
  if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(c);
  return status;
}

struct Fixture {
  Fixture() : block(std::make_unique<maps::ControlBlock>()) {
    block->hdr.active_generation.store(42);
    block->hdr.control_heartbeat_unix_ms.store(1700000000500);
    // Two lcores' counters are summed; an idle lcore is not counted as one.
    block->lcores[0] = maps::LcoreCounters{};
    block->lcores[0].rx_packets = 20;
    block->lcores[0].tx_packets = 19;
    block->lcores[0].queries = 19;
    block->lcores[0].rcode[0] = 15;
    block->lcores[0].rcode[3] = 4;
    block->lcores[0].dropped[maps::kDropMalformed] = 1;
    block->lcores[0].generation = 42;
    block->lcores[3].rx_packets = 11;
    block->lcores[3].tx_packets = 11;
    block->lcores[3].queries = 11;
    block->lcores[3].rcode[0] = 10;
    block->lcores[3].rcode[5] = 1;
    block->lcores[3].truncated = 2;
    block->lcores[3].generation = 41;
    maps::CountCookie(block->cookies[0], true, true, false);
    maps::CountCookie(block->cookies[3], true, false, true);
    maps::CountCookie(block->cookies[3], true, false, false);
    // A TCP thread's slot (5) that refused and closed connections but answered nothing yet.
    block->lcores[5].tcp_refused_per_client = 6;
    block->lcores[5].tcp_refused_full = 1;
    block->lcores[5].tcp_closed_evicted = 2;
    block->lcores[5].tcp_closed_idle = 7;
    block->lcores[5].tcp_closed_slow = 3;
    block->lcores[5].tcp_closed_spent = 4;
    maps::CountAnswerSite(block->answers[0], 28, 0);   // AAAA
    maps::CountAnswerSite(block->answers[3], 28, 0);   // AAAA
    maps::CountAnswerSite(block->answers[3], 1, 0);    // A
    maps::CountAnswerSite(block->answers[3], 99, 0);   // other
    maps::CountAnswerSite(block->answers[3], 257, 0);  // CAA
    maps::PortStats& p = block->ports[0];
    std::snprintf(p.name, sizeof(p.name), "net_af_packet0");
    p.link_up = 1;
    p.link_speed_mbps = 10000;
    p.imissed = 3;
    p.rx_nombuf = 4;
    p.queues = 2;
    p.q_ipackets[1] = 9;
    p.updated_unix_ms.store(1700000001000);
    d.reloads_ok = 7;
    d.reloads_refused = 1;
    d.last_reload_unix_ms = 1700000000000;
    d.last_ok_reload_unix_ms = 1700000000000;
    d.last_refused_reload_unix_ms = 1690000000000;
    d.generation = 42;
    d.geo_maps.push_back({"world", "line", 1600000000, 1234});
    d.targets.push_back(Target("web1", "dc-a", maps::kHealthUp, 12, 1500));
    d.targets.push_back(Target("web2", "dc-a", maps::kHealthForced, 3, -1));  // forced down
    d.targets.push_back(Target(
        "web\"3", "dc-b", maps::kHealthUp | maps::kHealthDrained | maps::kHealthForced, 0, -1));
  }
  static DaemonMetrics::Target Target(const char* name, const char* dc, uint32_t word,
                                      uint64_t checks, int64_t latency_us) {
    DaemonMetrics::Target t;
    t.health.name = name;
    t.health.datacenter = dc;
    t.health.checks = checks;
    t.health.has_result = latency_us >= 0;
    t.health.last_latency_us = latency_us;
    if (latency_us >= 0) {
      t.health.latency.Observe(latency_us);
      t.health.latency.Observe(30000);
      t.health.flaps = 2;
    }
    t.word = word;
    return t;
  }
  std::unique_ptr<maps::ControlBlock> block;
  DaemonMetrics d;
};

// What the last reload refused alone and which maps it reused: a row per zone and per map, 1 or
// 0, so that an alert sees a refusal clear.
TEST(Metrics, ControlShowsRefusedZonesAndMapsAndReusedMaps) {
  Fixture f;
  f.d.zones = {"a.test.", "b.test."};
  f.d.refusals.push_back({InputRefusal::Kind::kZone, "b.test.", "line 7: bad", 1700000000000});
  f.d.refusals.push_back({InputRefusal::Kind::kGeoMap, "eu", "eu.mmdb: corrupt", 1700000000000});
  f.d.geo_outcomes = {{"world", GeoMapSource::kReused, 0}, {"eu", GeoMapSource::kLastGood, 1250}};
  const std::string t = MetricsText(f.d);
  for (const char* line : {
           "sextant_zone_refused{zone=\"a.test.\"} 0\n",
           "sextant_zone_refused{zone=\"b.test.\"} 1\n",
           "sextant_geo_map_refused{map=\"world\"} 0\n",
           "sextant_geo_map_refused{map=\"eu\"} 1\n",
           "sextant_geo_map_reused{map=\"world\"} 1\n",
           "sextant_geo_map_reused{map=\"eu\"} 0\n",
           "sextant_geo_map_compile_seconds{map=\"world\"} 0.000\n",
           "sextant_geo_map_compile_seconds{map=\"eu\"} 1.250\n",
       }) {
    EXPECT_THAT(t, HasSubstr(line));
  }
}

TEST(Metrics, ControlShowsReloadsGeoMapsAndEveryTarget) {
  Fixture f;
  const std::string t = MetricsText(f.d);
  for (const char* line : {
           "sextant_published_snapshot_generation 42\n",
           "sextant_reloads_total{result=\"ok\"} 7\n",
           "sextant_reloads_total{result=\"refused\"} 1\n",
           "sextant_last_successful_reload_timestamp_seconds 1700000000.000\n",
           "sextant_last_refused_reload_timestamp_seconds 1690000000.000\n",
           "sextant_last_reload_success 1\n",
           "sextant_geo_map_database_build_timestamp_seconds{map=\"world\"} 1600000000\n",
           "sextant_geo_map_networks{map=\"world\"} 1234\n",
           "sextant_target_up{target=\"web1\",datacenter=\"dc-a\"} 1\n",
           "sextant_target_up{target=\"web2\",datacenter=\"dc-a\"} 0\n",
           "sextant_target_forced{target=\"web2\",datacenter=\"dc-a\"} 1\n",
           // Drained: handed out by nobody, so not "up" for the dataplane; the quote escaped.
           "sextant_target_up{target=\"web\\\"3\",datacenter=\"dc-b\"} 0\n",
           "sextant_target_drained{target=\"web\\\"3\",datacenter=\"dc-b\"} 1\n",
           "sextant_health_checks_total{target=\"web1\",datacenter=\"dc-a\"} 12\n",
           "sextant_target_flaps_total{target=\"web1\",datacenter=\"dc-a\"} 2\n",
           "sextant_health_check_latency_seconds{target=\"web1\",datacenter=\"dc-a\"} 0.001500\n",
           // 1.5 ms and 30 ms: cumulative buckets.
           "sextant_health_check_duration_seconds_bucket{target=\"web1\",le=\"0.001\"} 0\n",
           "sextant_health_check_duration_seconds_bucket{target=\"web1\",le=\"0.0025\"} 1\n",
           "sextant_health_check_duration_seconds_bucket{target=\"web1\",le=\"0.025\"} 1\n",
           "sextant_health_check_duration_seconds_bucket{target=\"web1\",le=\"0.05\"} 2\n",
           "sextant_health_check_duration_seconds_bucket{target=\"web1\",le=\"+Inf\"} 2\n",
           "sextant_health_check_duration_seconds_sum{target=\"web1\"} 0.031500\n",
           "sextant_health_check_duration_seconds_count{target=\"web1\"} 2\n",
           "# TYPE sextant_health_check_duration_seconds histogram\n",
           "sextant_build_info{component=\"control\",version=\"",
       }) {
    EXPECT_THAT(t, HasSubstr(line));
  }
  // No latency for a target that has no check result yet; no dataplane family here.
  EXPECT_THAT(t, Not(HasSubstr("sextant_health_check_latency_seconds{target=\"web2\"")));
  EXPECT_THAT(t, Not(HasSubstr("sextant_queries_total")));
}

TEST(Metrics, ExporterSumsTheDataplane) {
  Fixture f;
  const std::string t = exporter::DataplaneMetricsText(*f.block, nullptr);
  for (const char* line : {
           "sextant_snapshot_generation 42\n",
           "sextant_lcore_snapshot_generation{lcore=\"0\"} 42\n",
           "sextant_lcore_snapshot_generation{lcore=\"3\"} 41\n",
           "sextant_dataplanes_attached 0\n",
           "sextant_dataplane_lcores 2\n",
           "sextant_packets_total{direction=\"rx\"} 31\n",
           "sextant_packets_total{direction=\"tx\"} 30\n",
           "sextant_queries_total 30\n",
           "sextant_responses_total{rcode=\"NOERROR\"} 25\n",
           "sextant_responses_total{rcode=\"NXDOMAIN\"} 4\n",
           "sextant_responses_total{rcode=\"REFUSED\"} 1\n",
           "sextant_responses_total{rcode=\"SERVFAIL\"} 0\n",
           "sextant_responses_by_qtype_total{qtype=\"AAAA\"} 2\n",
           "sextant_responses_by_qtype_total{qtype=\"A\"} 1\n",
           "sextant_responses_by_qtype_total{qtype=\"CAA\"} 1\n",
           "sextant_responses_by_qtype_total{qtype=\"other\"} 1\n",
           "sextant_truncated_total 2\n",
           "sextant_dropped_total{reason=\"malformed\"} 1\n",
           "sextant_dnstap_sampled_total 0\n",
           "sextant_cookie_queries_total 3\n",
           "sextant_cookie_valid_total 1\n",
           "sextant_cookie_badcookie_total 1\n",
           "# TYPE sextant_cookie_queries_total counter\n",
           "sextant_tcp_refused_total{reason=\"per_client\"} 6\n",
           "sextant_tcp_refused_total{reason=\"connection_limit\"} 1\n",
           "sextant_tcp_closed_total{reason=\"evicted\"} 2\n",
           "sextant_tcp_closed_total{reason=\"idle_timeout\"} 7\n",
           "sextant_tcp_closed_total{reason=\"query_timeout\"} 3\n",
           "sextant_tcp_closed_total{reason=\"max_queries\"} 4\n",
           "# HELP sextant_tcp_closed_total TCP connections closed by a limit",
           "sextant_control_heartbeat_timestamp_seconds 1700000000.500\n",
           "sextant_nic_link_up{port=\"net_af_packet0\"} 1\n",
           "sextant_nic_link_speed_bytes_per_second{port=\"net_af_packet0\"} 1250000000\n",
           "sextant_nic_missed_packets_total{port=\"net_af_packet0\"} 3\n",
           "sextant_nic_rx_mbuf_allocation_failures_total{port=\"net_af_packet0\"} 4\n",
           "sextant_nic_queue_received_packets_total{port=\"net_af_packet0\",queue=\"1\"} 9\n",
           "sextant_build_info{component=\"exporter\",version=\"",
           "# TYPE sextant_queries_total counter\n",
       }) {
    EXPECT_THAT(t, HasSubstr(line));
  }
  // Unused port slots say nothing.
  EXPECT_THAT(t, Not(HasSubstr("queue=\"2\"")));
}

TEST(Metrics, ServesTheTextOverHttpAndNothingElse) {
  Fixture f;
  int renders = 0;
  auto server = MetricsServer::Start("127.0.0.1", 0, [&] {
    ++renders;
    return exporter::DataplaneMetricsText(*f.block, nullptr);
  });
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string base = "http://127.0.0.1:" + std::to_string((*server)->port());
  std::string body;
  EXPECT_EQ(Get(base + "/metrics", &body), 200);
  EXPECT_THAT(body, HasSubstr("sextant_queries_total 30\n"));
  // Each scrape renders afresh: a counter that moved shows at once.
  f.block->lcores[0].queries += 5;
  body.clear();
  EXPECT_EQ(Get(base + "/metrics", &body), 200);
  EXPECT_THAT(body, HasSubstr("sextant_queries_total 35\n"));
  EXPECT_EQ(renders, 2);
  body.clear();
  EXPECT_EQ(Get(base + "/", &body), 404);
  // A port in use is refused with a message naming the setting.
  auto second = MetricsServer::Start("127.0.0.1", (*server)->port(), [] { return ""; });
  ASSERT_FALSE(second.ok());
  EXPECT_THAT(std::string(second.status().message()), HasSubstr("control.metrics"));
  // Stopping closes the port.
  server->reset();
  body.clear();
  EXPECT_EQ(Get(base + "/metrics", &body), 0);
}

}  // namespace
}  // namespace sextant::control
