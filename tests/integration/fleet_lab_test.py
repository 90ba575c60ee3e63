#!/usr/bin/python3
"""A fleet that agrees (README "Running a fleet"): three Sextant nodes sharing health votes and
overrides through a three-member etcd cluster, everything on loopback.

The test starts etcd (Debian's etcd-server) three times with its own data directories (on tmpfs)
and loopback ports, stopped by PID,
and three nodes A, B, C, each a sextant-control daemon (its own instance, socket, state file and
metrics port) with a kernel-mode sextant-dataplane listener. Each node checks target web1 (and
web2) at its own TCP port, which the test opens and closes, so the nodes' views really differ.
Covered:

- majority: one node seeing web1 down changes no node's answers; two of three seeing it down
  take it out of every node's answers within interval x fall + 1 s;
- local: web2 leaves only the answers of the node that sees it down;
- a `--fleet` override set through node A shows in B's and C's answers within 1 s, and expires
  on all of them when its --for ends, with A stopped in between;
- a node killed (SIGKILL): its votes vanish after its lease and the others recompute;
- one etcd member killed: nothing changes; all killed: every node keeps answering and, after
  the grace period, serves its local verdicts (metric sextant_fleet_fallback); etcd back: the
  fleet verdict again, without a restart.

Prints 'N passed, M failed'."""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import dns.exception
import dns.message
import dns.query

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "lib"))
from lab import (Results, free_port, integration_args, remove_shm, run,  # noqa: E402
                 schema_errors, schema_validators, scrape_metrics, start_listener,
                 stop_processes, wait_for)

INTERVAL = 0.2
FALL = 2
RISE = 2
LEASE_TTL = 2
GRACE = 3.0
POLL = 0.2
# Scheduling on a loaded 2-core machine (three daemons, three listeners, three etcds, and
# whatever else runs): the measured times are printed with each check.
SLACK = 1.0
ETCD = shutil.which("etcd") or "/usr/bin/etcd"

ZONE = """$ORIGIN fl.test.
$TTL 300
@ 3600 IN SOA ns1 hostmaster 1 7200 3600 1209600 300
@ IN NS ns1
ns1 IN A 198.18.0.2
"""


