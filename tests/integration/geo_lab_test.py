#!/usr/bin/python3
"""Geo steering through the real path: sextant-control as the daemon, sextant-dataplane on a DPDK
af_packet port in the namespace lab, dig and a real unbound in the namespace.

- `dig +subnet=...` gets the nearest datacenter's answer and the matched prefix as ECS scope;
- the nearest datacenter forced down (`sextantctl force down DC --datacenter`): the next nearest
  answers; all down: the configured all_down rule (fallback); the nearest datacenter's backend
  killed: its TCP check fails and the next nearest answers, until it is back;
- `sextantctl explain --client` shows the location record, the preference list and the scope;
- a corrupt GeoIP database, a broken nets file swapped in: refused alone with a log line, the old
  map's last good version keeps answering the same; the good file back: accepted again;
- unbound (started here, forward-zone "." only to the appliance 198.18.0.2, subnetcache with
  ECS sent to 198.18.0.2, no root hints, no remote control) asked from two client addresses that
  a nets override puts in different datacenters returns each its own datacenter's answer.

Prints 'N passed, M failed'."""
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "lib"))
from lab import APPLIANCE_V4, Lab, Results, free_port, integration_args, run, wait_for  # noqa: E402

MAXMIND = HERE.parent / "data" / "maxmind"
ADDR = {"dc-ap": "198.18.1.1", "dc-us": "198.18.2.1", "dc-eu": "198.18.3.1"}
FALLBACK = "198.18.9.9"
CLIENT_A = "198.18.0.3"  # nets: dc-eu
CLIENT_B = "198.18.0.4"  # nets: dc-us

ZONE = """$ORIGIN geo.test.
$TTL 300
@ SOA ns hostmaster 1 3600 600 86400 60
@ NS ns
ns A 198.18.0.2
"""

NETS = f"{CLIENT_A}/32 dc-eu,dc-us\n{CLIENT_B}/32 dc-us,dc-eu\n"


# One backend per datacenter, health-checked over TCP on loopback.
PORTS = {dc: free_port() for dc in ("dc-ap", "dc-us", "dc-eu")}


def check(dc):
    return (f"{{type: tcp, address: 127.0.0.1, port: {PORTS[dc]}, interval: 200ms, "
            f"timeout: 150ms, rise: 2, fall: 2}}")


def start_backend(dc):
    p = subprocess.Popen(["/usr/bin/python3", str(HERE / "lib" / "backend.py"), "tcp",
                          str(PORTS[dc])], stdout=subprocess.PIPE, text=True)
    p.stdout.readline()  # "ready"
    return p


def policies(lab):
    return f"""datacenters:
  dc-ap: {{latitude: 1.35, longitude: 103.82}}
  dc-us: {{latitude: 40.71, longitude: -74.01}}
  dc-eu: {{latitude: 51.51, longitude: -0.13}}
geo_maps:
  world: {{database: world.mmdb, mode: nearest, nets: nets.txt}}
targets:
  t-ap: {{datacenter: dc-ap, check: {check("dc-ap")}}}
  t-us: {{datacenter: dc-us, check: {check("dc-us")}}}
  t-eu: {{datacenter: dc-eu, check: {check("dc-eu")}}}
resources:
  www:
    kind: geo
    map: world
    ttl: 30
    all_down: fallback
    fallback: [{FALLBACK}]
    datacenters:
      dc-ap: {{members: [{{address: {ADDR['dc-ap']}, target: t-ap}}]}}
      dc-us: {{members: [{{address: {ADDR['dc-us']}, target: t-us}}]}}
      dc-eu: {{members: [{{address: {ADDR['dc-eu']}, target: t-eu}}]}}
records:
  - {{name: www.geo.test., type: A, resource: www}}
"""


