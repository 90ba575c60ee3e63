#include "control/cli/running_config.h"

#include <filesystem>
#include <nlohmann/json.hpp>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "control/daemon/control_command.h"
#include "control/daemon/control_socket.h"

namespace sextant::control {

absl::StatusOr<Config> RunningConfig(const std::string& socket_path, const std::string& instance) {
  absl::StatusOr<std::string> status =
      ControlRequest(socket_path, ControlCommand{CommandKind::kStatus, true}.Line());
  if (!status.ok()) {
    return absl::UnavailableError(absl::StrCat(
        "no --config given, and sextant-control does not answer on ", socket_path, " (",
        status.status().message(), "); pass --config FILE to see which layer chose the list"));
  }
  // Parsed, not searched: the dataplanes in the same object have a "pid" of their own.
  const nlohmann::json j = nlohmann::json::parse(*status, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) {
    return absl::UnavailableError(absl::StrCat("sextant-control on ", socket_path,
                                               " answered status json with no JSON object"));
  }
  const std::string serves = j.value("instance", "");
  if (serves != instance) {
    return absl::FailedPreconditionError(absl::StrCat("the sextant-control on ", socket_path,
                                                      " serves instance '", serves, "', not '",
                                                      instance, "'; pass --config FILE"));
  }
  std::filesystem::path path = j.value("config", "");
  const long long pid = j.value("pid", -1LL);
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
