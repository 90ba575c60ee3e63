#include "control/health/health_checker.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <ldns/ldns.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <future>
#include <map>
#include <mutex>
#include <queue>
#include <random>
#include <set>
#include <thread>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "maps/dns/query_builder.h"

extern char** environ;

namespace sextant::control {
namespace {

int64_t MonoNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

int64_t UnixMs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1'000'000;
}

// One line per message, written with one write(2) so lines from other threads do not interleave.
void Log(absl::string_view msg) {
  const std::string line = absl::StrCat("sextant-control: health: ", msg, "\n");
  ssize_t unused = write(STDERR_FILENO, line.data(), line.size());
  (void)unused;
}

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    reset(o.release());
    return *this;
  }
  ~UniqueFd() { reset(); }
  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1) {
    if (fd_ >= 0) close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

struct CurlEasyDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct CurlMultiDeleter {
  void operator()(CURLM* m) const { curl_multi_cleanup(m); }
};
struct CurlSlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using CurlEasy = std::unique_ptr<CURL, CurlEasyDeleter>;
using CurlMulti = std::unique_ptr<CURLM, CurlMultiDeleter>;
using CurlSlist = std::unique_ptr<curl_slist, CurlSlistDeleter>;
struct LdnsPktDeleter {
  void operator()(ldns_pkt* p) const { ldns_pkt_free(p); }
};

// What an epoll event belongs to: kind in the top byte, then a 24-bit index (target slot or feed)
// and a 32-bit sequence number that tells a stale event (the check it was for is over) apart.
enum class Tag : uint8_t { kWake = 1, kTarget = 2, kCurl = 3, kFeedPipe = 4, kFeedExit = 5 };
uint64_t MakeTag(Tag tag, uint32_t index, uint32_t seq) {
  return (uint64_t{static_cast<uint8_t>(tag)} << 56) | (uint64_t{index & 0xffffff} << 32) | seq;
}
Tag TagKind(uint64_t v) { return static_cast<Tag>(v >> 56); }
uint32_t TagIndex(uint64_t v) { return static_cast<uint32_t>(v >> 32) & 0xffffff; }
uint32_t TagSeq(uint64_t v) { return static_cast<uint32_t>(v); }

bool MakeSockaddr(const std::string& ip, uint16_t port, sockaddr_storage* ss, socklen_t* len) {
  memset(ss, 0, sizeof(*ss));
  auto* v4 = reinterpret_cast<sockaddr_in*>(ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(ss);
  if (inet_pton(AF_INET, ip.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    *len = sizeof(sockaddr_in);
    return true;
  }
  if (inet_pton(AF_INET6, ip.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    *len = sizeof(sockaddr_in6);
    return true;
  }
  return false;
}

std::string ErrnoReason(int err) {
  switch (err) {
    case ECONNREFUSED:
      return "connect refused";
    case ENETUNREACH:
      return "network unreachable";
    case EHOSTUNREACH:
      return "host unreachable";
    case ETIMEDOUT:
      return "connect timed out";
    case ECONNRESET:
      return "connection reset";
    default:
      return absl::StrCat("connect failed: ", strerror(err));
  }
}

// Closing with SO_LINGER 0 sends RST instead of FIN: the checker's side then keeps no TIME_WAIT
// socket, so ten thousand probes a second do not exhaust the ephemeral ports. A probe has
// nothing left to deliver, so nothing is lost.
void SetLingerZero(int fd) {
  linger l{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
}

enum class FeedVerdict : uint8_t { kUp, kDown, kDrain };

struct FeedLine {
  std::string target;
  FeedVerdict verdict;
};

// "<target> up|down|drain" per line; '#' starts a comment. Bad lines go to `errors`.
std::vector<FeedLine> ParseFeedText(absl::string_view text, std::vector<std::string>* errors) {
  std::vector<FeedLine> out;
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_no;
    const size_t hash = line.find('#');
    if (hash != absl::string_view::npos) line = line.substr(0, hash);
    std::vector<absl::string_view> words =
        absl::StrSplit(line, absl::ByAnyChar(" \t\r"), absl::SkipEmpty());
    if (words.empty()) continue;
    std::string v = words.size() == 2 ? absl::AsciiStrToLower(words[1]) : "";
    FeedVerdict verdict;
    if (v == "up") {
      verdict = FeedVerdict::kUp;
    } else if (v == "down") {
      verdict = FeedVerdict::kDown;
    } else if (v == "drain") {
      verdict = FeedVerdict::kDrain;
    } else {
      errors->push_back(absl::StrCat("line ", line_no, ": expected '<target> up|down|drain', got '",
                                     absl::StripAsciiWhitespace(line), "'"));
      continue;
    }
    out.push_back({std::string(words[0]), verdict});
  }
  return out;
}

}  // namespace

class HealthChecker::Engine {
 public:
  explicit Engine(HealthChecker::Options o) : opt_(std::move(o)), rng_(std::random_device{}()) {}
  ~Engine();

  absl::Status Init();
  absl::Status Start();
  void Stop();
  void Update(std::vector<CheckedTarget> targets);
  void UpdateFeeds(std::vector<FeedSpec> feeds);
  std::vector<TargetStatus> Status() const;
  std::optional<TargetStatus> StatusOf(const std::string& name) const;
  CheckerStats Stats() const;
  int tid() const { return tid_.load(std::memory_order_relaxed); }

 private:
  struct Target {
    uint32_t slot = 0;
    uint32_t id = 0;
    std::string name;
    CheckSpec spec;  // type kNone = no check

    // Prepared once per spec.
    std::string prep_error;  // non-empty: every check fails with it
    sockaddr_storage addr{};
    socklen_t addr_len = 0;
    sockaddr_storage src{};
    socklen_t src_len = 0;
    std::vector<uint8_t> dns_query;  // id patched per check
    size_t dns_qname_len = 0;
    std::vector<uint8_t> expect_addr;  // expect_answer as address bytes (A/AAAA)
    CurlEasy easy;
    CurlSlist connect_to;
    char curl_err[CURL_ERROR_SIZE] = {};
    std::string body;
    bool body_found = false;
    bool body_aborted = false;  // we stopped the transfer on purpose (see OnBody)

    // Schedule and the check in flight (checker thread only).
    int64_t due_ns = 0;
    uint64_t timer_gen = 0;
    bool in_flight = false;
    uint32_t seq = 0;
    int64_t started_ns = 0;
    UniqueFd fd;
    bool curl_added = false;
    uint16_t dns_id = 0;

    // State: written by the checker thread under status_mu_, read by Status().
    bool up = true;
    bool drained = false;
    int64_t since_ms = 0;
    bool has_result = false;
    CheckResult last;
    uint32_t ok_streak = 0;
    uint32_t fail_streak = 0;
    uint64_t checks_run = 0;
  };

  struct Feed {
    FeedSpec spec;
    uint64_t timer_gen = 0;
    int64_t due_ns = 0;
    // File.
    bool have_stat = false;
    struct stat last_stat {};
    std::string last_error;
    // Command.
    pid_t pid = -1;
    uint32_t seq = 0;
    UniqueFd out;
    UniqueFd pidfd;
    std::string output;
    bool eof = false;
    bool exited = false;
    int wait_status = 0;
    int64_t started_ns = 0;
    std::set<std::string> logged;  // unknown targets and bad lines, each logged once
    std::string run_error;         // last failed run, logged when it changes
    std::string Name() const {
      return spec.kind == FeedSpec::Kind::kFile ? absl::StrCat("feed ", spec.file)
                                                : absl::StrCat("feed '", spec.command, "'");
    }
  };

  struct Timer {
    int64_t when;
    uint64_t gen;
    uint32_t index;
    bool feed;
    bool operator>(const Timer& o) const { return when > o.when; }
  };

  struct Change {
    uint32_t id;
    bool up;
    CheckResult result;
  };

  void Run();
  void RunCommands();
  // Runs `fn` on the checker thread (or here, when it is not running) and waits for it.
  void RunOnLoop(std::function<void()> fn);
  void ApplyUpdate(std::vector<CheckedTarget>& targets);
  void ApplyFeeds(std::vector<FeedSpec>& feeds);

  void Prepare(Target* t);
  void ArmTarget(Target* t, int64_t when);
  void ArmFeed(Feed* f, int64_t when);
  void RunTimers(int64_t now);
  void StartCheck(Target* t, int64_t now);
  bool StartTcp(Target* t, std::string* fail);
  bool StartDns(Target* t, std::string* fail);
  bool StartCurl(Target* t, std::string* fail);
  void OnTargetEvent(uint32_t slot, uint32_t seq, uint32_t events);
  void OnDnsReadable(Target* t);
  void DrainCurl();
  void CurlDone(Target* t, CURLcode rc, int64_t now);
  void Release(Target* t);  // closes the check's socket / detaches its curl handle
  void Cancel(Target* t);   // Release() and forget the check and its timer
  void Finish(Target* t, bool ok, std::string reason, int64_t now);
  void Notify(const std::vector<Change>& changes);
  void ApplyVerdict(Target* t, bool ok, const CheckResult& r, std::vector<Change>* changes);

  void RunFeed(Feed* f, int64_t now);
  void PollFile(Feed* f);
  void SpawnCommand(Feed* f, int64_t now);
  void OnFeedPipe(Feed* f);
  void OnFeedExit(Feed* f);
  void MaybeFinishCommand(Feed* f);
  void KillCommand(Feed* f);
  // A failed run is logged when its reason differs from the last one: no line per interval.
  static void RunError(Feed* f, const std::string& why) {
    if (why != f->run_error) Log(absl::StrCat(f->Name(), ": ", why));
    f->run_error = why;
  }
  void ApplyFeedText(Feed* f, const std::string& text);

  static int CurlSocketCb(CURL* easy, curl_socket_t s, int what, void* userp, void* socketp);
  static int CurlTimerCb(CURLM* multi, long timeout_ms, void* userp);
  static size_t OnBody(char* data, size_t size, size_t n, void* userp);
  static int CurlSockopt(void* userp, curl_socket_t fd, curlsocktype purpose);

  Target* FindBySlot(uint32_t slot) const {
    return slot < slots_.size() ? slots_[slot].get() : nullptr;
  }
  static TargetStatus Snapshot(const Target& t);

  const HealthChecker::Options opt_;
  UniqueFd epoll_;
  UniqueFd wake_;
  CurlMulti multi_;
  int64_t curl_deadline_ns_ = -1;

  // Targets by slot (stable pointers); slots of removed targets are reused.
  std::vector<std::unique_ptr<Target>> slots_;
  std::vector<uint32_t> free_slots_;
  std::map<std::string, uint32_t> by_name_;
  std::vector<std::unique_ptr<Feed>> feeds_;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<Timer>> timers_;
  uint64_t next_gen_ = 0;
  uint32_t next_seq_ = 0;
  std::mt19937_64 rng_;

  // Guards target state and the containers above against Status() from other threads.
  mutable std::mutex status_mu_;

  std::mutex stop_mu_;
  std::mutex cmd_mu_;
  std::vector<std::function<void()>> commands_;
  bool running_ = false;  // guarded by cmd_mu_
  bool stop_ = false;     // checker thread only
  std::thread thread_;
  std::thread::id loop_id_;  // guarded by cmd_mu_
  std::atomic<int> tid_{0};

  std::atomic<uint64_t> checks_started_{0}, checks_finished_{0}, checks_late_{0}, max_delay_us_{0},
      timeouts_{0}, state_changes_{0}, feed_runs_{0};
};

// --- Lifecycle and commands ------------------------------------------------------------------

absl::Status HealthChecker::Engine::Init() {
  static std::once_flag curl_once;
  static CURLcode curl_init = CURLE_OK;
  std::call_once(curl_once, [] { curl_init = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (curl_init != CURLE_OK) {
    return absl::InternalError(
        absl::StrCat("health: curl_global_init: ", curl_easy_strerror(curl_init)));
  }
  epoll_.reset(epoll_create1(EPOLL_CLOEXEC));
  wake_.reset(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!epoll_ || !wake_) {
    return absl::InternalError(absl::StrCat("health: epoll/eventfd: ", strerror(errno)));
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = MakeTag(Tag::kWake, 0, 0);
  if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, wake_.get(), &ev) != 0) {
    return absl::InternalError(absl::StrCat("health: epoll_ctl: ", strerror(errno)));
  }
  multi_.reset(curl_multi_init());
  if (!multi_) return absl::InternalError("health: curl_multi_init failed");
  curl_multi_setopt(multi_.get(), CURLMOPT_SOCKETFUNCTION, &Engine::CurlSocketCb);
  curl_multi_setopt(multi_.get(), CURLMOPT_SOCKETDATA, this);
  curl_multi_setopt(multi_.get(), CURLMOPT_TIMERFUNCTION, &Engine::CurlTimerCb);
  curl_multi_setopt(multi_.get(), CURLMOPT_TIMERDATA, this);
  return absl::OkStatus();
}

HealthChecker::Engine::~Engine() {
  Stop();
  for (auto& t : slots_) {
    if (t) Cancel(t.get());
  }
  for (auto& f : feeds_) KillCommand(f.get());
  slots_.clear();  // easy handles go before the multi handle
}

absl::Status HealthChecker::Engine::Start() {
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
  f.wait();  // thread_tid() is valid when Start() returns
  return absl::OkStatus();
}

void HealthChecker::Engine::Stop() {
  std::lock_guard<std::mutex> stopping(stop_mu_);  // two Stop()s must not both join
  {
    std::lock_guard<std::mutex> lock(cmd_mu_);
    if (!running_) return;
    commands_.push_back([this] { stop_ = true; });
  }
  uint64_t one = 1;
  ssize_t unused = write(wake_.get(), &one, sizeof(one));
  (void)unused;
  thread_.join();
  // Leave nothing behind: checks in flight are dropped (their timers restart them on Start()),
  // commands killed and reaped. running_ is still set, so other threads queue meanwhile.
  for (auto& t : slots_) {
    if (t && t->in_flight) {
      Cancel(t.get());
      ArmTarget(t.get(), t->due_ns);
    }
  }
  for (auto& f : feeds_) {
    if (f->pid > 0) {
      KillCommand(f.get());
      ArmFeed(f.get(), f->due_ns);
    }
  }
  std::vector<std::function<void()>> late;
  {
    std::lock_guard<std::mutex> lock(cmd_mu_);
    running_ = false;
    loop_id_ = std::thread::id();
    late.swap(commands_);
  }
  for (auto& c : late) c();  // queued after the stop request; their callers wait
}

void HealthChecker::Engine::RunOnLoop(std::function<void()> fn) {
  auto done = std::make_shared<std::promise<void>>();
  std::future<void> f = done->get_future();
  bool direct = false;
  {
    std::lock_guard<std::mutex> lock(cmd_mu_);
    // Not running: nobody else touches the engine (Start() must not race with this). On the
    // loop thread (from the callback): the loop is ours already, and queueing would deadlock.
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
  uint64_t one = 1;
  ssize_t unused = write(wake_.get(), &one, sizeof(one));
  (void)unused;
  f.wait();
}

void HealthChecker::Engine::RunCommands() {
  std::vector<std::function<void()>> cmds;
  {
    std::lock_guard<std::mutex> lock(cmd_mu_);
    cmds.swap(commands_);
  }
  for (auto& c : cmds) c();
}

void HealthChecker::Engine::Update(std::vector<CheckedTarget> targets) {
  RunOnLoop([this, &targets] { ApplyUpdate(targets); });
}

void HealthChecker::Engine::UpdateFeeds(std::vector<FeedSpec> feeds) {
  RunOnLoop([this, &feeds] { ApplyFeeds(feeds); });
}

void HealthChecker::Engine::Run() {
  constexpr int kMaxEvents = 256;
  epoll_event events[kMaxEvents];
  while (!stop_) {
    int64_t now = MonoNs();
    int64_t next = -1;
    while (!timers_.empty()) {
      const Timer& top = timers_.top();
      bool live;
      if (top.feed) {
        live = top.index < feeds_.size() && feeds_[top.index]->timer_gen == top.gen;
      } else {
        const Target* t = FindBySlot(top.index);
        live = t && t->timer_gen == top.gen;
      }
      if (live) {
        next = top.when;
        break;
      }
      timers_.pop();
    }
    if (curl_deadline_ns_ >= 0 && (next < 0 || curl_deadline_ns_ < next)) next = curl_deadline_ns_;
    int wait_ms = -1;
    if (next >= 0) {
      // Round up: waking a little late costs nothing, waking early costs a spin.
      wait_ms = next <= now ? 0 : static_cast<int>((next - now + 999'999) / 1'000'000);
    }
    const int n = epoll_wait(epoll_.get(), events, kMaxEvents, wait_ms);
    if (n < 0 && errno != EINTR) {
      Log(absl::StrCat("epoll_wait: ", strerror(errno)));
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    bool curl_touched = false;
    for (int i = 0; i < n; ++i) {
      const uint64_t tag = events[i].data.u64;
      switch (TagKind(tag)) {
        case Tag::kWake: {
          uint64_t v;
          while (read(wake_.get(), &v, sizeof(v)) > 0) {
          }
          RunCommands();
          break;
        }
        case Tag::kTarget:
          OnTargetEvent(TagIndex(tag), TagSeq(tag), events[i].events);
          break;
        case Tag::kCurl: {
          int mask = 0;
          if (events[i].events & EPOLLIN) mask |= CURL_CSELECT_IN;
          if (events[i].events & EPOLLOUT) mask |= CURL_CSELECT_OUT;
          if (events[i].events & (EPOLLERR | EPOLLHUP)) mask |= CURL_CSELECT_ERR;
          int running = 0;
          curl_multi_socket_action(multi_.get(), static_cast<curl_socket_t>(TagSeq(tag)), mask,
                                   &running);
          curl_touched = true;
          break;
        }
        case Tag::kFeedPipe:
        case Tag::kFeedExit: {
          const uint32_t idx = TagIndex(tag);
          if (idx >= feeds_.size() || feeds_[idx]->seq != TagSeq(tag) || feeds_[idx]->pid <= 0) {
            break;
          }
          if (TagKind(tag) == Tag::kFeedPipe) {
            OnFeedPipe(feeds_[idx].get());
          } else {
            OnFeedExit(feeds_[idx].get());
          }
          break;
        }
      }
    }
    if (curl_touched) DrainCurl();
    now = MonoNs();
    if (curl_deadline_ns_ >= 0 && curl_deadline_ns_ <= now) {
      curl_deadline_ns_ = -1;
      int running = 0;
      curl_multi_socket_action(multi_.get(), CURL_SOCKET_TIMEOUT, 0, &running);
      DrainCurl();
    }
    RunTimers(MonoNs());
  }
  tid_.store(0, std::memory_order_relaxed);
}

// --- Targets: reload, timers, verdicts ---------------------------------------------------------

void HealthChecker::Engine::ApplyUpdate(std::vector<CheckedTarget>& targets) {
  const int64_t now = MonoNs();
  const int64_t now_ms = UnixMs();
  std::vector<Change> changes;
  std::set<std::string> wanted;
  std::unique_lock<std::mutex> lock(status_mu_);
  for (CheckedTarget& ct : targets) {
    if (!wanted.insert(ct.name).second) {
      Log(absl::StrCat("target ", ct.name, " listed twice; the first one counts"));
      continue;
    }
    CheckSpec spec;
    if (ct.check && ct.check->type != CheckType::kNone) spec = *ct.check;
    Target* t;
    auto it = by_name_.find(ct.name);
    const bool existing = it != by_name_.end();
    if (existing) {
      t = slots_[it->second].get();
      t->id = ct.id;
      if (t->up != ct.initial_up) {
        CheckResult r = t->last;
        r.source = CheckResult::Source::kReload;
        r.drained = t->drained;
        r.reason = absl::StrCat("state kept across reload (", t->up ? "up" : "down",
                                t->has_result ? ", last: " + t->last.reason : "", ")");
        changes.push_back({t->id, t->up, std::move(r)});
      }
      if (spec == t->spec) continue;  // check unchanged: leave it running
      Cancel(t);
      t->spec = std::move(spec);
    } else {
      uint32_t slot;
      if (!free_slots_.empty()) {
        slot = free_slots_.back();
        free_slots_.pop_back();
      } else {
        slot = static_cast<uint32_t>(slots_.size());
        slots_.emplace_back();
      }
      slots_[slot] = std::make_unique<Target>();
      t = slots_[slot].get();
      t->slot = slot;
      t->id = ct.id;
      t->name = ct.name;
      t->spec = std::move(spec);
      t->up = ct.initial_up;
      t->since_ms = now_ms;
      by_name_[t->name] = slot;
    }
    Prepare(t);
    if (t->spec.type == CheckType::kNone) {
      t->timer_gen = ++next_gen_;  // no check: drop any pending timer
      continue;
    }
    // First check at a random point of the interval: targets loaded together spread out.
    std::uniform_int_distribution<int64_t> jitter(0, int64_t{t->spec.interval_ms} * 1'000'000);
    t->due_ns = now + jitter(rng_);
    ArmTarget(t, t->due_ns);
  }
  for (auto it = by_name_.begin(); it != by_name_.end();) {
    if (wanted.count(it->first)) {
      ++it;
      continue;
    }
    Target* t = slots_[it->second].get();
    Cancel(t);
    free_slots_.push_back(t->slot);
    slots_[t->slot].reset();
    it = by_name_.erase(it);
  }
  lock.unlock();
  Notify(changes);
}

void HealthChecker::Engine::Prepare(Target* t) {
  t->prep_error.clear();
  t->easy.reset();
  t->connect_to.reset();
  t->dns_query.clear();
  t->expect_addr.clear();
  t->src_len = 0;
  const CheckSpec& s = t->spec;
  if (s.type == CheckType::kNone) return;
  if (!MakeSockaddr(s.address, s.port, &t->addr, &t->addr_len)) {
    t->prep_error = absl::StrCat("bad address '", s.address, "'");
    return;
  }
  if (!s.source.empty() && !MakeSockaddr(s.source, 0, &t->src, &t->src_len)) {
    t->prep_error = absl::StrCat("bad source address '", s.source, "'");
    return;
  }
  if (s.type == CheckType::kDns) {
    ldns_rdf* dname = nullptr;
    if (ldns_str2rdf_dname(&dname, s.query.c_str()) != LDNS_STATUS_OK) {
      t->prep_error = absl::StrCat("bad query name '", s.query, "'");
      return;
    }
    // Id patched per check; RD clear: we ask the server itself.
    t->dns_qname_len = ldns_rdf_size(dname);
    t->dns_query =
        maps::dns::BuildQueryWire(ldns_rdf_data(dname), t->dns_qname_len, s.qtype, {.id = 0});
    ldns_rdf_deep_free(dname);
    if (!s.expect_answer.empty()) {
      uint8_t buf[16];
      if (s.qtype == LDNS_RR_TYPE_A && inet_pton(AF_INET, s.expect_answer.c_str(), buf) == 1) {
        t->expect_addr.assign(buf, buf + 4);
      } else if (s.qtype == LDNS_RR_TYPE_AAAA &&
                 inet_pton(AF_INET6, s.expect_answer.c_str(), buf) == 1) {
        t->expect_addr.assign(buf, buf + 16);
      }
    }
    return;
  }
  if (s.type != CheckType::kHttp && s.type != CheckType::kHttps) return;

  t->easy.reset(curl_easy_init());
  if (!t->easy) {
    t->prep_error = "curl_easy_init failed";
    return;
  }
  CURL* e = t->easy.get();
  const bool v6 = t->addr.ss_family == AF_INET6;
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
    t->connect_to.reset(curl_slist_append(nullptr, rule.c_str()));
    curl_easy_setopt(e, CURLOPT_CONNECT_TO, t->connect_to.get());
  }
  curl_easy_setopt(e, CURLOPT_PRIVATE, t);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(e, CURLOPT_PROXY, "");
  // Every check a real probe: a new connection and a full TLS handshake each time.
  curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
  curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
  curl_easy_setopt(e, CURLOPT_SSL_SESSIONID_CACHE, 0L);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(s.timeout_ms));
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(s.timeout_ms));
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->curl_err);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &Engine::OnBody);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
  curl_easy_setopt(e, CURLOPT_SOCKOPTFUNCTION, &Engine::CurlSockopt);
  curl_easy_setopt(e, CURLOPT_USERAGENT, "sextant-health/1");
  if (!s.source.empty()) {
    const std::string iface = absl::StrCat("host!", s.source);  // an address, never a device
    curl_easy_setopt(e, CURLOPT_INTERFACE, iface.c_str());
  }
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
    if (!s.ca_file.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, s.ca_file.c_str());
  }
}

void HealthChecker::Engine::ArmTarget(Target* t, int64_t when) {
  t->timer_gen = ++next_gen_;
  timers_.push({when, t->timer_gen, t->slot, false});
}

void HealthChecker::Engine::ArmFeed(Feed* f, int64_t when) {
  f->timer_gen = ++next_gen_;
  const uint32_t index = static_cast<uint32_t>(
      std::find_if(feeds_.begin(), feeds_.end(), [f](const auto& p) { return p.get() == f; }) -
      feeds_.begin());
  timers_.push({when, f->timer_gen, index, true});
}

void HealthChecker::Engine::RunTimers(int64_t now) {
  while (!timers_.empty() && timers_.top().when <= now) {
    const Timer tm = timers_.top();
    timers_.pop();
    if (tm.feed) {
      if (tm.index < feeds_.size() && feeds_[tm.index]->timer_gen == tm.gen) {
        RunFeed(feeds_[tm.index].get(), now);
      }
      continue;
    }
    Target* t = FindBySlot(tm.index);
    if (!t || t->timer_gen != tm.gen) continue;  // superseded
    if (t->in_flight) {
      timeouts_.fetch_add(1, std::memory_order_relaxed);
      Finish(t, false, absl::StrCat("timeout after ", t->spec.timeout_ms, " ms"), now);
    } else {
      StartCheck(t, now);
    }
  }
}

void HealthChecker::Engine::StartCheck(Target* t, int64_t now) {
  const int64_t delay = std::max<int64_t>(0, now - t->due_ns);
  checks_started_.fetch_add(1, std::memory_order_relaxed);
  if (delay > kLateThresholdNs) checks_late_.fetch_add(1, std::memory_order_relaxed);
  const uint64_t delay_us = static_cast<uint64_t>(delay / 1000);
  if (delay_us > max_delay_us_.load(std::memory_order_relaxed)) {
    max_delay_us_.store(delay_us, std::memory_order_relaxed);
  }
  t->in_flight = true;
  t->seq = ++next_seq_;
  t->started_ns = now;
  std::string fail;
  bool pending = false;
  if (!t->prep_error.empty()) {
    fail = t->prep_error;
  } else {
    switch (t->spec.type) {
      case CheckType::kTcp:
        pending = StartTcp(t, &fail);
        break;
      case CheckType::kDns:
        pending = StartDns(t, &fail);
        break;
      case CheckType::kHttp:
      case CheckType::kHttps:
        pending = StartCurl(t, &fail);
        break;
      case CheckType::kNone:
        fail = "no check";
        break;
    }
  }
  if (pending) {
    ArmTarget(t, now + int64_t{t->spec.timeout_ms} * 1'000'000);
    return;
  }
  // Done at once: "connected" is an empty `fail`.
  Finish(t, fail.empty(), fail.empty() ? "connected" : fail, MonoNs());
}

bool HealthChecker::Engine::StartTcp(Target* t, std::string* fail) {
  UniqueFd fd(socket(t->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) {
    *fail = absl::StrCat("socket: ", strerror(errno));
    return false;
  }
  SetLingerZero(fd.get());
  if (t->src_len) {
    // Choose the port at connect time, so that many targets can share a source address.
    int one = 1;
    setsockopt(fd.get(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
    if (bind(fd.get(), reinterpret_cast<sockaddr*>(&t->src), t->src_len) != 0) {
      *fail = absl::StrCat("cannot bind source ", t->spec.source, ": ", strerror(errno));
      return false;
    }
  }
  if (connect(fd.get(), reinterpret_cast<sockaddr*>(&t->addr), t->addr_len) == 0) return false;
  if (errno != EINPROGRESS) {
    *fail = ErrnoReason(errno);
    return false;
  }
  epoll_event ev{};
  ev.events = EPOLLOUT;
  ev.data.u64 = MakeTag(Tag::kTarget, t->slot, t->seq);
  if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd.get(), &ev) != 0) {
    *fail = absl::StrCat("epoll_ctl: ", strerror(errno));
    return false;
  }
  t->fd = std::move(fd);
  return true;
}

bool HealthChecker::Engine::StartDns(Target* t, std::string* fail) {
  UniqueFd fd(socket(t->addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) {
    *fail = absl::StrCat("socket: ", strerror(errno));
    return false;
  }
  if (t->src_len && bind(fd.get(), reinterpret_cast<sockaddr*>(&t->src), t->src_len) != 0) {
    *fail = absl::StrCat("cannot bind source ", t->spec.source, ": ", strerror(errno));
    return false;
  }
  // Connected: the kernel drops datagrams from anyone else and reports ICMP unreachables.
  if (connect(fd.get(), reinterpret_cast<sockaddr*>(&t->addr), t->addr_len) != 0) {
    *fail = ErrnoReason(errno);
    return false;
  }
  t->dns_id = static_cast<uint16_t>(rng_());
  t->dns_query[0] = static_cast<uint8_t>(t->dns_id >> 8);
  t->dns_query[1] = static_cast<uint8_t>(t->dns_id);
  if (send(fd.get(), t->dns_query.data(), t->dns_query.size(), 0) < 0) {
    *fail = absl::StrCat("send: ", strerror(errno));
    return false;
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = MakeTag(Tag::kTarget, t->slot, t->seq);
  if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd.get(), &ev) != 0) {
    *fail = absl::StrCat("epoll_ctl: ", strerror(errno));
    return false;
  }
  t->fd = std::move(fd);
  return true;
}

bool HealthChecker::Engine::StartCurl(Target* t, std::string* fail) {
  t->body.clear();
  t->body_found = false;
  t->body_aborted = false;
  t->curl_err[0] = '\0';
  const CURLMcode rc = curl_multi_add_handle(multi_.get(), t->easy.get());
  if (rc != CURLM_OK) {
    *fail = absl::StrCat("curl_multi_add_handle: ", curl_multi_strerror(rc));
    return false;
  }
  t->curl_added = true;
  return true;
}

void HealthChecker::Engine::OnTargetEvent(uint32_t slot, uint32_t seq, uint32_t events) {
  Target* t = FindBySlot(slot);
  if (!t || !t->in_flight || t->seq != seq || !t->fd) return;  // that check is over
  if (t->spec.type == CheckType::kDns) {
    OnDnsReadable(t);
    return;
  }
  int err = 0;
  socklen_t len = sizeof(err);
  getsockopt(t->fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
  const int64_t now = MonoNs();
  if (err == 0 && (events & EPOLLOUT)) {
    Finish(t, true, "connected", now);
  } else {
    Finish(t, false, ErrnoReason(err ? err : ECONNRESET), now);
  }
}

void HealthChecker::Engine::OnDnsReadable(Target* t) {
  uint8_t buf[4096];
  for (;;) {
    const ssize_t n = recv(t->fd.get(), buf, sizeof(buf), 0);
    const int64_t now = MonoNs();
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      if (errno == ECONNREFUSED) {
        Finish(t, false, "port unreachable", now);
      } else {
        Finish(t, false, absl::StrCat("recv: ", strerror(errno)), now);
      }
      return;
    }
    // Only an answer to our question counts; anything else is ignored (spoofing, stray replies).
    if (n < 12 || buf[0] != static_cast<uint8_t>(t->dns_id >> 8) ||
        buf[1] != static_cast<uint8_t>(t->dns_id) || !(buf[2] & 0x80)) {
      continue;
    }
    const size_t qend = 12 + t->dns_qname_len + 4;
    bool same_question = buf[4] == 0 && buf[5] == 1 && static_cast<size_t>(n) >= qend;
    for (size_t i = 12; same_question && i < qend; ++i) {
      same_question = absl::ascii_tolower(buf[i]) == absl::ascii_tolower(t->dns_query[i]);
    }
    if (!same_question) {
      Finish(t, false, "response does not echo the question", now);
      return;
    }
    const uint8_t rcode = buf[3] & 0x0f;
    if (rcode != t->spec.expect_rcode) {
      Finish(
          t, false,
          absl::StrCat(
              "rcode ", DnsRcodeName(rcode),
              t->spec.expect_rcode ? " (expected " + DnsRcodeName(t->spec.expect_rcode) + ")" : ""),
          now);
      return;
    }
    if (t->spec.expect_answer.empty()) {
      Finish(t, true, absl::StrCat("rcode ", DnsRcodeName(rcode)), now);
      return;
    }
    ldns_pkt* raw = nullptr;
    if (ldns_wire2pkt(&raw, buf, static_cast<size_t>(n)) != LDNS_STATUS_OK) {
      Finish(t, false, "malformed response", now);
      return;
    }
    std::unique_ptr<ldns_pkt, LdnsPktDeleter> pkt(raw);
    const ldns_rr_list* answers = ldns_pkt_answer(pkt.get());
    bool matched = false;
    for (size_t i = 0; !matched && i < ldns_rr_list_rr_count(answers); ++i) {
      const ldns_rr* rr = ldns_rr_list_rr(answers, i);
      if (ldns_rr_get_type(rr) != t->spec.qtype || ldns_rr_rd_count(rr) == 0) continue;
      if (!t->expect_addr.empty()) {
        const ldns_rdf* rd = ldns_rr_rdf(rr, 0);
        matched = ldns_rdf_size(rd) == t->expect_addr.size() &&
                  memcmp(ldns_rdf_data(rd), t->expect_addr.data(), t->expect_addr.size()) == 0;
        continue;
      }
      // Other types compare as presentation text, case and a trailing dot aside.
      std::string text;
      for (size_t j = 0; j < ldns_rr_rd_count(rr); ++j) {
        char* s = ldns_rdf2str(ldns_rr_rdf(rr, j));
        if (!s) continue;
        absl::StrAppend(&text, j ? " " : "", s);
        free(s);
      }
      auto norm = [](std::string s) {
        s = absl::AsciiStrToLower(absl::StripAsciiWhitespace(s));
        if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
        if (!s.empty() && s.back() == '.') s.pop_back();
        return s;
      };
      matched = norm(text) == norm(t->spec.expect_answer);
    }
    if (matched) {
      Finish(t, true, absl::StrCat("answer ", t->spec.expect_answer), now);
    } else {
      Finish(t, false,
             absl::StrCat((buf[2] & 0x02) ? "truncated; " : "", "no answer matched ",
                          t->spec.expect_answer),
             now);
    }
    return;
  }
}

size_t HealthChecker::Engine::OnBody(char* data, size_t size, size_t n, void* userp) {
  Target* t = static_cast<Target*>(userp);
  const size_t len = size * n;
  const std::string& needle = t->spec.body_contains;
  if (needle.empty()) {
    // The status line is in; the body does not matter. Stop rather than download it.
    t->body_aborted = true;
    return 0;
  }
  constexpr size_t kMaxBody = 64 * 1024;
  const size_t room = kMaxBody - std::min(kMaxBody, t->body.size());
  const size_t from = t->body.size() >= needle.size() ? t->body.size() - needle.size() + 1 : 0;
  t->body.append(data, std::min(len, room));
  if (t->body.find(needle, from) != std::string::npos) {
    t->body_found = true;
    t->body_aborted = true;
    return 0;
  }
  if (t->body.size() >= kMaxBody) {
    t->body_aborted = true;  // not in the window: a verdict, not a download
    return 0;
  }
  return len;
}

int HealthChecker::Engine::CurlSockopt(void*, curl_socket_t fd, curlsocktype) {
  SetLingerZero(fd);
  return CURL_SOCKOPT_OK;
}

int HealthChecker::Engine::CurlSocketCb(CURL*, curl_socket_t s, int what, void* userp,
                                        void* socketp) {
  Engine* self = static_cast<Engine*>(userp);
  const int ep = self->epoll_.get();
  if (what == CURL_POLL_REMOVE) {
    epoll_ctl(ep, EPOLL_CTL_DEL, s, nullptr);  // may already be gone with the close
    curl_multi_assign(self->multi_.get(), s, nullptr);
    return 0;
  }
  epoll_event ev{};
  ev.events = ((what & CURL_POLL_IN) ? EPOLLIN : 0u) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0u);
  ev.data.u64 = MakeTag(Tag::kCurl, 0, static_cast<uint32_t>(s));
  if (socketp == nullptr) {
    if (epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev) != 0 && errno == EEXIST) {
      epoll_ctl(ep, EPOLL_CTL_MOD, s, &ev);
    }
    curl_multi_assign(self->multi_.get(), s, self);  // any non-null marks "registered"
  } else if (epoll_ctl(ep, EPOLL_CTL_MOD, s, &ev) != 0 && errno == ENOENT) {
    epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev);
  }
  return 0;
}

