// sextant-perf's report (sextant_perf_report.h).
#include "perf/sextant_perf_report.h"

#include <dirent.h>
#include <rte_lcore.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace sextant::perf {

std::map<std::string, double> ThreadCpu() {
  std::map<std::string, double> out;
  const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  DIR* d = opendir("/proc/self/task");
  if (d == nullptr) return out;
  while (const dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    const std::string base = absl::StrCat("/proc/self/task/", e->d_name);
    std::string comm, stat;
    std::getline(std::ifstream(base + "/comm"), comm);
    std::getline(std::ifstream(base + "/stat"), stat);
    const size_t paren = stat.rfind(')');
    if (paren == std::string::npos) continue;
    std::istringstream fields(stat.substr(paren + 2));
    std::string f;
    unsigned long long utime = 0, stime = 0;
    for (int i = 0; i < 13 && fields >> f; ++i) {
      if (i == 11) utime = std::strtoull(f.c_str(), nullptr, 10);
      if (i == 12) stime = std::strtoull(f.c_str(), nullptr, 10);
    }
    // The main thread carries the process name; name it for what it does here.
    const std::string name =
        std::string(e->d_name) == std::to_string(getpid()) ? "generator" : comm;
    out[name] += (utime + stime) / tick;
  }
  closedir(d);
  return out;
}

void PrintReport(const GenResult& r, const std::map<std::string, double>& cpu_before,
                 const std::map<std::string, double>& cpu_after, double wall,
                 const maps::ControlBlock& cb) {
  const uint64_t answered = r.answered();
  const uint64_t lost = r.lost();
  std::printf("  sent        %llu", static_cast<unsigned long long>(r.sent));
  if (r.not_sent) {
    std::printf(" (+%llu not sent: ring to the dataplane full)",
                static_cast<unsigned long long>(r.not_sent));
  }
  std::printf("\n  answered    %llu (correct %llu, wrong %llu)\n",
              static_cast<unsigned long long>(answered), static_cast<unsigned long long>(r.correct),
              static_cast<unsigned long long>(r.wrong));
  for (int w = 0; w < kWrongCount; ++w) {
    if (r.wrong_by[w]) {
      std::printf("    wrong: %s: %llu\n", kWrongNames[w],
                  static_cast<unsigned long long>(r.wrong_by[w]));
    }
  }
  std::printf("  lost        %llu (timed out %llu, unanswered at the end %llu)\n",
              static_cast<unsigned long long>(lost), static_cast<unsigned long long>(r.timed_out),
              static_cast<unsigned long long>(r.unanswered));
  std::printf("  unexpected  %llu\n", static_cast<unsigned long long>(r.unexpected));
  std::printf("  throughput  %.3f Mqps answered (%.3f Mqps sent) over %.2f s\n",
              answered / r.elapsed_s / 1e6, r.sent / r.elapsed_s / 1e6, r.elapsed_s);
  std::printf(
      "  latency us  p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f  mean %.2f  (n=%llu)\n",
      r.latency.Quantile_us(0.5), r.latency.Quantile_us(0.9), r.latency.Quantile_us(0.99),
      r.latency.Quantile_us(0.999), r.latency.max_us(), r.latency.mean_us(),
      static_cast<unsigned long long>(r.latency.count()));
  std::string shares;
  for (const auto& [name, sec] : cpu_after) {
    const auto it = cpu_before.find(name);
    const double used = sec - (it == cpu_before.end() ? 0 : it->second);
    if (used > 0.01 * wall) absl::StrAppendFormat(&shares, "  %s %.2f", name, used / wall);
  }
  std::printf("  cpu share  %s  (CPU seconds per wall second, per thread)\n", shares.c_str());
  unsigned lcore;
  RTE_LCORE_FOREACH_WORKER(lcore) {
    const maps::LcoreCounters& c = cb.lcores[lcore];
    uint64_t drops = 0;
    for (uint64_t d : c.dropped) drops += d;
    std::printf(
        "  dataplane lcore %u: rx %llu tx %llu queries %llu nxdomain %llu drops %llu\n", lcore,
        static_cast<unsigned long long>(c.rx_packets),
        static_cast<unsigned long long>(c.tx_packets), static_cast<unsigned long long>(c.queries),
        static_cast<unsigned long long>(c.rcode[3]), static_cast<unsigned long long>(drops));
  }
}

}  // namespace sextant::perf
