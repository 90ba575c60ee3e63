// Quiescent-state-based reclamation (QSBR), the scheme of DPDK's rte_rcu_qsbr and Knot's
// urcu usage, without an EAL dependency so that the kernel-socket listener, the DPDK workers
// and the tests share one implementation.
//
// Readers (one slot each, single writer per slot) call Quiescent() between bursts: at that point
// they hold no reference into shared data. A writer that has unpublished an object calls
// Synchronize(); when it returns, every online reader has passed a quiescent state after the
// unpublish, so the object can be freed. Offline readers (blocked in poll/epoll) are skipped.
#pragma once

#include <atomic>
#include <cstdint>
#include <thread>

namespace sextant::maps {

class Qsbr {
 public:
  static constexpr int kMaxReaders = 128;

  // Registers a reader slot; returns its id or -1 when all slots are taken.
  int Register() {
    for (int i = 0; i < kMaxReaders; ++i) {
      bool expected = false;
      if (slots_[i].used.compare_exchange_strong(expected, true)) {
        slots_[i].seen.store(kOffline, std::memory_order_release);
        return i;
      }
    }
    return -1;
  }
  void Unregister(int id) {
    slots_[id].seen.store(kOffline, std::memory_order_release);
    slots_[id].used.store(false, std::memory_order_release);
  }

  // The reader will hold references from now on.
  void Online(int id) {
    slots_[id].seen.store(token_.load(std::memory_order_acquire), std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_seq_cst);
  }
  // The reader holds no references and may block.
  void Offline(int id) { slots_[id].seen.store(kOffline, std::memory_order_release); }
  // The reader holds no references right now (call once per burst / request).
  void Quiescent(int id) {
    slots_[id].seen.store(token_.load(std::memory_order_acquire), std::memory_order_release);
  }

  // Waits until every online reader has passed a quiescent state begun after this call.
  void Synchronize() {
    const uint64_t target = token_.fetch_add(1, std::memory_order_acq_rel) + 1;
    for (int i = 0; i < kMaxReaders; ++i) {
      if (!slots_[i].used.load(std::memory_order_acquire)) continue;
      for (;;) {
        uint64_t seen = slots_[i].seen.load(std::memory_order_acquire);
        if (seen == kOffline || seen >= target) break;
        std::this_thread::yield();
      }
    }
  }

 private:
  static constexpr uint64_t kOffline = ~0ULL;
  struct alignas(64) Slot {
    std::atomic<uint64_t> seen{kOffline};
    std::atomic<bool> used{false};
  };
  alignas(64) std::atomic<uint64_t> token_{1};
  Slot slots_[kMaxReaders];
};

}  // namespace sextant::maps
