#include "maps/build_info.h"

#include "absl/strings/str_cat.h"
#include "maps/control_block.h"
#include "maps/snapshot_format.h"
#include "sextant_build_info.h"

namespace sextant::maps {

const BuildInfo& ThisBuild() {
  static const BuildInfo kInfo{SEXTANT_VERSION, SEXTANT_GIT_REVISION, kAbiVersion,
                               kControlAbiVersion};
  return kInfo;
}

std::string VersionLine(const char* program) {
  const BuildInfo& b = ThisBuild();
  return absl::StrCat(program, " ", b.version, " (git ", b.git_revision, "), snapshot ABI ",
                      b.snapshot_abi, ", control block ABI ", b.control_abi);
}

}  // namespace sextant::maps
