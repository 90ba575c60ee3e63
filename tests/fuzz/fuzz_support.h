// What the libFuzzer targets in tests/fuzz/ share: the invariant check (a violation is a trap,
// which libFuzzer reports as a crash with its input), and writing a seed corpus for the targets
// whose seeds are built by code (SEXTANT_FUZZ_WRITE_SEEDS=DIR).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace sextant::fuzz {

inline void Require(bool ok) {
  if (!ok) __builtin_trap();
}

// Writes `n` bytes as DIR/NAME, or exits naming the file.
inline void WriteSeed(const std::string& dir, const std::string& name, const void* data, size_t n) {
  const std::string path = dir + "/" + name;
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr || std::fwrite(data, 1, n, f) != n || std::fclose(f) != 0) {
    std::perror(path.c_str());
    std::exit(1);
  }
}

}  // namespace sextant::fuzz
