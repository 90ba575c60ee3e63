// sextant-perf's zone and what its answers must be: the generated zone, and the names the
// generator asks about with the A RRsets a correct answer holds (or NXDOMAIN).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "control/zones/zone_data.h"

namespace sextant::perf {

inline constexpr size_t kMaxA = 64;  // names with larger A RRsets are not asked for

// A zone of `hosts` hosts with A (some with two) and AAAA records.
std::string DefaultZone(const std::string& origin, int hosts);

// The $ORIGIN of a zone file, when it has one before its first record.
std::string OriginOf(const std::string& path);

// A name the generator asks about, with the A rdatas a correct answer holds (sorted), or
// NXDOMAIN.
struct Question {
  std::string wire;  // lowered, uncompressed, absolute
  bool nxdomain = false;
  std::vector<uint32_t> a;  // host order, sorted
};

// Every owner with an A RRset that the engine answers authoritatively from that RRset: not
// wildcards, not at or below a delegation, not in a more specific configured zone.
std::vector<Question> AnswerableNames(const std::vector<control::ZoneData>& zones);

// Names under the first zone's apex that do not exist (none when the apex has a wildcard).
std::vector<Question> NxdomainNames(const std::vector<control::ZoneData>& zones, int n);

// Test only: every `every`-th question expects its first address with the last bit flipped, so
// that a right answer is counted wrong ("answer differs").
void CorruptExpected(std::vector<Question>* questions, uint32_t every);

}  // namespace sextant::perf
