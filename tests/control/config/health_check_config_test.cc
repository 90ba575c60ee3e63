// The `check:` mapping of a target and the `health_feeds:` list (control/config/health_check.h):
// what is accepted and the defaults it gets, and refusals, each naming the file, the line and the
// target at fault. Rows are YAML flow mappings placed under `targets: t1: check:`.
#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "control/config/config.h"
#include "control/config/health_check.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sextant::control {
namespace {

using ::testing::HasSubstr;

constexpr char kFile[] = "/etc/sextant/sextant.yaml";

absl::StatusOr<Config> ParseWithCheck(const std::string& check) {
  return ParseConfig(absl::StrCat("zones:\n  - {origin: hc.test., file: hc.test.zone}\n",
                                  "targets:\n  t1:\n    initial: down\n    check: ", check, "\n"),
                     kFile, "/etc/sextant");
}

CheckSpec MustParse(const std::string& check) {
  absl::StatusOr<Config> cfg = ParseWithCheck(check);
  EXPECT_TRUE(cfg.ok()) << check << ": " << cfg.status();
  if (!cfg.ok() || cfg->policies.targets.empty() || !cfg->policies.targets[0].check) return {};
  return *cfg->policies.targets[0].check;
}

TEST(HealthCheckConfig, DefaultsByType) {
  struct Row {
    std::string check;
    CheckType type;
    uint16_t port;
    uint32_t interval_ms, timeout_ms, rise, fall;
  } rows[] = {
      {"{type: tcp, address: 127.0.0.1, port: 8080}", CheckType::kTcp, 8080, 10000, 5000, 2, 3},
      {"{type: http, address: 127.0.0.1}", CheckType::kHttp, 80, 10000, 5000, 2, 3},
      {"{type: https, address: '::1'}", CheckType::kHttps, 443, 10000, 5000, 2, 3},
      {"{type: dns, address: 127.0.0.1, query: x.test}", CheckType::kDns, 53, 10000, 5000, 2, 3},
      // timeout defaults to min(interval, 5s).
      {"{type: tcp, address: 127.0.0.1, port: 1, interval: 1s}", CheckType::kTcp, 1, 1000, 1000, 2,
       3},
      {"{type: tcp, address: 127.0.0.1, port: 1, interval: 500ms, timeout: 200ms, rise: 1, "
       "fall: 5}",
       CheckType::kTcp, 1, 500, 200, 1, 5},
      {"{type: tcp, address: 127.0.0.1, port: 1, interval: 2m}", CheckType::kTcp, 1, 120000, 5000,
       2, 3},
      {"{type: none}", CheckType::kNone, 0, 10000, 5000, 2, 3},
  };
  for (const Row& r : rows) {
    const CheckSpec c = MustParse(r.check);
    EXPECT_EQ(c.type, r.type) << r.check;
    EXPECT_EQ(c.port, r.port) << r.check;
    EXPECT_EQ(c.interval_ms, r.interval_ms) << r.check;
    EXPECT_EQ(c.timeout_ms, r.timeout_ms) << r.check;
    EXPECT_EQ(c.rise, r.rise) << r.check;
    EXPECT_EQ(c.fall, r.fall) << r.check;
  }
}

TEST(HealthCheckConfig, HttpAndDnsFields) {
  const CheckSpec h = MustParse(
      "{type: https, address: 127.0.0.1, port: 8443, method: head, path: /health, host: "
      "www.example.test, expect_status: [200, 204], verify: false, ca_file: /etc/ca.pem, "
      "source: 127.0.0.2}");
  EXPECT_EQ(h.method, HttpMethod::kHead);
  EXPECT_EQ(h.path, "/health");
  EXPECT_EQ(h.host, "www.example.test");
  EXPECT_EQ(h.expect_status, (std::vector<uint16_t>{200, 204}));
  EXPECT_FALSE(h.verify);
  EXPECT_EQ(h.ca_file, "/etc/ca.pem");
  EXPECT_EQ(h.source, "127.0.0.2");
  EXPECT_EQ(MustParse("{type: http, address: 127.0.0.1, expect_status: 503}").expect_status,
            (std::vector<uint16_t>{503}));
  EXPECT_EQ(MustParse("{type: http, address: 127.0.0.1, body_contains: OK}").body_contains, "OK");

  const CheckSpec d = MustParse(
      "{type: dns, address: 127.0.0.1, query: health.example.test, qtype: aaaa, "
      "expect_rcode: nxdomain, expect_answer: '2001:db8::1'}");
  EXPECT_EQ(d.query, "health.example.test.");
  EXPECT_EQ(d.qtype, 28);
  EXPECT_EQ(d.expect_rcode, 3);
  EXPECT_EQ(d.expect_answer, "2001:db8::1");
}

TEST(HealthCheckConfig, TargetWithoutCheckKeepsInitial) {
  absl::StatusOr<Config> cfg = ParseConfig(
      "zones:\n  - {origin: hc.test., file: hc.test.zone}\n"
      "targets:\n  t1: {initial: down}\n  t2:\n",
      kFile, "/etc/sextant");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  ASSERT_EQ(cfg->policies.targets.size(), 2u);
  EXPECT_FALSE(cfg->policies.targets[0].initial_up);
  EXPECT_FALSE(cfg->policies.targets[0].check.has_value());
  EXPECT_TRUE(cfg->policies.targets[1].initial_up);
}

TEST(HealthCheckConfig, Refusals) {
  // Every message names the file, the line of the offending node (the check is on line 6) and
  // the key by its YAML path.
  struct Row {
    std::string check;
    std::string message;
  } rows[] = {
      {"{address: 127.0.0.1}",
       "targets.t1.check.type is required (one of tcp, http, https, dns, none)"},
      {"{type: icmp, address: 127.0.0.1}",
       "targets.t1.check.type 'icmp' is not one of tcp, http, https, dns, none"},
      {"{type: tcp, address: 127.0.0.1}", "targets.t1.check.port is required for a tcp check"},
      {"{type: tcp, port: 80}", "targets.t1.check.address is required"},
      {"{type: tcp, address: www.example.test, port: 80}",
       "targets.t1.check.address 'www.example.test' is not an IPv4 or IPv6 address"},
      {"{type: tcp, address: 127.0.0.1, port: 70000}",
       "targets.t1.check.port must be an integer in 1..65535, not '70000'"},
      {"{type: tcp, address: 127.0.0.1, port: 80, interval: 10}",  // bare number = seconds: ok
       ""},
      {"{type: tcp, address: 127.0.0.1, port: 80, interval: soon}",
       "targets.t1.check.interval must be a duration from 50ms to 3600s (like 500ms, 2s, 1m; a "
       "bare "
       "number is seconds), not 'soon'"},
      {"{type: tcp, address: 127.0.0.1, port: 80, interval: 10ms}", "from 50ms"},
      {"{type: tcp, address: 127.0.0.1, port: 80, interval: 1s, timeout: 2s}",
       "targets.t1.check.timeout (2000ms) must not exceed targets.t1.check.interval (1000ms)"},
      {"{type: tcp, address: 127.0.0.1, port: 80, rise: 0}",
       "targets.t1.check.rise must be an integer in 1..100, not '0'"},
      {"{type: tcp, address: 127.0.0.1, port: 80, fall: many}",
       "targets.t1.check.fall must be an integer in 1..100, not 'many'"},
      {"{type: tcp, address: 127.0.0.1, port: 80, source: '::1'}", "same family"},
      {"{type: tcp, address: 127.0.0.1, port: 80, path: /x}",
       "targets.t1.check.path does not apply to a tcp"},
      {"{type: http, address: 127.0.0.1, verify: false}",
       "targets.t1.check.verify does not apply to a http"},
      {"{type: http, address: 127.0.0.1, query: x.}", "targets.t1.check.query does not apply"},
      {"{type: none, address: 127.0.0.1}",
       "targets.t1.check.address does not apply to a none check"},
      {"{type: tcp, address: 127.0.0.1, port: 80, colour: red}",
       "unknown key 'targets.t1.check.colour'"},
      {"{type: htpp, address: 127.0.0.1}",
       "targets.t1.check.type 'htpp' is not one of tcp, http, https, dns, none (did you mean "
       "http?)"},
      {"{type: http, address: 127.0.0.1, method: DELETE}",
       "targets.t1.check.method 'DELETE' is not one of GET, HEAD, POST"},
      {"{type: http, address: 127.0.0.1, path: health}",
       "targets.t1.check.path 'health' must start with '/'"},
      {"{type: http, address: 127.0.0.1, host: 'a b'}",
       "targets.t1.check.host 'a b' is not a host name"},
      {"{type: http, address: 127.0.0.1, expect_status: [200, 700]}",
       "targets.t1.check.expect_status must be an integer in 100..599, not '700'"},
      {"{type: http, address: 127.0.0.1, method: HEAD, body_contains: OK}", "not method HEAD"},
      {"{type: https, address: 127.0.0.1, verify: maybe}",
       "targets.t1.check.verify must be true or false, not 'maybe'"},
      {"{type: https, address: 127.0.0.1, ca_file: ca.pem}",
       "targets.t1.check.ca_file must be an absolute path, not 'ca.pem'"},
      {"{type: dns, address: 127.0.0.1}", "targets.t1.check.query is required for a dns check"},
      {"{type: dns, address: 127.0.0.1, query: x.test, qtype: BOGUS}",
       "targets.t1.check.qtype 'BOGUS' is not a record type"},
      {"{type: dns, address: 127.0.0.1, query: x.test, expect_rcode: OOPS}",
       "targets.t1.check.expect_rcode 'OOPS' is not an rcode (one of NOERROR"},
      {"{type: dns, address: 127.0.0.1, query: x.test, expect_answer: 'not-an-ip'}",
       "targets.t1.check.expect_answer must be an IPv4 address (qtype A), not 'not-an-ip'"},
      {"[tcp]", "targets.t1.check must be a mapping with at least 'type', not a list"},
  };
  for (const Row& r : rows) {
    const absl::Status s = ParseWithCheck(r.check).status();
    if (r.message.empty()) {
      EXPECT_TRUE(s.ok()) << r.check << ": " << s;
      continue;
    }
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << r.check;
    EXPECT_THAT(std::string(s.message()), HasSubstr(r.message)) << r.check;
    EXPECT_THAT(std::string(s.message()), HasSubstr(absl::StrCat(kFile, " line 6"))) << r.check;
    EXPECT_THAT(std::string(s.message()), HasSubstr("t1")) << r.check;
  }
}

TEST(HealthCheckConfig, Feeds) {
  absl::StatusOr<Config> cfg = ParseConfig(
      "zones:\n  - {origin: hc.test., file: hc.test.zone}\n"
      "health_feeds:\n"
      "  - {file: /var/lib/sextant/feed.txt}\n"
      "  - {command: \"/usr/local/bin/probe --all\", interval: 5s, timeout: 3s}\n"
      "  - {command: probe}\n",
      kFile, "/etc/sextant");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  const std::vector<FeedSpec>& f = cfg->policies.health_feeds;
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[0].kind, FeedSpec::Kind::kFile);
  EXPECT_EQ(f[0].file, "/var/lib/sextant/feed.txt");
  EXPECT_EQ(f[1].kind, FeedSpec::Kind::kCommand);
  EXPECT_EQ(f[1].command, "/usr/local/bin/probe --all");
  EXPECT_EQ(f[1].interval_ms, 5000u);
  EXPECT_EQ(f[1].timeout_ms, 3000u);
  EXPECT_EQ(f[2].interval_ms, 10000u);
  EXPECT_EQ(f[2].timeout_ms, 5000u);
}

