// /metrics: the exposition text from a control block and the daemon's state, served over real
// HTTP on loopback (MetricsServer) and fetched with libcurl.
#include "control/daemon/metrics.h"

#include <curl/curl.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>

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
    block->lcores[3].rx_packets = 11;
    block->lcores[3].tx_packets = 11;
    block->lcores[3].queries = 11;
    block->lcores[3].rcode[0] = 10;
    block->lcores[3].rcode[5] = 1;
    block->lcores[3].truncated = 2;
    d.reloads_ok = 7;
    d.reloads_refused = 1;
    d.last_reload_unix_ms = 1700000000000;
    d.targets.push_back({"web1", "dc-a", maps::kHealthUp, 12, 1500});
    d.targets.push_back({"web2", "dc-a", maps::kHealthForced, 3, -1});  // forced down
    d.targets.push_back(
        {"web\"3", "dc-b", maps::kHealthUp | maps::kHealthDrained | maps::kHealthForced, 0, -1});
  }
  std::unique_ptr<maps::ControlBlock> block;
  DaemonMetrics d;
};

TEST(Metrics, SumsTheDataplaneAndShowsEveryTarget) {
  Fixture f;
  const std::string t = MetricsText(*f.block, f.d);
  for (const char* line : {
           "sextant_snapshot_generation 42\n",
           "sextant_dataplane_lcores 2\n",
           "sextant_packets_total{direction=\"rx\"} 31\n",
           "sextant_packets_total{direction=\"tx\"} 30\n",
           "sextant_queries_total 30\n",
           "sextant_responses_total{rcode=\"NOERROR\"} 25\n",
           "sextant_responses_total{rcode=\"NXDOMAIN\"} 4\n",
           "sextant_responses_total{rcode=\"REFUSED\"} 1\n",
           "sextant_responses_total{rcode=\"SERVFAIL\"} 0\n",
           "sextant_truncated_total 2\n",
           "sextant_dropped_total{reason=\"malformed\"} 1\n",
           "sextant_control_heartbeat_timestamp_seconds 1700000000.500\n",
           "sextant_reloads_total{result=\"ok\"} 7\n",
           "sextant_reloads_total{result=\"refused\"} 1\n",
           "sextant_target_up{target=\"web1\",datacenter=\"dc-a\"} 1\n",
           "sextant_target_up{target=\"web2\",datacenter=\"dc-a\"} 0\n",
           "sextant_target_forced{target=\"web2\",datacenter=\"dc-a\"} 1\n",
           // Drained: handed out by nobody, so not "up" for the dataplane; the quote escaped.
           "sextant_target_up{target=\"web\\\"3\",datacenter=\"dc-b\"} 0\n",
           "sextant_target_drained{target=\"web\\\"3\",datacenter=\"dc-b\"} 1\n",
           "sextant_health_checks_total{target=\"web1\",datacenter=\"dc-a\"} 12\n",
           "sextant_health_check_latency_seconds{target=\"web1\",datacenter=\"dc-a\"} 0.001500\n",
           "# TYPE sextant_queries_total counter\n",
       }) {
    EXPECT_THAT(t, HasSubstr(line));
  }
  // No latency for a target that has no check result yet.
  EXPECT_THAT(t, Not(HasSubstr("sextant_health_check_latency_seconds{target=\"web2\"")));
}

TEST(Metrics, ServesTheTextOverHttpAndNothingElse) {
  Fixture f;
  int renders = 0;
  auto server = MetricsServer::Start("127.0.0.1", 0, [&] {
    ++renders;
    return MetricsText(*f.block, f.d);
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
