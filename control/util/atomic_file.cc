#include "control/util/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace sextant::control {

absl::Status WriteFileAtomically(const std::string& path, absl::string_view data,
                                 const AtomicWriteOptions& options) {
  const std::string tmp = path + ".tmp";
  const auto fail = [&tmp](const char* what, int err) {
    unlink(tmp.c_str());
    const std::string message = absl::StrCat("cannot ", what, " ", tmp, ": ", std::strerror(err));
    return err == ENOSPC || err == EDQUOT ? absl::ResourceExhaustedError(message)
                                          : absl::InternalError(message);
  };
  const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, options.mode);
  if (fd < 0) return fail("create", errno);
  for (size_t done = 0; done < data.size();) {
    const ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n < 0 ? errno : EIO;
      close(fd);
      return fail("write", err);
    }
    done += static_cast<size_t>(n);
  }
  if (options.sync && fsync(fd) != 0) {
    const int err = errno;
    close(fd);
    return fail("fsync", err);
  }
  if (close(fd) != 0) return fail("close", errno);
  if (rename(tmp.c_str(), path.c_str()) != 0) return fail("rename", errno);
  return absl::OkStatus();
}

}  // namespace sextant::control
