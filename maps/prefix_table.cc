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

PrefixTrie::PrefixTrie(int max_bits, uint32_t initial) : max_bits_(max_bits) {
  nodes_.push_back(Node{{0, 0}, initial});
}

void PrefixTrie::Split(uint32_t n) {
  const uint32_t v = nodes_[n].value;
  const auto first = static_cast<uint32_t>(nodes_.size());
  nodes_.push_back(Node{{0, 0}, v});
  nodes_.push_back(Node{{0, 0}, v});
  nodes_[n].child[0] = first;
  nodes_[n].child[1] = first + 1;
}

uint32_t PrefixTrie::Descend(const uint8_t* prefix, int len) {
  uint32_t n = 0;
  for (int d = 0; d < len; ++d) {
    if (IsLeaf(n)) Split(n);
    n = nodes_[n].child[(prefix[d / 8] >> (7 - d % 8)) & 1];
  }
  return n;
}

void PrefixTrie::Paint(const uint8_t* prefix, int len, uint32_t value) {
  const uint32_t n = Descend(prefix, len);
  // The subtree below becomes unreachable; the trie is rebuilt per compile, so it is not reused.
  nodes_[n] = Node{{0, 0}, value};
}

void PrefixTrie::MergeBelow(uint32_t n) {
  if (IsLeaf(n)) return;
  const uint32_t c0 = nodes_[n].child[0];
  const uint32_t c1 = nodes_[n].child[1];
  MergeBelow(c0);
  MergeBelow(c1);
  if (IsLeaf(c0) && IsLeaf(c1) && nodes_[c0].value == nodes_[c1].value &&
      nodes_[c0].value != kUnreachable) {
    nodes_[n] = Node{{0, 0}, nodes_[c0].value};
  }
}

void PrefixTrie::Merge() { MergeBelow(0); }

size_t PrefixTrie::LeafCount() const {
  size_t count = 0;
  ForEachLeaf([&](const uint8_t*, int, uint32_t) { ++count; });
  return count;
}

void PrefixTrie::FlattenInto(uint32_t n, int depth, uint32_t chunk_base, int stride_start,
                             int stride_bits, uint32_t index, std::vector<uint32_t>& out,
                             uint32_t unreachable_list) const {
  const int stride_end = stride_start + stride_bits;
  if (IsLeaf(n)) {
    const uint32_t v = nodes_[n].value;
    const uint32_t e = PrefixLeaf(v == kUnreachable ? unreachable_list : v, depth);
    const int free_bits = stride_end - depth;
    const size_t first = chunk_base + (size_t{index} << free_bits);
    std::fill(out.begin() + first, out.begin() + first + (size_t{1} << free_bits), e);
    return;
  }
  if (depth == stride_end) {
    const auto chunk = static_cast<uint32_t>(out.size() / kPrefixChunkEntries);
    out.resize(out.size() + kPrefixChunkEntries);
    out[chunk_base + index] = kPrefixChunkFlag | chunk;
    FlattenInto(n, depth, chunk * kPrefixChunkEntries, depth, 8, 0, out, unreachable_list);
    return;
  }
  FlattenInto(nodes_[n].child[0], depth + 1, chunk_base, stride_start, stride_bits, index * 2, out,
              unreachable_list);
  FlattenInto(nodes_[n].child[1], depth + 1, chunk_base, stride_start, stride_bits, index * 2 + 1,
              out, unreachable_list);
}

std::vector<uint32_t> PrefixTrie::Flatten(uint32_t unreachable_list) const {
  std::vector<uint32_t> out(kPrefixRootEntries, 0);
  FlattenInto(0, 0, 0, 0, 16, 0, out, unreachable_list);
  return out;
}

}  // namespace sextant::maps
