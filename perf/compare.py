#!/usr/bin/python3
"""Sextant beside Knot DNS, NSD, gdnsd and PowerDNS: the same zone and query mix, the same
offered load, one table. Run it through perf/compare.sh (which builds Sextant and installs the
peers); this file is the work.

Each server is started here on 127.0.0.1 on a port of its own, with one worker thread, its
config in a temporary directory, pinned (taskset) to SERVER_CPU, and stopped by its PID. Before
any load, a sample of its answers is checked against the zone (and, for geo rows, against the
datacenter nearest to the client's network): a server that answers wrong gets no row and the
run fails. Then `dnsperf`, pinned to CLIENT_CPU, offers the same load (-Q) for the same time,
and the server's CPU time (utime + stime from /proc/PID/stat, summed over the process and its
children: NSD serves from a child) is read before and after.

Rows (SERVERS="..."):
  sextant        sextant-control publishes, sextant-dataplane --listen (kernel sockets), 1 thread
  sextant-dpdk   perf/e2e_pcap.sh (net_pcap -> dataplane -> net_null, one worker lcore): CPU per
                 query = 1 / queries per CPU-second of the worker; no dnsperf, no latency
  knot nsd gdnsd pdns   the peers (Debian packages), plain zone
  sextant-geo knot-geo gdnsd-geo pdns-geo   a geo answer for www.geo.test with an EDNS Client
                 Subnet option on every query (clients spread over the networks of the MaxMind
                 City test database), three datacenters, nearest by great-circle distance:
                 Sextant's geo resource (nearest map), Knot's geoip module (geodb mode),
                 gdnsd's geoip plugin (auto_dc_coords), PowerDNS LUA pickclosest()

Nothing leaves the machine: only 127.0.0.1; PowerDNS security polling off
(security-poll-suffix=), no NOTIFY (primary=no); NSD rrl-ratelimit: 0; gdnsd has no health
checks (service_types => up); Knot has no RRL module; no root hints, no recursion anywhere.
"""
import argparse
import math
import os
import platform
import random
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import dns.edns
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.zone

PERF = Path(__file__).resolve().parent
REPO = PERF.parent
sys.path.insert(0, str(PERF))
sys.path.insert(0, str(REPO / "tests" / "integration" / "lib"))
import make_query_pcap  # noqa: E402
from geo_points import CITY_DB, DCS, city_networks, sextant_geo_config, wrong_dcs  # noqa: E402
from lab import free_port, stop_processes  # noqa: E402

ORIGIN = "perf.test."
GEO_ORIGIN = "geo.test."
GEO_NAME = "www." + GEO_ORIGIN
GEO_ZONE = """$ORIGIN geo.test.
$TTL 300
@ IN SOA ns hostmaster 1 3600 600 86400 60
@ IN NS ns
ns IN A 127.0.0.1
"""
PLAIN_ROWS = ["sextant", "sextant-dpdk", "knot", "nsd", "gdnsd", "pdns"]
GEO_ROWS = ["sextant-geo", "knot-geo", "gdnsd-geo", "pdns-geo"]


def log(msg):
    print("compare: " + msg, file=sys.stderr, flush=True)


# ---- what is asked, and what a right answer is ------------------------------------------------

def wire_query(name, qtype, ecs=None):
    """A query in wire format (id 0: dnsperf sets its own), EDNS with 1232 octets, an ECS
    option when `ecs` (an ip_network) is given."""
    q = dns.message.make_query(name, qtype)
    opts = [dns.edns.ECSOption(str(ecs.network_address), ecs.prefixlen)] if ecs else []
    q.use_edns(0, payload=1232, options=opts)
    q.flags &= ~dns.flags.RD
    q.id = 0
    return q.to_wire()


def write_binary_queries(path, wires):
    """dnsperf's -B input: each message behind its 16-bit length, as on a TCP stream."""
    with open(path, "wb") as f:
        for w in wires:
            f.write(struct.pack("!H", len(w)) + w)


def plain_questions(count, hosts, mix, seed):
    """(name, qtype) of the mix make_query_pcap.py gives the e2e harness."""
    rng = random.Random(seed)
    kinds = make_query_pcap.query_kinds(rng, mix, count)
    return [make_query_pcap.pick_question(rng, k, hosts, ORIGIN) for k in kinds]


