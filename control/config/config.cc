#include "control/config/config.h"

#include <arpa/inet.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iterator>
#include <map>
#include <set>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "control/config/datacenter_labels.h"
#include "control/config/enum_names.h"
#include "control/config/geo_map_config.h"
#include "control/config/yaml_reader.h"
#include "control/util/file_text.h"
#include "maps/status_macros.h"

namespace sextant::control {
namespace {

constexpr size_t kMaxDataplaneAddresses = 32;

const std::set<std::string> kTopKeys = {
    "instance", "zones",   "server",       "dataplane",   "targets",  "resources",
    "records",  "control", "health_feeds", "datacenters", "geo_maps", "log",
    "dnstap",   "fleet",   "tcp",          "rate_limit",  "cookies"};

// Absolute, so that messages name the file wherever the reader stands, and the daemon and
// `sextantctl explain` (other working directories) open the same one.
std::string ResolveAgainst(const std::string& base_dir, const std::string& file) {
  std::filesystem::path p(file);
  if (p.is_relative()) p = std::filesystem::path(base_dir) / p;
  std::error_code ec;
  const std::filesystem::path abs = std::filesystem::absolute(p, ec);
  return (ec ? p : abs).lexically_normal().string();
}

absl::Status ReadInstance(const YamlReader& top, std::string* instance) {
  SX_RETURN_IF_ERROR(top.Str("instance", instance));
  // It names files in /dev/shm.
  if (instance->empty() || instance->find('/') != std::string::npos || instance->size() > 64) {
    return top.ErrorAt("instance", "instance must be 1-64 characters without '/'");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<ZoneConfig>> ReadZones(const YamlReader& top,
                                                  const std::string& base_dir) {
  SX_ASSIGN_OR_RETURN(const std::vector<YamlReader> items,
                      top.Items("zones", true, "of {origin, file}"));
  std::vector<ZoneConfig> zones;
  std::map<std::string, int> seen;  // lowered origin -> line
  for (const YamlReader& z : items) {
    SX_RETURN_IF_ERROR(z.Keys({"origin", "file"}));
    if (!z.Has("origin") || !z.Has("file")) return z.Error("each zone needs 'origin' and 'file'");
    ZoneConfig zc;
    SX_RETURN_IF_ERROR(z.Str("origin", &zc.origin));
    SX_RETURN_IF_ERROR(z.Str("file", &zc.file));
    if (!zc.origin.empty() && zc.origin.back() != '.') zc.origin += '.';
    std::string lowered = zc.origin;
    for (char& c : lowered) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (const auto [it, fresh] = seen.emplace(lowered, z.LineOf("origin")); !fresh) {
      return z.ErrorAt("origin", absl::StrCat(z.KeyName("origin"), ": zone ", zc.origin,
                                              " is listed twice (first at line ", it->second, ")"));
    }
    zc.file = ResolveAgainst(base_dir, zc.file);
    zones.push_back(std::move(zc));
  }
  return zones;
}

absl::Status ReadServer(const YamlReader& s, ServerConfig* server) {
  SX_RETURN_IF_ERROR(s.Keys({"edns_udp_size", "nsid", "version", "identity"}));
  SX_RETURN_IF_ERROR(s.Int("edns_udp_size", 512, 65535, &server->edns_udp_size));
  SX_RETURN_IF_ERROR(s.Str("nsid", &server->nsid));
  if (server->nsid.size() > 128) return s.ErrorAt("nsid", "server.nsid is over 128 bytes");
  for (const auto& [key, dest] :
       {std::pair{"version", &server->version}, std::pair{"identity", &server->identity}}) {
    if (!s.Has(key)) continue;
    std::string v;
    SX_RETURN_IF_ERROR(s.Str(key, &v));
    if (v.size() > 255) return s.ErrorAt(key, absl::StrCat(s.KeyName(key), " is over 255 bytes"));
    *dest = v;
  }
  return absl::OkStatus();
}

// "198.18.0.2", "2001:db8::2/48", or {address: 198.18.0.2/24, vlan: 100}.
absl::StatusOr<DataplaneAddress> ReadDataplaneAddress(const YamlReader& r) {
  DataplaneAddress a;
  std::string text;
  if (r.node().IsMap()) {
    SX_RETURN_IF_ERROR(r.Keys({"address", "vlan"}));
    SX_RETURN_IF_ERROR(r.Require("address"));
    SX_RETURN_IF_ERROR(r.Str("address", &text));
    SX_RETURN_IF_ERROR(r.Int("vlan", 1, 4094, &a.vlan));
  } else {
    SX_RETURN_IF_ERROR(r.Str("", &text));
  }
  a.text = text;
  const size_t slash = text.find('/');
  const std::optional<IpLiteral> ip = ParseIpLiteral(text.substr(0, slash));
  if (!ip) {
    return r.ErrorAt("",
                     absl::StrCat(r.KeyName(""), " '", text, "' is not an IPv4 or IPv6 address"));
  }
  std::copy(std::begin(ip->bytes), std::end(ip->bytes), a.addr);
  a.family = ip->family == AF_INET ? 4 : 6;
  a.prefix = a.family == 4 ? 24 : 64;
  if (slash != std::string::npos) {
    int p = -1;
    if (!absl::SimpleAtoi(text.substr(slash + 1), &p) || p < 1 || p > (a.family == 4 ? 32 : 128)) {
      return r.ErrorAt("", absl::StrCat(r.KeyName(""), " '", text,
                                        "' has a bad prefix length (IPv4 1..32, IPv6 1..128)"));
    }
    a.prefix = p;
  }
  return a;
}

absl::StatusOr<DataplaneConfig> ReadDataplane(const YamlReader& d) {
  DataplaneConfig dc;
  dc.present = true;
  SX_RETURN_IF_ERROR(d.Keys({"addresses", "port", "tx_port", "queues", "mbufs", "mtu", "dns_port",
                             "exception_path", "exception_interface"}));
  SX_ASSIGN_OR_RETURN(const std::vector<YamlReader> addresses, d.Items("addresses", true));
  for (const YamlReader& item : addresses) {
    SX_ASSIGN_OR_RETURN(DataplaneAddress a, ReadDataplaneAddress(item));
    dc.addresses.push_back(a);
  }
  if (dc.addresses.size() > kMaxDataplaneAddresses) {
    return d.ErrorAt("addresses",
                     absl::StrCat("at most ", kMaxDataplaneAddresses, " dataplane addresses"));
  }
  SX_RETURN_IF_ERROR(d.Int("port", 0, 1023, &dc.port));
  SX_RETURN_IF_ERROR(d.Int("tx_port", -1, 1023, &dc.tx_port));
  SX_RETURN_IF_ERROR(d.Int("queues", 0, 64, &dc.queues));
  SX_RETURN_IF_ERROR(d.Int("mbufs", 1023, 1 << 22, &dc.mbufs));
  SX_RETURN_IF_ERROR(d.Int("mtu", 576, 9000, &dc.mtu));
  SX_RETURN_IF_ERROR(d.Int("dns_port", 1, 65535, &dc.dns_port));
  SX_RETURN_IF_ERROR(d.Bool("exception_path", &dc.exception_path));
  SX_RETURN_IF_ERROR(d.Str("exception_interface", &dc.exception_interface));
  // The snapshot reader holds the name to what it can safely hand to the kernel
  // (maps/snapshot_format.h DataplaneSettings): refuse here what it would refuse there.
  const bool charset_ok =
      std::all_of(dc.exception_interface.begin(), dc.exception_interface.end(),
                  [](char ch) { return absl::ascii_isalnum(ch) || ch == '_' || ch == '-'; });
  if (dc.exception_interface.empty() || dc.exception_interface.size() > 10 || !charset_ok) {
    return d.ErrorAt("exception_interface",
                     "dataplane.exception_interface must be 1-10 characters of A-Z, a-z, 0-9, _ "
                     "and - (VLAN sub-interfaces append .<id>)");
  }
  return dc;
}

// `sample`: a number of queries (1 in N) or "all".
absl::Status ReadDnstapSample(const YamlReader& d, uint32_t* sample) {
  if (!d.Has("sample")) return absl::OkStatus();
  std::string text;
  SX_RETURN_IF_ERROR(d.Str("sample", &text));
  if (text == "all") {
    *sample = 1;
    return absl::OkStatus();
  }
  return d.Int("sample", 1, 1000000000, sample, "a number of queries in 1..1000000000 or \"all\"");
}

absl::StatusOr<DnstapConfig> ReadDnstap(const YamlReader& d, const std::string& base_dir) {
  DnstapConfig dc;
  dc.present = true;
  SX_RETURN_IF_ERROR(d.Keys({"file", "socket", "sample", "identity", "version", "ring"}));
  if (d.Has("file") == d.Has("socket")) {
    return d.ErrorAt("",
                     "dnstap needs one of file: (a dnstap file) or socket: (a Unix socket "
                     "a collector such as fstrm_capture listens on)");
  }
  dc.to_socket = d.Has("socket");
  const char* key = dc.to_socket ? "socket" : "file";
  SX_RETURN_IF_ERROR(d.Str(key, &dc.path));
  if (dc.path.empty() || dc.path.find('\0') != std::string::npos) {
    return d.ErrorAt(key, absl::StrCat(d.KeyName(key), " is empty"));
  }
  dc.path = ResolveAgainst(base_dir, dc.path);
  if (dc.to_socket && dc.path.size() > 100) {
    return d.ErrorAt(key, "dnstap.socket path is over 100 characters");
  }
  SX_RETURN_IF_ERROR(ReadDnstapSample(d, &dc.sample));
  SX_RETURN_IF_ERROR(d.Str("identity", &dc.identity));
  SX_RETURN_IF_ERROR(d.Str("version", &dc.version));
  SX_RETURN_IF_ERROR(d.Int("ring", 2, 65536, &dc.ring_slots));
  if ((dc.ring_slots & (dc.ring_slots - 1)) != 0) {
    return d.ErrorAt("ring", "dnstap.ring must be a power of two in 2..65536");
  }
  return dc;
}

absl::StatusOr<TcpConfig> ReadTcp(const YamlReader& t) {
  TcpConfig tc;
  tc.present = true;
  SX_RETURN_IF_ERROR(t.Keys({"max_connections", "max_connections_per_client", "idle_timeout",
                             "query_timeout", "max_queries_per_connection"}));
  SX_RETURN_IF_ERROR(t.Int("max_connections", 1, maps::kMaxTcpConnections, &tc.max_connections));
  SX_RETURN_IF_ERROR(
      t.Int("max_connections_per_client", 0, maps::kMaxTcpConnections, &tc.max_per_client));
  SX_RETURN_IF_ERROR(t.Duration("idle_timeout", 100, maps::kMaxTcpTimeoutMs, &tc.idle_timeout_ms));
  SX_RETURN_IF_ERROR(t.Duration("query_timeout", 0, maps::kMaxTcpTimeoutMs, &tc.query_timeout_ms));
  SX_RETURN_IF_ERROR(t.Int("max_queries_per_connection", 0, 1000000000, &tc.max_queries));
  return tc;
}

absl::Status ReadCookies(const YamlReader& c, CookiesConfig* cookies) {
  SX_RETURN_IF_ERROR(c.Keys({"enabled", "require", "rotate"}));
  SX_RETURN_IF_ERROR(c.Bool("enabled", &cookies->enabled));
  SX_RETURN_IF_ERROR(c.Bool("require", &cookies->require));
  // 1s at least (tests rotate fast); 30 days at most: a secret should not live forever.
  SX_RETURN_IF_ERROR(c.Duration("rotate", 1000, 30u * 24 * 3600 * 1000, &cookies->rotate_ms));
  if (cookies->require && !cookies->enabled) {
    return c.ErrorAt("require", "cookies.require needs cookies.enabled: true");
  }
  return absl::OkStatus();
}

// A path under control:, resolved against the config file's directory.
absl::Status ReadControlPath(const YamlReader& c, absl::string_view key,
                             const std::string& base_dir, std::string* out) {
  if (!c.Has(key)) return absl::OkStatus();
  SX_RETURN_IF_ERROR(c.Str(key, out));
  if (out->empty()) return c.ErrorAt(key, absl::StrCat(c.KeyName(key), " is empty"));
  *out = ResolveAgainst(base_dir, *out);
  return absl::OkStatus();
}

absl::Status ReadSocketMode(const YamlReader& c, uint32_t* mode) {
  if (!c.Has("socket_mode")) return absl::OkStatus();
  std::string m;
  SX_RETURN_IF_ERROR(c.Str("socket_mode", &m));
  char* end = nullptr;
  const unsigned long v = std::strtoul(m.c_str(), &end, 8);
  if (m.empty() || *end != '\0' || v > 0777) {
    return c.ErrorAt("socket_mode", "control.socket_mode must be octal, like \"0600\"");
  }
  *mode = static_cast<uint32_t>(v);
  return absl::OkStatus();
}

// ADDRESS:PORT or [ADDRESS]:PORT, the address an IP literal.
absl::Status ReadMetrics(const YamlReader& c, ControlConfig* control) {
  if (!c.Has("metrics")) return absl::OkStatus();
  std::string m;
  SX_RETURN_IF_ERROR(c.Str("metrics", &m));
  const size_t colon = m.rfind(':');
  std::string host = colon == std::string::npos ? "" : m.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  int port = -1;
  if (!ParseIpLiteral(host) || !absl::SimpleAtoi(m.substr(colon + 1), &port) || port < 0 ||
      port > 65535) {
    return c.ErrorAt("metrics",
                     "control.metrics must be ADDRESS:PORT with an IP address, like "
                     "127.0.0.1:9153");
  }
  control->metrics_host = host;
  control->metrics_port = port;
  return absl::OkStatus();
}

absl::Status ReadControl(const YamlReader& c, const std::string& base_dir, ControlConfig* control) {
  SX_RETURN_IF_ERROR(c.Keys({"socket", "socket_mode", "state_file", "reload_delay", "metrics"}));
  SX_RETURN_IF_ERROR(ReadControlPath(c, "socket", base_dir, &control->socket));
  SX_RETURN_IF_ERROR(ReadControlPath(c, "state_file", base_dir, &control->state_file));
  // sun_path holds 108 bytes.
  if (control->socket.size() > 100) {
    return c.ErrorAt("socket", "control.socket path is over 100 characters");
  }
  SX_RETURN_IF_ERROR(ReadSocketMode(c, &control->socket_mode));
  SX_RETURN_IF_ERROR(c.Duration("reload_delay", 0, 60000, &control->reload_delay_ms));
  return ReadMetrics(c, control);
}

absl::Status ReadFleetEndpoints(const YamlReader& f, FleetConfig* fleet) {
  SX_RETURN_IF_ERROR(f.Require("endpoints"));
  SX_RETURN_IF_ERROR(f.StrList("endpoints", "an etcd URL", &fleet->endpoints));
  for (const std::string& e : fleet->endpoints) {
    if (!absl::StartsWith(e, "http://") && !absl::StartsWith(e, "https://")) {
      return f.ErrorAt("endpoints", absl::StrCat("fleet.endpoints '", e,
                                                 "' must be a URL: http://HOST:PORT or https://"));
    }
  }
  return absl::OkStatus();
}

absl::Status ReadFleetTls(const YamlReader& f, const std::string& base_dir, FleetConfig* fleet) {
  for (const auto& [key, out] :
       {std::pair{"ca_file", &fleet->ca_file}, std::pair{"cert_file", &fleet->cert_file},
        std::pair{"key_file", &fleet->key_file}}) {
    SX_RETURN_IF_ERROR(ReadControlPath(f, key, base_dir, out));
  }
  if (fleet->cert_file.empty() != fleet->key_file.empty()) {
    return f.Error("fleet.cert_file and fleet.key_file go together");
  }
  return absl::OkStatus();
}

absl::Status ReadFleet(const YamlReader& f, const std::string& base_dir, FleetConfig* fleet) {
  static const std::set<std::string> kKeys = {
      "endpoints", "prefix", "node",    "site",      "lease_ttl", "timeout",    "poll",
      "grace",     "quorum", "ca_file", "cert_file", "key_file",  "distribute", "bundle_dir"};
  SX_RETURN_IF_ERROR(f.Keys(kKeys));
  fleet->present = true;
  SX_RETURN_IF_ERROR(ReadFleetEndpoints(f, fleet));
  SX_RETURN_IF_ERROR(f.Require("node"));
  SX_RETURN_IF_ERROR(f.Str("node", &fleet->node));
  if (fleet->node.empty() || fleet->node.find('/') != std::string::npos) {
    return f.ErrorAt("node", "fleet.node must be a name without '/'");
  }
  SX_RETURN_IF_ERROR(f.Str("site", &fleet->site));
  SX_RETURN_IF_ERROR(f.Str("prefix", &fleet->prefix));
  if (fleet->prefix.empty()) return f.ErrorAt("prefix", "fleet.prefix is empty");
  if (fleet->prefix.back() != '/') fleet->prefix += '/';
  SX_RETURN_IF_ERROR(f.Duration("lease_ttl", 2000, 3600000, &fleet->lease_ttl_ms));
  SX_RETURN_IF_ERROR(f.Duration("timeout", 50, 60000, &fleet->timeout_ms));
  SX_RETURN_IF_ERROR(f.Duration("poll", 50, 60000, &fleet->poll_ms));
  SX_RETURN_IF_ERROR(f.Duration("grace", 0, 3600000, &fleet->grace_ms));
  SX_RETURN_IF_ERROR(f.Enum("quorum", &fleet->quorum));
  SX_RETURN_IF_ERROR(f.Bool("distribute", &fleet->distribute));
  SX_RETURN_IF_ERROR(ReadControlPath(f, "bundle_dir", base_dir, &fleet->bundle_dir));
  return ReadFleetTls(f, base_dir, fleet);
}

absl::StatusOr<Config> ParseNode(const YAML::Node& root, const std::string& file,
                                 const std::string& base_dir) {
  if (!root.IsDefined() || root.IsNull())
    return YamlError(file, root, "the configuration is empty");
  const YamlReader top(file, root, "");
  SX_RETURN_IF_ERROR(top.Keys(kTopKeys));
  Config cfg;
  cfg.path = file;
  SX_RETURN_IF_ERROR(ReadInstance(top, &cfg.instance));
  SX_ASSIGN_OR_RETURN(cfg.zones, ReadZones(top, base_dir));
  if (top.Has("server")) SX_RETURN_IF_ERROR(ReadServer(top.Section("server"), &cfg.server));
  if (top.Has("dataplane")) {
    SX_ASSIGN_OR_RETURN(cfg.dataplane, ReadDataplane(top.Section("dataplane")));
  }
  if (top.Has("dnstap")) {
    SX_ASSIGN_OR_RETURN(cfg.dnstap, ReadDnstap(top.Section("dnstap"), base_dir));
  }
  if (top.Has("tcp")) {
    SX_ASSIGN_OR_RETURN(cfg.tcp, ReadTcp(top.Section("tcp")));
  }
  if (top.Has("rate_limit")) {
    SX_ASSIGN_OR_RETURN(cfg.rate_limit, ReadRateLimit(top.Section("rate_limit")));
  }
  if (top.Has("cookies")) SX_RETURN_IF_ERROR(ReadCookies(top.Section("cookies"), &cfg.cookies));
  SX_RETURN_IF_ERROR(ParsePolicies(file, root, &cfg.policies));
  SX_RETURN_IF_ERROR(ParseGeoMaps(file, root, base_dir, &cfg.datacenters, &cfg.geo_maps));
  SX_RETURN_IF_ERROR(ResolveGeoResources(file, cfg.geo_maps, &cfg.policies));
  SX_RETURN_IF_ERROR(CheckTargetDatacenters(file, top.Has("datacenters"), cfg.datacenters,
                                            cfg.policies, &cfg.warnings));
  cfg.control.socket = absl::StrCat("/run/sextant/", cfg.instance, ".sock");
  cfg.control.state_file = absl::StrCat("/var/lib/sextant/", cfg.instance, ".state");
  if (top.Has("log")) {
    const YamlReader log = top.Section("log");
    SX_RETURN_IF_ERROR(log.Keys({"level"}));
    SX_RETURN_IF_ERROR(log.Enum("level", &cfg.log_level));
  }
  if (top.Has("control")) {
    SX_RETURN_IF_ERROR(ReadControl(top.Section("control"), base_dir, &cfg.control));
  }
  cfg.fleet.bundle_dir = absl::StrCat("/var/lib/sextant/", cfg.instance, ".bundle");
  if (top.Has("fleet")) SX_RETURN_IF_ERROR(ReadFleet(top.Section("fleet"), base_dir, &cfg.fleet));
  return cfg;
}

}  // namespace

absl::StatusOr<Config> ParseConfig(const std::string& yaml_text, const std::string& file,
                                   const std::string& base_dir) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(file, " line ", e.mark.line + 1, ": YAML syntax error: ", e.msg));
  }
  try {
    SX_RETURN_IF_ERROR(RefuseDuplicateKeys(file, root));
    return ParseNode(root, file, base_dir);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(file, " line ", e.mark.line + 1, ": ", e.msg));
  }
}

