#include "dataplane/snapshot_follower.h"

#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "dataplane/lifecycle_log.h"
#include "maps/log.h"

namespace sextant::dataplane {

namespace {

// Opens a snapshot for serving: one of `copy_min_bytes` or more is copied into hugepage-backed
// memory, and that copy's cost is logged, since it delays each switch.
absl::StatusOr<std::unique_ptr<maps::SnapshotReader>> OpenForServing(const std::string& path,
                                                                     size_t copy_min_bytes) {
  const auto start = std::chrono::steady_clock::now();
  auto r = maps::SnapshotReader::OpenFile(path, copy_min_bytes);
  if (r.ok() && (*r)->backing() == maps::SnapshotReader::Backing::kHugePageCopy) {
    const std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - start;
    maps::Log(maps::LogLevel::kInfo,
              absl::StrFormat("snapshot %s: %.1f MiB copied into hugepage-backed memory and "
                              "validated in %.0f ms",
                              path, (*r)->size() / 1048576.0, took.count()));
  }
  return r;
}

// The engine on `reader` (its answer images and lines built here, off the fast path); its
// answer lines (dataplane/engine/answer_lines.h) are logged with what they cost, which at a
// million names is 256 MiB and most of the engine's build time.
LoadedSnapshot* Load(std::unique_ptr<maps::SnapshotReader> reader, maps::ControlBlock& block) {
  const auto start = std::chrono::steady_clock::now();
  auto* loaded = new LoadedSnapshot(std::move(reader), block);
  const AnswerLines& lines = loaded->engine.answer_lines();
  if (lines.count != 0) {
    const std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - start;
    const size_t bytes = lines.count * sizeof(AnswerLine);
    const std::string size = bytes < (size_t{1} << 20) ? absl::StrFormat("%d KiB", bytes >> 10)
                                                       : absl::StrFormat("%d MiB", bytes >> 20);
    maps::Log(maps::LogLevel::kInfo,
              absl::StrFormat("snapshot generation %d: answer lines for %d A/AAAA answers in %s, "
                              "%.0f%% of them in their first line, %d without one; engine built "
                              "in %.0f ms",
                              loaded->reader->generation(), lines.keys, size,
                              lines.keys == 0 ? 0.0 : 100.0 * lines.in_first_line / lines.keys,
                              lines.unplaced, took.count()));
  }
  return loaded;
}

}  // namespace

SnapshotFollower::SnapshotFollower(std::string instance, maps::ControlBlock* block,
                                   size_t copy_min_bytes)
    : instance_(std::move(instance)), block_(block), copy_min_bytes_(copy_min_bytes) {}

SnapshotFollower::~SnapshotFollower() {
  Stop();
  qsbr_.Synchronize();
  delete current_.exchange(nullptr);
}

absl::Status SnapshotFollower::LoadInitial(bool wait, const std::atomic<bool>* stop) {
  for (;;) {
    const uint64_t gen = block_->hdr.active_generation.load(std::memory_order_acquire);
    absl::Status last = absl::NotFoundError(
        absl::StrCat("no snapshot published for instance '", instance_, "' yet"));
    if (gen != 0) {
      auto r = OpenForServing(maps::SnapshotPath(instance_, gen), copy_min_bytes_);
      if (r.ok()) {
        current_.store(Load(std::move(r).value(), *block_), std::memory_order_release);
        return absl::OkStatus();
      }
      last = r.status();
    }
    if (!wait || (stop != nullptr && stop->load())) return last;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

bool SnapshotFollower::PollOnce() {
  const uint64_t gen = block_->hdr.active_generation.load(std::memory_order_acquire);
  const LoadedSnapshot* cur = current_.load(std::memory_order_acquire);
  if (gen == 0 || (cur != nullptr && cur->reader->generation() == gen)) return false;
  const std::string path = maps::SnapshotPath(instance_, gen);
  if (gen == last_refused_) {
    // Retry a refused generation only when its file was replaced (a new inode).
    struct stat st {};
    if (stat(path.c_str(), &st) != 0 || st.st_ino == last_refused_inode_) return false;
  }
  auto r = OpenForServing(path, copy_min_bytes_);
  if (!r.ok()) {
    // Control may already have replaced it with a newer one (then the next poll finds that);
    // a corrupt snapshot is refused once, loudly, and the current one keeps serving.
    if (block_->hdr.active_generation.load(std::memory_order_acquire) == gen) {
      maps::Log(maps::LogLevel::kWarning,
                absl::StrCat("refusing snapshot generation ", gen, ": ", r.status().message()));
      last_refused_ = gen;
      struct stat st {};
      last_refused_inode_ = stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
    }
    return false;
  }
  LoadedSnapshot* next = Load(std::move(r).value(), *block_);
  const LoadedSnapshot* old = current_.exchange(next, std::memory_order_acq_rel);
  LogSnapshotSwitch(instance_, old != nullptr ? old->reader->generation() : 0, gen);
  if (on_swap_) on_swap_(*next->reader);
  // Every reader that could still hold `old` passes a quiescent state before we unmap it.
  qsbr_.Synchronize();
  delete old;
  return true;
}

void SnapshotFollower::Start(int poll_us) {
  stop_ = false;
  thread_ = std::thread([this, poll_us] {
    while (!stop_.load(std::memory_order_relaxed)) {
      PollOnce();
      std::this_thread::sleep_for(std::chrono::microseconds(poll_us));
    }
  });
}

void SnapshotFollower::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

}  // namespace sextant::dataplane
