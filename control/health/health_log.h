// The health checker's log: one stderr line per message, "sextant-control: health: ...", with
// the control plane's timestamp rule (control/util/log.h).
#pragma once

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "control/util/log.h"

namespace sextant::control::health {

inline void Log(absl::string_view msg) { LogLine(absl::StrCat("health: ", msg)); }

}  // namespace sextant::control::health
