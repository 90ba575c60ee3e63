#!/usr/bin/python3
"""How the processes start, find each other and answer the operator (issue 18), through the real
binaries on loopback only: sextant-control as the daemon, sextant-dataplane in kernel-socket
mode on 127.0.0.18, sextantctl, dig.

- sextant-dataplane: --instance is required (the refusal names the instances there), every start
  line names the instance, --help describes the DPDK mode too;
- `sextantctl status` lists every attached dataplane: two of one instance, one stopped (the other
  is still attached), one SIGKILLed (not attached), a rolling restart;
- `sextant-control --once` and a second daemon (on another socket) are refused while a daemon
  holds the instance, naming its pid; after the daemon is SIGKILLed, --once publishes again;
- a metrics port in use, a state file and a control socket that cannot be made: start-up stops
  with the resource and the errno, and nothing is published (generation and snapshots unchanged);
- `sextantctl --instance NAME` alone reaches a daemon on a non-default socket; a daemon that runs
  but does not answer makes `health` say so instead of falling back to shared memory; a daemon
  that does not run makes it fall back, saying so;
- override replies count and name the targets they hit; a datacenter no target is in, an unknown
  target, a target held by its datacenter's override, `--for 10x`: each refused with the fix;
- `health`'s SINCE is the age of the served state (a target forced down now shows 0-1s);
- a control block of another ABI that a running dataplane maps is not re-initialised by control.

Prints 'N passed, M failed'."""
import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "lib"))
from lab import Binaries, Results, integration_args, remove_shm, run  # noqa: E402
from lab import free_port as lab_free_port  # noqa: E402

ADDR = "127.0.0.18"
INSTANCE = f"sxoprt{os.getpid()}"
OTHER = f"sxoprtw{os.getpid()}"  # for --wait on an instance nothing published yet

ZONE = """$ORIGIN op.test.
$TTL 300
@ SOA ns hostmaster 1 3600 600 86400 60
@ NS ns
ns A 198.18.0.2
"""

POLICIES = """targets:
  sgp1: {datacenter: sgp}
  sgp2: {datacenter: sgp}
  nyc1: {datacenter: nyc}
  nyc2: {datacenter: nyc}
  web1: {}
records:
  - name: www.op.test.
    type: A
    kind: static
    order: fixed
    members:
      - {address: 198.18.1.1, target: sgp1}
      - {address: 198.18.1.2, target: sgp2}
      - {address: 198.18.2.1, target: nyc1}
      - {address: 198.18.2.2, target: nyc2}
      - {address: 198.18.3.1, target: web1}
"""


def free_port():
    """A port free for UDP and TCP on ADDR."""
    return lab_free_port(ADDR)


