#include "dataplane/dpdk/dpdk_dataplane.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <rte_bus_vdev.h>
#include <rte_cycles.h>
#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_prefetch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>
#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
#endif

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "dataplane/burst_prefetch.h"
#include "dataplane/dpdk/interface_name.h"
#include "dataplane/dpdk/netlink.h"
#include "dataplane/dpdk/setup_hints.h"
#include "maps/log.h"
#include "maps/status_macros.h"

namespace sextant::dataplane {
namespace {

// 32 frames per burst: DPDK's l3fwd default, enough to amortise the PMD call and the tx
// doorbell, small enough that a burst of answers stays in L1 (32 x 2 KiB mbufs) and a query
// waits at most one burst of others.
constexpr uint16_t kBurst = 32;
static_assert(kBurst <= kMaxPrefetchBurst);
constexpr uint16_t kRxDesc = 1024, kTxDesc = 1024;

struct WorkerContext {
  DpdkDataplane* self;
  uint16_t port;
  uint16_t tx_port;
  uint16_t tap_port;  // 0xffff: no exception path
  uint16_t queue;
  const PathConfig* path;
  SnapshotFollower* follower;
  maps::LcoreCounters* counters;
  maps::LcoreAnswers* answers;
  maps::LcoreCookies* cookies;
  const std::atomic<bool>* stop;
  TapSampler* tap;                  // null: dnstap off
  maps::ControlBlock* stats_block;  // non-null: this loop also publishes the NIC statistics
  RateLimiter* rrl;                 // this worker's response rate limiter
  uint32_t idle_sleep_us;           // 0: busy-poll (DpdkDataplane::set_idle_sleep_us)
};

// ProcessFrame's RxChecksum bits from a received mbuf's offload flags (the port checks receive
// checksums: DpdkDataplane::rx_checksum_offload). CKSUM_NONE (the checksum in the frame is not
// right, but the NIC or the host behind a virtual port vouches for the data) counts as good;
// UNKNOWN leaves the check to software.
inline uint8_t RxChecksumsOf(uint64_t ol) {
  uint8_t r = 0;
  const uint64_t ip = ol & RTE_MBUF_F_RX_IP_CKSUM_MASK;
  if (ip == RTE_MBUF_F_RX_IP_CKSUM_GOOD || ip == RTE_MBUF_F_RX_IP_CKSUM_NONE) {
    r |= kRxIpv4Good;
  } else if (ip == RTE_MBUF_F_RX_IP_CKSUM_BAD) {
    r |= kRxIpv4Bad;
  }
  const uint64_t l4 = ol & RTE_MBUF_F_RX_L4_CKSUM_MASK;
  if (l4 == RTE_MBUF_F_RX_L4_CKSUM_GOOD || l4 == RTE_MBUF_F_RX_L4_CKSUM_NONE) {
    r |= kRxL4Good;
  } else if (l4 == RTE_MBUF_F_RX_L4_CKSUM_BAD) {
    r |= kRxL4Bad;
  }
  return r;
}

// Empty polls in a row before a worker with an idle sleep starts sleeping: a few hundred
// microseconds of polling after the last frame, so a burst that pauses briefly is still met by a
// spinning worker.
constexpr uint32_t kIdlePollsBeforeSleep = 1024;

// Copies port `port`'s statistics and link state into the control block's port slot `slot`
// (maps::PortStats), for the exporter and sextantctl. On the main lcore, about once a second.
void PublishPortStats(maps::ControlBlock* b, uint32_t slot, uint16_t port) {
  if (slot >= maps::kMaxPorts) return;
  maps::PortStats& p = b->ports[slot];
  rte_eth_stats s{};
  if (rte_eth_stats_get(port, &s) != 0) return;
  rte_eth_link link{};
  rte_eth_link_get_nowait(port, &link);
  if (p.updated_unix_ms.load(std::memory_order_relaxed) == 0) {
    char name[RTE_ETH_NAME_MAX_LEN] = {};
    rte_eth_dev_get_name_by_port(port, name);
    std::snprintf(p.name, sizeof(p.name), "%s", name);
  }
  maps::CounterSet(p.port_id, port);
  maps::CounterSet(p.link_up, link.link_status == RTE_ETH_LINK_UP ? 1 : 0);
  maps::CounterSet(p.link_speed_mbps,
                   link.link_speed == RTE_ETH_SPEED_NUM_UNKNOWN ? 0 : link.link_speed);
  maps::CounterSet(p.ipackets, s.ipackets);
  maps::CounterSet(p.opackets, s.opackets);
  maps::CounterSet(p.ibytes, s.ibytes);
  maps::CounterSet(p.obytes, s.obytes);
  maps::CounterSet(p.imissed, s.imissed);
  maps::CounterSet(p.ierrors, s.ierrors);
  maps::CounterSet(p.oerrors, s.oerrors);
  maps::CounterSet(p.rx_nombuf, s.rx_nombuf);
  rte_eth_dev_info info{};
  uint32_t queues = 0;
  if (rte_eth_dev_info_get(port, &info) == 0) {
    queues =
        std::min<uint32_t>(std::max(info.nb_rx_queues, info.nb_tx_queues), maps::kMaxPortQueues);
  }
  maps::CounterSet(p.queues, queues);
  for (uint32_t q = 0; q < queues; ++q) {
    maps::CounterSet(p.q_ipackets[q], s.q_ipackets[q]);
    maps::CounterSet(p.q_opackets[q], s.q_opackets[q]);
    maps::CounterSet(p.q_errors[q], s.q_errors[q]);
  }
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  p.updated_unix_ms.store(
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(now).count()),
      std::memory_order_release);
}

// The data port (slot 0) and the answer port when it is another (slot 1).
void PublishPorts(maps::ControlBlock* b, uint16_t port, uint16_t tx_port) {
  PublishPortStats(b, 0, port);
  if (tx_port != port) PublishPortStats(b, 1, tx_port);
}

// Frees what a tx burst did not take, counting it as a drop.
inline void TxOrFree(uint16_t port, uint16_t queue, rte_mbuf** pkts, uint16_t n,
                     maps::LcoreCounters* ctr, uint64_t* sent_counter) {
  if (n == 0) return;
  const uint16_t sent = rte_eth_tx_burst(port, queue, pkts, n);
  maps::CounterAdd(*sent_counter, sent);
  if (ABSL_PREDICT_FALSE(sent < n)) {
    maps::CounterAdd(ctr->dropped[maps::kDropTxFull], n - sent);
    rte_pktmbuf_free_bulk(pkts + sent, n - sent);
  }
}

// DPDK hands a worker its context and reports its end through librte_eal's own atomics, which
// ThreadSanitizer does not see (the library is not instrumented): the two hand-overs are told to
// it here, or a TSan build reports the main lcore freeing the limiters its workers used as a race.
// No-ops in other builds.
void HandOver(void* ctx) {
#if defined(__SANITIZE_THREAD__)
  __tsan_release(ctx);
#endif
}
void TakeOver(void* ctx) {
#if defined(__SANITIZE_THREAD__)
  __tsan_acquire(ctx);
#endif
}

// kReflect (perf only: sextant-dataplane's hidden --perf-reflect, perf/e2e_breakdown.sh) sends
// every received frame back out unanswered: the loop's cost with ProcessFrame taken out. A
// template parameter, so the serving loop is compiled as if it did not exist.
template <bool kReflect>
int WorkerLoop(void* arg) {
  TakeOver(arg);
  const WorkerContext& w = *static_cast<const WorkerContext*>(arg);
  const bool rx_checksums = w.self->rx_checksum_offload();
  const uint64_t rx_assumed = w.self->rx_assumed_flags();  // 0 but in perf runs
  maps::Qsbr& qsbr = w.follower->qsbr();
  const int reader = qsbr.Register();
  if (reader < 0) {
    maps::Log(maps::LogLevel::kError,
              absl::StrCat("no QSBR slot for lcore ", rte_lcore_id(), ": it does not serve"));
    HandOver(arg);
    return -1;
  }
  qsbr.Online(reader);
  maps::LcoreCounters* ctr = w.counters;
  rte_mbuf* rx[kBurst];
  rte_mbuf* tx[kBurst];
  rte_mbuf* exc[kBurst];
  // The only lcore also publishes the NIC statistics, between bursts, about once a second.
  const uint64_t stats_every = rte_get_timer_hz();
  uint64_t next_stats = 0;
  // Whether the burst prefetch pays for the current snapshot, asked when its generation changes
  // (generations only grow; 0: none yet).
  uint64_t prefetch_for = 0;
  bool prefetch = false;
  uint32_t idle_polls = 0;
  while (!w.stop->load(std::memory_order_relaxed)) {
    if (ABSL_PREDICT_FALSE(w.stats_block != nullptr) && rte_get_timer_cycles() >= next_stats) {
      PublishPorts(w.stats_block, w.port, w.tx_port);
      next_stats = rte_get_timer_cycles() + stats_every;
    }
    // Between bursts we hold no snapshot reference: this is the quiescent point that lets
    // the follower unmap an old snapshot.
    qsbr.Quiescent(reader);
    const LoadedSnapshot* snap = w.follower->current();
    const Engine* engine = snap != nullptr ? &snap->engine : nullptr;
    const uint64_t generation = snap != nullptr ? snap->reader->generation() : 0;
    maps::CounterSet(ctr->generation, generation);
    if (ABSL_PREDICT_FALSE(generation != prefetch_for)) {  // a new snapshot: is its table large?
      prefetch_for = generation;
      prefetch = engine != nullptr && PrefetchWorthIt(*engine);
    }
    // The limiter's settings follow the snapshot (a no-op unless its generation changed) and its
    // clock is read once per burst.
    if (snap != nullptr) w.rrl->Update(*snap->reader);
    w.rrl->set_now(RateLimiter::NowNs());

    const uint16_t n = rte_eth_rx_burst(w.port, w.queue, rx, kBurst);
    uint16_t ntx = 0, nexc = 0;
    if (n > 0) {
      const uint32_t now = CoarseUnixSeconds();  // DNS Cookies' timestamps, once per burst
      maps::CounterAdd(ctr->rx_packets, n);
      if (prefetch) {
        // Stage the burst's name-table lookups before answering it (burst_prefetch.h).
        const uint8_t* frames[kBurst];
        uint32_t lens[kBurst];
        for (uint16_t i = 0; i < n; ++i) {
          frames[i] = rte_pktmbuf_mtod(rx[i], const uint8_t*);
          lens[i] = rx[i]->data_len;
        }
        PrefetchBurst(*engine, frames, lens, n);
      }
      rte_prefetch0(rte_pktmbuf_mtod(rx[0], void*));
      for (uint16_t i = 0; i < n; ++i) {
        if (i + 1 < n) rte_prefetch0(rte_pktmbuf_mtod(rx[i + 1], void*));
        rte_mbuf* m = rx[i];
        if constexpr (kReflect) {
          tx[ntx++] = m;
          continue;
        }
        if (ABSL_PREDICT_FALSE(m->nb_segs != 1)) {  // jumbo/chained: not a query we answer
          exc[nexc++] = m;
          continue;
        }
        uint32_t len = m->data_len;
        const uint32_t room = m->data_len + rte_pktmbuf_tailroom(m);
        TxOffload off;
        uint8_t* const frame = rte_pktmbuf_mtod(m, uint8_t*);
        const Verdict v = rx_checksums
                              ? ProcessCheckedFrame(frame, &len, room, *w.path, engine, ctr, &off,
                                                    RxChecksumsOf(m->ol_flags | rx_assumed), w.tap,
                                                    w.answers, w.rrl, w.cookies, now)
                              : ProcessFrame(frame, &len, room, *w.path, engine, ctr, &off, w.tap,
                                             w.answers, w.rrl, w.cookies, now);
        if (v == Verdict::kTransmit) {
          m->data_len = static_cast<uint16_t>(len);
          m->pkt_len = len;
          m->ol_flags = 0;
          if (off.udp) {
            m->l2_len = off.l2_len;
            m->l3_len = off.l3_len;
            m->ol_flags =
                off.ipv4 ? (RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_UDP_CKSUM)
                         : (RTE_MBUF_F_TX_IPV6 | RTE_MBUF_F_TX_UDP_CKSUM);
          }
          tx[ntx++] = m;
        } else if (v == Verdict::kException) {
          exc[nexc++] = m;
        } else {
          rte_pktmbuf_free(m);
        }
      }
      TxOrFree(w.tx_port, w.queue, tx, ntx, ctr, &ctr->tx_packets);
    }
    uint16_t k = 0;
    if (w.tap_port != 0xffff) {
      if (nexc > 0) {
        uint64_t sent = 0;
        TxOrFree(w.tap_port, w.queue, exc, nexc, ctr, &sent);
        maps::CounterAdd(ctr->exception_packets, nexc);
      }
      // What the kernel sends (TCP answers, its ARP/ND) goes out of the data port unchanged.
      k = rte_eth_rx_burst(w.tap_port, w.queue, rx, kBurst);
      if (k > 0) TxOrFree(w.tx_port, w.queue, rx, k, ctr, &ctr->tx_packets);
    } else if (nexc > 0) {
      maps::CounterAdd(ctr->dropped[maps::kDropOther], nexc);
      rte_pktmbuf_free_bulk(exc, nexc);
    }
    // No tx buffering across bursts, so there is nothing to drain on a timer: every burst is
    // sent before the next poll.
    if (n != 0 || k != 0) {
      idle_polls = 0;
    } else if (w.idle_sleep_us != 0 && ++idle_polls >= kIdlePollsBeforeSleep) {
      // Idle with a sleep configured: give the core away. Offline while asleep, so a snapshot
      // switch never waits for a sleeping worker; the next loop starts at the quiescent point.
      qsbr.Offline(reader);
      rte_delay_us_sleep(w.idle_sleep_us);
      qsbr.Online(reader);
    } else {
      rte_pause();
    }
  }
  qsbr.Offline(reader);
  qsbr.Unregister(reader);
  HandOver(arg);
  return 0;
}

}  // namespace

