#!/usr/bin/env python3
"""Reads the per-lcore counters from a control block (/dev/shm/<instance>.ctl) twice, some
seconds apart, and prints the rates per lcore and in total.

The layout mirrors maps/control_block.h (ABI version 4); the header's magic, ABI version and size
are checked so that a layout change fails here instead of printing garbage:

  ControlBlockHeader (64 bytes): u64 magic, u32 abi_version, u32 size, u64 active_generation,
                                 u64 control_pid, u64 control_heartbeat_unix_ms, u64 reserved
  health: u32[65536] at offset 64
  lcores: LcoreCounters[128] at offset 64 + 4 * 65536, each 320 bytes (alignas(64)):
          u64 rx_packets, tx_packets, queries, rcode[16], dropped[8], exception_packets,
          truncated, generation, dnstap_sampled, dnstap_dropped, rrl_limited, rrl_slipped
  then (not read here) DataplaneSlot[32] of 128 bytes, the control socket record (112 bytes),
  LcoreAnswers[128] of 8320 bytes (64-aligned), PortStats[4] of 576 bytes, CookieSecrets (64
  bytes) and LcoreCookies[128] of 64 bytes (ABI 4)

With --pid (the dataplane's pid), the CPU time of each worker lcore's thread ("rte-worker-N" in
DPDK 22.11) is sampled over the same interval too. On a machine whose cores are shared, a
busy-polling worker gets only part of its core; queries per CPU-second of the worker thread is
then the per-core capacity, and the CPU share says how much of the core it had. The whole
process's CPU time (utime + stime of /proc/PID/stat: every thread, the main lcore's and the
snapshot follower's too) is reported as well, with the queries per process CPU-second: the
figure to compare one worker with two.

With --wait-tx N, it waits instead until the lcores have sent N frames in all (or sent nothing
more for two seconds: exit 1), for a replay that must be answered in full before it is checked.

  perf/control_block_counters.py --instance sextant --interval 5 [--pid PID]
  perf/control_block_counters.py --instance sextant --wait-tx 4096
"""

import os

import argparse
import struct
import sys
import time

MAGIC = 0x314C5254434B5853  # "SXKCTRL1"
ABI_VERSION = 4
MAX_HEALTH_WORDS = 65536
MAX_LCORES = 128
LCORES_OFFSET = 64 + 4 * MAX_HEALTH_WORDS
LCORE_SIZE = 320
LCORE_FORMAT = "<3Q16Q8Q3Q4Q"  # 34 u64, padded to 320 bytes by alignas(64)
ANSWERS_OFFSET = (LCORES_OFFSET + MAX_LCORES * LCORE_SIZE + 32 * 128 + 112 + 63) // 64 * 64
BLOCK_SIZE = ANSWERS_OFFSET + MAX_LCORES * 8320 + 4 * 576 + 64 + MAX_LCORES * 64
DROP_REASONS = ["malformed", "response", "no_snapshot", "not_ours", "tx_full", "other"]


def read_block(instance):
    """Returns (monotonic time, {lcore: counters dict}) for every lcore with any traffic."""
    path = f"/dev/shm/{instance}.ctl"
    with open(path, "rb") as f:
        data = f.read(BLOCK_SIZE)
    now = time.monotonic()
    if len(data) != BLOCK_SIZE:
        sys.exit(f"{path}: {len(data)} bytes, expected {BLOCK_SIZE} (layout changed?)")
    magic, abi, size = struct.unpack_from("<QII", data, 0)
    if magic != MAGIC or abi != ABI_VERSION or size != BLOCK_SIZE:
        sys.exit(f"{path}: magic {magic:#x} abi {abi} size {size}; this reader knows "
                 f"magic {MAGIC:#x} abi {ABI_VERSION} size {BLOCK_SIZE}")
    lcores = {}
    for i in range(MAX_LCORES):
        v = struct.unpack_from(LCORE_FORMAT, data, LCORES_OFFSET + i * LCORE_SIZE)
        c = {
            "rx": v[0], "tx": v[1], "queries": v[2], "rcode": v[3:19], "dropped": v[19:27],
            "exception": v[27], "truncated": v[28], "generation": v[29],
            "dnstap_sampled": v[30], "dnstap_dropped": v[31],
        }
        if c["rx"] or c["tx"] or c["queries"] or any(c["dropped"]):
            lcores[i] = c
    return now, lcores


