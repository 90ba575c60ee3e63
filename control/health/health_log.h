// The health checker's log: one stderr line per message, prefixed "sextant-control: health: ".
#pragma once

#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace sextant::control::health {

// One write(2) per line, so that lines from other threads do not interleave.
inline void Log(absl::string_view msg) {
  const std::string line = absl::StrCat("sextant-control: health: ", msg, "\n");
  ssize_t unused = write(STDERR_FILENO, line.data(), line.size());
  (void)unused;
}

}  // namespace sextant::control::health
