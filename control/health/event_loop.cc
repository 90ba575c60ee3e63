#include "control/health/event_loop.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <future>

#include "absl/strings/str_cat.h"
#include "control/health/health_clock.h"
#include "control/health/health_log.h"

namespace sextant::control::health {

absl::StatusOr<std::unique_ptr<EventLoop>> EventLoop::Create() {
  std::unique_ptr<EventLoop> loop(new EventLoop());
  loop->epoll_.reset(epoll_create1(EPOLL_CLOEXEC));
  loop->wake_.reset(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!loop->epoll_ || !loop->wake_) {
    return absl::InternalError(absl::StrCat("health: epoll/eventfd: ", strerror(errno)));
  }
  EventLoop* self = loop.get();
  auto on_wake = [self](uint32_t) {
    uint64_t v;
    while (read(self->wake_.get(), &v, sizeof(v)) > 0) {
    }
    self->RunCommands();
  };
  if (const int err = loop->Watch(loop->wake_.get(), EPOLLIN, on_wake, &loop->wake_id_)) {
    return absl::InternalError(absl::StrCat("health: epoll_ctl: ", strerror(err)));
  }
  return loop;
}

// --- The thread and its commands ---------------------------------------------------------------

absl::Status EventLoop::Start() {
  std::lock_guard<std::mutex> lock(cmd_mu_);
  if (running_) return absl::FailedPreconditionError("health checker already running");
  running_ = true;
  stop_ = false;
  std::promise<void> started;
  std::future<void> f = started.get_future();
  thread_ = std::thread([this, &started] {
    tid_.store(static_cast<int>(syscall(SYS_gettid)), std::memory_order_relaxed);
    started.set_value();
    Run();
  });
  loop_id_ = thread_.get_id();
  f.wait();  // tid() is valid when Start() returns
  return absl::OkStatus();
}

void EventLoop::Stop(absl::FunctionRef<void()> on_joined) {
  std::lock_guard<std::mutex> stopping(stop_mu_);  // two Stop()s must not both join
  {
    std::lock_guard<std::mutex> lock(cmd_mu_);
    if (!running_) return;
    commands_.push_back([this] { stop_ = true; });
  }
  Wake();
  thread_.join();
  on_joined();  // running_ is still set, so other threads queue meanwhile
  std::vector<std::function<void()>> late;
  {
    std::lock_guard<std::mutex> lock(cmd_mu_);
    running_ = false;
    loop_id_ = std::thread::id();
    late.swap(commands_);
  }
  for (auto& c : late) c();  // queued after the stop request; their callers wait
}

void EventLoop::RunOnLoop(const std::function<void()>& fn) {
  auto done = std::make_shared<std::promise<void>>();
  std::future<void> f = done->get_future();
  bool direct = false;
  {
    std::lock_guard<std::mutex> lock(cmd_mu_);
    // Not running: nobody else touches the loop's state (Start() must not race with this). On
    // the loop thread (from a callback): the loop is ours already, and queueing would deadlock.
    direct = !running_ || std::this_thread::get_id() == loop_id_;
    if (!direct) {
      commands_.push_back([fn, done] {
        fn();
        done->set_value();
      });
    }
  }
  if (direct) {
    fn();
    return;
  }
  Wake();
  f.wait();
}

void EventLoop::RunCommands() {
  std::vector<std::function<void()>> cmds;
  {
    std::lock_guard<std::mutex> lock(cmd_mu_);
    cmds.swap(commands_);
  }
  for (auto& c : cmds) c();
}

void EventLoop::Wake() {
  uint64_t one = 1;
  ssize_t unused = write(wake_.get(), &one, sizeof(one));
  (void)unused;
}

void EventLoop::Run() {
  constexpr int kMaxEvents = 256;
  epoll_event events[kMaxEvents];
  while (!stop_) {
    const int n = epoll_wait(epoll_.get(), events, kMaxEvents, WaitMs(MonoNs()));
    if (n < 0 && errno != EINTR) {
      LogHealth(LogLevel::kError, absl::StrCat("epoll_wait: ", strerror(errno)));
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    for (int i = 0; i < n; ++i) Dispatch(events[i].data.u64, events[i].events);
    RunTimers(MonoNs());
  }
  tid_.store(0, std::memory_order_relaxed);
}

// --- Fds ---------------------------------------------------------------------------------------

int EventLoop::Watch(int fd, uint32_t events, IoHandler handler, WatchId* id) {
  const WatchId w = ++next_id_;
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = w;
  // EEXIST: libcurl may hand over a socket whose number an unreported one had.
  if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0 &&
      (errno != EEXIST || epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, fd, &ev) != 0)) {
    return errno;
  }
  watches_.emplace(w, Watched{fd, std::move(handler)});
  *id = w;
  return 0;
}

int EventLoop::Modify(WatchId id, uint32_t events) {
  auto it = watches_.find(id);
  if (it == watches_.end()) return ENOENT;
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = id;
  const int fd = it->second.fd;
  if (epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, fd, &ev) != 0 &&
      (errno != ENOENT || epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0)) {
    return errno;
  }
  return 0;
}

void EventLoop::Unwatch(WatchId id) {
  auto it = watches_.find(id);
  if (it == watches_.end()) return;
  epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, it->second.fd, nullptr);  // may be gone with a close
  watches_.erase(it);
}

void EventLoop::Forget(WatchId id) { watches_.erase(id); }

void EventLoop::Dispatch(uint64_t id, uint32_t events) {
  auto it = watches_.find(id);
  if (it == watches_.end()) return;  // unregistered earlier in this round
  // A copy: the handler may unregister itself, which destroys the stored one.
  const IoHandler handler = it->second.handler;
  handler(events);
}

int WatchedFd::Watch(EventLoop* loop, UniqueFd fd, uint32_t events, EventLoop::IoHandler handler) {
  Reset();
  EventLoop::WatchId id;
  if (const int err = loop->Watch(fd.get(), events, std::move(handler), &id)) return err;
  loop_ = loop;
  id_ = id;
  fd_ = std::move(fd);
  return 0;
}

void WatchedFd::Reset() {
  if (id_ != 0) loop_->Forget(std::exchange(id_, 0));
  fd_.reset();  // closing drops it from the epoll set
}

// --- Timers ------------------------------------------------------------------------------------

uint64_t EventLoop::AddTimer(int64_t when_ns, Timer* timer) {
  const uint64_t id = ++next_id_;
  heap_.push({when_ns, id});
  timers_.emplace(id, timer);
  return id;
}

int EventLoop::WaitMs(int64_t now) {
  while (!heap_.empty() && !timers_.contains(heap_.top().id)) heap_.pop();
  if (heap_.empty()) return -1;
  const int64_t next = heap_.top().when_ns;
  // Round up: waking a little late costs nothing, waking early costs a spin.
  return next <= now ? 0 : static_cast<int>((next - now + 999'999) / 1'000'000);
}

void EventLoop::RunTimers(int64_t now) {
  while (!heap_.empty() && heap_.top().when_ns <= now) {
    const uint64_t id = heap_.top().id;
    heap_.pop();
    auto it = timers_.find(id);
    if (it == timers_.end()) continue;  // cancelled or re-armed
    Timer* timer = it->second;
    timers_.erase(it);
    timer->id_ = 0;
    // A copy: the callback may destroy the timer with its owner.
    const Timer::Callback fn = timer->fn_;
    fn(now);
  }
}

}  // namespace sextant::control::health
