// The one DNS query builder: sextantctl explain, DNS health checks, tests and benchmarks all ask
// with it, so a query is laid out one way only (RFC 1035 section 4.1 header and question, an
// RFC 6891 OPT record with its options when EDNS is asked for). Header-only; the standard
// library is its only dependency.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "maps/dns/wire.h"

namespace sextant::maps::dns {

struct QueryOptions {
  uint16_t id = 0x1234;
  uint16_t qclass = kClassIn;
  int edns_size = -1;  // the OPT record's UDP payload size; < 0: no OPT record
  uint8_t edns_version = 0;
  bool do_bit = false;
  bool rd = false;
  uint8_t opcode = kOpQuery;
  std::vector<std::pair<uint16_t, std::string>> options = {};  // EDNS options, as given
};

// The query for the uncompressed wire name name[0, len) (the caller's case kept), type `qtype`.
inline std::vector<uint8_t> BuildQueryWire(const uint8_t* name, size_t len, uint16_t qtype,
                                           const QueryOptions& o = {}) {
  size_t rdlength = 0;
  for (const auto& [code, data] : o.options) rdlength += 4 + data.size();
  const size_t question = kHeaderSize + len + 4;
  std::vector<uint8_t> q(question + (o.edns_size < 0 ? 0 : kOptFixedSize + rdlength), 0);
  uint8_t* p = q.data();
  Put16(p + kOffId, o.id);
  p[kOffFlags1] = static_cast<uint8_t>((o.opcode << kOpcodeShift) | (o.rd ? kFlag1Rd : 0));
  Put16(p + kOffQdcount, 1);
  std::copy_n(name, len, p + kHeaderSize);
  Put16(p + kHeaderSize + len, qtype);
  Put16(p + kHeaderSize + len + 2, o.qclass);
  if (o.edns_size < 0) return q;
  Put16(p + kOffArcount, 1);
  uint8_t* opt = p + question;  // owner: the root (0)
  Put16(opt + kOptType, kTypeOpt);
  Put16(opt + kOptUdpSize, static_cast<uint16_t>(o.edns_size));
  opt[kOptVersion] = o.edns_version;
  opt[kOptFlags] = o.do_bit ? kOptFlagDo : 0;
  Put16(opt + kOptRdlength, static_cast<uint16_t>(rdlength));
  uint8_t* at = opt + kOptFixedSize;
  for (const auto& [code, data] : o.options) {
    Put16(at, code);
    Put16(at + 2, static_cast<uint16_t>(data.size()));
    std::copy(data.begin(), data.end(), at + 4);
    at += 4 + data.size();
  }
  return q;
}

// The wire form of a name in presentation form ("www.example.test", with or without the final
// dot; "." is the root), labels as written (no escapes, case kept). Empty when a label is empty
// or longer than 63 octets, or the name longer than 255.
inline std::vector<uint8_t> SimpleNameToWire(std::string_view text) {
  std::vector<uint8_t> w;
  if (text != ".") {
    if (!text.empty() && text.back() == '.') text.remove_suffix(1);
    while (!text.empty()) {
      const size_t dot = text.find('.');
      const std::string_view label = text.substr(0, dot);
      if (label.empty() || label.size() > 63) return {};
      w.push_back(static_cast<uint8_t>(label.size()));
      w.insert(w.end(), label.begin(), label.end());
      text = dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
    }
  }
  w.push_back(0);
  return w.size() > 255 ? std::vector<uint8_t>() : w;
}

// BuildQueryWire for a name in the simple presentation form SimpleNameToWire takes; empty when
// the name is not one.
inline std::vector<uint8_t> BuildQuery(std::string_view name, uint16_t qtype,
                                       const QueryOptions& o = {}) {
  const std::vector<uint8_t> wire = SimpleNameToWire(name);
  if (wire.empty()) return {};
  return BuildQueryWire(wire.data(), wire.size(), qtype, o);
}

// An EDNS Client Subnet option (RFC 7871 section 6) for `addr` (4 or 16 network-order bytes,
// as `family` says) cut to `source_prefix` bits: ceil(source/8) address octets, the bits past
// the prefix cleared, scope 0.
inline std::pair<uint16_t, std::string> EcsOption(uint16_t family, uint8_t source_prefix,
                                                  const uint8_t* addr) {
  std::string data(4, '\0');
  data[0] = static_cast<char>(family >> 8);
  data[1] = static_cast<char>(family);
  data[2] = static_cast<char>(source_prefix);
  const size_t bytes = (source_prefix + 7u) / 8u;
  for (size_t i = 0; i < bytes; ++i) {
    uint8_t b = addr[i];
    if (i + 1 == bytes && source_prefix % 8 != 0) {
      b &= static_cast<uint8_t>(0xFF << (8 - source_prefix % 8));
    }
    data.push_back(static_cast<char>(b));
  }
  return {kOptEcs, data};
}

}  // namespace sextant::maps::dns