absl::StatusOr<std::unique_ptr<DpdkDataplane>> DpdkDataplane::Create(const PortSettings& settings,
                                                                     SnapshotFollower* follower,
                                                                     maps::ControlBlock* block) {
  std::unique_ptr<DpdkDataplane> d(new DpdkDataplane());
  d->settings_ = settings;
  d->follower_ = follower;
  d->block_ = block;
  d->port_ = settings.port;
  if (!rte_eth_dev_is_valid_port(d->port_)) {
    return absl::InvalidArgumentError(
        absl::StrCat("DPDK port ", d->port_, " does not exist: ", rte_eth_dev_count_avail(),
                     " ports available; ", NoPortHint(rte_eth_dev_count_avail())));
  }
  char name[RTE_ETH_NAME_MAX_LEN];
  rte_eth_dev_get_name_by_port(d->port_, name);
  d->port_name_ = name;

  // Workers: every worker lcore, or the main lcore alone when there is none.
  const int worker_lcores = static_cast<int>(rte_lcore_count()) - 1;
  d->main_is_worker_ = worker_lcores == 0;
  d->workers_ = d->main_is_worker_ ? 1 : worker_lcores;
  rte_eth_dev_info info;
  if (rte_eth_dev_info_get(d->port_, &info) != 0) {
    return absl::InternalError(absl::StrCat("cannot read device info of port ", d->port_));
  }
  int queues = settings.queues > 0 ? settings.queues : d->workers_;
  queues = std::min<int>({queues, info.max_rx_queues, info.max_tx_queues});
  if (queues < 1) queues = 1;
  d->queues_ = queues;
  d->workers_ = std::min(d->workers_, queues);

  const unsigned cache = 256;
  const unsigned n_mbufs =
      std::max<unsigned>(settings.mbufs, 2 * queues * (kRxDesc + kTxDesc) + 4 * cache + 1023);
  d->pool_ = rte_pktmbuf_pool_create("sx_mbufs", n_mbufs, cache, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                     rte_eth_dev_socket_id(d->port_));
  if (d->pool_ == nullptr) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "cannot create the mbuf pool of ", n_mbufs, " mbufs: ", rte_strerror(rte_errno),
        " (reserve hugepages: dpdk-hugepages.py --setup 1G; or raise -m with --no-huge; "
        "dataplane.mbufs sets the pool's size)"));
  }

  // Our addresses.
  rte_ether_addr mac;
  rte_eth_macaddr_get(d->port_, &mac);
  std::memcpy(d->path_.mac, mac.addr_bytes, 6);
  for (const PortAddress& a : settings.addresses) {
    if (a.family == 4) {
      std::memcpy(d->path_.v4[d->path_.n_v4], a.addr, 4);
      d->path_.v4_vlan[d->path_.n_v4++] = a.vlan;
    } else {
      std::memcpy(d->path_.v6[d->path_.n_v6], a.addr, 16);
      d->path_.v6_vlan[d->path_.n_v6++] = a.vlan;
    }
  }
  d->path_.dns_port = settings.dns_port;
  d->path_.mtu = settings.mtu;
  const uint64_t want = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
  d->path_.sw_checksum = (info.tx_offload_capa & want) != want;

  d->tx_port_ = settings.tx_port >= 0 ? static_cast<uint16_t>(settings.tx_port) : d->port_;
  if (!rte_eth_dev_is_valid_port(d->tx_port_)) {
    return absl::InvalidArgumentError(
        absl::StrCat("DPDK tx_port ", d->tx_port_, " does not exist"));
  }
  SX_RETURN_IF_ERROR(d->ConfigurePort(d->port_, queues, true));
  if (d->tx_port_ != d->port_) SX_RETURN_IF_ERROR(d->ConfigurePort(d->tx_port_, queues, false));
  if (settings.exception_path) SX_RETURN_IF_ERROR(d->CreateExceptionPath());
  return d;
}

