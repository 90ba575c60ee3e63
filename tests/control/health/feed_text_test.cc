// The feed text parser (control/health/feed_text.h): a row is a feed's text, the lines it
// yields and the errors it reports.
#include "control/health/feed_text.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sextant::control::health {
namespace {

std::vector<std::string> Lines(const std::vector<FeedLine>& lines) {
  std::vector<std::string> out;
  for (const FeedLine& l : lines) out.push_back(l.target + " " + FeedVerdictName(l.verdict));
  return out;
}

TEST(FeedText, ParsesVerdictsCommentsAndBadLines) {
  struct Case {
    std::string text;
    std::vector<std::string> lines;
    std::vector<std::string> errors;
  } cases[] = {
      {"", {}, {}},
      {"web1 up\nweb2 down\nweb3 drain\n", {"web1 up", "web2 down", "web3 drain"}, {}},
      {"web1 UP\r\n\tweb2   Down  \n", {"web1 up", "web2 down"}, {}},
      {"# all of it\n\nweb1 up # not for long\n", {"web1 up"}, {}},
      {"web1 sideways\nweb2 up\n",
       {"web2 up"},
       {"line 1: expected '<target> up|down|drain', got 'web1 sideways'"}},
      {"web1\nweb2 up now\n",
       {},
       {"line 1: expected '<target> up|down|drain', got 'web1'",
        "line 2: expected '<target> up|down|drain', got 'web2 up now'"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    std::vector<std::string> errors;
    EXPECT_THAT(Lines(ParseFeedText(c.text, &errors)), ::testing::ElementsAreArray(c.lines));
    EXPECT_THAT(errors, ::testing::ElementsAreArray(c.errors));
  }
}

}  // namespace
}  // namespace sextant::control::health
