#!/usr/bin/env python3
"""What the e2e harness's PMD pair forwards with no work: dpdk-testpmd in io mode on the same
vdevs as perf/e2e_pcap.sh (net_pcap replaying a pcap forever -> net_null), one forwarding lcore.

The reference the issue asks the dataplane's end-to-end rate to be measured against: the same
receive (an mbuf allocation and a copy of the frame from the pcap PMD's ring) and the same
transmit (the null PMD frees the mbuf), with nothing in between. Its rate per CPU-second of the
forwarding thread is the ceiling no DNS work can beat on these PMDs; the dataplane's rate per
CPU-second divided by it is the fraction the issue's 30% target is about.

The RX counter of port 0 is read twice through testpmd's interactive "show port stats 0", SECONDS
apart, with the forwarding thread's CPU time sampled over the same interval (so a shared core
gives a rate per CPU-second, as control_block_counters.py does for the dataplane).

  perf/testpmd_reference.py --pcap queries.pcap [--seconds 5] [--warmup 2] [--lcores 0-1]
                            [--main-lcore N] [--start-flag FILE]
                            [--huge-dir DIR --mem MIB]   (hugepages: a hugetlbfs mount, EAL -m)

--start-flag: after the warm-up, wait (up to five minutes) for FILE to exist before the interval
starts: perf/e2e_fraction.sh PAIRED=1 times testpmd over the very seconds the dataplane is timed
(perf/e2e_pcap.sh MEASURE_FLAG), each on its own CPU. --main-lcore picks which lcore of --lcores
is EAL's main one (the other forwards).
"""

import argparse
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from control_block_counters import worker_cpu  # noqa: E402

RX_PACKETS = re.compile(r"RX-packets:\s+(\d+)")


def command(proc, text, wait_for=None, timeout=30.0):
    """Sends one interactive command; with wait_for, reads output until it matches."""
    proc.stdin.write(text + "\n")
    proc.stdin.flush()
    if wait_for is None:
        return None
    deadline = time.monotonic() + timeout
    out = ""
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        out += line
        m = wait_for.search(line)
        if m:
            return m
    sys.exit(f"testpmd: no answer to {text!r}:\n{out}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pcap", required=True, help="frames to replay (make_query_pcap.py)")
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--warmup", type=float, default=2.0)
    ap.add_argument("--lcores", default="0-1", help="EAL -l list: main lcore + one forwarder")
    ap.add_argument("--main-lcore", help="EAL --main-lcore (default: the lowest of --lcores)")
    ap.add_argument("--start-flag", help="wait for this file before the timed interval")
    ap.add_argument("--frames", type=int, default=4096, help="frames in the pcap (pool size)")
    ap.add_argument("--huge-dir", help="a hugetlbfs mount: 2 MiB pages instead of --no-huge")
    ap.add_argument("--mem", type=int, default=1024, help="EAL -m in MiB (default 1024)")
    args = ap.parse_args()
    memory = ["--huge-dir", args.huge_dir] if args.huge_dir else ["--no-huge"]

    prefix = f"sxperf-tpm-{os.getpid()}"
    mbufs = (args.frames + 8192) | 1
    # testpmd prints with stdio, fully buffered into a pipe: stdbuf makes it line-buffered.
    main_lcore = ["--main-lcore", args.main_lcore] if args.main_lcore else []
    cmd = ["stdbuf", "-oL", "dpdk-testpmd", "-l", args.lcores, *main_lcore, *memory,
           "-m", str(args.mem),
           "--no-pci",
           f"--vdev=net_pcap0,rx_pcap={args.pcap},infinite_rx=1", "--vdev=net_null0,no-rx=1",
           f"--file-prefix={prefix}", "--", "-i", "--forward-mode=io",
           f"--total-num-mbufs={mbufs}"]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, bufsize=1)
    try:
        # EAL start-up and the pool's population come first: slow on a loaded machine.
        command(proc, "start", re.compile(r"packets/burst="), timeout=120)
        time.sleep(args.warmup)
        if args.start_flag:
            deadline = time.monotonic() + 300
            while not os.path.exists(args.start_flag):
                if time.monotonic() > deadline:
                    sys.exit(f"testpmd: {args.start_flag} never appeared")
                time.sleep(0.02)
        cpu0 = worker_cpu(proc.pid)
        t0 = time.monotonic()
        rx0 = int(command(proc, "show port stats 0", RX_PACKETS).group(1))
        time.sleep(args.seconds)
        rx1 = int(command(proc, "show port stats 0", RX_PACKETS).group(1))
        t1 = time.monotonic()
        cpu1 = worker_cpu(proc.pid)
        command(proc, "stop")
        command(proc, "quit")
        proc.wait(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        subprocess.run(["rm", "-rf", f"/var/run/dpdk/{prefix}"], check=False)
    if not cpu1:
        sys.exit("testpmd: no forwarding thread found to time")
    lcore = max(cpu1)
    cpu = cpu1[lcore] - cpu0.get(lcore, 0)
    dt = t1 - t0
    rate = (rx1 - rx0) / dt
    per_cpu = (rx1 - rx0) / cpu if cpu > 0 else 0
    print(f"testpmd io: {rate / 1e6:.3f} Mpps over {dt:.2f} s, cpu share {cpu / dt:.2f}, "
          f"{per_cpu / 1e6:.3f} Mp/cpu-s ({'hugepages' if args.huge_dir else '--no-huge'})")


if __name__ == "__main__":
    main()
