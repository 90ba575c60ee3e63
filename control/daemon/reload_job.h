// The part of a reload that runs on the reload worker (reload_worker.h): loads the config, loads
// every zone and compiles every geo map (each refused alone, control/compile/reload_inputs.h),
// builds the snapshot and stages it beside the active one. It reads only its ReloadJob and
// files, and writes only its ReloadResult and the staged snapshot file; publishing (the
// release-store), the health table and everything else the loop owns stay with the loop.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "control/compile/reload_inputs.h"
#include "control/config/config.h"
#include "control/daemon/publisher.h"

namespace sextant::control {

struct ReloadJob {
  std::string config_path;
  std::string instance_override;  // --instance; empty: the config's
  std::string instance;           // the running instance (a reload may not change it)
  LastGoodInputs last_good;       // copied pointers to immutable data
  InputMode mode = InputMode::kIsolate;
  uint64_t generation = 0;  // the one to build (Publisher::NextGeneration when it starts)
  const Publisher* publisher = nullptr;  // Stage and PlanTargets only
};

struct ReloadResult {
  absl::Status status;             // ok: staged, ready to commit
  bool config_loaded = false;      // `files` is then worth watching even on failure
  std::vector<std::string> files;  // config inputs, zone and $INCLUDE files
  Config config;
  Publisher::TargetPlan targets;
  ReloadInputs inputs;
  uint64_t generation = 0;  // staged when `status` is ok
  size_t records = 0;
  size_t bytes = 0;
  int64_t compile_ms = 0;  // the whole job
};

// Never throws; every failure is in `status`, worded for the log line "reload refused: ...".
ReloadResult RunReloadJob(const ReloadJob& job);

}  // namespace sextant::control
