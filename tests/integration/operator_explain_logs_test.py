#!/usr/bin/python3
"""What an operator reads, through the real binaries on loopback (no namespace needed):

- `sextantctl explain NAME A --client ADDR` says which layer of the geo map chose the client's
  preference list: the latency rows (file and line), the nets line (file and line), the MaxMind
  database record (its network, the database type and the fields used) or the default list (and
  why: no record, no coordinates); it finds the config the daemon runs by itself (the daemon was
  started with a relative --config), takes --config when control is down, says what to pass when
  it has neither, and says so when the files changed after the snapshot was published;
- sextant-control's log lines carry a UTC timestamp when stderr is not the journal, none when
  JOURNAL_STREAM names its stderr (as systemd sets it), and timestamps again when the variable
  names another stream (inherited, not the journal);
- an override given with a short --for logs its name when it expires;
- a target with `check: {type: none}` is accepted and never probed ("not checked");
- counts read "1 zone", not "1 zones";
- a kernel-mode sextant-dataplane logs each snapshot switch after a reload (old -> new
  generation) and one line on SIGTERM with the generation and the counters.

Instance sxexpl18, ports picked free on 127.0.0.1. Prints 'N passed, M failed'."""
import calendar
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "lib"))
from lab import Results, free_port, integration_args, remove_shm, run, stop_processes, wait_for  # noqa: E402

MAXMIND = HERE.parent / "data" / "maxmind"
INSTANCE = "sxexpl18"
STAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.\d{3}Z sextant-control: ")

ZONE = """$ORIGIN geo.test.
$TTL 300
@ SOA ns hostmaster 1 3600 600 86400 60
@ NS ns
ns A 198.18.0.2
"""

NETS = "# lab networks\n198.18.0.0/16 dc-eu,dc-us\n"
LATENCY = "prefix,datacenter,rtt_ms\n198.18.7.0/24,dc-us,12\n198.18.7.0/24,dc-ap,30\n"


def config(work):
    return f"""instance: {INSTANCE}
zones:
  - {{origin: geo.test., file: geo.test.zone}}
datacenters:
  dc-ap: {{latitude: 1.35, longitude: 103.82}}
  dc-us: {{latitude: 40.71, longitude: -74.01}}
  dc-eu: {{latitude: 51.51, longitude: -0.13}}
geo_maps:
  world: {{database: world.mmdb, mode: nearest, nets: nets.txt, latency: latency.csv}}
targets:
  t-ap: {{datacenter: dc-ap, check: {{type: none}}}}
  t-us: {{datacenter: dc-us}}
  t-eu: {{datacenter: dc-eu}}
resources:
  www:
    kind: geo
    map: world
    ttl: 30
    datacenters:
      dc-ap: {{members: [{{address: 198.18.1.1, target: t-ap}}]}}
      dc-us: {{members: [{{address: 198.18.2.1, target: t-us}}]}}
      dc-eu: {{members: [{{address: 198.18.3.1, target: t-eu}}]}}
records:
  - {{name: www.geo.test., type: A, resource: www}}
control:
  socket: {work}/control.sock
  state_file: {work}/control.state
  reload_delay: 50ms
"""