class Env(Binaries):
    def __init__(self, args):
        super().__init__(args)
        (self.work / "op.test.zone").write_text(ZONE)
        self.socket = self.work / "ctl" / "control.sock"  # not /run/sextant/<instance>.sock
        self.state = self.work / "control.state"
        self.metrics_port = free_port()
        self.config = self.write_config("sextant.yaml", self.socket, self.state, self.metrics_port)
        self.procs = []
        self.daemon = None

    def write_config(self, name, sock, state, metrics_port):
        path = self.work / name
        path.write_text(
            f"instance: {INSTANCE}\nzones: [{{origin: op.test., file: op.test.zone}}]\n"
            f"control:\n  socket: {sock}\n  state_file: {state}\n  reload_delay: 50ms\n"
            f"  metrics: {ADDR}:{metrics_port}\n" + POLICIES)
        return path

    def ctl(self, *a, timeout=30):
        """sextantctl with --instance only: it must find the daemon's socket by itself."""
        return run([self.ctl_bin, "--instance", INSTANCE, *a], check=False, timeout=timeout)

    def start_daemon(self, config=None):
        log = self.work / "control.log"
        mark = log.stat().st_size if log.exists() else 0
        out = open(log, "a")
        p = subprocess.Popen([self.control, "--config", str(config or self.config)], stdout=out,
                             stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.procs.append(p)
        deadline = time.time() + 20
        while time.time() < deadline:
            text = log.read_text()[mark:]
            if "serving generation" in text:
                self.daemon = p
                return p
            if p.poll() is not None:
                raise RuntimeError(f"sextant-control exited: {text}")
            time.sleep(0.05)
        raise RuntimeError(f"sextant-control did not start: {log.read_text()[mark:]}")

    def stop(self, p, sig=signal.SIGTERM):
        if p.poll() is None:
            p.send_signal(sig)
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        return p.returncode

    def start_dataplane(self, tag, instance=INSTANCE, wait_for="serving generation", extra=()):
        port = free_port()
        log = self.work / f"dataplane-{tag}.log"
        p = subprocess.Popen([self.dataplane, "--listen", f"{ADDR}:{port}", "--instance", instance,
                              *extra], stdout=open(log, "w"), stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL)
        self.procs.append(p)
        deadline = time.time() + 20
        while time.time() < deadline:
            if wait_for in log.read_text():
                return p, port, log
            if p.poll() is not None:
                raise RuntimeError(f"sextant-dataplane {tag} exited: {log.read_text()}")
            time.sleep(0.05)
        raise RuntimeError(f"sextant-dataplane {tag} did not start: {log.read_text()}")

    def generation(self):
        with open(f"/dev/shm/{INSTANCE}.ctl", "rb") as f:
            return struct.unpack("<Q", f.read(24)[16:24])[0]

    def snapshots(self):
        return sorted(p.name for p in Path("/dev/shm").glob(f"{INSTANCE}.snap.*"))

    def cleanup(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        remove_shm([INSTANCE, OTHER])


def dig(port, name="www.op.test"):
    r = run(["dig", f"@{ADDR}", "-p", str(port), "+time=2", "+tries=2", "+norec", "+short", name,
             "A"], check=False)
    return r.stdout.split()


def status_pids(env):
    r = env.ctl("status", "--json")
    try:
        return sorted(d["pid"] for d in json.loads(r.stdout)["dataplanes"])
    except (ValueError, KeyError):
        return None


def dataplane_start(env, res):
    """--help, a missing --instance, the instance named on every start line."""
    r = run([env.dataplane, "--help"], check=False)
    res.check("dataplane --help describes the DPDK mode as well as the kernel-socket mode",
              r.returncode == 0 and "sextant-dataplane <EAL args> -- --instance NAME" in r.stdout
              and "Kernel-socket mode" in r.stdout and "--vdev" in r.stdout, r.stdout[-800:])
    r = run([env.dataplane, "--listen", f"{ADDR}:{free_port()}"], check=False, timeout=20)
    res.check("dataplane without --instance: refused, naming the instances there",
              r.returncode == 1 and "--instance NAME is required" in r.stderr and
              INSTANCE in r.stderr, r.stderr)
    r = run([env.dataplane, "--instance", INSTANCE, "--log-level", "loud"], check=False,
            timeout=20)
    res.check("dataplane --log-level loud: refused, naming the choices",
              r.returncode != 0 and "error, warning, notice, info, debug" in r.stderr, r.stderr)
    p, _, log = env.start_dataplane("wait", instance=OTHER, extra=["--wait"],
                                    wait_for="waiting for sextant-control")
    res.check("--wait: the waiting line names the instance",
              f"instance {OTHER}: waiting" in log.read_text(), log.read_text())
    env.stop(p)


def quiet_dataplane(env, res):
    """--log-level warning: the dataplane serves and writes no notice (no start line)."""
    port = free_port()
    log = env.work / "dataplane-quiet.log"
    p = subprocess.Popen([env.dataplane, "--listen", f"{ADDR}:{port}", "--instance", INSTANCE,
                          "--log-level", "warning"], stdout=open(log, "w"),
                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    env.procs.append(p)
    deadline = time.time() + 20
    while time.time() < deadline and p.pid not in status_pids(env):
        time.sleep(0.05)
    answered = dig(port) != []
    env.stop(p)
    res.check("dataplane --log-level warning: serves, logs neither its start nor its stop",
              answered and log.read_text() == "", log.read_text())


def snapshot_hugepages(env, res):
    """--snapshot-hugepages: a bad value refused; 0 copies even this small snapshot into
    hugepage-backed memory (logged) and answers from the copy; off serves the mapping."""
    r = run([env.dataplane, "--instance", INSTANCE, "--snapshot-hugepages", "lots"],
            check=False, timeout=20)
    res.check("dataplane --snapshot-hugepages lots: refused, saying what it takes",
              r.returncode != 0 and "neither a size in MiB nor off" in r.stderr, r.stderr)
    p, port, log = env.start_dataplane("copy", extra=["--snapshot-hugepages", "0"])
    res.check("--snapshot-hugepages 0: the snapshot is copied (logged) and answers come from it",
              "copied into hugepage-backed memory and validated" in log.read_text()
              and dig(port) != [], log.read_text())
    env.stop(p)
    p, port, log = env.start_dataplane("nocopy", extra=["--snapshot-hugepages", "off"])
    res.check("--snapshot-hugepages off: mapped, not copied, and serving",
              "hugepage-backed" not in log.read_text() and dig(port) != [], log.read_text())
    env.stop(p)


def attachments(env, res):
    r = env.ctl("status")
    res.check("status before any dataplane: none attached",
              r.returncode == 0 and re.search(r"^dataplanes\s+none attached", r.stdout, re.M),
              r.stdout + r.stderr)
    a, port_a, log_a = env.start_dataplane("a")
    b, port_b, _ = env.start_dataplane("b")
    res.check("the kernel-mode start line names the instance",
              f"sextant-dataplane: instance {INSTANCE}: serving generation" in log_a.read_text(),
              log_a.read_text())
    r = env.ctl("status")
    res.check("status lists both dataplanes of the instance",
              re.search(r"^dataplanes\s+2 attached", r.stdout, re.M) and
              f"pid {a.pid}: udp+tcp {ADDR}:{port_a}" in r.stdout and
              f"pid {b.pid}: udp+tcp {ADDR}:{port_b}" in r.stdout, r.stdout + r.stderr)
    env.stop(a)
    res.check("one of two stopped (SIGTERM): the other is still attached and serving",
              status_pids(env) == [b.pid] and dig(port_b) != [], env.ctl("status").stdout)
    c, _, _ = env.start_dataplane("c")
    res.check("a third one attaches beside it", status_pids(env) == sorted([b.pid, c.pid]),
              env.ctl("status").stdout)
    env.stop(c, signal.SIGKILL)
    res.check("a SIGKILLed dataplane is not attached; the other still is",
              status_pids(env) == [b.pid], env.ctl("status").stdout)
    a2, port_a2, _ = env.start_dataplane("a2")
    env.stop(b)
    r = env.ctl("status")
    res.check("rolling restart (new one up, old one stopped): the new one is attached",
              status_pids(env) == [a2.pid] and re.search(r"^dataplanes\s+1 attached", r.stdout,
                                                         re.M) and dig(port_a2) != [], r.stdout)
    return a2, port_a2


def one_holder(env, res):
    g0, snaps0 = env.generation(), env.snapshots()
    r = run([env.control, "--once", "--config", str(env.config)], check=False, timeout=60)
    res.check("--once while the daemon runs: refused, naming the daemon's pid",
              r.returncode == 1 and
              f"held by the running sextant-control daemon (pid {env.daemon.pid})" in r.stderr and
              "reload" in r.stderr, r.stderr)
    res.check("--once refused: nothing published", env.generation() == g0 and
              env.snapshots() == snaps0, f"{g0} -> {env.generation()}")
    other = env.write_config("second.yaml", env.work / "second.sock", env.work / "second.state",
                             free_port())
    r = run([env.control, "--config", str(other)], check=False, timeout=60)
    res.check("a second daemon on another socket: refused by the same lock, naming the pid",
              r.returncode == 1 and
              f"held by another sextant-control daemon (pid {env.daemon.pid})" in r.stderr,
              r.stderr)
    res.check("second daemon refused: nothing published", env.generation() == g0, "")


def overrides(env, res):
    def ctl_ok(*a):
        r = env.ctl(*a)
        return r.returncode == 0, r.stdout + r.stderr

    ok, out = ctl_ok("force", "down", "sgp", "--datacenter")
    res.check("force a datacenter: the reply counts and names the targets",
              ok and "datacenter sgp forced down: 2 targets (sgp1, sgp2)" in out, out)
    r = env.ctl("force", "down", "sng", "--datacenter")
    res.check("force a datacenter no target is in: refused as a mistake",
              r.returncode == 1 and "datacenter 'sng' has no targets: nothing forced" in r.stderr
              and "nyc, sgp" in r.stderr, r.stderr)
    r = env.ctl("release", "nosuch")
    res.check("release an unknown target: 'no such target'",
              r.returncode == 1 and "no such target 'nosuch'" in r.stderr, r.stderr)
    r = env.ctl("release", "sgp1")
    res.check("release a target held by its datacenter's override: points at --datacenter",
              r.returncode == 1 and "release sgp --datacenter" in r.stderr, r.stderr)
    r = env.ctl("release", "nyc1")
    res.check("release a target without override: 'no override on target'",
              r.returncode == 1 and "no override on target 'nyc1'" in r.stderr, r.stderr)
    r = env.ctl("force", "down", "nyc1", "--for", "10x")
    res.check("--for 10x: says the accepted units",
              r.returncode != 0 and "ms, s, m or h" in r.stderr and
              "bare number is seconds" in r.stderr, r.stderr)
    ok, out = ctl_ok("force", "up", "sgp1", "--for", "5m")
    res.check("force one target: '1 target (sgp1)'",
              ok and "forced up for 300s: 1 target (sgp1)" in out, out)
    ok, out = ctl_ok("release", "sgp", "--datacenter")
    res.check("release the datacenter: names whom it frees and who keeps an override",
              ok and "datacenter sgp released: 1 target (sgp2)" in out and
              "sgp1 (up) keeps its own override" in out, out)
    ok, out = ctl_ok("release", "sgp1")
    res.check("release the target: '1 target (sgp1)'",
              ok and "released: 1 target (sgp1); the checks decide again" in out, out)


def since(env, res):
    ok = env.ctl("force", "down", "web1")
    r = env.ctl("health")
    m = re.search(r"^web1\s+down\s+(\d+)s ago", r.stdout, re.M)
    res.check("health SINCE: a target forced down now shows the served state's age (0-1s)",
              ok.returncode == 0 and m is not None and int(m.group(1)) <= 1, r.stdout)
    h = {t["target"]: t for t in json.loads(env.ctl("health", "--json").stdout)}
    w = h.get("web1", {})
    res.check("health --json: state_since_unix_ms is the override's, since_unix_ms the checks'",
              w.get("state_since_unix_ms", 0) > w.get("since_unix_ms", 0) + 2000, json.dumps(w))
    env.ctl("release", "web1")


def startup_settings_kept(env, res):
    """A reload that changes what start-up took (state file, metrics port) keeps the old ones
    until a restart, and says so."""
    original = env.config.read_text()
    env.write_config("sextant.yaml", env.socket, env.work / "other.state", free_port())
    r = env.ctl("reload")
    status = env.ctl("status").stdout
    log = (env.work / "control.log").read_text()
    env.config.write_text(original)
    env.ctl("reload")
    res.check("reload changing state_file and metrics: published, the old ones kept, a warning",
              r.returncode == 0 and f"state file   {env.state}" in status and
              "take effect at the next restart of sextant-control" in log, r.stdout + status)


def reaching_the_daemon(env, res):
    r = env.ctl("status")
    res.check("sextantctl --instance alone reaches a daemon on a non-default socket",
              r.returncode == 0 and f"instance     {INSTANCE}" in r.stdout and
              str(env.socket) in r.stdout, r.stdout + r.stderr)
    env.socket.rename(env.socket.with_name("moved.sock"))  # the daemon runs, unreachable there
    r = env.ctl("health")
    res.check("daemon running but unreachable: health says so (pid), no fallback, exit 3",
              r.returncode == 3 and f"is running for instance {INSTANCE} (pid {env.daemon.pid})"
              in r.stderr and "does not answer" in r.stderr and r.stdout == "", r.stderr)
    env.socket.with_name("moved.sock").rename(env.socket)
    r = env.ctl("health")
    res.check("socket back: health answers from the daemon", r.returncode == 0 and
              "SINCE" in r.stdout, r.stdout + r.stderr)


def cli_contract(env, res):
    """sextantctl for scripts: JSON from every read command parses and has its fields; exit
    codes 0 (done), 1 (refused), 2 (usage), 3 (unreachable, also past --timeout)."""
    shapes = {"status": dict, "health": list, "stats": dict}
    parsed = {}
    for cmd, shape in shapes.items():
        r = env.ctl(cmd, "--json")
        try:
            parsed[cmd] = json.loads(r.stdout)
        except ValueError:
            parsed[cmd] = None
        res.check(f"{cmd} --json: one JSON {shape.__name__}, exit 0",
                  r.returncode == 0 and isinstance(parsed[cmd], shape), r.stdout + r.stderr)
    st = parsed.get("status") or {}
    res.check("status --json: instance, generation, dataplanes, reloads, targets, socket",
              st.get("instance") == INSTANCE and isinstance(st.get("generation"), int) and
              isinstance(st.get("dataplanes"), list) and "up" in st.get("targets", {}) and
              st.get("socket") == str(env.socket), json.dumps(st))
    health = {t.get("target"): t for t in parsed.get("health") or []}
    res.check("health --json: every target with state, since and datacenter",
              set(health) >= {"sgp1", "sgp2", "nyc1", "nyc2", "web1"} and
              health["sgp1"].get("datacenter") == "sgp" and "state_since_unix_ms" in health["sgp1"],
              json.dumps(health)[:600])
    r = env.ctl("force", "down", "nosuch")
    res.check("a refused request exits 1", r.returncode == 1 and "no such target" in r.stderr,
              r.stderr)
    r = env.ctl("frobnicate")
    res.check("a usage mistake exits 2", r.returncode == 2, f"{r.returncode} {r.stderr}")
    # A socket that accepts and never answers: --timeout bounds the wait, exit 3.
    path = env.work / "silent.sock"
    silent = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    silent.bind(str(path))
    silent.listen(4)
    try:
        t0 = time.time()
        r = run([env.ctl_bin, "--socket", str(path), "--instance", INSTANCE, "--timeout", "1",
                 "status"], check=False, timeout=30)
        took = time.time() - t0
    finally:
        silent.close()
    res.check("--timeout 1: gives up after a second, says so, exit 3",
              r.returncode == 3 and "did not answer within 1 (--timeout)" in r.stderr and
              took < 10, f"{r.returncode} {took:.1f}s {r.stderr}")
    r = env.ctl("--timeout", "soon", "status")
    res.check("--timeout soon: a usage mistake (exit 2) naming the duration forms",
              r.returncode == 2 and
              "not a duration" in r.stderr, r.stderr)


def start_failures(env, res):
    """Each start-up resource that cannot be had: the resource and errno named, nothing
    published. The daemon is stopped here; generation and snapshots must stay as they are."""
    g0, snaps0 = env.generation(), env.snapshots()
    blocker = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    blocker.bind((ADDR, env.metrics_port))
    blocker.listen(1)
    try:
        r = run([env.control, "--config", str(env.config)], check=False, timeout=60)
    finally:
        blocker.close()
    res.check("metrics port in use: start-up stops naming the port and the errno",
              r.returncode == 1 and f"{ADDR}:{env.metrics_port}" in r.stderr and
              "EADDRINUSE" in r.stderr, r.stderr)
    res.check("metrics port in use: nothing published (generation, snapshots unchanged)",
              env.generation() == g0 and env.snapshots() == snaps0,
              f"{g0} {snaps0} -> {env.generation()} {env.snapshots()}")
    (env.work / "afile").write_text("not a directory\n")
    bad_state = env.write_config("badstate.yaml", env.socket, env.work / "afile" / "state",
                                 free_port())
    r = run([env.control, "--config", str(bad_state)], check=False, timeout=60)
    res.check("state file that cannot be made: named, with the errno; nothing published",
              r.returncode == 1 and "state file" in r.stderr and "ENOTDIR" in r.stderr and
              env.generation() == g0, r.stderr)
    bad_sock = env.write_config("badsock.yaml", env.work / "afile" / "c.sock", env.state,
                                free_port())
    r = run([env.control, "--config", str(bad_sock)], check=False, timeout=60)
    res.check("control socket that cannot be made: named, with the errno; nothing published",
              r.returncode == 1 and "control socket" in r.stderr and "ENOTDIR" in r.stderr and
              env.generation() == g0, r.stderr)


def abi_change(env, res, port):
    """An upgrade in the wrong order: the control block says another control-block ABI (as the
    new release would see the old block) while a dataplane still maps it. Control must refuse
    to re-initialise it, naming both versions, and the dataplane keeps serving."""
    path = f"/dev/shm/{INSTANCE}.ctl"
    with open(path, "r+b") as f:
        f.seek(8)
        old = f.read(4)
        f.seek(8)
        f.write(struct.pack("<I", 99))
    try:
        r = run([env.control, "--config", str(env.config)], check=False, timeout=60)
        res.check("control refuses to re-initialise a block of another ABI a dataplane maps",
                  r.returncode == 1 and "control-block ABI version 99" in r.stderr and
                  "still maps it: stop the dataplane first" in r.stderr, r.stderr)
        res.check("...and the dataplane kept serving", dig(port) != [], "")
    finally:
        with open(path, "r+b") as f:
            f.seek(8)
            f.write(old)


def daemon_gone(env, res, port):
    r = env.ctl("health")
    res.check("daemon not running: health falls back to shared memory, saying it is not running",
              r.returncode == 0 and "is not running for instance" in r.stderr and
              re.search(r"^web1\s+up", r.stdout, re.M), r.stdout + r.stderr)
    r = env.ctl("status")
    res.check("daemon not running: status says so, exit 3 (unreachable)", r.returncode == 3 and
              f"sextant-control is not running for instance {INSTANCE}" in r.stderr, r.stderr)
    res.check("the dataplane kept serving without control", dig(port) != [], "")


def main():
    args = integration_args()
    res = Results()
    env = Env(args)
    try:
        env.start_daemon()
        dataplane_start(env, res)
        reaching_the_daemon(env, res)
        _, port = attachments(env, res)
        quiet_dataplane(env, res)
        snapshot_hugepages(env, res)
        one_holder(env, res)
        time.sleep(2.5)  # so that the checks' state is older than an override made now
        overrides(env, res)
        since(env, res)
        startup_settings_kept(env, res)
        cli_contract(env, res)
        env.stop(env.daemon)
        daemon_gone(env, res, port)
        abi_change(env, res, port)
        start_failures(env, res)
        env.start_daemon()
        env.stop(env.daemon, signal.SIGKILL)
        r = run([env.control, "--once", "--config", str(env.config)], check=False, timeout=60)
        res.check("after the daemon is SIGKILLed, --once publishes (the lock died with it)",
                  r.returncode == 0, r.stderr)
    finally:
        env.cleanup()
    return res.summary()


if __name__ == "__main__":
    sys.exit(main())
