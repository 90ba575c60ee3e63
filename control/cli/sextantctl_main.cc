// sextantctl: the operator CLI. Thin: flags and wiring. Commands that steer or ask the daemon
// (status, health, force, release, reload) go over its control socket (control_socket.h), found
// through the instance's control block, where the daemon records it; stats, dump and explain read
// the shared memory directly (shm_reports.h, dump_report.h, explain.h), so they work while
// control is down too.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <optional>
#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "control/cli/completions.h"
#include "control/cli/dump_report.h"
#include "control/cli/explain.h"
#include "control/cli/running_config.h"
#include "control/cli/shm_reports.h"
#include "control/config/config.h"
#include "control/daemon/control_command.h"
#include "control/daemon/control_socket.h"
#include "control/daemon/instance_lock.h"
#include "control/fleet/bundle.h"
#include "control/fleet/fleet_overrides.h"
#include "control/health/health_state.h"
#include "maps/build_info.h"
#include "maps/control_block.h"
#include "maps/status_macros.h"

namespace {

using namespace sextant::control;  // NOLINT: the CLI wires the control plane's commands

// The command line, as CLI11 fills it.
struct Args {
  std::string instance, config_path, socket_path;
  std::string timeout = "120s";
  bool json = false;
  std::string state, name, duration;  // force / release
  bool datacenter = false;
  bool fleet = false;               // force, release, health: the fleet's (etcd), not this node's
  std::string qname, type, client;  // explain
  bool watch = false;               // stats --watch
  std::string interval = "1s";
  uint64_t count = 0;
  std::string complete_kind;  // the hidden `complete` (bash completion)
  std::string bundle_dir;     // fleet publish
  CLI::App* stats = nullptr;
  CLI::App* status = nullptr;
  CLI::App* health = nullptr;
  CLI::App* force = nullptr;
  CLI::App* release = nullptr;
  CLI::App* reload = nullptr;
  CLI::App* explain = nullptr;
  CLI::App* dump = nullptr;
  CLI::App* complete = nullptr;
  CLI::App* fleet_cmd = nullptr;
  CLI::App* fleet_status = nullptr;
  CLI::App* fleet_publish = nullptr;
};

std::string PositiveDuration(const std::string& t) {
  const absl::StatusOr<uint64_t> ms = ParseDurationMs(t);
  return ms.ok() && *ms > 0 ? std::string() : std::string(ms.status().message());
}

// Names travel as one word of a request line (control_command.h).
std::string ProtocolName(const std::string& name) {
  return IsProtocolName(name) ? std::string()
                              : "a target or datacenter name has no spaces or control characters";
}

void AddCommands(CLI::App& app, Args& a) {
  app.add_option("--instance", a.instance, "instance name (default: from --config, else sextant)");
  app.add_option("--config,-c", a.config_path, "config file (for its instance name and socket)");
  app.add_option("--socket", a.socket_path,
                 "control socket (default: where the instance's daemon recorded it, else from "
                 "the config)");
  app.add_option("--timeout", a.timeout,
                 "how long to wait for sextant-control's answer: a number with ms, s, m or h; a "
                 "bare number is seconds (default 120s: a reload compiles before it answers)")
      ->check(PositiveDuration);
  app.require_subcommand(1);
  a.stats = app.add_subcommand("stats", "dataplane counters, summed and per lcore");
  a.status = app.add_subcommand("status", "the control daemon: generation, reloads, targets");
  a.health = app.add_subcommand("health", "every target: state, since, last check, override");
  a.dump = app.add_subcommand("dump", "what is served: zones, resources, geo maps, targets");
  for (CLI::App* c : {a.stats, a.status, a.health, a.dump}) {
    c->add_flag("--json", a.json, "machine-readable output (schemas: sextantctl(8))");
  }
  CLI::Option* watch =
      a.stats->add_flag("--watch", a.watch, "rates per second, refreshed like top");
  a.stats
      ->add_option("--interval", a.interval,
                   "--watch: seconds between refreshes, or a number with ms, s, m (default 1s)")
      ->check(PositiveDuration)
      ->needs(watch);
  a.stats->add_option("--count", a.count, "--watch: stop after N refreshes (default: never)")
      ->needs(watch);
  // For the bash completion (packaging/sextantctl.bash-completion): names, one a line.
  a.complete = app.add_subcommand("complete", "")->group("");
  a.complete->add_option("kind", a.complete_kind, "targets, datacenters, resources or names")
      ->required();
  a.force = app.add_subcommand("force", "force a target (or a datacenter) up, down or drain");
  a.force->add_option("state", a.state)->required()->check([](const std::string& s) {
    const absl::StatusOr<ForcedState> f = ParseForcedState(s);
    return f.ok() ? std::string() : std::string(f.status().message());
  });
  a.force->add_option("name", a.name, "target, or datacenter with --datacenter")
      ->required()
      ->check(ProtocolName);
  a.force->add_flag("--datacenter", a.datacenter, "every target of datacenter NAME");
  a.force->add_option("--for", a.duration,
                      "expire after this long: a number with ms, s, m or h (90s, 10m, 2h); a "
                      "bare number is seconds");
  a.release = app.add_subcommand("release", "remove an override: the checks decide again");
  a.release->add_option("name", a.name)->required()->check(ProtocolName);
  a.release->add_flag("--datacenter", a.datacenter, "the datacenter's override");
  a.force->add_flag("--fleet", a.fleet,
                    "on every node of the fleet (etcd; --for expires in the store)");
  a.release->add_flag("--fleet", a.fleet, "the fleet-wide override");
  a.health->add_flag("--fleet", a.fleet, "per target: each node's vote, the quorum, the verdict");
  a.fleet_cmd = app.add_subcommand("fleet", "the fleet this node is part of (etcd)");
  a.fleet_cmd->require_subcommand(1);
  a.fleet_status = a.fleet_cmd->add_subcommand("status", "etcd reachability and every member");
  a.fleet_status->add_flag("--json", a.json, "machine-readable output");
  a.fleet_publish = a.fleet_cmd->add_subcommand(
      "publish", "publish DIR (sextant.yaml, zones, nets/latency files) as a new revision");
  a.fleet_publish->add_option("dir", a.bundle_dir)->required();
  a.reload = app.add_subcommand("reload", "re-read config and zones now (like SIGHUP)");
  a.explain = app.add_subcommand("explain", "why NAME TYPE answers what it answers");
  a.explain->add_option("name", a.qname)->required();
  a.explain->add_option("type", a.type)->required();
  a.explain->add_option("--client", a.client,
                        "client address or prefix (sent as ECS, and as the packet source)");
  a.explain->add_flag("--json", a.json, "machine-readable output (schemas: sextantctl(8))");
}

// The socket the instance's daemon recorded in its control block; "" when none.
std::string RecordedSocket(const std::string& instance) {
  auto block = sextant::maps::ControlBlockMapping::Open(instance, /*create=*/false);
  return block.ok() ? sextant::maps::RecordedControlSocket(*(*block)->get()) : "";
}

// The instance and the control socket: flags first, then the config, read leniently (a broken
// config must not keep `status` from asking: LocateInstance); the socket the daemon recorded
// beats the config's (which may have been edited since), then the default.
absl::Status ResolveInstance(Args& a) {
  std::string config_socket;
  if (!a.config_path.empty()) {
    SX_ASSIGN_OR_RETURN(const InstanceLocation where, LocateInstance(a.config_path));
    if (a.instance.empty()) a.instance = where.instance;
    config_socket = where.socket;
  }
  if (a.instance.empty()) a.instance = "sextant";
  if (a.socket_path.empty()) a.socket_path = RecordedSocket(a.instance);
  if (a.socket_path.empty()) {
    a.socket_path =
        config_socket.empty() ? absl::StrCat("/run/sextant/", a.instance, ".sock") : config_socket;
  }
  return absl::OkStatus();
}

// A request nothing answered (Unavailable), said precisely: the daemon is not running (still
// Unavailable, so that `health` may fall back to shared memory), or it runs and does not answer
// here (FailedPrecondition: the shared memory would hide that).
absl::Status Unanswered(const Args& a, const absl::Status& s) {
  const std::optional<InstanceHolder> holder = InstanceHolderOf(a.instance);
  if (!holder) {
    return absl::UnavailableError(absl::StrCat("sextant-control is not running for instance ",
                                               a.instance, " (", s.message(), ")"));
  }
  if (holder->role == InstanceRole::kOnce) return s;
  return absl::FailedPreconditionError(absl::StrCat(
      "sextant-control is running for instance ", a.instance, " (pid ", holder->pid,
      ") but does not answer: ", s.message(),
      "; pass its socket with --socket (its start-up log line names it), or run as a user that "
      "may open it"));
}

// The --for value in milliseconds, or what the accepted forms are.
absl::StatusOr<uint64_t> ForMs(const std::string& text) {
  auto ms = ParseDurationMs(text);
  if (!ms.ok() || *ms == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--for '", text, "': ", ms.ok() ? "must be longer than 0" : "not a duration",
        "; use a number with ms, s, m or h (500ms, 90s, 10m, 2h); a bare number is seconds"));
  }
  return *ms;
}

