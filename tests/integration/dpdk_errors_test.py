#!/usr/bin/python3
"""DPDK mode's start-up failures name their fix (issue 13), through the real binary: an EAL
that cannot get its memory, hugepage mounts it may not read, a --file-prefix another dataplane
holds, no port at all, a port index past the ports named. Each must exit 1 with one line that
says what to do, never crash. Virtual devices only (net_null), nothing on any wire.

Prints 'N passed, M failed'."""
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "lib"))
from lab import Results, integration_args, publish_once, remove_shm, run  # noqa: E402

INSTANCE = f"sxdperr{os.getpid()}"


def dataplane(args, eal, extra=(), timeout=60):
    return run([args.sextant_dataplane, *eal, "--", "--instance", INSTANCE, *extra],
               check=False, timeout=timeout)


def main():
    args = integration_args()
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    (work / "z.zone").write_text("$ORIGIN err.test.\n$TTL 60\n@ SOA ns h 1 60 60 60 60\n"
                                 "@ NS ns\nns A 198.18.0.2\n")
    cfg = work / "sextant.yaml"
    cfg.write_text(f"instance: {INSTANCE}\nzones: [{{origin: err.test., file: z.zone}}]\n"
                   "dataplane: {addresses: [198.18.0.2], exception_path: false}\n")
    res = Results()
    try:
        publish_once(args.sextant_control, str(cfg), str(work))
        base = ["-l", "0", "--no-pci", f"--file-prefix={INSTANCE}"]

        r = dataplane(args, base + ["--no-huge", "-m", "99999999"])
        res.check("EAL without the memory it asks for: exit 1, hugepages and --no-huge named",
                  r.returncode == 1 and "EAL init failed: Cannot allocate memory" in r.stderr and
                  "dpdk-hugepages.py --setup 1G" in r.stderr and "hugepages free" in r.stderr,
                  r.stderr[-1500:])

        r = dataplane(args, base + ["--huge-dir", str(work / "no-such-dir")])
        res.check("hugepage mount it cannot read: exit 1, root/capabilities and the mounts named",
                  r.returncode == 1 and "EAL init failed: Permission denied" in r.stderr and
                  "sextant-dataplane-dpdk.conf" in r.stderr and "dpdk-hugepages.py -s" in
                  r.stderr, r.stderr[-1500:])

        r = dataplane(args, base + ["--no-huge", "-m", "256"])
        res.check("no port at all: exit 1, binding with dpdk-devbind.py and --vdev named",
                  r.returncode == 1 and "DPDK port 0 does not exist: 0 ports available" in
                  r.stderr and "dpdk-devbind.py --bind vfio-pci" in r.stderr, r.stderr[-1500:])

        # One dataplane holds the prefix (on a null port, serving); a second one with the same
        # prefix is refused with the fix.
        log = open(work / "holder.log", "w")
        holder = subprocess.Popen([args.sextant_dataplane, *base, "--no-huge", "-m", "256",
                                   "--vdev=net_null0", "--", "--instance", INSTANCE],
                                  stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.time() + 30
            while time.time() < deadline and "serving generation" not in \
                    (work / "holder.log").read_text():
                if holder.poll() is not None:
                    break
                time.sleep(0.1)
            r = dataplane(args, base + ["--no-huge", "-m", "256", "--vdev=net_null0"])
            res.check("a --file-prefix another dataplane holds: exit 1, --file-prefix named",
                      r.returncode == 1 and "its own --file-prefix" in r.stderr and
                      holder.poll() is None, r.stderr[-1500:])
        finally:
            holder.terminate()
            holder.wait(timeout=30)
        res.check("the holder stopped cleanly", holder.returncode == 0,
                  (work / "holder.log").read_text()[-1000:])

        cfg.write_text(cfg.read_text().replace("exception_path: false",
                                               "exception_path: false, port: 1"))
        publish_once(args.sextant_control, str(cfg), str(work))
        r = dataplane(args, base + ["--no-huge", "-m", "256", "--vdev=net_null0"])
        res.check("dataplane.port past the ports named: exit 1, counting from 0 named",
                  r.returncode == 1 and "DPDK port 1 does not exist: 1 ports available" in
                  r.stderr and "from 0" in r.stderr, r.stderr[-1500:])
    finally:
        remove_shm([INSTANCE])
    print(f"{res.passed} passed, {res.failed} failed")
    return 1 if res.failed else 0


if __name__ == "__main__":
    sys.exit(main())