def answer(out):
    """(A addresses, ECS scope or None) from dig output."""
    addrs = [l.split()[-1] for l in out.splitlines()
             if not l.startswith(";") and re.search(r"\sIN\s+A\s", l)]
    m = re.search(r"CLIENT-SUBNET: \S+/(\d+)/(\d+)", out)
    return addrs, (int(m.group(2)) if m else None)


def ctl(lab, *a):
    return run([str(Path(lab.control).parent / "sextantctl"), "--socket", str(lab.socket_path),
                "--instance", lab.instance, *a], check=False)


def steering(lab, res):
    out = lab.dig("+subnet=81.2.69.160/32", "www.geo.test", "A")
    addrs, scope = answer(out)
    res.check("London client (ECS) gets dc-eu with the matched prefix as scope",
              addrs == [ADDR["dc-eu"]] and scope == 27, out)
    out = lab.dig("+subnet=2001:218::/48", "www.geo.test", "A")
    addrs, scope = answer(out)
    res.check("Japanese IPv6 client (ECS) gets dc-ap, scope /32",
              addrs == [ADDR["dc-ap"]] and scope == 32, out)
    out = lab.dig("+subnet=216.160.83.56/32", "www.geo.test", "A")
    addrs, scope = answer(out)
    res.check("US client gets dc-us, scope /29", addrs == [ADDR["dc-us"]] and scope == 29, out)
    out = lab.dig("www.geo.test", "A")
    addrs, scope = answer(out)
    res.check("no ECS: the packet source (nets: 198.18.0.0/24 unknown -> default list: dc-ap)",
              addrs == [ADDR["dc-ap"]] and scope is None, out)

    r = ctl(lab, "force", "down", "dc-eu", "--datacenter")
    ok = wait_for(lambda: answer(lab.dig("+subnet=81.2.69.160/32", "www.geo.test", "A"))[0] ==
                  [ADDR["dc-us"]])
    res.check("dc-eu forced down: the London client gets the next nearest, dc-us",
              r.returncode == 0 and ok, r.stdout + r.stderr)
    ctl(lab, "force", "down", "dc-us", "--datacenter")
    ok = wait_for(lambda: answer(lab.dig("+subnet=81.2.69.160/32", "www.geo.test", "A"))[0] ==
                  [ADDR["dc-ap"]])
    res.check("dc-us down too: then dc-ap", ok)
    ctl(lab, "force", "down", "dc-ap", "--datacenter")
    ok = wait_for(lambda: answer(lab.dig("+subnet=81.2.69.160/32", "www.geo.test", "A"))[0] ==
                  [FALLBACK])
    res.check("all datacenters down: all_down fallback", ok)
    for dc in ("dc-ap", "dc-us", "dc-eu"):
        ctl(lab, "release", dc, "--datacenter")
    ok = wait_for(lambda: answer(lab.dig("+subnet=81.2.69.160/32", "www.geo.test", "A"))[0] ==
                  [ADDR["dc-eu"]])
    res.check("released: dc-eu again", ok)

    # A real failure: kill dc-eu's backend; its check fails and the next nearest answers.
    lab.backends["dc-eu"].kill()
    lab.backends["dc-eu"].wait()
    t0 = time.time()
    ok = wait_for(lambda: answer(lab.dig("+subnet=81.2.69.160/32", "www.geo.test", "A"))[0] ==
                  [ADDR["dc-us"]])
    res.check("dc-eu's backend killed: the London client gets dc-us once the check fails",
              ok and time.time() - t0 < 0.2 * 2 + 0.15 + 1.0, f"{time.time() - t0:.2f}s")
    lab.backends["dc-eu"] = start_backend("dc-eu")
    ok = wait_for(lambda: answer(lab.dig("+subnet=81.2.69.160/32", "www.geo.test", "A"))[0] ==
                  [ADDR["dc-eu"]])
    res.check("dc-eu's backend back: dc-eu again", ok)

    r = ctl(lab, "explain", "www.geo.test", "A", "--client", "81.2.69.160")
    res.check("explain --client: location record, preference list, answer and scope",
              r.returncode == 0 and "London" in r.stdout and "dc-eu, dc-us, dc-ap" in r.stdout
              and "198.18.3.1" in r.stdout and "ECS scope /27" in r.stdout, r.stdout + r.stderr)
    ctl(lab, "force", "down", "dc-eu", "--datacenter")
    time.sleep(0.2)
    r = ctl(lab, "explain", "www.geo.test", "A", "--client", "81.2.69.160/27")
    res.check("explain --client PREFIX shows the down datacenter skipped",
              r.returncode == 0 and "down: skipped" in r.stdout, r.stdout + r.stderr)
    ctl(lab, "release", "dc-eu", "--datacenter")


