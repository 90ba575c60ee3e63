// The text a health feed (a file or a command's output) carries: one "<target> up|down|drain"
// per line, '#' starting a comment. Parsed here, applied by the checker.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace sextant::control::health {

enum class FeedVerdict : uint8_t { kUp, kDown, kDrain };

// "up", "down", "drain".
const char* FeedVerdictName(FeedVerdict v);

struct FeedLine {
  std::string target;
  FeedVerdict verdict;
};

// The lines of `text`, in order. A bad line goes to `errors` ("line 3: expected '<target>
// up|down|drain', got 'web1 sideways'") and the rest still count.
std::vector<FeedLine> ParseFeedText(absl::string_view text, std::vector<std::string>* errors);

}  // namespace sextant::control::health
