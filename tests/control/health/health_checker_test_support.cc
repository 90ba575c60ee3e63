// The health-check tests' servers and harness (health_checker_test_support.h).
#include "tests/control/health/health_checker_test_support.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

extern char** environ;

namespace sextant::control::health_checker_test {

int64_t MsSince(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

// --- Servers -----------------------------------------------------------------------------------

std::string MakeTempDir() {
  char tmpl[] = "/tmp/sextant-hc-XXXXXX";
  const char* d = mkdtemp(tmpl);
  return d ? d : "/tmp";
}

void WriteFile(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  std::ofstream(tmp) << text;
  rename(tmp.c_str(), path.c_str());  // atomic: the feed poller never sees half a file
}

uint16_t FreeTcpPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

bool CanConnect(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  close(fd);
  return ok;
}
Child::Child(std::vector<std::string> argv) {
  std::vector<char*> args;
  for (std::string& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  if (posix_spawn(&pid_, args[0], &fa, nullptr, args.data(), environ) != 0) pid_ = -1;
  posix_spawn_file_actions_destroy(&fa);
}

void Child::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

bool WaitForPort(uint16_t port) {
  for (int i = 0; i < 200; ++i) {
    if (CanConnect(port)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return false;
}

void TcpServer::Start() {
  fd_ = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int one = 1;
  setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port_);
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  if (bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) ADD_FAILURE() << "bind";
  listen(fd_, 1024);
  socklen_t len = sizeof(a);
  getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.sin_port);
  stop_ = false;
  thread_ = std::thread([this] {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 20) <= 0) continue;
      sockaddr_in peer{};
      socklen_t plen = sizeof(peer);
      const int c = accept(fd_, reinterpret_cast<sockaddr*>(&peer), &plen);
      if (c < 0) continue;
      char text[INET_ADDRSTRLEN];
      inet_ntop(AF_INET, &peer.sin_addr, text, sizeof(text));
      {
        std::lock_guard<std::mutex> l(mu_);
        peers_.insert(text);
      }
      close(c);
    }
  });
}

void TcpServer::Stop() {
  if (fd_ < 0) return;
  stop_ = true;
  thread_.join();
  close(fd_);
  fd_ = -1;
}

std::set<std::string> TcpServer::peers() {
  std::lock_guard<std::mutex> l(mu_);
  return peers_;
}

DnsServer::DnsServer() {
  fd_ = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.sin_port);
  thread_ = std::thread([this] { Loop(); });
}

DnsServer::~DnsServer() {
  stop_ = true;
  thread_.join();
  close(fd_);
}

void DnsServer::Loop() {
  uint8_t q[512];
  while (!stop_) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, 20) <= 0) continue;
    sockaddr_storage peer;
    socklen_t plen = sizeof(peer);
    const ssize_t n = recvfrom(fd_, q, sizeof(q), 0, reinterpret_cast<sockaddr*>(&peer), &plen);
    if (n < 17) continue;
    const int count = ++queries_;
    Mode m = mode_;
    if (m == kSilent) continue;
    if (m == kAlternate) m = count % 2 ? kAnswer : kServFail;
    size_t qend = 12;
    while (qend < static_cast<size_t>(n) && q[qend] != 0) qend += q[qend] + 1;
    qend += 5;  // root label, type, class
    std::vector<uint8_t> r(q, q + qend);
    r[2] = 0x84;  // QR, AA
    r[3] = m == kServFail ? 2 : m == kNxDomain ? 3 : 0;
    if (m == kWrongId) r[1] ^= 0xff;
    const uint16_t qtype = (q[qend - 4] << 8) | q[qend - 3];
    if (m != kServFail && m != kNxDomain && qtype == 1) {
      r[7] = 1;  // ANCOUNT
      const uint8_t rr[] = {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 198, 18, 1, 1};
      r.insert(r.end(), rr, rr + sizeof(rr));
    }
    sendto(fd_, r.data(), r.size(), 0, reinterpret_cast<sockaddr*>(&peer), plen);
  }
}

