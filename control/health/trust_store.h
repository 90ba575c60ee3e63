// The certificates that https checks with `verify: true` trust, loaded once per file and shared by
// every check's TLS context. Left to itself, libcurl builds a new certificate store from the CA
// bundle for each connection (or per handle with its CA cache, depending on its version), and
// with OpenSSL 3 reading the ~140 certificates of ca-certificates costs tens of milliseconds of
// the checker thread's time per https check: a few such checks a second kept a core a third busy
// and made other checks late (timeouts that were the checker's own). Here a file is read again
// only when it changes (inode, size or modification time differ), so a renewed bundle is used by
// the next check without a reload.
#pragma once

#include <openssl/x509_vfy.h>
#include <sys/stat.h>

#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"

namespace sextant::control::health {

class TrustStores {
 public:
  // The store for `ca_file` (empty: the system's, libcurl's default CA bundle and directory),
  // owned by this object and valid until the next Get(). An error names the file and why it
  // could not be used.
  absl::StatusOr<X509_STORE*> Get(const std::string& ca_file);

  // How many times a store was built (tests: a second check of the same file builds none).
  int loads() const { return loads_; }

 private:
  struct StoreFree {
    void operator()(X509_STORE* s) const { X509_STORE_free(s); }
  };
  struct Entry {
    std::unique_ptr<X509_STORE, StoreFree> store;
    struct stat seen {};  // of the file when it was read (the default bundle's, for "")
  };

  absl::flat_hash_map<std::string, Entry> stores_;
  int loads_ = 0;
};

}  // namespace sextant::control::health