void DpdkDataplane::set_perf_checksum_offload() {
  path_.sw_checksum = false;
  rx_checksum_ = true;
  rx_assumed_flags_ = RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_GOOD;
}

absl::Status DpdkDataplane::ConfigurePort(uint16_t port, int queues, bool data_port) {
  rte_eth_dev_info info;
  rte_eth_dev_info_get(port, &info);
  rte_eth_conf conf{};
  if (data_port && queues > 1) {
    // RSS spreads queries over the queues by address and port, so each lcore owns its flows.
    conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
    conf.rx_adv_conf.rss_conf.rss_hf =
        (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP) & info.flow_type_rss_offloads;
    if (conf.rx_adv_conf.rss_conf.rss_hf == 0) conf.rxmode.mq_mode = RTE_ETH_MQ_RX_NONE;
  }
  if (data_port && !path_.sw_checksum) {
    conf.txmode.offloads = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
  }
  // Receive checksums checked by the NIC where it can: the packet path then sums neither the
  // query's IPv4 header nor its UDP datagram (with transmit offload as well, an A hit's packet
  // path is a fifth shorter: perf/README.md).
  const uint64_t rx_want = RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM;
  if (data_port && (info.rx_offload_capa & rx_want) == rx_want) {
    conf.rxmode.offloads |= rx_want;
    rx_checksum_ = true;
  }
  int rc = rte_eth_dev_configure(port, queues, queues, &conf);
  if (rc != 0) {
    return absl::InternalError(absl::StrCat("cannot configure port ", port, " with ", queues,
                                            " queues: ", rte_strerror(-rc)));
  }
  uint16_t rxd = kRxDesc, txd = kTxDesc;
  rte_eth_dev_adjust_nb_rx_tx_desc(port, &rxd, &txd);
  const int socket = rte_eth_dev_socket_id(port);
  for (int q = 0; q < queues; ++q) {
    rc = rte_eth_rx_queue_setup(port, q, rxd, socket, nullptr, pool_);
    if (rc == 0) {
      rte_eth_txconf txconf = info.default_txconf;
      txconf.offloads = conf.txmode.offloads;
      rc = rte_eth_tx_queue_setup(port, q, txd, socket, &txconf);
    }
    if (rc != 0) {
      return absl::InternalError(
          absl::StrCat("cannot set up queue ", q, " of port ", port, ": ", rte_strerror(-rc)));
    }
  }
  rc = rte_eth_dev_start(port);
  if (rc != 0) {
    return absl::InternalError(absl::StrCat("cannot start port ", port, ": ", rte_strerror(-rc)));
  }
  if (data_port) {
    // Neighbour solicitations come to solicited-node multicast addresses.
    rte_eth_allmulticast_enable(port);
    QuietKernelInterface(info.if_index);
  }
  return absl::OkStatus();
}

