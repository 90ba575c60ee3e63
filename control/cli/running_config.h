// The configuration a running instance was published from, for `sextantctl explain`, which reads
// a geo map's own files to say which layer chose a client's preference list (the snapshot does
// not carry that): the --config file when one is given, else the file the control daemon reports
// in `status json` on its socket (a relative path is resolved in the daemon's working directory,
// /proc/PID/cwd, as the daemon itself resolved it).
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "control/config/config.h"

namespace sextant::control {

// `instance`: the instance being explained; a daemon on `socket_path` that serves another one
// is not asked further. Errors say what to pass instead.
absl::StatusOr<Config> RunningConfig(const std::string& socket_path, const std::string& instance);

}  // namespace sextant::control
