// The compiled form of a geo map: address -> (datacenter list id, matched prefix length), looked
// up with a bounded number of memory reads and no allocation, on plain uint32_t arrays that live
// in the snapshot (offsets and indices only, no pointers).
//
// Each family is one array of 32-bit entries. Entries [0, 65536) are the root, indexed by the
// first 16 address bits; after it come 256-entry chunks, each indexed by the next 8 bits
// (DIR-16-8-8 for IPv4, 16 then up to fourteen 8-bit strides for IPv6; networks that end inside a
// stride are expanded over the entries they cover). An entry is either
//   a leaf:  bit 31 clear, bits 8..30 list id, bits 0..7 prefix length of the matched network
//   a chunk: bit 31 set, bits 0..30 chunk number; its entries are [number * 256, +256)
// Chunk numbers are relative to the array, so several maps' arrays can be concatenated into one
// snapshot section and each viewed through its own sub-span. Why 16-8-8 rather than DIR-24-8:
// the root stays 256 KiB instead of 64 MiB, and most networks end at or before /24 anyway, so a
// typical IPv4 lookup is two reads.
//
// Addresses that embed an IPv4 address are looked up in the IPv4 array, as gdnsd does:
// IPv4-compatible ::a.b.c.d/96, IPv4-mapped ::ffff:a.b.c.d/96, SIIT ::ffff:0:a.b.c.d/96, the
// NAT64 well-known prefix 64:ff9b::a.b.c.d/96, 6to4 2002:AABB:CCDD::/16 and Teredo 2001:0::/32
// (client address = bitwise NOT of the last 32 bits). The scope is then reported in IPv6 terms:
// 96 + the IPv4 length (16 + for 6to4), never less, even if the IPv4 network is /0.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "absl/base/attributes.h"
#include "absl/status/status.h"
#include "absl/types/span.h"

namespace sextant::maps {

// Address family numbers as in the ECS option (RFC 7871 FAMILY, IANA address family numbers), so
// the dataplane passes the option's field through unchanged.
inline constexpr int kFamilyIpv4 = 1;
inline constexpr int kFamilyIpv6 = 2;

inline constexpr uint32_t kPrefixChunkFlag = 0x80000000u;
inline constexpr uint32_t kPrefixRootEntries = 1u << 16;
inline constexpr uint32_t kPrefixChunkEntries = 256;
inline constexpr uint32_t kPrefixMaxListId = (1u << 23) - 1;

inline constexpr uint32_t PrefixLeaf(uint32_t list, int length) {
  return (list << 8) | static_cast<uint32_t>(length);
}

// A read-only view of one map's two arrays. Check it once with ValidatePrefixTable before the
// first lookup; lookups trust it.
struct PrefixTableView {
  absl::Span<const uint32_t> v4;
  absl::Span<const uint32_t> v6;
};

struct LookupResult {
  uint32_t list;  // dc list id
  int scope;      // prefix length of the matched network, in the client's family
};

// Bounds-checks everything a lookup may touch: sizes, every chunk number (in range, not the root,
// referenced once, so no cycles), no chunk below the last stride, every leaf's list id below
// `list_count` and prefix length within the family. O(table size).
absl::Status ValidatePrefixTable(const PrefixTableView& view, uint32_t list_count);

namespace prefix_table_internal {

inline uint64_t LoadBe64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return __builtin_bswap64(v);
}

// Masks: the top `len` bits set, any len (clamped; no shifts by the full width or more).
inline uint32_t Mask32(int len) {
  return len <= 0 ? 0 : (len >= 32 ? ~uint32_t{0} : ~uint32_t{0} << (32 - len));
}
inline uint64_t Mask64(int len) {
  return len <= 0 ? 0 : (len >= 64 ? ~uint64_t{0} : ~uint64_t{0} << (64 - len));
}

inline uint32_t LookupV4Entry(const uint32_t* t, uint32_t a) {
  uint32_t e = t[a >> 16];
  if (e & kPrefixChunkFlag) {
    e = t[((e & ~kPrefixChunkFlag) << 8) | ((a >> 8) & 0xff)];
    if (e & kPrefixChunkFlag) e = t[((e & ~kPrefixChunkFlag) << 8) | (a & 0xff)];
  }
  return e;
}

// `hi`/`lo`: the address as two host-order halves. Validation guarantees a leaf within 15 reads.
// Unrolled, so that every level's shift is a constant (a lookup stops at its leaf, mostly
// within the first few levels).
inline uint32_t LookupV6Entry(const uint32_t* t, uint64_t hi, uint64_t lo) {
  uint32_t e = t[hi >> 48];
#pragma GCC unroll 8
  for (int shift = 40; shift >= 0; shift -= 8) {
    if (!(e & kPrefixChunkFlag)) return e;
    e = t[((e & ~kPrefixChunkFlag) << 8) | static_cast<uint32_t>((hi >> shift) & 0xff)];
  }
#pragma GCC unroll 8
  for (int shift = 56; shift >= 0; shift -= 8) {
    if (!(e & kPrefixChunkFlag)) return e;
    e = t[((e & ~kPrefixChunkFlag) << 8) | static_cast<uint32_t>((lo >> shift) & 0xff)];
  }
  return e;
}

}  // namespace prefix_table_internal

