#include "control/health/trust_store.h"

#include <curl/curl.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace sextant::control::health {
namespace {

// The file libcurl would trust by default (Debian: /etc/ssl/certs/ca-certificates.crt), and its
// hashed directory; either may be absent.
struct DefaultLocations {
  std::string file, dir;
};

DefaultLocations CurlDefaults() {
  const curl_version_info_data* v = curl_version_info(CURLVERSION_NOW);
  DefaultLocations d;
  if (v != nullptr && v->age >= CURLVERSION_SEVENTH) {
    if (v->cainfo != nullptr) d.file = v->cainfo;
    if (v->capath != nullptr) d.dir = v->capath;
  }
  return d;
}

bool SameFile(const struct stat& a, const struct stat& b) {
  return a.st_ino == b.st_ino && a.st_dev == b.st_dev && a.st_size == b.st_size &&
         a.st_mtim.tv_sec == b.st_mtim.tv_sec && a.st_mtim.tv_nsec == b.st_mtim.tv_nsec;
}

std::string OpensslError() {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "no certificate in it";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof(buf));
  return buf;
}

}  // namespace

absl::StatusOr<X509_STORE*> TrustStores::Get(const std::string& ca_file) {
  const DefaultLocations defaults = ca_file.empty() ? CurlDefaults() : DefaultLocations{};
  const std::string& file = ca_file.empty() ? defaults.file : ca_file;
  struct stat now {};
  if (!file.empty() && stat(file.c_str(), &now) != 0) {
    const int err = errno;
    stores_.erase(ca_file);
    return absl::FailedPreconditionError(absl::StrCat("CA file ", file, ": ", std::strerror(err)));
  }
  auto it = stores_.find(ca_file);
  if (it != stores_.end() && SameFile(it->second.seen, now)) return it->second.store.get();

  std::unique_ptr<X509_STORE, StoreFree> store(X509_STORE_new());
  if (!store) return absl::ResourceExhaustedError("X509_STORE_new failed");
  ERR_clear_error();
  if (!file.empty() && X509_STORE_load_file(store.get(), file.c_str()) != 1) {
    stores_.erase(ca_file);
    return absl::FailedPreconditionError(absl::StrCat("CA file ", file, ": ", OpensslError()));
  }
  // A hashed directory is looked up lazily, certificate by certificate: nothing is read here.
  if (!defaults.dir.empty()) X509_STORE_load_path(store.get(), defaults.dir.c_str());
  if (file.empty() && defaults.dir.empty()) X509_STORE_set_default_paths(store.get());
  ERR_clear_error();
  ++loads_;
  Entry& e = stores_[ca_file];
  e.store = std::move(store);
  e.seen = now;
  return e.store.get();
}

}  // namespace sextant::control::health
