#include "control/zones/zone_loader.h"

#include <ldns/ldns.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "control/zones/dns_name.h"
#include "maps/status_macros.h"

namespace sextant::control {
namespace {

constexpr int kMaxIncludeDepth = 8;

struct LdnsRdfDeleter {
  void operator()(ldns_rdf* r) const { ldns_rdf_deep_free(r); }
};
struct LdnsRrDeleter {
  void operator()(ldns_rr* r) const { ldns_rr_free(r); }
};
struct LdnsBufferDeleter {
  void operator()(ldns_buffer* b) const { ldns_buffer_free(b); }
};
struct FileCloser {
  void operator()(FILE* f) const { fclose(f); }
};
using RdfPtr = std::unique_ptr<ldns_rdf, LdnsRdfDeleter>;
using RrPtr = std::unique_ptr<ldns_rr, LdnsRrDeleter>;

// One line of the expanded text maps back to a file and line for messages.
struct LineOrigin {
  int file;
  int line;
};

class Expander {
 public:
  std::string text;
  std::vector<LineOrigin> lines;  // index = expanded line number - 1
  std::vector<std::string> files;

  absl::Status Expand(const std::string& content, const std::string& file_name,
                      const std::string& dir, std::string origin, int depth,
                      std::set<std::string>* stack) {
    const int file_index = static_cast<int>(files.size());
    files.push_back(file_name);
    int line_no = 0;
    for (absl::string_view line : absl::StrSplit(content, '\n')) {
      ++line_no;
      if (absl::StartsWithIgnoreCase(line, "$ORIGIN")) {
        std::vector<std::string> f = Fields(line);
        if (f.size() >= 2) origin = Absolute(f[1], origin);
        Emit(std::string(line), file_index, line_no);
        continue;
      }
      if (!absl::StartsWithIgnoreCase(line, "$INCLUDE")) {
        Emit(std::string(line), file_index, line_no);
        continue;
      }
      std::vector<std::string> f = Fields(line);
      auto where = [&] { return absl::StrCat(file_name, " line ", line_no, ": "); };
      if (f.size() < 2)
        return absl::InvalidArgumentError(absl::StrCat(where(), "$INCLUDE without a file name"));
      if (depth >= kMaxIncludeDepth) {
        return absl::InvalidArgumentError(
            absl::StrCat(where(), "$INCLUDE nested deeper than ", kMaxIncludeDepth));
      }
      std::filesystem::path p(f[1]);
      if (p.is_relative()) p = std::filesystem::path(dir) / p;
      std::string path = p.lexically_normal().string();
      if (stack->count(path))
        return absl::InvalidArgumentError(absl::StrCat(where(), "$INCLUDE loop through ", path));
      std::ifstream in(path);
      if (!in)
        return absl::NotFoundError(absl::StrCat(where(), "cannot read $INCLUDE file ", path));
      std::stringstream ss;
      ss << in.rdbuf();
      std::string inc_origin = f.size() >= 3 && f[2][0] != ';' ? Absolute(f[2], origin) : origin;
      // RFC 1035 section 5.1: the included file starts at the given origin, and nothing it
      // changes leaks back into the including file.
      Emit(absl::StrCat("$ORIGIN ", inc_origin), file_index, line_no);
      stack->insert(path);
      SX_RETURN_IF_ERROR(
          Expand(ss.str(), path, p.parent_path().string(), inc_origin, depth + 1, stack));
      stack->erase(path);
      Emit(absl::StrCat("$ORIGIN ", origin), file_index, line_no);
    }
    return absl::OkStatus();
  }

