#include "control/daemon/cookie_rotation.h"

#include <sys/random.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace sextant::control {

absl::StatusOr<bool> RotateCookieSecretIfDue(maps::CookieSecrets& s, int64_t now_unix_ms,
                                             uint32_t rotate_ms) {
  const uint64_t last = s.rotated_unix_ms.load(std::memory_order_relaxed);
  const uint64_t now = static_cast<uint64_t>(now_unix_ms);
  const bool torn = (s.seq.load(std::memory_order_relaxed) & 1) != 0;
  if (last != 0 && !torn && now >= last && now - last < rotate_ms) return false;
  uint64_t fresh[2];
  const ssize_t n = getrandom(fresh, sizeof(fresh), 0);
  if (n != static_cast<ssize_t>(sizeof(fresh))) {
    return absl::UnavailableError(absl::StrCat("getrandom for the DNS Cookie secret: ",
                                               n < 0 ? std::strerror(errno) : "short read"));
  }
  if ((fresh[0] | fresh[1]) == 0) fresh[0] = 1;  // all zero means "none published"
  maps::RotateCookieKeys(s, fresh, now);
  return true;
}

}  // namespace sextant::control
