// Configuration distribution (fleet.distribute): a bundle is a directory's files (the config
// `sextant.yaml`, zones, nets and latency files), published by `sextantctl fleet publish DIR`
// as one etcd key, `<prefix>bundle`, whose mod revision is the bundle's revision. GeoIP
// databases (*.mmdb) travel by content hash and path only: each node must already hold the file
// at `<fleet.bundle_dir>/geo/<path>` with that SHA-256 (its own updater puts it there).
//
// A node unpacks a new revision into `<bundle_dir>/rev-<N>/`, with its own `instance`,
// `control` and `fleet` sections put over the bundle's (paths in them made absolute), so the
// same bundle serves every node; then it validates and activates it like a reload. A revision
// that does not load or compile is refused: the last good one keeps serving and the refusal is
// published under the node's member key (`sextantctl fleet status`).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "control/config/config.h"

namespace sextant::control::fleet {

inline constexpr char kBundleConfig[] = "sextant.yaml";
inline constexpr size_t kMaxBundleBytes = 1 << 20;  // etcd takes requests up to 1.5 MiB

// The JSON value of DIR's bundle (sextantctl): {"files": {path: base64}, "geo": {path: sha256}}.
absl::StatusOr<std::string> PackBundle(const std::string& dir);
// Puts it under the fleet's bundle key; the reply names the new revision.
absl::StatusOr<std::string> PublishBundle(const Config& config, const std::string& dir);

// Unpacks revision `revision` into `<bundle_dir>/rev-<revision>/` with the node's own sections
// from `local_config_path`; returns the path of the config to load.
absl::StatusOr<std::string> UnpackBundle(const std::string& value, int64_t revision,
                                         const std::string& bundle_dir,
                                         const std::string& local_config_path);
// Points `<bundle_dir>/current` at the revision's directory (atomically), so that a restart
// starts from the last good revision.
absl::Status MarkCurrent(const std::string& bundle_dir, int64_t revision);
// The config of the current revision and its number, if a revision was activated before.
struct CurrentBundle {
  std::string config_path;
  int64_t revision = 0;
};
std::optional<CurrentBundle> FindCurrent(const std::string& bundle_dir);

}  // namespace sextant::control::fleet
