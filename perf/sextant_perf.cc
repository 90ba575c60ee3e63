// sextant-perf: latency and correctness of the real DPDK dataplane, in one process, without a NIC.
//
//   sextant-perf -l 0-1 --no-huge -m 1024 --no-pci -- [--seconds 5] [--rate 0] [--zone FILE]
//
// Two ethdev ports are made from two rte_rings (rte_eth_from_rings), crossed: what the generator
// port transmits the dataplane port receives, and the other way round. The zone (--zone, or a
// generated one) is compiled and published by the control-plane code (LoadConfig, CompileSnapshot,
// Publisher) to a fresh instance in /dev/shm, picked up by a SnapshotFollower, and served by the
// real DpdkDataplane on one ring port, its run-to-completion loop on the worker lcore. The main
// lcore is the generator: it sends query frames in bursts on the other port, keeps the TSC of
// each query by DNS id, receives the answers and checks every one of them: the id is outstanding,
// IPv4 header and UDP checksums are valid, addresses and ports are the query's swapped, the
// question is the query's, the rcode is the expected one, and the answer section holds exactly
// the zone's A RRset for that name (in any order: rotation is allowed).
//
// --rate 0 (default) is closed loop: as fast as possible with at most --window queries
// outstanding. --rate R offers R queries per second on a TSC schedule (open loop).
//
// Reported: queries sent, answered (correct / wrong), lost, unexpected answers, Mqps, and the
// latency distribution (p50/p90/p99/p99.9/max, microseconds) from just before the generator's
// tx burst to just after its rx burst. The dataplane's own per-lcore counters are printed too.
//
// The pieces: sextant_perf_zone.h (the zone and the questions), sextant_perf_generator.h (query
// frames and the generator), sextant_perf_latency.h and sextant_perf_report.h (what is reported).
#include <arpa/inet.h>
#include <dirent.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "control/compile/compiler.h"
#include "control/config/config.h"
#include "control/daemon/publisher.h"
#include "dataplane/dpdk/dpdk_dataplane.h"
#include "dataplane/snapshot_follower.h"
#include "maps/control_block.h"
#include "perf/sextant_perf_generator.h"
#include "perf/sextant_perf_report.h"
#include "perf/sextant_perf_wire.h"
#include "perf/sextant_perf_zone.h"

