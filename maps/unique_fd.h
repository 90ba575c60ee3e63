// UniqueFd owns one file descriptor and closes it when it goes out of scope, so that it is
// released on every path, early error returns included, without a close() by hand. The one fd
// owner of both processes (the maps' own files, the health checker's sockets and pipes, the
// kernel listener's sockets and epoll sets): it lives with the contract because maps/ is the
// layer both processes share, and maps itself opens files.
#pragma once

#include <unistd.h>

#include <cerrno>
#include <utility>

namespace sextant::maps {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    reset(other.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  explicit operator bool() const { return valid(); }

  // Gives up ownership without closing.
  int release() { return std::exchange(fd_, -1); }

  // Closes the owned descriptor, if any, and owns `fd` instead. errno is kept as it was: a
  // caller that gives up after a failed call reports that call's error, and close() must not
  // overwrite it on the way out (Android's base::unique_fd does the same).
  void reset(int fd = -1) {
    if (fd_ >= 0) {
      const int saved_errno = errno;
      close(fd_);
      errno = saved_errno;
    }
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

}  // namespace sextant::maps
