#!/usr/bin/python3
"""CI smoke run of the perf harnesses (perf/README.md): each one tiny, to prove it still works,
and that the answer checkers catch a wrong answer fed on purpose. No figure is judged here:
timings on a shared machine are not pass/fail.

  1. perf/e2e_pcap.sh for one second: every answer of a first replay right (CHECK=1), the
     worker lcore answered queries, nothing dropped.
     OFFLOAD=1 (the packet path as on a port with checksum offload): every answer of the
     first replay right, with the checksums left for a NIC (checked as such).
     HOSTS=20000 (a name table of 65,536 buckets: the burst prefetch on): every answer right.
     GEO=1 (geo answers, ECS on every query): its answer check passed on every answer, then the
     measurement ran; with GEO_WRONG=1 (the datacenters answer each other's addresses) the
     check fails the run.
     perf/e2e_fraction.sh the same way: testpmd's io forwarding on the same vdevs measured on
     both sides of it, and the worker's rate printed as a fraction of that reference; then again
     with HUGE=1 (both sides on 2 MiB hugepages, the pages put back after), and PAIRED=1 HUGE=1
     (one round: two pairs of testpmd and the dataplane at once, on swapped CPUs, each timed
     over the same seconds; a fraction per pair and of the summed rates).
     perf/e2e_ab.sh, one round of the build against itself: two pairs of concurrent runs, a
     ratio printed.
  1b. perf/large_zone.sh on 1,000 and 20,000 names, one second each: a row per size, every
     figure there (compile time, peak control RSS, snapshot size, dataplane RSS, rates), the
     larger zone's snapshot larger.
  2. sextant-perf for half a second: every answer right, none lost (exit 0; a query counts as
     lost after 2 s here, not the default 100 ms: the smoke checks the harness, and a thread of a
     shared CI machine can be stalled for longer than 100 ms); then with
     --corrupt-expected (the generator expects a wrong address for some names): "answer
     differs" and exit 3. perf/plot.sh draws a PNG from both outputs.
  3. perf/compare.sh at 500 qps for one second per row, every row (Sextant kernel and DPDK,
     Knot, NSD, gdnsd, PowerDNS, and the four geo rows): each row measured, with a CPU per
     answer; then WRONG=knot and WRONG=sextant-geo (a zone, or geo answers, that are wrong):
     the check of that server's answers fails the run, and names it.

Needs what scripts/install-deps.sh installs (dnsperf, knot, knot-module-geoip, nsd, gdnsd,
pdns-server with the bind and geoip backends, python3-dnspython, gnuplot-nox) and root (DPDK,
--no-huge).
"""
import os
import re
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "lib"))
from lab import SOURCE_DIR, Binaries, Results, integration_args  # noqa: E402

PERF = SOURCE_DIR / "perf"
ALL_ROWS = ("sextant sextant-dpdk knot nsd gdnsd pdns sextant-geo knot-geo gdnsd-geo "
            "pdns-geo").split()


def run(cmd, env=None, timeout=300):
    p = subprocess.run(cmd, env=dict(os.environ, **(env or {})), capture_output=True,
                       text=True, stdin=subprocess.DEVNULL, timeout=timeout)
    return p.returncode, p.stdout + p.stderr


def shm_files(prefix):
    return {f for f in os.listdir("/dev/shm") if f.startswith(prefix)}


