#include "control/health/feed_text.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace sextant::control::health {

const char* FeedVerdictName(FeedVerdict v) {
  switch (v) {
    case FeedVerdict::kUp:
      return "up";
    case FeedVerdict::kDown:
      return "down";
    case FeedVerdict::kDrain:
      return "drain";
  }
  return "?";
}

std::vector<FeedLine> ParseFeedText(absl::string_view text, std::vector<std::string>* errors) {
  std::vector<FeedLine> out;
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_no;
    const size_t hash = line.find('#');
    if (hash != absl::string_view::npos) line = line.substr(0, hash);
    std::vector<absl::string_view> words =
        absl::StrSplit(line, absl::ByAnyChar(" \t\r"), absl::SkipEmpty());
    if (words.empty()) continue;
    std::string v = words.size() == 2 ? absl::AsciiStrToLower(words[1]) : "";
    FeedVerdict verdict;
    if (v == "up") {
      verdict = FeedVerdict::kUp;
    } else if (v == "down") {
      verdict = FeedVerdict::kDown;
    } else if (v == "drain") {
      verdict = FeedVerdict::kDrain;
    } else {
      errors->push_back(absl::StrCat("line ", line_no, ": expected '<target> up|down|drain', got '",
                                     absl::StripAsciiWhitespace(line), "'"));
      continue;
    }
    out.push_back({std::string(words[0]), verdict});
  }
  return out;
}

}  // namespace sextant::control::health
