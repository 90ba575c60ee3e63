#include "maps/snapshot_checksum.h"

#include <xxhash.h>

namespace sextant::maps {
uint64_t SnapshotChecksum(const void* data, size_t len) { return XXH3_64bits(data, len); }
}  // namespace sextant::maps
