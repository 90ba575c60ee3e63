// The DNS Cookie secret's rotation (RFC 7873 section 7.1, RFC 9018): control makes a random
// 128-bit secret (getrandom) and replaces it every `cookies.rotate`, keeping the one before it,
// in the control block (maps/control_block.h CookieSecrets) where every dataplane reads both.
// A restarted control keeps the secrets it finds there until their rotation is due, so a control
// restart invalidates no client's cookie.
#pragma once

#include <cstdint>

#include "absl/status/statusor.h"
#include "maps/control_block.h"

namespace sextant::control {

// Rotates when nothing was published yet, when a writer stopped mid-rotation (an odd sequence
// word: control was killed there), or when `rotate_ms` passed since the last rotation (or the
// clock went back past it). Returns whether it rotated; an error only when no random bytes
// could be had, and then nothing changed.
absl::StatusOr<bool> RotateCookieSecretIfDue(maps::CookieSecrets& s, int64_t now_unix_ms,
                                             uint32_t rotate_ms);

}  // namespace sextant::control
