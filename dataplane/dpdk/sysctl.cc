#include "dataplane/dpdk/sysctl.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace sextant::dataplane {

SysctlChanges::~SysctlChanges() { (void)Restore(); }

absl::StatusOr<std::string> SysctlChanges::Get(absl::string_view key) const {
  const std::string path = absl::StrCat(root_, "/", key);
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::ErrnoToStatus(errno, absl::StrCat("cannot read ", path));
  char buf[256];
  const ssize_t n = read(fd, buf, sizeof(buf));
  const int read_errno = errno;
  close(fd);
  if (n < 0) return absl::ErrnoToStatus(read_errno, absl::StrCat("cannot read ", path));
  std::string value(buf, static_cast<size_t>(n));
  while (!value.empty() && (value.back() == '\n' || value.back() == ' ')) value.pop_back();
  return value;
}

absl::Status SysctlChanges::Write(absl::string_view key, absl::string_view value) const {
  const std::string path = absl::StrCat(root_, "/", key);
  const int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot set ", path, " to ", value));
  }
  // One write: /proc/sys parses each write(2) as a whole value.
  const ssize_t n = write(fd, value.data(), value.size());
  const int write_errno = errno;
  close(fd);
  if (n != static_cast<ssize_t>(value.size())) {
    return absl::ErrnoToStatus(n < 0 ? write_errno : EIO,
                               absl::StrCat("cannot set ", path, " to ", value));
  }
  return absl::OkStatus();
}

absl::Status SysctlChanges::Set(absl::string_view key, absl::string_view value) {
  absl::StatusOr<std::string> old = Get(key);
  if (!old.ok()) return old.status();
  absl::Status written = Write(key, value);
  if (!written.ok()) return written;
  changes_.push_back(Change{std::string(key), *std::move(old)});
  return absl::OkStatus();
}

absl::Status SysctlChanges::Restore() {
  std::vector<std::string> failures;
  for (auto it = changes_.rbegin(); it != changes_.rend(); ++it) {
    absl::Status s = Write(it->key, it->old_value);
    if (!s.ok() && !absl::IsNotFound(s)) failures.emplace_back(s.message());
  }
  changes_.clear();
  if (failures.empty()) return absl::OkStatus();
  return absl::InternalError(absl::StrCat("restoring sysctls: ", absl::StrJoin(failures, "; ")));
}

}  // namespace sextant::dataplane
