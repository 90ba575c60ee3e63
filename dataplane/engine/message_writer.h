// The response writer of the answer engine: appends to the message in place, within a size
// limit, with RFC 1035 section 4.1.4 name compression.
#pragma once

#include <cstddef>
#include <cstdint>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "dataplane/engine/bytes.h"
#include "dataplane/engine/query.h"
#include "maps/dns/wire.h"

namespace sextant::dataplane {

inline constexpr int kMaxCompress = 32;
inline constexpr size_t kMaxPointerTarget = 0x3FFF;  // 14 bits of offset (RFC 1035 4.1.4)

// `limit` excludes the room reserved for the OPT record.
//
// Name compression (RFC 1035 4.1.4): every name written may later be pointed at, whole or by a
// suffix. The names we may point at ("targets": the question, then each name written with at
// least one literal label, starting below 0x3FFF, at most kMaxCompress of them) are kept as a
// tree of suffixes, built as they are written: a node per literal label, whose parent is the
// rest of the name (the next label, or the node a pointer led to). Writing a name walks the tree
// along the name's labels backwards; the deepest node reached is the longest suffix already in
// the packet, and its offset is the pointer. Since every name is compressed as far as the tree
// allows before its own labels join it, a suffix is never in the tree twice, so the result is
// the one of comparing with every target in turn (what RFC 1035 describes), without reading
// them back from the packet each time. The question is the first chain of the tree, and most
// names end like it, so the walk starts with one byte comparison against the question.
//
// A label past offset 0x3FFF is never pointed at (a pointer has 14 bits), but a longer match
// through it still is; names are compared whole, whatever their number of labels.
class MessageWriter {
 public:
  MessageWriter(uint8_t* buf, size_t limit, size_t pos, const LName& qname)
      : b_(buf), limit_(limit), pos_(pos), qname_(qname) {}

  size_t pos() const { return pos_; }
  void Rewind(size_t pos) {
    pos_ = pos;
    if (!names_started_) return;
    while (ncomp_ > 0 && comp_[ncomp_ - 1] >= pos) --ncomp_;
    // Nodes were added in packet order of their targets and each target's labels lie after
    // its start, so the nodes of dropped targets are the last ones; the newest node is always
    // its parent's first child.
    while (nnodes_ > 1 && node_[nnodes_ - 1].pos >= pos) {
      const Node& n = node_[--nnodes_];
      node_[n.parent].first_child = n.next_sibling;
    }
  }

  // Room for n more bytes: where they go, or nullptr when they do not fit. The caller fills
  // them all.
  uint8_t* Reserve(size_t n) {
    if (ABSL_PREDICT_FALSE(pos_ + n > limit_)) return nullptr;
    uint8_t* p = b_ + pos_;
    pos_ += n;
    return p;
  }
  bool Put(const uint8_t* p, size_t n) {
    uint8_t* dst = Reserve(n);
    if (dst == nullptr) return false;
    CopyBytes(dst, p, n);
    return true;
  }
  bool PutPointer(uint16_t target) {
    uint8_t* dst = Reserve(2);
    if (dst == nullptr) return false;
    dns::Put16(dst, static_cast<uint16_t>(0xC000 | target));
    return true;
  }
  void Set16(size_t at, uint16_t v) { dns::Put16(b_ + at, v); }