def knot_geo_rules(nets):
    """Knot's geoip module matches on database keys, not distances: one rule per (country,
    city) seen, answering that key's nearest datacenter (the majority's when the networks under
    one key differ). Returns (rules [(key, dc)], networks whose key answers them right)."""
    groups = {}
    for net, dc, cc, city in nets:
        groups.setdefault("%s;%s" % (cc, city or "*"), []).append((net, dc))
    rules, agree = [], set()
    for key in sorted(groups, key=lambda k: (k.endswith(";*"), k)):  # specific keys first
        members = groups[key]
        names = [dc[0] for _, dc in members]
        best = max(set(names), key=names.count)
        rules.append((key, next(dc for dc in DCS if dc[0] == best)))
        agree.update(net for net, dc in members if dc[0] == best)
    return rules, agree


def geo_spread():
    """The ECS networks of the geo rows (every server must answer each one right) and Knot's
    rules."""
    nets = city_networks()
    rules, agree = knot_geo_rules(nets)
    return [(net, dc) for net, dc, _, _ in nets if net in agree], rules


def ask(port, name, qtype, ecs=None, timeout=2.0):
    q = dns.message.from_wire(wire_query(name, qtype, ecs))
    q.id = random.randrange(65536)
    return dns.query.udp(q, "127.0.0.1", port=port, timeout=timeout)


def answer_rdatas(r, name, qtype):
    return sorted(rd.to_text() for rrset in r.answer
                  if rrset.rdtype == qtype and rrset.name == dns.name.from_text(name)
                  for rd in rrset)


def verify_plain(port, zone, questions, sample):
    """Problems (strings) in the server's answers to `sample` distinct questions, against the
    zone: NXDOMAIN for a missing name, else exactly the zone's RRset of that type."""
    problems = []
    for name, qtype in list(dict.fromkeys(questions))[:sample]:
        node = zone.get_node(dns.name.from_text(name))
        rds = node.get_rdataset(dns.rdataclass.IN, qtype) if node else None
        want = (dns.rcode.NOERROR, sorted(rd.to_text() for rd in rds or [])) if node else \
            (dns.rcode.NXDOMAIN, [])
        r = ask(port, name, qtype)
        got = (r.rcode(), answer_rdatas(r, name, qtype))
        if got != want:
            problems.append("%s %s: want %s %s, got %s %s" % (
                name, dns.rdatatype.to_text(qtype), dns.rcode.to_text(want[0]), want[1],
                dns.rcode.to_text(got[0]), got[1]))
    return problems