def e2e(res, build, work):
    before = shm_files("sxperf-e2e-")
    rc, out = run(["bash", str(PERF / "e2e_pcap.sh")],
                  {"BUILD_DIR": build, "BUILD": "0", "SECONDS_MEASURED": "1", "WARMUP": "0.5",
                   "FRAMES": "512", "CHECK": "1"})
    # The worker's line: lcore, rx, tx, queries (Mpps), cpu share, Mq/cpu-s, drops/s.
    workers = [line.split() for line in out.splitlines()
               if re.match(r"^\s+[1-9]\d*\s+[\d.]+\s+[\d.]+\s+[\d.]+\s", line)]
    res.check("e2e_pcap.sh runs", rc == 0, out[-2000:])
    res.check("e2e_pcap.sh CHECK=1: every answer of the 70/20/10 mix right",
              "check_answers: 512 answers to 512 queries, 0 other frames, 0 problems" in out,
              out[-2000:])
    res.check("e2e_pcap.sh: the worker answered, dropped nothing",
              len(workers) == 1 and float(workers[0][3]) > 0 and workers[0][6] == "0",
              out[-2000:])
    res.check("e2e_pcap.sh: the dataplane's shutdown line", "stopped:" in out, out[-2000:])
    left = shm_files("sxperf-e2e-") - before
    res.check("e2e_pcap.sh leaves nothing in /dev/shm", not left, sorted(left))
    (work / "e2e.txt").write_text(out)


def e2e_checked(res, build, what, frames, **env):
    """e2e_pcap.sh CHECK=1 with `env`: every answer of the first replay right, then measured."""
    rc, out = run(["bash", str(PERF / "e2e_pcap.sh")],
                  dict({"BUILD_DIR": build, "BUILD": "0", "SECONDS_MEASURED": "1",
                        "WARMUP": "0.5", "FRAMES": str(frames), "CHECK": "1"}, **env))
    res.check(f"e2e_pcap.sh {what}: every answer right, then measured",
              rc == 0 and f"check_answers: {frames} answers to {frames} queries, 0 other "
              "frames, 0 problems" in out and "stopped:" in out, out[-2000:])


def fraction_paired(res, build):
    pages_before = Path("/proc/sys/vm/nr_hugepages").read_text()
    rc, out = run(["bash", str(PERF / "e2e_fraction.sh")],
                  {"BUILD_DIR": build, "BUILD": "0", "SECONDS_MEASURED": "1", "WARMUP": "0.5",
                   "FRAMES": "512", "HUGE": "1", "PAIRED": "1", "ROUNDS": "1"})
    name = "e2e_fraction.sh PAIRED=1 HUGE=1"
    pairs = re.findall(r"^\d+\s+([\d.]+) Mp/cpu-s\s+([\d.]+) Mq/cpu-s\s+([\d.]+)%$", out, re.M)
    total = re.search(r"paired, hugepages, 2 pairs: .*\n"
                      r"dataplane = ([\d.]+)% of the PMD pair with no work", out)
    res.check(f"{name} runs", rc == 0, out[-2000:])
    res.check(f"{name}: two pairs, each with both rates and their fraction",
              len(pairs) == 2 and all(float(r) > 0 and float(d) > 0 and
                                      abs(float(f) - 100 * float(d) / float(r)) < 0.11
                                      for r, d, f in pairs), pairs)
    res.check(f"{name}: the fraction of the summed rates, between 0 and 100%",
              total is not None and 0 < float(total.group(1)) < 100, out[-1000:])
    res.check(f"{name}: the hugepage reservation put back",
              Path("/proc/sys/vm/nr_hugepages").read_text() == pages_before,
              Path("/proc/sys/vm/nr_hugepages").read_text())


def fraction(res, build, huge=False):
    pages_before = Path("/proc/sys/vm/nr_hugepages").read_text()
    rc, out = run(["bash", str(PERF / "e2e_fraction.sh")],
                  {"BUILD_DIR": build, "BUILD": "0", "SECONDS_MEASURED": "1", "WARMUP": "0.5",
                   "FRAMES": "512", "HUGE": "1" if huge else "0"})
    name = "e2e_fraction.sh" + (" HUGE=1" if huge else "")
    refs = re.findall(r"testpmd io: ([\d.]+) Mpps.*\((hugepages|--no-huge)\)", out)
    frac = re.search(r"= ([\d.]+)% of the PMD pair with no work", out)
    res.check(f"{name} runs", rc == 0, out[-2000:])
    res.check(f"{name}: testpmd forwarded on both sides of the dataplane run, "
              + ("on hugepages" if huge else "--no-huge"),
              len(refs) == 2 and all(float(r) > 0 and m == ("hugepages" if huge else "--no-huge")
                                     for r, m in refs), refs)
    res.check(f"{name}: a fraction of the reference, between 0 and 100%",
              frac is not None and 0 < float(frac.group(1)) < 100, out[-1000:])
    if huge:
        res.check(f"{name}: the hugepage reservation put back",
                  Path("/proc/sys/vm/nr_hugepages").read_text() == pages_before,
                  Path("/proc/sys/vm/nr_hugepages").read_text())