int HealthChecker::Engine::CurlTimerCb(CURLM*, long timeout_ms, void* userp) {
  Engine* self = static_cast<Engine*>(userp);
  // Acted on by the loop, never from inside this callback (libcurl forbids re-entry).
  self->curl_deadline_ns_ = timeout_ms < 0 ? -1 : MonoNs() + int64_t{timeout_ms} * 1'000'000;
  return 0;
}

void HealthChecker::Engine::DrainCurl() {
  int left = 0;
  while (CURLMsg* m = curl_multi_info_read(multi_.get(), &left)) {
    if (m->msg != CURLMSG_DONE) continue;
    // Copy out: the message dies with curl_multi_remove_handle (in Finish).
    CURL* easy = m->easy_handle;
    const CURLcode rc = m->data.result;
    Target* t = nullptr;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, reinterpret_cast<char**>(&t));
    if (t && t->in_flight && t->curl_added) {
      CurlDone(t, rc, MonoNs());
    } else {
      curl_multi_remove_handle(multi_.get(), easy);
    }
  }
}

void HealthChecker::Engine::CurlDone(Target* t, CURLcode rc, int64_t now) {
  const CheckSpec& s = t->spec;
  if (rc == CURLE_OK || (rc == CURLE_WRITE_ERROR && t->body_aborted)) {
    long code = 0;
    curl_easy_getinfo(t->easy.get(), CURLINFO_RESPONSE_CODE, &code);
    const bool status_ok = s.expect_status.empty()
                               ? code >= 200 && code <= 399
                               : std::find(s.expect_status.begin(), s.expect_status.end(), code) !=
                                     s.expect_status.end();
    if (!status_ok) {
      Finish(t, false, absl::StrCat("HTTP ", code), now);
    } else if (!s.body_contains.empty() && !t->body_found) {
      Finish(t, false, absl::StrCat("body did not contain ", s.body_contains), now);
    } else {
      Finish(t, true, absl::StrCat("HTTP ", code), now);
    }
    return;
  }
  std::string detail = t->curl_err[0] ? t->curl_err : curl_easy_strerror(rc);
  std::string reason;
  switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
      timeouts_.fetch_add(1, std::memory_order_relaxed);
      reason = absl::StrCat("timeout after ", s.timeout_ms, " ms");
      break;
    case CURLE_COULDNT_CONNECT: {
      long os_errno = 0;
      curl_easy_getinfo(t->easy.get(), CURLINFO_OS_ERRNO, &os_errno);
      reason = os_errno ? ErrnoReason(static_cast<int>(os_errno)) : "connect failed: " + detail;
      break;
    }
    case CURLE_PEER_FAILED_VERIFICATION:
      reason = absl::StrCat("certificate verify failed: ", detail);
      break;
    case CURLE_SSL_CONNECT_ERROR:
      reason = absl::StrCat("TLS handshake failed: ", detail);
      break;
    case CURLE_INTERFACE_FAILED:
      reason = absl::StrCat("cannot bind source ", s.source, ": ", detail);
      break;
    default:
      reason = detail;
  }
  Finish(t, false, std::move(reason), now);
}

