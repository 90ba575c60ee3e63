#include "control/health/curl_multi.h"

#include <sys/epoll.h>

#include <cerrno>
#include <cstdint>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "control/health/health_clock.h"

namespace sextant::control::health {

absl::StatusOr<std::unique_ptr<CurlMulti>> CurlMulti::Create(EventLoop* loop) {
  static std::once_flag curl_once;
  static CURLcode curl_init = CURLE_OK;
  std::call_once(curl_once, [] { curl_init = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (curl_init != CURLE_OK) {
    return absl::InternalError(
        absl::StrCat("health: curl_global_init: ", curl_easy_strerror(curl_init)));
  }
  std::unique_ptr<CurlMulti> curl(new CurlMulti(loop));
  curl->multi_.reset(curl_multi_init());
  if (!curl->multi_) return absl::InternalError("health: curl_multi_init failed");
  CURLM* m = curl->multi_.get();
  curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, &CurlMulti::OnSocketUpdate);
  curl_multi_setopt(m, CURLMOPT_SOCKETDATA, curl.get());
  curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, &CurlMulti::OnTimerUpdate);
  curl_multi_setopt(m, CURLMOPT_TIMERDATA, curl.get());
  return curl;
}

CurlMulti::CurlMulti(EventLoop* loop)
    : loop_(loop), timer_(loop, [this](int64_t) { OnTimeout(); }) {}

// The socket's watch id rides in curl's per-socket pointer (ids start at 1, so null means none).
int CurlMulti::OnSocketUpdate(CURL*, curl_socket_t s, int what, void* userp, void* socketp) {
  auto* self = static_cast<CurlMulti*>(userp);
  const auto id = static_cast<EventLoop::WatchId>(reinterpret_cast<uintptr_t>(socketp));
  if (what == CURL_POLL_REMOVE) {
    if (id != 0) self->loop_->Unwatch(id);
    curl_multi_assign(self->multi_.get(), s, nullptr);
    return 0;
  }
  const uint32_t events =
      ((what & CURL_POLL_IN) ? EPOLLIN : 0u) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0u);
  if (id != 0) {
    self->loop_->Modify(id, events);
    return 0;
  }
  EventLoop::WatchId watch = 0;
  auto on_event = [self, s](uint32_t ev) { self->OnSocketEvent(s, ev); };
  if (self->loop_->Watch(s, events, on_event, &watch) == 0) {
    // curl keeps one pointer per socket for us; the watch id travels in it, never dereferenced.
    curl_multi_assign(
        self->multi_.get(), s,
        reinterpret_cast<void*>(uintptr_t{watch}));  // NOLINT(performance-no-int-to-ptr)
  }
  return 0;
}

int CurlMulti::OnTimerUpdate(CURLM*, long timeout_ms, void* userp) {
  auto* self = static_cast<CurlMulti*>(userp);
  // Acted on by the loop, never from inside this callback (libcurl forbids re-entry).
  if (timeout_ms < 0) {
    self->timer_.Cancel();
  } else {
    self->timer_.Arm(MonoNs() + int64_t{timeout_ms} * 1'000'000);
  }
  return 0;
}

void CurlMulti::OnSocketEvent(curl_socket_t s, uint32_t events) {
  int mask = 0;
  if (events & EPOLLIN) mask |= CURL_CSELECT_IN;
  if (events & EPOLLOUT) mask |= CURL_CSELECT_OUT;
  if (events & (EPOLLERR | EPOLLHUP)) mask |= CURL_CSELECT_ERR;
  int running = 0;
  curl_multi_socket_action(multi_.get(), s, mask, &running);
  Drain();
}

void CurlMulti::OnTimeout() {
  int running = 0;
  curl_multi_socket_action(multi_.get(), CURL_SOCKET_TIMEOUT, 0, &running);
  Drain();
}

void CurlMulti::Drain() {
  int left = 0;
  while (CURLMsg* m = curl_multi_info_read(multi_.get(), &left)) {
    if (m->msg != CURLMSG_DONE) continue;
    // Copy out: the message dies with curl_multi_remove_handle (in the owner).
    CURL* easy = m->easy_handle;
    const CURLcode rc = m->data.result;
    char* owner = nullptr;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, &owner);
    if (owner != nullptr) {
      reinterpret_cast<Transfer*>(owner)->OnTransferDone(rc);
    } else {
      Remove(easy);
    }
  }
}

}  // namespace sextant::control::health
