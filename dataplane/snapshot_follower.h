// SnapshotFollower tracks the snapshot generation published in the control block, maps (or, from
// its copy_min_bytes on, copies into hugepage-backed memory) and validates each new snapshot off
// the fast path (its own thread), and swaps it in for readers with one atomic pointer store. Old
// snapshots are unmapped only after every registered reader passed a quiescent state (maps/qsbr.h).
// A snapshot that fails validation is refused with a log line and the current one keeps serving;
// each switch is logged too ("generation 3 -> 4").
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "dataplane/engine/engine.h"
#include "maps/control_block.h"
#include "maps/qsbr.h"
#include "maps/snapshot_reader.h"

namespace sextant::dataplane {

struct LoadedSnapshot {
  std::unique_ptr<maps::SnapshotReader> reader;
  Engine engine;
  LoadedSnapshot(std::unique_ptr<maps::SnapshotReader> r, const maps::ControlBlock& block)
      : reader(std::move(r)), engine(*reader) {
    engine.set_health(block.health);
    engine.set_cookie_secrets(&block.cookie_secrets);
  }
};

class SnapshotFollower {
 public:
  // `instance` names the shm files. Does not start polling until Start(). Snapshots of
  // `copy_min_bytes` or more are copied into hugepage-backed memory (SnapshotReader::OpenFile;
  // sextant-dataplane's --snapshot-hugepages).
  SnapshotFollower(std::string instance, maps::ControlBlock* block,
                   size_t copy_min_bytes = maps::kHugePageCopyMinBytes);
  ~SnapshotFollower();

  // Loads the currently published snapshot. Fails when none exists (nothing published yet or
  // the file is gone/corrupt) unless `wait`, in which case it blocks until one appears.
  absl::Status LoadInitial(bool wait, const std::atomic<bool>* stop);
  // Polls the control block every `poll_us` microseconds in a background thread.
  // 1 ms: a snapshot switch is never urgent (health changes go through the health words), and
  // a tighter poll costs a few percent of a core.
  void Start(int poll_us = 1000);
  void Stop();

  // Fast path: the snapshot to use now. Valid until the calling reader's next Quiescent().
  const LoadedSnapshot* current() const { return current_.load(std::memory_order_acquire); }
  maps::Qsbr& qsbr() { return qsbr_; }
  uint64_t generation() const {
    const LoadedSnapshot* s = current();
    return s ? s->reader->generation() : 0;
  }
  // Checks the control block once and swaps if a newer valid snapshot is there (also used by
  // the poll thread). Returns true when a swap happened.
  bool PollOnce();
  // Called (on the polling thread) with each snapshot swapped in after the first. Set it before
  // Start(); it must not block.
  void set_on_swap(std::function<void(const maps::SnapshotReader&)> fn) {
    on_swap_ = std::move(fn);
  }

 private:
  std::string instance_;
  maps::ControlBlock* block_;
  size_t copy_min_bytes_;
  maps::Qsbr qsbr_;
  std::atomic<const LoadedSnapshot*> current_{nullptr};
  uint64_t last_refused_ = 0;
  uint64_t last_refused_inode_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::function<void(const maps::SnapshotReader&)> on_swap_;
};

}  // namespace sextant::dataplane