REFUSED_ALONE = "geo map 'world' refused, serving its last good version"


def published_clean(lab, mark):
    """A generation published since `mark` with the world map loaded, not refused."""
    text = lab.control_log_text()[mark:]
    return "published generation" in text and REFUSED_ALONE not in text and (
        "geo map 'world': GeoIP2-City built" in text or
        "geo map 'world': inputs unchanged, reused" in text)


def corrupt_reloads(lab, res):
    """Each broken input is refused alone: the map keeps its last good version (a reload still
    publishes whatever else changed; reload_isolation_test covers that)."""
    db = lab.workdir / "world.mmdb"
    nets = lab.workdir / "nets.txt"
    before = lab.dig("+subnet=81.2.69.160/32", "www.geo.test", "A")
    for broken in ("GeoIP2-City-Test-Broken-Double-Format.mmdb",
                   "GeoIP2-City-Test-Invalid-Node-Count.mmdb",
                   "MaxMind-DB-test-broken-search-tree-24.mmdb"):
        mark = len(lab.control_log_text())
        tmp = lab.workdir / "world.mmdb.new"
        shutil.copy(MAXMIND / broken, tmp)
        tmp.rename(db)  # atomic, as a deployment tool would do it
        seen = wait_for(lambda: REFUSED_ALONE in lab.control_log_text()[mark:], timeout=10)
        line = next((l for l in lab.control_log_text()[mark:].splitlines()
                     if REFUSED_ALONE in l), "")
        after = lab.dig("+subnet=81.2.69.160/32", "www.geo.test", "A")
        res.check(f"corrupt database {broken}: refused with a message, answers unchanged",
                  seen and "world.mmdb" in line and answer(after) == answer(before),
                  line or lab.control_log_text()[mark:])
    mark = len(lab.control_log_text())
    tmp = lab.workdir / "world.mmdb.new"
    shutil.copy(MAXMIND / "GeoIP2-City-Test.mmdb", tmp)
    tmp.rename(db)
    # The very bytes of the map's last good version: reused rather than compiled again.
    ok = wait_for(lambda: published_clean(lab, mark), timeout=10)
    res.check("the good database back: the refusal clears", ok, lab.control_log_text()[mark:])
    mark = len(lab.control_log_text())
    nets.write_text("198.18.0.0/33 dc-eu\n")
    seen = wait_for(lambda: REFUSED_ALONE in lab.control_log_text()[mark:], timeout=10)
    res.check("a broken nets file: refused naming file and line, old map serving",
              seen and "nets.txt:1" in lab.control_log_text()[mark:]
              and answer(lab.dig("+subnet=81.2.69.160/32", "www.geo.test", "A"))[0] ==
              [ADDR["dc-eu"]], lab.control_log_text()[mark:])
    mark = len(lab.control_log_text())
    nets.write_text(NETS)
    ok = wait_for(lambda: published_clean(lab, mark), timeout=10)
    res.check("nets fixed: accepted", ok, lab.control_log_text()[mark:])


