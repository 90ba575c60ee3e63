// What sextant-control checks before it publishes anything: every resource it needs to run (the
// instance, the control socket, the metrics port, the state file) is taken or tried first, so
// that a start that cannot complete leaves the published snapshot as it was. Failures name the
// resource and the system's reason with its errno name ("Address already in use (EADDRINUSE)").
#pragma once

#include <string>

#include "absl/status/status.h"

namespace sextant::control {

// "Permission denied (EACCES)".
std::string ErrnoText(int err);

// The state file's directory exists (created if need be) and takes a new file, and an existing
// state file can be read.
absl::Status CheckStateFile(const std::string& path);

// Why a TCP listener cannot bind host:port right now, as ErrnoText, or "" when it can.
std::string TcpBindProblem(const std::string& host, int port);

}  // namespace sextant::control
