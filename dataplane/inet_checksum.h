// The Internet checksum (RFC 1071) of the packet path: a ones' complement sum of 16-bit words,
// kept in 64 bits with end-around carries and folded to 16 bits at the end. The sum is taken over
// native-order words and never byte-swapped (RFC 1071 section 2(B): the result is the swapped
// sum, and stored as it is it reads right in network order), so values added to it (pseudo
// header fields) are native-order too.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace sextant::dataplane {

// The sum of the n bytes at p added to acc, with 32-bit loads into a 64-bit accumulator: no
// carry is lost for any packet's length and an acc under 2^40. Portable, and the reference the
// x86-64 RawSum is tested against (tests/dataplane/inet_checksum_test.cc).
inline uint64_t RawSumPortable(const uint8_t* p, size_t n, uint64_t acc) {
  while (n >= 16) {
    uint32_t a, b, c, d;
    std::memcpy(&a, p, 4);
    std::memcpy(&b, p + 4, 4);
    std::memcpy(&c, p + 8, 4);
    std::memcpy(&d, p + 12, 4);
    acc += a;
    acc += b;
    acc += c;
    acc += d;
    p += 16;
    n -= 16;
  }
  if (n >= 8) {
    uint32_t a, b;
    std::memcpy(&a, p, 4);
    std::memcpy(&b, p + 4, 4);
    acc += a;
    acc += b;
    p += 8;
    n -= 8;
  }
  if (n >= 4) {
    uint32_t a;
    std::memcpy(&a, p, 4);
    acc += a;
    p += 4;
    n -= 4;
  }
  if (n >= 2) {
    uint16_t a;
    std::memcpy(&a, p, 2);
    acc += a;
    p += 2;
    n -= 2;
  }
  if (n) acc += *p;  // the odd byte is the high-order byte of a zero-padded word (LE load)
  return acc;
}

#if defined(__x86_64__)
// The same sum eight bytes at a time, through one chain of add-with-carry instructions (as the
// Linux kernel's csum_partial does on x86-64): half the loads and adds of the portable loop, and
// half its dependency chain (one ADC per 8 bytes, where the portable loop waits for one ADD per
// 4). The carry out of each block is added back at once (end-around). The result is folded to at
// most 33 bits, as the portable sum's are, so that callers may go on adding small values to it
// with plain additions (2^64 - 1 and 2^32 - 1 are both multiples of 0xffff: no fold changes the
// 16-bit sum). The last 1 to 7 bytes of a run of 8 or more come in one load of the 8 bytes that
// end the run, shifted down to them: they land where they would in a zero-padded word (the first
// of them at bit 0, on a little-endian host), and no branch asks how many there are. A run under
// 8 bytes is summed as the portable loop sums it (nothing before it may be read). In asm
// because gcc 12 does not keep a carry chain in flags across C++: with _addcarry_u64 it kept
// the accumulator in memory, with unsigned __int128 it added a zero high word per word.
inline uint64_t RawSum(const uint8_t* p, size_t n, uint64_t acc) {
  uint64_t s = acc;
  const bool whole_word = n >= 8;
  while (n >= 32) {
    asm("addq 0(%[p]), %[s]\n\t"
        "adcq 8(%[p]), %[s]\n\t"
        "adcq 16(%[p]), %[s]\n\t"
        "adcq 24(%[p]), %[s]\n\t"
        "adcq $0, %[s]"
        : [s] "+r"(s)
        : [p] "r"(p), "m"(*reinterpret_cast<const uint8_t(*)[32]>(p))
        : "cc");
    p += 32;
    n -= 32;
  }
  if (n >= 16) {
    asm("addq 0(%[p]), %[s]\n\t"
        "adcq 8(%[p]), %[s]\n\t"
        "adcq $0, %[s]"
        : [s] "+r"(s)
        : [p] "r"(p), "m"(*reinterpret_cast<const uint8_t(*)[16]>(p))
        : "cc");
    p += 16;
    n -= 16;
  }
  if (n >= 8) {
    asm("addq 0(%[p]), %[s]\n\t"
        "adcq $0, %[s]"
        : [s] "+r"(s)
        : [p] "r"(p), "m"(*reinterpret_cast<const uint8_t(*)[8]>(p))
        : "cc");
    p += 8;
    n -= 8;
  }
  uint64_t tail = 0;
  if (n != 0) {
    if (whole_word) {
      std::memcpy(&tail, p + n - 8, 8);  // inside the run: it is 8 bytes or longer
      tail >>= (8 - n) * 8;
    } else {
      tail = RawSumPortable(p, n, 0);
    }
  }
  asm("addq %[t], %[s]\n\t"
      "adcq $0, %[s]"
      : [s] "+r"(s)
      : [t] "r"(tail)
      : "cc");
  return (s & 0xffffffffu) + (s >> 32);
}
#else
inline uint64_t RawSum(const uint8_t* p, size_t n, uint64_t acc) {
  return RawSumPortable(p, n, acc);
}
#endif

// Folds the 64-bit sum to 16 bits with end-around carries, in two steps and no branch: a word
// plus itself rotated by half its width holds the ones' complement sum of its halves, carry
// included, in its upper half. (A loop of 16-bit folds ran one to four times by the data, 24
// instructions a query more.)
inline uint16_t Fold(uint64_t acc) {
  acc += std::rotr(acc, 32);
  auto s = static_cast<uint32_t>(acc >> 32);
  s += std::rotr(s, 16);
  return static_cast<uint16_t>(s >> 16);
}

// The checksum to store for data[0, len) with `initial` (a native-order sum, e.g. of a pseudo
// header) added: the complement of the folded sum. For tests and benchmarks; the packet path
// stores its sums itself.
inline uint16_t InternetChecksum(const uint8_t* data, size_t len, uint64_t initial = 0) {
  return static_cast<uint16_t>(~Fold(RawSum(data, len, initial)));
}

}  // namespace sextant::dataplane
