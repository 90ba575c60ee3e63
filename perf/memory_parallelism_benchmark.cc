// What the machine's memory gives a lookup that misses every cache: random 64-byte lines of a
// region much larger than the last-level cache, read in `chains` independent dependent chains
// (each load's address comes from the previous load of its chain). One chain is the memory
// latency; many chains show how many misses the core keeps in flight, which bounds what the
// burst prefetch (dataplane/burst_prefetch.h) can overlap at a million names. The region is in
// 4 KiB pages or advised MADV_HUGEPAGE (transparent 2 MiB pages), as the snapshot copy is.
// perf/README.md, "What memory allows at a million names", has the figures of this machine.
//
//   build-perf/bin/memory_parallelism_benchmark --benchmark_min_time=1
//
// The counter ns_per_line is time per line read, all chains together.
#include <benchmark/benchmark.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <random>
#include <vector>

namespace {

constexpr size_t kLine = 64;
constexpr size_t kHuge = size_t{2} << 20;
constexpr int kMaxChains = 64;

// `mib` MiB at a 2 MiB boundary, every line holding the offset of the next line of one random
// cycle through all of them.
class Region {
 public:
  Region(size_t mib, bool huge) : bytes_(mib << 20) {
    raw_ =
        mmap(nullptr, bytes_ + kHuge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw_ == MAP_FAILED) {
      raw_ = nullptr;
      return;
    }
    const size_t lead = (kHuge - reinterpret_cast<uintptr_t>(raw_) % kHuge) % kHuge;
    base_ = static_cast<uint8_t*>(raw_) + lead;
    madvise(base_, bytes_, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
    const size_t lines = bytes_ / kLine;
    order_.resize(lines);
    std::iota(order_.begin(), order_.end(), uint32_t{0});
    std::mt19937_64 rng(1);
    std::shuffle(order_.begin(), order_.end(), rng);
    for (size_t i = 0; i < lines; ++i) {
      const uint64_t next = uint64_t{order_[(i + 1) % lines]} * kLine;
      std::memcpy(base_ + size_t{order_[i]} * kLine, &next, sizeof next);
    }
  }
  Region(const Region&) = delete;
  Region& operator=(const Region&) = delete;
  ~Region() {
    if (raw_ != nullptr) munmap(raw_, bytes_ + kHuge);
  }

  bool ok() const { return raw_ != nullptr; }
  const uint8_t* base() const { return base_; }
  // Where chain `k` of `chains` starts: spread evenly along the cycle.
  uint64_t Start(int k, int chains) const {
    return uint64_t{order_[order_.size() / chains * k]} * kLine;
  }

 private:
  size_t bytes_;
  void* raw_ = nullptr;
  uint8_t* base_ = nullptr;
  std::vector<uint32_t> order_;
};

void RandomLines(benchmark::State& state) {
  const auto mib = static_cast<size_t>(state.range(0));
  const auto chains = static_cast<int>(state.range(1));
  const bool huge = state.range(2) != 0;
  Region region(mib, huge);
  if (!region.ok() || chains < 1 || chains > kMaxChains) {
    state.SkipWithError("cannot map the region");
    return;
  }
  uint64_t at[kMaxChains];
  for (int k = 0; k < chains; ++k) at[k] = region.Start(k, chains);
  const uint8_t* base = region.base();
  constexpr int kSteps = 1024;
  for (auto _ : state) {
    for (int s = 0; s < kSteps; ++s) {
      for (int k = 0; k < chains; ++k) std::memcpy(&at[k], base + at[k], sizeof at[k]);
    }
    benchmark::DoNotOptimize(at);
  }
  const double lines = static_cast<double>(state.iterations()) * kSteps * chains;
  state.counters["ns_per_line"] =
      benchmark::Counter(lines, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

// 256 MiB (larger than any last-level cache here), 1 to 32 chains, 4 KiB and 2 MiB pages.
BENCHMARK(RandomLines)
    ->ArgNames({"mib", "chains", "huge"})
    ->ArgsProduct({{256}, {1, 4, 8, 16, 32}, {0, 1}})
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
