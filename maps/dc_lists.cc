#include "maps/dc_lists.h"

#include <cstring>

#include "absl/strings/str_cat.h"

namespace sextant::maps {

absl::Status ValidateDcLists(absl::Span<const DcList> lists, int dc_count) {
  for (size_t i = 0; i < lists.size(); ++i) {
    const DcList& l = lists[i];
    if (l.count == 0 || l.count > kMaxDcsPerList) {
      return absl::DataLossError(absl::StrCat("dc list ", i, ": count ", l.count));
    }
    uint32_t seen[8] = {};  // 256-bit set
    for (int j = 0; j < kMaxDcsPerList; ++j) {
      const uint8_t dc = l.dcs[j];
      if (j >= l.count) {
        if (dc != 0) return absl::DataLossError(absl::StrCat("dc list ", i, ": junk after end"));
        continue;
      }
      if (dc >= dc_count) {
        return absl::DataLossError(
            absl::StrCat("dc list ", i, ": datacenter id ", dc, " >= ", dc_count));
      }
      if (seen[dc / 32] & (1u << (dc % 32))) {
        return absl::DataLossError(absl::StrCat("dc list ", i, ": datacenter ", dc, " twice"));
      }
      seen[dc / 32] |= 1u << (dc % 32);
    }
  }
  return absl::OkStatus();
}

}  // namespace sextant::maps