void HealthChecker::Engine::Release(Target* t) {
  if (t->curl_added) {
    curl_multi_remove_handle(multi_.get(), t->easy.get());
    t->curl_added = false;
  }
  t->fd.reset();  // closing drops it from the epoll set
}

void HealthChecker::Engine::Cancel(Target* t) {
  Release(t);
  t->in_flight = false;
  t->timer_gen = ++next_gen_;
}

void HealthChecker::Engine::Finish(Target* t, bool ok, std::string reason, int64_t now) {
  // The verdict (and the caller's health word) first, the socket teardown after it: closing a
  // TCP socket with RST costs microseconds of kernel work that the verdict need not wait for.
  t->in_flight = false;
  const uint32_t slot = t->slot;
  const uint64_t gen = t->timer_gen = ++next_gen_;  // the timeout timer is void now
  checks_finished_.fetch_add(1, std::memory_order_relaxed);
  CheckResult r;
  r.source = CheckResult::Source::kCheck;
  r.ok = ok;
  r.reason = std::move(reason);
  r.latency_us = static_cast<uint32_t>(std::max<int64_t>(0, now - t->started_ns) / 1000);
  r.finished_unix_ms = UnixMs();
  r.finished_mono_ns = now;
  std::vector<Change> changes;
  ApplyVerdict(t, ok, r, &changes);
  Notify(changes);
  t = FindBySlot(slot);
  if (!t || t->timer_gen != gen) return;  // the callback reloaded: Update() cancelled it
  Release(t);
  // Keep the cadence of the due times, not of the (possibly late) starts.
  t->due_ns += int64_t{t->spec.interval_ms} * 1'000'000;
  if (t->due_ns < now) t->due_ns = now;
  ArmTarget(t, t->due_ns);
}

