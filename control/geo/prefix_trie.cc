#include "control/geo/prefix_trie.h"

#include <algorithm>
#include <utility>

namespace sextant::control {

using maps::kPrefixChunkEntries;
using maps::kPrefixChunkFlag;
using maps::kPrefixRootEntries;
using maps::PrefixLeaf;

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

}  // namespace sextant::control
