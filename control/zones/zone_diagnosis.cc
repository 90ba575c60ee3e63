#include "control/zones/zone_diagnosis.h"

#include <cctype>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

// Last: ldns/common.h defines bool, true and false as macros (see control/config/health_check.cc).
#include <ldns/ldns.h>

namespace sextant::control {
namespace {

struct Token {
  std::string text;  // as written, quotes included
  int line = 0;
  int column = 0;
  bool quoted = false;
};

// The record's tokens, RFC 1035 section 5.1: blanks separate, ';' starts a comment, parentheses
// continue the record over lines, a quoted string is one token, '\' escapes the next character.
std::vector<Token> Tokenize(absl::string_view text) {
  std::vector<Token> tokens;
  int line = 0, column = 1, depth = 0;
  size_t i = 0;
  auto advance = [&] {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
    ++i;
  };
  while (i < text.size()) {
    const char c = text[i];
    if (c == '\n' && depth <= 0 && !tokens.empty()) break;
    if (c == ';') {
      while (i < text.size() && text[i] != '\n') advance();
    } else if (c == '(' || c == ')') {
      depth += c == '(' ? 1 : -1;
      advance();
    } else if (absl::ascii_isspace(static_cast<unsigned char>(c))) {
      advance();
    } else {
      Token t{"", line, column, c == '"'};
      const size_t begin = i;
      if (t.quoted) {
        advance();
        while (i < text.size() && text[i] != '"' && text[i] != '\n') {
          if (text[i] == '\\' && i + 1 < text.size()) advance();
          advance();
        }
        if (i < text.size() && text[i] == '"') advance();
      } else {
        while (i < text.size() && !absl::ascii_isspace(static_cast<unsigned char>(text[i])) &&
               text[i] != ';' && text[i] != '(' && text[i] != ')') {
          if (text[i] == '\\' && i + 1 < text.size()) advance();
          advance();
        }
      }
      t.text = std::string(text.substr(begin, i - begin));
      tokens.push_back(std::move(t));
    }
  }
  return tokens;
}

bool IsTtl(const std::string& t) {
  if (t.empty() || !absl::ascii_isdigit(static_cast<unsigned char>(t[0]))) return false;
  for (char c : t) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c)) &&
        std::string("smhdwSMHDW").find(c) == std::string::npos) {
      return false;
    }
  }
  return true;
}

bool IsClass(const std::string& t) { return ldns_get_rr_class_by_name(t.c_str()) != 0; }

uint16_t TypeOf(const std::string& t) {
  return static_cast<uint16_t>(ldns_get_rr_type_by_name(absl::AsciiStrToUpper(t).c_str()));
}

// What a field of this type must look like, for the field types one token holds; "" for the
// others (base64 and hex may be split over tokens, LOC and WKS take several): the diagnosis
// stops there rather than blame the wrong token.
const char* OneTokenField(ldns_rdf_type t) {
  switch (t) {
    case LDNS_RDF_TYPE_A:
      return "an IPv4 address";
    case LDNS_RDF_TYPE_AAAA:
      return "an IPv6 address";
    case LDNS_RDF_TYPE_INT8:
    case LDNS_RDF_TYPE_CERTIFICATE_USAGE:
    case LDNS_RDF_TYPE_SELECTOR:
    case LDNS_RDF_TYPE_MATCHING_TYPE:
      return "an integer in 0..255";
    case LDNS_RDF_TYPE_INT16:
      return "an integer in 0..65535";
    case LDNS_RDF_TYPE_INT32:
      return "an integer in 0..4294967295";
    case LDNS_RDF_TYPE_DNAME:
      return "a domain name";
    case LDNS_RDF_TYPE_STR:
      return "a character string of at most 255 bytes";
    case LDNS_RDF_TYPE_PERIOD:
      return "a time in seconds (like 3600 or 1h)";
    case LDNS_RDF_TYPE_TYPE:
      return "a record type";
    case LDNS_RDF_TYPE_CLASS:
      return "a class";
    case LDNS_RDF_TYPE_ALG:
    case LDNS_RDF_TYPE_CERT_ALG:
      return "an algorithm (a number or a mnemonic)";
    case LDNS_RDF_TYPE_TIME:
      return "a time (YYYYMMDDHHmmSS or seconds)";
    case LDNS_RDF_TYPE_TAG:
      return "a tag of letters and digits";
    case LDNS_RDF_TYPE_LONG_STR:
      return "a character string";
    default:
      return "";
  }
}

bool FieldParses(ldns_rdf_type t, const Token& token) {
  std::string text = token.text;
  if (token.quoted && text.size() >= 2 && text.back() == '"')
    text = text.substr(1, text.size() - 2);
  if (t == LDNS_RDF_TYPE_DNAME && text == "@") return true;  // the origin, substituted by ldns
  ldns_rdf* rdf = ldns_rdf_new_frm_str(t, text.c_str());
  if (rdf == nullptr) return false;
  ldns_rdf_deep_free(rdf);
  return true;
}

RecordFault At(const Token& t, std::string what) { return {t.line, t.column, std::move(what)}; }

