// sextantctl: the operator CLI. Thin: flags and wiring; the commands live in operator.h.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "control/config.h"
#include "control/operator.h"

int main(int argc, char** argv) {
  using namespace sextant::control;
  CLI::App app{"sextantctl: inspect and steer a running Sextant instance"};
  std::string instance, config_path;
  app.add_option("--instance", instance, "instance name (default: from --config, else sextant)");
  app.add_option("--config,-c", config_path, "config file (for its instance name)");
  app.require_subcommand(1);
  bool json = false;
  auto* stats = app.add_subcommand("stats", "dataplane counters, summed and per lcore");
  stats->add_flag("--json", json, "machine-readable output");
  auto* health = app.add_subcommand("health", "every target and its health");
  health->add_flag("--json", json, "machine-readable output");
  std::string target, state;
  auto* set = app.add_subcommand("set-health", "write a target's health word now (up|down|drain)");
  set->add_option("target", target)->required();
  set->add_option("state", state)->required()->check(CLI::IsMember({"up", "down", "drain"}));
  std::string name, type, client;
  auto* explain = app.add_subcommand("explain", "why NAME TYPE answers what it answers");
  explain->add_option("name", name)->required();
  explain->add_option("type", type)->required();
  explain->add_option("--client", client, "client address (geo issue: prefixes too)");
  CLI11_PARSE(app, argc, argv);

  if (instance.empty()) {
    instance = "sextant";
    if (!config_path.empty()) {
      auto cfg = LoadConfig(config_path);
      if (!cfg.ok()) {
        std::fprintf(stderr, "sextantctl: %s\n", std::string(cfg.status().message()).c_str());
        return 1;
      }
      instance = cfg->instance;
    }
  }
  absl::StatusOr<std::string> out = absl::UnknownError("no command");
  if (*stats) out = StatsReport(instance, json);
  if (*health) out = HealthReport(instance, json);
  if (*explain) out = Explain(instance, name, type, client);
  if (*set) {
    absl::Status s = SetHealth(instance, target, state);
    out = s.ok() ? absl::StatusOr<std::string>(target + " " + state + "\n") : s;
  }
  if (!out.ok()) {
    std::fprintf(stderr, "sextantctl: %s\n", std::string(out.status().message()).c_str());
    return 1;
  }
  std::fputs(out->c_str(), stdout);
  return 0;
}
