// The YAML configuration: the minimal form and its defaults, path resolution, and refusals that
// name what is wrong and where.
#include "control/config/config.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <tuple>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sextant::control {
namespace {

using ::testing::HasSubstr;

absl::StatusOr<Config> Parse(const std::string& yaml) {
  return ParseConfig(yaml, "/etc/sextant/sextant.yaml", "/etc/sextant");
}

TEST(Config, ParsesTheMinimalFormWithDefaults) {
  auto c = Parse(R"(zones:
  - origin: example.test.
    file: example.test.zone
)");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->path, "/etc/sextant/sextant.yaml");
  EXPECT_EQ(c->instance, "sextant");
  ASSERT_EQ(c->zones.size(), 1u);
  EXPECT_EQ(c->zones[0].origin, "example.test.");
  EXPECT_EQ(c->zones[0].file, "/etc/sextant/example.test.zone");
  EXPECT_EQ(c->server.edns_udp_size, 1232);
  EXPECT_EQ(c->server.nsid, "");
  EXPECT_FALSE(c->server.version.has_value());
  EXPECT_FALSE(c->server.identity.has_value());
}

TEST(Config, ParsesTheFlowFormAndAddsTheFinalDot) {
  auto c = Parse("zones: [{origin: example.test, file: a.zone}, {origin: b.test., file: b.zone}]");
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->zones.size(), 2u);
  EXPECT_EQ(c->zones[0].origin, "example.test.");
  EXPECT_EQ(c->zones[1].origin, "b.test.");
}

TEST(Config, ResolvesZonePathsAgainstTheConfigDirectory) {
  struct Case {
    std::string file;
    std::string resolved;
  } cases[] = {
      {"example.test.zone", "/etc/sextant/example.test.zone"},
      {"zones/example.test.zone", "/etc/sextant/zones/example.test.zone"},
      {"./zones/../example.test.zone", "/etc/sextant/example.test.zone"},
      {"../example.test.zone", "/etc/example.test.zone"},
      {"/var/lib/zones/example.test.zone", "/var/lib/zones/example.test.zone"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.file);
    auto cfg = Parse("zones:\n  - origin: example.test.\n    file: " + c.file + "\n");
    ASSERT_TRUE(cfg.ok()) << cfg.status();
    EXPECT_EQ(cfg->zones[0].file, c.resolved);
  }
}

TEST(Config, LoadConfigResolvesAgainstTheFilesDirectory) {
  char tmpl[] = "/tmp/sextant-config-test-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  const std::string path = dir + "/sextant.yaml";
  std::ofstream(path) << "zones:\n  - {origin: example.test., file: zones/example.test.zone}\n";
  auto c = LoadConfig(path);
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->path, path);
  EXPECT_EQ(c->zones[0].file, dir + "/zones/example.test.zone");

  auto missing = LoadConfig(dir + "/sextant.yaml");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(std::string(missing.status().message()),
              HasSubstr("cannot read config " + dir + "/sextant.yaml: No such file or directory"));
}

TEST(Config, DnstapIsOffByDefaultAndParsesItsKeys) {
  auto off = Parse("zones: [{origin: a.test., file: a.zone}]\n");
  ASSERT_TRUE(off.ok()) << off.status();
  EXPECT_FALSE(off->dnstap.present);
  auto c = Parse(
      "zones: [{origin: a.test., file: a.zone}]\n"
      "dnstap: {file: log/q.dnstap, sample: 1000, identity: ns1, version: v1, ring: 256}\n");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->dnstap.present);
  EXPECT_FALSE(c->dnstap.to_socket);
  EXPECT_EQ(c->dnstap.path, "/etc/sextant/log/q.dnstap");
  EXPECT_EQ(c->dnstap.sample, 1000u);
  EXPECT_EQ(c->dnstap.identity, "ns1");
  EXPECT_EQ(c->dnstap.version, "v1");
  EXPECT_EQ(c->dnstap.ring_slots, 256u);
  auto all = Parse(
      "zones: [{origin: a.test., file: a.zone}]\n"
      "dnstap: {socket: /run/tap.sock, sample: all}\n");
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_TRUE(all->dnstap.to_socket);
  EXPECT_EQ(all->dnstap.sample, 1u);
  EXPECT_EQ(all->dnstap.ring_slots, 1024u);
}