void HealthChecker::Engine::ApplyVerdict(Target* t, bool ok, const CheckResult& r,
                                         std::vector<Change>* changes) {
  std::lock_guard<std::mutex> lock(status_mu_);
  ++t->checks_run;
  t->has_result = true;
  t->last = r;
  bool changed = false;
  if (ok) {
    ++t->ok_streak;
    t->fail_streak = 0;
    // A drained target (from a feed) that checks keep passing comes back like a down one.
    if ((!t->up || t->drained) && t->ok_streak >= t->spec.rise) {
      t->up = true;
      t->drained = false;
      changed = true;
    }
  } else {
    ++t->fail_streak;
    t->ok_streak = 0;
    if (t->up && t->fail_streak >= t->spec.fall) {
      t->up = false;
      changed = true;
    }
  }
  if (changed) {
    t->since_ms = r.finished_unix_ms;
    changes->push_back({t->id, t->up, r});
    if (opt_.log_changes) {
      Log(absl::StrCat(t->name, " ", t->up ? "up" : "down", " (", r.reason, "; ",
                       t->up ? t->ok_streak : t->fail_streak, " in a row)"));
    }
  }
}

void HealthChecker::Engine::Notify(const std::vector<Change>& changes) {
  state_changes_.fetch_add(changes.size(), std::memory_order_relaxed);
  if (!opt_.on_change) return;
  for (const Change& c : changes) opt_.on_change(c.id, c.up, c.result);
}

