// The health checker's log: one line per message, "sextant-control: health: ...", at the levels
// control/util/log.h names (a target down is a warning, up a notice).
#pragma once

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "control/util/log.h"

namespace sextant::control::health {

inline void LogHealth(LogLevel level, absl::string_view msg) {
  LogLine(level, absl::StrCat("health: ", msg));
}

}  // namespace sextant::control::health
