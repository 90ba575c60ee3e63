// sextant-control: the control-plane daemon (control/daemon/daemon.h): publishes snapshots for the
// dataplane, follows config and zone changes, runs health checks and serves sextantctl.
// `--once` publishes one snapshot and exits (refused while a daemon holds the instance);
// `--check` only validates. Thin: flags and wiring.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "control/compile/compiler.h"
#include "control/config/config.h"
#include "control/daemon/cookie_rotation.h"
#include "control/daemon/daemon.h"
#include "control/daemon/instance_lock.h"
#include "control/daemon/publisher.h"
#include "control/util/log.h"
#include "maps/build_info.h"

namespace {

using namespace sextant::control;

int Failed(absl::string_view prefix, const absl::Status& s) {
  std::fprintf(stderr, "sextant-control: %s%s\n", std::string(prefix).c_str(),
               std::string(s.message()).c_str());
  return 1;
}

// --check: the whole compilation, nothing published; warnings printed, not fatal.
int Check(const Config& config, const std::string& config_path) {
  CompileStats stats;
  auto blob = CompileSnapshot(config, 0, &stats);
  if (!blob.ok()) return Failed("", blob.status());
  for (const std::string& w : stats.warnings) {
    std::fprintf(stderr, "sextant-control: warning: %s\n", w.c_str());
  }
  std::printf("sextant-control: %s is valid: %s, %s, snapshot %s\n", config_path.c_str(),
              Plural(stats.zones, "zone").c_str(), Plural(stats.records, "record").c_str(),
              Plural(stats.bytes, "byte").c_str());
  return 0;
}

// --once: one publish, refused while a daemon holds the instance.
int Once(const Config& config) {
  // Held until exit: no daemon starts while this publishes, and none may be running now.
  auto lock = InstanceLock::Acquire(config.instance, InstanceRole::kOnce);
  if (!lock.ok()) return Failed("not published: ", lock.status());
  auto publisher = Publisher::Create(config.instance);
  if (!publisher.ok()) return Failed("", publisher.status());
  auto targets = (*publisher)->AssignTargets(config.policies);
  if (!targets.ok()) return Failed("", targets.status());
  CompileStats stats;
  auto gen = (*publisher)->Publish([&](uint64_t g) {
    return CompileSnapshot(config, g, &stats, &*targets);
  });
  if (!gen.ok()) return Failed("not published, still serving the previous state: ", gen.status());
  if (absl::Status s = (*publisher)->SaveTargets(*targets); !s.ok()) Failed("", s);
  // A DNS Cookie secret, when none is published yet or its rotation is due: no daemon rotates it
  // for a --once publisher.
  const auto rotated =
      RotateCookieSecretIfDue((*publisher)->block()->cookie_secrets,
                              absl::ToUnixMillis(absl::Now()), config.cookies.rotate_ms);
  if (!rotated.ok()) Failed("", rotated.status());
  std::printf("sextant-control: published generation %llu for instance %s: %s, %s, %s\n",
              static_cast<unsigned long long>(*gen), config.instance.c_str(),
              Plural(stats.zones, "zone").c_str(), Plural(stats.records, "record").c_str(),
              Plural(stats.bytes, "byte").c_str());
  return 0;
}

}  // namespace

// CLI11 reports bad flags by throwing, and its parse macro catches that; anything else that
// throws here (an allocation failure) ends the process with a message, as it should.
int main(int argc, char** argv) {  // NOLINT(bugprone-exception-escape)
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
  sextant::maps::InitLog("sextant-control", STDERR_FILENO, STDERR_FILENO);

  if (!check && !once) {
    auto daemon = ControlDaemon::Create(DaemonOptions{config_path, instance});
    if (!daemon.ok()) {
      LogLine(LogLevel::kError, absl::StrCat("not started: ", daemon.status().message()));
      return 1;
    }
    return (*daemon)->Run();
  }
  auto config = LoadConfig(config_path);
  if (!config.ok()) return Failed("", config.status());
  if (!instance.empty()) config->instance = instance;
  return check ? Check(*config, config_path) : Once(*config);
}
