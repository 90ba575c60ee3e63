// The exception interface's kernel name, checked again on the dataplane side. Control refuses a
// bad name at --check and the snapshot reader refuses it too, but the dataplane hands the name to
// the kernel (net_tap devargs, netlink, /proc/sys paths): it checks what it is about to use
// rather than trust that every writer of a snapshot did.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sextant::dataplane {

// OK when `name` is 1 to IFNAMSIZ-1 characters of [A-Za-z0-9_-]; InvalidArgument otherwise,
// with a message that names the value and the rule. No '.', ',', '=' or '/': a comma or '='
// would end the net_tap devargs and a '/' would leave the interface's /proc/sys directory.
absl::Status ValidateInterfaceName(absl::string_view name);

// "<parent>.<vlan>", the VLAN sub-interface of the exception tap; InvalidArgument when the
// result does not fit IFNAMSIZ or `vlan` is not 1-4094.
absl::StatusOr<std::string> VlanInterfaceName(absl::string_view parent, uint16_t vlan);

}  // namespace sextant::dataplane
