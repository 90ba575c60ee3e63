// Why a zone-file record cannot be read, said precisely. ldns reports a record it cannot parse
// with one status for the whole of it ("Syntax error, could not parse the RR's rdata"); this
// reads the record's text again, field by field, to find the token at fault and its column:
//
//   x IN AX 1.2.3.4        -> unknown record type 'AX' (column 6)
//   x IN A 192.0.2.300     -> 'A' rdata field 1 '192.0.2.300' (column 8) is not an IPv4 address
//
// It also finds what ldns lets through: a quoted string not closed on its line (ldns ends it at
// the newline and keeps what it read, so a lost quote silently shortens or merges TXT data).
#pragma once

#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace sextant::control {

struct RecordFault {
  int line = 0;    // 0-based, from the first line of the record's text
  int column = 0;  // 1-based, in that line
  std::string what;
};

// `text` starts at the beginning of the record's first line and holds the whole record (more
// lines if it has parentheses). `ldns_error` is ldns's message, used when no single token can be
// blamed. Never fails: at worst the fault is ldns's message at the record's first column.
RecordFault DiagnoseRecord(absl::string_view text, absl::string_view ldns_error);

// The 1-based column of a '"' that opens a string not closed before the end of `line` (quotes
// in comments and escaped quotes do not count), if there is one.
std::optional<int> UnterminatedQuoteColumn(absl::string_view line);

}  // namespace sextant::control
