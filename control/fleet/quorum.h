// The fleet verdict of one target: how many of the live nodes that check it see it down, against
// the target's quorum (fleet_config.h Quorum). Pure, so its table of cases says all it does
// (tests/control/fleet/quorum_test.cc).
#pragma once

#include <map>
#include <string>

#include "control/config/fleet_config.h"

namespace sextant::control::fleet {

// `votes`: node -> up, of the live nodes that check the target (this node's own among them).
// `local_up`: this node's own damped verdict. Down everywhere when
//   local:    this node sees it down (the fleet does not matter);
//   any:      at least one voter sees it down;
//   majority: more than half of the voters see it down;
//   all:      every voter sees it down.
// With no votes at all the local verdict stands.
bool FleetUp(Quorum quorum, bool local_up, const std::map<std::string, bool>& votes);

}  // namespace sextant::control::fleet