def worker_cpu(pid):
    """{lcore: CPU seconds (user + system)} of the EAL worker threads of process `pid`."""
    out = {}
    if pid is None:
        return out
    tick = os.sysconf("SC_CLK_TCK")
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                comm = f.read().strip()
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # DPDK 22.11 names its worker threads "rte-worker-N"; later releases "lcore-worker-N".
        for prefix in ("rte-worker-", "lcore-worker-"):
            if comm.startswith(prefix) and comm[len(prefix):].isdigit():
                # After "(comm)" the state is field 0, so utime/stime (14/15 in proc(5)) are 11/12.
                out[int(comm[len(prefix):])] = (int(fields[11]) + int(fields[12])) / tick
    return out


def process_cpu(pid):
    """CPU seconds (user + system) of process `pid`, all its threads, or None without a pid."""
    if pid is None:
        return None
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_tx(instance, want):
    """Waits until the lcores sent `want` frames in all; False when they stop short of it."""
    last, since = -1, time.monotonic()
    while True:
        sent = sum(c["tx"] for c in read_block(instance)[1].values())
        if sent >= want:
            return True
        if sent != last:
            last, since = sent, time.monotonic()
        elif time.monotonic() - since > 2:
            print(f"sent {sent} frames of {want}, nothing more for 2 s", file=sys.stderr)
            return False
        time.sleep(0.05)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--instance", required=True)
    ap.add_argument("--interval", type=float, default=5.0, help="seconds between samples")
    ap.add_argument("--pid", type=int, help="dataplane pid: also report worker CPU time")
    ap.add_argument("--wait-tx", type=int, metavar="N", help="wait until N frames were sent")
    ap.add_argument("--per-cpu-of", choices=("queries", "tx"), default="queries",
                    help="what the Mq/cpu-s column counts (tx: a --perf-reflect run, which "
                         "answers no query)")
    args = ap.parse_args()
    if args.wait_tx is not None:
        return 0 if wait_tx(args.instance, args.wait_tx) else 1

    cpu0, proc0 = worker_cpu(args.pid), process_cpu(args.pid)
    t0, a = read_block(args.instance)
    time.sleep(args.interval)
    t1, b = read_block(args.instance)
    cpu1, proc1 = worker_cpu(args.pid), process_cpu(args.pid)
    dt = t1 - t0
    total = {"rx": 0.0, "tx": 0.0, "queries": 0.0}
    print(f"interval {dt:.3f} s")
    print(f"{'lcore':>5} {'rx Mpps':>9} {'tx Mpps':>9} {'queries Mqps':>13} {'cpu share':>9} "
          f"{'Mq/cpu-s':>9} {'drops/s':>10}  drop reasons")
    for lcore in sorted(b):
        old = a.get(lcore, {"rx": 0, "tx": 0, "queries": 0, "dropped": (0,) * 8})
        new = b[lcore]
        rates = {k: (new[k] - old[k]) / dt for k in ("rx", "tx", "queries")}
        drops = [(n - o) / dt for n, o in zip(new["dropped"], old["dropped"])]
        reasons = ", ".join(f"{DROP_REASONS[i] if i < len(DROP_REASONS) else i} {d:.0f}/s"
                            for i, d in enumerate(drops) if d)
        for k in total:
            total[k] += rates[k]
        cpu = cpu1.get(lcore, 0) - cpu0.get(lcore, 0)
        share = f"{cpu / dt:9.2f}" if lcore in cpu1 else f"{'-':>9}"
        k = args.per_cpu_of
        per_cpu = (f"{(new[k] - old[k]) / cpu / 1e6:9.3f}" if cpu > 0
                   else f"{'-':>9}")
        print(f"{lcore:>5} {rates['rx'] / 1e6:9.3f} {rates['tx'] / 1e6:9.3f} "
              f"{rates['queries'] / 1e6:13.3f} {share} {per_cpu} {sum(drops):10.0f}  {reasons}")
    print(f"{'total':>5} {total['rx'] / 1e6:9.3f} {total['tx'] / 1e6:9.3f} "
          f"{total['queries'] / 1e6:13.3f}")
    if proc0 is not None:
        cpu = proc1 - proc0
        per_cpu = f"{total[args.per_cpu_of] * dt / cpu / 1e6:.3f}" if cpu > 0 else "-"
        print(f"process cpu {cpu:.2f} s ({cpu / dt:.2f} CPUs), {per_cpu} Mq per process cpu-s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
