#include "control/fleet/etcd_client.h"

#include <array>
#include <mutex>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace sextant::control::fleet {
namespace {

size_t Collect(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

// The gateway prints int64 fields as strings (proto3 JSON); accept numbers too.
int64_t Int64Of(const nlohmann::json& j, const char* key) {
  if (!j.is_object() || !j.contains(key)) return 0;
  const nlohmann::json& v = j[key];
  if (v.is_number_integer()) return v.get<int64_t>();
  int64_t out = 0;
  if (v.is_string() && absl::SimpleAtoi(v.get<std::string>(), &out)) return out;
  return 0;
}

}  // namespace

std::string Base64(const std::string& in) { return absl::Base64Escape(in); }

std::string Unbase64(const std::string& in) {
  std::string out;
  if (!absl::Base64Unescape(in, &out)) return "";
  return out;
}

std::string PrefixEnd(const std::string& prefix) {
  std::string end = prefix;
  while (!end.empty()) {
    if (static_cast<unsigned char>(end.back()) < 0xff) {
      end.back() = static_cast<char>(end.back() + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');  // every key
}

EtcdClient::EtcdClient(const FleetConfig& config) : endpoints_(config.endpoints), config_(config) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  easy_.reset(curl_easy_init());
}

EtcdClient::~EtcdClient() = default;

absl::StatusOr<nlohmann::json> EtcdClient::CallOne(const std::string& url,
                                                   const std::string& body) {
  CURL* c = easy_.get();
  if (c == nullptr) return absl::InternalError("curl_easy_init failed");
  curl_easy_reset(c);
  std::string reply;
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(config_.timeout_ms));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(config_.timeout_ms));
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &reply);
  if (!config_.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, config_.ca_file.c_str());
  if (!config_.cert_file.empty()) {
    curl_easy_setopt(c, CURLOPT_SSLCERT, config_.cert_file.c_str());
    curl_easy_setopt(c, CURLOPT_SSLKEY, config_.key_file.c_str());
  }
  // curl's own detail ("SSL certificate problem: unable to get local issuer certificate") says
  // far more than the code's generic text ("SSL peer certificate ... was not OK").
  std::array<char, CURL_ERROR_SIZE> detail{};
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, detail.data());
  const CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(headers);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, nullptr);
  if (rc != CURLE_OK) {
    return absl::UnavailableError(
        absl::StrCat(url, ": ", detail[0] != '\0' ? detail.data() : curl_easy_strerror(rc)));
  }
  long code = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
  nlohmann::json j = nlohmann::json::parse(reply, nullptr, /*allow_exceptions=*/false);
  if (code >= 500) return absl::UnavailableError(absl::StrCat(url, ": HTTP ", code, " ", reply));
  if (j.is_discarded()) return absl::UnavailableError(absl::StrCat(url, ": not JSON: ", reply));
  if (code != 200) {
    return absl::FailedPreconditionError(absl::StrCat(url, ": HTTP ", code, " ", reply));
  }
  return j;
}

absl::StatusOr<nlohmann::json> EtcdClient::Call(const std::string& path,
                                                const nlohmann::json& body) {
  const std::string text = body.dump();
  absl::Status last = absl::UnavailableError("no etcd endpoint");
  for (size_t i = 0; i < endpoints_.size(); ++i) {
    const size_t at = (current_ + i) % endpoints_.size();
    absl::StatusOr<nlohmann::json> j = CallOne(endpoints_[at] + path, text);
    if (j.ok() || !absl::IsUnavailable(j.status())) {
      current_ = at;
      return j;
    }
    last = j.status();
  }
  return last;
}

absl::StatusOr<int64_t> EtcdClient::Grant(int64_t ttl_s) {
  absl::StatusOr<nlohmann::json> j = Call("/v3/lease/grant", {{"TTL", ttl_s}});
  if (!j.ok()) return j.status();
  const int64_t id = Int64Of(*j, "ID");
  if (id == 0) return absl::UnavailableError(absl::StrCat("lease grant: ", j->dump()));
  return id;
}

absl::Status EtcdClient::KeepAlive(int64_t lease) {
  // A stream on the gateway: one request in, one {"result": ...} out.
  absl::StatusOr<nlohmann::json> j = Call("/v3/lease/keepalive", {{"ID", std::to_string(lease)}});
  if (!j.ok()) return j.status();
  if (j->contains("error")) return absl::NotFoundError(absl::StrCat("lease: ", j->dump()));
  const nlohmann::json& r = j->contains("result") ? (*j)["result"] : *j;
  if (Int64Of(r, "TTL") <= 0) return absl::NotFoundError("lease expired");
  return absl::OkStatus();
}

absl::Status EtcdClient::Revoke(int64_t lease) {
  return Call("/v3/lease/revoke", {{"ID", std::to_string(lease)}}).status();
}

absl::Status EtcdClient::Put(const std::string& key, const std::string& value, int64_t lease) {
  nlohmann::json body = {{"key", Base64(key)}, {"value", Base64(value)}};
  if (lease != 0) body["lease"] = std::to_string(lease);
  absl::StatusOr<nlohmann::json> j = Call("/v3/kv/put", body);
  if (!j.ok()) return j.status();
  if (j->contains("error") || j->contains("code")) {
    return absl::FailedPreconditionError(absl::StrCat("put ", key, ": ", j->dump()));
  }
  return absl::OkStatus();
}

absl::Status EtcdClient::Delete(const std::string& key) {
  return Call("/v3/kv/deleterange", {{"key", Base64(key)}}).status();
}

absl::StatusOr<std::vector<KeyValue>> EtcdClient::RangePrefix(const std::string& prefix,
                                                              int64_t* revision) {
  return Range(prefix, PrefixEnd(prefix), /*keys_only=*/false, revision);
}

absl::StatusOr<std::vector<KeyValue>> EtcdClient::Range(const std::string& key,
                                                        const std::string& end, bool keys_only,
                                                        int64_t* revision) {
  nlohmann::json body = {{"key", Base64(key)}};
  if (!end.empty()) body["range_end"] = Base64(end);
  if (keys_only) body["keys_only"] = true;
  absl::StatusOr<nlohmann::json> j = Call("/v3/kv/range", body);
  if (!j.ok()) return j.status();
  if (revision != nullptr && j->contains("header")) *revision = Int64Of((*j)["header"], "revision");
  std::vector<KeyValue> out;
  if (!j->contains("kvs")) return out;
  for (const nlohmann::json& kv : (*j)["kvs"]) {
    KeyValue k;
    k.key = Unbase64(kv.value("key", ""));
    k.value = Unbase64(kv.value("value", ""));
    k.lease = Int64Of(kv, "lease");
    k.mod_revision = Int64Of(kv, "mod_revision");
    out.push_back(std::move(k));
  }
  return out;
}

}  // namespace sextant::control::fleet
