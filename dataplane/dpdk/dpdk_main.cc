// sextant-dataplane in DPDK mode: `sextant-dataplane <EAL args> -- --config FILE [--wait]`.
// Wiring only: EAL init, config, control block, snapshot follower, DPDK ports and lcores, and the
// kernel-socket TCP listener behind the exception tap.
#include "dataplane/dpdk/dpdk_main.h"

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "control/config/config.h"
#include "dataplane/dpdk/dpdk_dataplane.h"
#include "dataplane/kernel/kernel_listener.h"
#include "dataplane/snapshot_follower.h"
#include "maps/control_block.h"

namespace sextant::dataplane {
namespace {

std::atomic<bool> g_dpdk_stop{false};
void OnSignal(int) { g_dpdk_stop.store(true, std::memory_order_relaxed); }

int Fail(const std::string& m) {
  std::fprintf(stderr, "sextant-dataplane: %s\n", m.c_str());
  return 1;
}

// The kernel listener's counter slots sit above every lcore id.
constexpr int kListenerCounterBase = 96;

}  // namespace

int DpdkMain(int argc, char** argv) {
  const int eal_args = rte_eal_init(argc, argv);
  if (eal_args < 0) return Fail(absl::StrCat("EAL init failed: ", rte_strerror(rte_errno)));
  argc -= eal_args;
  argv += eal_args;

  std::string config_path, instance;
  bool wait = false;
  CLI::App app{"sextant-dataplane (DPDK): <EAL args> -- --config FILE"};
  app.add_option("--config", config_path, "YAML config with a dataplane: section")->required();
  app.add_option("--instance", instance, "instance name of the /dev/shm files");
  app.add_flag("--wait", wait, "wait for sextant-control to publish a first snapshot");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    rte_eal_cleanup();
    return rc;
  }

  auto config = control::LoadConfig(config_path);
  if (!config.ok()) return Fail(std::string(config.status().message()));
  if (!config->dataplane.present) {
    return Fail(absl::StrCat(config_path,
                             ": DPDK mode needs a dataplane: section, e.g. "
                             "dataplane: {addresses: [198.18.0.2]}"));
  }
  if (instance.empty()) instance = config->instance;

  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  auto block = maps::ControlBlockMapping::Open(instance, false);
  while (!block.ok() && wait && absl::IsNotFound(block.status()) && !g_dpdk_stop.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    block = maps::ControlBlockMapping::Open(instance, false);
  }
  if (!block.ok()) {
    return Fail(absl::StrCat("no snapshot published for instance ", instance,
                             " yet; run sextant-control first or pass --wait (",
                             block.status().message(), ")"));
  }
  maps::ControlBlock* cb = (*block)->get();
  SnapshotFollower follower(instance, cb);
  if (absl::Status s = follower.LoadInitial(wait, &g_dpdk_stop); !s.ok()) {
    return Fail(cb->hdr.active_generation.load() == 0
                    ? absl::StrCat("no snapshot published for instance ", instance,
                                   " yet; run sextant-control first or pass --wait")
                    : std::string(s.message()));
  }
  follower.Start();

  int rc = 0;
  {
    auto dp = DpdkDataplane::Create(config->dataplane, &follower, cb);
    if (!dp.ok()) {
      follower.Stop();
      rte_eal_cleanup();
      return Fail(std::string(dp.status().message()));
    }
    std::unique_ptr<KernelListener> listener;
    std::thread listener_thread;
    std::atomic<bool> listener_stop{false};
    const std::vector<std::string> tcp_addrs = (*dp)->ExceptionListenAddresses();
    if (!tcp_addrs.empty()) {
      ListenerOptions lo;
      lo.listen = tcp_addrs;
      lo.udp = false;
      lo.tcp = true;
      auto l = KernelListener::Create(lo, &follower, &cb->lcores[kListenerCounterBase]);
      if (!l.ok()) {
        follower.Stop();
        return Fail(absl::StrCat("exception-path TCP listener: ", l.status().message()));
      }
      listener = std::move(*l);
      listener_thread = std::thread([&] { (void)listener->Run(listener_stop); });
    }
    cb->hdr.dataplane_pid.store(static_cast<uint64_t>(getpid()));
    std::printf(
        "sextant-dataplane: serving generation %llu on DPDK port %s (%d worker lcore%s, %d "
        "queue%s, checksums in %s), addresses %s%s\n",
        static_cast<unsigned long long>(follower.generation()), (*dp)->port_name().c_str(),
        (*dp)->worker_count(), (*dp)->worker_count() == 1 ? "" : "s", (*dp)->queue_count(),
        (*dp)->queue_count() == 1 ? "" : "s", (*dp)->checksum_offload() ? "the NIC" : "software",
        [&] {
          std::vector<std::string> a;
          for (const auto& x : config->dataplane.addresses) {
            a.push_back(x.vlan ? absl::StrCat(x.text, " vlan ", x.vlan) : x.text);
          }
          return absl::StrJoin(a, ", ");
        }()
            .c_str(),
        tcp_addrs.empty()
            ? ""
            : absl::StrCat("; TCP via ", config->dataplane.exception_interface).c_str());
    std::fflush(stdout);

    (*dp)->Run(g_dpdk_stop);

    listener_stop = true;
    if (listener) listener->Stop();
    if (listener_thread.joinable()) listener_thread.join();
    cb->hdr.dataplane_pid.store(0);
    uint64_t rx = 0, tx = 0, q = 0, exc = 0;
    for (const auto& l : cb->lcores) {
      rx += l.rx_packets;
      tx += l.tx_packets;
      q += l.queries;
      exc += l.exception_packets;
    }
    std::printf("sextant-dataplane: stopped: rx %llu, tx %llu, queries %llu, exception %llu\n",
                static_cast<unsigned long long>(rx), static_cast<unsigned long long>(tx),
                static_cast<unsigned long long>(q), static_cast<unsigned long long>(exc));
  }
  follower.Stop();
  rte_eal_cleanup();
  return rc;
}

}  // namespace sextant::dataplane
