// A small etcd v3 client over etcd's JSON gateway (POST /v3/..., keys and values base64), with
// libcurl easy handles: blocking calls, for the fleet thread (fleet_agent.h) and sextantctl,
// never for the control event loop or the query path. Several endpoints: a call that cannot
// reach one (connection refused, timeout, HTTP 5xx) tries the next, and the next call starts
// at the one that answered.
#pragma once

#include <curl/curl.h>

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "control/config/fleet_config.h"

namespace sextant::control::fleet {

struct KeyValue {
  std::string key;
  std::string value;
  int64_t lease = 0;
  int64_t mod_revision = 0;
};

class EtcdClient {
 public:
  explicit EtcdClient(const FleetConfig& config);
  ~EtcdClient();
  EtcdClient(const EtcdClient&) = delete;
  EtcdClient& operator=(const EtcdClient&) = delete;

  // A lease of `ttl_s` seconds; its id.
  absl::StatusOr<int64_t> Grant(int64_t ttl_s);
  // Renews the lease; NotFound when it has expired (its keys are gone).
  absl::Status KeepAlive(int64_t lease);
  absl::Status Revoke(int64_t lease);
  absl::Status Put(const std::string& key, const std::string& value, int64_t lease = 0);
  // Every key under `prefix`, and the store's revision.
  absl::StatusOr<std::vector<KeyValue>> RangePrefix(const std::string& prefix,
                                                    int64_t* revision = nullptr);
  // The keys from `key` up to (not including) `end` ("" = `key` alone); with `keys_only`, no
  // values (their mod revisions still).
  absl::StatusOr<std::vector<KeyValue>> Range(const std::string& key, const std::string& end,
                                              bool keys_only, int64_t* revision = nullptr);
  absl::Status Delete(const std::string& key);
  // The member's cluster members' client URLs (`/v3/cluster/member/list`), for status output.
  const std::string& endpoint() const { return endpoints_[current_]; }

  // One call: the gateway's JSON reply, trying every endpoint once.
  absl::StatusOr<nlohmann::json> Call(const std::string& path, const nlohmann::json& body);

 private:
  absl::StatusOr<nlohmann::json> CallOne(const std::string& url, const std::string& body);

  std::vector<std::string> endpoints_;
  size_t current_ = 0;
  FleetConfig config_;
  struct EasyDeleter {
    void operator()(CURL* c) const { curl_easy_cleanup(c); }
  };
  std::unique_ptr<CURL, EasyDeleter> easy_;
};

std::string Base64(const std::string& in);
std::string Unbase64(const std::string& in);
// The key just past every key that starts with `prefix` (etcd's range_end for a prefix).
std::string PrefixEnd(const std::string& prefix);

}  // namespace sextant::control::fleet
