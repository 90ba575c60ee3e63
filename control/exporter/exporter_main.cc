// sextant-exporter: serves the dataplane's metrics (control/exporter/dataplane_metrics.h) over
// HTTP at /metrics, from shared memory alone, so that they stay scrapable while sextant-control is
// down or restarting. It maps the instance's control block (as sextantctl does) and the active
// snapshot (read-only), links only maps/ and cpp-httplib, and writes nothing to either.
//
//   sextant-exporter --instance sextant --listen 127.0.0.1:9154
#include <httplib.h>
#include <signal.h>
#include <sys/socket.h>

#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "CLI/CLI.hpp"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "control/exporter/dataplane_metrics.h"
#include "control/exporter/prom_text.h"
#include "maps/build_info.h"
#include "maps/control_block.h"
#include "maps/snapshot_reader.h"

namespace sextant::exporter {
namespace {

// What one scrape reads: the control block (mapped on the first scrape that finds it) and the
// active snapshot (re-opened when the generation moves). Scrapes take turns.
class Source {
 public:
  explicit Source(std::string instance) : instance_(std::move(instance)) {}

  std::string Render() {
    std::lock_guard<std::mutex> hold(mu_);
    if (block_ == nullptr) {
      auto opened = maps::ControlBlockMapping::Open(instance_, /*create=*/false);
      if (opened.ok()) block_ = *std::move(opened);
    }
    std::string o;
    Family(&o, "sextant_exporter_control_block_mapped", "gauge",
           "1 when sextant-exporter maps the instance's control block.");
    absl::StrAppend(&o, "sextant_exporter_control_block_mapped ", block_ ? 1 : 0, "\n");
    if (block_ == nullptr) return o;
    const uint64_t gen = (*block_)->hdr.active_generation.load(std::memory_order_acquire);
    if (gen != 0 && (snap_ == nullptr || snap_->generation() != gen)) {
      auto s = maps::SnapshotReader::OpenFile(maps::SnapshotPath(instance_, gen));
      snap_ = s.ok() ? *std::move(s) : nullptr;
    }
    return o + DataplaneMetricsText(*block_->get(), snap_.get());
  }

 private:
  std::mutex mu_;
  std::string instance_;
  std::unique_ptr<maps::ControlBlockMapping> block_;
  std::unique_ptr<maps::SnapshotReader> snap_;
};

bool SplitListen(const std::string& listen, std::string* host, int* port) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return false;
  *host = listen.substr(0, colon);
  if (host->size() >= 2 && host->front() == '[' && host->back() == ']') {
    *host = host->substr(1, host->size() - 2);
  }
  return absl::SimpleAtoi(listen.substr(colon + 1), port) && *port > 0 && *port < 65536;
}

int Serve(const std::string& instance, const std::string& listen) {
  std::string host;
  int port = 0;
  if (!SplitListen(listen, &host, &port)) {
    std::fprintf(stderr, "sextant-exporter: --listen %s: expected HOST:PORT\n", listen.c_str());
    return 2;
  }
  // SIGTERM and SIGINT are taken by sigwait below; every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  Source source(instance);
  httplib::Server server;
  server.set_socket_options([](int sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  server.Get("/metrics", [&source](const httplib::Request&, httplib::Response& res) {
    res.set_content(source.Render(), kMetricsContentType);
  });
  if (!server.bind_to_port(host, port)) {
    std::fprintf(stderr, "sextant-exporter: cannot listen on %s\n", listen.c_str());
    return 1;
  }
  std::thread http([&server] { server.listen_after_bind(); });
  std::fprintf(stderr, "sextant-exporter: serving /metrics of instance %s on %s\n",
               instance.c_str(), listen.c_str());
  int sig = 0;
  sigwait(&signals, &sig);
  server.stop();
  http.join();
  return 0;
}

}  // namespace
}  // namespace sextant::exporter

int main(int argc, char** argv) {  // NOLINT(bugprone-exception-escape)
  CLI::App app{"sextant-exporter: the dataplane's metrics from shared memory, for Prometheus"};
  app.set_version_flag("--version", sextant::maps::VersionLine("sextant-exporter"));
  std::string instance = "sextant", listen = "127.0.0.1:9154";
  app.add_option("--instance", instance, "shared-memory instance name")->capture_default_str();
  app.add_option("--listen", listen, "HOST:PORT to serve /metrics on")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  return sextant::exporter::Serve(instance, listen);
}
