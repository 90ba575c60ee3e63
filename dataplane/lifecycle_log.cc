#include "dataplane/lifecycle_log.h"

#include <signal.h>

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "maps/log.h"

namespace sextant::dataplane {

namespace {

std::string SignalName(int signo) {
  switch (signo) {
    case SIGTERM:
      return "SIGTERM";
    case SIGINT:
      return "SIGINT";
    case 0:
      return "no signal";
    default:
      return absl::StrCat("signal ", signo);
  }
}

}  // namespace

void LogSnapshotSwitch(const std::string& instance, uint64_t from, uint64_t to) {
  maps::Log(maps::LogLevel::kInfo,
            absl::StrCat("instance ", instance, ": snapshot generation ", from, " -> ", to));
}

std::string StoppedLine(const std::string& instance, int signo, uint64_t generation,
                        const maps::ControlBlock& block) {
  const maps::LcoreCounters c = maps::SumLcores(block);
  uint64_t dropped = 0;
  for (uint64_t d : c.dropped) dropped += d;
  return absl::StrCat("instance ", instance, ": ", SignalName(signo),
                      ": stopped: served generation ", generation, "; the instance's counters: rx ",
                      c.rx_packets, ", tx ", c.tx_packets, ", queries ", c.queries, ", truncated ",
                      c.truncated, ", exception ", c.exception_packets, ", dropped ", dropped);
}

void LogStopped(const std::string& instance, int signo, uint64_t generation,
                const maps::ControlBlock& block) {
  maps::Log(maps::LogLevel::kNotice, StoppedLine(instance, signo, generation, block));
}

}  // namespace sextant::dataplane
