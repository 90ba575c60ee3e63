// sextant-dataplane in kernel-socket mode: follows the snapshots sextant-control publishes and
// answers on ordinary UDP/TCP sockets. Only flag parsing and wiring live here.
//
// Built with exceptions (unlike the dataplane library): CLI11 and yaml-cpp report errors by
// throwing, and both are caught here, at start-up.

#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "dataplane/dpdk/dpdk_main.h"
#include "dataplane/kernel/kernel_listener.h"
#include "dataplane/snapshot_follower.h"
#include "maps/control_block.h"
#include "yaml-cpp/yaml.h"

namespace {

std::atomic<bool> g_stop{false};

void OnSignal(int) { g_stop.store(true, std::memory_order_relaxed); }

// The instance name from the config file's top-level `instance:` key ("sextant" when absent).
// Kept apart so it can move into a shared config library without touching the wiring below.
absl::StatusOr<std::string> ReadInstanceName(const std::string& path) {
  try {
    const YAML::Node root = YAML::LoadFile(path);
    if (!root || root.IsNull()) return std::string("sextant");
    if (!root.IsMap())
      return absl::InvalidArgumentError(absl::StrCat(path, ": not a YAML mapping"));
    const YAML::Node instance = root["instance"];
    if (!instance) return std::string("sextant");
    if (!instance.IsScalar() || instance.Scalar().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, " line ", instance.Mark().line + 1, ": instance must be a name"));
    }
    return instance.Scalar();
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", e.what()));
  }
}

int Fail(const std::string& message) {
  std::fprintf(stderr, "sextant-dataplane: %s\n", message.c_str());
  return 1;
}

std::string NoSnapshotMessage(const std::string& instance) {
  return absl::StrCat("no snapshot published for instance ", instance,
                      " yet; run sextant-control first or pass --wait");
}

}  // namespace

int main(int argc, char** argv) {
  namespace dp = sextant::dataplane;
  // `<EAL args> -- --config FILE` selects the DPDK mode; without "--" this is kernel-socket mode.
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--") return dp::DpdkMain(argc, argv);
  }
  namespace maps = sextant::maps;

  std::vector<std::string> listen;
  std::string config_path;
  std::string instance;
  int threads = 1;
  bool wait = false;
  CLI::App app{"sextant-dataplane: answers DNS from the snapshots sextant-control publishes"};
  app.add_option("--listen", listen,
                 "ADDR:PORT or [V6ADDR]:PORT to serve UDP and TCP on "
                 "(repeatable; default 127.0.0.1:5353)");
  app.add_option("--config", config_path, "YAML config; only its instance: key is read here");
  app.add_option("--instance", instance,
                 "instance name of the /dev/shm files (overrides the "
                 "config; default sextant)");
  app.add_option("--threads", threads, "UDP worker threads")
      ->check(CLI::Range(1, static_cast<int>(maps::kMaxLcores) - 1));
  app.add_flag("--wait", wait, "wait for sextant-control to publish a first snapshot");
  CLI11_PARSE(app, argc, argv);
  if (listen.empty()) listen.push_back("127.0.0.1:5353");
  if (instance.empty()) {
    instance = "sextant";
    if (!config_path.empty()) {
      absl::StatusOr<std::string> from_config = ReadInstanceName(config_path);
      if (!from_config.ok()) return Fail(std::string(from_config.status().message()));
      instance = *from_config;
    }
  }

  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  absl::StatusOr<std::unique_ptr<maps::ControlBlockMapping>> block =
      maps::ControlBlockMapping::Open(instance, /*create=*/false);
  if (!block.ok() && wait && absl::IsNotFound(block.status())) {
    std::printf("sextant-dataplane: waiting for sextant-control to create instance %s\n",
                instance.c_str());
    std::fflush(stdout);
    while (!block.ok() && absl::IsNotFound(block.status()) &&
           !g_stop.load(std::memory_order_relaxed)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      block = maps::ControlBlockMapping::Open(instance, /*create=*/false);
    }
    if (!block.ok() && g_stop.load()) return 0;
  }
  if (!block.ok()) {
    return Fail(absl::IsNotFound(block.status()) ? NoSnapshotMessage(instance)
                                                 : std::string(block.status().message()));
  }

  maps::ControlBlock* control = (*block)->get();
  dp::SnapshotFollower follower(instance, control);
  // Bind before loading, so that a taken port or a bad address is reported at once, even when
  // --wait will then sit waiting for the first snapshot.
  dp::ListenerOptions options;
  options.listen = listen;
  options.udp_threads = threads;
  absl::StatusOr<std::unique_ptr<dp::KernelListener>> listener =
      dp::KernelListener::Create(options, &follower, &control->lcores[0]);
  if (!listener.ok()) return Fail(std::string(listener.status().message()));

  if (absl::Status s = follower.LoadInitial(wait, &g_stop); !s.ok()) {
    if (g_stop.load()) return 0;
    // Nothing published at all is the common case and has one remedy; anything else (a corrupt
    // or foreign snapshot) is best described by the loader.
    return Fail(control->hdr.active_generation.load() == 0 ? NoSnapshotMessage(instance)
                                                           : std::string(s.message()));
  }
  follower.Start();

  control->hdr.dataplane_pid.store(static_cast<uint64_t>(getpid()));
  std::printf("sextant-dataplane: serving generation %llu on %s (udp+tcp)\n",
              static_cast<unsigned long long>(follower.generation()),
              absl::StrJoin((*listener)->bound_addresses(), ", ").c_str());
  std::fflush(stdout);

  absl::Status run = (*listener)->Run(g_stop);
  follower.Stop();
  control->hdr.dataplane_pid.store(0);
  if (!run.ok()) return Fail(std::string(run.message()));
  return 0;
}
