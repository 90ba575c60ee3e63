// The `rate_limit:` section: response rate limiting by the dataplane (dataplane/rrl/), on unless
// `enabled: false`. Every key is optional:
//
//   rate_limit:
//     responses_per_second: {answers: 1000, nxdomain: 200, nodata: 1000, errors: 100}
//     window: 2            # seconds of responses a bucket holds (the burst after a pause)
//     slip: 2              # every 2nd limited response goes out truncated (TC=1); 0 = drop all
//     ipv4_prefix: 24
//     ipv6_prefix: 56
//     exempt: [192.0.2.0/24, "2001:db8::/32"]
//     table_size: 65536    # buckets per serving lcore/thread, a power of two
//
// The defaults and why they are what they are: docs/man/sextant.yaml.5, RATE LIMITING.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "control/config/yaml_reader.h"

namespace sextant::control {

struct RateLimitConfig {
  struct Prefix {
    std::string text;  // as written
    int family = 4;    // 4 or 6
    uint8_t addr[16] = {};
    int length = 32;
  };
  bool enabled = true;
  // Responses per second per client prefix for the whole dataplane, by class (answers,
  // nxdomain, nodata/referrals, errors: maps::RateLimitClass order); 0 = not limited.
  uint32_t per_second[4] = {1000, 200, 1000, 100};
  uint32_t window = 2;  // seconds
  uint32_t slip = 2;
  uint32_t ipv4_prefix = 24;
  uint32_t ipv6_prefix = 56;
  std::vector<Prefix> exempt;
  uint32_t table_size = 65536;
};

// Reads the `rate_limit:` section at `r`.
absl::StatusOr<RateLimitConfig> ReadRateLimit(const YamlReader& r);

}  // namespace sextant::control