  // Writes an uncompressed wire name (any case), compressed against the targets: the longest
  // matching suffix (ASCII case-insensitively) becomes a pointer. Sets *name_len to the
  // name's length when given.
  bool PutName(const uint8_t* name, size_t* name_len = nullptr) {
    if (ABSL_PREDICT_FALSE(!names_started_)) StartNames();
    uint8_t nl[kMaxLabels];  // label offsets in `name`
    int n = 0;
    size_t end = 0;  // offset of the root label
    for (; name[end] != 0; end += 1 + name[end]) nl[n++] = static_cast<uint8_t>(end);
    if (name_len != nullptr) *name_len = end + 1;
    // Compared in lowercase: names in rdata keep their case, the tree's keys and the question's
    // copy are lowered.
    uint8_t lower[256];
    CopyLower(lower, name, end + 1);

    int best = 0;         // labels matched
    int best_node = 0;    // their node (0 = the root: nothing matched)
    uint16_t target = 0;  // and its offset
    if (ABSL_PREDICT_TRUE(!tree_full_)) {
      // Most names end like the question (the zone's own names do). That part of the walk is
      // the question's own nodes, node i for its last i labels, so it is found with one
      // comparison of bytes; the walk goes on from there.
      int node = QuestionSuffix(lower, nl, n, end);
      best = best_node = node;
      for (int k = n - 1 - node; k >= 0; --k) {
        node = FindChild(node, lower + nl[k]);
        if (node == 0) break;
        // Labels past 0x3FFF (only in a long TCP answer) are in the tree but cannot be pointed
        // at; a longer match through them still can be.
        if (node_[node].pos <= kMaxPointerTarget) {
          best = n - k;
          best_node = node;
        }
      }
      if (best > 0) target = node_[best_node].pos;
    } else {
      best = MatchByScan(lower, nl, n, &target);
    }

    const size_t start = pos_;
    const size_t literal = best > 0 ? nl[n - best] : end;
    uint8_t* dst = Reserve(literal + (best > 0 ? 2 : 1));
    if (dst == nullptr) return false;
    CopyBytes(dst, name, literal);
    if (best > 0) {
      dns::Put16(dst + literal, static_cast<uint16_t>(0xC000 | target));
    } else {
      dst[literal] = 0;
    }
    if (literal > 0 && start < kMaxPointerTarget && ncomp_ < kMaxCompress) {
      comp_[ncomp_++] = static_cast<uint16_t>(start);
      if (!tree_full_) AddNodes(start, lower, nl, n - best, best_node);
    }
    return true;
  }

 private:
  // Node 0 is the root (the empty suffix); indices fit a byte. A name has at most 127 labels,
  // so the question always fits; a packet whose targets have more labels than this between
  // them (only long names in long answers) goes on with MatchByScan.
  static constexpr int kMaxNodes = 256;
  static_assert(kMaxNodes > kMaxLabels, "the question's labels always fit");
  struct Node {
    uint64_t key;          // LabelKey of its first label
    uint16_t pos;          // offset of this suffix's first label in the packet
    uint8_t parent;        // the suffix without that label
    uint8_t first_child;   // 0 = none (the root is nobody's child)
    uint8_t next_sibling;  // 0 = none
  };

  // A lowered label's first 8 bytes (its length byte first) as one word: two labels of up to 7
  // octets are equal exactly when their keys are; longer ones compare the rest too. So finding
  // a child is one comparison of words per sibling, mostly.
  static uint64_t LabelKey(const uint8_t* label) {
    const size_t n = 1 + label[0];
    return n >= 8 ? Load64(label) : Fold(label, n);
  }

  // The targets, starting with the question. Set up only when a name is first written: a plain
  // answer points at the question and writes no name.
  //
  // The question's labels are nodes 1 to L, node i for its last i labels. Their keys are never
  // needed: a walk starts at the question's node for the longest suffix the name shares with
  // the question (QuestionSuffix), so the question's next label is known not to match there.
  // Key 0 (no label has length 0) keeps FindChild from ever matching them.
  ABSL_ATTRIBUTE_NOINLINE void StartNames() {
    names_started_ = true;
    comp_[0] = dns::kHeaderSize;
    ncomp_ = 1;
    tree_full_ = false;
    for (uint64_t& w : question_labels_) w = 0;
    const int labels = qname_.labels;
    node_[0].first_child = labels > 0 ? 1 : 0;
    for (int i = 1; i <= labels; ++i) {
      const uint8_t off = qname_.off[labels - i];
      node_[i] = Node{.key = 0,
                      .pos = static_cast<uint16_t>(dns::kHeaderSize + off),
                      .parent = static_cast<uint8_t>(i - 1),
                      .first_child = static_cast<uint8_t>(i < labels ? i + 1 : 0),
                      .next_sibling = 0};
      question_labels_[off / 64] |= uint64_t{1} << (off % 64);
    }
    nnodes_ = labels + 1;
  }

