// The lines sextant-dataplane logs about its own life, in both modes, on stdout beside its start
// line: each snapshot switch (from the snapshot follower's thread) and the stop on SIGTERM or
// SIGINT (from the main thread once the serving loops have returned). Never from the fast path:
// a signal handler only sets a flag and records which signal it was.
#pragma once

#include <cstdint>
#include <string>

#include "maps/control_block.h"

namespace sextant::dataplane {

// "sextant-dataplane: instance NAME: snapshot generation 3 -> 4" (info)
void LogSnapshotSwitch(const std::string& instance, uint64_t from, uint64_t to);

// "instance NAME: SIGTERM: stopped: served generation 7; the instance's
//  counters: rx 10, tx 10, queries 10, truncated 0, exception 0, dropped 0"
std::string StoppedLine(const std::string& instance, int signo, uint64_t generation,
                        const maps::ControlBlock& block);
void LogStopped(const std::string& instance, int signo, uint64_t generation,
                const maps::ControlBlock& block);

}  // namespace sextant::dataplane