// Rows of (a section's YAML, words its refusal must contain), each after a minimal zones: list.
void ExpectSectionsRefused(const std::vector<std::pair<std::string, std::string>>& rows) {
  for (const auto& [yaml, says] : rows) {
    SCOPED_TRACE(yaml);
    auto c = Parse("zones: [{origin: a.test., file: a.zone}]\n" + yaml + "\n");
    ASSERT_FALSE(c.ok());
    EXPECT_THAT(std::string(c.status().message()), HasSubstr(says));
  }
}

TEST(Config, TcpLimitsHaveDefaultsAndParseTheirKeys) {
  auto plain = Parse("zones: [{origin: a.test., file: a.zone}]\n");
  ASSERT_TRUE(plain.ok()) << plain.status();
  auto limits = [](const TcpConfig& t) {
    return std::tuple(t.max_connections, t.max_per_client, t.idle_timeout_ms, t.query_timeout_ms,
                      t.max_queries);
  };
  EXPECT_FALSE(plain->tcp.present);
  EXPECT_EQ(limits(plain->tcp), std::tuple(1024u, 64u, 10000u, 2000u, 0u));
  auto c = Parse(
      "zones: [{origin: a.test., file: a.zone}]\n"
      "tcp: {max_connections: 50, max_connections_per_client: 0, idle_timeout: 3s,\n"
      "      query_timeout: 0, max_queries_per_connection: 10}\n");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->tcp.present);
  EXPECT_EQ(limits(c->tcp), std::tuple(50u, 0u, 3000u, 0u, 10u));
  for (const std::string& bad : {"tcp: {max_connections: 0}", "tcp: {max_connections: 70000}",
                                 "tcp: {idle_timeout: 0}", "tcp: {query_timeout: 2h}",
                                 "tcp: {max_connections_per_client: -1}", "tcp: {timeout: 1s}"}) {
    SCOPED_TRACE(bad);
    EXPECT_FALSE(Parse("zones: [{origin: a.test., file: a.zone}]\n" + bad + "\n").ok());
  }
}

TEST(Config, RefusesDnstapSettingsThatCannotWork) {
  ExpectSectionsRefused({
      {"dnstap: {sample: 10}", "one of file"},
      {"dnstap: {file: a, socket: b}", "one of file"},
      {"dnstap: {file: a, sample: 0}", "\"all\""},
      {"dnstap: {file: a, sample: some}", "\"all\""},
      {"dnstap: {file: a, ring: 1000}", "power of two"},
      {"dnstap: {file: a, level: 3}", "level"},
  });
}

TEST(Config, ReadsRateLimitWithDefaults) {
  const std::string zones = "zones: [{origin: a.test., file: a.zone}]\n";
  auto d = Parse(zones);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_TRUE(d->rate_limit.enabled);
  EXPECT_EQ(d->rate_limit.per_second[0], 1000u);
  EXPECT_EQ(d->rate_limit.slip, 2u);
  EXPECT_EQ(d->rate_limit.ipv6_prefix, 56u);
  auto c = Parse(zones +
                 "rate_limit: {responses_per_second: {nxdomain: 5}, window: 10, slip: 0, "
                 "ipv4_prefix: 32, exempt: [127.0.0.0/8, \"::1\"]}\n");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->rate_limit.per_second[1], 5u);
  EXPECT_EQ(c->rate_limit.per_second[0], 1000u);
  EXPECT_EQ(c->rate_limit.window, 10u);
  EXPECT_EQ(c->rate_limit.slip, 0u);
  ASSERT_EQ(c->rate_limit.exempt.size(), 2u);
  EXPECT_EQ(c->rate_limit.exempt[0].length, 8);
  EXPECT_EQ(c->rate_limit.exempt[1].family, 6);
  EXPECT_EQ(c->rate_limit.exempt[1].length, 128);
}

