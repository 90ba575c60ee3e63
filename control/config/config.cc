#include "control/config/config.h"

#include <arpa/inet.h>
#include <yaml-cpp/yaml.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "control/config/geo_map_config.h"
#include "control/config/yaml_util.h"
#include "maps/status_macros.h"

namespace sextant::control {
namespace {

absl::Status Err(const std::string& file, const YAML::Node& n, const std::string& what) {
  return YamlError(file, n, what);
}
absl::Status CheckKeys(const std::string& file, const YAML::Node& map, const std::string& where,
                       const std::set<std::string>& known) {
  return CheckYamlKeys(file, map, where, known);
}

absl::StatusOr<std::string> Scalar(const std::string& file, const YAML::Node& n,
                                   const std::string& what) {
  if (!n.IsScalar()) return Err(file, n, absl::StrCat(what, " must be a string"));
  return n.as<std::string>();
}

absl::StatusOr<DataplaneAddress> ParseAddress(const std::string& file, const YAML::Node& n) {
  DataplaneAddress a;
  std::string text;
  if (n.IsMap()) {
    SX_RETURN_IF_ERROR(CheckKeys(file, n, "dataplane.addresses[]", {"address", "vlan"}));
    if (!n["address"]) return Err(file, n, "dataplane.addresses[] needs 'address'");
    SX_ASSIGN_OR_RETURN(text, Scalar(file, n["address"], "dataplane.addresses[].address"));
    if (n["vlan"]) {
      int v = -1;
      if (!YAML::convert<int>::decode(n["vlan"], v) || v < 1 || v > 4094) {
        return Err(file, n["vlan"], "vlan must be 1..4094");
      }
      a.vlan = static_cast<uint16_t>(v);
    }
  } else {
    SX_ASSIGN_OR_RETURN(text, Scalar(file, n, "dataplane.addresses[]"));
  }
  a.text = text;
  std::string addr = text;
  const size_t slash = text.find('/');
  if (slash != std::string::npos) addr = text.substr(0, slash);
  if (inet_pton(AF_INET, addr.c_str(), a.addr) == 1) {
    a.family = 4;
    a.prefix = 24;
  } else if (inet_pton(AF_INET6, addr.c_str(), a.addr) == 1) {
    a.family = 6;
    a.prefix = 64;
  } else {
    return Err(file, n, absl::StrCat("'", text, "' is not an IPv4 or IPv6 address"));
  }
  if (slash != std::string::npos) {
    int p = -1;
    if (!absl::SimpleAtoi(text.substr(slash + 1), &p) || p < 1 || p > (a.family == 4 ? 32 : 128)) {
      return Err(file, n, absl::StrCat("bad prefix length in '", text, "'"));
    }
    a.prefix = p;
  }
  return a;
}

absl::StatusOr<DataplaneConfig> ParseDataplane(const std::string& file, const YAML::Node& d) {
  DataplaneConfig dc;
  dc.present = true;
  SX_RETURN_IF_ERROR(CheckKeys(file, d, "dataplane",
                               {"addresses", "port", "tx_port", "queues", "mbufs", "mtu",
                                "dns_port", "exception_path", "exception_interface"}));
  const YAML::Node addrs = d["addresses"];
  if (!addrs || !addrs.IsSequence() || addrs.size() == 0) {
    return Err(file, d, "dataplane.addresses must be a non-empty list");
  }
  for (const YAML::Node& n : addrs) {
    SX_ASSIGN_OR_RETURN(DataplaneAddress a, ParseAddress(file, n));
    dc.addresses.push_back(a);
  }
  if (dc.addresses.size() > 32) return Err(file, addrs, "at most 32 dataplane addresses");
  auto int_key = [&](const char* key, int lo, int hi, int* out) -> absl::Status {
    if (!d[key]) return absl::OkStatus();
    int v = 0;
    if (!YAML::convert<int>::decode(d[key], v) || v < lo || v > hi) {
      return Err(file, d[key], absl::StrCat("dataplane.", key, " must be ", lo, "..", hi));
    }
    *out = v;
    return absl::OkStatus();
  };
  int port = 0, mtu = dc.mtu, dns_port = dc.dns_port;
  SX_RETURN_IF_ERROR(int_key("port", 0, 1023, &port));
  SX_RETURN_IF_ERROR(int_key("tx_port", -1, 1023, &dc.tx_port));
  SX_RETURN_IF_ERROR(int_key("queues", 0, 64, &dc.queues));
  SX_RETURN_IF_ERROR(int_key("mbufs", 1023, 1 << 22, &dc.mbufs));
  SX_RETURN_IF_ERROR(int_key("mtu", 576, 9000, &mtu));
  SX_RETURN_IF_ERROR(int_key("dns_port", 1, 65535, &dns_port));
  dc.port = static_cast<uint16_t>(port);
  dc.mtu = static_cast<uint16_t>(mtu);
  dc.dns_port = static_cast<uint16_t>(dns_port);
  if (d["exception_path"]) {
    bool b = true;
    if (!YAML::convert<bool>::decode(d["exception_path"], b)) {
      return Err(file, d["exception_path"], "dataplane.exception_path must be true or false");
    }
    dc.exception_path = b;
  }
  if (d["exception_interface"]) {
    SX_ASSIGN_OR_RETURN(dc.exception_interface,
                        Scalar(file, d["exception_interface"], "dataplane.exception_interface"));
    if (dc.exception_interface.empty() || dc.exception_interface.size() > 10) {
      return Err(file, d["exception_interface"],
                 "dataplane.exception_interface must be 1-10 characters (VLAN sub-interfaces "
                 "append .<id>)");
    }
  }
  return dc;
}

absl::StatusOr<Config> ParseNode(const YAML::Node& root, const std::string& file,
                                 const std::string& base_dir) {
  Config cfg;
  cfg.path = file;
  if (!root.IsDefined() || root.IsNull()) return Err(file, root, "the configuration is empty");
  SX_RETURN_IF_ERROR(CheckKeys(file, root, "",
                               {"instance", "zones", "server", "dataplane", "targets", "resources",
                                "records", "control", "health_feeds", "datacenters", "geo_maps"}));
  if (root["instance"]) {
    SX_ASSIGN_OR_RETURN(cfg.instance, Scalar(file, root["instance"], "instance"));
    if (cfg.instance.empty() || cfg.instance.find('/') != std::string::npos ||
        cfg.instance.size() > 64) {
      return Err(file, root["instance"], "instance must be 1-64 characters without '/'");
    }
  }
  const YAML::Node zones = root["zones"];
  if (!zones || !zones.IsSequence() || zones.size() == 0) {
    return Err(file, zones, "'zones' must be a non-empty list of {origin, file}");
  }
  std::set<std::string> seen;
  for (const YAML::Node& z : zones) {
    SX_RETURN_IF_ERROR(CheckKeys(file, z, "zones[]", {"origin", "file"}));
    if (!z["origin"] || !z["file"]) return Err(file, z, "each zone needs 'origin' and 'file'");
    ZoneConfig zc;
    SX_ASSIGN_OR_RETURN(zc.origin, Scalar(file, z["origin"], "zones[].origin"));
    SX_ASSIGN_OR_RETURN(zc.file, Scalar(file, z["file"], "zones[].file"));
    if (!zc.origin.empty() && zc.origin.back() != '.') zc.origin += '.';
    std::string lowered = zc.origin;
    for (char& c : lowered) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!seen.insert(lowered).second) {
      return Err(file, z["origin"], absl::StrCat("zone ", zc.origin, " is listed twice"));
    }
    std::filesystem::path p(zc.file);
    if (p.is_relative()) p = std::filesystem::path(base_dir) / p;
    zc.file = p.lexically_normal().string();
    cfg.zones.push_back(std::move(zc));
  }
  if (const YAML::Node s = root["server"]) {
    SX_RETURN_IF_ERROR(
        CheckKeys(file, s, "server", {"edns_udp_size", "nsid", "version", "identity"}));
    if (s["edns_udp_size"]) {
      int v = 0;
      if (!YAML::convert<int>::decode(s["edns_udp_size"], v) || v < 512 || v > 65535) {
        return Err(file, s["edns_udp_size"], "server.edns_udp_size must be 512..65535");
      }
      cfg.server.edns_udp_size = static_cast<uint16_t>(v);
    }
    if (s["nsid"]) {
      SX_ASSIGN_OR_RETURN(cfg.server.nsid, Scalar(file, s["nsid"], "server.nsid"));
      if (cfg.server.nsid.size() > 128)
        return Err(file, s["nsid"], "server.nsid is over 128 bytes");
    }
    for (const char* key : {"version", "identity"}) {
      if (!s[key]) continue;
      SX_ASSIGN_OR_RETURN(std::string v, Scalar(file, s[key], absl::StrCat("server.", key)));
      if (v.size() > 255)
        return Err(file, s[key], absl::StrCat("server.", key, " is over 255 bytes"));
      (std::string(key) == "version" ? cfg.server.version : cfg.server.identity) = v;
    }
  }
  if (const YAML::Node d = root["dataplane"]) {
    SX_ASSIGN_OR_RETURN(cfg.dataplane, ParseDataplane(file, d));
  }
  SX_RETURN_IF_ERROR(ParsePolicies(file, root, &cfg.policies));
  SX_RETURN_IF_ERROR(ParseGeoMaps(file, root, base_dir, &cfg.geo_maps));
  SX_RETURN_IF_ERROR(ResolveGeoResources(file, cfg.geo_maps, &cfg.policies));
  cfg.control.socket = absl::StrCat("/run/sextant/", cfg.instance, ".sock");
  cfg.control.state_file = absl::StrCat("/var/lib/sextant/", cfg.instance, ".state");
  if (const YAML::Node c = root["control"]) {
    SX_RETURN_IF_ERROR(CheckKeys(
        file, c, "control", {"socket", "socket_mode", "state_file", "reload_delay", "metrics"}));
    auto path_key = [&](const char* key, std::string* out) -> absl::Status {
      if (!c[key]) return absl::OkStatus();
      SX_ASSIGN_OR_RETURN(*out, Scalar(file, c[key], absl::StrCat("control.", key)));
      std::filesystem::path p(*out);
      if (out->empty()) return Err(file, c[key], absl::StrCat("control.", key, " is empty"));
      if (p.is_relative()) *out = (std::filesystem::path(base_dir) / p).lexically_normal().string();
      return absl::OkStatus();
    };
    SX_RETURN_IF_ERROR(path_key("socket", &cfg.control.socket));
    SX_RETURN_IF_ERROR(path_key("state_file", &cfg.control.state_file));
    if (cfg.control.socket.size() > 100) {
      return Err(file, c["socket"], "control.socket path is over 100 characters");
    }
    if (c["socket_mode"]) {
      SX_ASSIGN_OR_RETURN(std::string m, Scalar(file, c["socket_mode"], "control.socket_mode"));
      char* end = nullptr;
      unsigned long v = std::strtoul(m.c_str(), &end, 8);
      if (m.empty() || *end != '\0' || v > 0777) {
        return Err(file, c["socket_mode"], "control.socket_mode must be octal, like \"0600\"");
      }
      cfg.control.socket_mode = static_cast<uint32_t>(v);
    }
    if (c["reload_delay"]) {
      SX_ASSIGN_OR_RETURN(std::string d, Scalar(file, c["reload_delay"], "control.reload_delay"));
      auto ms = ParseDurationMs(d);
      if (!ms.ok() || *ms > 60000) {
        return Err(file, c["reload_delay"], "control.reload_delay must be a duration <= 60s");
      }
      cfg.control.reload_delay_ms = static_cast<uint32_t>(*ms);
    }
    if (c["metrics"]) {
      SX_ASSIGN_OR_RETURN(std::string m, Scalar(file, c["metrics"], "control.metrics"));
      // ADDRESS:PORT or [ADDRESS]:PORT, the address an IP literal.
      const size_t colon = m.rfind(':');
      std::string host = colon == std::string::npos ? "" : m.substr(0, colon);
      if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
      }
      int port = -1;
      uint8_t addr[16];
      const bool ip = inet_pton(AF_INET, host.c_str(), addr) == 1 ||
                      inet_pton(AF_INET6, host.c_str(), addr) == 1;
      if (!ip || !absl::SimpleAtoi(m.substr(colon + 1), &port) || port < 0 || port > 65535) {
        return Err(file, c["metrics"],
                   "control.metrics must be ADDRESS:PORT with an IP address, like "
                   "127.0.0.1:9153");
      }
      cfg.control.metrics_host = host;
      cfg.control.metrics_port = port;
    }
  }
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

absl::StatusOr<Config> LoadConfig(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read config ", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseConfig(ss.str(), path, std::filesystem::path(path).parent_path().string());
}

}  // namespace sextant::control
