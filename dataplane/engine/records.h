// Resource records as the answer engine writes them: an owner (a pointer or a name to
// compress), and record writers whose fixed fields are worked out once per RRset.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#if defined(__SSE4_1__)
#include <smmintrin.h>
#endif

#include "absl/base/attributes.h"
#include "dataplane/engine/bytes.h"
#include "maps/dns/wire.h"

namespace sextant::dataplane {

// An owner name: a pointer to a name already in the packet, or a snapshot name to compress.
struct Owner {
  uint16_t ptr = 0;               // nonzero: write a pointer to this offset
  const uint8_t* name = nullptr;  // else this uncompressed name
};

enum class Section { kAnswer, kAuthority, kAdditional };

// TYPE, CLASS and TTL of an RR in wire order: the same for every RR of a set.
inline uint64_t FixedFields(uint16_t type, uint32_t ttl) {
  uint8_t f[8];
  dns::Put16(f, type);
  dns::Put16(f + 2, dns::kClassIn);
  dns::Put32(f + 4, ttl);
  return Load64(f);
}

// The 10 fixed bytes (owner pointer, TYPE, CLASS, TTL) shared by every RR of a set whose owner
// is already in the packet and whose rdata has no names, and the writer of one such RR.
class RecordHead {
 public:
  RecordHead(uint16_t owner, uint16_t type, uint32_t ttl) {
    uint8_t h[10];
    dns::Put16(h, static_cast<uint16_t>(0xC000 | owner));
    dns::Put16(h + 2, type);
    dns::Put16(h + 4, dns::kClassIn);
    dns::Put32(h + 6, ttl);
    head0_ = Load64(h);
    head6_ = Load32(h + 6);
  }
  // Writes the RR for `rd` (`u16 len | rdata`) at p; returns the end.
  ABSL_ATTRIBUTE_ALWAYS_INLINE uint8_t* Write(uint8_t* p, const uint8_t* rd) const {
    const uint16_t rdlen = Load16(rd);
    Store64(p, head0_);
    Store32(p + 6, head6_);  // the TTL; bytes 6-7 are written twice, with the same value
    dns::Put16(p + 10, rdlen);
    // A and AAAA: fixed-size copies the compiler does in one or two moves.
    if (rdlen == 4) {
      std::memcpy(p + 12, rd + 2, 4);
    } else if (rdlen == 16) {
      std::memcpy(p + 12, rd + 2, 16);
    } else {
      CopyBytes(p + 12, rd + 2, rdlen);
    }
    return p + 12 + rdlen;
  }

 private:
  uint64_t head0_;
  uint32_t head6_;
};

// The record writer of the policy writers, whose rdata is kLen (4: A, 16: AAAA) bytes under an
// owner already in the packet: the 12 bytes before the rdata (owner pointer, TYPE, CLASS, TTL,
// RDLENGTH) are worked out once per answer, in registers. An A record is then one 16-byte store
// of that head with the address inserted in its last lane; an AAAA record three stores.
template <int kLen>
class FixedRecord {
  static_assert(kLen == 4 || kLen == 16);

 public:
  FixedRecord(uint16_t owner, uint16_t type, uint32_t ttl) {
    uint64_t head0;
    uint32_t head8;
    if constexpr (std::endian::native == std::endian::little) {
      // The wire bytes as little-endian words, by shifts (a byte array would go through memory).
      const uint64_t ttl_be = __builtin_bswap32(ttl);
      head0 = uint64_t{__builtin_bswap16(static_cast<uint16_t>(0xC000 | owner))} |
              uint64_t{__builtin_bswap16(type)} << 16 |
              uint64_t{__builtin_bswap16(dns::kClassIn)} << 32 | (ttl_be & 0xFFFF) << 48;
      head8 = static_cast<uint32_t>(ttl_be >> 16) |
              uint32_t{__builtin_bswap16(static_cast<uint16_t>(kLen))} << 16;
    } else {
      uint8_t h[12];
      dns::Put16(h, static_cast<uint16_t>(0xC000 | owner));
      dns::Put16(h + 2, type);
      dns::Put16(h + 4, dns::kClassIn);
      dns::Put32(h + 6, ttl);
      dns::Put16(h + 10, kLen);
      head0 = Load64(h);
      head8 = Load32(h + 8);
    }
#if defined(__SSE4_1__)
    if constexpr (kLen == 4) {
      rec_ = _mm_set_epi64x(head8, static_cast<int64_t>(head0));
      return;
    }
#endif
    head0_ = head0;
    head8_ = head8;
  }

  // Writes the record whose rdata is at `rdata` (kLen bytes) at p; returns its end.
  ABSL_ATTRIBUTE_ALWAYS_INLINE uint8_t* Write(uint8_t* p, const uint8_t* rdata) {
#if defined(__SSE4_1__)
    if constexpr (kLen == 4) {
      uint32_t addr;
      std::memcpy(&addr, rdata, 4);
      rec_ = _mm_insert_epi32(rec_, static_cast<int>(addr), 3);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(p), rec_);
      return p + 16;
    }
#endif
    Store64(p, head0_);
    Store32(p + 8, head8_);
    std::memcpy(p + 12, rdata, kLen);
    return p + 12 + kLen;
  }

 private:
#if defined(__SSE4_1__)
  __m128i rec_;
#endif
  uint64_t head0_ = 0;
  uint32_t head8_ = 0;
};

}  // namespace sextant::dataplane