def ab(res, build):
    rc, out = run(["bash", str(PERF / "e2e_ab.sh"), build, build, "1"],
                  {"SECONDS_MEASURED": "1", "WARMUP": "0.5", "FRAMES": "512"})
    pairs = re.findall(r"^[12]\s+([\d.]+)\s+([\d.]+)\s*$", out, re.M)
    res.check("e2e_ab.sh runs: two pairs measured, a ratio printed",
              rc == 0 and len(pairs) == 2 and all(float(x) > 0 for p in pairs for x in p)
              and re.search(r"B/A = [\d.]+, B faster in \d of 2 pairs", out) is not None,
              out[-2000:])


def e2e_geo(res, build):
    env = {"BUILD_DIR": build, "BUILD": "0", "SECONDS_MEASURED": "1", "WARMUP": "0.5",
           "FRAMES": "512", "GEO": "1"}
    rc, out = run(["bash", str(PERF / "e2e_pcap.sh")], env)
    res.check("e2e_pcap.sh GEO=1: every geo answer right, then measured",
              rc == 0 and "check_answers: 512 answers to 512 queries, 0 other frames, 0 problems"
              in out and "stopped:" in out, out[-2000:])
    rc, out = run(["bash", str(PERF / "e2e_pcap.sh")], dict(env, GEO_WRONG="1"))
    res.check("e2e_pcap.sh GEO=1 GEO_WRONG=1: the answer check fails the run",
              rc == 1 and re.search(r"check_answers: 512 answers to 512 queries, 0 other frames, "
                                    r"[1-9]\d* problems", out) is not None and
              "wrong answers" in out and "stopped:" not in out, out[-2000:])


def large_zone(res, build):
    rc, out = run(["bash", str(PERF / "large_zone.sh")],
                  {"BUILD_DIR": build, "BUILD": "0", "SECONDS_MEASURED": "1", "WARMUP": "0.5",
                   "FRAMES": "4096", "SIZES": "1000 20000"})
    res.check("large_zone.sh runs", rc == 0, out[-2000:])
    # | names | compile s | control MiB | snapshot MiB | dataplane MiB | Mqps | Mq/cpu-s | ratio |
    rows = {}
    for line in out.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 8 and cells[0].isdigit():
            rows[cells[0]] = [float(c) for c in cells[1:]]
    res.check("large_zone.sh: a row for 1000 and one for 20000 names, every figure positive",
              set(rows) == {"1000", "20000"} and
              all(v > 0 for r in rows.values() for v in r[1:]), out[-2000:])
    res.check("large_zone.sh: the 20,000-name snapshot is the larger",
              set(rows) == {"1000", "20000"} and rows["20000"][2] > rows["1000"][2], out[-2000:])


def sextant_perf(res, bin_dir, work):
    cmd = [str(bin_dir / "sextant-perf"), "-l", "0-1", "--no-huge", "-m", "512", "--no-pci",
           "--", "--seconds", "0.5", "--timeout-ms", "2000"]
    rc, out = run(cmd)
    res.check("sextant-perf: every answer right, none lost (exit 0)",
              rc == 0 and re.search(r"correct [1-9]\d*, wrong 0\)", out) is not None,
              out[-2000:])
    (work / "perf.txt").write_text(out)
    rc, out = run(cmd + ["--corrupt-expected", "7"])
    res.check("sextant-perf --corrupt-expected: the checker counts 'answer differs', exit 3",
              rc == 3 and re.search(r"wrong: answer differs: [1-9]", out) is not None,
              out[-2000:])


