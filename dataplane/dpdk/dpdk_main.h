// Entry point of sextant-dataplane's DPDK mode (argv holds EAL args, then "--", then ours).
#pragma once

namespace sextant::dataplane {
int DpdkMain(int argc, char** argv);
}  // namespace sextant::dataplane
