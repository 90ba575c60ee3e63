// Prometheus metrics for sextant-control: what the dataplane counts (the control block's
// per-lcore counters, summed), what the daemon knows (snapshot generation, reloads, the health
// of every target as the dataplane reads it, checks run), in the text exposition format, served
// over HTTP at /metrics (cpp-httplib, on its own thread) when `control.metrics` is set.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "maps/control_block.h"

namespace httplib {
class Server;
}

namespace sextant::control {

// The daemon's side of the metrics, gathered under its lock for one scrape.
struct DaemonMetrics {
  uint64_t reloads_ok = 0;
  uint64_t reloads_refused = 0;
  int64_t last_reload_unix_ms = 0;
  struct Target {
    std::string name;
    std::string datacenter;
    uint32_t word = 0;  // the health word as the dataplane reads it (maps::kHealth* bits)
    uint64_t checks = 0;
    int64_t last_latency_us = -1;  // -1 = no check result yet
  };
  std::vector<Target> targets;
  std::string extra;  // families of other parts (the fleet's), already in exposition format
};

// The exposition text: dataplane counters from `block` (summed over lcores, read without
// stopping them, as `sextantctl stats` does), then the daemon's.
std::string MetricsText(const maps::ControlBlock& block, const DaemonMetrics& daemon);

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
