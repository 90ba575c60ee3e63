// The control socket's requests (control_socket.h): one line of words, written by sextantctl
// (Line) and read by the daemon (ParseControlCommand), so that the protocol has one definition.
//
//   status [json]            health [json]            reload
//   force up|down|drain target|datacenter NAME [FOR_MS]
//   release target|datacenter NAME
//   fleet health [json]      fleet status [json]
//
// Whatever bytes a client sends, the parser returns a command or an error naming what it
// expected (tests/fuzz/control_fuzz.cc holds it to that, and to Line's round trip).
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "control/daemon/override_replies.h"

namespace sextant::control {

enum class CommandKind : uint8_t {
  kStatus,
  kHealth,
  kReload,
  kForce,
  kRelease,
  kFleetHealth,
  kFleetStatus,
};

struct ControlCommand {
  CommandKind kind = CommandKind::kStatus;
  bool json = false;       // status, health, fleet health, fleet status
  OverrideRequest target;  // force, release (state and for_ms: force only)

  // The request line, without the newline.
  std::string Line() const;
  bool operator==(const ControlCommand&) const = default;
};

// A target or datacenter name the protocol can carry: not empty, no whitespace or control
// characters (words are separated by spaces, the request ends at a newline).
bool IsProtocolName(absl::string_view name);

// `line`: the request up to its newline (the newline and anything after it ignored).
absl::StatusOr<ControlCommand> ParseControlCommand(absl::string_view line);

}  // namespace sextant::control
