// The DPDK dataplane: the thin layer where DPDK calls live. It configures the data port (RX/TX
// queue pairs with RSS, checksum offload when the PMD has it), creates the exception path (a
// net_tap port whose kernel side carries our addresses, so the kernel's TCP stack and the
// kernel-socket listener answer TCP/53), and runs one run-to-completion loop per worker lcore:
// rx burst -> prefetch -> ProcessFrame (packet_path.h) -> tx burst.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "dataplane/dpdk/port_settings.h"
#include "dataplane/dpdk/sysctl.h"
#include "dataplane/packet_path.h"
#include "dataplane/snapshot_follower.h"
#include "maps/control_block.h"

struct rte_mempool;

namespace sextant::dataplane {

class DpdkDataplane {
 public:
  // Call after rte_eal_init(). Configures and starts the data port and the exception tap.
  static absl::StatusOr<std::unique_ptr<DpdkDataplane>> Create(const PortSettings& settings,
                                                               SnapshotFollower* follower,
                                                               maps::ControlBlock* block);
  ~DpdkDataplane();

  // Runs the worker loops on every worker lcore (on the main lcore too when it is the only
  // one) until `stop` is set; returns after every worker has finished.
  void Run(const std::atomic<bool>& stop);

  // dnstap: worker i samples 1 in `every` queries into rings[i] (worker_count() rings that
  // outlive Run()). Call before Run(); without it, nothing is sampled.
  void SetTap(std::vector<TapRing*> rings, uint32_t every);

  // Perf only: the workers send every frame back out unanswered (the burst loop without
  // ProcessFrame; perf/e2e_breakdown.sh). Call before Run().
  void set_reflect(bool on) { reflect_ = on; }

  // Perf only: answer as on a port with IPv4 and UDP checksum offload both ways, whatever the
  // port has. Received frames count as checked good (as the NIC's RX_*_CKSUM_GOOD flags would
  // say) and answers leave with the checksums for the NIC to complete: the pseudo-header sum in
  // the UDP field, 0 in the IPv4 header's. For measuring on the vdevs of perf/e2e_pcap.sh
  // (net_pcap, net_null), which have no offload, the per-lcore rate a 10/25GbE NIC's port gives
  // (ixgbe, i40e, ice and mlx5 all have both); the frames sent are not valid on a wire. Call
  // before Run().
  void set_perf_checksum_offload();
  // What set_perf_checksum_offload has the workers add to every received frame's offload flags
  // (0 otherwise).
  uint64_t rx_assumed_flags() const { return rx_assumed_flags_; }

  // A worker whose queues stayed empty for a while sleeps `us` microseconds between polls
  // instead of spinning (0, the default: busy-poll always). For hosts where the dataplane shares
  // its cores: a lab, a small VM. The cost is up to `us` more latency for the first query after
  // a quiet spell. Call before Run().
  void set_idle_sleep_us(uint32_t us) { idle_sleep_us_ = us; }

  // "198.18.0.2:53"-style addresses for the exception-path TCP listener.
  std::vector<std::string> ExceptionListenAddresses() const;
  const std::string& port_name() const { return port_name_; }
  int worker_count() const { return workers_; }
  int queue_count() const { return queues_; }
  const PortSettings& settings() const { return settings_; }
  bool checksum_offload() const { return !path_.sw_checksum; }
  // The data port checks the IPv4 header and UDP checksums of what it receives.
  bool rx_checksum_offload() const { return rx_checksum_; }

 private:
  DpdkDataplane() = default;
  absl::Status ConfigurePort(uint16_t port, int queues, bool data_port);
  absl::Status CreateExceptionPath();
  void QuietKernelInterface(uint32_t if_index);
  void SetSysctl(const std::string& key, const char* value);

  PortSettings settings_;
  SnapshotFollower* follower_ = nullptr;
  maps::ControlBlock* block_ = nullptr;
  PathConfig path_;
  bool rx_checksum_ = false;
  uint64_t rx_assumed_flags_ = 0;
  rte_mempool* pool_ = nullptr;
  uint16_t port_ = 0;
  uint16_t tx_port_ = 0;
  std::string port_name_;
  uint16_t tap_port_ = 0xffff;
  std::string tap_name_;
  std::vector<PortAddress> kernel_addresses_;  // configured on the tap side
  int workers_ = 1;
  int queues_ = 1;
  bool main_is_worker_ = false;
  bool reflect_ = false;
  uint32_t idle_sleep_us_ = 0;
  SysctlChanges sysctls_;
  std::vector<TapRing*> tap_rings_;  // empty: dnstap off
  uint32_t tap_every_ = 0;  // what the start changed under /proc/sys, put back when we stop
};

}  // namespace sextant::dataplane
