#include "control/health/http_probe.h"

#include <openssl/ssl.h>
#include <sys/socket.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "control/health/health_clock.h"

namespace sextant::control::health {

absl::StatusOr<std::unique_ptr<Probe>> HttpProbe::Create(const CheckSpec& spec, CurlMulti* curl,
                                                         DoneCallback done) {
  absl::StatusOr<ProbeAddress> address = ResolveProbeAddress(spec);
  if (!address.ok()) return address.status();
  std::unique_ptr<HttpProbe> p(new HttpProbe(spec, curl, std::move(done)));
  p->easy_.reset(curl_easy_init());
  if (!p->easy_) return absl::InternalError("curl_easy_init failed");
  p->SetUrl(address->addr.ss_family == AF_INET6);
  p->SetTransferOptions();
  p->SetMethodAndTls();
  return std::unique_ptr<Probe>(std::move(p));
}

void HttpProbe::SetUrl(bool v6) {
  CURL* e = easy_.get();
  const CheckSpec& s = spec_;
  const std::string addr_host = v6 ? absl::StrCat("[", s.address, "]") : s.address;
  const std::string url_host = s.host.empty() ? addr_host : s.host;
  const std::string url = absl::StrCat(s.type == CheckType::kHttps ? "https" : "http", "://",
                                       url_host, ":", s.port, s.path);
  curl_easy_setopt(e, CURLOPT_URL, url.c_str());
  if (!s.host.empty()) {
    // The URL names the host (Host header, SNI, certificate name); the connection goes to the
    // configured address. CONNECT_TO is per handle, unlike RESOLVE, which would leak into the
    // multi handle's shared DNS cache and mix up two targets with the same host name.
    const std::string rule = absl::StrCat(s.host, ":", s.port, ":", addr_host, ":", s.port);
    connect_to_.reset(curl_slist_append(nullptr, rule.c_str()));
    curl_easy_setopt(e, CURLOPT_CONNECT_TO, connect_to_.get());
  }
  if (!s.source.empty()) {
    const std::string iface = absl::StrCat("host!", s.source);  // an address, never a device
    curl_easy_setopt(e, CURLOPT_INTERFACE, iface.c_str());
  }
}

void HttpProbe::SetTransferOptions() {
  CURL* e = easy_.get();
  curl_easy_setopt(e, CURLOPT_PRIVATE, static_cast<void*>(static_cast<CurlMulti::Transfer*>(this)));
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(e, CURLOPT_PROXY, "");
  // Every check a real probe: a new connection and a full TLS handshake each time.
  curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
  curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
  curl_easy_setopt(e, CURLOPT_SSL_SESSIONID_CACHE, 0L);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(spec_.timeout_ms));
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(spec_.timeout_ms));
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, curl_err_);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &HttpProbe::OnBody);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, this);
  curl_easy_setopt(e, CURLOPT_SOCKOPTFUNCTION, &HttpProbe::OnSocketOpen);
  curl_easy_setopt(e, CURLOPT_USERAGENT, "sextant-health/1");
}

void HttpProbe::SetMethodAndTls() {
  CURL* e = easy_.get();
  const CheckSpec& s = spec_;
  if (s.method == HttpMethod::kHead) {
    curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
  } else if (s.method == HttpMethod::kPost) {
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, "");
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, 0L);
  }
  if (s.type == CheckType::kHttps) {
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, s.verify ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, s.verify ? 2L : 0L);
    // curl reads no CA file itself: a check without verification needs none, and one with it
    // gets the store the checker shares (OnSslContext), read once per file.
    curl_easy_setopt(e, CURLOPT_CAINFO, nullptr);
    curl_easy_setopt(e, CURLOPT_CAPATH, nullptr);
    // No CA cache of curl's own: it sets up the context's store after OnSslContext has run,
    // and with its cache on it put the store cached from another check (another CA file) in
    // place of this check's.
    curl_easy_setopt(e, CURLOPT_CA_CACHE_TIMEOUT, 0L);
    if (s.verify) {
      curl_easy_setopt(e, CURLOPT_SSL_CTX_FUNCTION, &HttpProbe::OnSslContext);
      curl_easy_setopt(e, CURLOPT_SSL_CTX_DATA, this);
    }
  }
}

