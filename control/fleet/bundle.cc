#include "control/fleet/bundle.h"

#include <openssl/evp.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <system_error>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "control/fleet/etcd_client.h"
#include "control/health/health_state.h"
#include "control/util/atomic_file.h"
#include "control/util/file_text.h"

namespace sextant::control::fleet {
namespace fs = std::filesystem;
namespace {

std::string Sha256Hex(const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(md), len));
}

absl::Status ReadInto(const fs::path& file, std::string* out) {
  FileText f = ReadFileText(file.string());
  if (f.error != 0) {
    return absl::NotFoundError(
        absl::StrCat("cannot read ", file.string(), ": ",
                     std::error_code(f.error, std::generic_category()).message()));
  }
  *out = std::move(f.text);
  return absl::OkStatus();
}

// A bundle path must stay inside the directory it is unpacked into.
bool SafeRelative(const std::string& rel) {
  const fs::path p(rel);
  if (rel.empty() || p.is_absolute()) return false;
  for (const fs::path& part : p) {
    if (part == "..") return false;
  }
  return true;
}

// The node's own sections over the bundle's; relative paths in them resolved against the local
// config's directory, since the merged file lives elsewhere.
absl::Status OverlayLocal(YAML::Node& merged, const std::string& local_config_path) {
  FileText local = ReadFileText(local_config_path);
  if (local.error != 0) return absl::NotFoundError("cannot read " + local_config_path);
  const fs::path base = fs::absolute(fs::path(local_config_path)).parent_path();
  YAML::Node root = YAML::Load(local.text);
  for (const char* section : {"instance", "control", "fleet"}) {
    if (!root[section]) {
      merged.remove(section);
      continue;
    }
    YAML::Node node = YAML::Clone(root[section]);
    if (node.IsMap()) {
      for (const char* key :
           {"socket", "state_file", "ca_file", "cert_file", "key_file", "bundle_dir"}) {
        if (node[key] && node[key].IsScalar() &&
            fs::path(node[key].as<std::string>()).is_relative()) {
          node[key] = (base / node[key].as<std::string>()).lexically_normal().string();
        }
      }
    }
    merged[section] = node;
  }
  return absl::OkStatus();
}

absl::Status CheckGeo(const nlohmann::json& geo, const std::string& bundle_dir,
                      const fs::path& into) {
  for (const auto& [rel, hash] : geo.items()) {
    if (!SafeRelative(rel) || !hash.is_string()) return absl::InvalidArgumentError("bad geo entry");
    const fs::path have = fs::path(bundle_dir) / "geo" / rel;
    std::string data;
    if (absl::Status s = ReadInto(have, &data); !s.ok()) {
      return absl::NotFoundError(absl::StrCat("geo database ", rel, ": ", s.message()));
    }
    if (Sha256Hex(data) != hash.get<std::string>()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "geo database ", rel, ": ", have.string(), " is not the one published (SHA-256 ",
          hash.get<std::string>().substr(0, 12), "...)"));
    }
    std::error_code ec;
    fs::create_directories((into / rel).parent_path(), ec);
    fs::copy_file(have, into / rel, fs::copy_options::overwrite_existing, ec);
    if (ec) return absl::InternalError(absl::StrCat("geo database ", rel, ": ", ec.message()));
  }
  return absl::OkStatus();
}