// PMDs that sit on a kernel interface (af_packet, af_xdp in copy mode) see frames the kernel
// sees too. Since the kernel side of the exception tap owns our addresses, the kernel would also
// answer ARP, ICMP and (with port unreachable) DNS arriving on the data interface: duplicate or
// contradicting replies. Make the kernel ignore that interface: no ARP replies, strict reverse-
// path filtering (the clients' route is via the tap), no IPv6. The old values come back when
// the dataplane stops (~DpdkDataplane).
void DpdkDataplane::QuietKernelInterface(uint32_t if_index) {
  char name[IF_NAMESIZE];
  if (if_index == 0 || if_indextoname(if_index, name) == nullptr) return;
  SetSysctl(absl::StrCat("net/ipv4/conf/", name, "/arp_ignore"), "8");
  SetSysctl(absl::StrCat("net/ipv4/conf/", name, "/rp_filter"), "1");
  SetSysctl(absl::StrCat("net/ipv6/conf/", name, "/disable_ipv6"), "1");
}

// A setting that cannot be made costs what it guards (a duplicate reply, a DAD delay), not the
// service: say so and go on, as the start-up always has.
void DpdkDataplane::SetSysctl(const std::string& key, const char* value) {
  const absl::Status s = sysctls_.Set(key, value);
  if (!s.ok()) {
    maps::Log(maps::LogLevel::kWarning, absl::StrCat("warning: ", s.message()));
  }
}

