// Shared by the answer-engine tests (engine_*_test.cc): the zones they serve, built through the
// real control plane (BuildTestSnapshot), a small response decoder that turns every response into
// presentation-form records ("www.diff.test. 300 IN A 198.18.1.1") so that the tables read like
// dig output, Ask() and ExpectRows(), and raw query pieces for the tables that build queries by
// hand. The expected answers follow Knot DNS 3.2 (tests/integration/KNOT_BEHAVIOUR.md) except
// where the engine deliberately differs (FORMERR for malformed questions, validated and echoed
// ECS).
//
// Every query in the engine tests goes through Ask(), which also checks, for every response:
//   * the same query answered in place (output buffer == input buffer, the DPDK path) gives
//     byte-identical output;
//   * the message decodes cleanly: counts match, no trailing bytes, every compression pointer
//     points backwards;
//   * names are compressed optimally (each name is written as the longest suffix already in the
//     message, RFC 1035 4.1.4);
//   * AnswerInfo agrees with the header.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "dataplane/engine/engine.h"
#include "maps/snapshot_reader.h"
#include "tests/support/test_snapshot.h"

// The engine tests live in this namespace too, so that its vocabulary (kA, Row, Ask, ...) needs
// no qualification in the tables.
namespace sextant::dataplane::engine_test {

using Bytes = std::vector<uint8_t>;

// Types and classes by name, for the tables.
inline constexpr uint16_t kA = 1, kNs = 2, kCname = 5, kSoa = 6, kPtr = 12, kMx = 15, kTxt = 16,
                          kAaaa = 28, kSrv = 33, kDs = 43, kIxfr = 251, kAxfr = 252, kAny = 255;
inline constexpr uint16_t kIn = 1, kCh = 3, kHs = 4, kClassNone = 254, kClassAny = 255;
inline constexpr uint16_t kNoError = 0, kFormErr = 1, kNxDomain = 3, kNotImp = 4, kRefused = 5,
                          kNotAuth = 9, kBadVers = 16;
inline constexpr bool kAa = true, kNoAa = false;

// Raw bytes from small integers: B({0, 1, 24, 0}).
std::string B(std::initializer_list<int> bytes);

// ---------------------------------------------------------------------------------------------
// Zones

// A snapshot and the engine reading it (the engine keeps pointers into the snapshot).
struct Server {
  std::unique_ptr<maps::SnapshotReader> snapshot;
  std::unique_ptr<Engine> engine;
};

// diff.test (mirrors tests/integration/data/diff.test.zone, the zone the Knot probes used,
// trimmed to what the rules need), other.test and short.test, with `server_yaml` as the body of
// the server section.
// The snapshot of `zones` (and `server_yaml` as the server: section) and an engine on it;
// aborts, saying why, when the snapshot cannot be built.
Server ServerOf(const std::vector<::sextant::testing::ZoneText>& zones,
                const std::string& server_yaml = "");
Server MakeServer(const std::string& server_yaml = "");

// The default configuration (no server section), built once.
const Engine& DefaultEngine();

// ---------------------------------------------------------------------------------------------
// A small response decoder

struct Response {
  size_t size = 0;
  std::string error;  // empty when the message decoded cleanly
  uint16_t id = 0;
  uint8_t flags1 = 0, flags2 = 0;
  uint16_t qdcount = 0, ancount = 0, nscount = 0, arcount = 0;
  std::string qname;  // as sent back, case kept
  uint16_t qtype = 0, qclass = 0;
  std::vector<std::string> answer, authority, additional;  // presentation form; OPT apart
  bool has_opt = false;
  uint16_t opt_udp_size = 0;
  uint8_t opt_ext_rcode = 0, opt_version = 0;
  bool opt_do = false;
  std::vector<std::pair<uint16_t, std::string>> opt_options;
  // Bytes the names take in the message, and what they would take with optimal compression.
  size_t name_bytes = 0, optimal_name_bytes = 0;

  bool qr() const { return flags1 & 0x80; }
  int opcode() const { return (flags1 >> 3) & 0xF; }
  bool aa() const { return flags1 & 0x04; }
  bool tc() const { return flags1 & 0x02; }
  bool rd() const { return flags1 & 0x01; }
  bool ra() const { return flags2 & 0x80; }
  bool z() const { return flags2 & 0x40; }
  bool ad() const { return flags2 & 0x20; }
  bool cd() const { return flags2 & 0x10; }
  uint16_t rcode() const { return flags2 & 0xF; }  // header rcode only
  uint16_t ext_rcode() const { return static_cast<uint16_t>(opt_ext_rcode << 4 | rcode()); }
  std::optional<std::string> option(uint16_t code) const {
    for (const auto& [c, data] : opt_options) {
      if (c == code) return data;
    }
    return std::nullopt;
  }
};

std::string TypeName(uint16_t t);

// ---------------------------------------------------------------------------------------------
// Asking

inline constexpr ClientInfo kUdp{};
inline constexpr ClientInfo kTcp{.tcp = true};

struct Raw {
  size_t len = 0;
  Bytes bytes;
  AnswerInfo info;
};

// Answers `query` into a separate 65535-byte buffer, and again in place (the DPDK path), and
// expects both to give the same bytes.
Raw AnswerRaw(const Engine& e, const Bytes& query, const ClientInfo& client);
// Answers `query` with the engine's answer images (and lines) on, then off (the resolver),
// expects the same bytes, rcode, qtype and TC flag, and returns the first answer; the images
// are left on.
Raw AnswerWithAndWithoutImages(Engine& e, const Bytes& query, const ClientInfo& client);

Response Ask(const Engine& e, const Bytes& query, const ClientInfo& client = kUdp);
Response Ask(const Engine& e, const std::string& name, uint16_t qtype,
             const ::sextant::testing::QueryOptions& o = {}, const ClientInfo& client = kUdp);

::sextant::testing::QueryOptions Edns(int size = 1232);

// The query shapes the answer images and lines are checked in against the resolver: without
// EDNS and with EDNS sizes 512, 1232 and 4096 (RD and DO each on and off), with NSID, with ECS,
// EDNS version 1, class ANY, class CH, and opcode NOTIFY. The image answers only some of them.
std::vector<::sextant::testing::QueryOptions> ImageQueryShapes();

// One query and the whole expected response, dig-style: the status is the rcode and the AA and
// TC flags ("NXDOMAIN aa"), and each record is prefixed with its section ("an", "ns", "ar").
struct Row {
  std::string rule;    // what the row shows
  std::string query;   // "name TYPE", class IN, no EDNS
  std::string status;  // "NOERROR aa"
  std::vector<std::string> records;
};

std::string Status(const Response& r);
std::vector<std::string> Records(const Response& r);
void ExpectRows(const Engine& e, const std::vector<Row>& rows, const ClientInfo& client = kUdp);

// Records the tables use more than once.
extern const std::string kDiffSoa;
extern const std::string kNsDiffSoa;
extern const std::vector<std::string> kWwwA;
extern const std::vector<std::string> kSubReferral;
extern const std::vector<std::string> kApexNs;

std::vector<std::string> Concat(std::initializer_list<std::vector<std::string>> parts);

// ---------------------------------------------------------------------------------------------
// Raw query pieces

Bytes Header(uint16_t qd, uint16_t an, uint16_t ns, uint16_t ar);
Bytes Question(const std::string& wire_name, uint16_t qtype = kA);
Bytes Opt(uint16_t size = 1232, const std::string& rdata = "");
Bytes Cat(std::initializer_list<Bytes> parts);
extern const std::string kDiffTestWire;
extern const std::string kWwwWire;

}  // namespace sextant::dataplane::engine_test
