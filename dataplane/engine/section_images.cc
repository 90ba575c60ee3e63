#include "dataplane/engine/section_images.h"

#include <cstring>
#include <optional>

#include "dataplane/engine/engine.h"
#include "dataplane/engine/message_writer.h"
#include "dataplane/engine/query.h"
#include "dataplane/engine/responder.h"
#include "maps/dns/wire.h"

namespace sextant::dataplane {
namespace {

// Images whose internal pointers could leave 14 bits are not made.
constexpr size_t kMaxImage = 0x3FFF;
constexpr size_t kMaxAboveLabels = 8;

// Writes one section with the slow path for the question "anchor" and takes it apart.
class ImageBuilder {
 public:
  ImageBuilder(const SnapshotView& v, SectionImages* out)
      : v_(v), out_(*out), buf_(kMaxDnsMessage) {}

  // `write(responder)` writes the section; `kinds` is the RdataNames of each record it writes,
  // in order. Returns the image, or nothing when the section cannot be imaged.
  template <typename WriteFn>
  std::optional<SectionImage> Build(uint32_t anchor_node, WriteFn write,
                                    const std::vector<uint8_t>& kinds) {
    const maps::Node& node = v_.nodes[anchor_node];
    anchor_ = v_.names + node.name_offset;  // lowered
    anchor_len_ = node.name_length;
    std::memset(buf_.data(), 0, dns::kHeaderSize);
    std::memcpy(buf_.data() + dns::kHeaderSize, anchor_, anchor_len_);
    qend_ = dns::kHeaderSize + anchor_len_ + 4;
    Query q{};
    IndexName(anchor_, &q.qname);
    const ClientInfo client{};
    MessageWriter w(buf_.data(), buf_.size(), qend_, q.qname);
    Responder<false> r(v_, &w, client, q, nullptr);
    if (!write(r)) return std::nullopt;
    end_ = w.pos();
    if (end_ - qend_ > kMaxImage) return std::nullopt;
    relocs_.clear();
    internal_relocs_.clear();
    above_.clear();
    above_count_ = 0;
    above_filter_ = 0;
    size_t pos = qend_;
    for (uint8_t kind : kinds) {
      if (!Record(kind, &pos)) return std::nullopt;
    }
    if (pos != end_) return std::nullopt;
    return Append(node, r.counts);
  }

 private:
  // One record at *pos: its owner and the names of its rdata.
  bool Record(uint8_t kind, size_t* pos) {
    size_t p = *pos;
    if (!Name(&p) || p + 10 > end_) return false;
    const size_t rdata = p + 10;
    const size_t rd_end = rdata + dns::Get16(buf_.data() + p + 8);
    if (rd_end > end_) return false;
    p = rdata;
    switch (kind) {
      case maps::kRdataNoNames:
        break;
      case maps::kRdataOneName:
        if (!Name(&p)) return false;
        break;
      case maps::kRdataMx:
        p += 2;
        if (!Name(&p)) return false;
        break;
      case maps::kRdataSoa:
        if (!Name(&p) || !Name(&p)) return false;
        break;
      default:
        return false;
    }
    *pos = rd_end;
    return true;
  }

  // The name at *pos: its pointer (if any) becomes a relocation, and its label just above the
  // anchor (if it is below it) is noted.
  bool Name(size_t* pos) {
    const size_t start = *pos;
    size_t p = start;
    while (p < end_ && buf_[p] != 0 && (buf_[p] & 0xC0) == 0) p += 1 + buf_[p];
    if (p >= end_) return false;
    if (buf_[p] == 0) {
      *pos = p + 1;
    } else {
      const uint16_t target = dns::Get16(buf_.data() + p) & 0x3FFF;
      const auto at = static_cast<uint16_t>(p - qend_);
      if (target >= dns::kHeaderSize && target < dns::kHeaderSize + anchor_len_) {
        relocs_.push_back(at);
      } else if (target >= qend_ && target < p) {
        internal_relocs_.push_back(at);
      } else {
        return false;
      }
      *pos = p + 2;
    }
    return NoteAbove(FullName(start));
  }

  // The name at p with its pointers followed, lowered (empty: a pointer loop, never written).
  std::vector<uint8_t> FullName(size_t p) const {
    std::vector<uint8_t> n;
    for (int hops = 0; hops < 128;) {
      const uint8_t c = buf_[p];
      if (c == 0) {
        n.push_back(0);
        return n;
      }
      if ((c & 0xC0) == 0xC0) {
        p = dns::Get16(buf_.data() + p) & 0x3FFF;
        ++hops;
        continue;
      }
      n.push_back(c);
      for (size_t i = 1; i <= c; ++i) n.push_back(dns::Lower(buf_[p + i]));
      p += 1 + c;
    }
    return {};
  }