// --- Feeds -------------------------------------------------------------------------------------

void HealthChecker::Engine::ApplyFeeds(std::vector<FeedSpec>& specs) {
  std::vector<std::unique_ptr<Feed>> next;
  for (FeedSpec& spec : specs) {
    auto same = std::find_if(feeds_.begin(), feeds_.end(),
                             [&](const auto& f) { return f && f->spec == spec; });
    if (same != feeds_.end()) {
      next.push_back(std::move(*same));  // unchanged: keeps its schedule and running command
      continue;
    }
    auto f = std::make_unique<Feed>();
    f->spec = std::move(spec);
    f->due_ns = MonoNs();
    next.push_back(std::move(f));
  }
  for (auto& old : feeds_) {
    if (old) KillCommand(old.get());
  }
  feeds_ = std::move(next);
  // Indexes moved: re-arm every feed (old heap entries die with their generation).
  for (auto& f : feeds_) {
    if (f->pid > 0) {
      // Its pipe and pidfd carry the old index; re-register them under the new one.
      for (auto [fd, tag] :
           {std::pair{f->out.get(), Tag::kFeedPipe}, std::pair{f->pidfd.get(), Tag::kFeedExit}}) {
        if (fd < 0) continue;
        epoll_event ev{};
        ev.events = EPOLLIN;
        const uint32_t index = static_cast<uint32_t>(&f - &feeds_[0]);
        ev.data.u64 = MakeTag(tag, index, f->seq);
        epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, fd, &ev);
      }
      ArmFeed(f.get(), f->started_ns + int64_t{f->spec.timeout_ms} * 1'000'000);
    } else {
      ArmFeed(f.get(), f->due_ns);
    }
  }
}