def plot(res, work):
    png = work / "plot.png"
    rc, out = run(["bash", str(PERF / "plot.sh"), "--out", str(png), "--e2e",
                   str(work / "e2e.txt"), "--latency", str(work / "perf.txt")])
    res.check("plot.sh draws a PNG from their outputs",
              rc == 0 and png.exists() and png.read_bytes()[:4] == b"\x89PNG", out[-2000:])


def compare(build, rows, wrong=None):
    env = {"BUILD_DIR": build, "BUILD": "0", "SERVERS": " ".join(rows), "DURATION": "1",
           "QPS": "500", "VERIFY": "40", "IDLE": "0", "DPDK_WARMUP": "0.5", "QUERIES": "2000"}
    if wrong:
        env["WRONG"] = wrong
    return run(["bash", str(PERF / "compare.sh")], env)


def table_rows(out):
    """{row name: [cells]} of compare.sh's table."""
    rows = {}
    for line in out.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| ") and len(cells) == 11 and cells[0] not in ("server", "---"):
            rows[cells[0]] = cells
    return rows


def compare_all(res, build):
    before = shm_files("sxcmp")
    rc, out = compare(build, ALL_ROWS)
    left = shm_files("sxcmp") - before
    res.check("compare.sh leaves nothing in /dev/shm", not left, sorted(left))
    res.check("compare.sh: every row, exit 0", rc == 0, out[-3000:])
    rows = table_rows(out)
    for row in ALL_ROWS:
        # At this load a server's CPU time can be under one clock tick (10 ms): a number is
        # asked for, not a positive one; answers are.
        cells = rows.get(row)
        cpu = cells[8].strip("*") if cells else ""
        res.check("compare.sh: row %s measured, CPU per answer %s" % (row, cpu or "-"),
                  re.fullmatch(r"\d+\.\d+", cpu) is not None and float(cells[2]) > 0,
                  cells or out[-2000:])
    res.check("compare.sh: machine, versions and date", re.search(
        r"^# perf/compare.sh, \d{4}-\d\d-\d\d .*\nmachine: .*CPUs", out, re.M) is not None,
        out[:500])


def compare_wrong(res, build, row, other):
    rc, out = compare(build, [other, row], wrong=row)
    rows = table_rows(out)
    res.check("compare.sh WRONG=%s: the check fails the run (exit 1)" % row, rc == 1, out[-2000:])
    res.check("compare.sh WRONG=%s: that row is not measured, the other is" % row,
              row in rows and "WRONG ANSWERS" in rows[row][1] and other in rows and
              "WRONG" not in rows[other][1], out[-2000:])


def main():
    args = integration_args()
    b = Binaries(args)
    bin_dir = Path(b.control).parent
    build = str(bin_dir.parent)
    res = Results()
    e2e(res, build, b.work)
    e2e_checked(res, build, "OFFLOAD=1 (its checksums left for the NIC)", 512, OFFLOAD="1")
    e2e_checked(res, build, "HOSTS=20000 (the burst prefetch on)", 4096, HOSTS="20000")
    fraction(res, build)
    fraction(res, build, huge=True)
    fraction_paired(res, build)
    ab(res, build)
    e2e_geo(res, build)
    large_zone(res, build)
    sextant_perf(res, bin_dir, b.work)
    plot(res, b.work)
    compare_all(res, build)
    compare_wrong(res, build, "knot", "sextant")
    compare_wrong(res, build, "sextant-geo", "gdnsd-geo")
    return res.summary()


if __name__ == "__main__":
    sys.exit(main())
