#!/usr/bin/python3
"""Health checks and failover through the real path.

sextant-control runs as the daemon and checks real backends on loopback (a Python http.server,
an openssl s_server with a self-signed certificate, a TCP listener, Sextant's own kernel
listener answering DNS, a feed file); sextant-dataplane serves on a DPDK port in the namespace
lab; dig asks from the namespace. Covered:

- every check kind decides up/down; HTTPS with verification on fails on a self-signed
  certificate and passes with it off;
- kill a backend: its address leaves the answer within interval x fall + timeout; bring it
  back: it returns within interval x rise + timeout;
- a backend that alternates ok/fail every check does not make answers flap (rise = fall = 2);
- overrides: force down survives a restart of control and of the dataplane; an expiry lifts it;
  a datacenter drain;
- lossless reloads: under dnsperf, 100 zone reloads and 1,000 health flips lose no query and no
  answer mixes two states; a broken zone in the middle is refused with a log line while the
  last good state keeps answering.

Prints 'N passed, M failed'."""
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "lib"))
from lab import (APPLIANCE_V4, LAB_RRL_EXEMPT, Lab, Results, free_port,  # noqa: E402
                 integration_args, run, wait_for)

# A check's own deadline (at most the interval). CI once saw a TLS handshake to the local openssl
# s_server take 529 ms on a loaded machine: 150 ms made live backends look dead there.
INTERVAL = 0.4
TIMEOUT = 0.4
RISE = 2
FALL = 2
# Scheduling on a loaded 2-core machine: the checker, the backends, the dataplane and dig all
# share it.
SLACK = 1.0


def zone(v):
    # gen.hl.test has three A records that all carry the zone version in their third octet: an
    # answer that mixed two snapshots would show two versions.
    return f"""$ORIGIN hl.test.
$TTL 300
@ 3600 IN SOA ns1 hostmaster {v} 7200 3600 1209600 300
@ IN NS ns1
ns1 IN A 198.18.0.2
gen IN A 198.19.{v}.1
gen IN A 198.19.{v}.2
gen IN A 198.19.{v}.3
ver IN TXT "v{v}"
"""


def check(kind, port, **kw):
    base = {"type": kind, "address": "127.0.0.1", "port": port, "interval": f"{int(INTERVAL*1000)}ms",
            "timeout": f"{int(TIMEOUT*1000)}ms", "rise": RISE, "fall": FALL}
    base.update(kw)
    return "{" + ", ".join(f"{k}: {json.dumps(v) if isinstance(v, str) else v}"
                           for k, v in base.items()) + "}"


def port_open(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


class Backends:
    def __init__(self, workdir):
        self.workdir = Path(workdir)
        self.procs = {}
        self.http = free_port()
        self.flap = free_port()
        self.tcp = free_port()
        self.tls = free_port()
        self.dns = free_port()
        self.cert = self.workdir / "cert.pem"
        self.key = self.workdir / "key.pem"

    def start(self, name):
        backend = str(HERE / "lib" / "backend.py")
        if name == "http":
            cmd = ["/usr/bin/python3", backend, "http", str(self.http)]
        elif name == "flap":
            cmd = ["/usr/bin/python3", backend, "http", str(self.flap), "flap"]
        elif name == "tcp":
            cmd = ["/usr/bin/python3", backend, "tcp", str(self.tcp)]
        elif name == "tls":
            if not self.cert.exists():
                run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                     "-subj", "/CN=backend.test", "-addext", "subjectAltName=DNS:backend.test",
                     "-keyout", str(self.key), "-out", str(self.cert)])
            cmd = ["openssl", "s_server", "-accept", f"127.0.0.1:{self.tls}", "-cert",
                   str(self.cert), "-key", str(self.key), "-www", "-quiet"]
        else:
            raise ValueError(name)
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             stdin=subprocess.DEVNULL, text=True)
        if name in ("http", "flap", "tcp"):
            p.stdout.readline()  # "ready"
        else:  # s_server says nothing: ready once it accepts a connection
            wait_for(lambda: port_open(self.tls), 10)
        self.procs[name] = p
        return p

    def kill(self, name):
        p = self.procs.pop(name)
        p.kill()
        p.wait()

    def stop_all(self):
        for name in list(self.procs):
            self.kill(name)


