#include "dataplane/dpdk/interface_name.h"

#include <net/if.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace sextant::dataplane {

absl::Status ValidateInterfaceName(absl::string_view name) {
  const bool charset_ok = std::all_of(name.begin(), name.end(), [](char ch) {
    return absl::ascii_isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '-';
  });
  if (name.empty() || name.size() >= IFNAMSIZ || !charset_ok) {
    return absl::InvalidArgumentError(absl::StrCat(
        "exception interface name \"", absl::CHexEscape(name), "\" refused: it must be 1-",
        IFNAMSIZ - 1, " characters of A-Z, a-z, 0-9, _ and -"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> VlanInterfaceName(absl::string_view parent, uint16_t vlan) {
  if (vlan == 0 || vlan > 4094) {
    return absl::InvalidArgumentError(absl::StrCat("VLAN id ", vlan, " is not 1-4094"));
  }
  std::string name = absl::StrCat(parent, ".", vlan);
  if (name.size() >= IFNAMSIZ) {
    return absl::InvalidArgumentError(absl::StrCat(
        "VLAN sub-interface name ", name, " is longer than ", IFNAMSIZ - 1, " characters"));
  }
  return name;
}

}  // namespace sextant::dataplane