namespace sextant::perf {
namespace {

constexpr unsigned kRingSize = 4096;
constexpr unsigned kGenMbufs = 16383;

void OnSignal(int) { g_interrupted.store(true, std::memory_order_relaxed); }

int Fail(const std::string& m) {
  std::fprintf(stderr, "sextant-perf: %s\n", m.c_str());
  return 1;
}

void RemoveTree(const std::string& dir) {
  if (DIR* d = opendir(dir.c_str())) {
    while (const dirent* e = readdir(d)) {
      if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) {
        unlink((dir + "/" + e->d_name).c_str());
      }
    }
    closedir(d);
  }
  rmdir(dir.c_str());
}

// /dev/shm/<instance>.ctl and every /dev/shm/<instance>.snap.<generation>.
void RemoveInstanceFiles(const std::string& instance) {
  unlink(maps::ControlBlockPath(instance).c_str());
  const std::string snap = maps::SnapshotPath(instance, 1);
  const size_t slash = snap.rfind('/');
  const std::string dir = snap.substr(0, slash);
  const std::string prefix = snap.substr(slash + 1, snap.size() - slash - 2);  // "<instance>.snap."
  if (DIR* d = opendir(dir.c_str())) {
    while (const dirent* e = readdir(d)) {
      if (std::strncmp(e->d_name, prefix.c_str(), prefix.size()) == 0) {
        unlink((dir + "/" + e->d_name).c_str());
      }
    }
    closedir(d);
  }
}

struct RingDeleter {
  void operator()(rte_ring* r) const { rte_ring_free(r); }
};
struct PoolDeleter {
  void operator()(rte_mempool* p) const { rte_mempool_free(p); }
};

int Main(int argc, char** argv) {
  // A private EAL runtime directory unless one is named, so that another DPDK process on the
  // machine (with the default prefix "rte") does not collide with this one; removed at the end.
  std::vector<char*> eal_argv(argv, argv + argc);
  std::string own_prefix;
  bool has_prefix = false;
  for (int i = 1; i < argc && std::strcmp(argv[i], "--") != 0; ++i) {
    has_prefix |= std::strncmp(argv[i], "--file-prefix", 13) == 0;
  }
  if (!has_prefix) {
    own_prefix = absl::StrCat("--file-prefix=sxperf-", getpid());
    eal_argv.insert(eal_argv.begin() + 1, own_prefix.data());
  }
  eal_argv.push_back(nullptr);
  argc = static_cast<int>(eal_argv.size()) - 1;
  argv = eal_argv.data();
  const int eal_args = rte_eal_init(argc, argv);
  if (eal_args < 0) return Fail(absl::StrCat("EAL init failed: ", rte_strerror(rte_errno)));
  argc -= eal_args;
  argv += eal_args;

  GenOptions go;
  std::string zone_path, origin, instance;
  int nx_percent = 10, hosts = 1000;
  uint32_t corrupt_every = 0;
  uint32_t templates_n = 4096;
  CLI::App app{"sextant-perf: <EAL args> -- [--seconds S] [--rate QPS] [--zone FILE]"};
  app.add_option("--seconds", go.seconds, "how long to send queries")->check(CLI::PositiveNumber);
  app.add_option("--rate", go.rate, "queries per second offered; 0 = closed loop (--window)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--window", go.window, "closed loop: queries outstanding at most")
      ->check(CLI::Range(1u, 65000u));
  app.add_option("--timeout-ms", go.timeout_ms, "a query unanswered this long is lost");
  app.add_option("--zone", zone_path, "zone file (default: a generated zone of --hosts hosts)");
  app.add_option("--origin", origin, "origin of --zone (default: its $ORIGIN line)");
  app.add_option("--hosts", hosts, "hosts in the generated zone")->check(CLI::Range(1, 100000));
  app.add_option("--nxdomain-percent", nx_percent, "share of queries for missing names")
      ->check(CLI::Range(0, 100));
  app.add_option("--frames", templates_n, "distinct query frames (names x client addresses)")
      ->check(CLI::Range(1u, 1000000u));
  app.add_option("--instance", instance, "shm instance name (default sxperf-<pid>)");
  // Test only: proves that the checker catches a wrong answer (the CI smoke test expects
  // "answer differs" and exit status 3), without a dataplane that answers wrong.
  app.add_option("--corrupt-expected", corrupt_every,
                 "test only: expect a wrong address for every Nth name with A records")
      ->check(CLI::PositiveNumber);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    rte_eal_cleanup();
    return rc;
  }
  if (rte_lcore_count() < 2) {
    return Fail(
        "needs two lcores (-l 0-1): the generator on the main one, the dataplane's "
        "worker on the other");
  }
  if (instance.empty()) instance = absl::StrCat("sxperf-", getpid());

  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  // The config: the zone file (given or generated) in a private directory.
  char dir_template[] = "/tmp/sxperf.XXXXXX";
  const char* dir = mkdtemp(dir_template);
  if (dir == nullptr) return Fail("cannot create a temporary directory");
  const std::string work = dir;
  // Whatever happens below, leave no files behind: the work directory and the instance's shm
  // files (control block and snapshots).
  struct Cleanup {
    std::string work, instance;
    ~Cleanup() {
      RemoveTree(work);
      RemoveInstanceFiles(instance);
    }
  } cleanup{work, instance};
  if (zone_path.empty()) {
    origin = "perf.test.";
    zone_path = work + "/perf.test.zone";
    std::ofstream(zone_path) << DefaultZone(origin, hosts);
  } else {
    char* abs = realpath(zone_path.c_str(), nullptr);
    if (abs == nullptr) return Fail(absl::StrCat("no zone file ", zone_path));
    zone_path = abs;
    free(abs);
    if (origin.empty()) origin = OriginOf(zone_path);
    if (origin.empty()) return Fail(absl::StrCat(zone_path, " has no $ORIGIN; pass --origin"));
  }
  const std::string config_path = work + "/config.yaml";
  std::ofstream(config_path) << "instance: " << instance << "\nzones:\n  - origin: " << origin
                             << "\n    file: " << zone_path
                             << "\n"
                             // Rate limiting on, with limits no generated client reaches: the
                             // measurement pays for the bucket checks without being cut by them.
                             << "rate_limit:\n  responses_per_second: {answers: 10000000, "
                                "nxdomain: 10000000, nodata: 10000000, errors: 10000000}\n";