CURLcode HttpProbe::OnSslContext(CURL* /*easy*/, void* ssl_ctx, void* userp) {
  auto* self = static_cast<HttpProbe*>(userp);
  absl::StatusOr<X509_STORE*> store = self->curl_->trust().Get(self->spec_.ca_file);
  if (!store.ok()) {
    self->trust_error_ = std::string(store.status().message());
    return CURLE_SSL_CACERT_BADFILE;
  }
  SSL_CTX_set1_cert_store(static_cast<SSL_CTX*>(ssl_ctx), *store);  // takes a reference
  return CURLE_OK;
}

std::optional<ProbeResult> HttpProbe::Start() {
  body_.clear();
  body_found_ = false;
  body_aborted_ = false;
  curl_err_[0] = '\0';
  trust_error_.clear();
  const CURLMcode rc = curl_->Add(easy_.get());
  if (rc != CURLM_OK) {
    return ProbeResult{.reason = absl::StrCat("curl_multi_add_handle: ", curl_multi_strerror(rc))};
  }
  added_ = true;
  return std::nullopt;
}

void HttpProbe::Release() {
  if (!added_) return;
  curl_->Remove(easy_.get());
  added_ = false;
}

void HttpProbe::OnTransferDone(CURLcode rc) {
  const int64_t now = MonoNs();
  const bool answered = rc == CURLE_OK || (rc == CURLE_WRITE_ERROR && body_aborted_);
  done_(answered ? JudgeResponse() : JudgeError(rc), now);
}

ProbeResult HttpProbe::JudgeResponse() {
  long code = 0;
  curl_easy_getinfo(easy_.get(), CURLINFO_RESPONSE_CODE, &code);
  const std::vector<uint16_t>& expect = spec_.expect_status;
  const bool status_ok = expect.empty()
                             ? code >= 200 && code <= 399
                             : std::find(expect.begin(), expect.end(), code) != expect.end();
  if (!status_ok) return {.reason = absl::StrCat("HTTP ", code)};
  if (!spec_.body_contains.empty() && !body_found_) {
    return {.reason = absl::StrCat("body did not contain ", spec_.body_contains)};
  }
  return {.ok = true, .reason = absl::StrCat("HTTP ", code)};
}

ProbeResult HttpProbe::JudgeError(CURLcode rc) {
  const std::string detail = curl_err_[0] ? curl_err_ : curl_easy_strerror(rc);
  switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
      return {.reason = absl::StrCat("timeout after ", spec_.timeout_ms, " ms"), .timed_out = true};
    case CURLE_COULDNT_CONNECT: {
      long os_errno = 0;
      curl_easy_getinfo(easy_.get(), CURLINFO_OS_ERRNO, &os_errno);
      return {.reason =
                  os_errno ? ErrnoReason(static_cast<int>(os_errno)) : "connect failed: " + detail};
    }
    case CURLE_PEER_FAILED_VERIFICATION:
      return {.reason = absl::StrCat("certificate verify failed: ", detail)};
    case CURLE_SSL_CONNECT_ERROR:
      return {.reason = absl::StrCat("TLS handshake failed: ", detail)};
    case CURLE_INTERFACE_FAILED:
      return {.reason = absl::StrCat("cannot bind source ", spec_.source, ": ", detail)};
    case CURLE_SSL_CACERT_BADFILE:
      return {.reason = trust_error_.empty() ? detail : trust_error_};
    default:
      return {.reason = detail};
  }
}

size_t HttpProbe::OnBody(char* data, size_t size, size_t n, void* userp) {
  auto* p = static_cast<HttpProbe*>(userp);
  const size_t len = size * n;
  const std::string& needle = p->spec_.body_contains;
  if (needle.empty()) {
    // The status line is in; the body does not matter. Stop rather than download it.
    p->body_aborted_ = true;
    return 0;
  }
  constexpr size_t kMaxBody = 64 * 1024;
  const size_t room = kMaxBody - std::min(kMaxBody, p->body_.size());
  const size_t from = p->body_.size() >= needle.size() ? p->body_.size() - needle.size() + 1 : 0;
  p->body_.append(data, std::min(len, room));
  if (p->body_.find(needle, from) != std::string::npos) {
    p->body_found_ = true;
    p->body_aborted_ = true;
    return 0;
  }
  if (p->body_.size() >= kMaxBody) {
    p->body_aborted_ = true;  // not in the window: a verdict, not a download
    return 0;
  }
  return len;
}

int HttpProbe::OnSocketOpen(void*, curl_socket_t fd, curlsocktype) {
  SetLingerZero(fd);
  return CURL_SOCKOPT_OK;
}

}  // namespace sextant::control::health
