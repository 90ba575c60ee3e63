#include "dataplane/engine/policy_pickers.h"

namespace sextant::dataplane {
namespace policy_internal {

constinit thread_local ThreadState t_state{};

}  // namespace policy_internal

void SeedPolicyRandom(uint64_t seed) {
  policy_internal::t_state.rng = seed | 1;
  policy_internal::t_state.rotation = static_cast<uint32_t>(seed);
}

}  // namespace sextant::dataplane
