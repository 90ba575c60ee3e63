// Health-check engine throughput (control/health/health_checker.h): N TCP or HTTP targets at one
// interval against in-process loopback servers, for a fixed time. Reports checks per second
// against the N/interval the schedule asks for, late starts, the checker thread's CPU, probe
// latency and verdict latency (result seen -> callback entered). A plain main, not Google
// Benchmark: the quantity is a rate sustained over seconds, not the cost of one call.
//
//   health_check_benchmark --kind=tcp --targets=10000 --interval-ms=1000 --seconds=10
//   health_check_benchmark --kind=http --targets=2000 --interval-ms=1000 --seconds=10
//
// The checker thread is pinned to CPU 0 and the servers to the other CPUs (when there are).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "control/health/health_checker.h"

namespace {

using sextant::control::CheckedTarget;
using sextant::control::CheckResult;
using sextant::control::CheckSpec;
using sextant::control::CheckType;
using sextant::control::HealthChecker;

int64_t MonoNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

// utime + stime of one thread, in seconds (fields 14 and 15 of /proc/self/task/TID/stat).
double ThreadCpuSeconds(int tid) {
  std::ifstream in(absl::StrCat("/proc/self/task/", tid, "/stat"));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t paren = text.rfind(')');
  if (paren == std::string::npos) return 0;
  std::vector<std::string> f = absl::StrSplit(text.substr(paren + 2), ' ');
  // After "pid (comm) ", field 3 (state) is f[0]; utime (14) is f[11], stime (15) f[12].
  uint64_t ut = 0, st = 0;
  if (f.size() < 13 || !absl::SimpleAtoi(f[11], &ut) || !absl::SimpleAtoi(f[12], &st)) return 0;
  return static_cast<double>(ut + st) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

void Pin(int tid, int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  sched_setaffinity(tid, sizeof(set), &set);
}

// An epoll server on 127.0.0.1: TCP mode accepts and closes at once; HTTP mode reads a request
// head and answers 200 with Connection: close. Big backlog: ten thousand connects a second
// arrive in bursts.
class LoopbackServer {
 public:
  explicit LoopbackServer(bool http) : http_(http) {
    lfd_ = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int one = 1;
    setsockopt(lfd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    bind(lfd_, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    listen(lfd_, 65535);
    socklen_t len = sizeof(a);
    getsockname(lfd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    ep_ = epoll_create1(0);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = lfd_;
    epoll_ctl(ep_, EPOLL_CTL_ADD, lfd_, &ev);
    thread_ = std::thread([this] { Loop(); });
  }
  ~LoopbackServer() {
    stop_ = true;
    thread_.join();
    for (auto& [fd, buf] : conns_) close(fd);
    close(ep_);
    close(lfd_);
  }
  uint16_t port() const { return port_; }
  int tid() const { return tid_; }
  uint64_t accepted() const { return accepted_; }

 private:
  void Loop() {
    tid_ = static_cast<int>(gettid());
    epoll_event evs[256];
    static constexpr char kResponse[] =
        "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nOK\n";
    while (!stop_) {
      const int n = epoll_wait(ep_, evs, 256, 50);
      for (int i = 0; i < n; ++i) {
        const int fd = evs[i].data.fd;
        if (fd == lfd_) {
          for (;;) {
            const int c = accept4(lfd_, nullptr, nullptr, SOCK_NONBLOCK);
            if (c < 0) break;
            ++accepted_;
            if (!http_) {
              close(c);
              continue;
            }
            epoll_event ev{};
            ev.events = EPOLLIN;
            ev.data.fd = c;
            epoll_ctl(ep_, EPOLL_CTL_ADD, c, &ev);
            conns_[c];
          }
          continue;
        }
        char buf[4096];
        const ssize_t r = read(fd, buf, sizeof(buf));
        std::string& head = conns_[fd];
        if (r > 0) head.append(buf, static_cast<size_t>(r));
        if (r > 0 && head.find("\r\n\r\n") == std::string::npos) continue;
        if (r > 0) {
          ssize_t w = write(fd, kResponse, sizeof(kResponse) - 1);
          (void)w;
        }
        conns_.erase(fd);
        close(fd);
      }
    }
  }

  bool http_;
  int lfd_ = -1;
  int ep_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> tid_{0};
  std::atomic<uint64_t> accepted_{0};
  std::map<int, std::string> conns_;
  std::thread thread_;
};

double Percentile(std::vector<int64_t>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return static_cast<double>(v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))]);
}

}  // namespace

int main(int argc, char** argv) {
  std::string kind = "tcp";
  int targets = 10000, interval_ms = 1000, seconds = 10;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](const char* name, int* out) {
      const std::string prefix = absl::StrCat("--", name, "=");
      return a.rfind(prefix, 0) == 0 && absl::SimpleAtoi(a.substr(prefix.size()), out);
    };
    if (a.rfind("--kind=", 0) == 0) {
      kind = a.substr(7);
    } else if (!value("targets", &targets) && !value("interval-ms", &interval_ms) &&
               !value("seconds", &seconds)) {
      fprintf(stderr,
              "usage: %s [--kind=tcp|http] [--targets=N] [--interval-ms=MS] [--seconds=S]\n",
              argv[0]);
      return 2;
    }
  }
  const bool http = kind == "http";
  LoopbackServer server(http);

  // Verdict latency samples: written on the checker thread, read after Stop().
  std::vector<int64_t> verdict_ns;
  verdict_ns.reserve(targets);
  HealthChecker::Options o;
  o.log_changes = false;
  o.on_change = [&](uint32_t, bool, const CheckResult& r) {
    verdict_ns.push_back(MonoNs() - r.finished_mono_ns);
  };
  auto checker = HealthChecker::Create(std::move(o));
  if (!checker.ok()) {
    fprintf(stderr, "%s\n", checker.status().ToString().c_str());
    return 1;
  }
  std::vector<CheckedTarget> list;
  for (int i = 0; i < targets; ++i) {
    CheckSpec c;
    c.type = http ? CheckType::kHttp : CheckType::kTcp;
    c.address = "127.0.0.1";
    c.port = server.port();
    c.path = "/health";
    c.interval_ms = static_cast<uint32_t>(interval_ms);
    c.timeout_ms = static_cast<uint32_t>(interval_ms);
    c.rise = 2;
    c.fall = 3;
    // Down at first: each target's one "up" verdict is a verdict-latency sample.
    list.push_back({static_cast<uint32_t>(i), absl::StrCat("t", i), c, false});
  }
  (*checker)->Update(std::move(list));
  if (!(*checker)->Start().ok()) return 1;
  const int tid = (*checker)->thread_tid();
  const int cpus = static_cast<int>(std::thread::hardware_concurrency());
  Pin(tid, 0);
  if (cpus > 1) Pin(server.tid(), 1);

  // One interval of warm-up (first checks are spread over it), then the measured window.
  std::this_thread::sleep_for(std::chrono::milliseconds(interval_ms));
  const auto s0 = (*checker)->Stats();
  const double cpu0 = ThreadCpuSeconds(tid);
  const int64_t t0 = MonoNs();
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  const auto s1 = (*checker)->Stats();
  const double cpu1 = ThreadCpuSeconds(tid);
  const double wall = static_cast<double>(MonoNs() - t0) / 1e9;
  std::vector<int64_t> probe_us;
  size_t up = 0;
  std::map<std::string, int> failures;
  for (const auto& s : (*checker)->Status()) {
    probe_us.push_back(s.last.latency_us);
    up += s.up;
    if (!s.last.ok) ++failures[s.last.reason];
  }
  (*checker)->Stop();

  const double finished = static_cast<double>(s1.checks_finished - s0.checks_finished);
  const double wanted = static_cast<double>(targets) * 1000.0 / interval_ms;
  printf("kind=%s targets=%d interval=%dms window=%.1fs cpus=%d\n", kind.c_str(), targets,
         interval_ms, wall, cpus);
  printf("checks/s: %.0f (schedule asks %.0f, %.1f%%)\n", finished / wall, wanted,
         100.0 * finished / wall / wanted);
  printf("late starts (>50 ms): %lu of %lu; max start delay %.1f ms; timeouts %lu\n",
         static_cast<unsigned long>(s1.checks_late - s0.checks_late),
         static_cast<unsigned long>(s1.checks_started - s0.checks_started),
         static_cast<double>(s1.max_start_delay_us) / 1000.0,
         static_cast<unsigned long>(s1.timeouts - s0.timeouts));
  printf("checker thread CPU: %.2f s in %.1f s = %.1f%% of one core (%.1f us per check)\n",
         cpu1 - cpu0, wall, 100.0 * (cpu1 - cpu0) / wall, 1e6 * (cpu1 - cpu0) / finished);
  printf("targets up at the end: %zu of %d\n", up, targets);
  for (const auto& [reason, n] : failures)
    printf("  last result failed: %d x %s\n", n, reason.c_str());
  printf("probe latency (last per target): p50 %.0f us, p99 %.0f us\n", Percentile(probe_us, 0.50),
         Percentile(probe_us, 0.99));
  const double v50 = Percentile(verdict_ns, 0.50), v99 = Percentile(verdict_ns, 0.99);
  const double vmax = verdict_ns.empty() ? 0.0 : static_cast<double>(verdict_ns.back());
  printf(
      "verdict latency (result seen -> callback), %zu samples: p50 %.2f us, p99 %.2f us, "
      "max %.2f us\n",
      verdict_ns.size(), v50 / 1000, v99 / 1000, vmax / 1000);
  return 0;
}
