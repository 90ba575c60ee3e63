// The hidden `sextantctl complete KIND`: the names the bash completion (packaging/
// sextantctl.bash) offers, one a line, from the instance's active snapshot: `targets`,
// `datacenters` (of the geo maps and, when the daemon answers, of the targets), `names` (zone
// origins and the owners of resource records, for explain) and `resources`.
#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace sextant::control {

// `socket_path`: asked (briefly) for the targets' datacenters, which the snapshot does not hold.
absl::StatusOr<std::string> Completions(const std::string& instance, const std::string& socket_path,
                                        const std::string& kind);

}  // namespace sextant::control