def start_dns_backend(args, workdir, port):
    """Sextant's own kernel listener answering health.backend.test A on loopback."""
    d = Path(workdir) / "dnsbackend"
    d.mkdir(parents=True, exist_ok=True)
    (d / "backend.zone").write_text(
        "$ORIGIN backend.test.\n$TTL 60\n@ IN SOA ns hm 1 7200 3600 1209600 60\n@ IN NS ns\n"
        "ns IN A 198.18.0.9\nhealth IN A 198.18.50.1\n")
    cfg = d / "backend.yaml"
    cfg.write_text(f"instance: sxhlbackend\nzones: [{{origin: backend.test., file: {d / 'backend.zone'}}}]\n")
    run([args.sextant_control, "--once", "--config", str(cfg)])
    return subprocess.Popen([args.sextant_dataplane, "--listen", f"127.0.0.1:{port}",
                             "--instance", "sxhlbackend"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def policies(b, feed):
    return f"""targets:
  http1: {{datacenter: dc-a, check: {check("http", b.http, path="/health", body_contains="OK")}}}
  tcp1: {{datacenter: dc-a, check: {check("tcp", b.tcp)}}}
  tls1: {{datacenter: dc-b, check: {check("https", b.tls, host="backend.test", verify=False)}}}
  tlsv: {{datacenter: dc-b, check: {check("https", b.tls, host="backend.test", verify=True)}}}
  dns1: {{datacenter: dc-b, check: {check("dns", b.dns, query="health.backend.test.", expect_answer="198.18.50.1")}}}
  dnsbad: {{check: {check("dns", b.dns, query="health.backend.test.", expect_answer="198.18.50.2")}}}
  flap1: {{check: {check("http", b.flap, path="/health", interval="300ms", timeout="250ms")}}}
  fed1: {{}}
  flip: {{}}
health_feeds:
  - {{file: {feed}}}
resources:
  web:
    kind: static
    order: fixed
    ttl: 60
    ttl_when_down: 5
    members:
      - {{address: 198.18.10.1, target: http1}}
      - {{address: 198.18.10.2, target: tcp1}}
      - {{address: 198.18.10.3, target: tls1}}
      - {{address: 198.18.10.4, target: dns1}}
  flip:
    kind: static
    order: fixed
    ttl: 60
    ttl_when_down: 5
    members:
      - {{address: 198.18.11.1, target: flip}}
      - {{address: 198.18.11.2}}
      - {{address: 198.18.11.3}}
records:
  - {{name: web.hl.test., type: A, resource: web}}
  - {{name: verify.hl.test., type: A, kind: static, members: [{{address: 198.18.12.1, target: tlsv}}]}}
  - {{name: dnsbad.hl.test., type: A, kind: failover, members: [{{address: 198.18.13.1, target: dnsbad}}, 198.18.13.9]}}
  - {{name: flap.hl.test., type: A, kind: failover, members: [{{address: 198.18.14.1, target: flap1}}, 198.18.14.9]}}
  - {{name: fed.hl.test., type: A, kind: failover, members: [{{address: 198.18.15.1, target: fed1}}, 198.18.15.9]}}
  - {{name: flip.hl.test., type: A, resource: flip}}
  - name: wt.hl.test.
    type: A
    kind: weighted
    members: [{{address: 198.18.16.1, target: http1, weight: 9}}, {{address: 198.18.16.2, target: tcp1, weight: 1}}]
  - name: mv.hl.test.
    type: A
    kind: multivalue
    count: 2
    members: [{{address: 198.18.17.1, target: http1}}, {{address: 198.18.17.2, target: tcp1}}, {{address: 198.18.17.3, target: tls1}}]
"""


def a_records(out):
    return [l.split()[-1] for l in out.splitlines()
            if not l.startswith(";") and "\tA\t" in l.replace(" ", "\t") and "IN" in l]


def ctl(lab, *a):
    return run([str(Path(lab.control).parent / "sextantctl"), "--socket", str(lab.socket_path),
                "--instance", lab.instance, *a], check=False)


def health(lab):
    r = ctl(lab, "health", "--json")
    try:
        return {t["target"]: t for t in json.loads(r.stdout)}
    except ValueError:
        return {}


def wait_answer(lab, name, pred, timeout):
    """Polls dig until pred(addresses) holds; returns seconds taken, or None."""
    t0 = time.time()
    while time.time() - t0 < timeout:
        if pred(a_records(lab.dig(name, "A", "+time=1", "+tries=1"))):
            return time.time() - t0
        time.sleep(0.02)
    return None


def checks_and_failover(lab, b, res):
    st = wait_for(lambda: (lambda h: h if all(
        h.get(t, {}).get("state") == "up" for t in ("http1", "tcp1", "tls1", "dns1")) else None)(
        health(lab)), 10)
    res.check("http, tcp, https (verify off) and dns checks pass against live backends",
              bool(st), json.dumps(health(lab))[:800])
    # Down, and for the certificate: a check that timed out on a loaded machine says "timeout",
    # so the next ones are waited for.
    tlsv = wait_for(lambda: (lambda v: v if v.get("state") == "down" and "certif" in (
        v.get("last_check") or {}).get("result", "").lower() else None)(
        health(lab).get("tlsv", {})), 5)
    res.check("https with verification on fails on a self-signed certificate", bool(tlsv),
              json.dumps(health(lab).get("tlsv")))
    # Down takes FALL failed checks: waited for, as a loaded machine may have run only one yet.
    dnsbad = wait_for(lambda: (lambda v: v if v.get("state") == "down" else None)(
        health(lab).get("dnsbad", {})), 5)
    h = health(lab)
    res.check("dns check: an unexpected answer is a failure",
              bool(dnsbad) and "no answer matched" in (dnsbad.get("last_check") or {}).get(
                  "result", ""), json.dumps(h.get("dnsbad")))
    out = lab.dig("web.hl.test", "A")
    res.check("all four checked members answer", a_records(out) ==
              ["198.18.10.1", "198.18.10.2", "198.18.10.3", "198.18.10.4"], out)
    h1 = h.get("http1", {})
    res.check("health --json has since, last result, latency, forced",
              h1.get("since_unix_ms", 0) > 0 and "latency_us" in (h1.get("last_check") or {}) and
              h1.get("forced") is False and h1.get("datacenter") == "dc-a", json.dumps(h1))

    down_budget = INTERVAL * FALL + TIMEOUT + SLACK
    up_budget = INTERVAL * RISE + TIMEOUT + SLACK
    # Detection time is the checker's verdict ("since" in health --json) minus the moment of the
    # kill or restart; then the very next answer must reflect it. Timing it by polling dig
    # instead would add dig's own retries to the figure.
    # Down: from the kill. Up: from the moment the restarted backend serves (its start-up, a
    # Python interpreter or openssl, is not the checker's to count).
    def transition(target, addr, want_up, act):
        t0 = time.time()
        act()
        if want_up:
            t0 = time.time()
        st = wait_for(lambda: (lambda h: h if h.get("state") == ("up" if want_up else "down")
                               else None)(health(lab).get(target, {})), 6)
        took = (st["since_unix_ms"] / 1000.0 - t0) if st else None
        out = lab.dig("web.hl.test", "A")
        present = addr in a_records(out)
        return took, present == want_up and len(a_records(out)) > 0, out

    targets = {"http": "http1", "tcp": "tcp1", "tls": "tls1"}
    for name, addr in (("http", "198.18.10.1"), ("tcp", "198.18.10.2"), ("tls", "198.18.10.3")):
        took, ok, out = transition(targets[name], addr, False, lambda: b.kill(name))
        res.check(f"kill the {name} backend: down within {INTERVAL}x{FALL}+{TIMEOUT}s "
                  f"(+{SLACK}s slack) and {addr} leaves the next answer",
                  took is not None and took <= down_budget and ok, f"took {took} {out}")
        if name == "http":
            # Every policy kind follows the same checker: weighted and multivalue leave out
            # the dead member too.
            wt = {tuple(a_records(lab.dig("wt.hl.test", "A"))) for _ in range(8)}
            mv = [a_records(lab.dig("mv.hl.test", "A")) for _ in range(8)]
            res.check("weighted: the dead heavy member is never picked",
                      wt == {("198.18.16.2",)}, str(wt))
            res.check("multivalue: the dead member is left out, two healthy ones remain",
                      all(sorted(m) == ["198.18.17.2", "198.18.17.3"] for m in mv), str(mv))
        took, ok, out = transition(targets[name], addr, True, lambda: b.start(name))
        res.check(f"restart the {name} backend: up within {INTERVAL}x{RISE}+{TIMEOUT}s "
                  f"(+{SLACK}s slack) and {addr} is back in the next answer",
                  took is not None and took <= up_budget and ok, f"took {took} {out}")

    def stop_dns():
        b.dns_proc.kill()
        b.dns_proc.wait()

    took, ok, out = transition("dns1", "198.18.10.4", False, stop_dns)
    res.check("stop the DNS backend: down in time, its address leaves the next answer",
              took is not None and took <= down_budget and ok, f"took {took} {out}")

    def start_dns():
        b.dns_proc = start_dns_backend(b.args, b.workdir, b.dns)

    took, ok, out = transition("dns1", "198.18.10.4", True, start_dns)
    # The DNS backend (control --once, then the listener) takes a while to start, which the
    # figure includes; allow for it.
    res.check("DNS backend back: up in time, its address returns in the next answer",
              took is not None and took <= up_budget + 1.0 and ok, f"took {took} {out}")

    # Flapping backend: ok, fail, ok, fail... never two in a row, so with rise = fall = 2 the
    # state never changes and neither does the answer.
    seen = set()
    end = time.time() + 3.5
    while time.time() < end:
        seen.add(tuple(a_records(lab.dig("flap.hl.test", "A", "+time=1", "+tries=1"))))
        time.sleep(0.05)
    h = health(lab).get("flap1", {})
    res.check("a flapping backend does not make answers flap",
              len(seen) == 1 and (h.get("last_check") or {}).get("checks", 0) >= 8,
              f"{seen} {json.dumps(h)}")

    # External feed file.
    lab.feed.write_text("# operator feed\nfed1 down\n")
    t = wait_answer(lab, "fed.hl.test", lambda a: a == ["198.18.15.9"], 3)
    res.check("feed file: 'fed1 down' fails over", t is not None, f"{t}")
    lab.feed.write_text("fed1 up\n")
    t = wait_answer(lab, "fed.hl.test", lambda a: a == ["198.18.15.1"], 3)
    res.check("feed file: 'fed1 up' fails back", t is not None, f"{t}")


def overrides_and_persistence(lab, b, res):
    r = ctl(lab, "force", "down", "tcp1")
    out = lab.dig("web.hl.test", "A")
    res.check("force down: the address leaves at once", r.returncode == 0 and
              "198.18.10.2" not in a_records(out), r.stderr + out)
    r = ctl(lab, "force", "drain", "dc-b", "--datacenter")
    out = lab.dig("web.hl.test", "A")
    res.check("datacenter drain: every dc-b target leaves", r.returncode == 0 and
              a_records(out) == ["198.18.10.1"], r.stdout + r.stderr + out)
    r = ctl(lab, "release", "dc-b", "--datacenter")
    res.check("release a datacenter", r.returncode == 0 and
              a_records(lab.dig("web.hl.test", "A")) == ["198.18.10.1", "198.18.10.3",
                                                         "198.18.10.4"], r.stderr)
    r = ctl(lab, "force", "down", "nosuch")
    res.check("force on an unknown target is refused", r.returncode != 0 and "nosuch" in r.stderr,
              r.stderr)
    st = ctl(lab, "status")
    res.check("sextantctl status", st.returncode == 0 and "generation" in st.stdout and
              "1 forced" in st.stdout, st.stdout + st.stderr)
    # /metrics (Prometheus text) shows the same: the forced target not handed out, the
    # dataplane's query and rcode counters (sextant-exporter's), the generation and reloads.
    lab.start_exporter()
    before = lab.exporter_metrics()
    for _ in range(5):
        lab.dig("web.hl.test", "A")
    m = {**lab.metrics(), **lab.exporter_metrics()}
    tcp1 = next((k for k in m if k.startswith('sextant_target_up{target="tcp1"')), None)
    gen = next((ln.split()[1] for ln in st.stdout.splitlines() if ln.startswith("generation")), "")
    res.check("/metrics: the forced target, queries, generation and reloads",
              tcp1 is not None and m[tcp1] == 0 and
              m.get(tcp1.replace("_up{", "_forced{")) == 1 and
              m["sextant_queries_total"] >= before["sextant_queries_total"] + 5 and
              m['sextant_responses_total{rcode="NOERROR"}'] >= 5 and
              str(int(m["sextant_snapshot_generation"])) == gen and
              m['sextant_reloads_total{result="ok"}'] >= 1,
              json.dumps({k: v for k, v in m.items() if "tcp1" in k or "total" in k}))

    # Restart both processes: the override is still in force.
    lab.stop_control()
    lab.stop()
    lab.start_control()
    lab.start(make_wire=False)
    h = health(lab).get("tcp1", {})
    out = lab.dig("web.hl.test", "A")
    res.check("after restarting control and dataplane: still forced down",
              h.get("forced") is True and h.get("state") == "down" and
              "198.18.10.2" not in a_records(out), json.dumps(h) + out)
    r = ctl(lab, "force", "down", "tcp1", "--for", "1s")
    t0 = time.time()
    t = wait_answer(lab, "web.hl.test", lambda a: "198.18.10.2" in a, 4)
    res.check("an override with --for 1s expires and the checks decide again",
              r.returncode == 0 and t is not None and 0.7 <= time.time() - t0 <= 2.5,
              f"{r.stderr} took {t}")


class Consistency(threading.Thread):
    """Asks gen.hl.test (3 records, one zone version) and flip.hl.test (a static set whose first
    member's target is flipped) in a loop from the namespace. Every gen answer carries one
    version, never going backwards; every flip answer is either all three members with TTL 60
    or the two others with the down TTL 5: anything else mixed two states."""

    CODE = r"""
import sys, time, dns.message, dns.query
end = time.time() + float(sys.argv[1])
i = 0
while time.time() < end:
    i += 1
    name = "gen.hl.test" if i % 2 else "flip.hl.test"
    q = dns.message.make_query(name, "A")
    try:
        r = dns.query.udp(q, "198.18.0.2", timeout=1.0)
    except Exception:
        print("timeout", flush=True); continue
    addrs = sorted(rd.address for rr in r.answer for rd in rr)
    ttl = r.answer[0].ttl if r.answer else -1
    print(name, ttl, " ".join(addrs), flush=True)
"""

    def __init__(self, lab):
        super().__init__(daemon=True)
        self.lab = lab
        self.answers = self.mixed = self.backwards = self.timeouts = 0
        self.flip_states = set()
        self.last = 0
        self.errors = []

    def run(self):
        self.proc = subprocess.Popen(["ip", "netns", "exec", self.lab.ns, "/usr/bin/python3", "-c",
                                      self.CODE, "600"], stdout=subprocess.PIPE, text=True)
        for line in self.proc.stdout:
            if not line.endswith("\n"):
                break  # the last line, cut short when finish() kills the client
            if line.startswith("timeout"):
                self.timeouts += 1
                continue
            parts = line.split()
            if len(parts) < 2 or not parts[1].lstrip("-").isdigit():
                continue  # a line cut short when the client is stopped
            name, ttl, addrs = parts[0], int(parts[1]), parts[2:]
            self.answers += 1
            if name == "gen.hl.test":
                vers = {int(a.split(".")[2]) for a in addrs}
                if len(addrs) != 3 or len(vers) != 1:
                    self.mixed += 1
                    self.errors.append(line.strip())
                    continue
                v = vers.pop()
                if v < self.last:
                    self.backwards += 1
                self.last = v
            else:
                state = (ttl, tuple(addrs))
                if state not in {(60, ("198.18.11.1", "198.18.11.2", "198.18.11.3")),
                                 (5, ("198.18.11.2", "198.18.11.3"))}:
                    self.mixed += 1
                    self.errors.append(line.strip())
                self.flip_states.add(state)

    def finish(self):
        self.proc.kill()
        self.join(timeout=5)


def control_request(path, line):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(str(path))
    s.sendall((line + "\n").encode())
    s.shutdown(socket.SHUT_WR)
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    return data.decode()


def lossless_reloads(lab, res):
    qfile = lab.workdir / "queries.txt"
    qfile.write_text("web.hl.test A\nflip.hl.test A\ngen.hl.test A\nver.hl.test TXT\n"
                     "nothere.hl.test A\n")
    result = {}

    def load():
        r = lab.ns_run(["dnsperf", "-s", APPLIANCE_V4, "-d", str(qfile), "-l", "40", "-Q", "2000",
                        "-c", "4", "-t", "2"], timeout=90)
        result["out"] = r.stdout

    checker = Consistency(lab)
    checker.start()
    perf = threading.Thread(target=load)
    perf.start()
    time.sleep(1)

    flips = {"n": 0, "errors": 0}

    def flipper():
        # 1,000 health flips through the control socket, as sextantctl sends them.
        for i in range(1000):
            req = "force down target flip" if i % 2 == 0 else "release target flip"
            if not control_request(lab.socket_path, req).startswith("OK"):
                flips["errors"] += 1
            flips["n"] += 1
            time.sleep(0.02)

    ft = threading.Thread(target=flipper)
    ft.start()
    zone_path = lab.workdir / "hl.test.zone"
    gens_before = lab.generation()
    reloaded = 0
    missed = []
    refused_ok = False
    config_text = lab.config_path.read_text()
    for v in range(2, 102):
        g0 = lab.generation()
        zone_path.write_text(zone(v))
        if v % 10 == 0:
            # Every tenth reload also rewrites the config: both changes land in one swap.
            lab.config_path.write_text(config_text + f"# reload {v}\n")
        if wait_for(lambda: lab.generation() > g0, 10, step=0.01):
            reloaded += 1
        else:
            missed.append(v)
        if v == 50:
            # A broken zone: refused alone with a log line, its last good version keeps
            # answering (reload_isolation_test covers the other zones' changes).
            zone_path.write_text(zone(v) + "broken IN A not-an-address\n")
            refused_ok = wait_for(lambda: re.search(
                r"zone hl.test. refused, serving its last good version: zone hl.test. "
                r".*hl.test.zone line 10\)", lab.control_log_text()), 10)
            out = lab.dig("ver.hl.test", "TXT")
            res.check("a broken zone during load is refused with a log line; answers continue",
                      bool(refused_ok) and f'"v{v}"' in out,
                      out + lab.control_log_text()[-500:])
    ft.join()
    perf.join()
    time.sleep(0.3)
    checker.finish()
    out = result.get("out", "")
    sent = re.search(r"Queries sent:\s+(\d+)", out)
    lost = re.search(r"Queries lost:\s+(\d+)", out)
    completed = re.search(r"Queries completed:\s+(\d+)", out)
    res.check("100 zone and config reloads published", reloaded == 100,
              f"reloaded {reloaded}, missed {missed}, generations {gens_before}->"
              f"{lab.generation()}")
    res.check("1,000 health flips through the control socket", flips["n"] == 1000 and
              flips["errors"] == 0, str(flips))
    res.check("dnsperf during reloads and flips: no query lost",
              sent is not None and lost is not None and int(lost.group(1)) == 0 and
              int(sent.group(1)) > 20000 and completed.group(1) == sent.group(1), out[-700:])
    res.check("no answer mixes two states (zone versions or health)",
              checker.answers > 200 and checker.mixed == 0 and checker.backwards == 0 and
              checker.timeouts == 0 and len(checker.flip_states) == 2,
              f"answers={checker.answers} mixed={checker.mixed} backwards={checker.backwards} "
              f"timeouts={checker.timeouts} states={checker.flip_states} {checker.errors[:3]}")
    out = lab.dig("ver.hl.test", "TXT")
    res.check("final answers are the newest zone", '"v101"' in out, out)


def main():
    args = integration_args()
    res = Results()
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    b = Backends(work)
    b.args = args
    b.dns_proc = None
    try:
        for name in ("http", "flap", "tcp", "tls"):
            b.start(name)
        b.dns_proc = start_dns_backend(args, work, b.dns)
        with Lab(args.sextant_control, args.sextant_dataplane, work / "lab", tag="hl") as lab:
            lab.feed = lab.workdir / "feed.txt"
            lab.feed.write_text("fed1 up\n")
            lab.write_config([("hl.test.", zone(1))],
                             extra=policies(b, lab.feed) + lab.control_section(metrics=True)
                             + LAB_RRL_EXEMPT)
            (lab.workdir / "state").mkdir(exist_ok=True)
            lab.start_control()
            lab.start()
            checks_and_failover(lab, b, res)
            overrides_and_persistence(lab, b, res)
            lossless_reloads(lab, res)
            rc = lab.stop_control()
            res.check("control stops cleanly on SIGTERM", rc == 0, str(rc))
            out = lab.dig("web.hl.test", "A")
            res.check("the dataplane keeps answering with control stopped",
                      len(a_records(out)) > 0, out)
    finally:
        b.stop_all()
        if b.dns_proc:
            b.dns_proc.kill()
        run(["pkill", "-f", f"--listen 127.0.0.1:{b.dns}"], check=False)
        for p in Path("/dev/shm").glob("sxhlbackend.*"):
            p.unlink(missing_ok=True)
    print(f"{res.passed} passed, {res.failed} failed")
    return 0 if res.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
