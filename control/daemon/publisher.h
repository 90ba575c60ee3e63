// Publisher writes a snapshot beside the active one in /dev/shm and publishes it with one
// release-store of its generation in the control block (maps/control_block.h). It keeps the
// active snapshot and its predecessor on disk and removes older ones.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "control/config/resource_config.h"
#include "maps/control_block.h"

namespace sextant::control {

class Publisher {
 public:
  static absl::StatusOr<std::unique_ptr<Publisher>> Create(const std::string& instance);

  // Builds the snapshot for the next generation with `build`, writes it, verifies that it reads
  // back, then publishes it. On any error nothing is published and the active one stays.
  absl::StatusOr<uint64_t> Publish(
      const std::function<absl::StatusOr<std::vector<uint8_t>>(uint64_t generation)>& build);

  // Publish in two steps, for a reload compiled off the event loop. Stage writes generation
  // `generation`'s snapshot beside the active one and verifies that it reads back; no reader
  // looks at it until Commit. It touches no shared memory, so any thread may call it. Commit
  // publishes a staged generation (on the thread that owns the control block); it refuses one
  // that is no longer the next generation (another publish came first), and Discard removes
  // a staged file that will not be committed.
  absl::Status Stage(uint64_t generation, const std::vector<uint8_t>& blob) const;
  absl::StatusOr<uint64_t> Commit(uint64_t generation);
  void Discard(uint64_t generation) const;
  uint64_t NextGeneration() const;

  // Health word indices for the configured targets, stable across reloads and restarts: kept in
  // /dev/shm/<instance>.targets beside the control block (whose words they index). New targets
  // get a free word, initialised to their configured initial state. Call SaveTargets() once
  // the snapshot using them is published.
  absl::StatusOr<std::map<std::string, uint32_t>> AssignTargets(const PolicyConfig& policies);
  absl::Status SaveTargets(const std::map<std::string, uint32_t>& targets);
  // AssignTargets in two steps: PlanTargets only reads (any thread); InitTargetWords stores the
  // new targets' initial words (the control block's owner, before publishing).
  struct TargetPlan {
    std::map<std::string, uint32_t> previous;  // as saved by the last SaveTargets
    std::map<std::string, uint32_t> assigned;
  };
  absl::StatusOr<TargetPlan> PlanTargets(const PolicyConfig& policies) const;
  void InitTargetWords(const PolicyConfig& policies, const TargetPlan& plan);

  maps::ControlBlock* block() const { return block_->get(); }
  const std::string& instance() const { return instance_; }

 private:
  Publisher(std::string instance, std::unique_ptr<maps::ControlBlockMapping> b)
      : instance_(std::move(instance)), block_(std::move(b)) {}
  void RemoveStale(uint64_t keep_from);

  std::string instance_;
  std::unique_ptr<maps::ControlBlockMapping> block_;
};

}  // namespace sextant::control
