// Prometheus metrics for sextant-control: what the daemon knows (its build, the generation it
// published, reloads and their outcome, the live geo maps, the health of every target as the
// dataplane reads it, checks run, their latency and flaps), in the text exposition format, served
// over HTTP at /metrics (cpp-httplib, on its own thread) when `control.metrics` is set. The
// dataplane's counters are sextant-exporter's (control/exporter/).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "control/compile/reload_inputs.h"
#include "control/geo/geo_compiler.h"
#include "control/health/health_state.h"
#include "maps/control_block.h"

namespace httplib {
class Server;
}

namespace sextant::control {

// The daemon's side of the metrics, gathered under its lock for one scrape.
struct DaemonMetrics {
  uint64_t reloads_ok = 0;
  uint64_t reloads_refused = 0;
  int64_t last_reload_unix_ms = 0;          // the last attempt, whatever its outcome
  int64_t last_ok_reload_unix_ms = 0;       // the last one published (0: none yet)
  int64_t last_refused_reload_unix_ms = 0;  // the last one refused (0: none)
  uint64_t generation = 0;                  // the generation control last published
  std::vector<GeoMapBuilt> geo_maps;        // of the published snapshot
  std::vector<std::string> zones;           // its zones' origins
  std::vector<InputRefusal> refusals;       // what its reload could not load
  std::vector<GeoMapOutcome> geo_outcomes;  // how it got each geo map
  struct Target {
    TargetHealth health;  // the table's row (checks, latency histogram, flaps)
    uint32_t word = 0;    // the health word as the dataplane reads it (maps::kHealth* bits)
  };
  std::vector<Target> targets;
  std::string extra;  // families of other parts (the fleet's), already in exposition format
};

// The exposition text of control's own families: build, reloads, geo maps, targets and their
// checks. The dataplane's families (counters in shared memory) are sextant-exporter's
// (control/exporter/dataplane_metrics.h), served while control is down too; no family is in both.
std::string MetricsText(const DaemonMetrics& daemon);

// An HTTP server answering GET /metrics with render()'s text (404 elsewhere). Stops, and joins
// its thread, when destroyed.
class MetricsServer {
 public:
  static absl::StatusOr<std::unique_ptr<MetricsServer>> Start(const std::string& host, int port,
                                                              std::function<std::string()> render);
  ~MetricsServer();
  int port() const { return port_; }

 private:
  MetricsServer() = default;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace sextant::control
