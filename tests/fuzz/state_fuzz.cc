// libFuzzer target for control's state file (control/health/health_state.h): the YAML control
// writes to keep the last known health and the operators' overrides across restarts, read back
// at every start. A file damaged by a disk, an editor or another version must be refused with a
// message, never crash control (it would then crash at every start, with the dataplane's
// answers stuck on the last snapshot).
//
// Loaded into a table that has targets (some of them named in the seeds), so that accepted
// states reach the health words. What the table accepts must survive its own round trip: the
// text Serialize() writes loads again, into the same text.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "control/health/health_state.h"
#include "maps/control_block.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using sextant::fuzz::Require;

using sextant::control::HealthTable;
using sextant::control::TargetSpec;

constexpr int64_t kNow = 1'800'000'000'000;

std::vector<TargetSpec> Targets() {
  return {{"web1", "ams", 0, true, true},
          {"web2", "ams", 1, true, true},
          {"web3", "sgp", 2, false, true},
          {"lone", "", 3, true, false}};
}

std::atomic<uint32_t> g_words[sextant::maps::kMaxHealthWords];

std::string LoadAndSerialize(const std::string& text, bool* ok) {
  HealthTable table(g_words);
  table.SetTargets(Targets(), kNow);
  const auto status = table.Load(text, kNow);
  *ok = status.ok();
  if (!status.ok()) {
    Require(!status.message().empty());
    return {};
  }
  for (const TargetSpec& t : Targets()) (void)table.Word(t.name);
  return table.Serialize();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  bool ok = false;
  const std::string first =
      LoadAndSerialize(std::string(reinterpret_cast<const char*>(data), size), &ok);
  if (!ok) return 0;
  bool again = false;
  const std::string second = LoadAndSerialize(first, &again);
  Require(again && second == first);
  return 0;
}
