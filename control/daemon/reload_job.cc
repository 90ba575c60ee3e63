#include "control/daemon/reload_job.h"

#include <algorithm>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "control/compile/snapshot_builder.h"
#include "control/health/health_state.h"

namespace sextant::control {
namespace {

// The zones a reload left out (no version ever loaded), for a message that would otherwise
// say a record's name is in no configured zone.
std::string LeftOut(const ReloadInputs& inputs) {
  std::vector<std::string> names;
  for (const InputRefusal& r : inputs.refusals) {
    if (r.kind == InputRefusal::Kind::kZone && r.last_good_unix_ms == 0) names.push_back(r.name);
  }
  if (names.empty()) return "";
  return absl::StrCat(" (left out, never loaded: zone ", absl::StrJoin(names, ", zone "), ")");
}

absl::Status Build(const ReloadJob& job, ReloadResult* out) {
  absl::StatusOr<Config> config = LoadConfig(job.config_path);
  if (!config.ok()) return config.status();
  if (!job.instance_override.empty()) config->instance = job.instance_override;
  if (config->instance != job.instance) {
    return absl::FailedPreconditionError(absl::StrCat("the instance name changed from ",
                                                      job.instance, " to ", config->instance,
                                                      "; restart sextant-control to change it"));
  }
  out->config = std::move(*config);
  out->config_loaded = true;
  // Watch the files this config names even if it turns out not to compile: fixing any of them
  // must trigger the next attempt.
  out->files = ConfigInputFiles(out->config);
  absl::StatusOr<Publisher::TargetPlan> plan = job.publisher->PlanTargets(out->config.policies);
  if (!plan.ok()) return plan.status();
  out->targets = std::move(*plan);
  if (absl::Status s = CheckInputFiles(out->config); !s.ok()) return s;
  absl::StatusOr<ReloadInputs> inputs =
      LoadReloadInputs(out->config, job.last_good, job.mode, NowUnixMs());
  if (!inputs.ok()) return inputs.status();
  out->inputs = std::move(*inputs);
  out->files.insert(out->files.end(), out->inputs.files.begin(), out->inputs.files.end());
  absl::StatusOr<std::vector<uint8_t>> blob =
      BuildSnapshot(out->config, out->inputs.view(), job.generation, &out->targets.assigned);
  if (!blob.ok()) {
    return absl::Status(blob.status().code(),
                        absl::StrCat(blob.status().message(), LeftOut(out->inputs)));
  }
  for (const auto& z : out->inputs.zones) out->records += z->record_count;
  out->bytes = blob->size();
  return job.publisher->Stage(job.generation, *blob);
}

}  // namespace

ReloadResult RunReloadJob(const ReloadJob& job) {
  const auto start = std::chrono::steady_clock::now();
  ReloadResult out;
  out.generation = job.generation;
  out.status = Build(job, &out);
  std::sort(out.files.begin(), out.files.end());
  out.files.erase(std::unique(out.files.begin(), out.files.end()), out.files.end());
  out.compile_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::steady_clock::now() - start)
                       .count();
  return out;
}

}  // namespace sextant::control
