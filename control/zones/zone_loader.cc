#include "control/zones/zone_loader.h"

#include <stdio_ext.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "control/util/file_text.h"
#include "control/zones/dns_name.h"
#include "control/zones/zone_diagnosis.h"
#include "maps/status_macros.h"

// Last: ldns/common.h defines bool, true and false as macros, which break C++ headers that come
// after it (std::optional's operator<=> compares with `false`).
#include <ldns/ldns.h>

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

// "cannot read PATH: No such file or directory", the path made absolute.
std::string CannotRead(absl::string_view what, const std::string& path, const FileText& file) {
  return absl::StrCat("cannot read ", what, AbsolutePathForMessages(path), ": ", file.ErrorText());
}

class Expander {
 public:
  std::string text;
  std::vector<LineOrigin> lines;  // index = expanded line number - 1
  std::vector<std::string> files;
  std::string error_where;  // "file line N" of the line a failed Expand refused

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
      auto refuse = [&](absl::string_view what) {
        error_where = absl::StrCat(file_name, " line ", line_no);
        return absl::InvalidArgumentError(what);
      };
      if (!absl::StartsWithIgnoreCase(line, "$INCLUDE")) {
        // ldns ends an unclosed string at the newline and keeps what it read.
        if (const std::optional<int> q = UnterminatedQuoteColumn(line); q && line[0] != '$') {
          return refuse(absl::StrCat("unterminated quoted string at column ", *q, ": '",
                                     absl::StripAsciiWhitespace(line.substr(*q - 1)),
                                     "' (a quoted string ends on its own line)"));
        }
        Emit(std::string(line), file_index, line_no);
        continue;
      }
      std::vector<std::string> f = Fields(line);
      if (f.size() < 2) return refuse("$INCLUDE without a file name");
      if (depth >= kMaxIncludeDepth) {
        return refuse(absl::StrCat("$INCLUDE nested deeper than ", kMaxIncludeDepth));
      }
      std::filesystem::path p(f[1]);
      if (p.is_relative()) p = std::filesystem::path(dir) / p;
      std::string path = p.lexically_normal().string();
      if (stack->count(path)) return refuse(absl::StrCat("$INCLUDE loop through ", path));
      const FileText included = ReadFileText(path);
      if (included.error != 0) return refuse(CannotRead("$INCLUDE file ", path, included));
      std::string inc_origin = f.size() >= 3 && f[2][0] != ';' ? Absolute(f[2], origin) : origin;
      // RFC 1035 section 5.1: the included file starts at the given origin, and nothing it
      // changes leaks back into the including file.
      Emit(absl::StrCat("$ORIGIN ", inc_origin), file_index, line_no);
      stack->insert(path);
      SX_RETURN_IF_ERROR(
          Expand(included.text, path, p.parent_path().string(), inc_origin, depth + 1, stack));
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

// Where the record ldns is about to read starts: the first character at or after `pos` that is
// not blank space or a comment. (ldns's own line counter ends one off depending on how a record
// ends, and names the last line of a multi-line record.)
size_t RecordStart(const std::string& text, size_t pos) {
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
  return std::min(pos, text.size());
}

// The 1-based line of `pos` in `text`.
int LineAt(const std::string& text, size_t pos) {
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
    // Only this thread reads the stream: ldns's per-character getc and our ftell/feof need not
    // take the stream's lock (about 5% of a 1M-name compile).
    __fsetlocking(fp.get(), FSETLOCKING_BYCALLER);
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
      result = st != LDNS_STATUS_OK ? Refused(record_pos, ftell(fp.get()), st)
                                    : Add(rr.get(), record_pos);
    }
    ldns_rdf_deep_free(prev);
    ldns_rdf_deep_free(origin_raw);
    return result;
  }

  // What the whole zone must hold: one SOA and NS records at the apex, no CNAME beside other
  // data. A zone without NS records at its apex is refused, as BIND and Knot refuse it: RFC 1034
  // section 4.2.1 requires them, NS queries for the apex would get no answer, and resolvers that
  // ask the zone itself for its servers (child-centric ones) would find none.
  absl::Status Finish() const {
    if (soa_count_ == 0) return Error(name_, "no SOA record at the zone apex");
    const auto apex = zone_.names.find(zone_.origin_wire);
    const bool has_ns = apex != zone_.names.end() &&
                        std::any_of(apex->second.rrsets.begin(), apex->second.rrsets.end(),
                                    [](const RRsetData& s) { return s.type == LDNS_RR_TYPE_NS; });
    if (!has_ns) {
      return Error(name_, absl::StrCat("no NS records at the zone apex ", zone_.origin,
                                       " (RFC 1034 section 4.2.1): add the zone's name servers, "
                                       "like '@ IN NS ns1.",
                                       zone_.origin, "'"));
    }
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
  // A record ldns refused: the text from the start of its first line to where ldns stopped,
  // read again to name the token and column at fault (zone_diagnosis.h).
  absl::Status Refused(long record_pos, long end_pos, ldns_status st) const {
    const size_t start = RecordStart(ex_.text, static_cast<size_t>(record_pos));
    const size_t line_begin = start == 0 ? 0 : ex_.text.rfind('\n', start - 1) + 1;
    const size_t end =
        std::max(start, std::min(static_cast<size_t>(std::max(end_pos, 0L)), ex_.text.size()));
    const RecordFault fault =
        DiagnoseRecord(absl::string_view(ex_.text).substr(line_begin, end - line_begin),
                       ldns_get_errorstr_by_id(st));
    return Error(WhereLine(LineAt(ex_.text, start) + fault.line), fault.what);
  }

  // "file line N" of the record that starts at `pos` of the expanded text. Only on error:
  // finding the line scans the text from the start.
  std::string WhereRecord(long pos) const {
    return WhereLine(LineAt(ex_.text, RecordStart(ex_.text, static_cast<size_t>(pos))));
  }

  // "file line N" of line `line_nr` of the expanded text.
  std::string WhereLine(int line_nr) const {
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
    if (last_ == nullptr || key != last_key_) {
      last_ = &zone_.names[key];
      last_key_ = key;
    }
    NameData& nd = *last_;
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
  // The last owner's entry (std::map keeps it in place): a name's records usually follow one
  // another, and a map lookup per record (string compares: 9% of the CPU time of loading a
  // million-name zone) is then paid once per name.
  std::string last_key_;
  NameData* last_ = nullptr;
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
    return reader.Error(ex.error_where.empty() ? name_for_messages : ex.error_where, s.message());
  }
  zone.files = ex.files;
  SX_RETURN_IF_ERROR(reader.ReadAll());
  SX_RETURN_IF_ERROR(reader.Finish());
  return zone;
}

absl::StatusOr<ZoneData> LoadZoneFile(const std::string& origin, const std::string& path) {
  const FileText file = ReadFileText(path);
  if (file.error != 0) {
    return absl::NotFoundError(absl::StrCat("zone ", origin, ": ", CannotRead("", path, file)));
  }
  return LoadZoneText(origin, file.text, path, std::filesystem::path(path).parent_path().string());
}

}  // namespace sextant::control
