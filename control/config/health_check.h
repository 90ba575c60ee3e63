// What a health check is, as configured: the `check:` mapping of one target and the top-level
// `health_feeds:` list, parsed from YAML into plain structs that the engine
// (control/health/health_checker.h) runs. Parsing refuses unknown keys, keys that do not apply to
// the check's type, and bad values, with the file, line and target in the message.
//
//   targets:
//     web1:
//       initial: up
//       check: {type: http, address: 127.0.0.1, port: 8080, path: /health, interval: 1s}
//   health_feeds:
//     - {file: /var/lib/sextant/feed.txt}          # lines "target up|down|drain"
//     - {command: "/usr/local/bin/probe --all", interval: 5s, timeout: 3s}
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "maps/dns/wire.h"

namespace YAML {
class Node;
}

namespace sextant::control {

enum class CheckType : uint8_t { kNone = 0, kTcp = 1, kHttp = 2, kHttps = 3, kDns = 4 };
enum class HttpMethod : uint8_t { kGet = 0, kHead = 1, kPost = 2 };

// Both print from the one table of their enum (control/config/enum_names.h).
const char* CheckTypeName(CheckType t);
// "NOERROR", "SERVFAIL", ..., "BADVERS"; "RCODE<n>" for a number the table does not name.
std::string DnsRcodeName(uint8_t rcode);

inline constexpr uint32_t kDefaultCheckIntervalMs = 10000;
inline constexpr uint32_t kMaxDefaultCheckTimeoutMs = 5000;
inline constexpr uint32_t kMinCheckIntervalMs = 50;
inline constexpr uint32_t kMaxCheckIntervalMs = 3600 * 1000;

struct CheckSpec {
  CheckType type = CheckType::kNone;
  std::string address;  // IP literal that is probed (may differ from the answers' address)
  uint16_t port = 0;    // filled with the type's default when not given
  uint32_t interval_ms = kDefaultCheckIntervalMs;
  uint32_t timeout_ms = kMaxDefaultCheckTimeoutMs;  // <= interval_ms
  uint32_t rise = 2;                                // consecutive successes to come up
  uint32_t fall = 3;                                // consecutive failures to go down
  std::string source;  // local address to bind; empty = the kernel's choice

  // http / https.
  HttpMethod method = HttpMethod::kGet;
  std::string path = "/";
  std::string host;                     // Host header and SNI; empty = the address
  std::vector<uint16_t> expect_status;  // empty = any of 200..399
  std::string body_contains;            // empty = not checked
  bool verify = true;                   // https: verify the certificate chain and name
  std::string ca_file;                  // https: trust anchors instead of the system's

  // dns.
  std::string query;  // absolute name, ends in '.'
  uint16_t qtype = maps::dns::kTypeA;
  uint8_t expect_rcode = 0;   // NOERROR
  std::string expect_answer;  // empty = not checked; A/AAAA compare as addresses

  int line = 0;  // of the `check:` mapping, for messages

  bool operator==(const CheckSpec&) const = default;
};

// One external source of verdicts. Its lines are "<target> up|down|drain"; '#' starts a comment.
struct FeedSpec {
  enum class Kind : uint8_t { kFile = 0, kCommand = 1 };
  Kind kind = Kind::kFile;
  std::string file;     // kFile: absolute path, re-read when it changes
  std::string command;  // kCommand: run with /bin/sh -c every interval
  uint32_t interval_ms = kDefaultCheckIntervalMs;
  uint32_t timeout_ms = kMaxDefaultCheckTimeoutMs;  // the command is killed after this
  int line = 0;

  bool operator==(const FeedSpec&) const = default;
};

// Parses one target's `check:` mapping. `target` names the target in messages
// ("sextant.yaml line 12: target web1: check.port must be ...").
absl::Status ParseCheck(const std::string& file, const YAML::Node& node, const std::string& target,
                        CheckSpec* out);

// Parses the top-level `health_feeds:` list, appending to `out`.
absl::Status ParseHealthFeeds(const std::string& file, const YAML::Node& node,
                              std::vector<FeedSpec>* out);

// "500ms", "2s", "5m", "1h"; a bare number is seconds (the forms config.h's ParseDurationMs
// takes). Returns false on anything else.
bool ParseCheckDurationMs(const std::string& text, uint64_t* ms);

}  // namespace sextant::control