class Etcd:
    """A three-member etcd cluster on loopback, each member stopped and started by PID."""

    def __init__(self, workdir):
        self.workdir = workdir
        # The data directories on tmpfs: a WAL fsync on a shared disk can take longer than the
        # delays the test measures.
        self.datadir = Path(tempfile.mkdtemp(prefix="sextant-fleet-etcd-", dir="/dev/shm"))
        self.names = ["e0", "e1", "e2"]
        self.client = {n: free_port() for n in self.names}
        self.peer = {n: free_port() for n in self.names}
        self.procs = {}

    def remove_data(self):
        shutil.rmtree(self.datadir, ignore_errors=True)

    def endpoints(self):
        return [f"http://127.0.0.1:{self.client[n]}" for n in self.names]

    def start(self, name):
        cluster = ",".join(f"{n}=http://127.0.0.1:{self.peer[n]}" for n in self.names)
        log = open(self.workdir / f"etcd-{name}.log", "a")
        self.procs[name] = subprocess.Popen(
            [ETCD, "--name", name, "--data-dir", str(self.datadir / name),
             "--listen-client-urls", f"http://127.0.0.1:{self.client[name]}",
             "--advertise-client-urls", f"http://127.0.0.1:{self.client[name]}",
             "--listen-peer-urls", f"http://127.0.0.1:{self.peer[name]}",
             "--initial-advertise-peer-urls", f"http://127.0.0.1:{self.peer[name]}",
             "--initial-cluster", cluster, "--initial-cluster-token", "sextant-fleet-test",
             "--initial-cluster-state", "new", "--heartbeat-interval", "100",
             "--election-timeout", "1000", "--listen-metrics-urls", ""],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def start_all(self):
        for n in self.names:
            if n not in self.procs or self.procs[n].poll():
                self.start(n)

    def kill(self, name):
        p = self.procs.pop(name)
        os.kill(p.pid, signal.SIGKILL)
        p.wait()

    def kill_all(self):
        for n in list(self.procs):
            self.kill(n)

    def count(self, key):
        """How many keys etcd holds at exactly `key` (a linearizable read through any member)."""
        import base64
        body = json.dumps({"key": base64.b64encode(key.encode()).decode(),
                           "count_only": True}).encode()
        for ep in self.endpoints():
            try:
                req = urllib.request.Request(ep + "/v3/kv/range", data=body, method="POST")
                with urllib.request.urlopen(req, timeout=2) as r:
                    return int(json.loads(r.read()).get("count", 0))
            except (OSError, ValueError):
                continue
        return None

    def healthy(self, timeout=30):
        """Waits until a write goes through (the cluster has a leader)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            for ep in self.endpoints():
                try:
                    req = urllib.request.Request(ep + "/v3/kv/put", data=json.dumps(
                        {"key": "aGVhbHRo", "value": "b2s="}).encode(), method="POST")
                    with urllib.request.urlopen(req, timeout=1) as r:
                        if "header" in json.loads(r.read()):
                            return True
                except (OSError, ValueError):
                    pass
            time.sleep(0.1)
        return False


class Node:
    """One Sextant node: control daemon + kernel listener, checking web1/web2 at its own port."""

    def __init__(self, name, args, workdir, etcd):
        self.name = name
        self.args = args
        self.dir = workdir / f"node-{name}"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.instance = f"fleettest{name}"
        self.check_port = free_port()
        self.metrics_port = free_port()
        self.listener = None  # the TCP backend this node's checks reach (None = closed)
        self.control = None
        self.procs = []
        (self.dir / "fl.test.zone").write_text(ZONE)
        (self.dir / "control.state").unlink(missing_ok=True)
        shutil.rmtree(self.dir / "bundle", ignore_errors=True)
        self.config = self.dir / "sextant.yaml"
        chk = (f"{{type: tcp, address: 127.0.0.1, port: {self.check_port}, "
               f"interval: {int(INTERVAL * 1000)}ms, timeout: 150ms, rise: {RISE}, fall: {FALL}}}")
        self.config.write_text(f"""instance: {self.instance}
zones:
  - {{origin: fl.test., file: fl.test.zone}}
control:
  socket: {self.dir}/control.sock
  state_file: {self.dir}/control.state
  metrics: 127.0.0.1:{self.metrics_port}
fleet:
  endpoints: [{", ".join(etcd.endpoints())}]
  prefix: /sextant-test/
  node: {name}
  site: site-{name}
  lease_ttl: {LEASE_TTL}s
  timeout: 1s
  poll: {int(POLL * 1000)}ms
  grace: {int(GRACE * 1000)}ms
  quorum: majority
  distribute: true
  bundle_dir: {self.dir}/bundle
targets:
  web1: {{check: {chk}}}
  web2: {{quorum: local, check: {chk}}}
  ovr: {{datacenter: dc1}}
records:
  - {{name: web.fl.test., type: A, kind: failover, members: [{{address: 198.18.13.1, target: web1}}, 198.18.13.9]}}
  - {{name: loc.fl.test., type: A, kind: failover, members: [{{address: 198.18.14.1, target: web2}}, 198.18.14.9]}}
  - {{name: ov.fl.test., type: A, kind: failover, members: [{{address: 198.18.15.1, target: ovr}}, 198.18.15.9]}}
""")

    def backend(self, up):
        """Opens (a thread accepts and closes every connection) or closes the TCP port this
        node's checks of web1 and web2 go to."""
        if up and self.listener is None:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", self.check_port))
            s.listen(64)
            s.settimeout(0.1)
            stop = threading.Event()

            def serve():
                while not stop.is_set():
                    try:
                        conn, _ = s.accept()
                        conn.close()
                    except OSError:
                        pass
                s.close()
            t = threading.Thread(target=serve, daemon=True)
            t.start()
            self.listener = (stop, t)
        elif not up and self.listener:
            stop, t = self.listener
            stop.set()
            t.join()
            self.listener = None

    def start_control(self):
        log = open(self.dir / "control.log", "a")
        mark = (self.dir / "control.log").stat().st_size
        self.control = subprocess.Popen([self.args.sextant_control, "--config", str(self.config)],
                                        stdout=log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL)
        deadline = time.time() + 20
        while time.time() < deadline:
            text = (self.dir / "control.log").read_text()[mark:]
            if self.control.poll():
                raise RuntimeError(f"node {self.name}: sextant-control exited: {text}")
            if "serving generation" in text:
                return
            time.sleep(0.05)
        raise RuntimeError(f"node {self.name}: sextant-control did not start")

    def stop_control(self, sig=signal.SIGTERM):
        if self.control and self.control.poll() is None:
            os.kill(self.control.pid, sig)
            self.control.wait(timeout=15)
        self.control = None

    def start_listener(self):
        def ready(port, proc):
            deadline = time.time() + 10
            while time.time() < deadline:
                if self.dig_on(port, "web.fl.test"):
                    return
                time.sleep(0.1)
            raise RuntimeError(f"node {self.name}: the listener does not answer")
        self.dns_port, _ = start_listener(self.args.sextant_dataplane, str(self.config),
                                          str(self.dir / "dataplane.log"), self.procs, ready)

    @staticmethod
    def dig_on(port, name, rdtype="A"):
        """The sorted answer strings (dnspython in the test's process: spawning dig for every
        look-up is slow on a loaded machine), or None when nothing answered."""
        try:
            r = dns.query.udp(dns.message.make_query(name, rdtype), "127.0.0.1", port=port,
                              timeout=1)
        except (dns.exception.Timeout, OSError):
            return None
        return sorted(rr.to_text() for rrset in r.answer for rr in rrset)

    def answer(self, name):
        return self.dig_on(self.dns_port, name)

    def txt(self, name):
        return " ".join(self.dig_on(self.dns_port, name, "TXT") or [])

    def ctl(self, *words):
        return run([str(Path(self.args.sextant_control).parent / "sextantctl"), "--config",
                    str(self.config), "--timeout", "10s", *words], check=False)

    def metrics(self):
        return scrape_metrics(f"http://127.0.0.1:{self.metrics_port}/metrics")

    def verdict_time(self, what):
        """The time (epoch seconds) of the last 'health: WHAT' line in the control log."""
        import datetime
        stamps = re.findall(r"^(\S+)Z sextant-control: health: " + re.escape(what), self.log(),
                            re.M)
        if not stamps:
            return float("nan")
        return datetime.datetime.fromisoformat(stamps[-1]).replace(
            tzinfo=datetime.timezone.utc).timestamp()

    def log(self):
        return (self.dir / "control.log").read_text()


def stop_nodes(nodes):
    """Stops every node's daemon and listener, closes its backend port, removes its instance."""
    for n in nodes:
        n.stop_control(signal.SIGTERM)
        stop_processes(n.procs)
        n.backend(False)
    remove_shm([n.instance for n in nodes])


def answers(nodes, name):
    return {n.name: n.answer(name) for n in nodes}


def all_answer(nodes, name, addr):
    return lambda: all(n.answer(name) == [addr] for n in nodes)


def expect_all(res, what, nodes, name, addr, timeout):
    """Checks that every node in `nodes` answers `name` with `addr` within `timeout` seconds."""
    ok = wait_for(all_answer(nodes, name, addr), timeout)
    res.check(what, ok, answers(nodes, name))


def scenario_quorum(res, nodes):
    a, b, c = nodes
    up1, dn1 = "198.18.13.1", "198.18.13.9"
    ok = wait_for(all_answer(nodes, "web.fl.test", up1), 10)
    res.check("every node answers web1 while every node sees it up", ok,
              answers(nodes, "web.fl.test"))
    # All three must be members, with votes from all three.
    ok = wait_for(lambda: json.loads(a.ctl("fleet", "status", "--json").stdout or "{}")
                  .get("members", []).__len__() == 3, 10)
    res.check("fleet status on A lists three members", ok,
              a.ctl("fleet", "status").stdout)

    a.backend(False)
    # A sees it down after interval x fall; the others keep it, with majority, and A too.
    ok = wait_for(lambda: "A=down" in b.ctl("health", "--fleet").stdout, INTERVAL * FALL + 2)
    res.check("B sees A's down vote for web1 (health --fleet)", ok,
              b.ctl("health", "--fleet").stdout)
    time.sleep(0.5)
    res.check("majority: one node seeing web1 down changes no node's answer",
              all(v == [up1] for v in answers(nodes, "web.fl.test").values()),
              answers(nodes, "web.fl.test"))
    loc = answers(nodes, "loc.fl.test")
    res.check("local: web2 leaves only A's answers",
              loc == {"A": ["198.18.14.9"], "B": ["198.18.14.1"], "C": ["198.18.14.1"]}, loc)

    t0 = time.time()
    b.backend(False)
    took = wait_for(all_answer(nodes, "web.fl.test", dn1), 10, step=0.02)
    t_all = time.time()
    limit = INTERVAL * FALL + 1
    seen = b.verdict_time("web1 down")
    res.check(f"majority: two of three see web1 down: it leaves every node's answers within "
              f"interval x fall + 1 s ({limit:.1f}s; took "
              f"{f'{t_all - t0:.2f}s' if took else 'longer'}: B's own verdict after "
              f"{seen - t0:.2f}s, every node's answer {t_all - seen:.2f}s later)",
              took and t_all - t0 <= limit + SLACK,
              answers(nodes, "web.fl.test"))
    h = json.loads(c.ctl("health", "--fleet", "--json").stdout or "[]")
    st = json.loads(c.ctl("fleet", "status", "--json").stdout or "{}")
    v = schema_validators()
    errors = schema_errors(v["fleet-health"], h) + schema_errors(v["fleet-status"], st)
    res.check("health --fleet --json and fleet status --json validate against "
              "docs/schema/fleet-health and fleet-status", h != [] and not errors, errors)
    row = next((r for r in h if r["target"] == "web1"), {})
    res.check("health --fleet on C: web1's votes A, B down, C up; verdict down; quorum majority",
              row.get("votes") == {"A": "down", "B": "down", "C": "up"} and
              row.get("served") == "down" and row.get("quorum") == "majority", row)
    m = c.metrics()
    res.check("C's metrics: 3 members, web1 votes 2 down 1 up, etcd reachable",
              m.get("sextant_fleet_members") == 3 and
              m.get('sextant_fleet_votes{target="web1",state="down"}') == 2 and
              m.get('sextant_fleet_votes{target="web1",state="up"}') == 1 and
              m.get("sextant_fleet_etcd_reachable") == 1,
              {k: v for k, v in m.items() if "fleet" in k})
    a.backend(True)
    b.backend(True)
    expect_all(res, "web1 back on A and B: every node answers it again", nodes, "web.fl.test",
               up1, INTERVAL * RISE + 3)


def scenario_override(res, nodes, etcd):
    a, b, c = nodes
    up, dn = "198.18.15.1", "198.18.15.9"
    t0 = time.time()
    r = a.ctl("force", "down", "ovr", "--fleet", "--for", "4s")
    # Set when etcd has taken it, that is when sextantctl returns.
    t_set = time.time()
    res.check(f"sextantctl force down ovr --fleet --for 4s through A ({t_set - t0:.2f}s)",
              r.returncode == 0, r.stdout + r.stderr)
    ok = wait_for(all_answer([b, c], "ov.fl.test", dn), 3, step=0.02)
    took = time.time() - t_set
    res.check(f"the fleet override shows in B's and C's answers within 1 s "
              f"(took {f'{took:.2f}s' if ok else 'longer'})",
              ok and took <= 1.0 + SLACK, answers([b, c], "ov.fl.test"))
    h = b.ctl("health").stdout
    res.check("B's health says it is forced by the fleet", "FORCED down by the fleet" in h, h)
    # A local override wins on its own node, and health says so.
    r = c.ctl("force", "up", "ovr")
    h = c.ctl("health").stdout
    res.check("a local override on C wins there, and health says so",
              r.returncode == 0 and c.answer("ov.fl.test") == [up] and
              "wins over the fleet's (down)" in h, h)
    c.ctl("release", "ovr")
    a.stop_control()  # the node that set it is gone; the store still expires it
    ok = wait_for(all_answer([b, c], "ov.fl.test", up), t_set + 4 + 2 - time.time(), step=0.05)
    elapsed = time.time() - t_set
    res.check(f"with A stopped, the override expires on B and C when its --for ends "
              f"(lifted {elapsed:.2f}s after it was set, --for 4s)",
              ok and 3.9 <= elapsed <= 4 + 1 + SLACK,
              f"{answers([b, c], 'ov.fl.test')}\n{b.ctl('health').stdout}{b.ctl('fleet', 'status').stdout}")
    a.start_control()
    ok = wait_for(all_answer(nodes, "ov.fl.test", up), 5)
    res.check("A restarted: it answers ovr up again", ok, answers(nodes, "ov.fl.test"))
    # The store itself drops the key with its lease (etcd checks leases every 500 ms).
    gone = wait_for(lambda: etcd.count("/sextant-test/overrides/target/ovr") == 0,
                    t_set + 4 + 2 - time.time(), step=0.1)
    res.check(f"etcd dropped the override's key with its lease "
              f"({time.time() - t_set:.2f}s after it was set)", gone,
              etcd.count("/sextant-test/overrides/target/ovr"))
    r = a.ctl("release", "ovr", "--fleet")
    res.check("release --fleet of an override that expired: refused (no fleet override)",
              r.returncode == 1 and "no fleet override" in r.stderr, r.stdout + r.stderr)


def scenario_node_killed(res, nodes):
    a, b, c = nodes
    up1, dn1 = "198.18.13.1", "198.18.13.9"
    a.backend(False)
    c.backend(False)
    ok = wait_for(all_answer(nodes, "web.fl.test", dn1), INTERVAL * FALL + 3)
    res.check("A and C see web1 down: down everywhere", ok,
              answers(nodes, "web.fl.test"))
    t0 = time.time()
    c.stop_control(signal.SIGKILL)
    # C's votes vanish when its lease expires (TTL 2 s): A down, B up is no majority.
    ok = wait_for(all_answer([a, b], "web.fl.test", up1), LEASE_TTL + 4)
    res.check(f"C killed: its votes vanish after its lease and A and B recompute web1 up "
              f"({time.time() - t0:.2f}s, lease {LEASE_TTL}s)", ok,
              answers([a, b], "web.fl.test"))
    st = json.loads(a.ctl("fleet", "status", "--json").stdout or "{}")
    res.check("fleet status on A: two members left",
              sorted(m["node"] for m in st.get("members", [])) == ["A", "B"], st)
    c.start_control()
    ok = wait_for(all_answer(nodes, "web.fl.test", dn1), INTERVAL * FALL + 4)
    res.check("C back: it votes again and web1 is down everywhere", ok,
              answers(nodes, "web.fl.test"))
    c.backend(True)
    expect_all(res, "only A sees web1 down again: up everywhere", nodes, "web.fl.test", up1,
               INTERVAL * RISE + 3)


def scenario_etcd(res, nodes, etcd):
    a, b, c = nodes
    up1, dn1 = "198.18.13.1", "198.18.13.9"
    # A still sees web1 down (from the last scenario): the fleet says up everywhere.
    etcd.kill("e0")
    time.sleep(GRACE + 1)
    st = [json.loads(n.ctl("fleet", "status", "--json").stdout or "{}") for n in nodes]
    res.check("one etcd member killed: every node still reaches etcd, no fallback, 3 members",
              all(s.get("reachable") and not s.get("fallback") and len(s.get("members", [])) == 3
                  for s in st), st)
    res.check("one etcd member killed: the answers do not change",
              all(v == [up1] for v in answers(nodes, "web.fl.test").values()),
              answers(nodes, "web.fl.test"))
    t0 = time.time()
    etcd.kill_all()
    time.sleep(1.0)
    res.check("every etcd member killed: within the grace period the fleet verdict stands",
              all(v == [up1] for v in answers(nodes, "web.fl.test").values()),
              answers(nodes, "web.fl.test"))
    ok = wait_for(lambda: a.answer("web.fl.test") == [dn1], GRACE + 3)
    res.check(f"after the grace period ({GRACE}s) A falls back to its local verdict "
              f"({time.time() - t0:.2f}s)", ok, a.answer("web.fl.test"))
    res.check("B and C keep serving their local verdict (up)",
              b.answer("web.fl.test") == [up1] and c.answer("web.fl.test") == [up1],
              answers(nodes, "web.fl.test"))
    m = a.metrics()
    res.check("A's metrics: sextant_fleet_fallback 1, etcd unreachable, fallbacks_total 1",
              m.get("sextant_fleet_fallback") == 1 and
              m.get("sextant_fleet_etcd_reachable") == 0 and
              m.get("sextant_fleet_fallbacks_total", 0) >= 1,
              {k: v for k, v in m.items() if "fleet" in k})
    res.check("A's log says it fell back to local verdicts",
              "falling back to local verdicts" in a.log(), a.log()[-1500:])
    etcd.start_all()
    t0 = time.time()
    ok = wait_for(all_answer(nodes, "web.fl.test", up1), 30, step=0.1)
    res.check(f"etcd back: the nodes converge on the fleet verdict again without a restart "
              f"({time.time() - t0:.2f}s)", ok, answers(nodes, "web.fl.test"))
    ok = wait_for(lambda: len(json.loads(b.ctl("fleet", "status", "--json").stdout or "{}")
                              .get("members", [])) == 3, 10)
    res.check("etcd back: three members again", ok, b.ctl("fleet", "status").stdout)
    a.backend(True)


BUNDLE_CONFIG = """zones:
  - {origin: fl.test., file: fl.test.zone}
targets:
  web1: {}
  web2: {quorum: local}
  ovr: {datacenter: dc1}
records:
  - {name: web.fl.test., type: A, kind: failover, members: [{address: 198.18.13.1, target: web1}, 198.18.13.9]}
  - {name: loc.fl.test., type: A, kind: failover, members: [{address: 198.18.14.1, target: web2}, 198.18.14.9]}
  - {name: ov.fl.test., type: A, kind: failover, members: [{address: 198.18.15.1, target: ovr}, 198.18.15.9]}
"""


def publish(node, workdir, version, bad=False):
    """Writes a bundle directory (config + zone with ver.fl.test TXT "vN") and publishes it
    through `node`; returns (sextantctl result, revision)."""
    d = workdir / f"bundle-v{version}"
    shutil.rmtree(d, ignore_errors=True)
    (d / "zones").mkdir(parents=True)
    zone = ZONE + f'ver IN TXT "v{version}"\n' + ("this is not a record\n" if bad else "")
    (d / "zones" / "fl.test.zone").write_text(zone)
    (d / "sextant.yaml").write_text(BUNDLE_CONFIG.replace("file: fl.test.zone",
                                                          "file: zones/fl.test.zone"))
    r = node.ctl("fleet", "publish", str(d))
    m = re.search(r"revision (\d+)", r.stdout)
    return r, int(m.group(1)) if m else None


def members_of(node):
    return {m["node"]: m for m in
            json.loads(node.ctl("fleet", "status", "--json").stdout or "{}").get("members", [])}


def scenario_bundle(res, nodes, workdir):
    a, b, c = nodes
    r, rev1 = publish(a, workdir, 1)
    res.check(f"sextantctl fleet publish DIR: revision {rev1}", r.returncode == 0 and rev1,
              r.stdout + r.stderr)
    ok = wait_for(lambda: all(n.txt("ver.fl.test") == '"v1"' for n in nodes), 10)
    res.check("bundle revision 1 activates on every node", ok,
              {n.name: n.txt("ver.fl.test") for n in nodes})
    ok = wait_for(lambda: all(m.get("revision") == rev1 for m in members_of(b).values()) and
                  len(members_of(b)) == 3, 5)
    res.check("fleet status: every node serves that revision", ok,
              b.ctl("fleet", "status").stdout)
    r, rev2 = publish(b, workdir, 2, bad=True)
    ok = wait_for(lambda: all(m.get("refused_revision") == rev2 and m.get("refusal")
                              for m in members_of(c).values()), 10)
    res.check("a bad revision is refused by every node, with the reason in fleet status",
              ok and r.returncode == 0, c.ctl("fleet", "status").stdout)
    st = c.ctl("fleet", "status").stdout
    res.check("fleet status text shows the refusal and its reason",
              f"refused revision {rev2}" in st and "fl.test" in st, st)
    res.check("the last good revision keeps serving everywhere",
              all(n.txt("ver.fl.test") == '"v1"' for n in nodes) and
              all(m.get("revision") == rev1 for m in members_of(a).values()),
              {n.name: n.txt("ver.fl.test") for n in nodes})
    r, rev3 = publish(c, workdir, 3)
    ok = wait_for(lambda: all(n.txt("ver.fl.test") == '"v3"' for n in nodes), 10)
    res.check("a good revision after it activates everywhere", ok,
              {n.name: n.txt("ver.fl.test") for n in nodes})
    ok = wait_for(lambda: all(m.get("revision") == rev3 and not m.get("refusal")
                              for m in members_of(a).values()), 5)
    res.check("fleet status: every node at the new revision, no refusal", ok,
              a.ctl("fleet", "status").stdout)
    m = a.metrics()
    res.check("metrics: sextant_fleet_bundle_revision", m.get("sextant_fleet_bundle_revision") == rev3,
              {k: v for k, v in m.items() if "fleet" in k})


def main():
    args = integration_args()
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    res = Results()
    etcd = Etcd(workdir)
    nodes = []
    try:
        etcd.start_all()
        if not etcd.healthy():
            raise RuntimeError("etcd did not come up: " +
                               (workdir / "etcd-e0.log").read_text()[-2000:])
        nodes = [Node(n, args, workdir, etcd) for n in "ABC"]
        remove_shm([n.instance for n in nodes])
        for n in nodes:
            n.backend(True)
            n.start_control()
            n.start_listener()
        t0 = time.time()
        scenario_quorum(res, nodes)
        scenario_override(res, nodes, etcd)
        scenario_node_killed(res, nodes)
        scenario_etcd(res, nodes, etcd)
        scenario_bundle(res, nodes, workdir)
        print(f"scenarios took {time.time() - t0:.1f}s", flush=True)
    finally:
        stop_nodes(nodes)
        etcd.kill_all()
        etcd.remove_data()
    print(f"{res.passed} passed, {res.failed} failed")
    return 0 if res.failed == 0 and res.passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