class Env:
    def __init__(self, args, work):
        self.control = args.sextant_control
        self.dataplane = args.sextant_dataplane
        self.ctl_bin = str(Path(args.sextant_control).parent / "sextantctl")
        self.work = work
        self.cfg = work / "sextant.yaml"
        self.socket = work / "control.sock"
        self.procs = []

    def ctl(self, *a, config=False):
        where = ["--config", str(self.cfg)] if config else ["--socket", str(self.socket)]
        return run([self.ctl_bin, "--instance", INSTANCE, *where, *a], check=False)

    def explain(self, client, config=False):
        r = self.ctl("explain", "www.geo.test", "A", "--client", client, config=config)
        return r.stdout + r.stderr

    def start_control(self, log_name, journal_stream=None):
        """The daemon with a relative --config from the workdir; JOURNAL_STREAM removed, or set
        to `journal_stream` ("match": the dev:inode of the log file its stderr goes to)."""
        log_path = self.work / log_name
        log = open(log_path, "w")
        env = {k: v for k, v in os.environ.items() if k != "JOURNAL_STREAM"}
        if journal_stream == "match":
            st = os.fstat(log.fileno())
            env["JOURNAL_STREAM"] = f"{st.st_dev}:{st.st_ino}"
        elif journal_stream is not None:
            env["JOURNAL_STREAM"] = journal_stream
        p = subprocess.Popen([self.control, "--config", "sextant.yaml"], cwd=self.work, env=env,
                             stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.procs.append(p)
        if not wait_for(lambda: "serving generation" in log_path.read_text() or
                        p.poll() is not None, timeout=30):
            raise RuntimeError(f"sextant-control did not start: {log_path.read_text()}")
        if p.poll() is not None:
            raise RuntimeError(f"sextant-control exited: {log_path.read_text()}")
        return p, log_path

    def stop(self, p):
        p.send_signal(signal.SIGTERM)
        try:
            return p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
            return p.wait()


def lines(path):
    return [ln for ln in path.read_text().splitlines() if ln.strip()]


def stamped(path):
    """Every line starts with an RFC 3339 UTC timestamp within a minute of now."""
    now = time.time()
    for ln in lines(path):
        m = STAMP.match(ln)
        if not m:
            return False
        t = calendar.timegm(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S"))
        if abs(t - now) > 60:
            return False
    return bool(lines(path))


def explain_layers(env, res):
    work = env.work
    db = work / "world.mmdb"
    rows = [
        ("latency rows", "198.18.7.9",
         [f"preference list: dc-us, dc-ap, dc-eu",
          f"chosen by the latency rows for 198.18.7.0/24: {work}/latency.csv:2 (dc-us 12 ms), "
          f"{work}/latency.csv:3 (dc-ap 30 ms), lowest round trip first",
          f"datacenters without a measurement follow the nets line {work}/nets.txt:2: "
          f"198.18.0.0/16 dc-eu,dc-us"]),
        ("nets line", "198.18.9.1",
         [f"preference list: dc-eu, dc-us\n",
          f"chosen by the nets line {work}/nets.txt:2: 198.18.0.0/16 dc-eu,dc-us"]),
        ("database record", "81.2.69.160",
         ["preference list: dc-eu, dc-us, dc-ap",
          f"chosen by the database record for 81.2.69.160/27 in {db} (GeoIP2-City): "
          f"coordinates 51.5142,-0.0931 (city 'London'), nearest first"]),
        ("database record (IPv6)", "2001:218::1",
         [f"chosen by the database record for 2001:218::/32 in {db} (GeoIP2-City): "
          f"coordinates 35.68536,139.75309, nearest first"]),
        ("default list: no record", "10.9.9.9",
         ["preference list: dc-ap, dc-us, dc-eu",
          "chosen by the default list (geo map 'world' has no 'default': every datacenter in "
          "config order): no record for "]),
        ("default list: a record without coordinates", "214.1.1.7",
         [f"chosen by the default list (geo map 'world' has no 'default': every datacenter in "
          f"config order): the database record for 214.1.1.0/24 in {db} (GeoIP2-City): "
          f"no coordinates"]),
    ]
    for layer, client, want in rows:
        out = env.explain(client)
        missing = [w for w in want if w not in out]
        res.check(f"explain --client {client} (daemon's relative config): {layer}",
                  not missing, f"missing {missing} in:\n{out}")


def control_logs(env, res, p, log_path):
    res.check("control's log lines carry a UTC timestamp (not under journald)",
              stamped(log_path), log_path.read_text())
    h = env.ctl("health")
    row = next((ln for ln in h.stdout.splitlines() if ln.startswith("t-ap")), "")
    res.check("check: {type: none}: a target without a probe, shown as not checked",
              h.returncode == 0 and "not checked" in row, h.stdout + h.stderr)
    # "--for 1": a bare number is seconds (README, Configuration).
    t0 = time.time()
    r = env.ctl("force", "down", "t-eu", "--for", "1")
    ok = wait_for(lambda: "override expired: target t-eu (forced down)" in log_path.read_text(),
                  timeout=5)
    took = time.time() - t0
    line = next((ln for ln in lines(log_path) if "expired" in ln), "")
    res.check("an override given --for 1 (seconds) names itself when it expires, timestamped",
              r.returncode == 0 and ok and 0.9 <= took <= 3 and
              STAMP.match(line) is not None,
              f"{took:.2f}s " + r.stdout + r.stderr + log_path.read_text())
    res.check("no '(s)' plural left in the log", "(s)" not in log_path.read_text(),
              log_path.read_text())


def dataplane_logs(env, res, log_path):
    port = free_port()
    dp_log = env.work / "dataplane.log"
    with open(dp_log, "w") as log:
        dp = subprocess.Popen([env.dataplane, "--listen", f"127.0.0.1:{port}",
                               "--instance", INSTANCE], stdout=log, stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL)
    env.procs.append(dp)
    if not wait_for(lambda: "serving generation" in dp_log.read_text(), timeout=15):
        res.check("kernel-mode dataplane starts", False, dp_log.read_text())
        return
    dig = ["dig", f"@127.0.0.1", "-p", str(port), "+time=2", "+tries=2", "+norec",
           "+subnet=198.18.7.9/32", "www.geo.test", "A", "+short"]
    answers = [run(dig, check=False).stdout.strip() for _ in range(3)]
    res.check("the dataplane answers the latency client from dc-us",
              answers == ["198.18.2.1"] * 3, str(answers))

    # A reload: the nets file changes; control publishes, the dataplane switches and says so.
    gen_before = int(re.findall(r"serving generation (\d+)", dp_log.read_text())[0])
    (env.work / "nets.txt").write_text(NETS + "198.18.9.0/24 dc-ap\n")
    published = wait_for(lambda: f"published generation {gen_before + 1} (files changed): 1 zone, "
                         in log_path.read_text())
    switched = wait_for(lambda: f"instance {INSTANCE}: snapshot generation {gen_before} -> "
                        f"{gen_before + 1}" in dp_log.read_text())
    res.check("a reload is published ('1 zone', timestamped) and the dataplane logs the switch",
              published and switched and stamped(log_path),
              log_path.read_text() + dp_log.read_text())
    out = env.explain("198.18.9.1")
    res.check("explain follows the reload: the new, more specific nets line",
              f"chosen by the nets line {env.work}/nets.txt:3: 198.18.9.0/24 dc-ap" in out, out)

    dp.send_signal(signal.SIGTERM)
    rc = dp.wait(timeout=15)
    m = re.search(rf"sextant-dataplane: instance {INSTANCE}: SIGTERM: stopped: served generation "
                  rf"{gen_before + 1}; the instance's counters: rx (\d+), tx (\d+), queries (\d+)",
                  dp_log.read_text())
    res.check("SIGTERM: the dataplane logs that it stopped, the generation and the counters",
              rc == 0 and m is not None and int(m.group(3)) >= 3, dp_log.read_text())


def explain_without_daemon(env, res):
    out = env.explain("198.18.7.9")
    res.check("control down, no --config: explain says what to pass",
              "where the list comes from: unknown: no --config given, and sextant-control does "
              f"not answer on {env.socket}" in out and "pass --config FILE" in out, out)
    out = env.explain("198.18.7.9", config=True)
    res.check("control down, --config: the layer still named",
              f"chosen by the latency rows for 198.18.7.0/24: {env.work}/latency.csv:2" in out,
              out)
    (env.work / "nets.txt").write_text("198.18.0.0/16 dc-ap\n")
    out = env.explain("198.18.20.1", config=True)
    res.check("files changed after publishing: explain says it cannot tell, and why",
              "where the list comes from: unknown: " in out and
              "now give dc-ap (chosen by the nets line " in out and
              "not the published list" in out, out)


def journal(env, res):
    p, log_path = env.start_control("control-journal.log", journal_stream="match")
    env.stop(p)
    bare = lines(log_path)
    res.check("JOURNAL_STREAM names stderr: no timestamps, each line its syslog priority "
              "(sd-daemon(3))", bare and all(re.match(r"<[3-7]>sextant-control: ", ln)
                                             for ln in bare), log_path.read_text())
    res.check("journal priorities: serving is a notice, a publish is info, stopping a notice",
              any(ln.startswith("<5>sextant-control: instance ") and "serving generation" in ln
                  for ln in bare) and
              any(ln.startswith("<6>sextant-control: published generation") for ln in bare) and
              any(ln.startswith("<5>sextant-control: signal 15: stopping") for ln in bare),
              log_path.read_text())
    res.check("each geo map built is summarised: database type and build date, networks, "
              "datacenters, time", any(re.match(
                  r"<6>sextant-control: geo map 'world': GeoIP2-City built \d{4}-\d\d-\d\d, "
                  r"\d+ networks \(v4 \d+, v6 \d+\), 3 datacenters, \d+ ms$", ln)
                  for ln in bare), log_path.read_text())
    p, log_path = env.start_control("control-inherited.log", journal_stream="1:1")
    env.stop(p)
    res.check("JOURNAL_STREAM names another stream (inherited): timestamps",
              stamped(log_path), log_path.read_text())


def log_level(env, res):
    """`log: {level: warning}`: notices and info are not written; a refused reload (a warning)
    is. A level that does not exist is refused at --check with the choices."""
    text = env.cfg.read_text()
    quiet = env.work / "quiet.yaml"
    quiet.write_text(text + "log:\n  level: warning\n")
    log_path = env.work / "control-quiet.log"
    log = open(log_path, "w")
    p = subprocess.Popen([env.control, "--config", str(quiet)], cwd=env.work, stdout=log,
                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    env.procs.append(p)
    up = wait_for(lambda: env.ctl("status").returncode == 0 or p.poll() is not None, timeout=30)
    quiet.write_text(text + "log:\n  level: warning\nnot_a_key: 1\n")
    env.ctl("reload")
    quiet.write_text(text + "log:\n  level: warning\n")
    env.stop(p)
    out = log_path.read_text()
    res.check("log level warning: no notice or info lines, the refused reload is logged",
              up and ": serving generation" not in out and "published generation" not in out and
              "stopping" not in out and "reload refused" in out, out)
    bad = env.work / "badlevel.yaml"
    bad.write_text(text + "log:\n  level: loud\n")
    r = run([env.control, "--check", "--config", str(bad)], check=False)
    res.check("log level 'loud': refused at --check, naming the choices",
              r.returncode == 1 and "'loud' is not one of error, warning, notice, info, debug"
              in r.stderr, r.stderr)


def main():
    args = integration_args()
    work = Path(args.workdir).resolve()
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    res = Results()
    env = Env(args, work)
    remove_shm([INSTANCE])
    try:
        shutil.copy(MAXMIND / "GeoIP2-City-Test.mmdb", work / "world.mmdb")
        (work / "geo.test.zone").write_text(ZONE)
        (work / "nets.txt").write_text(NETS)
        (work / "latency.csv").write_text(LATENCY)
        env.cfg.write_text(config(work))
        r = run([env.control, "--check", "--config", str(env.cfg)], check=False)
        res.check("--check counts '1 zone'", r.returncode == 0 and ": 1 zone, " in r.stdout,
                  r.stdout + r.stderr)

        p, log_path = env.start_control("control.log")
        explain_layers(env, res)
        control_logs(env, res, p, log_path)
        dataplane_logs(env, res, log_path)
        rc = env.stop(p)
        res.check("control stops on SIGTERM with a timestamped line",
                  rc == 0 and STAMP.match(lines(log_path)[-1]) is not None and
                  "stopping" in lines(log_path)[-1], log_path.read_text())
        explain_without_daemon(env, res)
        (work / "nets.txt").write_text(NETS)
        journal(env, res)
        log_level(env, res)
    finally:
        stop_processes(env.procs)
        remove_shm([INSTANCE])
    print(f"{res.passed} passed, {res.failed} failed")
    return 0 if res.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