  // How many labels the lowered name `lower` (label offsets nl[0, n), root label at `end`)
  // shares at its end with the question. A suffix of the name from one of its labels is a
  // suffix of the question when the question has a label starting as far from its end and the
  // bytes from there on are the same. The first such suffix is the longest.
  int QuestionSuffix(const uint8_t* lower, const uint8_t* nl, int n, size_t end) const {
    for (int k = 0; k < n; ++k) {
      const size_t bytes = end + 1 - nl[k];  // root label included
      if (bytes > qname_.len) continue;
      const size_t at = qname_.len - bytes;
      if ((question_labels_[at / 64] >> (at % 64) & 1) != 0 &&
          BytesEqual(lower + nl[k], qname_.data + at, bytes)) {
        return n - k;
      }
    }
    return 0;
  }

  // Adds the first `count` labels of the name written at `start` (lowered: `lower`, label
  // offsets `nl`), the last one as a child of `parent`.
  void AddNodes(size_t start, const uint8_t* lower, const uint8_t* nl, int count, int parent) {
    if (ABSL_PREDICT_FALSE(nnodes_ + count > kMaxNodes)) {
      tree_full_ = true;
      return;
    }
    for (int k = count - 1; k >= 0; --k) {
      Node& n = node_[nnodes_];
      n.key = LabelKey(lower + nl[k]);
      n.pos = static_cast<uint16_t>(start + nl[k]);
      n.parent = static_cast<uint8_t>(parent);
      n.first_child = 0;
      n.next_sibling = node_[parent].first_child;
      node_[parent].first_child = static_cast<uint8_t>(nnodes_);
      parent = nnodes_++;
    }
  }

  // The child of `parent` whose first label is the lowered `label`, or 0.
  int FindChild(int parent, const uint8_t* label) const {
    const uint64_t key = LabelKey(label);
    for (int c = node_[parent].first_child; c != 0; c = node_[c].next_sibling) {
      if (node_[c].key == key &&
          (label[0] <= 7 || BytesEqualLowered(b_ + node_[c].pos + 8, label + 8, label[0] - 7))) {
        return c;
      }
    }
    return 0;
  }

  // The slow way, once the tree is full: compares the lowered name with each target, reading
  // the target's labels back from the packet. Returns the labels matched and sets *target.
  ABSL_ATTRIBUTE_NOINLINE int MatchByScan(const uint8_t* lower, const uint8_t* nl, int n,
                                          uint16_t* target) const {
    int best = 0;
    uint16_t pl[kMaxLabels];
    for (int e = 0; e < ncomp_; ++e) {
      const int m = PacketLabels(comp_[e], pl);
      int k = 0;
      while (k < n && k < m) {
        const uint8_t* a = b_ + pl[m - 1 - k];
        const uint8_t* b = lower + nl[n - 1 - k];
        if (a[0] != b[0] || !BytesEqualLowered(a + 1, b + 1, a[0])) break;
        ++k;
      }
      while (k > 0 && pl[m - k] > kMaxPointerTarget) --k;
      if (k > best) {
        best = k;
        *target = pl[m - k];
        if (best == n) break;
      }
    }
    return best;
  }
  // Label positions of the (possibly compressed) name we wrote at `off`. A name has at most
  // 127 labels, and pointers only lead backwards to other targets, so 256 steps reach its end.
  int PacketLabels(uint16_t off, uint16_t* pos) const {
    int n = 0;
    size_t i = off;
    for (int steps = 0; steps < 256 && n < kMaxLabels; ++steps) {
      uint8_t l = b_[i];
      if (l == 0) return n;
      if ((l & 0xC0) == 0xC0) {
        i = (l & 0x3F) << 8 | b_[i + 1];
        continue;
      }
      pos[n++] = static_cast<uint16_t>(i);
      i += 1 + l;
    }
    return n;
  }

  uint8_t* b_;
  size_t limit_;
  size_t pos_;
  const LName& qname_;
  bool names_started_ = false;  // the members below are set
  bool tree_full_;
  int ncomp_;
  int nnodes_;
  uint64_t question_labels_[4];  // bit i: a label of the question starts at qname_.data[i]
  uint16_t comp_[kMaxCompress];  // target offsets, in packet order
  Node node_[kMaxNodes];
};

}  // namespace sextant::dataplane
