// Small helpers shared by the YAML readers (config.cc, resource_config.cc): errors that name
// the file and line, and refusal of unknown keys so a typo never silently changes behaviour.
#pragma once

#include <yaml-cpp/yaml.h>

#include <set>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace sextant::control {

inline absl::Status YamlError(const std::string& file, const YAML::Node& n,
                              const std::string& what) {
  if (n.IsDefined() && n.Mark().line >= 0) {
    return absl::InvalidArgumentError(absl::StrCat(file, " line ", n.Mark().line + 1, ": ", what));
  }
  return absl::InvalidArgumentError(absl::StrCat(file, ": ", what));
}

// `where` is the key path ("server", "zones[]"; "" for the top level), reported as
// "unknown key 'server.edns_size'".
inline absl::Status CheckYamlKeys(const std::string& file, const YAML::Node& map,
                                  const std::string& where, const std::set<std::string>& known) {
  if (!map.IsMap()) {
    return YamlError(
        file, map, absl::StrCat(where.empty() ? "the configuration" : where, " must be a mapping"));
  }
  for (const auto& kv : map) {
    const std::string key = kv.first.as<std::string>();
    if (!known.count(key)) {
      return YamlError(file, kv.first,
                       absl::StrCat("unknown key '", where.empty() ? "" : where + ".", key,
                                    "' (known: ", absl::StrJoin(known, ", "), ")"));
    }
  }
  return absl::OkStatus();
}

}  // namespace sextant::control
