#include "control/geo/geo_config.h"

#include <arpa/inet.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "control/util/file_text.h"

namespace sextant::control {
namespace {

// `what` says which input it is ("nets file"), so that the refusal says which key to look at.
absl::StatusOr<std::string> ReadWholeFile(const std::string& path, absl::string_view what) {
  FileText file = ReadFileText(path);
  if (file.error != 0) {
    return absl::NotFoundError(absl::StrCat("cannot read ", what, " ",
                                            AbsolutePathForMessages(path), ": ", file.ErrorText()));
  }
  return std::move(file.text);
}

// Calls fn(line, where) for each line of `text` that is not blank once its '#' comment is
// stripped, `where` being "source:N"; stops at the first error.
absl::Status ForEachDataLine(
    absl::string_view text, absl::string_view source,
    const std::function<absl::Status(absl::string_view, const std::string&)>& fn) {
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_no;
    const size_t hash = line.find('#');
    if (hash != absl::string_view::npos) line = line.substr(0, hash);
    line = absl::StripAsciiWhitespace(line);
    if (line.empty()) continue;
    if (absl::Status s = fn(line, absl::StrCat(source, ":", line_no)); !s.ok()) return s;
  }
  return absl::OkStatus();
}

// "where: what" as an InvalidArgument error.
absl::Status LineError(const std::string& where, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(where, ": ", what));
}

}  // namespace

bool IpPrefix::operator==(const IpPrefix& o) const {
  return family == o.family && length == o.length && std::memcmp(addr, o.addr, 16) == 0;
}

absl::StatusOr<IpPrefix> ParseIpPrefix(absl::string_view text) {
  IpPrefix p;
  absl::string_view addr_text = text;
  absl::string_view len_text;
  const size_t slash = text.find('/');
  if (slash != absl::string_view::npos) {
    addr_text = text.substr(0, slash);
    len_text = text.substr(slash + 1);
  }
  const std::string addr(addr_text);
  if (addr.find(':') != std::string::npos) {
    p.family = kFamilyIpv6;
    if (inet_pton(AF_INET6, addr.c_str(), p.addr) != 1) {
      return absl::InvalidArgumentError(absl::StrCat("'", text, "' is not an IPv6 network"));
    }
  } else {
    p.family = kFamilyIpv4;
    if (inet_pton(AF_INET, addr.c_str(), p.addr) != 1) {
      // Digits and dots were meant as IPv4; anything else could have been either family.
      const bool dotted =
          !addr.empty() && addr.find_first_not_of("0123456789.") == std::string::npos;
      return absl::InvalidArgumentError(
          absl::StrCat("'", text, "' is not an ", dotted ? "IPv4 network" : "IPv4 or IPv6 network",
                       " (like 198.18.7.0/24 or 2001:db8::/32)"));
    }
  }
  p.length = p.max_length();
  if (slash != absl::string_view::npos) {
    int len = -1;
    if (!absl::SimpleAtoi(len_text, &len) || len < 0 || len > p.max_length()) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", text, "': prefix length must be 0..", p.max_length()));
    }
    p.length = len;
  }
  for (int bit = p.length; bit < p.max_length(); ++bit) {
    if (p.addr[bit / 8] & (0x80 >> (bit % 8))) {
      IpPrefix fixed = p;
      for (int b = p.length; b < p.max_length(); ++b) fixed.addr[b / 8] &= ~(0x80 >> (b % 8));
      return absl::InvalidArgumentError(absl::StrCat(
          "'", text, "' has host bits set (did you mean ", FormatIpPrefix(fixed), "?)"));
    }
  }
  return p;
}

std::string FormatIpPrefix(const IpPrefix& p) {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(p.family == kFamilyIpv4 ? AF_INET : AF_INET6, p.addr, buf, sizeof(buf));
  return absl::StrCat(buf, "/", p.length);
}

absl::StatusOr<std::vector<NetOverride>> ParseNets(absl::string_view text,
                                                   absl::string_view source) {
  std::vector<NetOverride> out;
  auto one = [&out](absl::string_view line, const std::string& where) -> absl::Status {
    const size_t space = line.find_first_of(" \t");
    if (space == absl::string_view::npos) {
      return LineError(where, absl::StrCat("expected 'PREFIX DC[,DC...]', got '", line, "'"));
    }
    NetOverride net;
    net.where = where;
    auto prefix = ParseIpPrefix(line.substr(0, space));
    if (!prefix.ok()) return LineError(where, prefix.status().message());
    net.prefix = *prefix;
    for (absl::string_view dc : absl::StrSplit(line.substr(space + 1), ',')) {
      dc = absl::StripAsciiWhitespace(dc);
      if (dc.empty()) return LineError(where, "empty datacenter name");
      net.datacenters.emplace_back(dc);
    }
    out.push_back(std::move(net));
    return absl::OkStatus();
  };
  if (absl::Status s = ForEachDataLine(text, source, one); !s.ok()) return s;
  return out;
}

absl::StatusOr<std::vector<NetOverride>> ReadNetsFile(const std::string& path) {
  auto text = ReadWholeFile(path, "nets file");
  if (!text.ok()) return text.status();
  return ParseNets(*text, path);
}

absl::StatusOr<std::vector<LatencyRow>> ParseLatencyCsv(absl::string_view text,
                                                        absl::string_view source) {
  std::vector<LatencyRow> out;
  bool first = true;
  auto one = [&](absl::string_view line, const std::string& where) -> absl::Status {
    std::vector<absl::string_view> fields = absl::StrSplit(line, ',');
    for (auto& f : fields) f = absl::StripAsciiWhitespace(f);
    const bool header = first && absl::AsciiStrToLower(fields[0]) == "prefix";
    first = false;
    if (header) return absl::OkStatus();
    if (fields.size() != 3) {
      return LineError(where, absl::StrCat("expected 'prefix,datacenter,rtt_ms', got ",
                                           fields.size(), " fields"));
    }
    LatencyRow row;
    row.where = where;
    auto prefix = ParseIpPrefix(fields[0]);
    if (!prefix.ok()) return LineError(where, prefix.status().message());
    row.prefix = *prefix;
    row.datacenter = std::string(fields[1]);
    if (row.datacenter.empty()) return LineError(where, "empty datacenter name");
    if (!absl::SimpleAtod(fields[2], &row.rtt_ms) || !std::isfinite(row.rtt_ms) || row.rtt_ms < 0) {
      return LineError(where,
                       absl::StrCat("rtt_ms '", fields[2], "' is not a non-negative number"));
    }
    out.push_back(std::move(row));
    return absl::OkStatus();
  };
  if (absl::Status s = ForEachDataLine(text, source, one); !s.ok()) return s;
  return out;
}

absl::StatusOr<std::vector<LatencyRow>> ReadLatencyCsvFile(const std::string& path) {
  auto text = ReadWholeFile(path, "latency file");
  if (!text.ok()) return text.status();
  return ParseLatencyCsv(*text, path);
}

}  // namespace sextant::control
