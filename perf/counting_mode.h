// What the per-query benchmarks (engine_benchmark, packet_path_benchmark) share around their
// cases: the counting mode perf/callgrind_*.sh drive (`--sx_case=NAME --sx_count=N` runs exactly
// N iterations of one case and exits, so that two callgrind runs give instructions per query),
// and otherwise every case registered with Google Benchmark.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"

namespace sextant::perf {

struct CountingMode {
  std::string sx_case, sx_count;
  bool on() const { return !sx_case.empty() || !sx_count.empty(); }
};

// Takes --sx_case=... and --sx_count=... out of argv, before Google Benchmark sees it.
inline CountingMode TakeCountingFlags(int* argc, char** argv) {
  CountingMode m;
  const auto take = [](std::string_view arg, std::string_view flag, std::string* value) {
    if (arg.size() <= flag.size() || arg.substr(0, flag.size()) != flag ||
        arg[flag.size()] != '=') {
      return false;
    }
    *value = std::string(arg.substr(flag.size() + 1));
    return true;
  };
  int kept = 1;
  for (int i = 1; i < *argc; ++i) {
    if (take(argv[i], "--sx_case", &m.sx_case) || take(argv[i], "--sx_count", &m.sx_count)) {
      continue;
    }
    argv[kept++] = argv[i];
  }
  *argc = kept;
  return m;
}

// The counting mode over `cases` (each with a `name`): run(case, count) runs it and returns the
// line to print. Returns the process's exit code.
template <typename Cases, typename Run>
int RunCountingMode(const char* program, const CountingMode& m, const Cases& cases, Run run) {
  char* end = nullptr;
  const unsigned long long count = std::strtoull(m.sx_count.c_str(), &end, 10);
  if (m.sx_count.empty() || *end != '\0') {
    std::fprintf(stderr, "%s: --sx_count=N (N >= 0) is required with --sx_case\n", program);
    return 2;
  }
  for (const auto& c : cases) {
    if (m.sx_case == c.name) {
      std::printf("%s\n", run(c, count).c_str());
      return 0;
    }
  }
  std::string names;
  for (const auto& c : cases) absl::StrAppend(&names, " ", c.name);
  std::fprintf(stderr, "%s: unknown --sx_case=%s; cases:%s\n", program, m.sx_case.c_str(),
               names.c_str());
  return 2;
}

// Registers every case as `prefix/name`, timed by fn(state, bench, case), and runs what the
// remaining flags select.
template <typename Bench, typename Cases, typename Fn>
int RunBenchmarks(int argc, char** argv, const char* prefix, Bench* b, const Cases& cases, Fn fn) {
  for (const auto& c : cases) {
    benchmark::RegisterBenchmark(absl::StrCat(prefix, "/", c.name).c_str(), fn, b, &c);
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // namespace sextant::perf
