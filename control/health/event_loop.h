// The health checker's one thread: an epoll loop with a timer heap, and a queue through which
// other threads hand it commands, woken by an eventfd. Probes, the curl multi handle and feeds
// register their fds and deadlines here; nothing in control/health blocks this thread.
//
// An event or a deadline reaches its handler only while it is registered: a socket that a
// handler closed, or a timer it cancelled, earlier in the same round stays silent, because
// registrations are looked up by a never-reused id, not by fd number or pointer.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <queue>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "maps/unique_fd.h"

namespace sextant::control::health {

using maps::UniqueFd;

class Timer;

class EventLoop {
 public:
  using IoHandler = std::function<void(uint32_t epoll_events)>;
  using WatchId = uint64_t;

  static absl::StatusOr<std::unique_ptr<EventLoop>> Create();
  ~EventLoop() = default;  // Stop() must have returned
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Starts the loop thread. Fails if it is already running.
  absl::Status Start();
  // Stops and joins the thread, then calls `on_joined` here, before the commands other threads
  // queued meanwhile run here: until then they keep waiting, so `on_joined` has the loop's
  // state to itself. Idempotent.
  void Stop(absl::FunctionRef<void()> on_joined);
  // Runs `fn` on the loop thread and waits for it; runs it at once when the loop is not
  // running (nobody else touches its state then) or when called from the loop thread.
  void RunOnLoop(const std::function<void()>& fn);
  // The loop thread's kernel thread id, 0 when it is not running.
  int tid() const { return tid_.load(std::memory_order_relaxed); }

  // The rest is for the loop thread, or for any thread while the loop is stopped.

  // Calls `handler` with the epoll events of `fd` until Unwatch()/Forget(). Returns 0, or the
  // errno that epoll_ctl failed with.
  int Watch(int fd, uint32_t events, IoHandler handler, WatchId* id);
  int Modify(WatchId id, uint32_t events);
  void Unwatch(WatchId id);  // takes the fd out of the epoll set
  // For an fd about to be closed, which drops it from the epoll set anyway: saves a syscall.
  void Forget(WatchId id);

 private:
  friend class Timer;

  struct Watched {
    int fd;
    IoHandler handler;
  };
  struct Deadline {
    int64_t when_ns;
    uint64_t id;
    bool operator>(const Deadline& o) const { return when_ns > o.when_ns; }
  };

  EventLoop() = default;
  void Run();
  void Dispatch(uint64_t id, uint32_t events);
  int WaitMs(int64_t now);
  void RunTimers(int64_t now);
  void RunCommands();
  void Wake();
  uint64_t AddTimer(int64_t when_ns, Timer* timer);
  void RemoveTimer(uint64_t id) { timers_.erase(id); }

  UniqueFd epoll_;
  UniqueFd wake_;
  WatchId wake_id_ = 0;
  uint64_t next_id_ = 0;
  std::unordered_map<WatchId, Watched> watches_;
  // Cancelled deadlines stay in the heap until they surface; `timers_` says which still count.
  std::priority_queue<Deadline, std::vector<Deadline>, std::greater<Deadline>> heap_;
  std::unordered_map<uint64_t, Timer*> timers_;

  std::mutex stop_mu_;
  std::mutex cmd_mu_;
  std::vector<std::function<void()>> commands_;  // guarded by cmd_mu_
  bool running_ = false;                         // guarded by cmd_mu_
  std::thread::id loop_id_;                      // guarded by cmd_mu_
  bool stop_ = false;                            // loop thread only
  std::thread thread_;
  std::atomic<int> tid_{0};
};

// One pending deadline at a time on an EventLoop; destroying the timer cancels it. The callback
// may re-arm the timer or destroy its owner.
class Timer {
 public:
  using Callback = std::function<void(int64_t now_ns)>;

  Timer(EventLoop* loop, Callback fn) : loop_(loop), fn_(std::move(fn)) {}
  ~Timer() { Cancel(); }
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  // Fires at `when_ns` (CLOCK_MONOTONIC) instead of any deadline pending.
  void Arm(int64_t when_ns) {
    Cancel();
    id_ = loop_->AddTimer(when_ns, this);
  }
  void Cancel() {
    if (id_ != 0) loop_->RemoveTimer(std::exchange(id_, 0));
  }

 private:
  friend class EventLoop;

  EventLoop* const loop_;
  const Callback fn_;
  uint64_t id_ = 0;
};

// An owned fd that an EventLoop watches: Reset() (or destruction) forgets the handler and
// closes the fd, which drops it from the epoll set.
class WatchedFd {
 public:
  WatchedFd() = default;
  ~WatchedFd() { Reset(); }
  WatchedFd(const WatchedFd&) = delete;
  WatchedFd& operator=(const WatchedFd&) = delete;

  // Takes `fd` and watches it. Returns 0, or the errno epoll_ctl failed with (`fd` is closed).
  int Watch(EventLoop* loop, UniqueFd fd, uint32_t events, EventLoop::IoHandler handler);
  void Reset();
  int get() const { return fd_.get(); }
  explicit operator bool() const { return static_cast<bool>(fd_); }

 private:
  EventLoop* loop_ = nullptr;
  EventLoop::WatchId id_ = 0;
  UniqueFd fd_;
};

}  // namespace sextant::control::health