 private:
  void Emit(const std::string& line, int file, int line_no) {
    text += line;
    text += '\n';
    lines.push_back({file, line_no});
  }
  static std::vector<std::string> Fields(absl::string_view line) {
    return absl::StrSplit(line, absl::ByAnyChar(" \t\r"), absl::SkipEmpty());
  }
  static std::string Absolute(const std::string& name, const std::string& origin) {
    if (absl::EndsWith(name, ".")) return name;
    if (origin == ".") return name + ".";
    return absl::StrCat(name, ".", origin);
  }
};

bool IsForbiddenType(uint16_t t) {
  switch (t) {
    case LDNS_RR_TYPE_OPT:
    case LDNS_RR_TYPE_TSIG:
    case LDNS_RR_TYPE_TKEY:
    case LDNS_RR_TYPE_IXFR:
    case LDNS_RR_TYPE_AXFR:
    case LDNS_RR_TYPE_MAILA:
    case LDNS_RR_TYPE_MAILB:
    case LDNS_RR_TYPE_ANY:
      return true;
    default:
      return false;
  }
}

std::string TypeName(uint16_t t) {
  const ldns_rr_descriptor* d = ldns_rr_descript(t);
  if (d != nullptr && d->_name != nullptr) return d->_name;
  return absl::StrCat("TYPE", t);
}

// The line where the record ldns is about to read starts: the first character at or after
// `pos` that is not blank space or a comment. (ldns's own line counter ends one off depending on
// how a record ends, and names the last line of a multi-line record.)
int RecordStartLine(const std::string& text, size_t pos) {
  while (pos < text.size()) {
    const char c = text[pos];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      ++pos;
    } else if (c == ';') {
      while (pos < text.size() && text[pos] != '\n') ++pos;
    } else {
      break;
    }
  }
  pos = std::min(pos, text.size());
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + pos, '\n'));
}

}  // namespace

namespace {

// One zone's text (after $INCLUDE expansion) read record by record through ldns into ZoneData,
// refusing what the server cannot serve with the file and line at fault.
class ZoneReader {
 public:
  ZoneReader(ZoneData* zone, const Expander& ex, const std::string& name_for_messages)
      : zone_(*zone), ex_(ex), name_(name_for_messages) {}

  absl::Status Error(const std::string& where, absl::string_view what) const {
    return absl::InvalidArgumentError(
        absl::StrCat("zone ", zone_.origin, " (", where, "): ", what));
  }

  // Every record of the expanded text.
  absl::Status ReadAll() {
    std::unique_ptr<FILE, FileCloser> fp(
        fmemopen(const_cast<char*>(ex_.text.data()), ex_.text.size(), "r"));
    if (!fp) return absl::InternalError("fmemopen failed");
    RdfPtr origin(ldns_dname_new_frm_str(zone_.origin.c_str()));
    if (!origin) return Error(name_, "bad origin");
    ldns_rdf* origin_raw = origin.release();
    ldns_rdf* prev = ldns_rdf_clone(origin_raw);
    uint32_t default_ttl = 3600;
    int line_nr = 0;
    absl::Status result = absl::OkStatus();
    while (!feof(fp.get()) && result.ok()) {
      ldns_rr* raw = nullptr;
      const int before = line_nr;
      const long record_pos = ftell(fp.get());
      const ldns_status st =
          ldns_rr_new_frm_fp_l(&raw, fp.get(), &default_ttl, &origin_raw, &prev, &line_nr);
      RrPtr rr(raw);
      if (st == LDNS_STATUS_SYNTAX_EMPTY || st == LDNS_STATUS_SYNTAX_TTL ||
          st == LDNS_STATUS_SYNTAX_ORIGIN) {
        continue;
      }
      if (st != LDNS_STATUS_OK && feof(fp.get()) && st == LDNS_STATUS_SYNTAX_ERR &&
          line_nr == before) {
        break;
      }
      result = st != LDNS_STATUS_OK ? Error(WhereRecord(record_pos), ldns_get_errorstr_by_id(st))
                                    : Add(rr.get(), record_pos);
    }
    ldns_rdf_deep_free(prev);
    ldns_rdf_deep_free(origin_raw);
    return result;
  }

  // What the whole zone must hold: one SOA at the apex, no CNAME beside other data.
  absl::Status Finish() const {
    if (soa_count_ == 0) return Error(name_, "no SOA record at the zone apex");
    for (const auto& [key, nd] : zone_.names) {
      bool has_cname = false;
      for (const RRsetData& s : nd.rrsets) has_cname |= s.type == LDNS_RR_TYPE_CNAME;
      if (has_cname && nd.rrsets.size() > 1) {
        return Error(name_, absl::StrCat("CNAME and other data at ", nd.display,
                                         " (RFC 1034 section 3.6.2)"));
      }
    }
    return absl::OkStatus();
  }

 private:
  // "file line N" of the record that starts at `pos` of the expanded text. Only on error:
  // finding the line scans the text from the start.
  std::string WhereRecord(long pos) const {
    const int line_nr = RecordStartLine(ex_.text, static_cast<size_t>(pos));
    if (line_nr >= 1 && static_cast<size_t>(line_nr) <= ex_.lines.size()) {
      const LineOrigin& o = ex_.lines[line_nr - 1];
      return absl::StrCat(ex_.files[o.file], " line ", o.line);
    }
    return absl::StrCat(name_, " end of file");
  }