  auto config = control::LoadConfig(config_path);
  if (!config.ok()) return Fail(std::string(config.status().message()));
  auto zones = control::LoadZones(*config);
  if (!zones.ok()) return Fail(std::string(zones.status().message()));
  std::vector<Question> questions = AnswerableNames(*zones);
  if (questions.empty()) return Fail(absl::StrCat(zone_path, " has no A records to ask for"));
  const size_t n_answerable = questions.size();
  if (corrupt_every > 0) CorruptExpected(&questions, corrupt_every);
  std::vector<Question> nx = NxdomainNames(*zones, 256);
  if (nx.empty()) nx_percent = 0;
  for (Question& q : nx) questions.push_back(std::move(q));

  // Publish through the control-plane code, then follow it as sextant-dataplane does.
  auto publisher = control::Publisher::Create(instance);
  if (!publisher.ok()) return Fail(std::string(publisher.status().message()));
  control::CompileStats stats;
  auto gen = (*publisher)->Publish([&](uint64_t g) {
    return control::CompileSnapshot(*config, g, &stats);
  });
  if (!gen.ok()) return Fail(std::string(gen.status().message()));
  auto block = maps::ControlBlockMapping::Open(instance, false);
  if (!block.ok()) return Fail(std::string(block.status().message()));
  maps::ControlBlock* cb = (*block)->get();
  std::atomic<bool> stop_dp{false};
  dataplane::SnapshotFollower follower(instance, cb);
  if (absl::Status s = follower.LoadInitial(false, &stop_dp); !s.ok()) {
    return Fail(std::string(s.message()));
  }
  follower.Start();

  // Two crossed rings: queries gen -> dataplane, answers dataplane -> gen.
  const int socket = static_cast<int>(rte_socket_id());
  std::unique_ptr<rte_ring, RingDeleter> to_dp(
      rte_ring_create("sxperf_q", kRingSize, socket, RING_F_SP_ENQ | RING_F_SC_DEQ));
  std::unique_ptr<rte_ring, RingDeleter> to_gen(
      rte_ring_create("sxperf_a", kRingSize, socket, RING_F_SP_ENQ | RING_F_SC_DEQ));
  if (!to_dp || !to_gen) return Fail(absl::StrCat("rings: ", rte_strerror(rte_errno)));
  rte_ring* dp_rx = to_dp.get();
  rte_ring* dp_tx = to_gen.get();
  const int dp_port = rte_eth_from_rings("sxperf_dp", &dp_rx, 1, &dp_tx, 1, socket);
  const int gen_port = rte_eth_from_rings("sxperf_gen", &dp_tx, 1, &dp_rx, 1, socket);
  if (dp_port < 0 || gen_port < 0) {
    return Fail(absl::StrCat("rte_eth_from_rings: ", rte_strerror(rte_errno)));
  }

  // The ring port exists only in this process, so its id cannot come from the config.
  dataplane::PortSettings dc;
  dataplane::PortAddress a;
  a.family = 4;
  std::memcpy(a.addr, kServer, 4);
  dc.addresses.push_back(a);
  dc.port = static_cast<uint16_t>(dp_port);
  dc.exception_path = false;
  auto dp = dataplane::DpdkDataplane::Create(dc, &follower, cb);
  if (!dp.ok()) return Fail(absl::StrCat("dataplane: ", dp.status().message()));

