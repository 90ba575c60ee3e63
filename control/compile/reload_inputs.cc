#include "control/compile/reload_inputs.h"

#include <fcntl.h>
#include <unistd.h>
#include <xxhash.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "control/zones/zone_loader.h"
#include "maps/unique_fd.h"

namespace sextant::control {
namespace {

// XXH3-128 of a file's bytes, as hex.
absl::StatusOr<std::string> FileHash(const std::string& path) {
  maps::UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    return absl::NotFoundError(absl::StrCat("cannot read ", path, ": ", std::strerror(errno)));
  }
  XXH3_state_t* state = XXH3_createState();
  XXH3_128bits_reset(state);
  std::vector<char> buf(1 << 20);
  ssize_t n;
  while ((n = read(fd.get(), buf.data(), buf.size())) != 0) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      XXH3_freeState(state);
      return absl::DataLossError(absl::StrCat("cannot read ", path, ": ", std::strerror(err)));
    }
    XXH3_128bits_update(state, buf.data(), static_cast<size_t>(n));
  }
  const XXH128_hash_t h = XXH3_128bits_digest(state);
  XXH3_freeState(state);
  return absl::StrFormat("%016x%016x", h.high64, h.low64);
}

void AppendRules(std::string* out, const char* what,
                 const std::map<std::string, std::vector<std::string>>& rules) {
  for (const auto& [key, dcs] : rules) {
    absl::StrAppend(out, what, " ", key, "=", absl::StrJoin(dcs, ","), ";");
  }
}

// The config section of a map, field by field (its `line` left out: moving the section changes
// no table).
std::string SectionText(const GeoMapConfig& c) {
  std::string s = absl::StrCat("name=", c.name, ";db=", c.database_path,
                               ";mode=", static_cast<int>(c.mode), ";max=", c.max_datacenters, ";");
  for (const Datacenter& d : c.datacenters) {
    absl::StrAppendFormat(&s, "dc %s %.17g %.17g;", d.name, d.latitude, d.longitude);
  }
  AppendRules(&s, "continent", c.continent_rules);
  AppendRules(&s, "country", c.country_rules);
  AppendRules(&s, "subdivision", c.subdivision_rules);
  absl::StrAppend(&s, "default=", absl::StrJoin(c.default_datacenters, ","), ";");
  for (const NetOverride& n : c.nets) {
    absl::StrAppend(&s, "net ", FormatIpPrefix(n.prefix), " ", absl::StrJoin(n.datacenters, ","),
                    ";");
  }
  for (const LatencyRow& r : c.latency) {
    absl::StrAppendFormat(&s, "rtt %s %s %.17g;", FormatIpPrefix(r.prefix), r.datacenter, r.rtt_ms);
  }
  absl::StrAppend(&s, "nets=", c.nets_path, ";latency=", c.latency_path, ";");
  return s;
}

std::string ZoneKey(const std::string& origin) {
  std::string key = absl::AsciiStrToLower(origin);
  if (key.empty() || key.back() != '.') key += '.';
  return key;
}

int64_t MsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               start)
      .count();
}

// One reload's loading, input by input.
class InputLoader {
 public:
  InputLoader(const Config& config, const LastGoodInputs& last_good, InputMode mode, int64_t now)
      : config_(config), last_good_(last_good), mode_(mode), now_(now) {}

  absl::StatusOr<ReloadInputs> Run() {
    for (const ZoneConfig& z : config_.zones) {
      if (absl::Status s = LoadZone(z); !s.ok()) return s;
    }
    for (const GeoMapConfig& m : config_.geo_maps) {
      if (absl::Status s = LoadGeoMap(m); !s.ok()) return s;
    }
    return std::move(out_);
  }

 private:
  absl::Status LoadZone(const ZoneConfig& z) {
    const std::string key = ZoneKey(z.origin);
    absl::StatusOr<ZoneData> loaded = LoadZoneFile(z.origin, z.file);
    if (loaded.ok()) {
      auto data = std::make_shared<const ZoneData>(std::move(*loaded));
      out_.files.insert(out_.files.end(), data->files.begin(), data->files.end());
      out_.zones.push_back(data);
      out_.next.zones[key] = {std::move(data), now_};
      return absl::OkStatus();
    }
    if (mode_ == InputMode::kStrict) return loaded.status();
    InputRefusal r{InputRefusal::Kind::kZone, z.origin, std::string(loaded.status().message()), 0};
    auto it = last_good_.zones.find(key);
    if (it != last_good_.zones.end()) {
      r.last_good_unix_ms = it->second.loaded_unix_ms;
      out_.files.insert(out_.files.end(), it->second.data->files.begin(),
                        it->second.data->files.end());
      out_.zones.push_back(it->second.data);
      out_.next.zones[key] = it->second;
    }
    out_.refusals.push_back(std::move(r));
    return absl::OkStatus();
  }

