// The rise/fall state machine of one target, and nothing else: no sockets, no clocks, so that
// its table of cases (tests/control/health/damping_test.cc) says everything it does.
//
// Checks move a target only after `rise` successes in a row (to come up) or `fall` failures in
// a row (to go down), so a flapping backend does not flap the answers. A feed's verdict applies
// at once and clears both streaks: checks must then earn a full rise or fall to overturn it.
// "drain" is down, and says so; a drained target that checks keep passing comes back up like a
// down one.
#pragma once

#include <cstdint>

#include "control/health/feed_text.h"

namespace sextant::control::health {

class Damping {
 public:
  explicit Damping(bool up) : up_(up) {}

  // One check's result, against the target's current thresholds. True when the state changed.
  bool OnCheck(bool ok, uint32_t rise, uint32_t fall);
  // One feed line for the target. True when the state changed (the same verdict again is not a
  // change, and leaves the streaks alone).
  bool OnFeed(FeedVerdict verdict);

  bool up() const { return up_; }
  bool drained() const { return drained_; }
  uint32_t ok_streak() const { return ok_streak_; }
  uint32_t fail_streak() const { return fail_streak_; }

 private:
  bool up_;
  bool drained_ = false;
  uint32_t ok_streak_ = 0;
  uint32_t fail_streak_ = 0;
};

}  // namespace sextant::control::health
