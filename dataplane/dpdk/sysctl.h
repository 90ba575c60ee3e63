// Kernel settings the dataplane changes on interfaces it uses (/proc/sys/net/...), written as
// files rather than through sysctl(8), and put back when it stops: a dataplane that exits leaves
// the host's interfaces as it found them.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sextant::dataplane {

class SysctlChanges {
 public:
  // `root` is where the sysctl tree is mounted; tests may point it elsewhere.
  explicit SysctlChanges(std::string root = "/proc/sys") : root_(std::move(root)) {}
  SysctlChanges(const SysctlChanges&) = delete;
  SysctlChanges& operator=(const SysctlChanges&) = delete;
  // Restores what is still changed (errors ignored: call Restore() to see them).
  ~SysctlChanges();

  // Writes `value` to <root>/<key> (key with slashes, e.g. "net/ipv4/conf/eth0/arp_ignore",
  // since an interface name may hold a '.'), after reading and remembering the old value.
  // Nothing is remembered when the write fails.
  absl::Status Set(absl::string_view key, absl::string_view value);

  // Writes back every remembered value, last change first, and forgets them. A setting whose
  // interface is gone (ENOENT) is skipped: it went away with the interface. Other failures are
  // all tried and reported in one status.
  absl::Status Restore();

  // The current value of <root>/<key>, without the trailing newline.
  absl::StatusOr<std::string> Get(absl::string_view key) const;

  size_t changed() const { return changes_.size(); }

 private:
  struct Change {
    std::string key;
    std::string old_value;
  };
  absl::Status Write(absl::string_view key, absl::string_view value) const;

  std::string root_;
  std::vector<Change> changes_;
};

}  // namespace sextant::dataplane