// `status --config FILE` answers whatever FILE holds; when it does not load, say so beside the
// daemon's answer (which is its last good state: a reload would be refused with this error).
void NoteBrokenConfig(const std::string& path) {
  const absl::StatusOr<Config> config = LoadConfig(path);
  if (config.ok()) return;
  std::fprintf(stderr,
               "sextantctl: note: %s does not load (%s); sextant-control keeps serving its last "
               "good config, and a reload would be refused\n",
               path.c_str(), std::string(config.status().message()).c_str());
}

// Exit codes (sextantctl(8)): 0 done, 1 refused or failed, 2 usage, 3 sextant-control
// unreachable (not running, not answering on its socket, or not within --timeout).
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;
constexpr int kExitUnreachable = 3;
constexpr char kUnreachable[] = "sextant/unreachable";

absl::Status MarkUnreachable(absl::Status s) {
  s.SetPayload(kUnreachable, absl::Cord("1"));
  return s;
}

// The whole config a command needs (explain: which geo layer chose; the fleet commands: their
// fleet section): the --config file, loaded whole, else the one the daemon runs.
absl::StatusOr<Config> WholeConfig(const Args& a) {
  return a.config_path.empty() ? RunningConfig(a.socket_path, a.instance)
                               : LoadConfig(a.config_path);
}