absl::Status WriteFiles(const nlohmann::json& files, const fs::path& into) {
  for (const auto& [rel, b64] : files.items()) {
    std::string data;
    if (!SafeRelative(rel) || !b64.is_string() ||
        !absl::Base64Unescape(b64.get<std::string>(), &data)) {
      return absl::InvalidArgumentError(absl::StrCat("bundle file '", rel, "' is malformed"));
    }
    std::error_code ec;
    fs::create_directories((into / rel).parent_path(), ec);
    if (absl::Status s = WriteFileAtomically((into / rel).string(), data, {}); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> PackBundle(const std::string& dir) {
  nlohmann::json files = nlohmann::json::object(), geo = nlohmann::json::object();
  size_t total = 0;
  std::error_code ec;
  for (const fs::directory_entry& e : fs::recursive_directory_iterator(dir, ec)) {
    if (!e.is_regular_file()) continue;
    const std::string rel = fs::relative(e.path(), dir).generic_string();
    std::string data;
    if (absl::Status s = ReadInto(e.path(), &data); !s.ok()) return s;
    if (absl::EndsWith(rel, ".mmdb")) {
      geo[rel] = Sha256Hex(data);  // by content hash: the nodes hold the file themselves
      continue;
    }
    total += data.size();
    files[rel] = absl::Base64Escape(data);
  }
  if (ec) return absl::NotFoundError(absl::StrCat("cannot read ", dir, ": ", ec.message()));
  if (!files.contains(kBundleConfig)) {
    return absl::InvalidArgumentError(absl::StrCat(dir, " has no ", kBundleConfig));
  }
  if (total > kMaxBundleBytes) {
    return absl::InvalidArgumentError(absl::StrCat(dir, ": ", total,
                                                   " bytes; a bundle holds at most ",
                                                   kMaxBundleBytes, " (geo databases excepted)"));
  }
  return nlohmann::json({{"files", files}, {"geo", geo}, {"published_unix_ms", NowUnixMs()}})
      .dump();
}

absl::StatusOr<std::string> PublishBundle(const Config& config, const std::string& dir) {
  if (!config.fleet.present) {
    return absl::FailedPreconditionError(absl::StrCat("fleet publish: the config of instance ",
                                                      config.instance, " has no fleet: section"));
  }
  absl::StatusOr<std::string> value = PackBundle(dir);
  if (!value.ok()) return value.status();
  EtcdClient etcd(config.fleet);
  absl::StatusOr<nlohmann::json> j = etcd.Call(
      "/v3/kv/put", {{"key", Base64(config.fleet.prefix + "bundle")}, {"value", Base64(*value)}});
  if (!j.ok()) return j.status();
  const nlohmann::json& h = j->value("header", nlohmann::json::object());
  return absl::StrCat("published ", dir, " as revision ", h.value("revision", std::string("?")),
                      "; every node with fleet.distribute validates it before activating it "
                      "(sextantctl fleet status)\n");
}

absl::StatusOr<std::string> UnpackBundle(const std::string& value, int64_t revision,
                                         const std::string& bundle_dir,
                                         const std::string& local_config_path) {
  const nlohmann::json j = nlohmann::json::parse(value, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("files") || !j["files"].is_object()) {
    return absl::InvalidArgumentError("the bundle is not a bundle (no files)");
  }
  if (!j["files"].contains(kBundleConfig)) {
    return absl::InvalidArgumentError(absl::StrCat("the bundle has no ", kBundleConfig));
  }
  const fs::path into = fs::path(bundle_dir) / absl::StrCat("rev-", revision);
  std::error_code ec;
  fs::remove_all(into, ec);
  fs::create_directories(into, ec);
  if (ec)
    return absl::InternalError(absl::StrCat("cannot create ", into.string(), ": ", ec.message()));
  if (absl::Status s = WriteFiles(j["files"], into); !s.ok()) return s;
  if (j.contains("geo") && j["geo"].is_object()) {
    if (absl::Status s = CheckGeo(j["geo"], bundle_dir, into); !s.ok()) return s;
  }
  const std::string config = (into / kBundleConfig).string();
  try {
    YAML::Node merged = YAML::LoadFile(config);
    if (!merged.IsMap())
      return absl::InvalidArgumentError(absl::StrCat(kBundleConfig, " is not a mapping"));
    if (absl::Status s = OverlayLocal(merged, local_config_path); !s.ok()) return s;
    YAML::Emitter out;
    out << merged;
    if (absl::Status s = WriteFileAtomically(config, std::string(out.c_str()) + "\n", {});
        !s.ok()) {
      return s;
    }
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(kBundleConfig, " line ", e.mark.line + 1, ": ", e.msg));
  }
  return config;
}

absl::Status MarkCurrent(const std::string& bundle_dir, int64_t revision) {
  const fs::path link = fs::path(bundle_dir) / "current";
  const fs::path tmp = fs::path(bundle_dir) / "current.tmp";
  std::error_code ec;
  fs::remove(tmp, ec);
  fs::create_directory_symlink(absl::StrCat("rev-", revision), tmp, ec);
  if (!ec) fs::rename(tmp, link, ec);
  if (ec)
    return absl::InternalError(absl::StrCat("cannot point ", link.string(), ": ", ec.message()));
  return absl::OkStatus();
}

std::optional<CurrentBundle> FindCurrent(const std::string& bundle_dir) {
  std::error_code ec;
  const fs::path target = fs::read_symlink(fs::path(bundle_dir) / "current", ec);
  if (ec) return std::nullopt;
  const std::string name = target.filename().string();
  CurrentBundle c;
  if (!absl::StartsWith(name, "rev-") || !absl::SimpleAtoi(name.substr(4), &c.revision)) {
    return std::nullopt;
  }
  c.config_path = (fs::path(bundle_dir) / name / kBundleConfig).string();
  if (!fs::exists(c.config_path, ec)) return std::nullopt;
  return c;
}

}  // namespace sextant::control::fleet
