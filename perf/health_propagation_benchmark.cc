// Health-change propagation: the time from a check's verdict to the first DNS answer that
// reflects it, inside the box.
//
// The real pieces, in one process: the HealthChecker (TCP checks against a listener on
// loopback that this program opens and closes), the daemon's HealthTable storing the health
// word into a real control block in /dev/shm, and an "lcore" thread that answers a query for a
// failover name through the real Engine in a busy loop, exactly as a dataplane worker does, and
// timestamps the first answer that changed. The verdict's timestamp is the checker's
// (CheckResult::finished_mono_ns: when the probe's outcome was seen), so the figure covers
// verdict -> callback -> table -> word store -> the next query's relaxed load -> answer.
//
//   health_propagation_benchmark [--flips 200]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "control/health/health_checker.h"
#include "control/health/health_state.h"
#include "maps/control_block.h"
#include "tests/support/test_snapshot.h"

namespace {

using namespace sextant;

int64_t MonoNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int Listen(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0 || listen(fd, 128) != 0) {
    std::perror("listen");
    std::exit(1);
  }
  return fd;
}

uint16_t FreePort() {
  int fd = Listen(0);
  sockaddr_in sa{};
  socklen_t len = sizeof(sa);
  getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  close(fd);
  return ntohs(sa.sin_port);
}

}  // namespace

int main(int argc, char** argv) {
  int flips = 200;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--flips") == 0) flips = std::atoi(argv[i + 1]);
  }
  const uint16_t port = FreePort();
  auto snap = testing::BuildTestSnapshot(
      {{"prop.test.",
        "$ORIGIN prop.test.\n$TTL 300\n@ SOA ns hm 1 7200 3600 1209600 300\n"
        "@ NS ns\nns A 198.18.0.2\n"}},
      "", 1,
      "targets:\n  t0: {}\nrecords:\n  - {name: www.prop.test., type: A, kind: failover, "
      "members: [{address: 198.18.1.1, target: t0}, 198.18.1.2]}\n");
  if (!snap.ok()) {
    std::fprintf(stderr, "%s\n", std::string(snap.status().message()).c_str());
    return 1;
  }
  auto block = maps::ControlBlockMapping::Open("sxpropbench", true);
  if (!block.ok()) return 1;
  std::atomic<uint32_t>* words = (*block)->get()->health;

  // The snapshot numbers targets in declaration order: t0 is word 0.
  control::HealthTable table(words);
  std::mutex mu;
  table.SetTargets({{"t0", "", 0, true, true}}, control::NowUnixMs());

  std::atomic<int64_t> verdict_ns{0};
  std::atomic<int64_t> callback_ns{0};
  control::HealthChecker::Options o;
  o.log_changes = false;
  o.on_change = [&](uint32_t, bool up, const control::CheckResult& r) {
    // Timestamps first: the lcore may see the word before this function returns.
    verdict_ns.store(r.finished_mono_ns);
    callback_ns.store(MonoNs());
    std::lock_guard<std::mutex> lock(mu);  // as the daemon does
    table.SetChecked("t0", up, control::NowUnixMs());
  };
  auto checker = control::HealthChecker::Create(o);
  if (!checker.ok()) return 1;
  control::CheckSpec spec;
  spec.type = control::CheckType::kTcp;
  spec.address = "127.0.0.1";
  spec.port = port;
  spec.interval_ms = 50;
  spec.timeout_ms = 40;
  spec.rise = 1;
  spec.fall = 1;
  int lfd = Listen(port);
  (*checker)->Update({{0, "t0", spec, true}});
  if (!(*checker)->Start().ok()) return 1;

  // The lcore: answer, look at the first A record's last octet, timestamp changes.
  dataplane::Engine engine(**snap);
  engine.set_health(words);
  std::atomic<bool> stop{false};
  std::atomic<int64_t> change_ns{0};
  std::atomic<int> last_octet{1};
  std::thread lcore([&] {
    const std::vector<uint8_t> q = testing::MakeQuery("www.prop.test.", 1);
    uint8_t out[512];
    dataplane::ClientInfo client;
    int prev = 1;
    while (!stop.load(std::memory_order_relaxed)) {
      dataplane::AnswerInfo info;
      const size_t n = engine.Answer(q.data(), q.size(), client, out, sizeof(out), &info);
      const int octet = n >= 4 ? out[n - 1] : -1;  // no EDNS: the A rdata ends the message
      if (octet != prev) {
        change_ns.store(MonoNs());
        last_octet.store(octet);
        prev = octet;
      }
    }
  });

  std::vector<double> verdict_to_answer_us, callback_to_answer_us;
  int lost = 0;
  for (int i = 0; i < flips; ++i) {
    const bool take_down = (i % 2 == 0);
    const int want = take_down ? 2 : 1;
    const int64_t before = change_ns.load();
    if (take_down) {
      close(lfd);
      lfd = -1;
    } else {
      lfd = Listen(port);
    }
    const int64_t deadline = MonoNs() + 2000000000LL;
    while ((change_ns.load() == before || last_octet.load() != want) && MonoNs() < deadline) {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    if (last_octet.load() != want) {
      ++lost;
      continue;
    }
    verdict_to_answer_us.push_back((change_ns.load() - verdict_ns.load()) / 1000.0);
    callback_to_answer_us.push_back((change_ns.load() - callback_ns.load()) / 1000.0);
  }
  stop = true;
  lcore.join();
  (*checker)->Stop();
  if (lfd >= 0) close(lfd);
  unlink(maps::ControlBlockPath("sxpropbench").c_str());

  auto report = [](const char* what, std::vector<double> v) {
    if (v.empty()) return;
    std::sort(v.begin(), v.end());
    auto pct = [&](double p) { return v[std::min(v.size() - 1, size_t(p * v.size()))]; };
    std::printf("%-28s n=%zu  min %.1f us  p50 %.1f us  p99 %.1f us  max %.1f us\n", what, v.size(),
                v.front(), pct(0.5), pct(0.99), v.back());
  };
  std::printf("health propagation, %d flips (TCP check, rise=fall=1):\n", flips);
  report("verdict -> first answer", verdict_to_answer_us);
  report("callback -> first answer", callback_to_answer_us);
  if (lost) std::printf("%d flips not seen within 2 s\n", lost);
  return lost == 0 ? 0 : 1;
}
