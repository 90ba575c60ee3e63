#include "control/daemon/metrics.h"

#include <httplib.h>
#include <sys/socket.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "control/daemon/startup_checks.h"
#include "control/exporter/prom_text.h"
#include "maps/control_block.h"

namespace sextant::control {
namespace {

using exporter::Family;
using exporter::LabelValue;

void Reloads(std::string* o, const DaemonMetrics& d) {
  Family(o, "sextant_published_snapshot_generation", "gauge",
         "Snapshot generation sextant-control last published.");
  absl::StrAppend(o, "sextant_published_snapshot_generation ", d.generation, "\n");
  Family(o, "sextant_reloads_total", "counter", "Config and zone reloads, by result.");
  absl::StrAppend(o, "sextant_reloads_total{result=\"ok\"} ", d.reloads_ok, "\n");
  absl::StrAppend(o, "sextant_reloads_total{result=\"refused\"} ", d.reloads_refused, "\n");
  Family(o, "sextant_last_reload_timestamp_seconds", "gauge",
         "When the last reload ran, whatever its outcome.");
  absl::StrAppendFormat(o, "sextant_last_reload_timestamp_seconds %.3f\n",
                        d.last_reload_unix_ms / 1000.0);
  Family(o, "sextant_last_successful_reload_timestamp_seconds", "gauge",
         "When a reload last published a snapshot (0: none yet).");
  absl::StrAppendFormat(o, "sextant_last_successful_reload_timestamp_seconds %.3f\n",
                        d.last_ok_reload_unix_ms / 1000.0);
  Family(o, "sextant_last_refused_reload_timestamp_seconds", "gauge",
         "When a reload was last refused (0: never); the old snapshot kept serving.");
  absl::StrAppendFormat(o, "sextant_last_refused_reload_timestamp_seconds %.3f\n",
                        d.last_refused_reload_unix_ms / 1000.0);
  Family(o, "sextant_last_reload_success", "gauge", "1 when the last reload published, else 0.");
  absl::StrAppend(o, "sextant_last_reload_success ",
                  d.last_ok_reload_unix_ms >= d.last_refused_reload_unix_ms ? 1 : 0, "\n");
}

void GeoMaps(std::string* o, const DaemonMetrics& d) {
  Family(o, "sextant_geo_map_database_build_timestamp_seconds", "gauge",
         "Build date of the MaxMind database the live geo map was compiled from (0: none).");
  for (const GeoMapBuilt& g : d.geo_maps) {
    absl::StrAppend(o, "sextant_geo_map_database_build_timestamp_seconds{map=\"",
                    LabelValue(g.name), "\"} ", g.build_epoch, "\n");
  }
  Family(o, "sextant_geo_map_networks", "gauge",
         "Networks (IPv4 and IPv6, after merging) the live geo map's table encodes.");
  for (const GeoMapBuilt& g : d.geo_maps) {
    absl::StrAppend(o, "sextant_geo_map_networks{map=\"", LabelValue(g.name), "\"} ", g.networks,
                    "\n");
  }
}

// Which zones and maps the last reload refused (each serving its last good version, or left
// out), and which maps it reused.
void Inputs(std::string* o, const DaemonMetrics& d) {
  auto refused = [&](InputRefusal::Kind kind, const std::string& name) {
    for (const InputRefusal& r : d.refusals) {
      if (r.kind == kind && r.name == name) return 1;
    }
    return 0;
  };
  Family(o, "sextant_zone_refused", "gauge",
         "1 when the last reload could not load the zone (its last good version is served, or "
         "none; the reason is in the log and sextantctl status).");
  for (const std::string& z : d.zones) {
    absl::StrAppend(o, "sextant_zone_refused{zone=\"", LabelValue(z), "\"} ",
                    refused(InputRefusal::Kind::kZone, z), "\n");
  }
  Family(o, "sextant_geo_map_refused", "gauge",
         "1 when the last reload could not compile the geo map (its last good version is "
         "served; the reason is in the log and sextantctl status).");
  for (const GeoMapOutcome& g : d.geo_outcomes) {
    absl::StrAppend(o, "sextant_geo_map_refused{map=\"", LabelValue(g.name), "\"} ",
                    refused(InputRefusal::Kind::kGeoMap, g.name), "\n");
  }
  Family(o, "sextant_geo_map_reused", "gauge",
         "1 when the last reload reused the geo map as its inputs had not changed.");
  for (const GeoMapOutcome& g : d.geo_outcomes) {
    absl::StrAppend(o, "sextant_geo_map_reused{map=\"", LabelValue(g.name), "\"} ",
                    g.source == GeoMapSource::kReused ? 1 : 0, "\n");
  }
  Family(o, "sextant_geo_map_compile_seconds", "gauge",
         "How long the last reload spent compiling the geo map (0 when reused).");
  for (const GeoMapOutcome& g : d.geo_outcomes) {
    absl::StrAppendFormat(o, "sextant_geo_map_compile_seconds{map=\"%s\"} %.3f\n",
                          LabelValue(g.name), g.compile_ms / 1000.0);
  }
}

// The check latency histogram of one target (cumulative buckets, as Prometheus wants them).
void LatencyHistogram(std::string* o, const std::string& target, const TargetHealth& t) {
  uint64_t cumulative = 0;
  for (size_t b = 0; b <= kCheckLatencyBucketCount; ++b) {
    cumulative += t.latency.buckets[b];
    const std::string le =
        b < kCheckLatencyBucketCount ? absl::StrCat(kCheckLatencyBuckets[b]) : "+Inf";
    absl::StrAppend(o, "sextant_health_check_duration_seconds_bucket{target=\"", target, "\",le=\"",
                    le, "\"} ", cumulative, "\n");
  }
  absl::StrAppendFormat(o, "sextant_health_check_duration_seconds_sum{target=\"%s\"} %.6f\n",
                        target, t.latency.sum_s);
  absl::StrAppend(o, "sextant_health_check_duration_seconds_count{target=\"", target, "\"} ",
                  t.latency.count, "\n");
}

// Each target family's lines, built in one pass over the targets.
struct TargetLines {
  std::string up, forced, drained, checks, flaps, latency, histogram;
};

void Targets(std::string* o, const DaemonMetrics& d) {
  TargetLines l;
  for (const DaemonMetrics::Target& t : d.targets) {
    const std::string name = LabelValue(t.health.name);
    const std::string labels = absl::StrCat("{target=\"", name, "\",datacenter=\"",
                                            LabelValue(t.health.datacenter), "\"}");
    const bool up = (t.word & maps::kHealthUp) && !(t.word & maps::kHealthDrained);
    absl::StrAppend(&l.up, "sextant_target_up", labels, " ", up ? 1 : 0, "\n");
    absl::StrAppend(&l.forced, "sextant_target_forced", labels, " ",
                    (t.word & maps::kHealthForced) ? 1 : 0, "\n");
    absl::StrAppend(&l.drained, "sextant_target_drained", labels, " ",
                    (t.word & maps::kHealthDrained) ? 1 : 0, "\n");
    absl::StrAppend(&l.checks, "sextant_health_checks_total", labels, " ", t.health.checks, "\n");
    absl::StrAppend(&l.flaps, "sextant_target_flaps_total", labels, " ", t.health.flaps, "\n");
    if (t.health.has_result) {
      absl::StrAppendFormat(&l.latency, "sextant_health_check_latency_seconds%s %.6f\n", labels,
                            t.health.last_latency_us / 1e6);
    }
    LatencyHistogram(&l.histogram, name, t.health);
  }
  Family(o, "sextant_target_up", "gauge",
         "1 when the dataplane hands the target out (up and not drained), as it reads the word.");
  *o += l.up;
  Family(o, "sextant_target_forced", "gauge", "1 while an operator override holds the target.");
  *o += l.forced;
  Family(o, "sextant_target_drained", "gauge", "1 while the target is drained.");
  *o += l.drained;
  Family(o, "sextant_health_checks_total", "counter", "Health checks run per target.");
  *o += l.checks;
  Family(o, "sextant_target_flaps_total", "counter",
         "Changes of the checks' verdict (up, down, drained) per target.");
  *o += l.flaps;
  Family(o, "sextant_health_check_latency_seconds", "gauge",
         "Duration of the target's last health check.");
  *o += l.latency;
  Family(o, "sextant_health_check_duration_seconds", "histogram",
         "Duration of the target's health checks.");
  *o += l.histogram;
}

}  // namespace

std::string MetricsText(const DaemonMetrics& d) {
  std::string o;
  exporter::AppendBuildInfo(&o, "control");
  Reloads(&o, d);
  GeoMaps(&o, d);
  Inputs(&o, d);
  Targets(&o, d);
  o += d.extra;  // the fleet's families
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
                    res.set_content(render(), exporter::kMetricsContentType);
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
