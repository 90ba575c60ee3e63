// Helpers for uncompressed wire-format names in the control plane (not the fast path).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace sextant::control {

// Lowercases ASCII letters of a wire name in place, leaving length octets alone.
std::string LowerWireName(std::string_view wire);
// Number of labels, not counting the root.
int WireLabelCount(std::string_view wire);
// Wire name with the first label removed ("" for the root).
std::string_view WireParent(std::string_view wire);
// True when `name` equals `ancestor` or lies below it (both lowered).
bool WireIsSubdomain(std::string_view name, std::string_view ancestor);
// Presentation form ("www.example.test.").
std::string WireToText(std::string_view wire);
// Parses presentation form (absolute or relative to the root) into lowered wire form.
absl::StatusOr<std::string> TextToWire(std::string_view text);
// Length of the wire name starting at data[0] (uncompressed); 0 if malformed.
size_t WireNameLength(const uint8_t* data, size_t max);

}  // namespace sextant::control