  // For a name strictly below the anchor, its label just above it: a question with the same
  // label there would let the slow path compress further, so the image is not used for it.
  bool NoteAbove(const std::vector<uint8_t>& n) {
    if (n.empty()) return false;
    if (n.size() <= anchor_len_) return true;
    const size_t cut = n.size() - anchor_len_;
    if (std::memcmp(n.data() + cut, anchor_, anchor_len_) != 0) return true;
    size_t off = 0, label = 0;
    while (off < cut) {
      label = off;
      off += 1 + n[off];
    }
    if (off != cut) return true;  // the anchor's bytes, but not at a label boundary
    for (size_t a = 0; a < above_.size(); a += 1 + above_[a]) {
      if (above_[a] == n[label] && std::memcmp(&above_[a + 1], &n[label + 1], n[label]) == 0) {
        return true;
      }
    }
    if (++above_count_ > kMaxAboveLabels) return false;
    above_filter_ |= AboveFilterBit(&n[label]);
    above_.insert(above_.end(), n.begin() + static_cast<ptrdiff_t>(label),
                  n.begin() + static_cast<ptrdiff_t>(cut));
    return true;
  }

  SectionImage Append(const maps::Node& node, const uint16_t* counts) {
    SectionImage img;
    img.bytes = static_cast<uint32_t>(out_.bytes.size());
    img.len = static_cast<uint16_t>(end_ - qend_);
    img.authority = counts[1];
    img.additional = counts[2];
    img.anchor_len = anchor_len_;
    img.anchor_labels = node.label_count;
    img.reloc_first = static_cast<uint32_t>(out_.relocs.size());
    img.reloc_count = static_cast<uint16_t>(relocs_.size() + internal_relocs_.size());
    img.reloc_question = static_cast<uint16_t>(relocs_.size());
    out_.bytes.insert(out_.bytes.end(), buf_.begin() + static_cast<ptrdiff_t>(qend_),
                      buf_.begin() + static_cast<ptrdiff_t>(end_));
    out_.bytes.insert(out_.bytes.end(), above_.begin(), above_.end());
    img.above_len = static_cast<uint16_t>(above_.size());
    img.above_filter = above_filter_;
    out_.relocs.insert(out_.relocs.end(), relocs_.begin(), relocs_.end());
    out_.relocs.insert(out_.relocs.end(), internal_relocs_.begin(), internal_relocs_.end());
    return img;
  }

  const SnapshotView& v_;
  SectionImages& out_;
  std::vector<uint8_t> buf_;
  const uint8_t* anchor_ = nullptr;
  uint8_t anchor_len_ = 0;
  size_t qend_ = 0, end_ = 0;
  std::vector<uint16_t> relocs_;           // pointers into the question
  std::vector<uint16_t> internal_relocs_;  // pointers into the image
  std::vector<uint8_t> above_;             // length-prefixed lowered labels
  size_t above_count_ = 0;
  uint64_t above_filter_ = 0;
};

const maps::RRset* FindNs(const SnapshotView& v, const maps::Node& n) {
  for (uint16_t i = 0; i < n.rrset_count; ++i) {
    const maps::RRset& rs = v.rrsets[n.rrset_first + i];
    if (rs.type == dns::kTypeNs) return &rs;
  }
  return nullptr;
}

// The RdataNames of each record PutReferral writes for `ns`: its records, then its additionals'.
std::vector<uint8_t> ReferralKinds(const SnapshotView& v, const maps::RRset& ns) {
  std::vector<uint8_t> kinds(ns.rr_count, ns.rdata_names);
  for (uint32_t a = ns.additional_first; a < ns.additional_first + ns.additional_count; ++a) {
    const maps::RRset& ars = v.rrsets[v.additionals[a].rrset];
    kinds.insert(kinds.end(), ars.rr_count, ars.rdata_names);
  }
  return kinds;
}

}  // namespace

SectionImages BuildSectionImages(const SnapshotView& v, uint32_t node_count) {
  SectionImages out;
  out.cuts = std::make_unique<absl::flat_hash_map<uint32_t, SectionImage>>();
  if (v.zones == nullptr || v.nodes == nullptr) return out;
  ImageBuilder b(v, &out);
  out.zones.resize(v.zone_count);
  for (uint32_t z = 0; z < v.zone_count; ++z) {
    const maps::Zone& zone = v.zones[z];
    const maps::RRset& soa = v.rrsets[zone.soa_rrset];
    const std::vector<uint8_t> kinds(soa.rr_count, soa.rdata_names);
    const auto img = b.Build(
        zone.apex_node, [z](Responder<false>& r) { return r.WriteNegativeSlow(z); }, kinds);
    if (img) out.zones[z] = *img;
  }
  for (uint32_t n = 0; n < node_count && out.cuts->size() < kMaxCutImages; ++n) {
    const maps::Node& node = v.nodes[n];
    if (node.cut != n) continue;  // only the cuts that Resolve refers to
    const maps::RRset* ns = FindNs(v, node);
    if (ns == nullptr) continue;
    const auto img = b.Build(
        n, [n](Responder<false>& r) { return r.WriteReferralSlow(n); }, ReferralKinds(v, *ns));
    if (img) out.cuts->emplace(n, *img);
  }
  return out;
}

void SectionImages::Attach(SnapshotView* v) const {
  v->zone_images = zones.empty() ? nullptr : zones.data();
  v->cut_images = cuts && !cuts->empty() ? cuts.get() : nullptr;
  v->image_bytes = bytes.data();
  v->image_relocs = relocs.data();
}

}  // namespace sextant::dataplane