absl::Status DpdkDataplane::CreateExceptionPath() {
  // The name goes into the net_tap devargs, netlink requests and /proc/sys paths: check it, and
  // every VLAN sub-interface name made from it, before any of them is used.
  SX_RETURN_IF_ERROR(ValidateInterfaceName(settings_.exception_interface));
  for (const PortAddress& a : settings_.addresses) {
    if (a.vlan != 0) {
      SX_RETURN_IF_ERROR(VlanInterfaceName(settings_.exception_interface, a.vlan).status());
    }
  }
  tap_name_ = settings_.exception_interface;
  const std::string vdev = absl::StrCat("net_tap_", tap_name_);
  const std::string args =
      absl::StrFormat("iface=%s,mac=%02x:%02x:%02x:%02x:%02x:%02x", tap_name_, path_.mac[0],
                      path_.mac[1], path_.mac[2], path_.mac[3], path_.mac[4], path_.mac[5]);
  int rc = rte_eal_hotplug_add("vdev", vdev.c_str(), args.c_str());
  if (rc != 0) {
    return absl::InternalError(
        absl::StrCat("cannot create the exception tap ", tap_name_, ": ", rte_strerror(-rc)));
  }
  if (rte_eth_dev_get_port_by_name(vdev.c_str(), &tap_port_) != 0) {
    return absl::InternalError(absl::StrCat("exception tap ", vdev, " has no port"));
  }
  SX_RETURN_IF_ERROR(ConfigurePort(tap_port_, queues_, false));
  absl::StatusOr<RouteNetlink> netlink = RouteNetlink::Open();
  if (!netlink.ok()) return netlink.status();
  // The kernel side carries our addresses, so its TCP stack (and the listener on it) answers
  // what the fast path hands over. No DAD: the address is ours by configuration. What fails
  // here is reported and skipped, as before: it costs TCP on that address, not the fast path.
  const auto warn = [](const absl::Status& s) {
    if (!s.ok()) maps::Log(maps::LogLevel::kWarning, s.message());
    return s.ok();
  };
  SetSysctl(absl::StrCat("net/ipv6/conf/", tap_name_, "/accept_dad"), "0");
  warn(netlink->SetLinkUp(tap_name_));
  for (const PortAddress& a : settings_.addresses) {
    std::string dev = tap_name_;
    if (a.vlan != 0) {
      // The kernel side needs a VLAN sub-interface; kernels without 802.1Q support cannot have
      // one, and then only TCP for that address is lost (UDP, ARP/ND and ICMP stay in the fast
      // path).
      dev = *VlanInterfaceName(tap_name_, a.vlan);
      const absl::Status vlan = netlink->EnsureVlanLink(tap_name_, dev, a.vlan);
      if (!vlan.ok()) {
        maps::Log(maps::LogLevel::kWarning,
                  absl::StrCat("warning: no VLAN ", a.vlan, " on the exception path",
                               IsNoVlanSupport(vlan) ? " (kernel without 802.1Q)" : "", ": TCP to ",
                               a.Text(), " is not served (", vlan.message(), ")"));
        continue;
      }
      SetSysctl(absl::StrCat("net/ipv6/conf/", dev, "/accept_dad"), "0");
      warn(netlink->SetLinkUp(dev));
    }
    if (warn(netlink->ReplaceAddress(dev, a.family, a.addr, a.prefix, a.family == 6))) {
      kernel_addresses_.push_back(a);
    }
  }
  return absl::OkStatus();
}

