// libFuzzer target for the zone loader (control/zones/zone_loader.h): master-file text through
// $ORIGIN, $TTL, $INCLUDE expansion and ldns, then the loader's own checks. The input is the
// zone file, optionally followed by a NUL byte and the text of a file it may include as
// "inc.zone" or "sub/inc.zone" (written into a scratch directory per input).
//
// The loader must return a zone or an error naming the problem, never crash, hang or trip
// ASan/UBSan. A zone it accepts holds what the compiler relies on: its origin, an SOA at the
// apex, every owner inside the zone, every name in wire form within 255 octets.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

#include "absl/strings/string_view.h"
#include "control/zones/zone_loader.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

using sextant::fuzz::Require;

const std::string& ScratchDir() {
  static const std::string dir = [] {
    char tmpl[] = "/tmp/zone_fuzz.XXXXXX";
    if (mkdtemp(tmpl) == nullptr) {
      std::perror("mkdtemp");
      std::abort();
    }
    std::filesystem::create_directories(std::string(tmpl) + "/sub");
    return std::string(tmpl);
  }();
  static const bool removed_at_exit = [] {
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    });
    return true;
  }();
  (void)removed_at_exit;
  return dir;
}

void WriteInclude(absl::string_view text) {
  for (const char* name : {"/inc.zone", "/sub/inc.zone"}) {
    std::ofstream(ScratchDir() + name, std::ios::binary | std::ios::trunc)
        .write(text.data(), static_cast<std::streamsize>(text.size()));
  }
}

// Inside `origin` (both lowered wire form): equal, or ends with it at a label boundary.
bool Inside(const std::string& owner, const std::string& origin) {
  if (owner.size() < origin.size() ||
      owner.compare(owner.size() - origin.size(), origin.size(), origin) != 0) {
    return false;
  }
  size_t i = 0;  // walk the labels: the suffix must start where one does
  while (i < owner.size() - origin.size()) i += 1 + static_cast<uint8_t>(owner[i]);
  return i == owner.size() - origin.size();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view in(reinterpret_cast<const char*>(data), size);
  const size_t nul = in.find('\0');
  const absl::string_view zone = in.substr(0, nul);
  WriteInclude(nul == absl::string_view::npos ? absl::string_view() : in.substr(nul + 1));
  auto z =
      sextant::control::LoadZoneText("fuzz.test.", std::string(zone), "fuzz.zone", ScratchDir());
  if (!z.ok()) {
    Require(!z.status().message().empty());
    return 0;
  }
  Require(z->origin == "fuzz.test.");
  const auto apex = z->names.find(z->origin_wire);
  Require(apex != z->names.end());
  bool soa = false;
  for (const auto& rrset : apex->second.rrsets) soa |= rrset.type == 6 && rrset.rdatas.size() == 1;
  Require(soa);
  for (const auto& [owner, data] : z->names) {
    Require(owner.size() <= 255 && Inside(owner, z->origin_wire));
  }
  return 0;
}
