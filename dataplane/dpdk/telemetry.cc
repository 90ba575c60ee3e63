#include "dataplane/dpdk/telemetry.h"

#include <rte_telemetry.h>

#include <atomic>
#include <cstdio>

#include "maps/dataplane_attachment.h"

namespace sextant::dataplane {
namespace {

std::atomic<const maps::ControlBlock*> g_block{nullptr};

// The rcodes a dashboard watches, by their counter slot.
constexpr struct {
  const char* name;
  int slot;
} kRcodes[] = {{"noerror", 0},  {"formerr", 1}, {"servfail", 2},
               {"nxdomain", 3}, {"notimp", 4},  {"refused", 5}};
constexpr const char* kDrops[] = {"dropped_malformed", "dropped_response", "dropped_no_snapshot",
                                  "dropped_not_ours",  "dropped_tx_full",  "dropped_other"};

int Stats(const char*, const char*, rte_tel_data* d) {
  const maps::ControlBlock* b = g_block.load(std::memory_order_acquire);
  if (b == nullptr) return -1;
  int lcores = 0;
  const maps::LcoreCounters t = maps::SumLcores(*b, &lcores);
  rte_tel_data_start_dict(d);
  rte_tel_data_add_dict_u64(d, "generation",
                            b->hdr.active_generation.load(std::memory_order_acquire));
  rte_tel_data_add_dict_u64(d, "dataplanes_attached", maps::AttachedDataplanes(*b).size());
  rte_tel_data_add_dict_u64(d, "lcores", static_cast<uint64_t>(lcores));
  rte_tel_data_add_dict_u64(d, "rx_packets", t.rx_packets);
  rte_tel_data_add_dict_u64(d, "tx_packets", t.tx_packets);
  rte_tel_data_add_dict_u64(d, "queries", t.queries);
  for (const auto& r : kRcodes) rte_tel_data_add_dict_u64(d, r.name, t.rcode[r.slot]);
  rte_tel_data_add_dict_u64(d, "truncated", t.truncated);
  rte_tel_data_add_dict_u64(d, "exception_packets", t.exception_packets);
  for (int k = 0; k < 6; ++k) rte_tel_data_add_dict_u64(d, kDrops[k], t.dropped[k]);
  return 0;
}

// One dict per lcore that has served: {"lcore_N": {queries, rx_packets, tx_packets, generation}}.
int Lcores(const char*, const char*, rte_tel_data* d) {
  const maps::ControlBlock* b = g_block.load(std::memory_order_acquire);
  if (b == nullptr) return -1;
  rte_tel_data_start_dict(d);
  for (uint32_t i = 0; i < maps::kMaxLcores; ++i) {
    const maps::LcoreCounters& c = b->lcores[i];
    if (maps::CounterLoad(c.rx_packets) == 0 && maps::CounterLoad(c.queries) == 0 &&
        maps::CounterLoad(c.generation) == 0)
      continue;
    rte_tel_data* l = rte_tel_data_alloc();
    if (l == nullptr) return -1;
    rte_tel_data_start_dict(l);
    rte_tel_data_add_dict_u64(l, "queries", maps::CounterLoad(c.queries));
    rte_tel_data_add_dict_u64(l, "rx_packets", maps::CounterLoad(c.rx_packets));
    rte_tel_data_add_dict_u64(l, "tx_packets", maps::CounterLoad(c.tx_packets));
    rte_tel_data_add_dict_u64(l, "generation", maps::CounterLoad(c.generation));
    char name[16];
    std::snprintf(name, sizeof(name), "lcore_%u", i);
    if (rte_tel_data_add_dict_container(d, name, l, 0) != 0) rte_tel_data_free(l);
  }
  return 0;
}

}  // namespace

void StopTelemetry() { g_block.store(nullptr, std::memory_order_release); }

void RegisterTelemetry(const maps::ControlBlock* block) {
  static std::atomic<bool> registered{false};
  g_block.store(block, std::memory_order_release);
  if (registered.exchange(true)) return;
  rte_telemetry_register_cmd("/sextant/stats", Stats,
                             "Sextant's counters, summed over the lcores. Takes no parameters");
  rte_telemetry_register_cmd("/sextant/lcores", Lcores,
                             "Sextant's counters per serving lcore. Takes no parameters");
}

}  // namespace sextant::dataplane
