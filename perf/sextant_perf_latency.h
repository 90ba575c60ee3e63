// sextant-perf's latency statistics: a histogram of nanoseconds with quantiles, mean and maximum.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace sextant::perf {

// 10 ns bins up to 10 ms, one overflow bin; the exact maximum is kept beside.
class Histogram {
 public:
  static constexpr uint32_t kBinNs = 10;
  static constexpr uint32_t kBins = 1000000;
  Histogram() : bins_(kBins + 1, 0) {}
  void Add(uint64_t ns) {
    ++bins_[std::min<uint64_t>(ns / kBinNs, kBins)];
    max_ = std::max(max_, ns);
    sum_ += ns;
    ++n_;
  }
  uint64_t count() const { return n_; }
  double mean_us() const { return n_ ? sum_ / 1e3 / n_ : 0; }
  double max_us() const { return max_ / 1e3; }
  // Upper edge of the bin holding the p-quantile, in microseconds.
  double Quantile_us(double p) const {
    if (n_ == 0) return 0;
    const uint64_t rank = static_cast<uint64_t>(p * (n_ - 1)) + 1;
    uint64_t seen = 0;
    for (uint32_t i = 0; i <= kBins; ++i) {
      seen += bins_[i];
      if (seen >= rank) return i == kBins ? max_us() : (i + 1) * kBinNs / 1e3;
    }
    return max_us();
  }

 private:
  std::vector<uint32_t> bins_;
  uint64_t max_ = 0, sum_ = 0, n_ = 0;
};

}  // namespace sextant::perf
