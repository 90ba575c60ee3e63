// The YAML configuration (yaml-cpp). The minimal form, which must keep working as the schema
// grows:
//
//   zones:
//     - origin: example.test.
//       file: example.test.zone   # relative to the config file
//
// Every other key is optional; unknown keys are refused with the key's path, so that a typo
// never silently changes behaviour. See README.md "Configuration" for the full reference.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace sextant::control {

struct ZoneConfig {
  std::string origin;  // as written
  std::string file;    // resolved against the config file's directory
};

struct ServerConfig {
  uint16_t edns_udp_size = 1232;  // DNS Flag Day 2020
  std::string nsid;               // RFC 5001; empty = not answered
  std::optional<std::string> version;   // CH TXT version.bind / version.server
  std::optional<std::string> identity;  // CH TXT id.server / hostname.bind
};

struct Config {
  std::string path;                // the file this came from
  std::string instance = "sextant";  // names the /dev/shm files
  std::vector<ZoneConfig> zones;
  ServerConfig server;
};

absl::StatusOr<Config> LoadConfig(const std::string& path);
absl::StatusOr<Config> ParseConfig(const std::string& yaml_text, const std::string& path_for_messages,
                                   const std::string& base_dir);

}  // namespace sextant::control
