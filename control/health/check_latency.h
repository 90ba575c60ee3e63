// Health-check latency as a Prometheus histogram: every probe result observed once, by the
// checker thread (health_checker.h), and exported by sextant-control's /metrics.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>

namespace sextant::control {

// Upper bounds (seconds) of the buckets; +Inf is implied.
inline constexpr double kCheckLatencyBuckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                  0.1,   0.25,   0.5,   1,    2.5,   5};
inline constexpr size_t kCheckLatencyBucketCount = std::size(kCheckLatencyBuckets);

struct CheckLatencyHistogram {
  uint64_t buckets[kCheckLatencyBucketCount + 1] = {};  // non-cumulative; the last is +Inf
  uint64_t count = 0;
  double sum_s = 0;

  void Observe(int64_t latency_us) {
    const double s = static_cast<double>(latency_us) / 1e6;
    size_t b = 0;
    while (b < kCheckLatencyBucketCount && s > kCheckLatencyBuckets[b]) ++b;
    ++buckets[b];
    ++count;
    sum_s += s;
  }
};

}  // namespace sextant::control
