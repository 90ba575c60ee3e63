// The snapshot checksum: XXH3-64 over everything after the header. Fast enough to verify a
// 100 MB snapshot in well under a second at pickup, strong enough to catch torn or stray writes.
#pragma once

#include <cstddef>
#include <cstdint>

namespace sextant::maps {
uint64_t SnapshotChecksum(const void* data, size_t len);
}  // namespace sextant::maps
