// libFuzzer target for the control socket's request parser (control/daemon/control_command.h):
// anyone who may open the socket sends bytes, and the daemon parses them on its event loop. The
// parser must return a command or an error with a message, never crash or hang; a command it
// accepts must survive the round trip through the line sextantctl would write for it, and carry
// only names the protocol can carry.
#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "control/daemon/control_command.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using sextant::fuzz::Require;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view line(reinterpret_cast<const char*>(data), size);
  auto c = sextant::control::ParseControlCommand(line);
  if (!c.ok()) {
    Require(!c.status().message().empty());
    return 0;
  }
  using sextant::control::CommandKind;
  if (c->kind == CommandKind::kForce || c->kind == CommandKind::kRelease) {
    Require(sextant::control::IsProtocolName(c->target.name));
  }
  if (c->kind == CommandKind::kForce) Require(c->target.for_ms >= 0);
  const std::string again = c->Line();
  Require(again.find('\n') == std::string::npos);
  auto reparsed = sextant::control::ParseControlCommand(again);
  Require(reparsed.ok() && *reparsed == *c);
  return 0;
}
