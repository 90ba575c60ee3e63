// sextant-control: the control-plane daemon (control/daemon/daemon.h): publishes snapshots for the
// dataplane, follows config and zone changes, runs health checks and serves sextantctl.
// `--once` publishes one snapshot and exits (refused while a daemon holds the instance);
// `--check` only validates. Thin: flags and wiring.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "control/compile/compiler.h"
#include "control/config/config.h"
#include "control/daemon/daemon.h"
#include "control/daemon/instance_lock.h"
#include "control/daemon/publisher.h"
#include "control/util/log.h"
#include "maps/build_info.h"

// CLI11 reports bad flags by throwing, and its parse macro catches that; anything else that
// throws here (an allocation failure) ends the process with a message, as it should.
int main(int argc, char** argv) {  // NOLINT(bugprone-exception-escape)
  using namespace sextant::control;
  CLI::App app{"sextant-control: compiles zones and config into a snapshot and publishes it"};
  app.set_version_flag("--version", sextant::maps::VersionLine("sextant-control"));
  std::string config_path, instance;
  bool check = false, once = false;
  app.add_option("--config,-c", config_path, "YAML configuration file")->required();
  app.add_flag("--check", check, "validate only; exit 0 when valid, 1 otherwise");
  app.add_flag("--once", once,
               "publish one snapshot and exit (no health checks, no socket); refused while a "
               "daemon runs for the instance");
  app.add_option("--instance", instance, "shared-memory instance name (overrides the config)");
  CLI11_PARSE(app, argc, argv);

  if (!check && !once) {
    auto daemon = ControlDaemon::Create(DaemonOptions{config_path, instance});
    if (!daemon.ok()) {
      LogLine(absl::StrCat("not started: ", daemon.status().message()));
      return 1;
    }
    return (*daemon)->Run();
  }

  auto config = LoadConfig(config_path);
  if (!config.ok()) {
    std::fprintf(stderr, "sextant-control: %s\n", std::string(config.status().message()).c_str());
    return 1;
  }
  if (!instance.empty()) config->instance = instance;
  CompileStats stats;
  if (check) {
    auto blob = CompileSnapshot(*config, 0, &stats);
    if (!blob.ok()) {
      std::fprintf(stderr, "sextant-control: %s\n", std::string(blob.status().message()).c_str());
      return 1;
    }
    for (const std::string& w : stats.warnings) {
      std::fprintf(stderr, "sextant-control: warning: %s\n", w.c_str());
    }
    std::printf("sextant-control: %s is valid: %s, %s, snapshot %s\n", config_path.c_str(),
                Plural(stats.zones, "zone").c_str(), Plural(stats.records, "record").c_str(),
                Plural(stats.bytes, "byte").c_str());
    return 0;
  }
  // Held until exit: no daemon starts while this publishes, and none may be running now.
  auto lock = InstanceLock::Acquire(config->instance, InstanceRole::kOnce);
  if (!lock.ok()) {
    std::fprintf(stderr, "sextant-control: not published: %s\n",
                 std::string(lock.status().message()).c_str());
    return 1;
  }
  auto publisher = Publisher::Create(config->instance);
  if (!publisher.ok()) {
    std::fprintf(stderr, "sextant-control: %s\n",
                 std::string(publisher.status().message()).c_str());
    return 1;
  }
  auto targets = (*publisher)->AssignTargets(config->policies);
  if (!targets.ok()) {
    std::fprintf(stderr, "sextant-control: %s\n", std::string(targets.status().message()).c_str());
    return 1;
  }
  auto gen = (*publisher)->Publish([&](uint64_t g) {
    return CompileSnapshot(*config, g, &stats, &*targets);
  });
  if (gen.ok()) {
    if (absl::Status s = (*publisher)->SaveTargets(*targets); !s.ok()) {
      std::fprintf(stderr, "sextant-control: %s\n", std::string(s.message()).c_str());
    }
  }
  if (!gen.ok()) {
    std::fprintf(stderr, "sextant-control: not published, still serving the previous state: %s\n",
                 std::string(gen.status().message()).c_str());
    return 1;
  }
  std::printf("sextant-control: published generation %llu for instance %s: %s, %s, %s\n",
              static_cast<unsigned long long>(*gen), config->instance.c_str(),
              Plural(stats.zones, "zone").c_str(), Plural(stats.records, "record").c_str(),
              Plural(stats.bytes, "byte").c_str());
  return 0;
}
