#include "control/geo/database_fit.h"

#include "absl/strings/str_cat.h"

namespace sextant::control {
namespace {

bool HasString(MMDB_entry_s* entry, const char* const* path) {
  MMDB_entry_data_s data;
  return MMDB_aget_value(entry, &data, path) == MMDB_SUCCESS && data.has_data &&
         data.type == MMDB_DATA_TYPE_UTF8_STRING && data.data_size > 0;
}

bool DoubleIn(MMDB_entry_s* entry, const char* const* path, double limit) {
  MMDB_entry_data_s data;
  if (MMDB_aget_value(entry, &data, path) != MMDB_SUCCESS || !data.has_data) return false;
  double v = 0;
  if (data.type == MMDB_DATA_TYPE_DOUBLE) {
    v = data.double_value;
  } else if (data.type == MMDB_DATA_TYPE_FLOAT) {
    v = data.float_value;
  } else {
    return false;
  }
  return v >= -limit && v <= limit;
}

}  // namespace

void CountRecordFields(MMDB_entry_s* entry, DatabaseFieldCounts* counts) {
  static const char* const kLat[] = {"location", "latitude", nullptr};
  static const char* const kLon[] = {"location", "longitude", nullptr};
  static const char* const kCountry[] = {"country", "iso_code", nullptr};
  static const char* const kContinent[] = {"continent", "code", nullptr};
  static const char* const kSubs[] = {"subdivisions", nullptr};
  ++counts->records;
  counts->location += DoubleIn(entry, kLat, 90) && DoubleIn(entry, kLon, 180);
  counts->country += HasString(entry, kCountry);
  counts->continent += HasString(entry, kContinent);
  MMDB_entry_data_s subs;
  counts->subdivisions += MMDB_aget_value(entry, &subs, kSubs) == MMDB_SUCCESS && subs.has_data &&
                          subs.type == MMDB_DATA_TYPE_ARRAY && subs.data_size > 0;
}

absl::Status CheckDatabaseServesMode(const GeoMapConfig& config, const std::string& database_type,
                                     const DatabaseFieldCounts& counts) {
  const std::string db =
      absl::StrCat("database type ", database_type.empty() ? "(unnamed)" : database_type, " (",
                   config.database_path, ")");
  const std::string none = absl::StrCat(" has none in any of its ", counts.records, " records");
  if (config.mode == GeoMode::kNearest) {
    if (counts.location > 0) return absl::OkStatus();
    return absl::FailedPreconditionError(
        absl::StrCat("mode nearest needs coordinates (location.latitude/longitude), but ", db, none,
                     ": every client would get the default list. Use a City database (GeoIP2-City, "
                     "GeoLite2-City), or mode: rules with rules on the codes this database has"));
  }
  const struct {
    bool used;
    uint64_t records;
    const char* rules;
    const char* field;
  } needs[] = {
      {!config.subdivision_rules.empty(), counts.subdivisions, "subdivision",
       "subdivisions[].iso_code"},
      {!config.country_rules.empty(), counts.country, "country", "country.iso_code"},
      {!config.continent_rules.empty(), counts.continent, "continent", "continent.code"},
  };
  for (const auto& n : needs) {
    if (!n.used || n.records > 0) continue;
    return absl::FailedPreconditionError(absl::StrCat("rules.", n.rules, " needs ", n.field,
                                                      ", but ", db, none,
                                                      ": these rules could never match"));
  }
  return absl::OkStatus();
}

}  // namespace sextant::control