std::vector<std::string> DpdkDataplane::ExceptionListenAddresses() const {
  std::vector<std::string> out;
  if (tap_port_ == 0xffff) return out;
  for (const PortAddress& a : kernel_addresses_) {
    out.push_back(a.family == 4 ? absl::StrCat(a.Text(), ":", settings_.dns_port)
                                : absl::StrCat("[", a.Text(), "]:", settings_.dns_port));
  }
  return out;
}

void DpdkDataplane::Run(const std::atomic<bool>& stop) {
  std::vector<WorkerContext> ctx(workers_);
  // One sampler per worker, each with its own ring.
  std::vector<TapSampler> taps;
  for (size_t i = 0; i < tap_rings_.size(); ++i) taps.emplace_back(tap_rings_[i], tap_every_);
  auto tap_of = [&](int worker) {
    return static_cast<size_t>(worker) < taps.size() ? &taps[worker] : nullptr;
  };
  // One rate limiter per worker; each gets 1/workers of the configured rates (RSS spreads a
  // prefix over the queues: dataplane/rrl/rate_limiter.h). Their tables are allocated when the
  // first snapshot with rate_limit arrives, on the worker, between bursts.
  std::vector<std::unique_ptr<RateLimiter>> limiters;
  limiters.reserve(workers_);
  for (int i = 0; i < workers_; ++i) {
    limiters.push_back(
        std::make_unique<RateLimiter>(static_cast<uint32_t>(workers_), RateLimiter::RandomSeed()));
  }
  int q = 0;
  unsigned lcore;
  if (main_is_worker_) {
    lcore = rte_lcore_id();
    ctx[0] = WorkerContext{this,
                           port_,
                           tx_port_,
                           tap_port_,
                           0,
                           &path_,
                           follower_,
                           &block_->lcores[lcore],
                           &block_->answers[lcore],
                           &block_->cookies[lcore],
                           &stop,
                           tap_of(0),
                           block_,
                           limiters[0].get(),
                           idle_sleep_us_};
    reflect_ ? WorkerLoop<true>(&ctx[0]) : WorkerLoop<false>(&ctx[0]);
    return;
  }
  RTE_LCORE_FOREACH_WORKER(lcore) {
    if (q >= workers_) break;
    ctx[q] = WorkerContext{this,
                           port_,
                           tx_port_,
                           tap_port_,
                           static_cast<uint16_t>(q),
                           &path_,
                           follower_,
                           &block_->lcores[lcore],
                           &block_->answers[lcore],
                           &block_->cookies[lcore],
                           &stop,
                           tap_of(q),
                           nullptr,
                           limiters[q].get(),
                           idle_sleep_us_};
    HandOver(&ctx[q]);
    rte_eal_remote_launch(reflect_ ? WorkerLoop<true> : WorkerLoop<false>, &ctx[q], lcore);
    ++q;
  }
  // The main lcore publishes the NIC statistics about once a second while the workers serve.
  for (int tick = 0; !stop.load(std::memory_order_relaxed); ++tick) {
    if (tick % 20 == 0) PublishPorts(block_, port_, tx_port_);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  rte_eal_mp_wait_lcore();
  for (int i = 0; i < q; ++i) TakeOver(&ctx[i]);
}

void DpdkDataplane::SetTap(std::vector<TapRing*> rings, uint32_t every) {
  tap_rings_ = std::move(rings);
  tap_every_ = every;
}

DpdkDataplane::~DpdkDataplane() {
  // Put the interfaces' settings back first, while the interfaces are still there.
  const absl::Status restored = sysctls_.Restore();
  if (!restored.ok()) {
    maps::Log(maps::LogLevel::kWarning, absl::StrCat("warning: ", restored.message()));
  }
  for (uint16_t p : {port_, tx_port_, tap_port_}) {
    if (p == 0xffff || !rte_eth_dev_is_valid_port(p)) continue;  // closed ports are invalid
    rte_eth_dev_stop(p);
    rte_eth_dev_close(p);
  }
  if (!tap_name_.empty())
    rte_eal_hotplug_remove("vdev", absl::StrCat("net_tap_", tap_name_).c_str());
  if (pool_ != nullptr) rte_mempool_free(pool_);
}

}  // namespace sextant::dataplane
