// DNS Cookies for the answer engine (RFC 7873), server cookies as RFC 9018 makes them:
//
//   version 1 | reserved (3) | timestamp (4, seconds, serial arithmetic) | hash (8)
//   hash = SipHash-2-4(client cookie | version | reserved | timestamp | client address, secret)
//
// so that any server with the secret can check a cookie any other made (an anycast fleet that
// shares its secret). A received server cookie is valid when it is 16 bytes of version 1, its
// hash matches with the current or the previous secret (control rotates them: both hold during a
// rollover), and its timestamp lies within [now - 3600, now + 300] (RFC 9018 section 4.3).
//
// Out of the common path: only a query that carried a COOKIE option comes here. No allocation,
// lock or system call: the time comes from the caller (ClientInfo::now), the secrets from the
// control block (maps/control_block.h CookieSecrets, read lock-free).
#pragma once

#include <cstdint>
#include <cstring>

#include "dataplane/engine/siphash.h"
#include "maps/control_block.h"

namespace sextant::dataplane {

inline constexpr uint8_t kClientCookieSize = 8;
inline constexpr uint8_t kServerCookieSize = 16;  // RFC 9018's, the one we make
inline constexpr uint8_t kCookieAnswerSize = kClientCookieSize + kServerCookieSize;
inline constexpr uint8_t kCookieVersion = 1;
// RFC 9018 section 4.3: a cookie older than an hour or more than five minutes in the future is
// not ours (any more); one older than half an hour is replaced even when valid.
inline constexpr int32_t kCookieMaxAge = 3600;
inline constexpr int32_t kCookieMaxSkew = 300;
inline constexpr int32_t kCookieRenewAge = 1800;

// What a query's COOKIE option came to.
struct CookieCheck {
  bool answer = false;  // the response carries a COOKIE option (`out`, 24 bytes)
  bool valid = false;   // the query's server cookie validated (RRL-exempt)
  uint8_t out[kClientCookieSize + kServerCookieSize];
};

// The server cookie for `client_cookie` at `timestamp`, made with `key` from the version and
// reserved bytes in sc[0..3] (which must be set), into sc[4..15].
inline void MakeServerHash(const uint8_t* client_cookie, const uint8_t* family_addr, uint8_t family,
                           uint32_t timestamp, uint64_t k0, uint64_t k1, uint8_t* sc) {
  sc[4] = static_cast<uint8_t>(timestamp >> 24);
  sc[5] = static_cast<uint8_t>(timestamp >> 16);
  sc[6] = static_cast<uint8_t>(timestamp >> 8);
  sc[7] = static_cast<uint8_t>(timestamp);
  uint8_t in[kClientCookieSize + 8 + 16];
  std::memcpy(in, client_cookie, kClientCookieSize);
  std::memcpy(in + kClientCookieSize, sc, 8);
  const size_t addr_len = family == 4 ? 4 : 16;
  std::memcpy(in + kClientCookieSize + 8, family_addr, addr_len);
  const uint64_t h = SipHash24(k0, k1, in, kClientCookieSize + 8 + addr_len);
  std::memcpy(sc + 8, &h, 8);  // little-endian, as the reference implementation writes it
}

// Whether the 16-byte server cookie `sc` (sent back with `client_cookie` from `addr`) was made
// with `k0, k1`.
inline bool ServerCookieMatches(const uint8_t* client_cookie, const uint8_t* sc,
                                const uint8_t* addr, uint8_t family, uint64_t k0, uint64_t k1) {
  uint8_t mine[kServerCookieSize];
  std::memcpy(mine, sc, 4);  // the reserved bytes as received are part of the hash
  const uint32_t ts = uint32_t{sc[4]} << 24 | uint32_t{sc[5]} << 16 | uint32_t{sc[6]} << 8 | sc[7];
  MakeServerHash(client_cookie, addr, family, ts, k0, k1, mine);
  return std::memcmp(mine + 8, sc + 8, 8) == 0;
}

// The age of a cookie stamped `ts` at `now`, in serial number arithmetic (RFC 1982): negative
// when it lies in the future.
inline int32_t CookieAge(uint32_t ts, uint32_t now) { return static_cast<int32_t>(now - ts); }

// Checks the COOKIE option `cookie` (len bytes: 8, or 16..40, as Parse made sure) from `addr`
// at `now` with `keys`, and makes the option to answer with into c->out: the received server
// cookie itself when it is valid, made with the current secret and under half an hour old
// (RFC 9018 section 4.3 lets a server reuse it), else a fresh one.
inline void CheckCookie(const uint8_t* cookie, uint8_t len, const uint8_t* addr, uint8_t family,
                        uint32_t now, const maps::CookieKeys& keys, CookieCheck* c) {
  c->answer = true;
  std::memcpy(c->out, cookie, kClientCookieSize);
  const uint8_t* sc = cookie + kClientCookieSize;
  if (len == kClientCookieSize + kServerCookieSize && sc[0] == kCookieVersion) {
    const uint32_t ts =
        uint32_t{sc[4]} << 24 | uint32_t{sc[5]} << 16 | uint32_t{sc[6]} << 8 | sc[7];
    const int32_t age = CookieAge(ts, now);
    if (age <= kCookieMaxAge && age >= -kCookieMaxSkew) {
      const bool current =
          ServerCookieMatches(cookie, sc, addr, family, keys.current[0], keys.current[1]);
      c->valid = current || ((keys.previous[0] | keys.previous[1]) != 0 &&
                             ServerCookieMatches(cookie, sc, addr, family, keys.previous[0],
                                                 keys.previous[1]));
      if (current && age <= kCookieRenewAge) {
        std::memcpy(c->out + kClientCookieSize, sc, kServerCookieSize);
        return;
      }
    }
  }
  uint8_t* out = c->out + kClientCookieSize;
  out[0] = kCookieVersion;
  out[1] = out[2] = out[3] = 0;
  MakeServerHash(cookie, addr, family, now, keys.current[0], keys.current[1], out);
}

}  // namespace sextant::dataplane
