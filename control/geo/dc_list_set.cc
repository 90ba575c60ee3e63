#include "control/geo/dc_list_set.h"

#include <cstring>

namespace sextant::control {

uint32_t DcListSet::Intern(absl::Span<const uint8_t> dcs) {
  std::string key(reinterpret_cast<const char*>(dcs.data()), dcs.size());
  auto [it, inserted] = ids_.try_emplace(std::move(key), static_cast<uint32_t>(lists_.size()));
  if (inserted) {
    DcList l{};
    l.count = static_cast<uint8_t>(dcs.size());
    std::memcpy(l.dcs, dcs.data(), dcs.size());
    lists_.push_back(l);
  }
  return it->second;
}

}  // namespace sextant::control
