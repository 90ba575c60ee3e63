// sextantctl's reports read straight from an instance's shared memory, so that they work while
// sextant-control is down: the dataplane's counters (stats) and the raw health words (health's
// fallback).
#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace sextant::control {

absl::StatusOr<std::string> StatsReport(const std::string& instance, bool json);
absl::StatusOr<std::string> HealthReport(const std::string& instance, bool json);

}  // namespace sextant::control
