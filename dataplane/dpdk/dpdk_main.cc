// sextant-dataplane in DPDK mode: `sextant-dataplane <EAL args> -- --instance NAME [--wait]`.
// Wiring only: EAL init, the instance (control block, snapshot, and the port settings it
// carries), DPDK ports and lcores, and the kernel-socket TCP listener behind the exception tap.
#include "dataplane/dpdk/dpdk_main.h"

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <signal.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "dataplane/dnstap/dnstap_writer.h"
#include "dataplane/dpdk/dpdk_dataplane.h"
#include "dataplane/dpdk/port_settings.h"
#include "dataplane/dpdk/setup_hints.h"
#include "dataplane/dpdk/telemetry.h"
#include "dataplane/instance.h"
#include "dataplane/kernel/kernel_listener.h"
#include "dataplane/lifecycle_log.h"
#include "dataplane/log_level_option.h"
#include "dataplane/snapshot_copy_option.h"
#include "dataplane/snapshot_follower.h"
#include "maps/build_info.h"
#include "maps/control_block.h"
#include "maps/log.h"

namespace sextant::dataplane {
namespace {

using maps::Log;
using maps::LogLevel;

std::atomic<bool> g_dpdk_stop{false};
std::atomic<int> g_dpdk_signal{0};  // which one, for the line that says why it stopped
void OnSignal(int signo) {
  g_dpdk_signal.store(signo, std::memory_order_relaxed);
  g_dpdk_stop.store(true, std::memory_order_relaxed);
}

int Fail(const std::string& m) {
  Log(LogLevel::kError, m);
  return 1;
}

// The kernel listener's counter slots sit above every lcore id.
constexpr int kListenerCounterBase = 96;

// A reload may change the dataplane: and dnstap: sections; the ports and query logging are set
// up once, at start.
void WarnOnSettingsChange(SnapshotFollower* follower, const PortSettings& started_with,
                          const absl::StatusOr<DnstapOptions>& tap_started_with) {
  follower->set_on_swap([started_with, tap_started_with](const maps::SnapshotReader& snap) {
    const std::string tap_warning = DnstapChangeWarning(tap_started_with, snap);
    if (!tap_warning.empty()) Log(LogLevel::kWarning, tap_warning);
    absl::StatusOr<PortSettings> now = PortSettingsOf(snap);
    if (now.ok() && *now == started_with) return;
    Log(LogLevel::kWarning,
        absl::StrCat("generation ", snap.generation(),
                     " changes the dataplane: section; the ports keep the settings they started "
                     "with until sextant-dataplane restarts"));
  });
}

std::string AddressList(const PortSettings& s) {
  std::vector<std::string> a;
  for (const PortAddress& x : s.addresses) {
    a.push_back(x.vlan ? absl::StrCat(x.Text(), " vlan ", x.vlan) : x.Text());
  }
  return absl::StrJoin(a, ", ");
}

// The hidden perf-only modes (sextant-dataplane --perf-*).
struct PerfModes {
  bool reflect = false;           // DpdkDataplane::set_reflect
  bool checksum_offload = false;  // DpdkDataplane::set_perf_checksum_offload
};

// Runs the dataplane (and the exception path's TCP listener) until a signal stops it.
int Serve(AttachedInstance& inst, const PortSettings& settings, const PerfModes& perf,
          uint32_t idle_sleep_us) {
  maps::ControlBlock* cb = inst.block->get();
  SnapshotFollower& follower = *inst.follower;
  auto dp = DpdkDataplane::Create(settings, &follower, cb);
  if (!dp.ok()) return Fail(absl::StrCat("instance ", inst.name, ": ", dp.status().message()));
  if (perf.reflect) {
    Log(LogLevel::kWarning, "--perf-reflect: every frame is sent back out unanswered");
    (*dp)->set_reflect(true);
  }
  if (perf.checksum_offload) {
    Log(LogLevel::kWarning,
        "--perf-checksum-offload: received checksums taken as good, sent ones left to a NIC");
    (*dp)->set_perf_checksum_offload();
  }
  (*dp)->set_idle_sleep_us(idle_sleep_us);
  RegisterTelemetry(cb);
  std::unique_ptr<KernelListener> listener;
  std::thread listener_thread;
  std::atomic<bool> listener_stop{false};
  const std::vector<std::string> tcp_addrs = (*dp)->ExceptionListenAddresses();
  if (!tcp_addrs.empty()) {
    ListenerOptions lo;
    lo.listen = tcp_addrs;
    lo.udp = false;
    lo.tcp = true;
    auto l = KernelListener::Create(lo, &follower, &cb->lcores[kListenerCounterBase],
                                    &cb->answers[kListenerCounterBase],
                                    &cb->cookies[kListenerCounterBase]);
    if (!l.ok()) {
      return Fail(absl::StrCat("instance ", inst.name,
                               ": exception-path TCP listener: ", l.status().message()));
    }
    listener = std::move(*l);
  }
  // dnstap: a ring per worker lcore, then one per exception-path listener thread (TCP).
  const int listener_slots = listener ? listener->counter_slots() : 0;
  absl::StatusOr<std::unique_ptr<DnstapWriter>> dnstap =
      StartDnstap(inst.name, *follower.current()->reader, (*dp)->worker_count() + listener_slots);
  if (!dnstap.ok()) return Fail(std::string(dnstap.status().message()));
  if (*dnstap != nullptr) {
    std::vector<TapRing*> rings = (*dnstap)->rings();
    const auto split = rings.begin() + (*dp)->worker_count();
    (*dp)->SetTap(std::vector<TapRing*>(rings.begin(), split), DnstapSample(**dnstap));
    if (listener)
      listener->SetTap(std::vector<TapRing*>(split, rings.end()), DnstapSample(**dnstap));
  }
  if (listener) listener_thread = std::thread([&] { (void)listener->Run(listener_stop); });
  const DataplaneAttachment attached(
      inst, absl::StrCat("DPDK port ", (*dp)->port_name(), ", ", AddressList(settings)));
  const int workers = (*dp)->worker_count(), queues = (*dp)->queue_count();
  Log(LogLevel::kNotice,
      absl::StrCat(
          "instance ", inst.name, ": serving generation ", follower.generation(), " on DPDK port ",
          (*dp)->port_name(), " (", workers, " worker lcore", workers == 1 ? "" : "s", ", ", queues,
          " queue", queues == 1 ? "" : "s", ", checksums made by ",
          (*dp)->checksum_offload() ? "the NIC" : "software", " and checked by ",
          (*dp)->rx_checksum_offload() ? "the NIC" : "software",
          idle_sleep_us != 0 ? absl::StrCat(", idle sleep ", idle_sleep_us, " us") : "",
          "), addresses ", AddressList(settings),
          tcp_addrs.empty() ? "" : absl::StrCat("; TCP via ", settings.exception_interface)));

  (*dp)->Run(g_dpdk_stop);

  listener_stop = true;
  if (listener) listener->Stop();
  if (listener_thread.joinable()) listener_thread.join();
  StopTelemetry();
  dnstap->reset();  // every sampler has stopped: write what the rings hold, close the output
  LogStopped(inst.name, g_dpdk_signal.load(), follower.generation(), *cb);
  return 0;
}

}  // namespace

int DpdkMain(int argc, char** argv) {
  const int eal_args = rte_eal_init(argc, argv);
  if (eal_args < 0) {
    const int err = rte_errno;
    return Fail(absl::StrCat("EAL init failed", err != 0 ? ": " : "",
                             err != 0 ? rte_strerror(err) : "", ": ",
                             EalInitHint(err, FreeHugepages())));
  }
  argc -= eal_args;
  argv += eal_args;

  std::string config_path, instance;
  bool wait = false;
  CLI::App app{"sextant-dataplane, DPDK mode: <EAL args> -- --instance NAME [--wait]"};
  app.footer(ModesHelp(true));
  app.set_version_flag("--version", maps::VersionLine("sextant-dataplane"));
  app.add_option("--instance", instance,
                 "instance whose /dev/shm files to serve (required: the config's instance:)");
  app.add_option("--config", config_path)->group("");  // refused below, with the way out
  app.add_flag("--wait", wait, "wait for sextant-control to publish a first snapshot");
  // Hidden, for perf/e2e_breakdown.sh: frames go back out unanswered (DpdkDataplane::set_reflect).
  // And for perf/e2e_pcap.sh OFFLOAD=1: the packet path as on a port with checksum offload
  // (DpdkDataplane::set_perf_checksum_offload).
  PerfModes perf;
  app.add_flag("--perf-reflect", perf.reflect)->group("");
  app.add_flag("--perf-checksum-offload", perf.checksum_offload)->group("");
  AddLogLevelOption(app);
  uint32_t idle_sleep_us = 0;
  app.add_option("--idle-sleep-us", idle_sleep_us,
                 "a worker that found its queues empty 1024 times in a row sleeps this long "
                 "between polls until frames come again (1-10000; 0, the default: busy-poll). "
                 "For cores the dataplane shares (a lab, a small VM): it gives an idle core "
                 "away and costs up to this much latency to the first query after a quiet spell")
      ->check(CLI::Range(0, 10000));
  size_t snapshot_copy_min = maps::kHugePageCopyMinBytes;
  AddSnapshotCopyOption(app, &snapshot_copy_min);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    rte_eal_cleanup();
    return rc;
  }
  const std::string problem =
      !config_path.empty() ? NoConfigFileMessage() : InstanceFlagProblem(instance);
  if (!problem.empty()) {
    rte_eal_cleanup();
    return Fail(problem);
  }

  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  // SIGHUP (a unit's reload, a closed terminal) must never stop the serving: the dataplane reads
  // no file and its log is stdout (the journal under systemd), so there is nothing to re-open.
  // Snapshots are picked up on their own; `systemctl reload sextant-control` reloads the config.
  signal(SIGHUP, SIG_IGN);

  absl::StatusOr<AttachedInstance> inst =
      AttachInstance(instance, wait, g_dpdk_stop, snapshot_copy_min);
  absl::Status loaded = inst.ok() ? LoadFirstSnapshot(*inst, wait, g_dpdk_stop) : inst.status();
  if (!loaded.ok()) {
    rte_eal_cleanup();
    return absl::IsCancelled(loaded) ? 0 : Fail(std::string(loaded.message()));
  }
  absl::StatusOr<PortSettings> settings = PortSettingsOf(*inst->follower->current()->reader);
  if (!settings.ok()) {
    rte_eal_cleanup();
    return Fail(absl::StrCat("instance ", instance, ": ", settings.status().message()));
  }
  WarnOnSettingsChange(inst->follower.get(), *settings,
                       DnstapOptionsOf(*inst->follower->current()->reader));
  inst->follower->Start();
  const int rc = Serve(*inst, *settings, perf, idle_sleep_us);
  inst->follower->Stop();
  rte_eal_cleanup();
  return rc;
}

}  // namespace sextant::dataplane
