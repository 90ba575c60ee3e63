#include "control/daemon/control_command.h"

#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace sextant::control {
namespace {

constexpr char kUsage[] =
    "status [json], health [json], reload, force STATE target|datacenter NAME [MS], release "
    "target|datacenter NAME, fleet health|status [json]";

absl::Status Unknown(absl::string_view line) {
  return absl::InvalidArgumentError(absl::StrCat("unknown request '", line, "' (", kUsage, ")"));
}

// "target" or "datacenter", then NAME.
absl::Status ParseScope(absl::string_view scope, absl::string_view name, OverrideRequest* r) {
  if (scope != "target" && scope != "datacenter") {
    return absl::InvalidArgumentError(
        absl::StrCat("expected target or datacenter, not '", scope, "'"));
  }
  if (!IsProtocolName(name)) {
    return absl::InvalidArgumentError(absl::StrCat("'", name, "' is not a name"));
  }
  r->datacenter = scope == "datacenter";
  r->name = std::string(name);
  return absl::OkStatus();
}

// A command that takes only an optional trailing "json".
bool JsonOnly(const std::vector<absl::string_view>& w, size_t at, bool* json) {
  if (w.size() == at) return true;
  *json = w.size() == at + 1 && w[at] == "json";
  return *json;
}

absl::StatusOr<ControlCommand> ParseForce(const std::vector<absl::string_view>& w) {
  ControlCommand c{CommandKind::kForce};
  if (w.size() != 4 && w.size() != 5)
    return absl::InvalidArgumentError(absl::StrCat("force: ", kUsage));
  absl::StatusOr<ForcedState> state = ParseForcedState(std::string(w[1]));
  if (!state.ok()) return state.status();
  c.target.state = *state;
  if (absl::Status s = ParseScope(w[2], w[3], &c.target); !s.ok()) return s;
  if (w.size() == 5 && (!absl::SimpleAtoi(w[4], &c.target.for_ms) || c.target.for_ms <= 0)) {
    return absl::InvalidArgumentError(absl::StrCat("force: bad duration '", w[4], "'"));
  }
  return c;
}

}  // namespace

bool IsProtocolName(absl::string_view name) {
  if (name.empty()) return false;
  for (const char ch : name) {
    const auto u = static_cast<unsigned char>(ch);
    if (u <= 0x20 || u == 0x7f) return false;
  }
  return true;
}

std::string ControlCommand::Line() const {
  const char* json_word = json ? " json" : "";
  const std::string scope =
      absl::StrCat(target.datacenter ? "datacenter " : "target ", target.name);
  switch (kind) {
    case CommandKind::kStatus:
      return absl::StrCat("status", json_word);
    case CommandKind::kHealth:
      return absl::StrCat("health", json_word);
    case CommandKind::kReload:
      return "reload";
    case CommandKind::kForce:
      return absl::StrCat("force ", ForcedStateName(target.state), " ", scope,
                          target.for_ms > 0 ? absl::StrCat(" ", target.for_ms) : "");
    case CommandKind::kRelease:
      return absl::StrCat("release ", scope);
    case CommandKind::kFleetHealth:
      return absl::StrCat("fleet health", json_word);
    case CommandKind::kFleetStatus:
      return absl::StrCat("fleet status", json_word);
  }
  return "";
}

absl::StatusOr<ControlCommand> ParseControlCommand(absl::string_view line) {
  line = line.substr(0, line.find('\n'));
  const std::vector<absl::string_view> w = absl::StrSplit(line, ' ', absl::SkipEmpty());
  if (w.empty()) return absl::InvalidArgumentError(absl::StrCat("empty request (", kUsage, ")"));
  ControlCommand c;
  if (w[0] == "status" || w[0] == "health" || w[0] == "reload") {
    c.kind = w[0] == "status"   ? CommandKind::kStatus
             : w[0] == "health" ? CommandKind::kHealth
                                : CommandKind::kReload;
    const bool ok = c.kind == CommandKind::kReload ? w.size() == 1 : JsonOnly(w, 1, &c.json);
    return ok ? absl::StatusOr<ControlCommand>(c) : Unknown(line);
  }
  if (w[0] == "fleet" && w.size() >= 2 && (w[1] == "health" || w[1] == "status")) {
    c.kind = w[1] == "health" ? CommandKind::kFleetHealth : CommandKind::kFleetStatus;
    return JsonOnly(w, 2, &c.json) ? absl::StatusOr<ControlCommand>(c) : Unknown(line);
  }
  if (w[0] == "force") return ParseForce(w);
  if (w[0] == "release") {
    if (w.size() != 3) return absl::InvalidArgumentError(absl::StrCat("release: ", kUsage));
    c.kind = CommandKind::kRelease;
    if (absl::Status s = ParseScope(w[1], w[2], &c.target); !s.ok()) return s;
    return c;
  }
  return Unknown(line);
}

}  // namespace sextant::control
