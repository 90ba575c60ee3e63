// One address in a MaxMind DB, as explain asks it: the record (if any), the database network it
// covers, and the fields the geo compiler reads from it. The compiler walks the whole tree
// instead (geo_compiler.h); this looks up one address with libmaxminddb's own search, which
// follows the same tree (an IPv4 address in an IPv6 database is searched below ::/96, the subtree
// the compiler walks as IPv4).
#pragma once

#include <maxminddb.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "control/geo/geo_config.h"

namespace sextant::control {

struct MmdbLookup {
  bool found = false;  // a data record (an empty record counts as none)
  // The network the answer holds for, record or not: IPv4 length for an IPv4 address.
  IpPrefix network;
  MMDB_entry_s entry{};             // valid while the MmdbFile lives, when found
  bool ipv4_only_database = false;  // an IPv6 address asked of a database without IPv6 data
};

// A latitude or longitude as the databases write them: up to six decimals, no trailing zeros
// ("35.68536", "-0.0931", "10").
std::string DegreesText(double degrees);

class MmdbFile {
 public:
  static absl::StatusOr<MmdbFile> Open(const std::string& path);

  // `address`: a whole address (its length is ignored). An IPv6 address in an IPv4-only
  // database has no record.
  absl::StatusOr<MmdbLookup> Lookup(const IpPrefix& address) const;
  // The metadata's database_type ("GeoIP2-City").
  std::string database_type() const;
  // The metadata's build_epoch: when the database was built (seconds since 1970).
  uint64_t build_epoch() const;
  // The open database, for walks libmaxminddb's lookup API does not cover (the geo compiler
  // reads the search tree node by node).
  MMDB_s* get() const { return db_.get(); }

  // "city 'London', subdivision ENG, country GB, continent EU, coordinates 51.5142,-0.0931";
  // fields the record lacks are left out ("no such fields" when it has none of them).
  static std::string Describe(MMDB_entry_s* entry);

 private:
  struct Closer {
    void operator()(MMDB_s* m) const;
  };
  explicit MmdbFile(std::unique_ptr<MMDB_s, Closer> db) : db_(std::move(db)) {}
  std::unique_ptr<MMDB_s, Closer> db_;
};

}  // namespace sextant::control
