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
  void Emit(std::string line, int file, int line_no) {
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

absl::StatusOr<ZoneData> LoadZoneText(const std::string& origin_text, const std::string& text,
                                      const std::string& name_for_messages,
                                      const std::string& include_dir) {
  ZoneData zone;
  SX_ASSIGN_OR_RETURN(zone.origin_wire, TextToWire(origin_text));
  zone.origin = WireToText(zone.origin_wire);
  zone.file = name_for_messages;
  auto zerr = [&](const std::string& where, const std::string& what) {
    return absl::InvalidArgumentError(absl::StrCat("zone ", zone.origin, " (", where, "): ", what));
  };

  Expander ex;
  std::set<std::string> stack{name_for_messages};
  if (absl::Status s = ex.Expand(text, name_for_messages, include_dir, zone.origin, 0, &stack);
      !s.ok()) {
    return zerr(name_for_messages, std::string(s.message()));
  }
  zone.files = ex.files;
  auto where_line = [&](int line_nr) {
    if (line_nr >= 1 && static_cast<size_t>(line_nr) <= ex.lines.size()) {
      const LineOrigin& o = ex.lines[line_nr - 1];
      return absl::StrCat(ex.files[o.file], " line ", o.line);
    }
    return absl::StrCat(name_for_messages, " end of file");
  };

  std::unique_ptr<FILE, FileCloser> fp(fmemopen(ex.text.data(), ex.text.size(), "r"));
  if (!fp) return absl::InternalError("fmemopen failed");
  RdfPtr origin(ldns_dname_new_frm_str(zone.origin.c_str()));
  if (!origin) return zerr(name_for_messages, "bad origin");
  ldns_rdf* origin_raw = origin.release();
  ldns_rdf* prev = ldns_rdf_clone(origin_raw);
  uint32_t default_ttl = 3600;
  int line_nr = 0;
  std::unique_ptr<ldns_buffer, LdnsBufferDeleter> buf(ldns_buffer_new(512));
  absl::Status result = absl::OkStatus();
  int soa_count = 0;

  while (!feof(fp.get())) {
    ldns_rr* raw = nullptr;
    int before = line_nr;
    const long record_pos = ftell(fp.get());
    ldns_status st =
        ldns_rr_new_frm_fp_l(&raw, fp.get(), &default_ttl, &origin_raw, &prev, &line_nr);
    RrPtr rr(raw);
    if (st == LDNS_STATUS_SYNTAX_EMPTY || st == LDNS_STATUS_SYNTAX_TTL ||
        st == LDNS_STATUS_SYNTAX_ORIGIN) {
      continue;
    }
    if (st != LDNS_STATUS_OK) {
      if (feof(fp.get()) && st == LDNS_STATUS_SYNTAX_ERR && line_nr == before) break;
      result = zerr(where_line(RecordStartLine(ex.text, static_cast<size_t>(record_pos))),
                    ldns_get_errorstr_by_id(st));
      break;
    }
    // Only on error: finding the line scans the text from the start.
    auto where = [&] {
      return where_line(RecordStartLine(ex.text, static_cast<size_t>(record_pos)));
    };
    if (ldns_rr_get_class(rr.get()) != LDNS_RR_CLASS_IN) {
      result = zerr(where(), "only class IN is served");
      break;
    }
    const uint16_t type = ldns_rr_get_type(rr.get());
    if (type == LDNS_RR_TYPE_DNAME) {
      result = zerr(where(), "DNAME records are not supported; use CNAME records instead");
      break;
    }
    if (IsForbiddenType(type)) {
      result = zerr(where(),
                    absl::StrCat(TypeName(type), " is a meta type and cannot appear in a zone"));
      break;
    }
    ldns_rdf* owner = ldns_rr_owner(rr.get());
    std::string owner_wire(reinterpret_cast<const char*>(ldns_rdf_data(owner)),
                           ldns_rdf_size(owner));
    std::string key = LowerWireName(owner_wire);
    if (!WireIsSubdomain(key, zone.origin_wire)) {
      result =
          zerr(where(), absl::StrCat("owner ", WireToText(owner_wire), " is outside the zone"));
      break;
    }
    ldns_buffer_clear(buf.get());
    if (ldns_rr_rdata2buffer_wire(buf.get(), rr.get()) != LDNS_STATUS_OK) {
      result = zerr(where(), "cannot encode rdata");
      break;
    }
    std::string rdata(reinterpret_cast<const char*>(ldns_buffer_begin(buf.get())),
                      ldns_buffer_position(buf.get()));
    if (rdata.size() > 65535) {
      result = zerr(where(), "rdata longer than 65535 octets");
      break;
    }
    if (type == LDNS_RR_TYPE_SOA) {
      if (key != zone.origin_wire) {
        result = zerr(where(),
                      absl::StrCat("SOA at ", WireToText(owner_wire), " is not at the zone apex"));
        break;
      }
      if (++soa_count > 1) {
        result = zerr(where(), "more than one SOA record");
        break;
      }
    }
    NameData& nd = zone.names[key];
    if (nd.display.empty()) nd.display = WireToText(owner_wire);
    RRsetData* set = nullptr;
    for (RRsetData& s : nd.rrsets) {
      if (s.type == type) set = &s;
    }
    if (set == nullptr) {
      nd.rrsets.push_back(RRsetData{type, ldns_rr_ttl(rr.get()), {}});
      set = &nd.rrsets.back();
    }
    bool duplicate = false;
    for (const std::string& r : set->rdatas) duplicate |= (r == rdata);
    if (duplicate) continue;  // RFC 2181 section 5: an RRset has no duplicate records
    if (type == LDNS_RR_TYPE_CNAME && !set->rdatas.empty()) {
      result = zerr(where(), absl::StrCat("more than one CNAME at ", nd.display));
      break;
    }
    set->rdatas.push_back(std::move(rdata));
    ++zone.record_count;
  }
  ldns_rdf_deep_free(prev);
  ldns_rdf_deep_free(origin_raw);
  SX_RETURN_IF_ERROR(result);

  if (soa_count == 0) return zerr(name_for_messages, "no SOA record at the zone apex");
  for (const auto& [key, nd] : zone.names) {
    bool has_cname = false;
    for (const RRsetData& s : nd.rrsets) has_cname |= s.type == LDNS_RR_TYPE_CNAME;
    if (has_cname && nd.rrsets.size() > 1) {
      return zerr(name_for_messages, absl::StrCat("CNAME and other data at ", nd.display,
                                                  " (RFC 1034 section 3.6.2)"));
    }
  }
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
