// The Prometheus text exposition format (version 0.0.4), the few pieces sextant-control's and
// sextant-exporter's /metrics share: a family's HELP and TYPE lines and escaped label values.
#pragma once

#include <string>

#include "absl/strings/string_view.h"

namespace sextant::exporter {

// A label value as it goes between the quotes: backslash, quote and newline escaped.
std::string LabelValue(absl::string_view v);

// Appends "# HELP name help" and "# TYPE name type".
void Family(std::string* out, const char* name, const char* type, const char* help);

// Appends the sextant_build_info family: 1, labelled with `component` and what this binary was
// built from (maps/build_info.h). Both sextant-control and sextant-exporter export it.
void AppendBuildInfo(std::string* out, const char* component);

// The media type of the text format.
inline constexpr const char* kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace sextant::exporter