TEST(HealthCheckConfig, FeedRefusals) {
  struct Row {
    std::string feeds;
    std::string message;
  } rows[] = {
      {"{file: x}", "must be a list"},
      {"[{file: feed.txt}]", "health_feeds[0].file must be an absolute path, not 'feed.txt'"},
      {"[{file: /a, command: b}]",
       "health_feeds[0]: each health feed needs exactly one of 'file' or 'command'"},
      {"[{}]", "exactly one of 'file' or 'command'"},
      {"[{file: /a, interval: 1s}]", "unknown key 'health_feeds[0].interval' (known: file)"},
      {"[{command: x, interval: 1s, timeout: 2s}]",
       "health_feeds[0].timeout must not exceed health_feeds[0].interval"},
      {"[{command: x, interval: never}]", "health_feeds[0].interval must be a duration"},
      {"[{command: ''}]", "health_feeds[0].command must be a non-empty string"},
  };
  for (const Row& r : rows) {
    const absl::Status s = ParseConfig(absl::StrCat("zones:\n  - {origin: hc.test., file: z}\n",
                                                    "health_feeds: ", r.feeds, "\n"),
                                       kFile, "/etc/sextant")
                               .status();
    EXPECT_THAT(std::string(s.message()), HasSubstr(r.message)) << r.feeds;
    EXPECT_THAT(std::string(s.message()), HasSubstr(absl::StrCat(kFile, " line 3"))) << r.feeds;
  }
}

