#include "dataplane/engine/answer_images.h"

#include <algorithm>
#include <cstring>

#include "dataplane/engine/bytes.h"
#include "dataplane/engine/engine.h"
#include "dataplane/engine/records.h"
#include "maps/dns/wire.h"

namespace sextant::dataplane {
namespace {

// Whether the resolver answers a question for exactly this node and rs's type with rs alone,
// written by PutPlainRRset under the question: not below (or at) a zone cut, a zone RRset
// without a resource, no names in its rdata and no additional records.
bool Imageable(const maps::Node& n, const maps::RRset& rs) {
  const size_t len = size_t{rs.rr_count} * 10 + rs.rdata_length;
  return n.cut == maps::kNone && rs.resource == maps::kNone &&
         rs.rdata_names == maps::kRdataNoNames && rs.additional_count == 0 &&
         len >= kMinAnswerImage && len <= kMaxAnswerImage;
}

}  // namespace

AnswerImages BuildAnswerImages(const SnapshotView& v, uint32_t node_count) {
  AnswerImages out;
  if (v.zones == nullptr || v.nodes == nullptr || v.buckets == nullptr) return out;
  const uint32_t limit = std::min(node_count, kMaxAnswerImageNodes);
  out.pairs.assign(limit, AnswerImagePair{});
  uint32_t end = 0;  // 1 + the last node with an image
  for (uint32_t n = 0; n < limit; ++n) {
    const maps::Node& node = v.nodes[n];
    const maps::RRset* sets[2] = {FirstRRsetOfType(v, node, maps::dns::kTypeA),
                                  FirstRRsetOfType(v, node, maps::dns::kTypeAaaa)};
    for (int slot = 0; slot < 2; ++slot) {
      const maps::RRset* rs = sets[slot];
      if (rs == nullptr || !Imageable(node, *rs)) continue;
      const size_t len = size_t{rs->rr_count} * 10 + rs->rdata_length;
      AnswerImage& img = out.pairs[n].slot[slot];
      uint8_t* p = img.data;
      if (len > kAnswerImageInline) {
        if (out.bytes.size() + len > kMaxAnswerImageBytes) continue;
        const auto offset = static_cast<uint32_t>(out.bytes.size());
        std::memcpy(img.data, &offset, sizeof offset);
        out.bytes.resize(out.bytes.size() + len);
        p = out.bytes.data() + offset;
      }
      img.len = static_cast<uint16_t>(len);
      img.count = rs->rr_count;
      // The very writer of PutPlainRRset, owner the question.
      const RecordHead head(maps::dns::kHeaderSize, rs->type, rs->ttl);
      const uint8_t* rd = v.rdata + rs->rdata_offset;
      for (uint16_t i = 0; i < rs->rr_count; ++i) {
        p = head.Write(p, rd);
        rd += 2 + Load16(rd);
      }
      end = n + 1;
    }
  }
  out.pairs.resize(end);
  out.pairs.shrink_to_fit();
  return out;
}

void AnswerImages::Attach(SnapshotView* v) const {
  v->answer_images = pairs.empty() ? nullptr : pairs.data();
  v->answer_image_nodes = static_cast<uint32_t>(pairs.size());
  v->answer_image_bytes = bytes.data();
  uint8_t opt[8] = {0};  // root owner
  maps::dns::Put16(opt + maps::dns::kOptType, maps::dns::kTypeOpt);
  maps::dns::Put16(opt + maps::dns::kOptUdpSize, v->edns_udp_size);
  v->answer_opt_head = Load64(opt);
}

}  // namespace sextant::dataplane
