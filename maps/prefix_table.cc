#include "maps/prefix_table.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace sextant::maps {
namespace {

absl::Status ValidateFamily(absl::Span<const uint32_t> t, int max_bits, uint32_t list_count,
                            const char* family) {
  if (t.size() < kPrefixRootEntries || t.size() % kPrefixChunkEntries != 0) {
    return absl::DataLossError(absl::StrCat("prefix table ", family, ": ", t.size(),
                                            " entries is not a 65536-entry root plus chunks"));
  }
  const size_t chunks = t.size() / kPrefixChunkEntries;
  if (chunks > (size_t{1} << 31)) {
    return absl::DataLossError(absl::StrCat("prefix table ", family, ": too large"));
  }
  const int max_level = (max_bits - 16) / 8;  // chunk levels below the root
  std::vector<uint8_t> seen(chunks, 0);
  // (first entry, entry count, level): the root is level 0 and spans 256 chunk numbers.
  struct Pending {
    size_t first;
    size_t count;
    int level;
  };
  std::vector<Pending> stack = {{0, kPrefixRootEntries, 0}};
  while (!stack.empty()) {
    const Pending p = stack.back();
    stack.pop_back();
    const uint32_t end_bit = 16 + 8 * p.level;
    for (size_t i = p.first; i < p.first + p.count; ++i) {
      const uint32_t e = t[i];
      if (e & kPrefixChunkFlag) {
        const uint32_t c = e & ~kPrefixChunkFlag;
        if (p.level == max_level) {
          return absl::DataLossError(absl::StrCat("prefix table ", family, ": entry ", i,
                                                  " points to a chunk below /", max_bits));
        }
        if (c < kPrefixRootEntries / kPrefixChunkEntries || c >= chunks) {
          return absl::DataLossError(
              absl::StrCat("prefix table ", family, ": entry ", i, " chunk ", c, " out of range"));
        }
        if (seen[c]) {
          return absl::DataLossError(
              absl::StrCat("prefix table ", family, ": chunk ", c, " referenced twice"));
        }
        seen[c] = 1;
        stack.push_back({size_t{c} * kPrefixChunkEntries, kPrefixChunkEntries, p.level + 1});
      } else if ((e >> 8) >= list_count || (e & 0xff) > end_bit) {
        return absl::DataLossError(absl::StrCat("prefix table ", family, ": entry ", i,
                                                " has list ", e >> 8, " (of ", list_count,
                                                ") or length ", e & 0xff, " > ", end_bit));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidatePrefixTable(const PrefixTableView& view, uint32_t list_count) {
  if (absl::Status s = ValidateFamily(view.v4, 32, list_count, "IPv4"); !s.ok()) return s;
  return ValidateFamily(view.v6, 128, list_count, "IPv6");
}

}  // namespace sextant::maps
