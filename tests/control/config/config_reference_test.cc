// sextant.yaml(5) (docs/man/sextant.yaml.5) documents every key the configuration loader
// accepts. Every YamlReader::Keys call reports the keys it accepts at its path; a configuration
// that uses every section (every check type, feed kind, resource form) is parsed; each accepted
// key, its path normalised the way the page writes it, must have an entry `.It Sy PATH` there.
// So that a new section cannot slip past this file, every Keys call site in control/config must
// have been reached; and the page documents no key that does not exist.
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "control/config/config.h"
#include "control/config/yaml_reader.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sextant::control {
namespace {

// Every section, every check type, both feed kinds, every resource form: a key added to any
// Keys() list is seen here.
constexpr char kEverySection[] = R"(
instance: ref
zones:
  - {origin: ref.test., file: ref.test.zone}
server: {edns_udp_size: 1232, nsid: n1, version: v, identity: i}
dataplane:
  addresses: [198.18.0.2, {address: 198.18.5.2/24, vlan: 5}]
  port: 0
  tx_port: -1
  queues: 0
  mbufs: 8191
  mtu: 1500
  dns_port: 53
  exception_path: true
  exception_interface: sxexc0
dnstap: {file: queries.dnstap, sample: 1000, identity: ns1, version: v, ring: 1024}
tcp: {max_connections: 1024, max_connections_per_client: 64, idle_timeout: 10s,
      query_timeout: 2s, max_queries_per_connection: 0}
rate_limit:
  enabled: true
  responses_per_second: {answers: 1000, nxdomain: 200, nodata: 1000, errors: 100}
  window: 2
  slip: 2
  ipv4_prefix: 24
  ipv6_prefix: 56
  exempt: [192.0.2.0/24, "2001:db8::/32"]
  table_size: 65536
cookies: {enabled: true, require: false, rotate: 24h}
datacenters:
  ams: {latitude: 52.37, longitude: 4.9}
  nyc: {latitude: 40.71, longitude: -74.01}
targets:
  t0: {quorum: any}
  t1: {initial: up, datacenter: ams, check: {type: none}}
  t2: {datacenter: nyc, check: {type: tcp, address: 198.18.1.2, port: 443, interval: 1s,
       timeout: 500ms, rise: 2, fall: 3, source: 198.18.1.1}}
  t3: {datacenter: ams, check: {type: http, address: 198.18.1.3, method: GET, path: /h,
       host: h.test, expect_status: [200], body_contains: OK}}
  t4: {datacenter: ams, check: {type: https, address: 198.18.1.4, verify: true,
       ca_file: /etc/ssl/ca.pem}}
  t5: {datacenter: nyc, check: {type: dns, address: 198.18.1.5, query: h.test., qtype: A,
       expect_rcode: NOERROR, expect_answer: 198.18.1.1}}
health_feeds:
  - {file: /var/lib/sextant/feed.txt}
  - {command: /bin/true, interval: 5s, timeout: 1s}
geo_maps:
  near: {database: city.mmdb, mode: nearest, max: 2, default: [ams], nets: nets.txt,
         latency: latency.csv}
  ruled:
    database: country.mmdb
    mode: rules
    rules: {continent: {EU: [ams]}, country: {US: [nyc]}, subdivision: {US-NY: [nyc]}}
resources:
  pool:
    kind: weighted
    count: 1
    ttl: 60
    ttl_when_down: 10
    all_down: fallback
    fallback: [198.18.9.9]
    members:
      - 198.18.2.1
      - {address: 198.18.2.2, target: t1, weight: 2}
      - {resource: other}
  other: {kind: static, order: cyclic, members: [198.18.2.3]}
  alias: {kind: failover, members: [{cname: a.ref.test.}]}
  www:
    kind: geo
    map: near
    ecs: use
    ttl: 60
    ttl_when_down: 5
    all_down: first
    datacenters:
      ams: {resource: pool}
      nyc: {kind: failover, members: [{address: 198.18.3.1, target: t2}]}
records:
  - {name: www.ref.test., type: A, resource: www}
  - {name: api.ref.test., type: A, kind: multivalue, count: 2, members: [198.18.4.1]}
control:
  socket: /run/sextant/ref.sock
  socket_mode: "0660"
  state_file: /var/lib/sextant/ref.state
  reload_delay: 200ms
  metrics: 127.0.0.1:9153
log: {level: info}
fleet:
  endpoints: [http://127.0.0.1:2379, https://198.18.7.2:2379]
  prefix: /sextant/
  node: fra-1
  site: fra
  lease_ttl: 10s
  timeout: 2s
  poll: 500ms
  grace: 15s
  quorum: majority
  ca_file: /etc/sextant/etcd-ca.pem
  cert_file: /etc/sextant/etcd.pem
  key_file: /etc/sextant/etcd.key
  distribute: true
  bundle_dir: /var/lib/sextant/ref.bundle
)";

// The page's way of writing a path: list indexes as [], the operator's names as *, an inline
// site or record resource as the resource it is.
std::string Normalise(const std::string& path) {
  static const std::set<std::string> kNamed = {"targets", "resources", "datacenters", "geo_maps",
                                               "resources.*.datacenters"};
  std::string out;
  bool next_is_name = false;
  for (absl::string_view piece : absl::StrSplit(path, '.')) {
    std::string part = std::regex_replace(std::string(piece), std::regex(R"(\[\d+\])"), "[]");
    if (next_is_name) part = "*";
    out = out.empty() ? part : absl::StrCat(out, ".", part);
    next_is_name = kNamed.count(out) > 0;
  }
  if (out.rfind("resources.*.datacenters.*", 0) == 0) {
    out = absl::StrCat("resources.*", out.substr(std::string("resources.*.datacenters.*").size()));
  }
  return out;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::set<std::string> DocumentedKeys() {
  std::set<std::string> keys;
  std::istringstream page(ReadFile(SEXTANT_SOURCE_DIR "/docs/man/sextant.yaml.5"));
  std::string line;
  while (std::getline(page, line)) {
    if (line.rfind(".It Sy ", 0) == 0) keys.insert(line.substr(7));
  }
  return keys;
}

// "file.cc:LINE" of every `.Keys(` in control/config's sources.
std::set<std::string> KeysCallSites() {
  std::set<std::string> sites;
  for (const char* file : {"config.cc", "geo_map_config.cc", "health_check.cc",
                           "rate_limit_config.cc", "resource_config.cc"}) {
    std::istringstream src(ReadFile(absl::StrCat(SEXTANT_SOURCE_DIR "/control/config/", file)));
    std::string line;
    for (int n = 1; std::getline(src, line); ++n) {
      if (line.find(".Keys(") != std::string::npos) sites.insert(absl::StrCat(file, ":", n));
    }
  }
  return sites;
}

class ConfigReference : public ::testing::Test {
 protected:
  void SetUp() override {
    YamlReader::SetKeysObserver([this](const std::string& path, const std::set<std::string>& known,
                                       const char* where, int line) {
      std::string file = where;
      file = file.substr(file.rfind('/') + 1);
      sites_.insert(absl::StrCat(file, ":", line));
      const std::string at = Normalise(path);
      for (const std::string& k : known) {
        // A record's inline resource: its keys are a resource's, documented there.
        const bool record_own = k == "name" || k == "type" || k == "resource";
        const std::string base = at == "records[]" && !record_own ? "resources.*" : at;
        accepted_.insert(base.empty() ? k : absl::StrCat(base, ".", k));
      }
    });
    absl::StatusOr<Config> c = ParseConfig(kEverySection, "every.yaml", "/etc/sextant");
    YamlReader::SetKeysObserver(nullptr);
    ASSERT_TRUE(c.ok()) << c.status();
  }

  std::set<std::string> accepted_;
  std::set<std::string> sites_;
};

TEST_F(ConfigReference, EveryKeysCallSiteIsReached) {
  EXPECT_EQ(sites_, KeysCallSites())
      << "a section kEverySection does not use: add it, so that its keys are checked";
}

TEST_F(ConfigReference, EveryAcceptedKeyIsDocumented) {
  const std::set<std::string> documented = DocumentedKeys();
  ASSERT_GT(documented.size(), 50u) << "docs/man/sextant.yaml.5 not found or not parsed";
  for (const std::string& k : accepted_) {
    EXPECT_TRUE(documented.count(k))
        << "the loader accepts '" << k << "', which docs/man/sextant.yaml.5 does not document";
  }
}

TEST_F(ConfigReference, EveryDocumentedKeyExists) {
  // Read without a Keys() list of their own: list and mapping containers, and a geo site's
  // {resource: NAME} (a one-key mapping checked by shape).
  const std::set<std::string> containers = {"health_feeds",
                                            "records",
                                            "datacenters",
                                            "targets.*",
                                            "resources.*",
                                            "geo_maps.*",
                                            "resources.*.datacenters.*.resource"};
  for (const std::string& k : DocumentedKeys()) {
    EXPECT_TRUE(accepted_.count(k) || containers.count(k))
        << "docs/man/sextant.yaml.5 documents '" << k << "', which the loader does not accept";
  }
}

TEST(ConfigReferenceNormalise, WritesPathsAsThePageDoes) {
  EXPECT_EQ(Normalise("targets.web1.check"), "targets.*.check");
  EXPECT_EQ(Normalise("zones[3]"), "zones[]");
  EXPECT_EQ(Normalise("resources.app.datacenters.ams.members[0]"), "resources.*.members[]");
  EXPECT_EQ(Normalise("geo_maps.world.rules"), "geo_maps.*.rules");
  EXPECT_EQ(Normalise(""), "");
}

}  // namespace
}  // namespace sextant::control
