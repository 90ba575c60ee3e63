#include "control/fleet/quorum.h"

namespace sextant::control::fleet {

bool FleetUp(Quorum quorum, bool local_up, const std::map<std::string, bool>& votes) {
  if (quorum == Quorum::kLocal || votes.empty()) return local_up;
  size_t down = 0;
  for (const auto& [node, up] : votes) down += up ? 0 : 1;
  switch (quorum) {
    case Quorum::kAny:
      return down == 0;
    case Quorum::kMajority:
      return 2 * down <= votes.size();
    case Quorum::kAll:
      return down < votes.size();
    case Quorum::kLocal:
      break;
  }
  return local_up;
}

}  // namespace sextant::control::fleet
