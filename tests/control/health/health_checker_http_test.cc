// HTTP and HTTPS checks: status, body, Host header and method against a python http.server, and
// certificate verification against `openssl s_server` with a certificate made for the test.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "control/health/health_checker.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/control/health/health_checker_test_support.h"

namespace sextant::control::health_checker_test {
namespace {

using ::testing::HasSubstr;

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
    std::ofstream(*dir_ + "/junk.pem") << "-----BEGIN CERTIFICATE-----\nnot base64\n"
                                       << "-----END CERTIFICATE-----\n";
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
      {"own-ca-unusable", https([&](CheckSpec& c) {
         c.ca_file = *dir_ + "/junk.pem";
         c.host = "health.example.test";
       }),
       false, "junk.pem"},
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

// Each verifying check trusts its own CA file, whichever check connected first: with libcurl's
// CA cache on, a check added after a system-CA check got the system store and never came up.
TEST_F(Tls, EachCheckTrustsItsOwnCaFileWhicheverRanFirst) {
  const uint16_t port = FreeTcpPort();
  Child server({"/usr/bin/openssl", "s_server", "-quiet", "-www", "-accept",
                absl::StrCat("127.0.0.1:", port), "-cert", *dir_ + "/cert.pem", "-key",
                *dir_ + "/key.pem"});
  ASSERT_TRUE(WaitForPort(port));
  CheckSpec system = Spec(CheckType::kHttps, port, 1, 1);
  system.interval_ms = 300;
  system.timeout_ms = 3000;
  system.host = "health.example.test";
  CheckSpec own = system;
  own.ca_file = *dir_ + "/cert.pem";
  Harness h;
  std::vector<CheckedTarget> targets = {Target(0, "system", system, true)};
  h.checker().Update(targets);
  ASSERT_TRUE(h.checker().Start().ok());
  ASSERT_GE(h.WaitFor(0, false, 0, std::chrono::milliseconds(15000)), 0);
  targets.push_back(Target(1, "own", own, false));
  h.checker().Update(targets);
  const int e = h.WaitFor(1, true, 0, std::chrono::milliseconds(15000));
  ASSERT_GE(e, 0) << h.StatusOf("own").last.reason;
  EXPECT_EQ(h.event(e).result.reason, "HTTP 200");
}

}  // namespace
}  // namespace sextant::control::health_checker_test