void HealthChecker::Engine::RunFeed(Feed* f, int64_t now) {
  if (f->spec.kind == FeedSpec::Kind::kFile) {
    PollFile(f);
    f->due_ns = now + int64_t{opt_.feed_file_poll_ms} * 1'000'000;
    ArmFeed(f, f->due_ns);
    return;
  }
  if (f->pid > 0) {
    RunError(f, absl::StrCat("killed after ", f->spec.timeout_ms, " ms; ignoring this run"));
    KillCommand(f);
    f->due_ns = std::max(f->due_ns + int64_t{f->spec.interval_ms} * 1'000'000, now);
    ArmFeed(f, f->due_ns);
    return;
  }
  SpawnCommand(f, now);
}

void HealthChecker::Engine::PollFile(Feed* f) {
  struct stat st;
  if (stat(f->spec.file.c_str(), &st) != 0) {
    const std::string err = absl::StrCat(f->Name(), ": ", strerror(errno), "; verdicts unchanged");
    if (err != f->last_error) Log(err);
    f->last_error = err;
    f->have_stat = false;
    return;
  }
  // Inode too: a file replaced by rename can keep its size and, within a tick, its mtime.
  if (f->have_stat && st.st_ino == f->last_stat.st_ino && st.st_dev == f->last_stat.st_dev &&
      st.st_size == f->last_stat.st_size && st.st_mtim.tv_sec == f->last_stat.st_mtim.tv_sec &&
      st.st_mtim.tv_nsec == f->last_stat.st_mtim.tv_nsec) {
    return;
  }
  UniqueFd fd(open(f->spec.file.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    const std::string err = absl::StrCat(f->Name(), ": ", strerror(errno), "; verdicts unchanged");
    if (err != f->last_error) Log(err);
    f->last_error = err;
    return;
  }
  std::string text;
  char buf[65536];
  ssize_t n;
  while ((n = read(fd.get(), buf, sizeof(buf))) > 0 && text.size() < opt_.max_feed_output) {
    text.append(buf, static_cast<size_t>(n));
  }
  f->last_error.clear();
  f->have_stat = true;
  f->last_stat = st;
  feed_runs_.fetch_add(1, std::memory_order_relaxed);
  ApplyFeedText(f, text);
}

void HealthChecker::Engine::SpawnCommand(Feed* f, int64_t now) {
  f->started_ns = now;
  f->due_ns = std::max(f->due_ns + int64_t{f->spec.interval_ms} * 1'000'000, now);
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) {
    Log(absl::StrCat(f->Name(), ": pipe: ", strerror(errno)));
    ArmFeed(f, f->due_ns);
    return;
  }
  UniqueFd rd(p[0]), wr(p[1]);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, wr.get(), STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // Its own process group, so that a timeout kills the shell and whatever it started; default
  // signal dispositions and an empty mask, whatever the daemon set for itself.
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  std::string cmd = f->spec.command;
  char sh[] = "sh", dash_c[] = "-c";
  char* argv[] = {sh, dash_c, cmd.data(), nullptr};
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, "/bin/sh", &fa, &attr, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  wr.reset();
  if (rc != 0) {
    Log(absl::StrCat(f->Name(), ": cannot run /bin/sh: ", strerror(rc)));
    ArmFeed(f, f->due_ns);
    return;
  }
  fcntl(rd.get(), F_SETFL, fcntl(rd.get(), F_GETFL) | O_NONBLOCK);
  f->pid = pid;
  f->seq = ++next_seq_;
  f->output.clear();
  f->eof = false;
  f->exited = false;
  f->out = std::move(rd);
  f->pidfd.reset(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
  const uint32_t index = static_cast<uint32_t>(
      std::find_if(feeds_.begin(), feeds_.end(), [f](const auto& x) { return x.get() == f; }) -
      feeds_.begin());
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = MakeTag(Tag::kFeedPipe, index, f->seq);
  epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, f->out.get(), &ev);
  if (f->pidfd) {
    ev.data.u64 = MakeTag(Tag::kFeedExit, index, f->seq);
    epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, f->pidfd.get(), &ev);
  }
  ArmFeed(f, now + int64_t{f->spec.timeout_ms} * 1'000'000);
}

