#include "control/config.h"

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "maps/status_macros.h"

namespace sextant::control {
namespace {

absl::Status Err(const std::string& file, const YAML::Node& n, const std::string& what) {
  if (n.IsDefined() && n.Mark().line >= 0) {
    return absl::InvalidArgumentError(absl::StrCat(file, " line ", n.Mark().line + 1, ": ", what));
  }
  return absl::InvalidArgumentError(absl::StrCat(file, ": ", what));
}

absl::Status CheckKeys(const std::string& file, const YAML::Node& map, const std::string& where,
                       const std::set<std::string>& known) {
  if (!map.IsMap()) return Err(file, map, absl::StrCat(where, " must be a mapping"));
  for (const auto& kv : map) {
    const std::string key = kv.first.as<std::string>();
    if (!known.count(key)) {
      return Err(file, kv.first,
                 absl::StrCat("unknown key '", where.empty() ? "" : where + ".", key,
                              "' (known: ", absl::StrJoin(known, ", "), ")"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> Scalar(const std::string& file, const YAML::Node& n,
                                   const std::string& what) {
  if (!n.IsScalar()) return Err(file, n, absl::StrCat(what, " must be a string"));
  return n.as<std::string>();
}

absl::StatusOr<Config> ParseNode(const YAML::Node& root, const std::string& file,
                                 const std::string& base_dir) {
  Config cfg;
  cfg.path = file;
  if (!root.IsDefined() || root.IsNull()) return Err(file, root, "the configuration is empty");
  SX_RETURN_IF_ERROR(CheckKeys(file, root, "", {"instance", "zones", "server"}));
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
    SX_RETURN_IF_ERROR(CheckKeys(file, s, "server", {"edns_udp_size", "nsid", "version", "identity"}));
    if (s["edns_udp_size"]) {
      int v = 0;
      if (!YAML::convert<int>::decode(s["edns_udp_size"], v) || v < 512 || v > 65535) {
        return Err(file, s["edns_udp_size"], "server.edns_udp_size must be 512..65535");
      }
      cfg.server.edns_udp_size = static_cast<uint16_t>(v);
    }
    if (s["nsid"]) {
      SX_ASSIGN_OR_RETURN(cfg.server.nsid, Scalar(file, s["nsid"], "server.nsid"));
      if (cfg.server.nsid.size() > 128) return Err(file, s["nsid"], "server.nsid is over 128 bytes");
    }
    for (const char* key : {"version", "identity"}) {
      if (!s[key]) continue;
      SX_ASSIGN_OR_RETURN(std::string v, Scalar(file, s[key], absl::StrCat("server.", key)));
      if (v.size() > 255) return Err(file, s[key], absl::StrCat("server.", key, " is over 255 bytes"));
      (std::string(key) == "version" ? cfg.server.version : cfg.server.identity) = v;
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

absl::StatusOr<Config> LoadConfig(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read config ", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseConfig(ss.str(), path, std::filesystem::path(path).parent_path().string());
}

}  // namespace sextant::control
