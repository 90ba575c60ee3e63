#include "control/cli/running_config.h"

#include <filesystem>
#include <system_error>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "control/daemon/control_socket.h"

namespace sextant::control {

std::string JsonStringField(const std::string& json, const std::string& key) {
  const std::string open = absl::StrCat("\"", key, "\":\"");
  const size_t at = json.find(open);
  if (at == std::string::npos) return "";
  const size_t start = at + open.size();
  const size_t end = json.find('"', start);
  return end == std::string::npos ? "" : json.substr(start, end - start);
}

long long JsonNumberField(const std::string& json, const std::string& key) {
  const std::string open = absl::StrCat("\"", key, "\":");
  const size_t at = json.find(open);
  if (at == std::string::npos) return -1;
  const size_t start = at + open.size();
  const size_t end = json.find_first_not_of("0123456789", start);
  long long n = -1;
  if (!absl::SimpleAtoi(json.substr(start, end - start), &n)) return -1;
  return n;
}

absl::StatusOr<Config> RunningConfig(const std::string& socket_path, const std::string& instance) {
  absl::StatusOr<std::string> status = ControlRequest(socket_path, "status json");
  if (!status.ok()) {
    return absl::UnavailableError(absl::StrCat(
        "no --config given, and sextant-control does not answer on ", socket_path, " (",
        status.status().message(), "); pass --config FILE to see which layer chose the list"));
  }
  const std::string serves = JsonStringField(*status, "instance");
  if (serves != instance) {
    return absl::FailedPreconditionError(absl::StrCat("the sextant-control on ", socket_path,
                                                      " serves instance '", serves, "', not '",
                                                      instance, "'; pass --config FILE"));
  }
  std::filesystem::path path = JsonStringField(*status, "config");
  const long long pid = JsonNumberField(*status, "pid");
  if (path.empty()) {
    return absl::UnavailableError(
        absl::StrCat("sextant-control on ", socket_path, " names no config file; pass --config"));
  }
  if (path.is_relative()) {
    std::error_code ec;
    const std::filesystem::path cwd =
        std::filesystem::read_symlink(absl::StrCat("/proc/", pid, "/cwd"), ec);
    if (pid <= 0 || ec) {
      return absl::UnavailableError(absl::StrCat(
          "sextant-control runs config ", path.string(), ", relative to a working directory ",
          "that cannot be read (", ec ? ec.message() : "no pid", "); pass --config FILE"));
    }
    path = cwd / path;
  }
  absl::StatusOr<Config> config = LoadConfig(path.string());
  if (!config.ok()) {
    return absl::Status(config.status().code(), absl::StrCat("the config sextant-control runs: ",
                                                             config.status().message()));
  }
  return config;
}

}  // namespace sextant::control
