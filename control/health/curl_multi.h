// libcurl's multi interface driven by the checker's event loop: curl tells which sockets to
// watch and when to time out (CURLMOPT_SOCKETFUNCTION / TIMERFUNCTION), the loop reports back
// (curl_multi_socket_action), so every HTTP(S) check runs on the checker thread next to the
// TCP and DNS ones, and thousands of transfers cost no thread each.
#pragma once

#include <curl/curl.h>

#include <memory>

#include "absl/status/statusor.h"
#include "control/health/event_loop.h"
#include "control/health/trust_store.h"

namespace sextant::control::health {

class CurlMulti {
 public:
  // One transfer's owner, told when it ends. The easy handle's CURLOPT_PRIVATE points at it.
  class Transfer {
   public:
    // The transfer is still on the multi handle; the owner takes it off (Remove()).
    virtual void OnTransferDone(CURLcode rc) = 0;

   protected:
    ~Transfer() = default;
  };

  // Initialises libcurl once per process.
  static absl::StatusOr<std::unique_ptr<CurlMulti>> Create(EventLoop* loop);
  ~CurlMulti() = default;  // every transfer must have been removed
  CurlMulti(const CurlMulti&) = delete;
  CurlMulti& operator=(const CurlMulti&) = delete;

  CURLMcode Add(CURL* easy) { return curl_multi_add_handle(multi_.get(), easy); }
  void Remove(CURL* easy) { curl_multi_remove_handle(multi_.get(), easy); }

  // The CA stores the https checks on this handle share (trust_store.h).
  TrustStores& trust() { return trust_; }

 private:
  struct MultiDeleter {
    void operator()(CURLM* m) const { curl_multi_cleanup(m); }
  };

  explicit CurlMulti(EventLoop* loop);

  static int OnSocketUpdate(CURL* easy, curl_socket_t s, int what, void* userp, void* socketp);
  static int OnTimerUpdate(CURLM* multi, long timeout_ms, void* userp);
  void OnSocketEvent(curl_socket_t s, uint32_t events);
  void OnTimeout();
  // Hands every finished transfer to its owner.
  void Drain();

  EventLoop* const loop_;
  Timer timer_;  // curl's one timeout
  TrustStores trust_;
  // Last, so that it goes first: curl_multi_cleanup still calls back into the timer and the loop.
  std::unique_ptr<CURLM, MultiDeleter> multi_;
};

}  // namespace sextant::control::health