def unbound_clients(lab, res):
    if not shutil.which("unbound"):
        res.check("unbound installed", False, "apt-get install unbound")
        return
    for a in (CLIENT_A, CLIENT_B):
        lab.ns_run(["ip", "addr", "add", f"{a}/24", "dev", lab.client_ifname])
    # Without ECS the packet source decides (the DPDK path passes it to the engine).
    out = lab.ns_run(["dig", f"@{APPLIANCE_V4}", "-b", CLIENT_A, "+time=2", "+tries=2",
                      "+norec", "www.geo.test", "A"]).stdout
    res.check("no ECS, packet source 198.18.0.3 (nets: dc-eu): dc-eu, no ECS option",
              answer(out) == ([ADDR["dc-eu"]], None), out)
    d = lab.workdir / "unbound"
    d.mkdir(exist_ok=True)
    conf = d / "unbound.conf"
    # Everything unbound may send goes to the appliance: "." is forwarded there, root hints are
    # never used, no remote control, no DNSSEC validation (no trust anchor fetches).
    conf.write_text(f"""server:
  interface: 198.18.0.1
  port: 53
  access-control: 198.18.0.0/24 allow
  do-daemonize: no
  username: ""
  chroot: ""
  directory: "{d}"
  pidfile: "{d}/unbound.pid"
  logfile: "{d}/unbound.log"
  use-syslog: no
  verbosity: 1
  do-ip6: no
  module-config: "subnetcache iterator"
  send-client-subnet: {APPLIANCE_V4}
  client-subnet-always-forward: yes
  max-client-subnet-ipv4: 32
  qname-minimisation: no
  prefetch: no
  harden-referral-path: no
  do-not-query-localhost: yes
  local-zone: "test." nodefault   # RFC 6761 names are answered locally by default
forward-zone:
  name: "."
  forward-addr: {APPLIANCE_V4}
remote-control:
  control-enable: no
""")
    r = lab.ns_run(["unbound-checkconf", str(conf)])
    if r.returncode != 0:
        res.check("unbound config", False, r.stdout + r.stderr)
        return
    p = subprocess.Popen(["ip", "netns", "exec", lab.ns, "unbound", "-d", "-c", str(conf)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        def ask(src):
            out = lab.ns_run(["dig", "@198.18.0.1", "-b", src, "+time=2", "+tries=2",
                              "www.geo.test", "A"]).stdout
            return answer(out)[0]
        wait_for(lambda: ask(CLIENT_A) != [], timeout=10)
        a1, b1 = ask(CLIENT_A), ask(CLIENT_B)
        a2, b2 = ask(CLIENT_A), ask(CLIENT_B)  # the second round comes from unbound's cache
        res.check("unbound: client A gets dc-eu, client B dc-us (each its own datacenter)",
                  a1 == [ADDR["dc-eu"]] and b1 == [ADDR["dc-us"]], f"A={a1} B={b1}")
        res.check("unbound: cached answers stay per client subnet",
                  a2 == [ADDR["dc-eu"]] and b2 == [ADDR["dc-us"]], f"A={a2} B={b2}")
    finally:
        p.terminate()
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            p.kill()


def main():
    args = integration_args()
    res = Results()
    work = Path(args.workdir)
    shutil.rmtree(work / "lab", ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    with Lab(args.sextant_control, args.sextant_dataplane, work / "lab", tag="geo") as lab:
        lab.backends = {dc: start_backend(dc) for dc in PORTS}
        try:
            run_all(lab, res)
        finally:
            for p in lab.backends.values():
                p.kill()
    print(f"{res.passed} passed, {res.failed} failed")
    return 0 if res.failed == 0 else 1


def run_all(lab, res):
    shutil.copy(MAXMIND / "GeoIP2-City-Test.mmdb", lab.workdir / "world.mmdb")
    (lab.workdir / "nets.txt").write_text(NETS)
    lab.write_config([("geo.test.", ZONE)], extra=policies(lab) + lab.control_section())
    lab.start_control()
    lab.start()
    steering(lab, res)
    corrupt_reloads(lab, res)
    unbound_clients(lab, res)


if __name__ == "__main__":
    sys.exit(main())
