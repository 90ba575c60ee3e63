#include "control/health/feed_text.h"

#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "control/config/enum_names.h"

namespace sextant::control {

template <>
struct EnumNames<health::FeedVerdict> {
  static constexpr EnumName<health::FeedVerdict> kRows[] = {
      {health::FeedVerdict::kUp, "up"},
      {health::FeedVerdict::kDown, "down"},
      {health::FeedVerdict::kDrain, "drain"},
  };
};

namespace health {

const char* FeedVerdictName(FeedVerdict v) { return NameOf(v); }

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
    const std::optional<FeedVerdict> verdict =
        words.size() == 2 ? EnumFromName<FeedVerdict>(words[1]) : std::nullopt;
    if (!verdict) {
      errors->push_back(absl::StrCat("line ", line_no, ": expected '<target> up|down|drain', got '",
                                     absl::StripAsciiWhitespace(line), "'"));
      continue;
    }
    out.push_back({std::string(words[0]), *verdict});
  }
  return out;
}

}  // namespace health
}  // namespace sextant::control
