#include "control/geo/mmdb_lookup.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace sextant::control {
namespace {

// The string or number at `path` of the record, "" when absent.
std::string Field(MMDB_entry_s* entry, std::initializer_list<const char*> path) {
  std::vector<const char*> p(path);
  p.push_back(nullptr);
  MMDB_entry_data_s d;
  if (MMDB_aget_value(entry, &d, p.data()) != MMDB_SUCCESS || !d.has_data) return "";
  if (d.type == MMDB_DATA_TYPE_UTF8_STRING) return std::string(d.utf8_string, d.data_size);
  if (d.type == MMDB_DATA_TYPE_DOUBLE) return DegreesText(d.double_value);
  if (d.type == MMDB_DATA_TYPE_FLOAT) return DegreesText(d.float_value);
  if (d.type == MMDB_DATA_TYPE_UINT16) return absl::StrCat(d.uint16);
  if (d.type == MMDB_DATA_TYPE_UINT32) return absl::StrCat(d.uint32);
  return "";
}

}  // namespace

std::string DegreesText(double degrees) {
  std::string s = absl::StrFormat("%.6f", degrees);
  s.erase(s.find_last_not_of('0') + 1);
  if (s.back() == '.') s.pop_back();
  return s == "-0" ? "0" : s;
}

void MmdbFile::Closer::operator()(MMDB_s* m) const {
  MMDB_close(m);
  delete m;
}

absl::StatusOr<MmdbFile> MmdbFile::Open(const std::string& path) {
  auto raw = std::make_unique<MMDB_s>();
  const int rc = MMDB_open(path.c_str(), MMDB_MODE_MMAP, raw.get());
  if (rc != MMDB_SUCCESS) {
    // MMDB_open releases what it allocated itself when it fails; there is nothing to close.
    const int err = errno;
    std::string detail = MMDB_strerror(rc);
    if (rc == MMDB_IO_ERROR || rc == MMDB_FILE_OPEN_ERROR) {
      detail = absl::StrCat(std::strerror(err), " (", detail, ")");
    }
    return absl::InvalidArgumentError(absl::StrCat("cannot open MaxMind DB ", path, ": ", detail));
  }
  return MmdbFile(std::unique_ptr<MMDB_s, Closer>(raw.release()));
}

std::string MmdbFile::database_type() const {
  return db_->metadata.database_type != nullptr ? db_->metadata.database_type : "";
}

uint64_t MmdbFile::build_epoch() const { return db_->metadata.build_epoch; }

absl::StatusOr<MmdbLookup> MmdbFile::Lookup(const IpPrefix& address) const {
  sockaddr_storage ss{};
  if (address.family == kFamilyIpv4) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
    sin->sin_family = AF_INET;
    std::memcpy(&sin->sin_addr, address.addr, 4);
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
    sin6->sin6_family = AF_INET6;
    std::memcpy(&sin6->sin6_addr, address.addr, 16);
  }
  MmdbLookup out;
  out.network = address;
  out.network.length = 0;
  int err = MMDB_SUCCESS;
  MMDB_lookup_result_s r = MMDB_lookup_sockaddr(db_.get(), reinterpret_cast<sockaddr*>(&ss), &err);
  if (err == MMDB_IPV6_LOOKUP_IN_IPV4_DATABASE_ERROR) {
    out.ipv4_only_database = true;
    return out;
  }
  if (err != MMDB_SUCCESS) {
    return absl::DataLossError(
        absl::StrCat("lookup of ", FormatIpPrefix(address), " failed: ", MMDB_strerror(err)));
  }
  // An IPv4 address in an IPv6 tree: libmaxminddb counts its bits from ::/96.
  int length = r.netmask;
  if (address.family == kFamilyIpv4 && db_->metadata.ip_version == 6) {
    length = std::max(0, length - 96);
  }
  out.network.length = std::min(length, address.max_length());
  for (int bit = out.network.length; bit < address.max_length(); ++bit) {
    out.network.addr[bit / 8] &= ~(0x80 >> (bit % 8));
  }
  out.found = r.found_entry;
  if (r.found_entry) out.entry = r.entry;
  return out;
}

std::string MmdbFile::Describe(MMDB_entry_s* entry) {
  std::vector<std::string> parts;
  auto add = [&parts](absl::string_view what, const std::string& value) {
    if (!value.empty()) parts.push_back(absl::StrCat(what, value));
  };
  const std::string city = Field(entry, {"city", "names", "en"});
  if (!city.empty()) parts.push_back(absl::StrCat("city '", city, "'"));
  add("subdivision ", Field(entry, {"subdivisions", "0", "iso_code"}));
  add("country ", Field(entry, {"country", "iso_code"}));
  add("continent ", Field(entry, {"continent", "code"}));
  const std::string lat = Field(entry, {"location", "latitude"});
  const std::string lon = Field(entry, {"location", "longitude"});
  if (!lat.empty() && !lon.empty()) parts.push_back(absl::StrCat("coordinates ", lat, ",", lon));
  add("ASN ", Field(entry, {"autonomous_system_number"}));
  return parts.empty() ? "no location fields" : absl::StrJoin(parts, ", ");
}

}  // namespace sextant::control
