// Watches a set of files (config, zones and their $INCLUDEs, later GeoIP and latency files) for
// changes with inotify. It watches their directories rather than the files themselves, because
// editors and deployment tools replace files by rename, which a watch on the old inode would
// never report. The daemon debounces what this reports (control/daemon/daemon.cc).
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace sextant::control {

class FileWatcher {
 public:
  static absl::StatusOr<std::unique_ptr<FileWatcher>> Create();
  ~FileWatcher();

  int fd() const { return fd_; }
  // Replaces the watched set. Files whose directory does not exist are reported as an error,
  // the rest are still watched.
  absl::Status Watch(const std::vector<std::string>& files);
  // Reads every pending event; returns the watched files that changed (empty if none did).
  std::vector<std::string> Drain();

 private:
  explicit FileWatcher(int fd) : fd_(fd) {}
  int fd_;
  std::map<int, std::string> dirs_;  // watch descriptor -> directory
  std::set<std::string> files_;      // absolute, normalised
};

}  // namespace sextant::control