void HealthChecker::Engine::OnFeedPipe(Feed* f) {
  char buf[16384];
  for (;;) {
    const ssize_t n = read(f->out.get(), buf, sizeof(buf));
    if (n > 0) {
      if (f->output.size() < opt_.max_feed_output) f->output.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    f->eof = true;
    f->out.reset();
    break;
  }
  if (!f->pidfd && !f->exited) {
    // No pidfd (kernel before 5.3): the shell closing stdout is taken as it exiting.
    if (waitpid(f->pid, &f->wait_status, 0) == f->pid) f->exited = true;
  }
  MaybeFinishCommand(f);
}

void HealthChecker::Engine::OnFeedExit(Feed* f) {
  const pid_t r = waitpid(f->pid, &f->wait_status, WNOHANG);
  if (r == 0) return;
  f->exited = true;
  if (r < 0) f->wait_status = -1;  // SIGCHLD ignored by the daemon: status lost
  f->pidfd.reset();
  MaybeFinishCommand(f);
}

void HealthChecker::Engine::MaybeFinishCommand(Feed* f) {
  if (!f->eof || !f->exited) return;
  const int status = f->wait_status;
  f->pid = -1;
  f->pidfd.reset();
  ArmFeed(f, f->due_ns);
  feed_runs_.fetch_add(1, std::memory_order_relaxed);
  if (f->output.size() >= opt_.max_feed_output) {
    RunError(f, absl::StrCat("output over ", opt_.max_feed_output, " bytes; ignoring this run"));
    return;
  }
  if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    const std::string why = status == -1 ? "exit status unknown"
                            : WIFEXITED(status)
                                ? absl::StrCat("exit status ", WEXITSTATUS(status))
                                : absl::StrCat("killed by signal ", WTERMSIG(status));
    RunError(f, absl::StrCat(why, "; ignoring this run"));
    return;
  }
  if (!f->run_error.empty()) Log(absl::StrCat(f->Name(), ": runs again"));
  f->run_error.clear();
  ApplyFeedText(f, f->output);
}

