// libFuzzer target for the text the operator hands the control plane: the whole YAML config
// (ParseConfig: zones, policies, targets, health checks and feeds, datacenters, geo maps; it
// reads no files), nets files, latency CSVs, IP prefixes and durations. The first input byte
// picks the parser, the rest is its text.
//
// Each parser must return an error or a value, never crash, hang or trip ASan/UBSan; what it
// accepts must hold the invariants the compiler relies on (checked below), and what it refuses
// must say so in a non-empty message.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "control/config/config.h"
#include "control/geo/geo_config.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using sextant::fuzz::Require;

using sextant::control::IpPrefix;

void CheckPrefix(const IpPrefix& p) {
  Require(p.family == sextant::maps::kFamilyIpv4 || p.family == sextant::maps::kFamilyIpv6);
  Require(p.length >= 0 && p.length <= p.max_length());
  // Bits past the length are zero (the parser refuses "198.18.7.1/24" rather than mask it).
  for (int bit = p.length; bit < p.max_length(); ++bit) {
    Require((p.addr[bit / 8] & (0x80 >> (bit % 8))) == 0);
  }
}

template <typename T>
void CheckRefusal(const T& result) {
  if (!result.ok()) Require(!result.status().message().empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const absl::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 5) {
    case 0: {
      auto c = sextant::control::ParseConfig(std::string(text), "fuzz.yaml", "/nonexistent");
      CheckRefusal(c);
      break;
    }
    case 1: {
      auto nets = sextant::control::ParseNets(text, "nets.txt");
      CheckRefusal(nets);
      if (nets.ok()) {
        for (const auto& n : *nets) {
          CheckPrefix(n.prefix);
          Require(!n.datacenters.empty());
        }
      }
      break;
    }
    case 2: {
      auto rows = sextant::control::ParseLatencyCsv(text, "rtt.csv");
      CheckRefusal(rows);
      if (rows.ok()) {
        for (const auto& r : *rows) {
          CheckPrefix(r.prefix);
          Require(!r.datacenter.empty());
          Require(r.rtt_ms >= 0 && r.rtt_ms == r.rtt_ms);  // not negative, not NaN
        }
      }
      break;
    }
    case 3: {
      auto p = sextant::control::ParseIpPrefix(text);
      CheckRefusal(p);
      if (p.ok()) CheckPrefix(*p);
      break;
    }
    default: {
      auto ms = sextant::control::ParseDurationMs(std::string(text));
      CheckRefusal(ms);
      break;
    }
  }
  return 0;
}