// The rdata tokens of a record of `type` (the type token at `type_token`).
RecordFault DiagnoseRdata(const std::vector<Token>& tokens, size_t type_token, uint16_t type,
                          absl::string_view ldns_error) {
  const Token& type_tok = tokens[type_token];
  const std::string type_name = absl::AsciiStrToUpper(type_tok.text);
  const ldns_rr_descriptor* d = ldns_rr_descript(type);
  const size_t first = type_token + 1;
  const size_t given = tokens.size() - first;
  std::string rdata;
  for (size_t k = first; k < tokens.size(); ++k)
    absl::StrAppend(&rdata, k > first ? " " : "", tokens[k].text);
  RecordFault fallback = At(given > 0 ? tokens[first] : type_tok,
                            absl::StrCat("the ", type_name, " rdata '", rdata, "' (column ",
                                         given > 0 ? tokens[first].column : type_tok.column,
                                         ") does not parse: ", ldns_error));
  if (d == nullptr || (given > 0 && tokens[first].text == "\\#")) return fallback;
  const size_t min = ldns_rr_descriptor_minimum(d);
  const size_t max = ldns_rr_descriptor_maximum(d);
  for (size_t f = 0; f < given; ++f) {
    const Token& tok = tokens[first + f];
    if (f >= max) {
      return At(tok, absl::StrCat("'", tok.text, "' (column ", tok.column,
                                  ") is one field too many: ", type_name, " takes ", max,
                                  " rdata field", max == 1 ? "" : "s"));
    }
    const ldns_rdf_type ft = ldns_rr_descriptor_field_type(d, f);
    const char* must_be = OneTokenField(ft);
    if (*must_be == '\0') return fallback;
    if (!FieldParses(ft, tok)) {
      return At(tok, absl::StrCat("'", tok.text, "' (column ", tok.column, ") is not ", must_be,
                                  " (", type_name, " rdata field ", f + 1, ")"));
    }
  }
  if (given < min) {
    const Token& last = tokens.back();
    return At(last, absl::StrCat(type_name, " needs ", min == max ? "" : "at least ", min,
                                 " rdata field", min == 1 ? "" : "s", ", got ", given,
                                 " (after column ", last.column, ")"));
  }
  return fallback;
}

}  // namespace

RecordFault DiagnoseRecord(absl::string_view text, absl::string_view ldns_error) {
  const std::vector<Token> tokens = Tokenize(text);
  if (tokens.empty()) return {0, 1, std::string(ldns_error)};
  if (const std::optional<int> q = UnterminatedQuoteColumn(text.substr(0, text.find('\n')))) {
    return {0, *q, absl::StrCat("unterminated quoted string at column ", *q)};
  }
  size_t i = 0;
  const bool has_owner = !absl::ascii_isspace(static_cast<unsigned char>(text[0]));
  if (has_owner) {
    const Token& owner = tokens[0];
    if (owner.text != "@" && !FieldParses(LDNS_RDF_TYPE_DNAME, owner)) {
      return At(owner, absl::StrCat("owner '", owner.text, "' (column ", owner.column,
                                    ") is not a domain name"));
    }
    i = 1;
  }
  // TTL and class, in either order, each optional (RFC 1035 section 5.1).
  bool ttl = false, klass = false;
  while (i < tokens.size() && (IsTtl(tokens[i].text) || IsClass(tokens[i].text))) {
    const bool is_ttl = IsTtl(tokens[i].text);
    if (is_ttl ? ttl : klass) {
      return At(tokens[i],
                absl::StrCat("'", tokens[i].text, "' (column ", tokens[i].column, ") is a second ",
                             is_ttl ? "TTL" : "class", "; a record has one"));
    }
    (is_ttl ? ttl : klass) = true;
    ++i;
  }
  if (i >= tokens.size()) {
    const Token& last = tokens.back();
    return At(last, absl::StrCat("the record has no type (after column ", last.column, ")"));
  }
  const Token& type_tok = tokens[i];
  const uint16_t type = TypeOf(type_tok.text);
  if (type == 0) {
    if (i + 1 < tokens.size() && TypeOf(tokens[i + 1].text) != 0) {
      return At(type_tok, absl::StrCat("'", type_tok.text, "' (column ", type_tok.column,
                                       ") is not a TTL or a class (IN, CH, HS)"));
    }
    return At(type_tok, absl::StrCat("unknown record type '", type_tok.text, "' (column ",
                                     type_tok.column, ")"));
  }
  return DiagnoseRdata(tokens, i, type, ldns_error);
}

std::optional<int> UnterminatedQuoteColumn(absl::string_view line) {
  if (line.find('"') == absl::string_view::npos) return std::nullopt;  // most lines: one memchr
  std::optional<int> open;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (c == '\\') {
      ++i;  // the escaped character is data
    } else if (c == '"') {
      open = open ? std::nullopt : std::optional<int>(static_cast<int>(i) + 1);
    } else if ((c == ';' && !open) || c == '\n') {
      break;  // a comment, or the end of the line
    }
  }
  return open;
}

}  // namespace sextant::control