TEST(Config, RefusesRateLimitSettingsThatCannotWork) {
  ExpectSectionsRefused({
      {"rate_limit: {slip: 11}", "rate_limit.slip"},
      {"rate_limit: {window: 0}", "seconds in 1..60"},
      {"rate_limit: {ipv6_prefix: 96}", "rate_limit.ipv6_prefix"},
      {"rate_limit: {table_size: 1000}", "power of two"},
      {"rate_limit: {responses_per_second: {answer: 3}}", "did you mean answers"},
      {"rate_limit: {responses_per_second: {errors: -1}}", "0..10000000"},
      {"rate_limit: {exempt: [10.0.0.1/8]}", "bits set past /8"},
      {"rate_limit: {exempt: [example.com]}", "not an IPv4 or IPv6"},
      {"rate_limit: {exempt: [10.0.0.0/33]}", "bad prefix length"},
      {"rate_limit: {enabled: maybe}", "rate_limit.enabled"},
  });
}

TEST(Config, ReadsCookiesWithDefaults) {
  const std::string zones = "zones: [{origin: a.test., file: a.zone}]\n";
  auto plain = Parse(zones);
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_TRUE(plain->cookies.enabled);
  EXPECT_FALSE(plain->cookies.require);
  EXPECT_EQ(plain->cookies.rotate_ms, 24u * 3600 * 1000);
  auto c = Parse(zones + "cookies: {require: true, rotate: 2s}\n");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->cookies.require);
  EXPECT_EQ(c->cookies.rotate_ms, 2000u);
  auto off = Parse(zones + "cookies: {enabled: false}\n");
  ASSERT_TRUE(off.ok()) << off.status();
  EXPECT_FALSE(off->cookies.enabled);
}

TEST(Config, RefusesCookieSettingsThatCannotWork) {
  const std::string zones = "zones: [{origin: a.test., file: a.zone}]\n";
  for (const auto& [yaml, says] : std::vector<std::pair<std::string, std::string>>{
           {"cookies: {enabled: false, require: true}", "cookies.require needs"},
           {"cookies: {rotate: 500ms}", "rotate"},
           {"cookies: {rotate: 721h}", "rotate"},
           {"cookies: {require: maybe}", "require"},
           {"cookies: {secret: abc}", "secret"},
       }) {
    SCOPED_TRACE(yaml);
    auto c = Parse(zones + yaml + "\n");
    ASSERT_FALSE(c.ok());
    EXPECT_THAT(std::string(c.status().message()), HasSubstr(says));
  }
}

