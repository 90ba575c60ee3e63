// sextant-dataplane: `<EAL args> -- --instance NAME [--wait]` runs the DPDK mode
// (dataplane/dpdk/dpdk_main.cc); without "--", kernel-socket mode: follows the snapshots
// sextant-control publishes and answers on ordinary UDP/TCP sockets. Only flag parsing and
// wiring live here; both modes read shared memory only (dataplane/instance.h).
//
// Built with exceptions (unlike the dataplane library): CLI11 reports errors by throwing, and
// they are caught here, at start-up.

#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "dataplane/dnstap/dnstap_writer.h"
#include "dataplane/dpdk/dpdk_main.h"
#include "dataplane/instance.h"
#include "dataplane/kernel/kernel_listener.h"
#include "dataplane/lifecycle_log.h"
#include "dataplane/log_level_option.h"
#include "dataplane/snapshot_copy_option.h"
#include "dataplane/snapshot_follower.h"
#include "maps/build_info.h"
#include "maps/control_block.h"
#include "maps/log.h"

namespace {

std::atomic<bool> g_stop{false};
std::atomic<int> g_signal{0};  // which one, for the line that says why the dataplane stopped

void OnSignal(int signo) {
  g_signal.store(signo, std::memory_order_relaxed);
  g_stop.store(true, std::memory_order_relaxed);
}

int Fail(const std::string& message) {
  sextant::maps::Log(sextant::maps::LogLevel::kError, message);
  return 1;
}

}  // namespace

// CLI11 reports bad flags by throwing, and its parse macro catches that; anything else that
// throws here (an allocation failure) ends the process with a message, as it should.
int main(int argc, char** argv) {  // NOLINT(bugprone-exception-escape)
  namespace dp = sextant::dataplane;
  sextant::maps::InitLog("sextant-dataplane", STDOUT_FILENO, STDERR_FILENO);
  // `<EAL args> -- --instance NAME` selects the DPDK mode; without "--" this is kernel-socket
  // mode.
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--") return dp::DpdkMain(argc, argv);
  }
  namespace maps = sextant::maps;

  std::vector<std::string> listen;
  std::string config_path;
  std::string instance;
  int threads = 1;
  bool wait = false;
  CLI::App app{
      "sextant-dataplane: answers DNS from the snapshots sextant-control publishes, in\n"
      "kernel-socket mode (the flags below) or DPDK mode (see the end)."};
  app.footer(dp::ModesHelp(false));
  app.set_version_flag("--version", maps::VersionLine("sextant-dataplane"));
  app.add_option("--listen", listen,
                 "ADDR:PORT or [V6ADDR]:PORT to serve UDP and TCP on "
                 "(repeatable; default 127.0.0.1:5353)");
  app.add_option("--instance", instance,
                 "instance whose /dev/shm files to serve (required: the config's instance:)");
  app.add_option("--config", config_path)->group("");  // refused below, with the way out
  app.add_option("--threads", threads, "UDP worker threads")
      ->check(CLI::Range(1, static_cast<int>(maps::kMaxLcores) - 1));
  app.add_flag("--wait", wait, "wait for sextant-control to publish a first snapshot");
  dp::AddLogLevelOption(app);
  size_t snapshot_copy_min = maps::kHugePageCopyMinBytes;
  dp::AddSnapshotCopyOption(app, &snapshot_copy_min);
  CLI11_PARSE(app, argc, argv);
  if (!config_path.empty()) return Fail(dp::NoConfigFileMessage());
  if (std::string problem = dp::InstanceFlagProblem(instance); !problem.empty()) {
    return Fail(problem);
  }
  if (listen.empty()) listen.push_back("127.0.0.1:5353");

  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  // SIGHUP (a unit's reload, a closed terminal) must never stop the serving: the dataplane reads
  // no file and its log is stdout (the journal under systemd), so there is nothing to re-open.
  // Snapshots are picked up on their own; `systemctl reload sextant-control` reloads the config.
  signal(SIGHUP, SIG_IGN);

  absl::StatusOr<dp::AttachedInstance> inst =
      dp::AttachInstance(instance, wait, g_stop, snapshot_copy_min);
  if (!inst.ok()) {
    return absl::IsCancelled(inst.status()) ? 0 : Fail(std::string(inst.status().message()));
  }
  maps::ControlBlock* control = inst->block->get();
  dp::SnapshotFollower& follower = *inst->follower;
  // Bind before loading, so that a taken port or a bad address is reported at once, even when
  // --wait will then sit waiting for the first snapshot.
  dp::ListenerOptions options;
  options.listen = listen;
  options.udp_threads = threads;
  absl::StatusOr<std::unique_ptr<dp::KernelListener>> listener = dp::KernelListener::Create(
      options, &follower, &control->lcores[0], &control->answers[0], &control->cookies[0]);
  if (!listener.ok()) {
    return Fail(absl::StrCat("instance ", instance, ": ", listener.status().message()));
  }
  if (absl::Status s = dp::LoadFirstSnapshot(*inst, wait, g_stop); !s.ok()) {
    return absl::IsCancelled(s) ? 0 : Fail(std::string(s.message()));
  }
  absl::StatusOr<std::unique_ptr<dp::DnstapWriter>> dnstap =
      dp::StartDnstap(instance, *follower.current()->reader, (*listener)->counter_slots());
  if (!dnstap.ok()) return Fail(std::string(dnstap.status().message()));
  if (*dnstap != nullptr) (*listener)->SetTap((*dnstap)->rings(), dp::DnstapSample(**dnstap));
  follower.set_on_swap(
      [started = dp::DnstapOptionsOf(*follower.current()->reader)](const maps::SnapshotReader& s) {
        const std::string warning = dp::DnstapChangeWarning(started, s);
        if (!warning.empty()) maps::Log(maps::LogLevel::kWarning, warning);
      });
  follower.Start();

  const std::string bound = absl::StrJoin((*listener)->bound_addresses(), ", ");
  const dp::DataplaneAttachment attached(*inst, absl::StrCat("udp+tcp ", bound));
  maps::Log(maps::LogLevel::kNotice,
            absl::StrCat("instance ", instance, ": serving generation ", follower.generation(),
                         " on ", bound, " (udp+tcp)"));

  absl::Status run = (*listener)->Run(g_stop);
  dnstap->reset();  // writes what the rings still hold and closes the output
  follower.Stop();
  if (!run.ok()) return Fail(absl::StrCat("instance ", instance, ": ", run.message()));
  dp::LogStopped(instance, g_signal.load(), follower.generation(), *control);
  return 0;
}
