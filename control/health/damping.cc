#include "control/health/damping.h"

namespace sextant::control::health {

bool Damping::OnCheck(bool ok, uint32_t rise, uint32_t fall) {
  if (ok) {
    ++ok_streak_;
    fail_streak_ = 0;
    if ((!up_ || drained_) && ok_streak_ >= rise) {
      up_ = true;
      drained_ = false;
      return true;
    }
    return false;
  }
  ++fail_streak_;
  ok_streak_ = 0;
  if (up_ && fail_streak_ >= fall) {
    up_ = false;
    return true;
  }
  return false;
}

bool Damping::OnFeed(FeedVerdict verdict) {
  const bool up = verdict == FeedVerdict::kUp;
  const bool drained = verdict == FeedVerdict::kDrain;
  if (up_ == up && drained_ == drained) return false;
  up_ = up;
  drained_ = drained;
  ok_streak_ = 0;
  fail_streak_ = 0;
  return true;
}

}  // namespace sextant::control::health
