// Operator commands that read the shared memory of a running
// instance directly: counters, targets' health, and `explain`, which runs the real engine and
// policy evaluation on the active snapshot and says why the answer is what it is.
#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace sextant::control {

absl::StatusOr<std::string> StatsReport(const std::string& instance, bool json);
absl::StatusOr<std::string> HealthReport(const std::string& instance, bool json);
absl::StatusOr<std::string> Explain(const std::string& instance, const std::string& name,
                                    const std::string& type, const std::string& client);

}  // namespace sextant::control