namespace {

// python http.server answering every path with the status in <dir>/status and a body
// "<dir>/body host=<Host header> method=<method>".
constexpr char kHttpScript[] = R"(import http.server, os, sys
d = sys.argv[1]
def read(name, default):
    try:
        with open(os.path.join(d, name)) as f:
            return f.read().strip()
    except OSError:
        return default
class H(http.server.BaseHTTPRequestHandler):
    def go(self, body=True):
        status = int(read('status', '200'))
        payload = ('%s host=%s method=%s\n' % (read('body', 'OK'), self.headers.get('Host'),
                                              self.command)).encode()
        self.send_response(status)
        self.send_header('Content-Length', str(len(payload)))
        self.send_header('Connection', 'close')
        self.end_headers()
        if body:
            self.wfile.write(payload)
    def do_GET(self): self.go()
    def do_POST(self): self.go()
    def do_HEAD(self): self.go(False)
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(('127.0.0.1', int(sys.argv[2])), H).serve_forever()
)";

}  // namespace

HttpServer::HttpServer() : dir_(MakeTempDir()), port_(FreeTcpPort()) {
  WriteFile(dir_ + "/server.py", kHttpScript);
  child_ = std::make_unique<Child>(
      std::vector<std::string>{"/usr/bin/python3", dir_ + "/server.py", dir_, absl::StrCat(port_)});
  ready_ = WaitForPort(port_);
}

HttpServer::~HttpServer() {
  child_.reset();
  std::system(absl::StrCat("rm -rf ", dir_).c_str());
}

void HttpServer::set_status(int s) { WriteFile(dir_ + "/status", absl::StrCat(s)); }
void HttpServer::set_body(const std::string& b) { WriteFile(dir_ + "/body", b); }

// --- The checker under test --------------------------------------------------------------------

Harness::Harness() {
  HealthChecker::Options o;
  o.log_changes = false;
  o.feed_file_poll_ms = 50;
  o.on_change = [this](uint32_t id, bool up, const CheckResult& r) {
    std::lock_guard<std::mutex> l(mu_);
    events_.push_back({id, up, r, Clock::now()});
    cv_.notify_all();
  };
  auto c = HealthChecker::Create(std::move(o));
  EXPECT_TRUE(c.ok()) << c.status();
  checker_ = std::move(*c);
}

int Harness::WaitFor(uint32_t id, bool up, size_t from, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> l(mu_);
  int found = -1;
  cv_.wait_for(l, timeout, [&] {
    for (size_t i = from; i < events_.size(); ++i) {
      if (events_[i].id == id && events_[i].up == up) {
        found = static_cast<int>(i);
        return true;
      }
    }
    return false;
  });
  return found;
}

Event Harness::event(int i) {
  std::lock_guard<std::mutex> l(mu_);
  return events_.at(i);
}

size_t Harness::count() {
  std::lock_guard<std::mutex> l(mu_);
  return events_.size();
}

TargetStatus Harness::StatusOf(const std::string& name) {
  auto s = checker_->StatusOf(name);
  EXPECT_TRUE(s.has_value()) << name;
  return s.value_or(TargetStatus{});
}

bool Harness::WaitForChecks(const std::string& name, uint64_t n, int timeout_ms) {
  const auto start = Clock::now();
  while (MsSince(start) < timeout_ms) {
    auto s = checker_->StatusOf(name);
    if (s && s->checks_run >= n) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

CheckSpec Spec(CheckType type, uint16_t port, uint32_t rise, uint32_t fall) {
  CheckSpec c;
  c.type = type;
  c.address = "127.0.0.1";
  c.port = port;
  c.interval_ms = 100;
  c.timeout_ms = 100;
  c.rise = rise;
  c.fall = fall;
  return c;
}

CheckedTarget Target(uint32_t id, const std::string& name, std::optional<CheckSpec> spec,
                     bool initial_up) {
  return {id, name, std::move(spec), initial_up};
}

}  // namespace sextant::control::health_checker_test