absl::StatusOr<uint64_t> ParseDurationMs(const std::string& text) {
  uint64_t ms = 0;
  if (ParseCheckDurationMs(text, &ms)) return ms;  // one grammar for every duration we read
  return absl::InvalidArgumentError(
      absl::StrCat("'", text, "' is not a duration (like 500ms, 2s, 5m, 1h)"));
}

std::vector<std::string> ConfigInputFiles(const Config& config) {
  std::vector<std::string> files = {config.path};
  for (const ZoneConfig& z : config.zones) files.push_back(z.file);
  for (const FeedSpec& f : config.policies.health_feeds) {
    if (f.kind == FeedSpec::Kind::kFile) files.push_back(f.file);
  }
  for (const control::GeoMapConfig& m : config.geo_maps) {
    for (const std::string* f : {&m.database_path, &m.nets_path, &m.latency_path}) {
      if (!f->empty()) files.push_back(*f);
    }
  }
  return files;
}

absl::Status CheckInputFiles(const Config& config) {
  for (const TargetConfig& t : config.policies.targets) {
    if (!t.check || t.check->ca_file.empty()) continue;
    if (access(t.check->ca_file.c_str(), R_OK) != 0) {
      const int err = errno;
      return YamlErrorAtLine(config.path, t.check->line,
                             absl::StrCat("targets.", t.name, ".check.ca_file: cannot read ",
                                          t.check->ca_file, ": ", std::strerror(err)));
    }
  }
  for (size_t i = 0; i < config.policies.health_feeds.size(); ++i) {
    const FeedSpec& f = config.policies.health_feeds[i];
    if (f.kind != FeedSpec::Kind::kCommand) continue;
    // Anything but an absolute path is for the shell to find.
    const absl::string_view command = absl::StripAsciiWhitespace(f.command);
    const std::string program(command.substr(0, command.find_first_of(" \t")));
    if (program.empty() || program[0] != '/' || access(program.c_str(), X_OK) == 0) continue;
    const int err = errno;
    return YamlErrorAtLine(config.path, f.line,
                           absl::StrCat("health_feeds[", i, "].command: cannot run ", program, ": ",
                                        std::strerror(err)));
  }
  return absl::OkStatus();
}

