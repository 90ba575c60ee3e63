#include "control/daemon/file_watcher.h"

#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"

namespace sextant::control {
namespace {

std::string Normal(const std::string& path) {
  std::error_code ec;
  std::filesystem::path p = std::filesystem::absolute(path, ec);
  return (ec ? std::filesystem::path(path) : p).lexically_normal().string();
}

}  // namespace

absl::StatusOr<std::unique_ptr<FileWatcher>> FileWatcher::Create() {
  int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) return absl::InternalError(absl::StrCat("inotify_init1: ", std::strerror(errno)));
  return std::unique_ptr<FileWatcher>(new FileWatcher(fd));
}

FileWatcher::~FileWatcher() { close(fd_); }

absl::Status FileWatcher::Watch(const std::vector<std::string>& files) {
  for (const auto& [wd, dir] : dirs_) inotify_rm_watch(fd_, wd);
  dirs_.clear();
  files_.clear();
  std::set<std::string> dirs;
  for (const std::string& f : files) {
    const std::string n = Normal(f);
    files_.insert(n);
    dirs.insert(std::filesystem::path(n).parent_path().string());
  }
  std::string errors;
  for (const std::string& d : dirs) {
    const int wd = inotify_add_watch(fd_, d.c_str(),
                                     IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE |
                                         IN_DELETE | IN_MODIFY | IN_ATTRIB | IN_ONLYDIR);
    if (wd < 0) {
      absl::StrAppend(&errors, errors.empty() ? "" : "; ", "cannot watch ", d, ": ",
                      std::strerror(errno));
      continue;
    }
    dirs_[wd] = d;
  }
  if (!errors.empty()) return absl::NotFoundError(errors);
  return absl::OkStatus();
}

std::vector<std::string> FileWatcher::Drain() {
  std::set<std::string> changed;
  alignas(inotify_event) char buf[16384];
  for (;;) {
    ssize_t n = read(fd_, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    for (char* p = buf; p < buf + n;) {
      const auto* ev = reinterpret_cast<const inotify_event*>(p);
      p += sizeof(inotify_event) + ev->len;
      auto d = dirs_.find(ev->wd);
      if (d == dirs_.end() || ev->len == 0) continue;
      const std::string path = absl::StrCat(d->second, "/", ev->name);
      if (files_.count(path)) changed.insert(path);
    }
  }
  return {changed.begin(), changed.end()};
}

}  // namespace sextant::control
