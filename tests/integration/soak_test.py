"""The soak (issue 15): steady load on both serving paths while the test breaks things.

sextant-control (daemon) + sextant-dataplane on a DPDK af_packet port in the namespace lab +
a second sextant-dataplane on kernel sockets (127.0.0.1), for SOAK_MINUTES (default 3, the whole
test; scripts/test.sh runs the default). Throughout:

- `dnsperf` at a steady rate through the DPDK port (from the namespace) and to the kernel
  listener, and lib/soak_checker.py on both, which checks every answer against the zone's rules
  for whatever state the server is in (one zone version, never a mix and never backwards; pool
  answers only up members or the fallback; ...);
- at random moments (seeded; the seed is printed, SOAK_SEED repeats a run) one of: SIGKILL of
  control and a restart, every target forced down or released, a backend killed or restarted
  (a real check failure), the zone edited (a new version), the nets file edited, a corrupt zone
  dropped in (refused, the last good one keeps serving) and put right, a corrupt MMDB dropped in
  (refused) and put right, a flood of one name from many source prefixes at the kernel listener.

At the end: no process crashed; no wrong answer on either path; the steady clients lost nothing
(queries the rate limiter dropped on purpose are counted apart, from its counters); the flood
was cut to about the configured rate; both dataplanes and control kept their resident memory
within 2% after warm-up; the last zone version is what both paths serve.

Prints 'N passed, M failed'."""
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "lib"))
from lab import (APPLIANCE_V4, CLIENT_V4, Binaries, Lab, Results, free_port,  # noqa: E402
                 integration_args, run, scrape_metrics, start_listener, stop_processes, wait_for)
from spoofed_flood import Group, flood  # noqa: E402

MAXMIND = HERE.parent / "data" / "maxmind"
MINUTES = float(os.environ.get("SOAK_MINUTES", "3"))
SEED = int(os.environ.get("SOAK_SEED", str(int(time.time()) % 100000)))
STEADY_QPS = 300  # dnsperf per path
CHECK_QPS = 60    # soak_checker per path
# Rate limiting as configured here: answers per second per /24 (one kernel UDP thread, one DPDK
# worker: no RSS share). The steady clients (dnsperf + checker from one /24 per path: about 300
# answers and 60 NXDOMAIN a second) stay under it; the flood's prefixes go far over it.
RRL_ANSWERS = 400
RRL_WINDOW = 2
FLOOD_SECONDS = 4
FLOOD_GROUPS = 4
WARMUP_FRACTION = 0.3
BACKENDS = ("t-a", "t-b", "t-c")
DCS = {"dc-ap": "198.18.1.1", "dc-us": "198.18.2.1", "dc-eu": "198.18.3.1"}


def version_address(k):
    return f"198.18.{100 + k // 250}.{k % 250}"


def soak_zone(k):
    return f"""$ORIGIN soak.test.
$TTL 300
@ SOA ns hostmaster {k} 3600 600 86400 60
@ NS ns
ns A {APPLIANCE_V4}
alias CNAME v{k}
v{k} A {version_address(k)}
"""


OTHER_ZONE = f"""$ORIGIN other.test.
$TTL 300
@ SOA ns hostmaster 1 3600 600 86400 60
@ NS ns.soak.test.
keep A 198.18.30.1
"""
CORRUPT_ZONE = "$ORIGIN other.test.\n@ SOA ns hostmaster 2 3600 600 86400 60\nkeep A 999.1.1.1\n" \
    "bad IN BOGUS \\# 1\n"
NETS = ["198.18.0.0/24 dc-eu,dc-us\n", "198.18.0.0/24 dc-us,dc-eu\n"]


def listener_ready(port, _proc):
    if not wait_for(lambda: "status: NOERROR" in run(
            ["dig", "@127.0.0.1", "-p", str(port), "+time=1", "+tries=1", "keep.other.test",
             "A"], check=False).stdout, timeout=20):
        raise RuntimeError("the kernel listener never answered")


