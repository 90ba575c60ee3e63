// sextantctl: the operator CLI. Thin: flags and wiring. Commands that steer or ask the daemon
// (status, health, force, release, reload) go over its control socket (control_socket.h);
// stats and explain read the shared memory directly (shm_reports.h, explain.h), so they work while
// control is down too.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "control/cli/explain.h"
#include "control/cli/shm_reports.h"
#include "control/config/config.h"
#include "control/daemon/control_socket.h"

int main(int argc, char** argv) {
  using namespace sextant::control;
  CLI::App app{"sextantctl: inspect and steer a running Sextant instance"};
  std::string instance, config_path, socket_path;
  app.add_option("--instance", instance, "instance name (default: from --config, else sextant)");
  app.add_option("--config,-c", config_path, "config file (for its instance name and socket)");
  app.add_option("--socket", socket_path, "control socket (default: from the config)");
  app.require_subcommand(1);
  bool json = false;
  auto* stats = app.add_subcommand("stats", "dataplane counters, summed and per lcore");
  stats->add_flag("--json", json, "machine-readable output");
  auto* status = app.add_subcommand("status", "the control daemon: generation, reloads, targets");
  status->add_flag("--json", json, "machine-readable output");
  auto* health = app.add_subcommand("health", "every target: state, since, last check, override");
  health->add_flag("--json", json, "machine-readable output");

  std::string state, name, duration;
  bool datacenter = false;
  auto* force = app.add_subcommand("force", "force a target (or a datacenter) up, down or drain");
  force->add_option("state", state)->required()->check(CLI::IsMember({"up", "down", "drain"}));
  force->add_option("name", name, "target, or datacenter with --datacenter")->required();
  force->add_flag("--datacenter", datacenter, "every target of datacenter NAME");
  force->add_option("--for", duration, "expire after this long (e.g. 90s, 10m, 2h)");
  auto* release = app.add_subcommand("release", "remove an override: the checks decide again");
  release->add_option("name", name)->required();
  release->add_flag("--datacenter", datacenter, "the datacenter's override");
  auto* reload = app.add_subcommand("reload", "re-read config and zones now (like SIGHUP)");

  std::string qname, type, client;
  auto* explain = app.add_subcommand("explain", "why NAME TYPE answers what it answers");
  explain->add_option("name", qname)->required();
  explain->add_option("type", type)->required();
  explain->add_option("--client", client,
                      "client address or prefix (sent as ECS, and as the packet source)");
  CLI11_PARSE(app, argc, argv);

  auto fail = [](const absl::Status& s) {
    std::fprintf(stderr, "sextantctl: %s\n", std::string(s.message()).c_str());
    return 1;
  };
  std::string default_socket;
  if (!config_path.empty()) {
    auto cfg = LoadConfig(config_path);
    if (!cfg.ok()) return fail(cfg.status());
    if (instance.empty()) instance = cfg->instance;
    default_socket = cfg->control.socket;
  }
  if (instance.empty()) instance = "sextant";
  if (socket_path.empty()) {
    socket_path =
        default_socket.empty() ? absl::StrCat("/run/sextant/", instance, ".sock") : default_socket;
  }
  auto ask = [&](const std::string& req) { return ControlRequest(socket_path, req); };

  absl::StatusOr<std::string> out = absl::UnknownError("no command");
  if (*stats) out = StatsReport(instance, json);
  if (*explain) out = Explain(instance, ExplainRequest{qname, type, client});
  if (*status) out = ask(json ? "status json" : "status");
  if (*reload) out = ask("reload");
  if (*health) {
    out = ask(json ? "health json" : "health");
    if (!out.ok() && absl::IsUnavailable(out.status())) {
      // Control is down: the words in shared memory are still the truth the dataplane serves.
      std::fprintf(stderr, "sextantctl: %s; showing the health words in shared memory\n",
                   std::string(out.status().message()).c_str());
      out = HealthReport(instance, json);
    }
  }
  if (*force) {
    std::string req = absl::StrCat("force ", state, datacenter ? " datacenter " : " target ", name);
    if (!duration.empty()) {
      auto ms = ParseDurationMs(duration);
      if (!ms.ok() || *ms == 0) return fail(absl::InvalidArgumentError("--for: " + duration));
      absl::StrAppend(&req, " ", *ms);
    }
    out = ask(req);
  }
  if (*release) out = ask(absl::StrCat("release", datacenter ? " datacenter " : " target ", name));
  if (!out.ok()) return fail(out.status());
  std::fputs(out->c_str(), stdout);
  return 0;
}
