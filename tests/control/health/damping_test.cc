// The rise/fall state machine (control/health/damping.h) as tables: a row is a target's
// thresholds, its state before, a sequence of inputs, and the state after each input.
//
// Inputs: '+' a check passed, '-' a check failed; 'U', 'D', 'R' a feed said up, down, drain.
// States: 'u' up, 'd' down, 'r' drained; upper case where that input changed the state, i.e.
// where the daemon hears a verdict.
#include "control/health/damping.h"

#include <cstdint>
#include <string>

#include "gtest/gtest.h"

namespace sextant::control::health {
namespace {

struct Case {
  const char* name;
  uint32_t rise;
  uint32_t fall;
  bool initially_up;
  const char* inputs;
  const char* states;
  uint32_t ok_streak;  // after the last input
  uint32_t fail_streak;
};

bool Apply(Damping& d, char input, uint32_t rise, uint32_t fall) {
  switch (input) {
    case '+':
      return d.OnCheck(true, rise, fall);
    case '-':
      return d.OnCheck(false, rise, fall);
    case 'U':
      return d.OnFeed(FeedVerdict::kUp);
    case 'D':
      return d.OnFeed(FeedVerdict::kDown);
    case 'R':
      return d.OnFeed(FeedVerdict::kDrain);
  }
  ADD_FAILURE() << "bad input '" << input << "'";
  return false;
}

char State(const Damping& d, bool changed) {
  const char c = d.drained() ? 'r' : d.up() ? 'u' : 'd';
  return changed ? static_cast<char>(c - 'a' + 'A') : c;
}

void ExpectRows(const Case* begin, const Case* end) {
  for (const Case* c = begin; c != end; ++c) {
    SCOPED_TRACE(c->name);
    Damping d(c->initially_up);
    std::string states;
    for (const char* in = c->inputs; *in != '\0'; ++in) {
      states += State(d, Apply(d, *in, c->rise, c->fall));
    }
    EXPECT_EQ(states, c->states) << "inputs " << c->inputs;
    EXPECT_EQ(d.ok_streak(), c->ok_streak);
    EXPECT_EQ(d.fail_streak(), c->fail_streak);
  }
}

template <size_t N>
void ExpectRows(const Case (&cases)[N]) {
  ExpectRows(cases, cases + N);
}

TEST(Damping, ChecksMoveATargetOnlyAfterRiseOrFallInARow) {
  const Case cases[] = {
      {"passing keeps it up", 2, 3, true, "+++", "uuu", 3, 0},
      {"down at the third failure", 2, 3, true, "---", "uuD", 0, 3},
      {"up at the second success", 2, 3, false, "++", "dU", 2, 0},
      {"failing keeps it down", 2, 3, false, "----", "dddd", 0, 4},
      {"a pass resets the fail streak", 2, 3, true, "--+--", "uuuuu", 0, 2},
      {"a failure resets the ok streak", 2, 3, false, "+-+", "ddd", 1, 0},
      {"flapping never changes it", 2, 3, true, "-+-+-+-+", "uuuuuuuu", 1, 0},
      {"down, then up again", 2, 3, true, "---++", "uuDdU", 2, 0},
      {"rise and fall of one follow every check", 1, 1, true, "-+-", "DUD", 0, 1},
      {"streaks keep counting past the threshold", 2, 3, true, "-----", "uuDdd", 0, 5},
  };
  ExpectRows(cases);
}

TEST(Damping, FeedVerdictsApplyAtOnceAndClearTheStreaks) {
  const Case cases[] = {
      {"down", 2, 3, true, "D", "D", 0, 0},
      {"up", 2, 3, false, "U", "U", 0, 0},
      {"drain is down, and drained", 2, 3, true, "R", "R", 0, 0},
      {"drain, then down", 2, 3, true, "RD", "RD", 0, 0},
      {"down, then drain", 2, 3, true, "DR", "DR", 0, 0},
      {"drain, then up", 2, 3, true, "RU", "RU", 0, 0},
      {"the same verdict again is no change", 2, 3, true, "DD", "Dd", 0, 0},
      {"a verdict that changes nothing keeps the streaks", 2, 3, true, "--U-", "uuuD", 0, 3},
      {"a verdict that changes the state clears them", 2, 3, true, "--D+U---", "uuDdUuuD", 0, 3},
  };
  ExpectRows(cases);
}

TEST(Damping, ChecksOverturnAFeedOnlyAfterAFullRiseOrFall) {
  const Case cases[] = {
      {"down by feed, up by checks", 2, 3, true, "D++", "DdU", 2, 0},
      {"up by feed, down by checks", 2, 3, false, "U---", "UuuD", 0, 3},
      {"drained, back up like a down target", 2, 3, true, "R++", "RrU", 2, 0},
      {"drained and failing stays drained", 2, 3, true, "R---", "Rrrr", 0, 3},
      {"drained, one pass is not enough", 2, 3, true, "R+-+", "Rrrr", 1, 0},
  };
  ExpectRows(cases);
}

}  // namespace
}  // namespace sextant::control::health