def verify_geo(port, spread, sample):
    """Problems in the answers for `sample` networks spread over the list (IPv4 and IPv6, every
    continent): each must be the nearest datacenter's address."""
    problems = []
    for net, dc in spread[::max(1, len(spread) // max(1, sample))][:sample]:
        r = ask(port, GEO_NAME, dns.rdatatype.A, ecs=net)
        got = answer_rdatas(r, GEO_NAME, dns.rdatatype.A)
        if got != [dc[1]]:
            problems.append("ECS %s: want %s (%s), got %s %s" % (
                net, dc[1], dc[0], dns.rcode.to_text(r.rcode()), got))
    return problems


def wrong_zone(text):
    """The zone with every host's A records moved elsewhere: what --wrong feeds one server, so
    that the check of its answers must fail."""
    return re.sub(r"^(host\d+ 300 IN A )\S+$", r"\g<1>198.19.255.254", text, flags=re.M)


# ---- the servers --------------------------------------------------------------------------------

class Ctx:
    """What every server's start needs: options, work directory, zone text, the geo rules."""

    def __init__(self, args, work, zone_text, knot_rules):
        self.args = args
        self.work = work
        self.zone_text = zone_text
        self.knot_rules = knot_rules

    def dir(self, row):
        d = self.work / row
        d.mkdir(parents=True, exist_ok=True)
        return d

    def zone_for(self, row):
        return wrong_zone(self.zone_text) if row == self.args.wrong else self.zone_text

    def dcs_for(self, row):
        return wrong_dcs() if row == self.args.wrong else DCS


def write(path, text):
    Path(path).write_text(text)
    return str(path)


def sextant_config(ctx, row, d, instance):
    lines = ["instance: %s" % instance,
             "control: {socket: %s, state_file: %s}" % (d / "ctl.sock", d / "state")]
    if ctx.args.rate_limit_key:
        lines.append("rate_limit: {enabled: false}")
    if row == "sextant":
        write(d / "perf.test.zone", ctx.zone_for(row))
        lines += ["zones:", "  - {origin: %s, file: perf.test.zone}" % ORIGIN]
        return "\n".join(lines) + "\n"
    write(d / "geo.test.zone", GEO_ZONE)
    lines += ["zones:", "  - {origin: %s, file: geo.test.zone}" % GEO_ORIGIN]
    lines += sextant_geo_config(GEO_NAME, CITY_DB, ctx.dcs_for(row))
    return "\n".join(lines) + "\n"


def start_sextant(ctx, row, port):
    d = ctx.dir(row)
    instance = "sxcmp%d%s" % (os.getpid(), "geo" if row.endswith("geo") else "")
    ctx.instances.append(instance)
    cfg = write(d / "sextant.yaml", sextant_config(ctx, row, d, instance))
    with open(d / "control.out", "w") as out:
        subprocess.run([ctx.args.sextant_control, "--once", "--config", cfg], check=True,
                       stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    return [ctx.args.sextant_dataplane, "--listen", "127.0.0.1:%d" % port, "--instance",
            instance, "--threads", "1"], d


def start_knot(ctx, row, port):
    d = ctx.dir(row)
    geo = row.endswith("geo")
    zone_file = write(d / "zone", GEO_ZONE + "www 60 IN A %s\n" % DCS[0][1] if geo
                      else ctx.zone_for(row))
    conf = ["server:", "    rundir: %s" % d, "    listen: 127.0.0.1@%d" % port,
            "    udp-workers: 1", "    tcp-workers: 1", "    background-workers: 1",
            "    edns-client-subnet: on",
            "database:", "    storage: %s" % d,
            "log:", "  - target: %s/knot.log" % d, "    any: info"]
    module = ""
    if geo:
        dcs = {n: a for n, a, _, _ in ctx.dcs_for(row)}
        rules = "".join('  - geo: "%s"\n    A: %s\n' % (key, dcs[dc[0]])
                        for key, dc in ctx.knot_rules)
        write(d / "geo.conf", "%s:\n%s" % (GEO_NAME.rstrip("."), rules))
        conf += ["mod-geoip:", "  - id: geo", "    config-file: %s/geo.conf" % d, "    ttl: 60",
                 "    mode: geodb", "    geodb-file: %s" % CITY_DB,
                 "    geodb-key: [ country/iso_code, city/names/en ]"]
        module = "    module: mod-geoip/geo"
    conf += ["template:", "  - id: default", "    storage: %s" % d, "    zonefile-sync: -1",
             "    journal-content: none",
             "zone:", "  - domain: %s" % (GEO_ORIGIN if geo else ORIGIN),
             "    file: %s" % zone_file]
    if module:
        conf.append(module)
    return ["knotd", "-c", write(d / "knot.conf", "\n".join(conf) + "\n")], d


def start_nsd(ctx, row, port):
    d = ctx.dir(row)
    write(d / "perf.test.zone", ctx.zone_for(row))
    conf = """server:
    ip-address: 127.0.0.1@%(port)d
    server-count: 1
    username: ""
    chroot: ""
    zonesdir: "%(d)s"
    database: ""
    zonelistfile: "%(d)s/zone.list"
    xfrdfile: "%(d)s/xfrd.state"
    xfrdir: "%(d)s"
    pidfile: "%(d)s/nsd.pid"
    logfile: "%(d)s/nsd.log"
    rrl-ratelimit: 0
remote-control:
    control-enable: no
zone:
    name: %(origin)s
    zonefile: perf.test.zone
""" % dict(port=port, d=d, origin=ORIGIN)
    return ["nsd", "-d", "-c", write(d / "nsd.conf", conf)], d


def start_gdnsd(ctx, row, port):
    d = ctx.dir(row)
    for sub in ("zones", "run", "state"):
        (d / sub).mkdir(exist_ok=True)
    opts = ("options => {\n  listen => [ 127.0.0.1:%d ]\n  run_dir => %s\n  state_dir => %s\n"
            "  udp_threads => 1\n  tcp_threads => 1\n  edns_client_subnet => true\n}\n"
            % (port, d / "run", d / "state"))
    if not row.endswith("geo"):
        write(d / "zones" / ORIGIN.rstrip("."), ctx.zone_for(row))
        write(d / "config", opts)
        return ["gdnsd", "-c", str(d), "start"], d
    names = ", ".join(n for n, _, _, _ in DCS)
    coords = ", ".join("%s => [ %s, %s ]" % (n, la, lo) for n, _, la, lo in DCS)
    dcmap = ", ".join("%s => %s" % (n, a) for n, a, _, _ in ctx.dcs_for(row))
    # service_types => up: a virtual always-up state, so no health check is ever sent.
    plugins = ("plugins => { geoip => {\n  maps => { world => {\n    geoip2_db => %s\n"
               "    datacenters => [ %s ]\n    auto_dc_coords => { %s }\n"
               "    auto_dc_limit => 3\n  } }\n  resources => {\n"
               "    www => { map => world, service_types => up, dcmap => { %s } }\n  }\n} }\n"
               % (CITY_DB, names, coords, dcmap))
    write(d / "zones" / GEO_ORIGIN.rstrip("."), GEO_ZONE + "www 60 DYNA geoip!www\n")
    write(d / "config", opts + plugins)
    return ["gdnsd", "-c", str(d), "start"], d


def start_pdns(ctx, row, port):
    d = ctx.dir(row)
    geo = row.endswith("geo")
    if geo:
        cands = ",".join("'%s'" % a for _, a, _, _ in ctx.dcs_for(row))
        # pickclosest() locates the client (ECS) and each candidate in the GeoIP backend's
        # database: the backend is loaded for that alone, with no zones of its own.
        zone_text = GEO_ZONE + "www 60 IN LUA A \"pickclosest({%s})\"\n" % cands
    else:
        zone_text = ctx.zone_for(row)
    origin = GEO_ORIGIN if geo else ORIGIN
    zone_file = write(d / "zone", zone_text)
    named = write(d / "named.conf", 'zone "%s" { type native; file "%s"; };\n'
                  % (origin.rstrip("."), zone_file))
    conf = ["launch=bind" + (",geoip" if geo else ""), "bind-config=%s" % named,
            "local-address=127.0.0.1:%d" % port, "receiver-threads=1",
            "distributor-threads=1", "signing-threads=1", "guardian=no", "daemon=no",
            "security-poll-suffix=", "primary=no", "socket-dir=%s" % d, "disable-syslog=yes",
            "webserver=no", "api=no"]
    if geo:
        conf += ["enable-lua-records=yes", "edns-subnet-processing=yes",
                 "geoip-database-files=mmdb:%s" % CITY_DB,
                 "geoip-zones-file=%s" % write(d / "geo-zones.yaml", "domains: []\n")]
    write(d / "pdns.conf", "\n".join(conf) + "\n")
    return ["pdns_server", "--config-dir=%s" % d], d


STARTERS = {"sextant": start_sextant, "knot": start_knot, "nsd": start_nsd,
            "gdnsd": start_gdnsd, "pdns": start_pdns}
PACKAGES = {"knot": "knot", "nsd": "nsd", "gdnsd": "gdnsd", "pdns": "pdns-server"}


def version_of(server, args):
    if server == "sextant":
        out = subprocess.run([args.sextant_dataplane, "--version"], capture_output=True,
                             text=True).stdout.split()
        return " ".join(out[1:4]).rstrip(",") if len(out) >= 4 else "?"
    out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", PACKAGES[server]],
                         capture_output=True, text=True)
    return out.stdout.strip() or "?"


# ---- processes and CPU time ---------------------------------------------------------------------

def children_of():
    """{pid: [child pids]} of every process now."""
    kids = {}
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                ppid = int(Path("/proc/%s/stat" % p).read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            kids.setdefault(ppid, []).append(int(p))
    return kids


def tree_cpu(pid):
    """utime + stime (seconds) of `pid` and all its descendants (threads included: the
    process's line counts them all)."""
    kids, todo, total = children_of(), [pid], 0.0
    tick = os.sysconf("SC_CLK_TCK")
    while todo:
        p = todo.pop()
        try:
            f = Path("/proc/%d/stat" % p).read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(f[11]) + int(f[12])) / tick
        todo += kids.get(p, [])
    return total


def pinned(cmd, cpu):
    return (["taskset", "-c", str(cpu)] + cmd) if cpu is not None else cmd


def wait_ready(proc, port, origin, d, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            if ask(port, origin, dns.rdatatype.SOA, timeout=0.5).answer:
                return
        except Exception:  # noqa: BLE001 (not up yet: timeout, refused)
            pass
        time.sleep(0.1)
    tail = (d / "server.out").read_text()[-2000:]
    raise RuntimeError("did not answer on 127.0.0.1:%d (exit %s):\n%s" % (
        port, proc.poll(), tail))


# ---- dnsperf ------------------------------------------------------------------------------------

def run_dnsperf(args, port, queries, out_path):
    cmd = pinned(["dnsperf", "-s", "127.0.0.1", "-p", str(port), "-B", "-d", str(queries),
                  "-l", str(args.duration), "-Q", str(args.qps), "-c", str(args.clients),
                  "-q", str(args.outstanding), "-t", "2", "-v"], args.client_cpu)
    with open(out_path, "w") as out:
        subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                       check=True)
    return parse_dnsperf(Path(out_path).read_text())


def parse_dnsperf(text):
    """Answered, lost, qps, average latency and p99 (the latter from -v's per-query lines),
    latencies in microseconds."""
    def num(pattern):
        m = re.search(pattern, text)
        return float(m.group(1)) if m else float("nan")
    # "> NOERROR name type 0.000042" per answer; "> T ..." for one that timed out.
    lat = sorted(float(f[-1]) for f in (line.split() for line in text.splitlines())
                 if f[:1] == [">"] and re.fullmatch(r"\d+\.\d+", f[-1]))
    p99 = lat[min(len(lat) - 1, int(0.99 * len(lat)))] * 1e6 if lat else float("nan")
    return {"answered": int(num(r"Queries completed:\s+(\d+)")),
            "lost": int(num(r"Queries lost:\s+(\d+)")),
            "qps": num(r"Queries per second:\s+([\d.]+)"),
            "avg_us": num(r"Average Latency \(s\):\s+([\d.]+)") * 1e6,
            "p99_us": p99,
            "rcodes": (re.search(r"Response codes:\s+(.*)", text) or [None, ""])[1]}


# ---- one row ------------------------------------------------------------------------------------

def measure_server(ctx, row, files, checks):
    server = row.split("-")[0]
    port = free_port()
    cmd, d = STARTERS[server](ctx, row, port)
    with open(d / "server.out", "w") as out:
        proc = subprocess.Popen(pinned(cmd, ctx.args.server_cpu), stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        geo = row.endswith("geo")
        wait_ready(proc, port, GEO_ORIGIN if geo else ORIGIN, d)
        problems = checks[geo](port)
        if problems:
            return {"row": row, "wrong": problems}
        # What the server burns with no queries at all (timers, polling threads), per second.
        idle0 = tree_cpu(proc.pid)
        time.sleep(ctx.args.idle)
        cpu0 = tree_cpu(proc.pid)
        idle = (cpu0 - idle0) / ctx.args.idle if ctx.args.idle > 0 else None
        res = run_dnsperf(ctx.args, port, files[geo], d / "dnsperf.out")
        res["cpu_s"] = tree_cpu(proc.pid) - cpu0
        res["idle"] = idle
        if proc.poll() is not None:
            raise RuntimeError("exited during the load (see %s)" % (d / "server.out"))
        # Every answer of the mix is NOERROR or NXDOMAIN: a server that refused or failed some
        # under load would count them as answers.
        odd = [c for c in re.findall(r"([A-Z]+) \d+", res["rcodes"])
               if c not in ("NOERROR", "NXDOMAIN")]
        if odd:
            return {"row": row, "wrong": ["under load, dnsperf saw " + res["rcodes"]]}
    finally:
        stop_processes([proc])  # SIGTERM to the server's own PID, SIGKILL after 5 s
    res.update(row=row, version=version_of(server, ctx.args))
    res["us_per_answer"] = res["cpu_s"] * 1e6 / res["answered"] if res["answered"] else None
    return res


def measure_dpdk(ctx):
    """The e2e harness's worker lcore: queries per CPU-second -> CPU time per query."""
    env = dict(os.environ, BUILD_DIR=str(ctx.args.build_dir), BUILD="0",
               SECONDS_MEASURED=str(ctx.args.duration), WARMUP=str(ctx.args.dpdk_warmup),
               MIX=ctx.args.mix)
    out = subprocess.run(["bash", str(PERF / "e2e_pcap.sh")], env=env, capture_output=True,
                         text=True)
    (ctx.dir("sextant-dpdk") / "e2e.out").write_text(out.stdout + out.stderr)
    if out.returncode != 0:
        raise RuntimeError("perf/e2e_pcap.sh failed:\n" + (out.stdout + out.stderr)[-2000:])
    rows = [line.split() for line in out.stdout.splitlines()]
    lcores = [r for r in rows if len(r) >= 7 and r[0].isdigit() and r[5] != "-"]
    if not lcores:
        raise RuntimeError("no worker line in perf/e2e_pcap.sh's output:\n" + out.stdout)
    mq_per_cpu_s = sum(float(r[5]) for r in lcores) / len(lcores)
    qps = sum(float(r[3]) for r in lcores) * 1e6
    return {"row": "sextant-dpdk", "version": version_of("sextant", ctx.args), "qps": qps,
            "answered": None, "lost": None, "avg_us": None, "p99_us": None, "cpu_s": None,
            "idle": None,
            "us_per_answer": 1.0 / mq_per_cpu_s, "rcodes": ""}


# ---- the table ----------------------------------------------------------------------------------

def fmt(v, f="%.1f"):
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else f % v


def machine_lines(args):
    model = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                  if line.startswith("model name")), platform.processor())
    load = open("/proc/loadavg").read().split()[:3]
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip() or "?"
    dnsperf = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "dnsperf"],
                             capture_output=True, text=True).stdout.strip()
    return ["# perf/compare.sh, %s" % time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
            "machine: %s, %d CPUs, Linux %s; load average before the run %s" % (
                model, os.cpu_count(), platform.release(), " ".join(load)),
            "Sextant commit %s; dnsperf %s; offered %d qps for %s s per row, %d clients, "
            "%d outstanding at most; "
            "servers on CPU %s, dnsperf on CPU %s; zone %d hosts, mix %s (A/AAAA/NXDOMAIN)" % (
                commit, dnsperf, args.qps, args.duration, args.clients, args.outstanding,
                args.server_cpu, args.client_cpu, args.hosts, args.mix)]


