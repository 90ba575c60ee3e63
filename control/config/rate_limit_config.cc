#include "control/config/rate_limit_config.h"

#include <sys/socket.h>

#include <algorithm>
#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "maps/snapshot_format.h"
#include "maps/status_macros.h"

namespace sextant::control {
namespace {

// "ADDRESS" (one host) or "ADDRESS/LENGTH", no bits set past LENGTH (a typo there would exempt
// another network than the one meant).
absl::StatusOr<RateLimitConfig::Prefix> ParseExempt(const YamlReader& r, const std::string& text) {
  RateLimitConfig::Prefix p;
  p.text = text;
  const size_t slash = text.find('/');
  const std::optional<IpLiteral> ip = ParseIpLiteral(text.substr(0, slash));
  if (!ip) {
    return r.ErrorAt("exempt", absl::StrCat("rate_limit.exempt '", text,
                                            "' is not an IPv4 or IPv6 address or prefix"));
  }
  p.family = ip->family == AF_INET ? 4 : 6;
  const int max = p.family == 4 ? 32 : 128;
  p.length = max;
  if (slash != std::string::npos &&
      (!absl::SimpleAtoi(text.substr(slash + 1), &p.length) || p.length < 0 || p.length > max)) {
    return r.ErrorAt("exempt", absl::StrCat("rate_limit.exempt '", text,
                                            "' has a bad prefix length (IPv4 0..32, IPv6 0..128)"));
  }
  std::copy(std::begin(ip->bytes), std::end(ip->bytes), p.addr);
  for (int bit = p.length; bit < max; ++bit) {
    if (p.addr[bit / 8] & (0x80 >> (bit % 8))) {
      return r.ErrorAt("exempt", absl::StrCat("rate_limit.exempt '", text, "' has bits set past /",
                                              p.length, " (a network address is meant)"));
    }
  }
  return p;
}

absl::Status ReadPerSecond(const YamlReader& r, RateLimitConfig* rl) {
  if (!r.Has("responses_per_second")) return absl::OkStatus();
  const YamlReader s = r.Section("responses_per_second");
  SX_RETURN_IF_ERROR(s.Keys({"answers", "nxdomain", "nodata", "errors"}));
  constexpr const char* kClasses[] = {"answers", "nxdomain", "nodata", "errors"};
  for (int c = 0; c < 4; ++c) {
    SX_RETURN_IF_ERROR(s.Int(kClasses[c], 0, maps::kMaxRateLimitPerSecond, &rl->per_second[c],
                             "a number of responses per second in 0..10000000 (0: not limited)"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<RateLimitConfig> ReadRateLimit(const YamlReader& r) {
  RateLimitConfig rl;
  SX_RETURN_IF_ERROR(r.Keys({"enabled", "responses_per_second", "window", "slip", "ipv4_prefix",
                             "ipv6_prefix", "exempt", "table_size"}));
  SX_RETURN_IF_ERROR(r.Bool("enabled", &rl.enabled));
  SX_RETURN_IF_ERROR(ReadPerSecond(r, &rl));
  SX_RETURN_IF_ERROR(
      r.Int("window", 1, maps::kMaxRateLimitWindow, &rl.window, "a number of seconds in 1..60"));
  SX_RETURN_IF_ERROR(r.Int("slip", 0, maps::kMaxRateLimitSlip, &rl.slip));
  SX_RETURN_IF_ERROR(r.Int("ipv4_prefix", 1, 32, &rl.ipv4_prefix));
  SX_RETURN_IF_ERROR(r.Int("ipv6_prefix", 1, maps::kMaxRateLimitV6Prefix, &rl.ipv6_prefix));
  SX_RETURN_IF_ERROR(r.Int("table_size", maps::kMinRateLimitTable, maps::kMaxRateLimitTable,
                           &rl.table_size, "a power of two in 64..4194304"));
  if ((rl.table_size & (rl.table_size - 1)) != 0) {
    return r.ErrorAt("table_size", "rate_limit.table_size must be a power of two in 64..4194304");
  }
  if (r.Has("exempt")) {
    std::vector<std::string> texts;
    SX_RETURN_IF_ERROR(r.StrList("exempt", "a prefix", &texts));
    if (texts.size() > maps::kMaxRateLimitExempt) {
      return r.ErrorAt("exempt", absl::StrCat("at most ", maps::kMaxRateLimitExempt,
                                              " rate_limit.exempt prefixes"));
    }
    for (const std::string& t : texts) {
      SX_ASSIGN_OR_RETURN(RateLimitConfig::Prefix p, ParseExempt(r, t));
      rl.exempt.push_back(p);
    }
  }
  return rl;
}

}  // namespace sextant::control
