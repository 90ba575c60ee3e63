// The health-check engine (control/health/health_checker.h) against real servers on loopback: an
// in-process TCP listener and DNS responder, a python http.server script, `openssl s_server`
// with a certificate made for the test, and feed files and commands. Intervals are 100 ms so
// the whole binary runs in seconds; upper bounds on detection time carry generous slack for a
// loaded two-core machine, lower bounds check that rise/fall damping really happened.
#include "control/health/health_checker.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

extern char** environ;

namespace sextant::control {
namespace {

using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;

constexpr auto kSlack = std::chrono::milliseconds(900);  // scheduling noise on a busy machine

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

// A child process, killed (and reaped) when the object goes.
class Child {
 public:
  explicit Child(std::vector<std::string> argv) {
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
  ~Child() { Kill(); }
  void Kill() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  bool running() const { return pid_ > 0; }

 private:
  pid_t pid_ = -1;
};

bool WaitForPort(uint16_t port) {
  for (int i = 0; i < 200; ++i) {
    if (CanConnect(port)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return false;
}

// A TCP listener that accepts (and closes) in a thread and remembers who connected. Stop()
// closes it, so that connects are refused; Start() opens it again on the same port.
class TcpServer {
 public:
  explicit TcpServer(uint16_t port = 0) : port_(port) { Start(); }
  ~TcpServer() { Stop(); }
  void Start() {
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
  void Stop() {
    if (fd_ < 0) return;
    stop_ = true;
    thread_.join();
    close(fd_);
    fd_ = -1;
  }
  uint16_t port() const { return port_; }
  std::set<std::string> peers() {
    std::lock_guard<std::mutex> l(mu_);
    return peers_;
  }

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
  DnsServer() {
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
  ~DnsServer() {
    stop_ = true;
    thread_.join();
    close(fd_);
  }
  void set_mode(Mode m) { mode_ = m; }
  uint16_t port() const { return port_; }
  int queries() const { return queries_; }

 private:
  void Loop() {
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

  int fd_;
  uint16_t port_;
  std::atomic<bool> stop_{false};
  std::atomic<Mode> mode_{kAnswer};
  std::atomic<int> queries_{0};
  std::thread thread_;
};

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

class HttpServer {
 public:
  HttpServer() : dir_(MakeTempDir()), port_(FreeTcpPort()) {
    WriteFile(dir_ + "/server.py", kHttpScript);
    child_ = std::make_unique<Child>(std::vector<std::string>{
        "/usr/bin/python3", dir_ + "/server.py", dir_, absl::StrCat(port_)});
    ready_ = WaitForPort(port_);
  }
  ~HttpServer() {
    child_.reset();
    std::system(absl::StrCat("rm -rf ", dir_).c_str());
  }
  void set_status(int s) { WriteFile(dir_ + "/status", absl::StrCat(s)); }
  void set_body(const std::string& b) { WriteFile(dir_ + "/body", b); }
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
  Harness() {
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
  HealthChecker& checker() { return *checker_; }

  // Waits for a change of `id` to `up` after event number `from`; returns its index or -1.
  int WaitFor(uint32_t id, bool up, size_t from = 0,
              std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
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
  Event event(int i) {
    std::lock_guard<std::mutex> l(mu_);
    return events_.at(i);
  }
  size_t count() {
    std::lock_guard<std::mutex> l(mu_);
    return events_.size();
  }
  TargetStatus StatusOf(const std::string& name) {
    auto s = checker_->StatusOf(name);
    EXPECT_TRUE(s.has_value()) << name;
    return s.value_or(TargetStatus{});
  }
  // Waits until `name` has run at least `n` checks.
  bool WaitForChecks(const std::string& name, uint64_t n, int timeout_ms = 5000) {
    const auto start = Clock::now();
    while (MsSince(start) < timeout_ms) {
      auto s = checker_->StatusOf(name);
      if (s && s->checks_run >= n) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Event> events_;
  std::unique_ptr<HealthChecker> checker_;
};

CheckSpec Spec(CheckType type, uint16_t port, uint32_t rise = 2, uint32_t fall = 2) {
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

// --- TCP ---------------------------------------------------------------------------------------

TEST(HealthChecker, TcpDownAfterFallUpAfterRise) {
  TcpServer server;
  Harness h;
  const CheckSpec spec = Spec(CheckType::kTcp, server.port(), /*rise=*/2, /*fall=*/3);
  h.checker().Update({Target(7, "web1", spec, /*initial_up=*/false)});
  ASSERT_TRUE(h.checker().Start().ok());
  int up = h.WaitFor(7, true);
  ASSERT_GE(up, 0);
  EXPECT_EQ(h.event(up).result.reason, "connected");
  EXPECT_TRUE(h.event(up).result.ok);

  // Kill it: down after `fall` failures, no sooner than (fall-1) intervals after the first one
  // and no later than fall intervals plus a timeout.
  server.Stop();
  const auto killed = Clock::now();
  int down = h.WaitFor(7, false, up + 1);
  ASSERT_GE(down, 0);
  const auto detect = h.event(down).at - killed;
  EXPECT_GE(detect, std::chrono::milliseconds(spec.interval_ms * (spec.fall - 1) - 20));
  EXPECT_LE(detect,
            std::chrono::milliseconds(spec.interval_ms * spec.fall + spec.timeout_ms) + kSlack);
  EXPECT_EQ(h.event(down).result.reason, "connect refused");
  TargetStatus st = h.StatusOf("web1");
  EXPECT_FALSE(st.up);
  EXPECT_GE(st.consecutive_fail, spec.fall);
  EXPECT_EQ(st.last.reason, "connect refused");

  // Back: up after `rise` successes.
  server.Start();
  const auto restarted = Clock::now();
  up = h.WaitFor(7, true, down + 1);
  ASSERT_GE(up, 0);
  const auto back = h.event(up).at - restarted;
  EXPECT_GE(back, std::chrono::milliseconds(spec.interval_ms * (spec.rise - 1) - 20));
  EXPECT_LE(back,
            std::chrono::milliseconds(spec.interval_ms * spec.rise + spec.timeout_ms) + kSlack);
  st = h.StatusOf("web1");
  EXPECT_TRUE(st.up);
  EXPECT_GE(st.consecutive_ok, spec.rise);
  EXPECT_GE(st.checks_run, spec.fall + 2 * spec.rise);
  EXPECT_GT(st.since_unix_ms, 0);
  h.checker().Stop();
}

TEST(HealthChecker, TcpSourceAddress) {
  TcpServer server;
  Harness h;
  CheckSpec bound = Spec(CheckType::kTcp, server.port(), 1, 1);
  bound.source = "127.0.0.2";
  CheckSpec unbindable = bound;
  unbindable.source = "192.0.2.1";  // TEST-NET-1: not an address of this host
  h.checker().Update({Target(1, "bound", bound, false), Target(2, "unbindable", unbindable, true)});
  ASSERT_TRUE(h.checker().Start().ok());
  ASSERT_GE(h.WaitFor(1, true), 0);
  const int down = h.WaitFor(2, false);
  ASSERT_GE(down, 0);
  EXPECT_THAT(h.event(down).result.reason, HasSubstr("cannot bind source 192.0.2.1"));
  // The listener saw the probe come from the source address.
  for (int i = 0; i < 100 && !server.peers().count("127.0.0.2"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(server.peers(), (std::set<std::string>{"127.0.0.2"}));
}

// --- DNS ---------------------------------------------------------------------------------------

TEST(HealthChecker, DnsVerdicts) {
  DnsServer answering, servfail, nxdomain, silent, wrong_id;
  servfail.set_mode(DnsServer::kServFail);
  nxdomain.set_mode(DnsServer::kNxDomain);
  silent.set_mode(DnsServer::kSilent);
  wrong_id.set_mode(DnsServer::kWrongId);
  auto dns = [](uint16_t port, const std::string& expect_answer, uint8_t expect_rcode = 0) {
    CheckSpec c = Spec(CheckType::kDns, port, 1, 1);
    c.query = "health.example.test.";
    c.expect_answer = expect_answer;
    c.expect_rcode = expect_rcode;
    return c;
  };
  struct Row {
    std::string name;
    CheckSpec spec;
    bool up;
    std::string reason;
  } rows[] = {
      {"answer", dns(answering.port(), "198.18.1.1"), true, "answer 198.18.1.1"},
      {"noerror", dns(answering.port(), ""), true, "rcode NOERROR"},
      {"other-answer", dns(answering.port(), "198.18.1.2"), false, "no answer matched 198.18.1.2"},
      {"servfail", dns(servfail.port(), ""), false, "rcode SERVFAIL"},
      {"nx-expected", dns(nxdomain.port(), "", 3), true, "rcode NXDOMAIN"},
      {"nx-unexpected", dns(nxdomain.port(), ""), false, "rcode NXDOMAIN"},
      {"noerror-not-nx", dns(answering.port(), "", 3), false, "rcode NOERROR (expected NXDOMAIN)"},
      {"silent", dns(silent.port(), ""), false, "timeout after 100 ms"},
      {"wrong-id", dns(wrong_id.port(), ""), false, "timeout after 100 ms"},
  };
  Harness h;
  std::vector<CheckedTarget> targets;
  for (size_t i = 0; i < std::size(rows); ++i) {
    targets.push_back(Target(i, rows[i].name, rows[i].spec, !rows[i].up));
  }
  h.checker().Update(targets);
  ASSERT_TRUE(h.checker().Start().ok());
  for (size_t i = 0; i < std::size(rows); ++i) {
    const int e = h.WaitFor(i, rows[i].up);
    ASSERT_GE(e, 0) << rows[i].name;
    EXPECT_EQ(h.event(e).result.reason, rows[i].reason) << rows[i].name;
  }
  // Each answer took one query: the id is checked, RD is clear.
  EXPECT_GT(answering.queries(), 0);
}

TEST(HealthChecker, FlappingBackendNeverChangesState) {
  // Alternates NOERROR / SERVFAIL on every query (one server per target, so that each sees
  // the alternation): with rise=2 and fall=2 no streak gets to 2.
  DnsServer flapping1, flapping2;
  flapping1.set_mode(DnsServer::kAlternate);
  flapping2.set_mode(DnsServer::kAlternate);
  CheckSpec c1 = Spec(CheckType::kDns, flapping1.port(), 2, 2);
  c1.query = "flap.example.test.";
  CheckSpec c2 = c1;
  c2.port = flapping2.port();
  Harness h;
  h.checker().Update({Target(1, "flap-up", c1, true), Target(2, "flap-down", c2, false)});
  ASSERT_TRUE(h.checker().Start().ok());
  ASSERT_TRUE(h.WaitForChecks("flap-up", 12));
  ASSERT_TRUE(h.WaitForChecks("flap-down", 12));
  h.checker().Stop();
  EXPECT_EQ(h.count(), 0u);
  EXPECT_TRUE(h.StatusOf("flap-up").up);
  EXPECT_FALSE(h.StatusOf("flap-down").up);
  EXPECT_LE(h.StatusOf("flap-up").consecutive_ok + h.StatusOf("flap-up").consecutive_fail, 1u);
}

// --- HTTP / HTTPS ------------------------------------------------------------------------------

TEST(HealthChecker, HttpStatusBodyHostMethod) {
  HttpServer server;
  ASSERT_TRUE(server.ready());
  auto http = [&](std::function<void(CheckSpec&)> edit) {
    CheckSpec c = Spec(CheckType::kHttp, server.port(), 1, 1);
    c.path = "/health";
    c.interval_ms = 200;
    c.timeout_ms = 200;
    edit(c);
    return c;
  };
  struct Row {
    std::string name;
    CheckSpec spec;
    bool up;
    std::string reason;
  } rows[] = {
      {"plain", http([](CheckSpec&) {}), true, "HTTP 200"},
      {"body", http([](CheckSpec& c) { c.body_contains = "OK host="; }), true, "HTTP 200"},
      {"body-missing", http([](CheckSpec& c) { c.body_contains = "READY"; }), false,
       "body did not contain READY"},
      {"only-204", http([](CheckSpec& c) { c.expect_status = {204}; }), false, "HTTP 200"},
      {"host", http([](CheckSpec& c) {
         c.host = "www.example.test";
         c.body_contains = absl::StrCat("host=www.example.test:", c.port);
       }),
       true, "HTTP 200"},
      {"head", http([](CheckSpec& c) { c.method = HttpMethod::kHead; }), true, "HTTP 200"},
      {"post", http([](CheckSpec& c) {
         c.method = HttpMethod::kPost;
         c.body_contains = "method=POST";
       }),
       true, "HTTP 200"},
      {"refused", http([](CheckSpec& c) { c.port = FreeTcpPort(); }), false, "connect refused"},
  };
  Harness h;
  std::vector<CheckedTarget> targets;
  for (size_t i = 0; i < std::size(rows); ++i) {
    targets.push_back(Target(i, rows[i].name, rows[i].spec, !rows[i].up));
  }
  h.checker().Update(targets);
  ASSERT_TRUE(h.checker().Start().ok());
  for (size_t i = 0; i < std::size(rows); ++i) {
    const int e = h.WaitFor(i, rows[i].up);
    ASSERT_GE(e, 0) << rows[i].name << ": " << h.StatusOf(rows[i].name).last.reason;
    EXPECT_EQ(h.event(e).result.reason, rows[i].reason) << rows[i].name;
  }

  // The server starts failing: every target that was up goes down with "HTTP 503".
  const size_t before = h.count();
  server.set_status(503);
  const int e = h.WaitFor(0, false, before);
  ASSERT_GE(e, 0);
  EXPECT_EQ(h.event(e).result.reason, "HTTP 503");
}

class Tls : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(MakeTempDir());
    const std::string cmd = absl::StrCat(
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 "
        "-subj /CN=health.example.test -addext subjectAltName=DNS:health.example.test -keyout ",
        *dir_, "/key.pem -out ", *dir_, "/cert.pem >/dev/null 2>&1");
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
  static void TearDownTestSuite() {
    std::system(absl::StrCat("rm -rf ", *dir_).c_str());
    delete dir_;
  }
  static std::string* dir_;
};
std::string* Tls::dir_ = nullptr;

TEST_F(Tls, CertificateVerification) {
  // One s_server per row: s_server serves one connection at a time, and rows sharing one could
  // wait behind each other past the timeout, which would report a timeout instead of the
  // verification result under test. The timeout is generous for a loaded machine under ASan.
  std::vector<std::unique_ptr<Child>> servers;
  int next_row = 0;
  auto https = [&](std::function<void(CheckSpec&)> edit) {
    const uint16_t port = FreeTcpPort();
    servers.push_back(std::make_unique<Child>(
        std::vector<std::string>{"/usr/bin/openssl", "s_server", "-quiet", "-www", "-accept",
                                 absl::StrCat("127.0.0.1:", port), "-cert", *dir_ + "/cert.pem",
                                 "-key", *dir_ + "/key.pem"}));
    EXPECT_TRUE(WaitForPort(port)) << "row " << next_row;
    ++next_row;
    CheckSpec c = Spec(CheckType::kHttps, port, 1, 1);
    c.interval_ms = 500;
    c.timeout_ms = 3000;
    edit(c);
    return c;
  };
  struct Row {
    std::string name;
    CheckSpec spec;
    bool up;
    std::string reason;
  } rows[] = {
      {"verify-system-ca", https([](CheckSpec&) {}), false, "certificate verify failed"},
      {"no-verify", https([](CheckSpec& c) { c.verify = false; }), true, "HTTP 200"},
      {"own-ca", https([&](CheckSpec& c) {
         c.ca_file = *dir_ + "/cert.pem";
         c.host = "health.example.test";
       }),
       true, "HTTP 200"},
      {"own-ca-wrong-name", https([&](CheckSpec& c) {
         c.ca_file = *dir_ + "/cert.pem";
         c.host = "other.example.test";
       }),
       false, "certificate verify failed"},
  };
  Harness h;
  std::vector<CheckedTarget> targets;
  for (size_t i = 0; i < std::size(rows); ++i) {
    targets.push_back(Target(i, rows[i].name, rows[i].spec, !rows[i].up));
  }
  h.checker().Update(targets);
  ASSERT_TRUE(h.checker().Start().ok());
  for (size_t i = 0; i < std::size(rows); ++i) {
    const int e = h.WaitFor(i, rows[i].up, 0, std::chrono::milliseconds(15000));
    ASSERT_GE(e, 0) << rows[i].name << ": " << h.StatusOf(rows[i].name).last.reason;
    EXPECT_THAT(h.event(e).result.reason, HasSubstr(rows[i].reason)) << rows[i].name;
  }
}

// --- Feeds -------------------------------------------------------------------------------------

TEST(HealthChecker, FeedFile) {
  const std::string dir = MakeTempDir();
  const std::string feed = dir + "/feed.txt";
  WriteFile(feed, "# maintenance\nt1 down\nt2 drain   # until Friday\nghost up\nt3 sideways\n");
  Harness h;
  h.checker().Update({Target(1, "t1", std::nullopt, true), Target(2, "t2", std::nullopt, true),
                      Target(3, "t3", std::nullopt, true)});
  h.checker().UpdateFeeds({FeedSpec{FeedSpec::Kind::kFile, feed, "", 0, 0, 0}});
  ASSERT_TRUE(h.checker().Start().ok());
  int e = h.WaitFor(1, false);
  ASSERT_GE(e, 0);
  EXPECT_EQ(h.event(e).result.source, CheckResult::Source::kFeed);
  e = h.WaitFor(2, false);
  ASSERT_GE(e, 0);
  EXPECT_TRUE(h.event(e).result.drained);
  EXPECT_TRUE(h.StatusOf("t2").drained);
  EXPECT_TRUE(h.StatusOf("t3").up);  // the bad line changed nothing

  // Rewritten (renamed into place): applied at the next poll, no rise/fall.
  const size_t before = h.count();
  const auto written = Clock::now();
  WriteFile(feed, "t1 up\nt2 up\n");
  e = h.WaitFor(1, true, before);
  ASSERT_GE(e, 0);
  EXPECT_LE(h.event(e).at - written, std::chrono::milliseconds(50) + kSlack);
  ASSERT_GE(h.WaitFor(2, true, before), 0);
  EXPECT_FALSE(h.StatusOf("t2").drained);
  h.checker().Stop();
  std::system(absl::StrCat("rm -rf ", dir).c_str());
}

TEST(HealthChecker, FeedCommand) {
  const std::string dir = MakeTempDir();
  Harness h;
  h.checker().Update({Target(1, "t1", std::nullopt, true), Target(2, "t2", std::nullopt, true),
                      Target(3, "t3", std::nullopt, true)});
  h.checker().UpdateFeeds({
      FeedSpec{FeedSpec::Kind::kCommand, "", "printf 't1 down\\n'", 100, 100, 0},
      // Non-zero exit: its output is ignored.
      FeedSpec{FeedSpec::Kind::kCommand, "", "echo t2 down; exit 3", 100, 100, 0},
      // Killed at the timeout, with the shell's children: nothing applied.
      FeedSpec{FeedSpec::Kind::kCommand, "", "sleep 5; echo t3 down", 100, 100, 0},
  });
  ASSERT_TRUE(h.checker().Start().ok());
  ASSERT_GE(h.WaitFor(1, false), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_TRUE(h.StatusOf("t2").up);
  EXPECT_TRUE(h.StatusOf("t3").up);
  EXPECT_GE(h.checker().Stats().feed_runs, 3u);
  h.checker().Stop();
  // No children left behind (killed and reaped).
  EXPECT_EQ(waitpid(-1, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
  EXPECT_NE(std::system("pgrep -f 'sleep 5; echo t[3]' >/dev/null"), 0);
  std::system(absl::StrCat("rm -rf ", dir).c_str());
}

// --- Reload, lifecycle, scale ------------------------------------------------------------------

TEST(HealthChecker, ReloadKeepsState) {
  TcpServer server;
  const uint16_t closed = FreeTcpPort();
  Harness h;
  const CheckSpec refused = Spec(CheckType::kTcp, closed, 1, 1);
  h.checker().Update({Target(1, "kept", refused, true), Target(2, "gone", refused, true)});
  ASSERT_TRUE(h.checker().Start().ok());
  ASSERT_GE(h.WaitFor(1, false), 0);
  ASSERT_TRUE(h.WaitForChecks("kept", 3));
  const TargetStatus before = h.StatusOf("kept");

  // Reload: "kept" now has id 11 and the daemon believes it up (its configured initial); the
  // checker keeps it down and says so through the callback under the new id.
  const size_t n = h.count();
  h.checker().Update({Target(11, "kept", refused, true), Target(3, "new", std::nullopt, false)});
  const int e = h.WaitFor(11, false, n, std::chrono::milliseconds(100));
  ASSERT_GE(e, 0);
  EXPECT_EQ(h.event(e).result.source, CheckResult::Source::kReload);
  const TargetStatus after = h.StatusOf("kept");
  EXPECT_EQ(after.id, 11u);
  EXPECT_FALSE(after.up);
  EXPECT_EQ(after.since_unix_ms, before.since_unix_ms);
  EXPECT_GE(after.checks_run, before.checks_run);
  EXPECT_FALSE(h.checker().StatusOf("gone").has_value());
  EXPECT_FALSE(h.StatusOf("new").up);
  EXPECT_EQ(h.checker().Status().size(), 2u);

  // A changed check (now pointing at a live port) keeps the state and counters, then moves it.
  h.checker().Update({Target(11, "kept", Spec(CheckType::kTcp, server.port(), 1, 1), false),
                      Target(3, "new", std::nullopt, false)});
  EXPECT_GE(h.StatusOf("kept").checks_run, before.checks_run);
  ASSERT_GE(h.WaitFor(11, true, n), 0);
}

TEST(HealthChecker, StopAbandonsChecksAndLeaksNothing) {
  auto count_fds = [] {
    int n = 0;
    if (DIR* d = opendir("/proc/self/fd")) {
      while (readdir(d)) ++n;
      closedir(d);
    }
    return n;
  };
  DnsServer silent;
  silent.set_mode(DnsServer::kSilent);
  HttpServer http;
  ASSERT_TRUE(http.ready());
  const int fds_before = count_fds();
  {
    Harness h;
    std::vector<CheckedTarget> targets;
    for (uint32_t i = 0; i < 50; ++i) {
      CheckSpec d = Spec(CheckType::kDns, silent.port());
      d.query = "x.test.";
      d.interval_ms = d.timeout_ms = 1000;  // in flight when we stop
      targets.push_back(Target(i, absl::StrCat("dns", i), d, true));
      CheckSpec w = Spec(CheckType::kHttp, http.port());
      w.interval_ms = w.timeout_ms = 1000;
      targets.push_back(Target(100 + i, absl::StrCat("http", i), w, true));
    }
    h.checker().Update(targets);
    h.checker().UpdateFeeds({FeedSpec{FeedSpec::Kind::kCommand, "", "sleep 3", 1000, 1000, 0}});
    ASSERT_TRUE(h.checker().Start().ok());
    EXPECT_NE(h.checker().thread_tid(), 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_FALSE(h.checker().Start().ok());  // already running
    h.checker().Stop();
    h.checker().Stop();  // idempotent
    EXPECT_EQ(h.checker().thread_tid(), 0);
    // Restartable.
    ASSERT_TRUE(h.checker().Start().ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_EQ(count_fds(), fds_before);
}

TEST(HealthChecker, ThousandTcpTargetsAllComeUp) {
  TcpServer server;
  Harness h;
  std::vector<CheckedTarget> targets;
  for (uint32_t i = 0; i < 1000; ++i) {
    CheckSpec c = Spec(CheckType::kTcp, server.port(), 1, 1);
    c.interval_ms = 500;
    c.timeout_ms = 500;
    targets.push_back(Target(i, absl::StrCat("t", i), c, false));
  }
  h.checker().Update(targets);
  ASSERT_TRUE(h.checker().Start().ok());
  const auto start = Clock::now();
  while (h.count() < 1000 && MsSince(start) < 5000) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(h.count(), 1000u);
  // First checks are spread over the interval, not fired together.
  EXPECT_GE(MsSince(start), 250);
  for (const TargetStatus& s : h.checker().Status()) EXPECT_TRUE(s.up) << s.name;
}

}  // namespace
}  // namespace sextant::control
