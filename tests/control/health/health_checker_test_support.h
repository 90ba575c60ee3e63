// Shared by the health-check engine tests (health_checker_*_test.cc): real servers on loopback
// (an in-process TCP listener and DNS responder, a python http.server script, child processes
// such as `openssl s_server`), and a Harness around the checker that records every change its
// callback reports. Intervals are 100 ms so that each binary runs in seconds; upper bounds on
// detection time carry generous slack (kSlack) for a loaded two-core machine.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "control/health/health_checker.h"

// The health-checker tests live in this namespace too, so that the servers and the harness need
// no qualification.
namespace sextant::control::health_checker_test {

using Clock = std::chrono::steady_clock;

inline constexpr auto kSlack = std::chrono::milliseconds(900);  // scheduling noise, busy machine

int64_t MsSince(Clock::time_point t);

// --- Servers -----------------------------------------------------------------------------------

std::string MakeTempDir();
// Writes through a rename, so that a reader sees the old text or the new one.
void WriteFile(const std::string& path, const std::string& text);
uint16_t FreeTcpPort();
bool CanConnect(uint16_t port);

// A child process, killed (and reaped) when the object goes.
class Child {
 public:
  explicit Child(std::vector<std::string> argv);
  ~Child() { Kill(); }
  void Kill();
  bool running() const { return pid_ > 0; }

 private:
  pid_t pid_ = -1;
};

bool WaitForPort(uint16_t port);

// A TCP listener that accepts (and closes) in a thread and remembers who connected. Stop()
// closes it, so that connects are refused; Start() opens it again on the same port.
class TcpServer {
 public:
  explicit TcpServer(uint16_t port = 0) : port_(port) { Start(); }
  ~TcpServer() { Stop(); }
  void Start();
  void Stop();
  uint16_t port() const { return port_; }
  std::set<std::string> peers();

 private:
  uint16_t port_;
  int fd_ = -1;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  std::set<std::string> peers_;
};

// A UDP DNS responder answering every A question with 198.18.1.1.
class DnsServer {
 public:
  enum Mode { kAnswer, kServFail, kNxDomain, kAlternate, kSilent, kWrongId };
  DnsServer();
  ~DnsServer();
  void set_mode(Mode m) { mode_ = m; }
  uint16_t port() const { return port_; }
  int queries() const { return queries_; }

 private:
  void Loop();

  int fd_;
  uint16_t port_;
  std::atomic<bool> stop_{false};
  std::atomic<Mode> mode_{kAnswer};
  std::atomic<int> queries_{0};
  std::thread thread_;
};

// python http.server answering every path with the status in <dir>/status and a body
// "<dir>/body host=<Host header> method=<method>".
class HttpServer {
 public:
  HttpServer();
  ~HttpServer();
  void set_status(int s);
  void set_body(const std::string& b);
  bool ready() const { return ready_; }
  uint16_t port() const { return port_; }

 private:
  std::string dir_;
  uint16_t port_;
  std::unique_ptr<Child> child_;
  bool ready_ = false;
};

// --- The checker under test --------------------------------------------------------------------

struct Event {
  uint32_t id;
  bool up;
  CheckResult result;
  Clock::time_point at;
};

// Creates a checker whose callback records every change.
class Harness {
 public:
  Harness();
  HealthChecker& checker() { return *checker_; }

  // Waits for a change of `id` to `up` after event number `from`; returns its index or -1.
  int WaitFor(uint32_t id, bool up, size_t from = 0,
              std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));
  Event event(int i);
  size_t count();
  TargetStatus StatusOf(const std::string& name);
  // Waits until `name` has run at least `n` checks.
  bool WaitForChecks(const std::string& name, uint64_t n, int timeout_ms = 5000);

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Event> events_;
  std::unique_ptr<HealthChecker> checker_;
};

CheckSpec Spec(CheckType type, uint16_t port, uint32_t rise = 2, uint32_t fall = 2);

CheckedTarget Target(uint32_t id, const std::string& name, std::optional<CheckSpec> spec,
                     bool initial_up);

}  // namespace sextant::control::health_checker_test
