#include "control/exporter/prom_text.h"

#include "absl/strings/str_cat.h"
#include "maps/build_info.h"

namespace sextant::exporter {

std::string LabelValue(absl::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    if (c == '\\' || c == '"') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

void Family(std::string* out, const char* name, const char* type, const char* help) {
  absl::StrAppend(out, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n");
}

void AppendBuildInfo(std::string* out, const char* component) {
  const maps::BuildInfo& b = maps::ThisBuild();
  Family(out, "sextant_build_info", "gauge",
         "Always 1: what the process (component) was built from, in its labels.");
  absl::StrAppend(out, "sextant_build_info{component=\"", component, "\",version=\"",
                  LabelValue(b.version), "\",git_revision=\"", LabelValue(b.git_revision),
                  "\",snapshot_abi=\"", b.snapshot_abi, "\",control_abi=\"", b.control_abi,
                  "\"} 1\n");
}

}  // namespace sextant::exporter