class Soak:
    def __init__(self, args, res):
        self.bins = Binaries(args)
        self.res = res
        self.rng = random.Random(SEED)
        self.version = 1
        self.ports = {t: free_port() for t in BACKENDS + tuple(DCS)}
        self.backends = {}
        self.procs = []
        self.events = []
        self.lab = Lab(self.bins.control, self.bins.dataplane, self.bins.work / "lab", tag="soak")
        self.work = self.lab.workdir

    # --- setup -------------------------------------------------------------------------------
    def backend(self, name, up):
        p = self.backends.pop(name, None)
        if p is not None:
            p.kill()
            p.wait()
        if up:
            p = subprocess.Popen(["/usr/bin/python3", str(HERE / "lib" / "backend.py"), "tcp",
                                  str(self.ports[name])], stdout=subprocess.PIPE, text=True)
            p.stdout.readline()  # "ready"
            self.backends[name] = p

    def check(self, name):
        return (f"{{type: tcp, address: 127.0.0.1, port: {self.ports[name]}, interval: 300ms, "
                f"timeout: 200ms, rise: 2, fall: 2}}")

    def policies(self):
        targets = "\n".join(f"  {t}: {{check: {self.check(t)}}}" for t in BACKENDS)
        targets += "\n" + "\n".join(f"  {dc}: {{datacenter: {dc}, check: {self.check(dc)}}}"
                                    for dc in DCS)
        pool = "\n".join(f"      - {{address: 198.18.20.{i + 1}, target: {t}}}"
                         for i, t in enumerate(BACKENDS))
        geo = "\n".join(f"      {dc}: {{members: [{{address: {a}, target: {dc}}}]}}"
                        for dc, a in DCS.items())
        return f"""datacenters:
  dc-ap: {{latitude: 1.35, longitude: 103.82}}
  dc-us: {{latitude: 40.71, longitude: -74.01}}
  dc-eu: {{latitude: 51.51, longitude: -0.13}}
geo_maps:
  world: {{database: world.mmdb, mode: nearest, nets: nets.txt}}
targets:
{targets}
resources:
  pool:
    kind: static
    ttl: 30
    all_down: fallback
    fallback: [198.18.20.9]
    members:
{pool}
  www:
    kind: geo
    map: world
    ttl: 30
    all_down: fallback
    fallback: [198.18.9.9]
    datacenters:
{geo}
records:
  - {{name: pool.soak.test., type: A, resource: pool}}
  - {{name: www.soak.test., type: A, resource: www}}
"""

    def start(self):
        for name in self.ports:
            self.backend(name, True)
        shutil.copy(MAXMIND / "GeoIP2-City-Test.mmdb", self.work / "world.mmdb")
        (self.work / "nets.txt").write_text(NETS[0])
        self.lab.write_config([("soak.test.", soak_zone(self.version)),
                               ("other.test.", OTHER_ZONE)],
                              extra=self.lab.control_section(reload_delay="100ms", metrics=True)
                              + f"rate_limit: {{responses_per_second: {{answers: {RRL_ANSWERS}}}, "
                              f"window: {RRL_WINDOW}, slip: 2, "
                              # The steady clients (dnsperf and the checker on each path) are
                              # not the limiter's business: a stall that bunches their queries
                              # past the rate would slip one of them as TC. The flood's spoofed
                              # 127.77.0.0/16 sources are not exempt.
                              f"exempt: [{CLIENT_V4}, 127.0.0.1]}}\n" + self.policies())
        self.zone_path = self.work / "soak.test.zone"
        self.other_path = self.work / "other.test.zone"
        self.lab.start_control()
        self.lab.start(lcores=("-l", "0-1"))
        self.kport, self.kproc = start_listener(self.bins.dataplane, str(self.lab.config_path),
                                                self.work / "kernel.log", self.procs,
                                                listener_ready)
        self.lab.start_exporter()

    # --- load --------------------------------------------------------------------------------
    def start_load(self, seconds):
        qfile = self.work / "queries.txt"
        qfile.write_text("alias.soak.test A\npool.soak.test A\nwww.soak.test A\n"
                         "keep.other.test A\nnope.soak.test A\nsoak.test SOA\n")
        ns = ["ip", "netns", "exec", self.lab.ns]
        common = ["-d", str(qfile), "-l", str(int(seconds)), "-Q", str(STEADY_QPS), "-c", "2",
                  "-t", "2"]
        self.load = {
            "dpdk dnsperf": subprocess.Popen(ns + ["dnsperf", "-s", APPLIANCE_V4] + common,
                                             stdout=subprocess.PIPE, text=True),
            "kernel dnsperf": subprocess.Popen(["dnsperf", "-s", "127.0.0.1", "-p",
                                                str(self.kport)] + common,
                                               stdout=subprocess.PIPE, text=True),
        }
        checker = ["/usr/bin/python3", str(HERE / "lib" / "soak_checker.py")]
        self.checkers = {
            "dpdk": subprocess.Popen(ns + checker + [APPLIANCE_V4, "53", str(seconds),
                                                     str(CHECK_QPS)],
                                     stdout=subprocess.PIPE, text=True),
            "kernel": subprocess.Popen(checker + ["127.0.0.1", str(self.kport), str(seconds),
                                                  str(CHECK_QPS)],
                                       stdout=subprocess.PIPE, text=True),
        }

    def rss_kib(self, proc):
        if proc is None or proc.poll() is not None:
            return None
        m = re.search(r"VmRSS:\s+(\d+)", Path(f"/proc/{proc.pid}/status").read_text())
        return int(m.group(1)) if m else None

    # --- faults ------------------------------------------------------------------------------
    def ctl(self, *a):
        return run([self.bins.ctl_bin, "--socket", str(self.lab.socket_path), "--instance",
                    self.lab.instance, "--timeout", "5", *a], check=False)

    def log_mark(self):
        return len(self.lab.control_log_text())

    def wait_log(self, mark, pattern, timeout=15):
        return wait_for(lambda: re.search(pattern, self.lab.control_log_text()[mark:]),
                        timeout=timeout, step=0.1)

    def kill_control(self):
        self.lab.control_proc.send_signal(signal.SIGKILL)
        self.lab.control_proc.wait()
        self.lab.control_log.close()
        self.lab.control_proc = None
        time.sleep(self.rng.uniform(0.2, 2.0))
        self.lab.start_control(wait_s=60)
        self.control_restarts += 1

    def flip_all(self):
        self.forced = not self.forced
        for t in BACKENDS + tuple(DCS):
            r = self.ctl("force", "down", t) if self.forced else self.ctl("release", t)
            if r.returncode != 0:
                self.failures.append(f"sextantctl force/release {t}: {r.stdout}{r.stderr}")

    def backend_flip(self):
        name = self.rng.choice(BACKENDS + tuple(DCS))
        self.backend(name, name not in self.backends)

    def edit_zone(self):
        self.version += 1
        tmp = self.zone_path.with_suffix(".new")
        tmp.write_text(soak_zone(self.version))
        tmp.rename(self.zone_path)

    def edit_nets(self):
        self.nets_turn = 1 - self.nets_turn
        (self.work / "nets.txt").write_text(NETS[self.nets_turn])

    def corrupt_zone(self):
        """A corrupt other.test is refused alone: an edit of soak.test made while it is broken
        is published (both paths serve it) and other.test keeps its last good data (the
        checkers ask for it throughout)."""
        mark = self.log_mark()
        self.other_path.write_text(CORRUPT_ZONE)
        if not self.wait_log(mark, r"refused"):
            self.failures.append("a corrupt other.test was not refused: "
                                 + self.lab.control_log_text()[mark:][-800:])
        self.edit_zone()
        want = [f"v{self.version}.soak.test.", version_address(self.version)]
        served = wait_for(lambda: self.serves_version(want), timeout=15, step=0.2)
        if not served:
            self.failures.append(f"soak.test v{self.version} not served while other.test was "
                                 f"refused: {self.lab.control_log_text()[mark:][-800:]}")
        self.other_path.write_text(OTHER_ZONE)
        self.refusals += 1

    def serves_version(self, want):
        k = run(["dig", "@127.0.0.1", "-p", str(self.kport), "+short", "+time=1",
                 "alias.soak.test", "A"], check=False).stdout.split()
        return k == want and self.lab.dig("+short", "alias.soak.test", "A").split() == want

    def spoofed_flood(self):
        """One name from FLOOD_GROUPS /24s of spoofed 127.77.g.x sources, as fast as the test
        goes, at the kernel listener: each prefix cut to about RRL_ANSWERS a second."""
        groups = [Group(f"127.77.{g}.0/24", [f"127.77.{g}.{h}" for h in range(1, 9)])
                  for g in range(FLOOD_GROUPS)]
        before = self.rrl_counters()
        took = flood(self.kport, "keep.other.test", groups, FLOOD_SECONDS)
        after = self.rrl_counters()
        self.floods.append((took, groups, {k: after[k] - before[k] for k in after}))

    def rrl_counters(self):
        m = self.lab.exporter_metrics()
        return {k: sum(v for name, v in m.items() if name.startswith(k))
                for k in ("sextant_rrl_limited_total", "sextant_rrl_slipped_total")}

    def corrupt_mmdb(self):
        mark = self.log_mark()
        db = self.work / "world.mmdb"
        broken = self.rng.choice(["GeoIP2-City-Test-Broken-Double-Format.mmdb",
                                  "GeoIP2-City-Test-Invalid-Node-Count.mmdb",
                                  "MaxMind-DB-test-broken-search-tree-24.mmdb"])
        shutil.copy(MAXMIND / broken, self.work / "world.mmdb.new")
        (self.work / "world.mmdb.new").rename(db)
        if not self.wait_log(mark, r"refused"):
            self.failures.append(f"corrupt {broken} was not refused: "
                                 + self.lab.control_log_text()[mark:][-800:])
        shutil.copy(MAXMIND / "GeoIP2-City-Test.mmdb", self.work / "world.mmdb.new")
        (self.work / "world.mmdb.new").rename(db)
        self.refusals += 1

    def run_faults(self, seconds):
        self.forced = False
        self.nets_turn = 0
        self.control_restarts = 0
        self.refusals = 0
        self.failures = []
        self.floods = []
        faults = [self.kill_control, self.flip_all, self.backend_flip, self.edit_zone,
                  self.edit_zone, self.edit_nets, self.corrupt_zone, self.corrupt_mmdb,
                  self.spoofed_flood]
        start = time.time()
        warm_at = start + seconds * WARMUP_FRACTION
        self.rss = {"dataplane": [], "kernel": [], "control": []}
        # Control is killed only before the warm-up ends, so that its last life is measured.
        while time.time() < start + seconds - 8:
            time.sleep(self.rng.uniform(1.0, 4.0))
            now = time.time()
            pick = self.rng.choice(faults if now < warm_at - 5 else faults[1:])
            if now >= warm_at - 12 and now < warm_at - 5 and self.control_restarts == 0:
                pick = self.kill_control  # at least once, whatever the draws
            self.events.append(f"{now - start:6.1f}s {pick.__name__}")
            pick()
            if time.time() > warm_at + 5:
                for name, proc in (("dataplane", self.lab.proc), ("kernel", self.kproc),
                                   ("control", self.lab.control_proc)):
                    self.rss[name].append(self.rss_kib(proc))
        if not self.floods:  # at least one flood, whatever the draws
            self.events.append(f"{time.time() - start:6.1f}s spoofed_flood")
            self.spoofed_flood()
        # Put everything right for the final state checks.
        if self.forced:
            self.flip_all()
        for name in self.ports:
            if name not in self.backends:
                self.backend(name, True)

    # --- verdicts ----------------------------------------------------------------------------
    def results(self, seconds):
        res = self.res
        print("seed", SEED, "events:\n  " + "\n  ".join(self.events), flush=True)
        res.check("faults ran without a harness failure", not self.failures,
                  "\n".join(self.failures))
        res.check("control was killed and restarted at least once", self.control_restarts > 0 or
                  seconds < 60, f"{self.control_restarts}")
        alive = {"dpdk dataplane": self.lab.proc, "kernel dataplane": self.kproc,
                 "control": self.lab.control_proc}
        res.check("no process crashed", all(p is not None and p.poll() is None
                                             for p in alive.values()),
                  {k: (p.poll() if p else "none") for k, p in alive.items()})
        for name, p in self.checkers.items():
            out, _ = p.communicate(timeout=seconds + 60)
            s = json.loads(out.strip().splitlines()[-1])
            print(name, "checker:", {k: v for k, v in s.items() if k != "examples"}, flush=True)
            res.check(f"{name}: every answer is right for one state", s["wrong"] == 0 and
                      s["answered"] > seconds * CHECK_QPS * 0.5, "\n".join(s["examples"]))
            res.check(f"{name}: the checker lost nothing", s["lost"] == 0 and
                      s["truncated"] == 0, s)
            res.check(f"{name}: zone versions moved forward to the last one",
                      bool(s["versions"]) and s["versions"][1] == self.version, s["versions"])
        for name, p in self.load.items():
            out, _ = p.communicate(timeout=seconds + 60)
            sent = re.search(r"Queries sent:\s+(\d+)", out)
            lost = re.search(r"Queries lost:\s+(\d+)", out)
            print(name, out[out.find("Queries sent"):][:400], flush=True)
            res.check(f"{name}: steady load, nothing lost",
                      sent and int(sent.group(1)) > seconds * STEADY_QPS * 0.8 and lost and
                      int(lost.group(1)) == 0, out[-1500:])
        for took, groups, delta in self.floods:
            expect = RRL_ANSWERS * took + RRL_ANSWERS * RRL_WINDOW  # the rate, plus the burst
            for g in groups:
                res.check(f"flood from {g.name}: cut to about {RRL_ANSWERS}/s "
                          f"({g.answers} answers in {took:.1f} s)",
                          0.7 * RRL_ANSWERS * took <= g.answers <= 1.25 * expect and
                          g.sent > 2 * expect and g.tc_with_records == 0,
                          f"sent {g.sent}, answers {g.answers}, truncated {g.truncated}")
            sent = sum(g.sent for g in groups)
            answered = sum(g.answers for g in groups)
            res.check("the flood's unanswered queries are what the limiter counted (limited)",
                      abs(delta["sextant_rrl_limited_total"] - (sent - answered)) <=
                      0.02 * sent + 50, f"sent {sent}, answered {answered}, counters {delta}")
        for name, series in self.rss.items():
            # Flat: the floor of the last third (its lowest sample) no more than 2% above the
            # median of the first third. A leak raises every sample, the floor too; a malloc
            # arena's worth that control's reload thread keeps for a while after a compile (3-5%
            # here, for several samples in a row: CI saw 20.6 -> 21.3 MiB for 5 of the last 9
            # samples, then 20.3 at the end) raises only some. Ending lower than the start is not
            # a leak (glibc returning pages it kept is the common cause), so only growth fails.
            series = [v for v in series if v]
            third = max(1, len(series) // 3)
            first = sorted(series[:third])[third // 2] if series else 0
            last = min(series[-third:]) if series else 0
            ok = len(series) >= 3 and last <= 1.02 * first
            res.check(f"{name}: resident memory flat after warm-up (median {first} -> floor {last} "
                      "KiB, no more than 2% up)", ok, f"{series}")
        final = run(["dig", "@127.0.0.1", "-p", str(self.kport), "+short", "alias.soak.test",
                     "A"], check=False).stdout.split()
        res.check("the kernel path serves the last zone version",
                  final == [f"v{self.version}.soak.test.", version_address(self.version)], final)
        final = self.lab.dig("+short", "alias.soak.test", "A").split()
        res.check("the DPDK path serves the last zone version",
                  final == [f"v{self.version}.soak.test.", version_address(self.version)], final)

    def cleanup(self):
        for p in list(getattr(self, "load", {}).values()) + \
                list(getattr(self, "checkers", {}).values()):
            if p.poll() is None:
                p.kill()
        stop_processes(self.procs)
        for p in self.backends.values():
            p.kill()
        self.lab.cleanup()


def main():
    args = integration_args()
    res = Results()
    soak = Soak(args, res)
    seconds = max(30.0, MINUTES * 60 - 25)
    print(f"soak: {seconds:.0f} s of load, seed {SEED}", flush=True)
    try:
        soak.start()
        soak.start_load(seconds)
        soak.run_faults(seconds)
        soak.results(seconds)
    finally:
        soak.cleanup()
    return res.summary()


if __name__ == "__main__":
    sys.exit(main())
