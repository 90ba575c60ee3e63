#include "control/daemon/control_socket.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "control/daemon/startup_checks.h"

namespace sextant::control {
namespace {

constexpr size_t kMaxRequest = 4096;
constexpr int kIoTimeoutMs = 2000;

absl::StatusOr<sockaddr_un> Address(const std::string& path) {
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(sa.sun_path)) {
    return absl::InvalidArgumentError(absl::StrCat("control socket path '", path, "' is too long"));
  }
  std::memcpy(sa.sun_path, path.data(), path.size());
  return sa;
}

// Writes all of `data`, waiting at most kIoTimeoutMs for the peer each time.
bool WriteAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd, POLLOUT, 0};
      if (poll(&p, 1, kIoTimeoutMs) <= 0) return false;
      continue;
    }
    return false;
  }
  return true;
}

// Reads until EOF or `stop_at_newline` sees a newline, at most `max` bytes.
absl::StatusOr<std::string> ReadSome(int fd, size_t max, bool stop_at_newline, int timeout_ms) {
  std::string out;
  char buf[4096];
  while (out.size() < max) {
    pollfd p{fd, POLLIN, 0};
    int r = poll(&p, 1, timeout_ms);
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) return absl::DeadlineExceededError("timed out");
    ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) return absl::UnavailableError(std::strerror(errno));
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (stop_at_newline && out.find('\n') != std::string::npos) break;
  }
  return out;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ControlSocketServer>> ControlSocketServer::Create(
    const std::string& path, uint32_t mode) {
  auto sa = Address(path);
  if (!sa.ok()) return sa.status();
  std::error_code ec;
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  if (!dir.empty() && !std::filesystem::exists(dir, ec)) {
    std::filesystem::create_directories(dir, ec);
    if (ec) {
      return absl::PermissionDeniedError(absl::StrCat("control socket ", path,
                                                      ": cannot create directory ", dir.string(),
                                                      ": ", ErrnoText(ec.value())));
    }
  }
  // A socket file already there: if a daemon answers, refuse; if not, it is stale.
  if (std::filesystem::exists(path, ec)) {
    int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const bool alive =
        probe >= 0 && connect(probe, reinterpret_cast<const sockaddr*>(&*sa), sizeof(*sa)) == 0;
    if (probe >= 0) close(probe);
    if (alive) {
      return absl::AlreadyExistsError(
          absl::StrCat("another sextant-control answers on ", path, "; not starting a second"));
    }
    unlink(path.c_str());
  }
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return absl::InternalError(absl::StrCat("socket: ", std::strerror(errno)));
  // Bind under a restrictive umask so that there is no window in which the socket is wider
  // than `mode`.
  const mode_t old = umask(0777 & ~mode);
  const int rc = bind(fd, reinterpret_cast<const sockaddr*>(&*sa), sizeof(*sa));
  umask(old);
  if (rc != 0 || chmod(path.c_str(), mode) != 0 || listen(fd, 64) != 0) {
    const int e = errno;
    close(fd);
    return absl::PermissionDeniedError(
        absl::StrCat("cannot listen on control socket ", path, ": ", ErrnoText(e)));
  }
  return std::unique_ptr<ControlSocketServer>(new ControlSocketServer(path, fd));
}

ControlSocketServer::~ControlSocketServer() {
  close(fd_);
  unlink(path_.c_str());
}

void ControlSocketServer::Serve(const Handler& handler) {
  for (;;) {
    int c = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) return;  // EAGAIN: nothing more pending
    auto req = ReadSome(c, kMaxRequest, /*stop_at_newline=*/true, kIoTimeoutMs);
    if (!req.ok()) {
      Answer(c,
             absl::Status(req.status().code(), absl::StrCat("request: ", req.status().message())));
      continue;
    }
    std::string line = *req;
    if (size_t nl = line.find('\n'); nl != std::string::npos) line.resize(nl);
    std::optional<absl::StatusOr<std::string>> r = handler(line, c);
    if (r.has_value()) Answer(c, *r);
  }
}

void ControlSocketServer::Answer(int conn, const absl::StatusOr<std::string>& r) {
  std::string answer;
  if (r.ok()) {
    answer = absl::StrCat("OK\n", *r);
  } else {
    std::string msg(r.status().message());
    for (char& ch : msg) {
      if (ch == '\n') ch = ' ';
    }
    answer = absl::StrCat("ERR ", msg, "\n");
  }
  WriteAll(conn, answer);
  close(conn);
}

absl::StatusOr<std::string> ControlRequest(const std::string& socket_path,
                                           const std::string& request, int timeout_ms) {
  auto sa = Address(socket_path);
  if (!sa.ok()) return sa.status();
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError(absl::StrCat("socket: ", std::strerror(errno)));
  if (connect(fd, reinterpret_cast<const sockaddr*>(&*sa), sizeof(*sa)) != 0) {
    const int e = errno;
    close(fd);
    return absl::UnavailableError(
        absl::StrCat("cannot reach sextant-control at ", socket_path, ": ", ErrnoText(e)));
  }
  std::string line = request + "\n";
  if (!WriteAll(fd, line)) {
    close(fd);
    return absl::UnavailableError("cannot send the request to sextant-control");
  }
  shutdown(fd, SHUT_WR);
  auto body = ReadSome(fd, 64u << 20, /*stop_at_newline=*/false, timeout_ms);
  close(fd);
  if (!body.ok()) return body.status();
  if (absl::StartsWith(*body, "OK\n")) return body->substr(3);
  if (absl::StartsWith(*body, "ERR ")) {
    std::string msg = body->substr(4);
    while (!msg.empty() && msg.back() == '\n') msg.pop_back();
    return absl::FailedPreconditionError(msg);
  }
  return absl::UnavailableError("sextant-control closed the connection without an answer");
}

}  // namespace sextant::control