def table(results, header):
    """The header (machine_lines, taken before the run) and a row per result."""
    by = {r["row"]: r for r in results if "wrong" not in r}
    ref_dpdk = by.get("sextant-dpdk", {}).get("us_per_answer")
    lines = header + [
        "",
        "| server | version | qps answered | latency avg us | p99 us | lost | idle CPU "
        "| server CPU s | **CPU us per answer** | x Sextant DPDK | x Sextant kernel |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in results:
        if "wrong" in r:
            lines.append("| %s | WRONG ANSWERS: not measured (%d problems, listed on stderr) "
                         "| | | | | | | | | |" % (r["row"], len(r["wrong"])))
            continue
        geo = r["row"].endswith("geo")
        kernel = by.get("sextant-geo" if geo else "sextant", {}).get("us_per_answer")
        dpdk = None if geo else ref_dpdk
        cpu = r["us_per_answer"]
        lines.append("| %s | %s | %s | %s | %s | %s | %s | %s | **%s** | %s | %s |" % (
            r["row"], r["version"], fmt(r["qps"], "%.0f"), fmt(r["avg_us"]), fmt(r["p99_us"]),
            fmt(r["lost"], "%d"), fmt(r["idle"] and r["idle"] * 100, "%.0f%%"),
            fmt(r["cpu_s"], "%.2f"), fmt(cpu, "%.3f"),
            fmt(cpu / dpdk if cpu and dpdk else None, "%.1f"),
            fmt(cpu / kernel if cpu and kernel else None, "%.2f")))
    lines += ["", "CPU us per answer: the server's utime + stime during the load over the "
              "queries answered (sextant-dpdk: 1 / the worker lcore's queries per CPU-second). "
              "idle CPU: the server's CPU share with no queries (included in its CPU per "
              "answer). x Sextant DPDK / kernel: this row's CPU per answer over Sextant's "
              "(DPDK: the e2e harness, same mix; kernel: the sextant or sextant-geo row)."]
    return "\n".join(lines) + "\n"


# ---- main ---------------------------------------------------------------------------------------

def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--servers", default=" ".join(PLAIN_ROWS + GEO_ROWS))
    ap.add_argument("--duration", type=float, default=10, help="seconds of load per row")
    ap.add_argument("--qps", type=int, default=20000, help="offered load (dnsperf -Q)")
    ap.add_argument("--clients", type=int, default=4, help="dnsperf -c")
    # dnsperf's default. It caps a server at 100 / its latency (50k qps at 2 ms, on a loaded
    # machine), but more lets a burst outgrow a server's socket buffer (about 200 small
    # datagrams in 208 KiB) whenever the server is descheduled: lost queries, not a slow server.
    ap.add_argument("--outstanding", type=int, default=100, help="dnsperf -q")
    ap.add_argument("--hosts", type=int, default=1000)
    ap.add_argument("--mix", default="70/20/10")
    ap.add_argument("--queries", type=int, default=10000, help="distinct queries in the file")
    ap.add_argument("--verify", type=int, default=200, help="answers checked per server")
    ap.add_argument("--server-cpu", type=int)
    ap.add_argument("--client-cpu", type=int)
    ap.add_argument("--dpdk-warmup", type=float, default=2)
    ap.add_argument("--idle", type=float, default=1,
                    help="seconds the server's CPU is sampled with no load, before it")
    ap.add_argument("--out", help="also write the table here")
    ap.add_argument("--wrong", help="feed this row a zone (or geo answers) that are wrong: the "
                    "check of its answers must then fail the run (tests the checker)")
    ap.add_argument("--rate-limit-key", action="store_true",
                    help="Sextant's config knows rate_limit: turn it off")
    ap.add_argument("--sextant-control", required=True)
    ap.add_argument("--sextant-dataplane", required=True)
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    args = ap.parse_args()
    args.rows = args.servers.split()
    unknown = set(args.rows) - set(PLAIN_ROWS + GEO_ROWS)
    if unknown:
        ap.error("unknown servers: %s (known: %s)" % (
            " ".join(sorted(unknown)), " ".join(PLAIN_ROWS + GEO_ROWS)))
    if args.wrong and (args.wrong not in args.rows or args.wrong == "sextant-dpdk"):
        ap.error("--wrong %s: not one of this run's checked rows (%s)" % (
            args.wrong, " ".join(r for r in args.rows if r != "sextant-dpdk")))
    return args


def main():
    args = parse_args()
    mix = make_query_pcap.parse_mix(args.mix)
    work = Path(tempfile.mkdtemp(prefix="sxcompare."))
    zone_text = make_query_pcap.zone_text(ORIGIN, args.hosts)
    spread, knot_rules = geo_spread()
    ctx = Ctx(args, work, zone_text, knot_rules)
    ctx.instances = []
    questions = plain_questions(args.queries, args.hosts, mix, 20240101)
    files = {False: work / "plain.queries", True: work / "geo.queries"}
    write_binary_queries(files[False], (wire_query(n, t) for n, t in questions))
    write_binary_queries(files[True], (wire_query(GEO_NAME, "A", net) for net, _ in spread))
    zone = dns.zone.from_text(zone_text, origin=ORIGIN, relativize=False)
    checks = {False: lambda port: verify_plain(port, zone, questions, args.verify),
              True: lambda port: verify_geo(port, spread, args.verify)}
    log("work directory %s; %d plain queries, %d geo client networks" % (
        work, len(questions), len(spread)))
    header = machine_lines(args)
    results, failed = [], False
    try:
        for row in args.rows:
            log("%s ..." % row)
            try:
                r = measure_dpdk(ctx) if row == "sextant-dpdk" else \
                    measure_server(ctx, row, files, checks)
            except Exception as e:  # noqa: BLE001 (one row's failure, reported; the rest go on)
                log("%s: FAILED: %s" % (row, e))
                failed = True
                continue
            if "wrong" in r:
                failed = True
                log("%s: WRONG ANSWERS (%d):\n  %s" % (row, len(r["wrong"]),
                                                       "\n  ".join(r["wrong"][:10])))
            results.append(r)
    finally:
        for inst in ctx.instances:
            for f in Path("/dev/shm").glob(inst + ".*"):
                f.unlink(missing_ok=True)
        if args.keep:
            log("work directory kept: %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    text = table(results, header)
    print(text, end="")
    if args.out:
        Path(args.out).write_text(text)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