absl::StatusOr<Config> LoadConfig(const std::string& path) {
  const FileText file = ReadFileText(path);
  if (file.error != 0) {
    return absl::NotFoundError(
        absl::StrCat("cannot read config ", ResolveAgainst("", path), ": ", file.ErrorText()));
  }
  return ParseConfig(file.text, path, std::filesystem::path(path).parent_path().string());
}

namespace {

// `key: value` at the start of a line (a top-level key), its value unquoted; "" when absent.
std::string TopLevelScalar(const std::string& text, const std::string& key) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(key + ":", 0) != 0) continue;
    std::string v(absl::StripAsciiWhitespace(line.substr(key.size() + 1)));
    if (const size_t hash = v.find(" #"); hash != std::string::npos) {
      v = std::string(absl::StripAsciiWhitespace(v.substr(0, hash)));
    }
    if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) {
      v = v.substr(1, v.size() - 2);
    }
    return v;
  }
  return "";
}

// `key`'s scalar in mapping `map`; "" when `map` is no mapping or `key` no scalar in it.
std::string ScalarAt(const YAML::Node& map, const char* key) {
  if (!map.IsDefined() || !map.IsMap()) return "";
  const YAML::Node n = map[key];
  return n.IsDefined() && n.IsScalar() ? n.Scalar() : "";
}

}  // namespace

absl::StatusOr<InstanceLocation> LocateInstance(const std::string& path) {
  const FileText file = ReadFileText(path);
  if (file.error != 0) {
    return absl::NotFoundError(absl::StrCat("cannot read config ", ResolveAgainst("", path), ": ",
                                            std::strerror(file.error)));
  }
  InstanceLocation where;
  try {
    const YAML::Node root = YAML::Load(file.text);
    where.instance = ScalarAt(root, "instance");
    const std::string socket = root.IsMap() ? ScalarAt(root["control"], "socket") : "";
    if (!socket.empty()) {
      where.socket = ResolveAgainst(std::filesystem::path(path).parent_path().string(), socket);
    }
  } catch (const YAML::Exception&) {
    where = {TopLevelScalar(file.text, "instance"), ""};  // not YAML: the line, if any
  }
  return where;
}

}  // namespace sextant::control
