// Replacing a file so that readers see the old content or the new, never a part: write a
// temporary beside it, optionally fsync, then rename over it (POSIX rename is atomic within a
// file system). The snapshot files in /dev/shm, the target-to-word map and the health state
// file are all written this way.
#pragma once

#include <sys/types.h>

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace sextant::control {

struct AtomicWriteOptions {
  mode_t mode = 0644;
  // fsync before the rename: for state that must survive a crash of the machine, not only of
  // the process (tmpfs files need none).
  bool sync = false;
};

// Writes `data` to `path` + ".tmp" and renames it to `path`. On failure nothing is left behind
// and `path` is untouched. Errors name the file and the system's reason.
absl::Status WriteFileAtomically(const std::string& path, absl::string_view data,
                                 const AtomicWriteOptions& options = {});

}  // namespace sextant::control
