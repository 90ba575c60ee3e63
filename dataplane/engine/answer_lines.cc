#include "dataplane/engine/answer_lines.h"

#include <cstring>
#include <memory>
#include <utility>

namespace sextant::dataplane {
namespace {

// A key's cuckoo walk moves at most this many lines before the key is left to the name table.
constexpr int kMaxKicks = 256;

bool Empty(const AnswerLine& line) { return line.name_len == 0; }

uint64_t LineHash(const AnswerLine& line) { return maps::NameHash(line.bytes, line.name_len); }

// Puts `item` into one of its two lines, moving the lines' occupants to their other line in turn
// (cuckoo hashing) while there is none free. False when the walk gave up: one key (not
// necessarily `item`) then has no line.
bool Insert(AnswerLine* lines, uint32_t mask, AnswerLine item) {
  AnswerLineIndex at = AnswerLineIndexOf(LineHash(item), item.slot, mask);
  if (Empty(lines[at.first])) {
    lines[at.first] = item;
    return true;
  }
  uint32_t pos = at.second;
  for (int kick = 0; kick < kMaxKicks; ++kick) {
    if (Empty(lines[pos])) {
      lines[pos] = item;
      return true;
    }
    std::swap(item, lines[pos]);  // item is now the key that lived at pos: to its other line
    at = AnswerLineIndexOf(LineHash(item), item.slot, mask);
    pos = at.first == pos ? at.second : at.first;
  }
  return false;
}

}  // namespace

AnswerLines BuildAnswerLines(const SnapshotView& v, const AnswerImages& images,
                             uint32_t max_lines) {
  AnswerLines out;
  if (v.nodes == nullptr || v.names == nullptr || v.buckets == nullptr) return out;
  const auto eligible = [&](uint32_t n, int slot) {
    const AnswerImage& img = images.pairs[n].slot[slot];
    return img.len != 0 && size_t{v.nodes[n].name_length} + img.len <= kAnswerLineBytes;
  };
  size_t keys = 0;
  for (uint32_t n = 0; n < images.pairs.size(); ++n) {
    for (int slot = 0; slot < 2; ++slot) keys += eligible(n, slot) ? 1 : 0;
  }
  if (keys == 0) return out;
  size_t count = 64;
  while (count < keys * 2 && count < max_lines) count <<= 1;
  absl::StatusOr<maps::HugePageCopy> memory =
      maps::HugePageCopy::Zeroed(count * sizeof(AnswerLine));
  if (!memory.ok()) return out;
  auto* const lines = reinterpret_cast<AnswerLine*>(memory->mutable_data());
  std::uninitialized_default_construct_n(lines, count);  // all zero: empty
  const auto mask = static_cast<uint32_t>(count - 1);
  const auto make_line = [&](uint32_t n, int slot) {
    const maps::Node& node = v.nodes[n];
    const AnswerImage& img = images.pairs[n].slot[slot];
    AnswerLine line;
    line.name_len = node.name_length;
    line.slot = static_cast<uint8_t>(slot);
    line.image_len = img.len;
    line.count = static_cast<uint8_t>(img.count);
    std::memcpy(line.bytes, v.names + node.name_offset, node.name_length);
    std::memcpy(line.bytes + node.name_length, AnswerImageBytes(img, images.bytes.data()), img.len);
    return line;
  };
  // Two candidates a key and one key a line hold up to half the lines full; past that the walks
  // grow long and mostly fail.
  const size_t room = count / 2;
  size_t placed = 0;
  for (uint32_t n = 0; n < images.pairs.size(); ++n) {
    for (int slot = 0; slot < 2; ++slot) {
      if (!eligible(n, slot)) continue;
      if (placed < room && Insert(lines, mask, make_line(n, slot))) {
        ++placed;
      } else {
        ++out.unplaced;
      }
    }
  }
  // Keys in their first line are answered after one prefetch, the others after two
  // (burst_prefetch.cc): 73% of them in a table 42% full, 77% at 37%. Placing every key whose
  // first line is free before any walk left the same share (the walks move them on).
  // The others mark their first line spilled (AnswerLine::spilled), once every walk is done.
  for (size_t i = 0; i < count; ++i) {
    if (Empty(lines[i])) continue;
    const uint32_t first = AnswerLineIndexOf(LineHash(lines[i]), lines[i].slot, mask).first;
    if (first == i) {
      ++out.in_first_line;
    } else {
      lines[first].spilled = 1;
    }
  }
  if (!memory->Seal().ok()) return AnswerLines{};
  out.memory = *std::move(memory);
  out.count = count;
  out.keys = placed;
  return out;
}

void AnswerLines::Attach(SnapshotView* v) const {
  v->answer_lines = count == 0 ? nullptr : lines();
  v->answer_line_mask = count == 0 ? 0 : static_cast<uint32_t>(count - 1);
}

}  // namespace sextant::dataplane
