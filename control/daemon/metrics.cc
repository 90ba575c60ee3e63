#include "control/daemon/metrics.h"

#include <httplib.h>
#include <sys/socket.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "control/config/health_check.h"
#include "control/daemon/startup_checks.h"
#include "maps/dns/wire.h"

namespace sextant::control {
namespace {

// Label values are quoted strings: backslash, quote and newline escaped.
std::string Label(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

void Family(std::string* out, const char* name, const char* type, const char* help) {
  absl::StrAppend(out, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n");
}

// Counter slot 15 holds BADVERS (16), which has no slot of its own (maps/control_block.h).
std::string RcodeLabel(int slot) {
  return DnsRcodeName(static_cast<uint8_t>(slot == 15 ? maps::dns::kBadVers : slot));
}

constexpr const char* kDropNames[maps::kDropReasonCount] = {
    "malformed", "response", "no_snapshot", "not_ours", "tx_full", "other", "reason6", "reason7"};

}  // namespace

std::string MetricsText(const maps::ControlBlock& block, const DaemonMetrics& d) {
  int lcores = 0;
  const maps::LcoreCounters total = maps::SumLcores(block, &lcores);
  std::string o;
  Family(&o, "sextant_snapshot_generation", "gauge", "Snapshot generation the dataplane serves.");
  absl::StrAppend(&o, "sextant_snapshot_generation ",
                  block.hdr.active_generation.load(std::memory_order_acquire), "\n");
  Family(&o, "sextant_dataplane_lcores", "gauge", "Dataplane lcores that have counted anything.");
  absl::StrAppend(&o, "sextant_dataplane_lcores ", lcores, "\n");
  Family(&o, "sextant_packets_total", "counter", "Packets received and sent by the dataplane.");
  absl::StrAppend(&o, "sextant_packets_total{direction=\"rx\"} ", total.rx_packets, "\n");
  absl::StrAppend(&o, "sextant_packets_total{direction=\"tx\"} ", total.tx_packets, "\n");
  Family(&o, "sextant_queries_total", "counter", "DNS queries answered by the dataplane.");
  absl::StrAppend(&o, "sextant_queries_total ", total.queries, "\n");
  Family(&o, "sextant_responses_total", "counter", "Responses by rcode.");
  for (int k = 0; k < 16; ++k) {
    if (total.rcode[k] == 0 && k != 0 && k != 2 && k != 3 && k != 5) continue;
    absl::StrAppend(&o, "sextant_responses_total{rcode=\"", RcodeLabel(k), "\"} ", total.rcode[k],
                    "\n");
  }
  Family(&o, "sextant_truncated_total", "counter", "Responses sent with TC set.");
  absl::StrAppend(&o, "sextant_truncated_total ", total.truncated, "\n");
  Family(&o, "sextant_exception_packets_total", "counter",
         "Packets handed to the kernel exception path (TCP, non-DNS).");
  absl::StrAppend(&o, "sextant_exception_packets_total ", total.exception_packets, "\n");
  Family(&o, "sextant_dropped_total", "counter", "Packets dropped by the dataplane, by reason.");
  for (int k = 0; k < 6; ++k) {
    absl::StrAppend(&o, "sextant_dropped_total{reason=\"", kDropNames[k], "\"} ", total.dropped[k],
                    "\n");
  }
  const int64_t beat =
      static_cast<int64_t>(block.hdr.control_heartbeat_unix_ms.load(std::memory_order_relaxed));
  Family(&o, "sextant_control_heartbeat_timestamp_seconds", "gauge",
         "When sextant-control last marked itself alive.");
  absl::StrAppendFormat(&o, "sextant_control_heartbeat_timestamp_seconds %.3f\n", beat / 1000.0);
  Family(&o, "sextant_reloads_total", "counter", "Config and zone reloads, by result.");
  absl::StrAppend(&o, "sextant_reloads_total{result=\"ok\"} ", d.reloads_ok, "\n");
  absl::StrAppend(&o, "sextant_reloads_total{result=\"refused\"} ", d.reloads_refused, "\n");
  Family(&o, "sextant_last_reload_timestamp_seconds", "gauge", "When the last reload ran.");
  absl::StrAppendFormat(&o, "sextant_last_reload_timestamp_seconds %.3f\n",
                        d.last_reload_unix_ms / 1000.0);

  Family(&o, "sextant_target_up", "gauge",
         "1 when the dataplane hands the target out (up and not drained), as it reads the word.");
  std::string forced, drained, checks, latency;
  for (const DaemonMetrics::Target& t : d.targets) {
    const std::string labels =
        absl::StrCat("{target=\"", Label(t.name), "\",datacenter=\"", Label(t.datacenter), "\"}");
    const bool up = (t.word & maps::kHealthUp) && !(t.word & maps::kHealthDrained);
    absl::StrAppend(&o, "sextant_target_up", labels, " ", up ? 1 : 0, "\n");
    absl::StrAppend(&forced, "sextant_target_forced", labels, " ",
                    (t.word & maps::kHealthForced) ? 1 : 0, "\n");
    absl::StrAppend(&drained, "sextant_target_drained", labels, " ",
                    (t.word & maps::kHealthDrained) ? 1 : 0, "\n");
    absl::StrAppend(&checks, "sextant_health_checks_total", labels, " ", t.checks, "\n");
    if (t.last_latency_us >= 0) {
      absl::StrAppendFormat(&latency, "sextant_health_check_latency_seconds%s %.6f\n", labels,
                            t.last_latency_us / 1e6);
    }
  }
  Family(&o, "sextant_target_forced", "gauge", "1 while an operator override holds the target.");
  o += forced;
  Family(&o, "sextant_target_drained", "gauge", "1 while the target is drained.");
  o += drained;
  Family(&o, "sextant_health_checks_total", "counter", "Health checks run per target.");
  o += checks;
  Family(&o, "sextant_health_check_latency_seconds", "gauge",
         "Duration of the target's last health check.");
  o += latency;
  o += d.extra;
  return o;
}

absl::StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::Start(
    const std::string& host, int port, std::function<std::string()> render) {
  std::unique_ptr<MetricsServer> m(new MetricsServer());
  m->server_ = std::make_unique<httplib::Server>();
  // httplib's default also sets SO_REUSEPORT, which would let a second daemon on the same
  // address share the port silently (and take half the scrapes): only SO_REUSEADDR here.
  m->server_->set_socket_options([](int sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  m->server_->Get("/metrics",
                  [render = std::move(render)](const httplib::Request&, httplib::Response& res) {
                    res.set_content(render(), "text/plain; version=0.0.4; charset=utf-8");
                  });
  if (port == 0) {
    m->port_ = m->server_->bind_to_any_port(host);
  } else if (m->server_->bind_to_port(host, port)) {
    m->port_ = port;
  } else {
    m->port_ = -1;
  }
  if (m->port_ <= 0) {
    const std::string why = TcpBindProblem(host, port);
    return absl::UnavailableError(
        absl::StrCat("metrics: cannot listen on ", host, ":", port,
                     " (control.metrics): ", why.empty() ? "the HTTP server refused" : why));
  }
  m->thread_ = std::thread([s = m->server_.get()] { s->listen_after_bind(); });
  return m;
}

MetricsServer::~MetricsServer() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace sextant::control