// force|release --fleet: straight into etcd, with the fleet section of the --config file, else
// of the one the daemon runs.
absl::StatusOr<std::string> FleetOverride(const Args& a) {
  SX_ASSIGN_OR_RETURN(const Config config, WholeConfig(a));
  if (*a.release) return fleet::ReleaseFleet(config, a.name, a.datacenter);
  SX_ASSIGN_OR_RETURN(const ForcedState state, ParseForcedState(a.state));
  uint64_t for_ms = 0;
  if (!a.duration.empty()) {
    SX_ASSIGN_OR_RETURN(for_ms, ForMs(a.duration));
  }
  absl::StatusOr<std::string> out = fleet::ForceFleet(config, a.name, a.datacenter, state, for_ms);
  if (!out.ok() && absl::IsUnavailable(out.status())) return MarkUnreachable(out.status());
  return out;
}

absl::StatusOr<std::string> FleetPublish(const Args& a) {
  SX_ASSIGN_OR_RETURN(const Config config, WholeConfig(a));
  absl::StatusOr<std::string> out = fleet::PublishBundle(config, a.bundle_dir);
  if (!out.ok() && absl::IsUnavailable(out.status())) return MarkUnreachable(out.status());
  return out;
}

absl::StatusOr<std::string> Run(const Args& a) {
  SX_ASSIGN_OR_RETURN(const uint64_t timeout_ms, ParseDurationMs(a.timeout));
  auto ask = [&](const std::string& req) -> absl::StatusOr<std::string> {
    absl::StatusOr<std::string> out = ControlRequest(
        a.socket_path, req, static_cast<int>(std::min<uint64_t>(timeout_ms, 1 << 30)));
    if (out.ok()) return out;
    if (absl::IsDeadlineExceeded(out.status())) {
      return MarkUnreachable(absl::DeadlineExceededError(
          absl::StrCat("sextant-control did not answer within ", a.timeout, " (--timeout)")));
    }
    if (!absl::IsUnavailable(out.status())) return out;
    return MarkUnreachable(Unanswered(a, out.status()));
  };
  OverrideRequest target{a.name, a.datacenter};  // force, release
  if (*a.stats && a.watch) {
    SX_ASSIGN_OR_RETURN(const uint64_t interval_ms, ParseDurationMs(a.interval));
    SX_RETURN_IF_ERROR(WatchStats(
        a.instance, StatsWatch{interval_ms, a.count, a.json, !a.json && isatty(STDOUT_FILENO) == 1},
        stdout));
    return std::string();
  }
  if (*a.stats) return StatsReport(a.instance, a.json);
  if (*a.complete) return Completions(a.instance, a.socket_path, a.complete_kind);
  if (*a.dump) {
    absl::StatusOr<std::string> health = ask(ControlCommand{CommandKind::kHealth, true}.Line());
    if (!health.ok() && !absl::IsUnavailable(health.status())) return health.status();
    if (!health.ok()) {
      std::fprintf(stderr, "sextantctl: %s; targets from the health words in shared memory\n",
                   std::string(health.status().message()).c_str());
    }
    return DumpReport(a.instance, a.json, health.ok() ? &*health : nullptr);
  }
  if (*a.explain) {
    // Which layer of a geo map chose the client's list is in the config's files, not in the
    // snapshot: the --config file, else the one the daemon runs.
    return Explain(a.instance, ExplainRequest{a.qname, a.type, a.client}, WholeConfig(a), a.json);
  }
  if (*a.status) {
    absl::StatusOr<std::string> out = ask(ControlCommand{CommandKind::kStatus, a.json}.Line());
    if (out.ok() && !a.config_path.empty()) NoteBrokenConfig(a.config_path);
    return out;
  }
  if (*a.fleet_publish) return FleetPublish(a);
  if (*a.fleet_cmd) return ask(ControlCommand{CommandKind::kFleetStatus, a.json}.Line());
  if (a.fleet && (*a.force || *a.release)) return FleetOverride(a);
  if (*a.health && a.fleet) return ask(ControlCommand{CommandKind::kFleetHealth, a.json}.Line());
  if (*a.reload) return ask(ControlCommand{CommandKind::kReload}.Line());
  if (*a.release) return ask(ControlCommand{CommandKind::kRelease, false, target}.Line());
  if (*a.health) {
    absl::StatusOr<std::string> out = ask(ControlCommand{CommandKind::kHealth, a.json}.Line());
    if (out.ok() || !absl::IsUnavailable(out.status())) return out;
    // Control is not running: the words in shared memory are still the truth the dataplane
    // serves.
    std::fprintf(stderr, "sextantctl: %s; showing the health words in shared memory\n",
                 std::string(out.status().message()).c_str());
    return HealthReport(a.instance, a.json);
  }
  SX_ASSIGN_OR_RETURN(target.state, ParseForcedState(a.state));  // a.force
  if (!a.duration.empty()) {
    SX_ASSIGN_OR_RETURN(const uint64_t ms, ForMs(a.duration));
    target.for_ms = static_cast<int64_t>(ms);
  }
  return ask(ControlCommand{CommandKind::kForce, false, target}.Line());
}

}  // namespace

// CLI11 reports bad flags by throwing, and its parse macro catches that; anything else that
// throws here (an allocation failure) ends the process with a message, as it should.
int main(int argc, char** argv) {  // NOLINT(bugprone-exception-escape)
  CLI::App app{"sextantctl: inspect and steer a running Sextant instance"};
  app.set_version_flag("--version", sextant::maps::VersionLine("sextantctl"));
  Args args;
  AddCommands(app, args);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);  // prints the help, the version or the mistake
    return rc == 0 ? 0 : kExitUsage;
  }
  absl::Status resolved = ResolveInstance(args);
  absl::StatusOr<std::string> out =
      resolved.ok() ? Run(args) : absl::StatusOr<std::string>(resolved);
  if (!out.ok()) {
    std::fprintf(stderr, "sextantctl: %s\n", std::string(out.status().message()).c_str());
    return out.status().GetPayload(kUnreachable).has_value() ? kExitUnreachable : kExitFailed;
  }
  std::fputs(out->c_str(), stdout);
  return 0;
}