// sextantctl finds the instance and its socket in a config that does not load: one that does not
// validate, one that is not YAML at all. Rows: the file's text, then what it locates.
TEST(LocateInstance, ReadsInstanceAndSocketFromConfigsThatDoNotLoad) {
  char tmpl[] = "/tmp/sextant-locate-test-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  const std::string path = dir + "/sextant.yaml";
  const struct {
    std::string text, instance, socket;
  } cases[] = {
      {"instance: edge1\nzones: [{origin: a., file: a.zone}]\ncontrol: {socket: run/c.sock}\n",
       "edge1", dir + "/run/c.sock"},
      {"instance: edge2\nbogus_key: 1\ncontrol:\n  socket: /run/x.sock\n  mode: wrong\n", "edge2",
       "/run/x.sock"},
      {"instance: \"edge3\"  # quoted\nzones: [unclosed\n  : : :\n", "edge3", ""},
      {"zones: [{origin: a., file: a.zone}]\n", "", ""},
      {"- just\n- a list\n", "", ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    std::ofstream(path) << c.text;
    const absl::StatusOr<InstanceLocation> where = LocateInstance(path);
    ASSERT_TRUE(where.ok()) << where.status();
    EXPECT_EQ(where->instance, c.instance);
    EXPECT_EQ(where->socket, c.socket);
  }
  std::filesystem::remove_all(dir);
  EXPECT_FALSE(LocateInstance(path).ok());  // only a file that cannot be read fails
}

TEST(Config, ParsesServerSettings) {
  auto c = Parse(R"(instance: test-1
zones: [{origin: example.test., file: z}]
server:
  edns_udp_size: 4096
  nsid: ns1-fra
  version: "sextant 1.0"
  identity: ""
)");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->instance, "test-1");
  EXPECT_EQ(c->server.edns_udp_size, 4096);
  EXPECT_EQ(c->server.nsid, "ns1-fra");
  EXPECT_EQ(c->server.version, "sextant 1.0");
  EXPECT_EQ(c->server.identity, "");  // configured empty is not the same as absent
}

TEST(Config, AcceptsEdnsUdpSizesFrom512To65535) {
  for (const int size : {512, 1232, 4096, 65535}) {
    SCOPED_TRACE(size);
    auto c = Parse("zones: [{origin: a.test., file: z}]\nserver: {edns_udp_size: " +
                   std::to_string(size) + "}\n");
    ASSERT_TRUE(c.ok()) << c.status();
    EXPECT_EQ(c->server.edns_udp_size, size);
  }
}

TEST(Config, RefusesBadConfigsNamingTheProblem) {
  struct Case {
    std::string what;
    std::string yaml;
    std::vector<std::string> message;
  } cases[] = {
      {"unknown top-level key",
       "zones: [{origin: a.test., file: z}]\nzonez: []\n",
       {"sextant.yaml line 2", "unknown key 'zonez'"}},
      {"unknown server key",
       "zones: [{origin: a.test., file: z}]\nserver:\n  edns_size: 4096\n",
       {"sextant.yaml line 3", "unknown key 'server.edns_size'"}},
      {"unknown zone key",
       "zones:\n  - origin: a.test.\n    file: z\n    path: y\n",
       {"sextant.yaml line 4", "unknown key 'zones[0].path' (known: file, origin)"}},
      {"duplicate key",
       "zones: [{origin: a.test., file: z}]\nserver: {nsid: a}\nserver: {nsid: b}\n",
       {"sextant.yaml line 3: duplicate key 'server' (first at line 2)"}},
      {"edns_udp_size below 512",
       "zones: [{origin: a.test., file: z}]\nserver: {edns_udp_size: 511}\n",
       {"sextant.yaml line 2", "edns_udp_size"}},
      {"edns_udp_size above 65535",
       "zones: [{origin: a.test., file: z}]\nserver: {edns_udp_size: 65536}\n",
       {"edns_udp_size"}},
      {"edns_udp_size zero",
       "zones: [{origin: a.test., file: z}]\nserver: {edns_udp_size: 0}\n",
       {"edns_udp_size"}},
      {"edns_udp_size negative",
       "zones: [{origin: a.test., file: z}]\nserver: {edns_udp_size: -1}\n",
       {"edns_udp_size"}},
      {"edns_udp_size not a number",
       "zones: [{origin: a.test., file: z}]\nserver: {edns_udp_size: big}\n",
       {"edns_udp_size"}},
      {"edns_udp_size a list",
       "zones: [{origin: a.test., file: z}]\nserver: {edns_udp_size: [1]}\n",
       {"edns_udp_size"}},
      {"duplicate zone",
       "zones:\n  - {origin: a.test., file: x}\n  - {origin: a.test., file: y}\n",
       {"sextant.yaml line 3: zones[1].origin: zone a.test. is listed twice (first at line 2)"}},
      {"duplicate zone, other case and no dot",
       "zones:\n  - {origin: a.test., file: x}\n  - {origin: A.Test, file: y}\n",
       {"listed twice"}},
      {"empty", "", {"sextant.yaml", "empty"}},
      {"only a comment", "# nothing here\n", {"empty"}},
      {"no zones", "server: {nsid: x}\n", {"zones"}},
      {"empty zone list", "zones: []\n", {"zones"}},
      {"zone without file", "zones: [{origin: a.test.}]\n", {"file"}},
      {"zones not a list", "zones: a.test.\n", {"zones"}},
      {"not a mapping", "- a\n- b\n", {"mapping"}},
      {"YAML syntax error",
       "zones:\n  - origin: a.test.\n    file: [unclosed\n",
       {"sextant.yaml line ", "YAML"}},
      {"bad indentation", "zones:\n  - origin: a.test.\n   file: z\n", {"sextant.yaml line 3"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    auto cfg = Parse(c.yaml);
    ASSERT_FALSE(cfg.ok());
    EXPECT_EQ(cfg.status().code(), absl::StatusCode::kInvalidArgument);
    for (const std::string& part : c.message) {
      EXPECT_THAT(std::string(cfg.status().message()), HasSubstr(part));
    }
  }
}

TEST(Config, SaysWhatMustBeAMapping) {
  // The top level is a list here. The message should name what has to be a mapping; today the
  // subject is empty ("sextant.yaml line 1:  must be a mapping").
  auto cfg = Parse("- a\n- b\n");
  ASSERT_FALSE(cfg.ok());
  EXPECT_THAT(std::string(cfg.status().message()), HasSubstr("must be a mapping"));
  EXPECT_THAT(std::string(cfg.status().message()), ::testing::Not(HasSubstr(":  must be")));
}

}  // namespace
}  // namespace sextant::control

namespace sextant::control {
namespace {

TEST(ControlSection, DefaultsFollowTheInstanceName) {
  auto c = ParseConfig("instance: edge1\nzones: [{origin: a.test., file: z}]\n",
                       "/etc/sextant/sextant.yaml", "/etc/sextant");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->control.socket, "/run/sextant/edge1.sock");
  EXPECT_EQ(c->control.state_file, "/var/lib/sextant/edge1.state");
  EXPECT_EQ(c->control.socket_mode, 0600u);
  EXPECT_EQ(c->control.reload_delay_ms, 200u);
}

TEST(ControlSection, ParsesTheMetricsAddress) {
  for (const auto& [text, host, port] :
       {std::tuple{"127.0.0.1:9153", "127.0.0.1", 9153}, std::tuple{"\"[::1]:9100\"", "::1", 9100},
        std::tuple{"198.18.0.2:0", "198.18.0.2", 0}}) {
    auto c = ParseConfig(
        absl::StrCat("zones: [{origin: a.test., file: z}]\ncontrol: {metrics: ", text, "}\n"),
        "/etc/sextant/sextant.yaml", "/etc/sextant");
    ASSERT_TRUE(c.ok()) << text << ": " << c.status();
    EXPECT_EQ(c->control.metrics_host, host);
    EXPECT_EQ(c->control.metrics_port, port);
  }
}

TEST(ControlSection, ParsesPathsModeAndDelay) {
  auto c = ParseConfig(
      "zones: [{origin: a.test., file: z}]\n"
      "control: {socket: run/ctl.sock, socket_mode: \"0660\", state_file: /var/x.state, "
      "reload_delay: 1.5s}\n",
      "/etc/sextant/sextant.yaml", "/etc/sextant");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->control.socket, "/etc/sextant/run/ctl.sock");
  EXPECT_EQ(c->control.socket_mode, 0660u);
  EXPECT_EQ(c->control.state_file, "/var/x.state");
  EXPECT_EQ(c->control.reload_delay_ms, 1500u);
  EXPECT_EQ(c->control.metrics_port, -1);  // off unless configured
  const std::vector<std::string> files = ConfigInputFiles(*c);
  ASSERT_GE(files.size(), 2u);
  EXPECT_EQ(files[0], "/etc/sextant/sextant.yaml");
  EXPECT_EQ(files[1], "/etc/sextant/z");
}

TEST(ControlSection, RefusesBadValues) {
  struct Row {
    const char* yaml;
    const char* message;
  } rows[] = {
      {"control: {socket_mode: \"0999\"}", "control.socket_mode must be octal"},
      {"control: {reload_delay: soon}", "control.reload_delay must be a duration"},
      {"control: {reload_delay: 2m}", "control.reload_delay must be a duration <= 60s"},
      {"control: {reload_delay: 10x}", "a bare number is seconds), not '10x'"},
      {"control: {metrics: localhost:9153}", "control.metrics must be ADDRESS:PORT"},
      {"control: {metrics: 127.0.0.1}", "control.metrics must be ADDRESS:PORT"},
      {"control: {metrics: \"127.0.0.1:70000\"}", "control.metrics must be ADDRESS:PORT"},
      {"control: {sockets: /x}", "unknown key 'control.sockets'"},
      {"control: {socket: \"\"}", "control.socket is empty"},
  };
  for (const Row& r : rows) {
    auto c = ParseConfig(std::string("zones: [{origin: a.test., file: z}]\n") + r.yaml + "\n",
                         "/etc/sextant/sextant.yaml", "/etc/sextant");
    ASSERT_FALSE(c.ok()) << r.yaml;
    EXPECT_THAT(std::string(c.status().message()), ::testing::HasSubstr(r.message)) << r.yaml;
  }
}

// The dataplane: section sextant-control publishes for the DPDK dataplane (which reads no file).
TEST(DataplaneSection, ParsesAddressesPortsAndTheExceptionPath) {
  auto c = Parse(
      "zones: [{origin: a.test., file: z}]\n"
      "dataplane: {addresses: [198.18.0.2/24, \"2001:db8:18::2\", {address: 198.18.5.2, vlan: "
      "5}], port: 1, tx_port: 2, queues: 4, mtu: 9000, dns_port: 5353, exception_path: false, "
      "exception_interface: sx-exc_0}\n");
  ASSERT_TRUE(c.ok()) << c.status();
  const DataplaneConfig& d = c->dataplane;
  EXPECT_TRUE(d.present);
  ASSERT_EQ(d.addresses.size(), 3u);
  EXPECT_EQ(d.addresses[0].prefix, 24);
  EXPECT_EQ(d.addresses[1].family, 6);
  EXPECT_EQ(d.addresses[1].prefix, 64);
  EXPECT_EQ(d.addresses[2].vlan, 5);
  EXPECT_EQ(d.port, 1);
  EXPECT_EQ(d.tx_port, 2);
  EXPECT_EQ(d.queues, 4);
  EXPECT_EQ(d.mtu, 9000);
  EXPECT_EQ(d.dns_port, 5353);
  EXPECT_FALSE(d.exception_path);
  EXPECT_EQ(d.exception_interface, "sx-exc_0");
  EXPECT_FALSE(Parse("zones: [{origin: a.test., file: z}]\n")->dataplane.present);
}

TEST(DataplaneSection, RefusesWhatTheDataplaneCouldNotUse) {
  struct Row {
    const char* yaml;
    const char* message;
  } rows[] = {
      {"dataplane: {addresses: []}", "'dataplane.addresses' must be a non-empty list"},
      {"dataplane: {addresses: [198.18.0.2], mtu: 500}", "dataplane.mtu"},
      {"dataplane: {addresses: [198.18.0.2], exception_interface: abcdefghijk}",
       "must be 1-10 characters"},
      // The name reaches the kernel's network configuration: letters, digits, _ and - only.
      {"dataplane: {addresses: [198.18.0.2], exception_interface: \"x;reboot\"}",
       "A-Z, a-z, 0-9, _ and -"},
      {"dataplane: {addresses: [198.18.0.2], exception_interface: \"a b\"}",
       "A-Z, a-z, 0-9, _ and -"},
  };
  for (const Row& r : rows) {
    auto c = Parse(std::string("zones: [{origin: a.test., file: z}]\n") + r.yaml + "\n");
    ASSERT_FALSE(c.ok()) << r.yaml;
    EXPECT_THAT(std::string(c.status().message()), HasSubstr(r.message)) << r.yaml;
  }
}

TEST(Durations, OneGrammar) {
  EXPECT_EQ(*ParseDurationMs("250ms"), 250u);
  EXPECT_EQ(*ParseDurationMs("2s"), 2000u);
  EXPECT_EQ(*ParseDurationMs("5m"), 300000u);
  EXPECT_EQ(*ParseDurationMs("1h"), 3600000u);
  EXPECT_EQ(*ParseDurationMs("3"), 3000u);
  EXPECT_FALSE(ParseDurationMs("").ok());
  EXPECT_FALSE(ParseDurationMs("-1s").ok());
  EXPECT_FALSE(ParseDurationMs("1 fortnight").ok());
}

}  // namespace
}  // namespace sextant::control
