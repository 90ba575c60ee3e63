// The geo compiler's working form of a prefix table (maps/prefix_table.h is the read side the
// dataplane uses): a full binary trie per family, painted with networks, merged, then flattened
// into the array form the snapshot stores.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "maps/prefix_table.h"

namespace sextant::control {

using maps::PrefixTableView;

// The owned arrays, as the compiler produces them and the snapshot stores them.
struct SerializedPrefixTable {
  std::vector<uint32_t> v4;
  std::vector<uint32_t> v6;

  PrefixTableView view() const { return {v4, v6}; }
  size_t bytes() const { return (v4.size() + v6.size()) * sizeof(uint32_t); }
};

// The compiler's mutable working form: a full binary trie over one family whose leaves carry a
// value (a list id, or one of the markers below). Built by painting networks over a default,
// merged, then flattened into the array form above.
class PrefixTrie {
 public:
  // Marks IPv6 space that lookups never reach (it is served from the IPv4 array). It never merges
  // with a neighbour: a merged network spanning it would report a scope that claims the answer
  // for clients that actually get another one.
  static constexpr uint32_t kUnreachable = 0x7fffffffu;

  PrefixTrie(int max_bits, uint32_t initial);

  // Every address in prefix/len gets `value`, whatever was there (less or more specific).
  void Paint(const uint8_t* prefix, int len, uint32_t value);
  // Calls value = fn(value) on every leaf inside prefix/len, splitting leaves that straddle it.
  template <typename Fn>
  void Transform(const uint8_t* prefix, int len, Fn fn) {
    TransformBelow(Descend(prefix, len), fn);
  }
  template <typename Fn>
  void TransformAll(Fn fn) {
    TransformBelow(0, fn);
  }
  // Joins sibling leaves with equal values, bottom up.
  void Merge();
  size_t LeafCount() const;
  // fn(prefix bytes (16, family order), length, value) for every leaf in address order.
  template <typename Fn>
  void ForEachLeaf(Fn fn) const {
    uint8_t addr[16] = {};
    VisitLeaves(0, 0, addr, fn);
  }
  // The flat array form; values must be list ids (kUnreachable becomes list `unreachable_list`).
  std::vector<uint32_t> Flatten(uint32_t unreachable_list) const;
  int max_bits() const { return max_bits_; }

 private:
  struct Node {
    uint32_t child[2];  // both 0 = leaf (node 0 is the root, never a child)
    uint32_t value;
  };
  bool IsLeaf(uint32_t n) const { return nodes_[n].child[0] == 0; }
  void Split(uint32_t n);
  uint32_t Descend(const uint8_t* prefix, int len);
  template <typename Fn>
  void TransformBelow(uint32_t n, Fn& fn) {
    if (IsLeaf(n)) {
      nodes_[n].value = fn(nodes_[n].value);
      return;
    }
    TransformBelow(nodes_[n].child[0], fn);
    TransformBelow(nodes_[n].child[1], fn);
  }
  template <typename Fn>
  void VisitLeaves(uint32_t n, int depth, uint8_t* addr, Fn& fn) const {
    if (IsLeaf(n)) {
      fn(static_cast<const uint8_t*>(addr), depth, nodes_[n].value);
      return;
    }
    VisitLeaves(nodes_[n].child[0], depth + 1, addr, fn);
    addr[depth / 8] |= 0x80 >> (depth % 8);
    VisitLeaves(nodes_[n].child[1], depth + 1, addr, fn);
    addr[depth / 8] &= ~(0x80 >> (depth % 8));
  }
  void MergeBelow(uint32_t n);
  void FlattenInto(uint32_t n, int depth, uint32_t chunk_base, int stride_start, int stride_bits,
                   uint32_t index, std::vector<uint32_t>& out, uint32_t unreachable_list) const;

  int max_bits_;
  std::vector<Node> nodes_;
};

}  // namespace sextant::control
