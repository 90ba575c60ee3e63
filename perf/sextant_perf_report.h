// sextant-perf's report: what the generator saw, CPU shares per thread, and the dataplane's own
// per-lcore counters, printed on stdout.
#pragma once

#include <map>
#include <string>

#include "maps/control_block.h"
#include "perf/sextant_perf_generator.h"

namespace sextant::perf {

// CPU seconds (user + system) of this process's threads, by thread name. On a machine whose cores
// are shared, a busy-polling thread gets only part of its core: its CPU time over the run's wall
// time says how much, and explains latency tails of milliseconds (time slices of other tasks).
std::map<std::string, double> ThreadCpu();

// Prints the run: sent, answered, wrong by kind, lost, unexpected, throughput, latency quantiles,
// each thread's CPU seconds per wall second between `cpu_before` and `cpu_after` over `wall`
// seconds, and the counters of each worker lcore in `cb`.
void PrintReport(const GenResult& r, const std::map<std::string, double>& cpu_before,
                 const std::map<std::string, double>& cpu_after, double wall,
                 const maps::ControlBlock& cb);

}  // namespace sextant::perf
