// Whether a MaxMind database can serve a geo map's mode at all. A database without what the
// mode reads (an ASN or Country database under `mode: nearest`, a database without subdivision
// codes under subdivision rules) compiles to a map where every client gets the default list, a
// silent misconfiguration; the compiler counts the fields each record carries and refuses such a
// database at --check, naming its type.
#pragma once

#include <maxminddb.h>

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "control/geo/geo_config.h"

namespace sextant::control {

// How many distinct data records carry each field a mode can read.
struct DatabaseFieldCounts {
  uint64_t records = 0;
  uint64_t location = 0;      // location.latitude and location.longitude, both in range
  uint64_t country = 0;       // country.iso_code
  uint64_t continent = 0;     // continent.code
  uint64_t subdivisions = 0;  // a non-empty subdivisions array
};

// Adds one data record's fields to `counts`.
void CountRecordFields(MMDB_entry_s* entry, DatabaseFieldCounts* counts);

// OK when the database can serve `config`'s mode: nearest needs coordinates in some record;
// rules mode needs, for each kind of rule given (subdivision, country, continent), some record
// with that code. Otherwise a FailedPrecondition naming `database_type` and the missing field.
absl::Status CheckDatabaseServesMode(const GeoMapConfig& config, const std::string& database_type,
                                     const DatabaseFieldCounts& counts);

}  // namespace sextant::control
