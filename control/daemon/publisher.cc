#include "control/daemon/publisher.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "control/compile/resource_compiler.h"
#include "control/util/atomic_file.h"
#include "maps/snapshot_reader.h"
#include "maps/status_macros.h"

namespace sextant::control {

absl::StatusOr<std::unique_ptr<Publisher>> Publisher::Create(const std::string& instance) {
  SX_ASSIGN_OR_RETURN(auto block, maps::ControlBlockMapping::Open(instance, /*create=*/true));
  return std::unique_ptr<Publisher>(new Publisher(instance, std::move(block)));
}

absl::StatusOr<uint64_t> Publisher::Publish(
    const std::function<absl::StatusOr<std::vector<uint8_t>>(uint64_t)>& build) {
  const uint64_t gen = NextGeneration();
  SX_ASSIGN_OR_RETURN(std::vector<uint8_t> blob, build(gen));
  SX_RETURN_IF_ERROR(Stage(gen, blob));
  return Commit(gen);
}

uint64_t Publisher::NextGeneration() const {
  return block_->get()->hdr.active_generation.load(std::memory_order_acquire) + 1;
}

absl::Status Publisher::Stage(uint64_t gen, const std::vector<uint8_t>& blob) const {
  const std::string path = maps::SnapshotPath(instance_, gen);
  // 0640: the dataplane runs as control's user; operators in its group may read them
  // (sextantctl explain), nobody else (zone data, health-check targets).
  SX_RETURN_IF_ERROR(WriteFileAtomically(
      path, absl::string_view(reinterpret_cast<const char*>(blob.data()), blob.size()),
      {.mode = 0640}));
  // Read it back exactly as the dataplane will: a snapshot we could not read is never published.
  if (auto r = maps::SnapshotReader::OpenFile(path); !r.ok()) {
    unlink(path.c_str());
    return r.status();
  }
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> Publisher::Commit(uint64_t gen) {
  if (gen != NextGeneration()) {
    if (gen > NextGeneration()) Discard(gen);  // never the active one
    return absl::AbortedError(absl::StrCat("generation ", gen, " was staged, but generation ",
                                           NextGeneration() - 1, " is active now"));
  }
  block_->get()->hdr.active_generation.store(gen, std::memory_order_release);
  RemoveStale(gen - 1);
  return gen;
}

void Publisher::Discard(uint64_t gen) const { unlink(maps::SnapshotPath(instance_, gen).c_str()); }

absl::StatusOr<std::map<std::string, uint32_t>> Publisher::AssignTargets(
    const PolicyConfig& policies) {
  SX_ASSIGN_OR_RETURN(TargetPlan plan, PlanTargets(policies));
  InitTargetWords(policies, plan);
  return std::move(plan.assigned);
}

absl::StatusOr<Publisher::TargetPlan> Publisher::PlanTargets(const PolicyConfig& policies) const {
  TargetPlan plan;
  std::ifstream in(absl::StrCat("/dev/shm/", instance_, ".targets"));
  std::string name;
  uint32_t index;
  while (in >> name >> index) plan.previous[name] = index;
  SX_ASSIGN_OR_RETURN(plan.assigned,
                      AssignTargetIndexes(policies, plan.previous, maps::kMaxHealthWords));
  return plan;
}

void Publisher::InitTargetWords(const PolicyConfig& policies, const TargetPlan& plan) {
  maps::ControlBlock* b = block_->get();
  for (const TargetConfig& t : policies.targets) {
    const uint32_t word = plan.assigned.at(t.name);
    auto it = plan.previous.find(t.name);
    if (it != plan.previous.end() && it->second == word) continue;
    // A word this target never had: start from the configured assumption.
    b->health[word].store(t.initial_up ? maps::kHealthUp : 0, std::memory_order_relaxed);
  }
}

absl::Status Publisher::SaveTargets(const std::map<std::string, uint32_t>& targets) {
  std::string text;
  for (const auto& [name, index] : targets) absl::StrAppend(&text, name, " ", index, "\n");
  return WriteFileAtomically(absl::StrCat("/dev/shm/", instance_, ".targets"), text,
                             {.mode = 0640});
}

void Publisher::RemoveStale(uint64_t keep_from) {
  const std::string prefix = absl::StrCat(instance_, ".snap.");
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/dev/shm", ec)) {
    const std::string name = e.path().filename().string();
    if (!absl::StartsWith(name, prefix)) continue;
    uint64_t g = 0;
    absl::string_view rest = absl::string_view(name).substr(prefix.size());
    if (absl::EndsWith(rest, ".tmp")) continue;
    if (absl::SimpleAtoi(rest, &g) && g < keep_from) std::filesystem::remove(e.path(), ec);
  }
}

}  // namespace sextant::control
