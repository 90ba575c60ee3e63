// What a binary was built from, for `--version` and the build_info metric: the release version,
// the git revision and the two shared-memory ABI versions (snapshot and control block), which
// decide whether a sextant-control and a sextant-dataplane can run together.
#pragma once

#include <string>

namespace sextant::maps {

struct BuildInfo {
  const char* version;       // the project's version (CMakeLists.txt)
  const char* git_revision;  // `git describe --always --dirty`, or "unknown"
  unsigned snapshot_abi;     // kAbiVersion
  unsigned control_abi;      // kControlAbiVersion
};

const BuildInfo& ThisBuild();

// "sextant-control 0.1.0 (git 0123456789ab), snapshot ABI 6, control block ABI 2"
std::string VersionLine(const char* program);

}  // namespace sextant::maps