  absl::Status MapError(const GeoMapConfig& m, absl::string_view message) const {
    return absl::InvalidArgumentError(absl::StrCat(
        config_.path, m.line > 0 ? absl::StrCat(" line ", m.line) : "", ": ", message));
  }

  absl::Status LoadGeoMap(const GeoMapConfig& m) {
    const auto start = std::chrono::steady_clock::now();
    absl::StatusOr<std::string> fingerprint = GeoMapFingerprint(m);
    auto last = last_good_.geo_maps.find(m.name);
    const LastGoodInputs::GeoMap* prev =
        last == last_good_.geo_maps.end() ? nullptr : &last->second;
    if (fingerprint.ok() && prev != nullptr && prev->fingerprint == *fingerprint) {
      Keep(m.name, *prev, GeoMapSource::kReused, 0);
      return absl::OkStatus();
    }
    absl::StatusOr<CompiledGeoMap> cm = CompileGeoMap(m);
    const int64_t ms = MsSince(start);
    if (cm.ok() && fingerprint.ok()) {
      LastGoodInputs::GeoMap made;
      made.built = GeoMapBuilt{m.name, GeoMapSummary(m.name, *cm, ms), cm->stats.build_epoch,
                               cm->stats.networks_after_merge};
      made.map = std::make_shared<const CompiledGeoMap>(std::move(*cm));
      made.fingerprint = std::move(*fingerprint);
      made.compiled_unix_ms = now_;
      Keep(m.name, made, GeoMapSource::kCompiled, ms);
      return absl::OkStatus();
    }
    const absl::Status failed = cm.ok() ? fingerprint.status() : cm.status();
    if (mode_ == InputMode::kStrict) return MapError(m, failed.message());
    if (prev == nullptr) {
      return MapError(m, absl::StrCat(failed.message(),
                                      " (a new geo map: no earlier version to keep serving)"));
    }
    std::vector<std::string> dcs;
    dcs.reserve(m.datacenters.size());
    for (const Datacenter& d : m.datacenters) dcs.push_back(d.name);
    if (dcs != prev->map->datacenters) {
      return MapError(
          m, absl::StrCat(failed.message(), " (its last good version was compiled for datacenters ",
                          absl::StrJoin(prev->map->datacenters, ","), ", not the configured ",
                          absl::StrJoin(dcs, ","), ")"));
    }
    out_.refusals.push_back({InputRefusal::Kind::kGeoMap, m.name, std::string(failed.message()),
                             prev->compiled_unix_ms});
    Keep(m.name, *prev, GeoMapSource::kLastGood, ms);
    return absl::OkStatus();
  }

  void Keep(const std::string& name, const LastGoodInputs::GeoMap& version, GeoMapSource source,
            int64_t ms) {
    out_.geo_maps.push_back(version.map);
    out_.geo_outcomes.push_back({name, source, ms});
    out_.next.geo_maps[name] = version;
  }

  const Config& config_;
  const LastGoodInputs& last_good_;
  const InputMode mode_;
  const int64_t now_;
  ReloadInputs out_;
};

}  // namespace

const char* GeoMapSourceName(GeoMapSource s) {
  switch (s) {
    case GeoMapSource::kCompiled:
      return "compiled";
    case GeoMapSource::kReused:
      return "reused";
    case GeoMapSource::kLastGood:
      return "last good";
  }
  return "?";
}

SnapshotInputs ReloadInputs::view() const {
  SnapshotInputs v;
  for (const auto& z : zones) v.zones.push_back(z.get());
  for (const auto& m : geo_maps) v.geo_maps.push_back(m.get());
  return v;
}

absl::StatusOr<std::string> GeoMapFingerprint(const GeoMapConfig& config) {
  std::string out = SectionText(config);
  for (const std::string* path : {&config.database_path, &config.nets_path, &config.latency_path}) {
    if (path->empty()) continue;
    absl::StatusOr<std::string> h = FileHash(*path);
    if (!h.ok()) return h.status();
    absl::StrAppend(&out, "file ", *path, " ", *h, ";");
  }
  return out;
}

absl::StatusOr<ReloadInputs> LoadReloadInputs(const Config& config, const LastGoodInputs& last_good,
                                              InputMode mode, int64_t now_unix_ms) {
  return InputLoader(config, last_good, mode, now_unix_ms).Run();
}

}  // namespace sextant::control