// Parsing never touches the disk; CheckInputFiles (run before every compile: --check, start,
// reload) refuses a ca_file that cannot be read and a feed program that cannot be run.
TEST(HealthCheckConfig, InputFilesAreCheckedWithTheErrno) {
  const struct {
    std::string yaml;
    std::string message;  // empty: accepted
  } rows[] = {
      {"targets:\n  t1:\n    check: {type: https, address: 127.0.0.1, ca_file: "
       "/nonexistent/ca.pem}\n",
       "sextant.yaml line 5: targets.t1.check.ca_file: cannot read /nonexistent/ca.pem: No such "
       "file or directory"},
      {"targets:\n  t1:\n    check: {type: https, address: 127.0.0.1, ca_file: /dev/null}\n", ""},
      {"health_feeds:\n  - {file: /var/lib/sextant/feed.txt}\n"
       "  - {command: \"/nonexistent/probe --all\"}\n",
       "sextant.yaml line 5: health_feeds[1].command: cannot run /nonexistent/probe: No such file "
       "or directory"},
      {"health_feeds:\n  - {command: \"/bin/true --all\"}\n  - {command: \"probe | grep x\"}\n",
       ""},
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(r.yaml);
    absl::StatusOr<Config> cfg = ParseConfig(
        "zones:\n  - {origin: hc.test., file: hc.test.zone}\n" + r.yaml, kFile, "/etc/sextant");
    ASSERT_TRUE(cfg.ok()) << cfg.status();
    const absl::Status s = CheckInputFiles(*cfg);
    if (r.message.empty()) {
      EXPECT_TRUE(s.ok()) << s;
    } else {
      EXPECT_THAT(std::string(s.message()), HasSubstr(r.message));
    }
  }
}

TEST(HealthCheckConfig, Durations) {
  struct Row {
    std::string text;
    bool ok;
    uint64_t ms;
  } rows[] = {{"500ms", true, 500}, {"1s", true, 1000}, {"2m", true, 120000}, {"1h", true, 3600000},
              {"1.5s", true, 1500}, {"3", true, 3000},  {"", false, 0},       {"s", false, 0},
              {"-1s", false, 0},    {"1x", false, 0}};
  for (const Row& r : rows) {
    uint64_t ms = 0;
    EXPECT_EQ(ParseCheckDurationMs(r.text, &ms), r.ok) << r.text;
    if (r.ok) {
      EXPECT_EQ(ms, r.ms) << r.text;
    }
  }
}

}  // namespace
}  // namespace sextant::control
