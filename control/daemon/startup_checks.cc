#include "control/daemon/startup_checks.h"

#include <fcntl.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "maps/unique_fd.h"

namespace sextant::control {

std::string ErrnoText(int err) {
  const char* name = strerrorname_np(err);
  return absl::StrCat(std::strerror(err), " (", name != nullptr ? name : absl::StrCat(err), ")");
}

absl::Status CheckStateFile(const std::string& path) {
  const std::filesystem::path dir = std::filesystem::path(path).parent_path();
  std::error_code ec;
  if (!dir.empty() && !std::filesystem::is_directory(dir, ec)) {
    std::filesystem::create_directories(dir, ec);
    if (ec) {
      return absl::FailedPreconditionError(
          absl::StrCat("state file ", path, " (control.state_file): cannot create directory ",
                       dir.string(), ": ", ErrnoText(ec.value())));
    }
  }
  // The file the state is written through (control/util/atomic_file.h): if it cannot be made
  // now, no override could be kept later.
  const std::string tmp = path + ".tmp";
  {
    const maps::UniqueFd probe(open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (!probe) {
      return absl::FailedPreconditionError(absl::StrCat("state file ", path,
                                                        " (control.state_file): cannot create ",
                                                        tmp, ": ", ErrnoText(errno)));
    }
  }
  unlink(tmp.c_str());
  const maps::UniqueFd existing(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!existing && errno != ENOENT) {
    return absl::FailedPreconditionError(absl::StrCat(
        "state file ", path, " (control.state_file): cannot read it: ", ErrnoText(errno)));
  }
  return absl::OkStatus();
}

std::string TcpBindProblem(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  const std::string service = absl::StrCat(port);
  if (const int rc =
          getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &res);
      rc != 0) {
    return gai_strerror(rc);
  }
  std::string problem;
  for (const addrinfo* a = res; a != nullptr; a = a->ai_next) {
    const maps::UniqueFd fd(socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol));
    if (!fd) {
      problem = ErrnoText(errno);
      continue;
    }
    int yes = 1;
    setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    if (bind(fd.get(), a->ai_addr, a->ai_addrlen) == 0) {
      problem.clear();
      break;
    }
    problem = ErrnoText(errno);
  }
  freeaddrinfo(res);
  return problem;
}

}  // namespace sextant::control