// The IPv4 address `a` (host order), masked to `source_prefix_len` bits.
inline LookupResult LookupV4(const PrefixTableView& t, uint32_t a, int source_prefix_len) {
  using namespace prefix_table_internal;
  const uint32_t e = LookupV4Entry(t.v4.data(), a & Mask32(source_prefix_len));
  return {e >> 8, static_cast<int>(e & 0xff)};
}

namespace prefix_table_internal {

// When the IPv6 address hi:lo, already masked to `s` bits, is in one of the IPv4-embedding
// ranges: the lookup of the IPv4 address it embeds, in *out, and true.
inline bool LookupEmbedded(const PrefixTableView& t, uint64_t hi, uint64_t lo, int s,
                           LookupResult* out) {
  // `v4` is the embedded address, `adj` where it starts in the IPv6 address.
  uint32_t v4;
  int adj;
  if (hi == 0 || hi == 0x0064ff9b00000000ull) {
    const uint32_t top = static_cast<uint32_t>(lo >> 32);
    if (!(top == 0 || (hi == 0 && (top == 0xffff || top == 0xffff0000u)))) return false;
    v4 = static_cast<uint32_t>(lo);
    adj = 96;
  } else if ((hi >> 32) == 0x20010000u) {  // Teredo: the client's address is inverted
    v4 = ~static_cast<uint32_t>(lo);
    adj = 96;
  } else if ((hi >> 48) == 0x2002) {  // 6to4
    v4 = static_cast<uint32_t>(hi >> 16);
    adj = 16;
  } else {
    return false;
  }
  const LookupResult r = LookupV4(t, v4, s - adj);
  *out = {r.list, r.scope + adj};
  return true;
}

inline LookupResult LookupNative(const PrefixTableView& t, uint64_t hi, uint64_t lo) {
  const uint32_t e = LookupV6Entry(t.v6.data(), hi, lo);
  return {e >> 8, static_cast<int>(e & 0xff)};
}

}  // namespace prefix_table_internal

// `addr`: 4 (kFamilyIpv4) or 16 (kFamilyIpv6) network-order bytes. `source_prefix_len`: how many
// leading bits to use (the ECS source prefix length; 32/128 for a plain client address); the rest
// are ignored. The scope may exceed the source length when the table is more specific there
// (RFC 7871 7.2.1 allows that).
inline LookupResult Lookup(const PrefixTableView& t, const uint8_t* addr, int family,
                           int source_prefix_len) {
  using namespace prefix_table_internal;
  if (family == kFamilyIpv4) {
    uint32_t a;
    std::memcpy(&a, addr, 4);
    return LookupV4(t, __builtin_bswap32(a), source_prefix_len);
  }
  const int s = source_prefix_len;
  const uint64_t hi = LoadBe64(addr) & Mask64(s);
  const uint64_t lo = LoadBe64(addr + 8) & Mask64(s - 64);
  LookupResult r;
  if (LookupEmbedded(t, hi, lo, s, &r)) return r;
  return LookupNative(t, hi, lo);
}

// Lookup for an address whose bits past `source_prefix_len` are already zero (the dataplane's
// ECS address, zero-padded by its parser; a packet's source address, whole): the same result
// as Lookup. IPv4 addresses, and IPv6 addresses outside the embedding ranges' first bits
// (0000::/16 and 0064::/16, which hold ::/96, ::ffff:0:0/96 and 64:ff9b::/96; Teredo's
// 2001::/32; 6to4's 2002::/16), skip the masks and the embedding tests.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline LookupResult LookupPadded(const PrefixTableView& t,
                                                              const uint8_t* addr, int family,
                                                              int source_prefix_len) {
  using namespace prefix_table_internal;
  if (family == kFamilyIpv4) {
    uint32_t a;
    std::memcpy(&a, addr, 4);
    const uint32_t e = LookupV4Entry(t.v4.data(), __builtin_bswap32(a));
    return {e >> 8, static_cast<int>(e & 0xff)};
  }
  const uint64_t hi = LoadBe64(addr);
  const uint64_t lo = LoadBe64(addr + 8);
  const uint32_t top = static_cast<uint32_t>(hi >> 48);
  if (top <= 0x64 || top == 0x2002 || (hi >> 32) == 0x20010000u) {
    // Masking changes nothing here either; the embedded IPv4 lookup masks its own bits.
    LookupResult r;
    if (LookupEmbedded(t, hi, lo, source_prefix_len, &r)) return r;
  }
  return LookupNative(t, hi, lo);
}

}  // namespace sextant::maps
