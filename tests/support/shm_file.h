// ShmFile: a /dev/shm path unique to this test process, removed when the test ends, for tests
// of what reads snapshot files (the dataplane maps or copies /dev/shm files).
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

namespace sextant::testing {

class ShmFile {
 public:
  explicit ShmFile(const std::string& tag)
      : path_(absl::StrCat("/dev/shm/sextant-snapshot-test-", getpid(), "-", tag)) {}
  ~ShmFile() { unlink(path_.c_str()); }
  ShmFile(const ShmFile&) = delete;
  ShmFile& operator=(const ShmFile&) = delete;
  const std::string& path() const { return path_; }
  // Replaces the file's contents with `b`; false when it could not be written whole.
  bool Write(const std::vector<uint8_t>& b) const {
    const int fd = open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return false;
    const bool ok = write(fd, b.data(), b.size()) == static_cast<ssize_t>(b.size());
    close(fd);
    return ok;
  }

 private:
  std::string path_;
};

}  // namespace sextant::testing
