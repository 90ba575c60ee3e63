// The HTTP and HTTPS check: one request per check on a libcurl easy handle that is prepared once
// per spec and reused, run on the checker's curl multi handle (control/health/curl_multi.h). Up
// when the status is one of expect_status (default 200..399) and, when configured, the first
// 64 KiB of the body contain body_contains. Every check is a new connection and, for HTTPS, a
// full handshake with certificate verification.
#pragma once

#include <curl/curl.h>

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "control/config/health_check.h"
#include "control/health/curl_multi.h"
#include "control/health/probe.h"

namespace sextant::control::health {

class HttpProbe final : public Probe, private CurlMulti::Transfer {
 public:
  // Fails, with the reason for every check, when the addresses do not parse or curl refuses.
  static absl::StatusOr<std::unique_ptr<Probe>> Create(const CheckSpec& spec, CurlMulti* curl,
                                                       DoneCallback done);
  ~HttpProbe() override { Release(); }

  std::optional<ProbeResult> Start() override;
  void Release() override;

 private:
  struct EasyDeleter {
    void operator()(CURL* c) const { curl_easy_cleanup(c); }
  };
  struct SlistDeleter {
    void operator()(curl_slist* l) const { curl_slist_free_all(l); }
  };

  HttpProbe(const CheckSpec& spec, CurlMulti* curl, DoneCallback done)
      : spec_(spec), curl_(curl), done_(std::move(done)) {}

  void SetUrl(bool v6);
  void SetTransferOptions();
  void SetMethodAndTls();
  void OnTransferDone(CURLcode rc) override;
  ProbeResult JudgeResponse();
  ProbeResult JudgeError(CURLcode rc);
  static size_t OnBody(char* data, size_t size, size_t n, void* userp);
  static int OnSocketOpen(void* userp, curl_socket_t fd, curlsocktype purpose);
  // CURLOPT_SSL_CTX_FUNCTION of a verifying https check: the shared CA store (trust_store.h).
  static CURLcode OnSslContext(CURL* easy, void* ssl_ctx, void* userp);

  const CheckSpec spec_;
  CurlMulti* const curl_;
  const DoneCallback done_;
  std::unique_ptr<CURL, EasyDeleter> easy_;
  std::unique_ptr<curl_slist, SlistDeleter> connect_to_;
  char curl_err_[CURL_ERROR_SIZE] = {};
  std::string trust_error_;  // why the CA store could not be had, for this check's reason
  std::string body_;
  bool body_found_ = false;
  bool body_aborted_ = false;  // we stopped the transfer on purpose (see OnBody)
  bool added_ = false;         // on the multi handle
};

}  // namespace sextant::control::health
