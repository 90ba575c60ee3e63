// `--snapshot-hugepages MIB|off` of both modes of sextant-dataplane: snapshots of MIB MiB or more
// are copied into anonymous memory advised MADV_HUGEPAGE (maps/huge_page_copy.h) instead of being
// served from their /dev/shm mapping in 4 KiB pages. The copy costs a second copy of the snapshot
// in memory and a few hundred milliseconds per switch at a million names (off the fast path), and
// buys fewer TLB misses when lookups spread over a large zone (perf/README.md, "Large zones").
// `off` keeps every snapshot mapped (tight memory); 0 copies every one.
#pragma once

#include <CLI/CLI.hpp>
#include <cstddef>
#include <string>

#include "absl/strings/numbers.h"
#include "maps/snapshot_reader.h"

namespace sextant::dataplane {

// Parses MIB|off into bytes (maps::kNeverCopy for off); false when it is neither.
inline bool ParseSnapshotCopyMinMib(const std::string& text, size_t* bytes) {
  if (text == "off") {
    *bytes = maps::kNeverCopy;
    return true;
  }
  uint32_t mib = 0;
  if (!absl::SimpleAtoi(text, &mib) || mib > (1u << 20)) return false;
  *bytes = size_t{mib} << 20;
  return true;
}

// Adds the option; `bytes` keeps its value (the caller's default) when the flag is absent.
inline void AddSnapshotCopyOption(CLI::App& app, size_t* bytes) {
  app.add_option_function<std::string>(
         "--snapshot-hugepages",
         [bytes](const std::string& text) { ParseSnapshotCopyMinMib(text, bytes); },
         "copy snapshots of MIB MiB or more into hugepage-backed memory (fewer TLB misses on "
         "large zones, the snapshot held twice); 0: every snapshot, off: none (default 32)")
      ->type_name("MIB|off")
      ->check([](const std::string& text) {
        size_t unused = 0;
        return ParseSnapshotCopyMinMib(text, &unused)
                   ? std::string()
                   : "--snapshot-hugepages '" + text + "' is neither a size in MiB nor off";
      });
}

}  // namespace sextant::dataplane
