// The YAML configuration (yaml-cpp). The minimal form, which must keep working as the schema
// grows:
//
//   zones:
//     - origin: example.test.
//       file: example.test.zone   # relative to the config file
//
// Every other key is optional; unknown keys are refused with the key's path, so that a typo
// never silently changes behaviour. See README.md "Configuration" for the full reference.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "control/config/fleet_config.h"
#include "control/config/rate_limit_config.h"
#include "control/config/resource_config.h"
#include "control/geo/geo_config.h"
#include "maps/log.h"
#include "maps/snapshot_format.h"

namespace sextant::control {

struct ZoneConfig {
  std::string origin;  // as written
  std::string file;    // resolved against the config file's directory
};

struct ServerConfig {
  uint16_t edns_udp_size = 1232;        // DNS Flag Day 2020
  std::string nsid;                     // RFC 5001; empty = not answered
  std::optional<std::string> version;   // CH TXT version.bind / version.server
  std::optional<std::string> identity;  // CH TXT id.server / hostname.bind
};

// One address the DPDK dataplane answers for (ARP/ND, ICMP echo, DNS), with the prefix the
// kernel side of the exception path gets and an optional 802.1Q VLAN id.
struct DataplaneAddress {
  std::string text;  // as written
  int family = 4;
  uint8_t addr[16] = {};
  int prefix = 24;    // default /24 (IPv4) or /64 (IPv6)
  uint16_t vlan = 0;  // 0 = untagged
};

// The `dataplane:` section, read by sextant-dataplane in DPDK mode. Minimal form:
//   dataplane: {addresses: [198.18.0.2, "2001:db8:18::2"]}
struct DataplaneConfig {
  bool present = false;
  std::vector<DataplaneAddress> addresses;
  uint16_t port = 0;    // DPDK port id of the data port (EAL args choose the device)
  int tx_port = -1;     // answers leave here; -1 = the data port (benchmarks: net_pcap -> net_null)
  int queues = 0;       // RX/TX queue pairs; 0 = one per worker lcore
  int mbufs = 8191;     // mbuf pool size (per pool; one pool)
  uint16_t mtu = 1500;  // replies never exceed it
  uint16_t dns_port = 53;
  bool exception_path = true;                  // TCP/53 & co. via a tap to the kernel
  std::string exception_interface = "sxexc0";  // the tap's kernel name (<= 15 chars)
};

// The `dnstap:` section: query logging by the dataplane (dataplane/dnstap/). Minimal form:
//   dnstap: {file: /var/log/sextant/queries.dnstap}
struct DnstapConfig {
  bool present = false;
  uint32_t sample = 1;         // 1 in `sample` queries (and their responses); "all" = 1
  std::string path;            // absolute: the file or the Unix socket
  bool to_socket = false;      // `socket:` rather than `file:`
  std::string identity;        // dnstap identity; empty: none sent
  std::string version;         // dnstap version; empty: none sent
  uint32_t ring_slots = 1024;  // per serving thread (lcore), a power of two
};

// The `tcp:` section: abuse limits of DNS over TCP, on the kernel listener and the DPDK
// exception path alike (maps::TcpSettings says what each means). The dataplane applies them from
// the snapshot that carries them, without a restart. Example:
//   tcp: {max_connections: 1024, max_connections_per_client: 64, idle_timeout: 10s,
//         query_timeout: 2s, max_queries_per_connection: 0}
struct TcpConfig {
  bool present = false;
  uint32_t max_connections = maps::kDefaultTcpMaxConnections;
  uint32_t max_per_client = maps::kDefaultTcpMaxPerClient;  // 0 = no per-client limit
  uint32_t idle_timeout_ms = maps::kDefaultTcpIdleTimeoutMs;
  uint32_t query_timeout_ms = maps::kDefaultTcpQueryTimeoutMs;  // 0 = off
  uint32_t max_queries = 0;                                     // 0 = unlimited
};

// The `cookies:` section: DNS Cookies (RFC 7873, server cookies per RFC 9018). The dataplane
// answers every COOKIE option with a server cookie made with a secret control rotates.
//   cookies: {enabled: true, require: false, rotate: 24h}
struct CookiesConfig {
  bool enabled = true;
  // BADCOOKIE to a UDP query that has a client cookie but no valid server cookie (RFC 7873
  // section 5.2.3); queries without any cookie are answered as ever.
  bool require = false;
  // How often control makes a new secret. A server cookie stays valid for one rotation after the
  // one that made it, and at most an hour (RFC 9018), so under an hour shortens its life.
  uint32_t rotate_ms = 24 * 3600 * 1000;
};

// The `control:` section, read by the sextant-control daemon and by sextantctl (socket path).
//   control: {socket: /run/sextant/sextant.sock, socket_mode: "0600",
//             state_file: /var/lib/sextant/sextant.state, reload_delay: 200ms}
struct ControlConfig {
  std::string socket;  // default /run/sextant/<instance>.sock
  uint32_t socket_mode = 0600;
  std::string state_file;          // default /var/lib/sextant/<instance>.state
  uint32_t reload_delay_ms = 200;  // debounce: quiet time after the last file change
  // Prometheus /metrics over HTTP (control/daemon/metrics.h): "ADDRESS:PORT" ("[v6]:PORT" for
  // IPv6), an IP literal; empty = off. Port 0 picks a free port (tests).
  std::string metrics_host;
  int metrics_port = -1;  // -1 = off
};

struct Config {
  std::string path;                  // the file this came from
  std::string instance = "sextant";  // names the /dev/shm files
  std::vector<ZoneConfig> zones;
  ServerConfig server;
  DataplaneConfig dataplane;
  DnstapConfig dnstap;
  TcpConfig tcp;
  RateLimitConfig rate_limit;  // `rate_limit:` (rate_limit_config.h); on by default
  CookiesConfig cookies;
  PolicyConfig policies;                         // targets, resources, records
  std::vector<control::Datacenter> datacenters;  // `datacenters`, in config order
  std::vector<control::GeoMapConfig> geo_maps;   // `datacenters` + `geo_maps` (geo_map_config.h)
  ControlConfig control;
  FleetConfig fleet;  // `fleet:` (fleet_config.h); present = false without it
  // `log: {level: ...}`: the least severe level control logs (maps/log.h). A reload applies it.
  maps::LogLevel log_level = maps::LogLevel::kInfo;
  // What is accepted but probably not meant ("FILE line N: PATH: why"): `--check` prints them,
  // the daemon logs them with each load.
  std::vector<std::string> warnings;
};

// Parses "250ms", "2s", "5m", "1h" (a bare number is seconds). For config and sextantctl.
absl::StatusOr<uint64_t> ParseDurationMs(const std::string& text);

// Every file this config reads besides zone $INCLUDEs (which only the zone loader knows): the
// config itself, zone files, health feed files, and any other input a section names. The
// daemon watches these for changes; a new kind of input file belongs here.
std::vector<std::string> ConfigInputFiles(const Config& config);

// What the files the configuration names besides zones and geo inputs (which their loaders read)
// must allow: a check's `ca_file` readable, a feed command that starts with an absolute path
// executable. Either failing would fail every probe or run quietly. Refusals give the key path,
// the line, the path and the errno text. Kept out of parsing, which never touches the disk.
absl::Status CheckInputFiles(const Config& config);

absl::StatusOr<Config> LoadConfig(const std::string& path);

// Where sextantctl finds a running instance, read leniently from a config file that may not load
// (a broken config is exactly when an operator asks `status`): only `instance` and
// `control.socket`, nothing validated. A file that is not YAML at all still gives a top-level
// `instance: NAME` line. Fails only when the file cannot be read.
struct InstanceLocation {
  std::string instance;  // empty: the file names none
  std::string socket;    // absolute; empty: the file names none
};
absl::StatusOr<InstanceLocation> LocateInstance(const std::string& path);
absl::StatusOr<Config> ParseConfig(const std::string& yaml_text,
                                   const std::string& path_for_messages,
                                   const std::string& base_dir);

}  // namespace sextant::control
