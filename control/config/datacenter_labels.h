// The `datacenter:` label of targets, checked against the rest of the configuration. The label is
// what `sextantctl force NAME --datacenter` selects targets by, so a misspelt one silently leaves
// its target out of every datacenter override:
//
//   - with a `datacenters:` section, a target's label must name one of its datacenters (refused
//     otherwise, naming the known ones and the nearest);
//   - without one, labels cannot be checked: one warning says so;
//   - a target reached from the `ams` site of a geo or latency resource but labelled another
//     datacenter is warned about: forcing `ams` down would not move it.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "control/config/resource_config.h"
#include "control/geo/geo_config.h"

namespace sextant::control {

absl::Status CheckTargetDatacenters(const std::string& file, bool has_datacenters_section,
                                    const std::vector<Datacenter>& datacenters,
                                    const PolicyConfig& policies,
                                    std::vector<std::string>* warnings);

}  // namespace sextant::control