void HealthChecker::Engine::KillCommand(Feed* f) {
  if (f->pid <= 0) return;
  kill(-f->pid, SIGKILL);
  waitpid(f->pid, nullptr, 0);  // SIGKILL: immediate
  f->pid = -1;
  f->out.reset();
  f->pidfd.reset();
}

void HealthChecker::Engine::ApplyFeedText(Feed* f, const std::string& text) {
  std::vector<std::string> errors;
  const std::vector<FeedLine> lines = ParseFeedText(text, &errors);
  for (const std::string& e : errors) {
    if (f->logged.insert(e).second) Log(absl::StrCat(f->Name(), ": ", e));
  }
  std::vector<Change> changes;
  const int64_t now = MonoNs();
  const int64_t now_ms = UnixMs();
  {
    std::lock_guard<std::mutex> lock(status_mu_);
    for (const FeedLine& l : lines) {
      auto it = by_name_.find(l.target);
      if (it == by_name_.end()) {
        if (f->logged.insert("target:" + l.target).second) {
          Log(absl::StrCat(f->Name(), ": unknown target '", l.target, "' ignored"));
        }
        continue;
      }
      Target* t = slots_[it->second].get();
      const bool up = l.verdict == FeedVerdict::kUp;
      const bool drained = l.verdict == FeedVerdict::kDrain;
      if (t->up == up && t->drained == drained) continue;
      CheckResult r;
      r.source = CheckResult::Source::kFeed;
      r.ok = up;
      r.drained = drained;
      r.reason = absl::StrCat(f->Name(), ": ", up ? "up" : drained ? "drain" : "down");
      r.finished_unix_ms = now_ms;
      r.finished_mono_ns = now;
      t->up = up;
      t->drained = drained;
      t->since_ms = now_ms;
      // Checks must earn a full rise/fall from here to overturn the feed.
      t->ok_streak = 0;
      t->fail_streak = 0;
      if (t->spec.type == CheckType::kNone || !t->has_result) {
        t->last = r;
        t->has_result = true;
      }
      changes.push_back({t->id, up, r});
      if (opt_.log_changes) Log(absl::StrCat(t->name, " ", r.reason));
    }
  }
  Notify(changes);
}

// --- Status ------------------------------------------------------------------------------------

TargetStatus HealthChecker::Engine::Snapshot(const Target& t) {
  TargetStatus s;
  s.id = t.id;
  s.name = t.name;
  s.type = t.spec.type;
  s.up = t.up;
  s.drained = t.drained;
  s.since_unix_ms = t.since_ms;
  s.has_result = t.has_result;
  s.last = t.last;
  s.consecutive_ok = t.ok_streak;
  s.consecutive_fail = t.fail_streak;
  s.checks_run = t.checks_run;
  return s;
}

std::vector<TargetStatus> HealthChecker::Engine::Status() const {
  std::lock_guard<std::mutex> lock(status_mu_);
  std::vector<TargetStatus> out;
  out.reserve(by_name_.size());
  for (const auto& [name, slot] : by_name_) out.push_back(Snapshot(*slots_[slot]));
  return out;
}

std::optional<TargetStatus> HealthChecker::Engine::StatusOf(const std::string& name) const {
  std::lock_guard<std::mutex> lock(status_mu_);
  auto it = by_name_.find(name);
  if (it == by_name_.end()) return std::nullopt;
  return Snapshot(*slots_[it->second]);
}

CheckerStats HealthChecker::Engine::Stats() const {
  CheckerStats s;
  s.checks_started = checks_started_.load(std::memory_order_relaxed);
  s.checks_finished = checks_finished_.load(std::memory_order_relaxed);
  s.checks_late = checks_late_.load(std::memory_order_relaxed);
  s.max_start_delay_us = max_delay_us_.load(std::memory_order_relaxed);
  s.timeouts = timeouts_.load(std::memory_order_relaxed);
  s.state_changes = state_changes_.load(std::memory_order_relaxed);
  s.feed_runs = feed_runs_.load(std::memory_order_relaxed);
  return s;
}

// --- HealthChecker -----------------------------------------------------------------------------

absl::StatusOr<std::unique_ptr<HealthChecker>> HealthChecker::Create(Options options) {
  auto engine = std::make_unique<Engine>(std::move(options));
  if (absl::Status s = engine->Init(); !s.ok()) return s;
  return std::unique_ptr<HealthChecker>(new HealthChecker(std::move(engine)));
}

HealthChecker::HealthChecker(std::unique_ptr<Engine> engine) : engine_(std::move(engine)) {}
HealthChecker::~HealthChecker() = default;
void HealthChecker::Update(std::vector<CheckedTarget> targets) {
  engine_->Update(std::move(targets));
}
void HealthChecker::UpdateFeeds(std::vector<FeedSpec> feeds) {
  engine_->UpdateFeeds(std::move(feeds));
}
absl::Status HealthChecker::Start() { return engine_->Start(); }
void HealthChecker::Stop() { engine_->Stop(); }
std::vector<TargetStatus> HealthChecker::Status() const { return engine_->Status(); }
std::optional<TargetStatus> HealthChecker::StatusOf(const std::string& name) const {
  return engine_->StatusOf(name);
}
CheckerStats HealthChecker::Stats() const { return engine_->Stats(); }
int HealthChecker::thread_tid() const { return engine_->tid(); }

}  // namespace sextant::control