  // Why a record of `type` at `owner` cannot be served, or "".
  std::string Refusal(const ldns_rr* rr, uint16_t type, const std::string& key,
                      const std::string& owner_wire) {
    if (ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN) return "only class IN is served";
    if (type == LDNS_RR_TYPE_DNAME) {
      return "DNAME records are not supported; use CNAME records instead";
    }
    if (IsForbiddenType(type)) {
      return absl::StrCat(TypeName(type), " is a meta type and cannot appear in a zone");
    }
    if (!WireIsSubdomain(key, zone_.origin_wire)) {
      return absl::StrCat("owner ", WireToText(owner_wire), " is outside the zone");
    }
    if (type == LDNS_RR_TYPE_SOA) {
      if (key != zone_.origin_wire) {
        return absl::StrCat("SOA at ", WireToText(owner_wire), " is not at the zone apex");
      }
      if (++soa_count_ > 1) return "more than one SOA record";
    }
    return "";
  }

  // One record into its RRset.
  absl::Status Add(const ldns_rr* rr, long record_pos) {
    const uint16_t type = ldns_rr_get_type(rr);
    const ldns_rdf* owner = ldns_rr_owner(rr);
    const std::string owner_wire(reinterpret_cast<const char*>(ldns_rdf_data(owner)),
                                 ldns_rdf_size(owner));
    const std::string key = LowerWireName(owner_wire);
    if (const std::string why = Refusal(rr, type, key, owner_wire); !why.empty()) {
      return Error(WhereRecord(record_pos), why);
    }
    ldns_buffer_clear(buf_.get());
    if (ldns_rr_rdata2buffer_wire(buf_.get(), rr) != LDNS_STATUS_OK) {
      return Error(WhereRecord(record_pos), "cannot encode rdata");
    }
    std::string rdata(reinterpret_cast<const char*>(ldns_buffer_begin(buf_.get())),
                      ldns_buffer_position(buf_.get()));
    if (rdata.size() > 65535) {
      return Error(WhereRecord(record_pos), "rdata longer than 65535 octets");
    }
    NameData& nd = zone_.names[key];
    if (nd.display.empty()) nd.display = WireToText(owner_wire);
    RRsetData* set = nullptr;
    for (RRsetData& s : nd.rrsets) {
      if (s.type == type) set = &s;
    }
    if (set == nullptr) {
      nd.rrsets.push_back(RRsetData{type, ldns_rr_ttl(rr), {}});
      set = &nd.rrsets.back();
    }
    for (const std::string& r : set->rdatas) {
      if (r == rdata) return absl::OkStatus();  // RFC 2181 section 5: no duplicate records
    }
    if (type == LDNS_RR_TYPE_CNAME && !set->rdatas.empty()) {
      return Error(WhereRecord(record_pos), absl::StrCat("more than one CNAME at ", nd.display));
    }
    set->rdatas.push_back(std::move(rdata));
    ++zone_.record_count;
    return absl::OkStatus();
  }

  ZoneData& zone_;
  const Expander& ex_;
  const std::string& name_;
  std::unique_ptr<ldns_buffer, LdnsBufferDeleter> buf_{ldns_buffer_new(512)};
  int soa_count_ = 0;
};

}  // namespace

absl::StatusOr<ZoneData> LoadZoneText(const std::string& origin_text, const std::string& text,
                                      const std::string& name_for_messages,
                                      const std::string& include_dir) {
  ZoneData zone;
  SX_ASSIGN_OR_RETURN(zone.origin_wire, TextToWire(origin_text));
  zone.origin = WireToText(zone.origin_wire);
  zone.file = name_for_messages;
  Expander ex;
  std::set<std::string> stack{name_for_messages};
  ZoneReader reader(&zone, ex, name_for_messages);
  if (absl::Status s = ex.Expand(text, name_for_messages, include_dir, zone.origin, 0, &stack);
      !s.ok()) {
    return reader.Error(name_for_messages, s.message());
  }
  zone.files = ex.files;
  SX_RETURN_IF_ERROR(reader.ReadAll());
  SX_RETURN_IF_ERROR(reader.Finish());
  return zone;
}

absl::StatusOr<ZoneData> LoadZoneFile(const std::string& origin, const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("zone ", origin, ": cannot read ", path));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return LoadZoneText(origin, ss.str(), path, std::filesystem::path(path).parent_path().string());
}

}  // namespace sextant::control
