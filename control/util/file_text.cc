#include "control/util/file_text.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace sextant::control {

FileText ReadFileText(const std::string& path) {
  FileText out;
  // O_NONBLOCK: opening a FIFO with no writer must not block before fstat can refuse it.
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    out.error = errno;
    return out;
  }
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    const int fstat_errno = errno;
    out.error = st.st_mode == 0       ? fstat_errno
                : S_ISDIR(st.st_mode) ? EISDIR
                                      : FileText::kNotRegularFile;
    close(fd);
    return out;
  }
  char buf[65536];
  for (;;) {
    const ssize_t n = read(fd, buf, sizeof(buf));
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      out.error = errno;
      out.text.clear();
      break;
    }
    out.text.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return out;
}

std::string FileText::ErrorText() const {
  return error == kNotRegularFile ? "not a regular file (a device, FIFO or socket)"
                                  : std::strerror(error);
}

std::string AbsolutePathForMessages(const std::string& path) {
  std::error_code ec;
  const std::filesystem::path abs = std::filesystem::absolute(path, ec);
  return ec ? path : abs.lexically_normal().string();
}

}  // namespace sextant::control
