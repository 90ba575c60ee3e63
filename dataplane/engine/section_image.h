// Precompiled authority/additional sections: the negative answer's SOA of each zone and the
// referral (NS + glue) of each zone cut, written once at load time by the very code that
// writes them per query (Responder::PutNegative / PutReferral, names compressed by
// MessageWriter), for a question that is the anchor name itself (the zone apex, the cut).
//
// Per query, when the question is at or below the anchor and no CNAME came first, the section is
// a copy of the image with its compression pointers patched: pointers into the question move by
// how much longer the question is than the anchor; pointers inside the image move with where it
// lands. That gives the same bytes the slow path writes, with one exception handled by falling
// back to it: a name of the image below the anchor whose label just above the anchor equals the
// question's (the question "ns.example." and the SOA's "ns.example."), where the slow path
// finds a longer match in the question. Images are built by the Engine (section_images.cc); the
// fast path only reads them.
#pragma once

#include <cstdint>

namespace sextant::dataplane {

struct SectionImage {
  uint32_t bytes = 0;       // offset of the image in SectionImages::bytes
  uint16_t len = 0;         // 0 = no image: the slow path writes this section
  uint16_t authority = 0;   // records it adds to the authority section
  uint16_t additional = 0;  // and to the additional section
  uint8_t anchor_len = 0;   // wire length of the anchor name (root label included)
  uint8_t anchor_labels = 0;
  uint32_t reloc_first = 0;  // its relocations: SectionImages::relocs[first, first + count)
  uint16_t reloc_count = 0;
  uint16_t above_len = 0;  // bytes of `above` labels (length-prefixed, lowered) after the image
  uint16_t reloc_question = 0;  // the first this many relocations point into the question
  uint64_t above_filter = 0;    // AboveFilterBit of each `above` label: most questions miss all
};

// A cheap one-bit summary of a (lowered) label: its length, first and last octets.
inline uint64_t AboveFilterBit(const uint8_t* label) {
  return uint64_t{1} << ((label[0] + label[1] * 7u + label[label[0]] * 13u) & 63);
}

// A relocation is the offset in the image of a compression pointer, written there as the slow
// path wrote it for the question "anchor" (header, anchor, type, class: the image started at
// 16 + anchor_len). The first reloc_question of an image's relocations point into the question
// and move by how much longer the question is than the anchor; the others point into the image
// itself and move with where the image lands (two loops without a test per pointer).

}  // namespace sextant::dataplane
