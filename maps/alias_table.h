// Walker's alias method for the weighted policy's fast path: one draw picks a member by weight
// in constant time (a slot, then the slot's member or its alias), where a binary search of
// prefix sums took about log2(n) dependent steps.
//
// Built with Vose's construction in integers, so the compiler and the snapshot reader (which
// rebuilds the table to check it) get exactly the same result. Member k's weight w_k is worth
// w_k * n units; each of the n slots holds W = sum(w) units, `keep` of them its own member's and
// the rest its alias's. A draw takes slot s uniformly and a 32-bit u: member s when
// u < Member.alias_keep, else Member.alias. Then P(member k) = w_k / W within n / 2^32 (the
// rounding of each slot's share to 32 bits), far below what any test or client could see.
// Weight-0 members own no units, so they are never drawn.
#pragma once

#include <cstdint>

#include "maps/snapshot_format.h"

namespace sextant::maps {

// Sets alias and alias_keep of members m[0, n) (n <= 64) from their weights.
inline void BuildAliasTable(Member* m, uint32_t n) {
  uint64_t total = 0;
  for (uint32_t k = 0; k < n; ++k) total += m[k].weight;
  uint64_t units[64];
  uint8_t small[64], large[64];
  uint32_t ns = 0, nl = 0;
  for (uint32_t k = 0; k < n; ++k) {
    units[k] = uint64_t{m[k].weight} * n;
    m[k].alias = static_cast<uint8_t>(k);
    m[k].alias_keep = 0xFFFFFFFFu;  // full (and, with no weights at all, unused)
    if (total == 0) continue;
    (units[k] < total ? small[ns++] : large[nl++]) = static_cast<uint8_t>(k);
  }
  while (ns > 0 && nl > 0) {
    const uint8_t s = small[--ns];
    const uint8_t l = large[nl - 1];
    m[s].alias = l;
    // units[s] < total, so the share is below 2^32.
    m[s].alias_keep = static_cast<uint32_t>((units[s] << 32) / total);
    units[l] -= total - units[s];
    if (units[l] < total) {
      --nl;
      small[ns++] = l;
    }
  }
  // What is left is full (up to rounding in the last steps): it keeps its own member.
}

}  // namespace sextant::maps