  std::unique_ptr<rte_mempool, PoolDeleter> pool(
      rte_pktmbuf_pool_create("sxperf_gen", kGenMbufs, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, socket));
  if (!pool) return Fail(absl::StrCat("generator mbuf pool: ", rte_strerror(rte_errno)));
  {
    rte_eth_conf conf{};
    int rc = rte_eth_dev_configure(gen_port, 1, 1, &conf);
    if (rc == 0) rc = rte_eth_rx_queue_setup(gen_port, 0, 1024, socket, nullptr, pool.get());
    if (rc == 0) rc = rte_eth_tx_queue_setup(gen_port, 0, 1024, socket, nullptr);
    if (rc == 0) rc = rte_eth_dev_start(gen_port);
    if (rc != 0) return Fail(absl::StrCat("generator port: ", rte_strerror(-rc)));
  }

  rte_ether_addr dp_mac, gen_mac;
  rte_eth_macaddr_get(dp_port, &dp_mac);
  rte_eth_macaddr_get(gen_port, &gen_mac);
  std::vector<Template> templates;
  templates.reserve(templates_n);
  for (uint32_t i = 0; i < templates_n; ++i) {
    // Every (100 / nx_percent)-th frame or so asks for a missing name, spread evenly.
    const bool want_nx = nx_percent > 0 && (i * nx_percent) / 100 != ((i + 1) * nx_percent) / 100;
    const uint32_t qi =
        want_nx ? static_cast<uint32_t>(n_answerable + i % (questions.size() - n_answerable))
                : static_cast<uint32_t>(i * 2654435761u % n_answerable);
    templates.push_back(MakeTemplate(questions[qi], i, qi, dp_mac.addr_bytes, gen_mac.addr_bytes));
  }

  std::printf(
      "sextant-perf: generation %llu (%zu records), %zu names with A records%s; dataplane on "
      "%s (%d worker lcore), generator on lcore %u; %s; %.1f s\n",
      static_cast<unsigned long long>(*gen), stats.records, n_answerable,
      nx_percent ? absl::StrCat(", ", nx_percent, "% NXDOMAIN").c_str() : "",
      (*dp)->port_name().c_str(), (*dp)->worker_count(), rte_lcore_id(),
      go.rate > 0 ? absl::StrFormat("open loop at %.0f qps", go.rate).c_str()
                  : absl::StrCat("closed loop, window ", go.window).c_str(),
      go.seconds);
  std::fflush(stdout);

  // DpdkDataplane::Run launches the worker loop and then blocks until `stop_dp`: it runs on a
  // helper thread so that the main lcore is free for the generator. That thread is not the main
  // lcore, which rte_eal_remote_launch and rte_eal_mp_wait_lcore are documented to want; in DPDK
  // 22.11 they only touch the worker's state and pipe, so this works. A Launch()/Wait() pair on
  // DpdkDataplane would make it by the book.
  std::thread runner([&] { (*dp)->Run(stop_dp); });
  const std::map<std::string, double> cpu_before = ThreadCpu();
  const auto wall_before = std::chrono::steady_clock::now();
  auto result = std::make_unique<GenResult>();
  Generator generator(static_cast<uint16_t>(gen_port), pool.get(), std::move(templates),
                      std::move(questions), go);
  generator.Run(result.get());
  const std::map<std::string, double> cpu_after = ThreadCpu();
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_before).count();
  stop_dp = true;
  runner.join();

  const GenResult& r = *result;
  PrintReport(r, cpu_before, cpu_after, wall, *cb);

  dp->reset();  // stops and closes the dataplane's port
  rte_eth_dev_stop(gen_port);
  rte_eth_dev_close(gen_port);
  follower.Stop();
  pool.reset();
  to_dp.reset();
  to_gen.reset();
  rte_eal_cleanup();
  if (!own_prefix.empty()) {
    RemoveTree(absl::StrCat("/var/run/dpdk/", own_prefix.substr(own_prefix.find('=') + 1)));
  }
  const bool clean = r.wrong == 0 && r.lost() == 0 && r.unexpected == 0 && r.answered() > 0;
  return clean ? 0 : 3;
}

}  // namespace
}  // namespace sextant::perf

// CLI11 reports bad flags by throwing, and Main catches that; anything else that throws (an
// allocation failure) ends the process with a message, as it should.
int main(int argc, char** argv) {  // NOLINT(bugprone-exception-escape)
  return sextant::perf::Main(argc, argv);
}
