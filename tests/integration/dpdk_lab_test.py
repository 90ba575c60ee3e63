#!/usr/bin/python3
"""The DPDK dataplane on the one-machine lab: a veth pair (net_af_packet) and then a net_tap
port, a client in a network namespace, real clients (dig, kdig, ping, dnsperf).

Checks, for net_af_packet: UDP over IPv4 and IPv6 with ARP and ND answered by the appliance (the
client's neighbour table starts empty), TCP through the exception path, ping and ping6, a
VLAN-tagged query, a bounded dnsperf run with no loss, and 50 snapshot switches under load with
no loss and no answer mixing two generations, and that the sysctls the dataplane changed on the
af_packet interface are back once it stops; the port's statistics (link, packets, per queue)
through sextant-exporter and Sextant's counters through DPDK telemetry (/sextant/stats,
/sextant/lcores on the telemetry socket); for net_tap: UDP, TCP, ping and a short dnsperf.
Prints 'N passed, M failed'."""
import argparse
import json
import os
import struct
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "lib"))
import dns.message  # noqa: E402
import dns.query  # noqa: E402
import dns.rdatatype  # noqa: E402
from lab import (APPLIANCE_V4, APPLIANCE_V6, LAB_IDLE_SLEEP_US, LAB_RRL_EXEMPT, Lab,  # noqa: E402
                 Results, remove_shm, run)

HERE = Path(__file__).resolve().parent


def zone_text(version: int) -> str:
    hi, lo = version >> 8, version & 0xFF
    return f"""$ORIGIN example.test.
$TTL 300
@ 3600 IN SOA ns1 hostmaster {version} 7200 3600 1209600 300
@ IN NS ns1
ns1 IN A 198.18.0.2
www IN A 198.18.1.10
www IN A 198.18.1.11
www IN AAAA 2001:db8:18:1::10
api IN CNAME www
ver IN A 198.18.{hi}.{lo}
ver IN A 198.19.{hi}.{lo}
ver IN A 198.20.{hi}.{lo}
ver IN TXT "v{version}"
"""


def answers(dig_out, rtype):
    # Record lines only ("owner TTL IN TYPE rdata"), not the ";question" line.
    return sorted(re.findall(rf"^[^;\s]\S*\s+\d+\s+IN\s+{rtype}\s+(\S+)", dig_out, re.M))


def basic_checks(lab: Lab, res: Results, pmd: str):
    out = lab.dig("www.example.test", "A")
    res.check(f"{pmd}: UDP/IPv4 A", answers(out, "A") == ["198.18.1.10", "198.18.1.11"]
              and "status: NOERROR" in out and " aa" in out, out)
    neigh = lab.ns_run(["ip", "neigh", "show", APPLIANCE_V4]).stdout
    res.check(f"{pmd}: ARP resolved by the appliance", "lladdr" in neigh and "PERMANENT" not in neigh,
              neigh)
    out = lab.dig("www.example.test", "AAAA", server=APPLIANCE_V6)
    res.check(f"{pmd}: UDP/IPv6 AAAA (ND answered)", answers(out, "AAAA") == ["2001:db8:18:1::10"], out)
    out = lab.ns_run(["kdig", f"@{APPLIANCE_V4}", "api.example.test", "A", "+timeout=2"]).stdout
    res.check(f"{pmd}: kdig CNAME chain", "CNAME" in out and "198.18.1.10" in out, out)
    out = lab.dig("+tcp", "api.example.test", "A")
    res.check(f"{pmd}: TCP/IPv4 via exception path", "198.18.1.11" in out and "(TCP)" in out, out)
    out = lab.dig("+tcp", "www.example.test", "AAAA", server=APPLIANCE_V6)
    res.check(f"{pmd}: TCP/IPv6 via exception path", "2001:db8:18:1::10" in out, out)
    out = lab.dig("nothere.example.test", "A")
    res.check(f"{pmd}: NXDOMAIN", "status: NXDOMAIN" in out and "SOA" in out, out)
    out = lab.dig("www.example.com", "A")
    res.check(f"{pmd}: REFUSED out of zone", "status: REFUSED" in out, out)
    r = lab.ns_run(["ping", "-c", "3", "-i", "0.2", "-W", "1", APPLIANCE_V4])
    res.check(f"{pmd}: ping", " 0% packet loss" in r.stdout and "duplicates" not in r.stdout,
              r.stdout)
    r = lab.ns_run(["ping", "-6", "-c", "3", "-i", "0.2", "-W", "1", APPLIANCE_V6])
    res.check(f"{pmd}: ping6", " 0% packet loss" in r.stdout and "duplicates" not in r.stdout,
              r.stdout)


def dnsperf(lab: Lab, seconds: int, qps: int, server=APPLIANCE_V4, clients=4):
    qfile = lab.workdir / "queries.txt"
    qfile.write_text("www.example.test A\nwww.example.test AAAA\napi.example.test A\n"
                     "nothere.example.test A\nver.example.test A\n")
    r = lab.ns_run(["dnsperf", "-s", server, "-d", str(qfile), "-l", str(seconds), "-Q", str(qps),
                    "-c", str(clients), "-t", "2"], timeout=seconds + 30)
    out = r.stdout
    sent = re.search(r"Queries sent:\s+(\d+)", out)
    completed = re.search(r"Queries completed:\s+(\d+)", out)
    lost = re.search(r"Queries lost:\s+(\d+)", out)
    return (int(sent.group(1)) if sent else -1, int(completed.group(1)) if completed else -1,
            int(lost.group(1)) if lost else -1, out)


def vlan_check(lab: Lab, res: Results):
    mac = lab.appliance_mac()
    r = lab.ns_run(["/usr/bin/python3", str(HERE / "lib" / "vlan_probe.py"), lab.client_ifname,
                    mac or "ff:ff:ff:ff:ff:ff", "198.18.5.1", "198.18.5.2", "5",
                    "www.example.test"])
    res.check("af_packet: VLAN 5 tagged query answered on VLAN 5",
              r.returncode == 0 and "a=198.18.1.10,198.18.1.11" in r.stdout,
              r.stdout + r.stderr)


class Consistency(threading.Thread):
    """Queries ver.example.test A+TXT in a loop from the namespace's address; every answer must
    carry one generation in all its records, and generations never go backwards."""

    def __init__(self, lab: Lab):
        super().__init__(daemon=True)
        self.lab = lab
        self.stop = threading.Event()
        self.answers = 0
        self.mixed = 0
        self.backwards = 0
        self.timeouts = 0
        self.last = 0
        self.errors = []

    def run(self):
        # The socket must live in the namespace: run a tiny client there.
        code = r"""
import sys, time, dns.message, dns.query, dns.rdatatype
end = time.time() + float(sys.argv[1])
while time.time() < end:
    q = dns.message.make_query("ver.example.test", "A")
    try:
        r = dns.query.udp(q, "198.18.0.2", timeout=1.0)
    except Exception:
        print("timeout", flush=True); continue
    gens = set()
    for rrset in r.answer:
        for rd in rrset:
            o = rd.address.split(".")
            gens.add(int(o[2]) * 256 + int(o[3]))
    n = sum(len(x) for x in r.answer)
    print(f"{n} {' '.join(map(str, sorted(gens)))}", flush=True)
"""
        p = subprocess.Popen(["ip", "netns", "exec", self.lab.ns, "/usr/bin/python3", "-c", code,
                              "600"], stdout=subprocess.PIPE, text=True)
        self.proc = p
        for line in p.stdout:
            if self.stop.is_set():
                break
            if line.startswith("timeout"):
                self.timeouts += 1
                continue
            parts = line.split()
            self.answers += 1
            n, gens = int(parts[0]), [int(x) for x in parts[1:]]
            if n != 3 or len(gens) != 1:
                self.mixed += 1
                self.errors.append(line.strip())
                continue
            if gens[0] < self.last:
                self.backwards += 1
            self.last = gens[0]
        p.kill()


class QuietSysctls:
    """The settings the dataplane changes on an af_packet interface so the kernel stays quiet on
    it (dataplane/dpdk/dpdk_dataplane.cc QuietKernelInterface): staged to values unlike both the
    defaults and the dataplane's, seen changed while it serves, and back once it has stopped."""

    # key under /proc/sys/net, staged value, the dataplane's value
    ROWS = [("ipv4/conf/{}/arp_ignore", "2", "8"),
            ("ipv4/conf/{}/rp_filter", "2", "1"),
            ("ipv6/conf/{}/disable_ipv6", "0", "1")]

    def __init__(self, ifname: str):
        self.paths = [(Path("/proc/sys/net") / key.format(ifname), staged, during)
                      for key, staged, during in self.ROWS]

    def values(self):
        return {p.name: p.read_text().strip() for p, _, _ in self.paths}

    def stage(self):
        for p, staged, _ in self.paths:
            p.write_text(staged)

    def check_during(self, res: Results):
        want = {p.name: during for p, _, during in self.paths}
        res.check("af_packet: the kernel is quieted on the data interface while serving",
                  self.values() == want, f"{self.values()} != {want}")

    def check_restored(self, res: Results, log: str):
        want = {p.name: staged for p, staged, _ in self.paths}
        res.check("af_packet: its sysctls are back to what they were once the dataplane stopped",
                  self.values() == want and "restoring sysctls" not in log,
                  f"{self.values()} != {want}; {log[-300:]}")


def telemetry(lab: Lab, cmd: str):
    """One command on the dataplane's DPDK telemetry socket (SOCK_SEQPACKET, JSON replies)."""
    path = f"/var/run/dpdk/{lab.file_prefix}/dpdk_telemetry.v2"
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as s:
        s.settimeout(5)
        s.connect(path)
        s.recv(16384)  # the greeting: version, pid, max_output_len
        s.send(cmd.encode())
        return json.loads(s.recv(1 << 16).decode())


def nic_metrics_and_telemetry(lab: Lab, res: Results, sent: int):
    """After the dnsperf run: the port's statistics through sextant-exporter, and Sextant's
    counters through DPDK telemetry beside the ethdev ones."""
    lab.start_exporter()
    time.sleep(1.5)  # the main lcore copies the statistics about once a second
    m = lab.exporter_metrics()
    port = 'port="net_af_packet0"'
    rx = m.get(f"sextant_nic_received_packets_total{{{port}}}", 0)
    res.check("af_packet: exporter: NIC link up, received >= dnsperf's queries, its drop counters "
              "exported",
              m.get(f"sextant_nic_link_up{{{port}}}") == 1 and rx >= sent and
              m.get(f"sextant_nic_transmitted_packets_total{{{port}}}", 0) >= sent and
              f"sextant_nic_missed_packets_total{{{port}}}" in m and
              f"sextant_nic_rx_mbuf_allocation_failures_total{{{port}}}" in m and
              m.get(f'sextant_nic_queue_received_packets_total{{{port},queue="0"}}', 0) >= sent,
              json.dumps({k: v for k, v in m.items() if "nic" in k}))
    listed = telemetry(lab, "/")
    stats = telemetry(lab, "/sextant/stats").get("/sextant/stats", {})
    lcores = telemetry(lab, "/sextant/lcores").get("/sextant/lcores", {})
    res.check("af_packet: DPDK telemetry lists /sextant/stats and /sextant/lcores beside /ethdev",
              {"/sextant/stats", "/sextant/lcores", "/ethdev/stats"} <= set(listed.get("/", [])),
              json.dumps(listed))
    res.check("af_packet: telemetry /sextant/stats and /sextant/lcores agree with the exporter",
              stats.get("queries", 0) >= sent and stats.get("noerror", 0) > 0 and
              stats.get("generation") == m.get("sextant_snapshot_generation") and
              stats.get("dataplanes_attached") == 1 and
              sum(v.get("queries", 0) for v in lcores.values()) == stats.get("queries"),
              json.dumps({"stats": stats, "lcores": lcores}))


def switch_under_load(lab: Lab, res: Results):
    checker = Consistency(lab)
    checker.start()
    result = {}

    def load():
        result["perf"] = dnsperf(lab, 12, 3000)

    t = threading.Thread(target=load)
    t.start()
    time.sleep(1.0)
    for v in range(2, 52):
        (lab.workdir / "example.test.zone").write_text(zone_text(v))
        lab.publish()
        time.sleep(0.15)
    t.join()
    time.sleep(0.5)
    checker.stop.set()
    checker.proc.kill()
    checker.join(timeout=5)
    sent, completed, lost, out = result["perf"]
    res.check("af_packet: dnsperf during 50 snapshot switches: no query lost",
              sent > 0 and lost == 0 and completed == sent, out[-600:])
    res.check("af_packet: no answer mixes two snapshots",
              checker.answers > 50 and checker.mixed == 0 and checker.backwards == 0
              and checker.timeouts == 0,
              f"answers={checker.answers} mixed={checker.mixed} backwards={checker.backwards} "
              f"timeouts={checker.timeouts} {checker.errors[:3]}")
    out = lab.dig("ver.example.test", "TXT")
    res.check("af_packet: final answers are the newest zone", '"v51"' in out, out)


def rate_limited(lab: Lab, res: Results):
    """Rate limiting on the DPDK path: the client's prefix no longer exempt and 100 responses/s
    per class, a reload (no restart), and dnsperf at 3000 queries/s: most is limited, every
    second limited response slips out truncated (dnsperf counts those as completed), and the
    exporter counts both."""
    def counted():
        m = lab.exporter_metrics()
        return (sum(v for k, v in m.items() if k.startswith("sextant_rrl_limited_total{")),
                sum(v for k, v in m.items() if k.startswith("sextant_rrl_slipped_total{")))
    before = counted()
    lab.write_config([("example.test.", zone_text(51))], server='  nsid: "lab"\n',
                     extra="rate_limit: {responses_per_second: {answers: 100, nxdomain: 100, "
                           "nodata: 100, errors: 100}, window: 1, slip: 2}\n")
    lab.publish()
    time.sleep(0.5)
    # Room for every query in flight (-q): a dropped one holds its slot for the 1 s timeout.
    r = lab.ns_run(["dnsperf", "-s", APPLIANCE_V4, "-d", str(lab.workdir / "queries.txt"),
                    "-l", "3", "-Q", "3000", "-q", "20000", "-t", "1"], timeout=40)
    sent, lost = (int(m.group(1)) if m else -1 for m in
                  (re.search(rf"Queries {w}:\s+(\d+)", r.stdout) for w in ("sent", "lost")))
    time.sleep(0.5)
    limited, slipped = (a - b for a, b in zip(counted(), before))
    # Five names in three classes at 100/s each for 3 s plus a 1 s burst: at most ~1200 pass.
    # Each dropped response is a query dnsperf lost; each slipped one came back (truncated).
    res.check("af_packet: rate limiting on the DPDK path: the flood is limited and counted",
              sent > 6000 and limited > sent - 1500 and abs(slipped - limited / 2) < 0.1 * limited
              and abs(lost - (limited - slipped)) <= 0.01 * sent,
              f"sent={sent} lost={lost} limited={limited} slipped={slipped} "
              f"{r.stdout[-400:]}")
    lab.write_config([("example.test.", zone_text(51))], server='  nsid: "lab"\n',
                     extra=LAB_RRL_EXEMPT)
    lab.publish()


def corrupt_snapshot_refused(lab: Lab, res: Results):
    """A corrupt snapshot published under a new generation is refused; answers continue."""
    ctl = Path(f"/dev/shm/{lab.instance}.ctl")
    with open(ctl, "r+b") as f:
        f.seek(16)  # ControlBlockHeader.active_generation (maps/control_block.h)
        gen = struct.unpack("<Q", f.read(8))[0]
        bad = Path(f"/dev/shm/{lab.instance}.snap.{gen + 1}")
        bad.write_bytes(b"SXTSNAP1" + bytes(200))
        f.seek(16)
        f.write(struct.pack("<Q", gen + 1))
    time.sleep(0.5)
    out = lab.dig("www.example.test", "A")
    log = lab.log_path.read_text()
    res.check("af_packet: corrupt snapshot refused, last good one keeps serving",
              "refusing snapshot generation" in log and "198.18.1.10" in out, log[-300:] + out)
    with open(ctl, "r+b") as f:  # put the good generation back for the rest of the run
        f.seek(16)
        f.write(struct.pack("<Q", gen))
    bad.unlink()


def start_refusals(args, res: Results):
    """The DPDK mode refuses, each with one clear line: an instance nothing was published for, a
    config file (it reads shared memory only), and a published config without a dataplane:
    section."""
    eal = [args.sextant_dataplane, "-l", "0", "--no-huge", "-m", "256", "--no-pci",
           "--vdev=net_null0", "--file-prefix=sxnosnap", "--"]
    r = run(eal + ["--instance", f"sxnosnap{os.getpid()}"], check=False, timeout=60)
    res.check("no snapshot and no --wait: clear refusal",
              r.returncode == 1 and "no snapshot published" in r.stderr, r.stderr[-300:])
    r = run(eal + ["--config", "/etc/sextant/sextant.yaml"], check=False, timeout=60)
    res.check("--config: refused, pointing at --instance",
              r.returncode == 1 and "--instance NAME" in r.stderr, r.stderr[-300:])
    workdir = Path(args.workdir)
    inst = f"sxnodp{os.getpid()}"
    (workdir / "x.zone").write_text(
        "$ORIGIN x.test.\n$TTL 60\n@ SOA ns hm 1 7200 3600 1209600 60\n@ NS ns\nns A 198.18.0.9\n")
    cfg = workdir / "nodp.yaml"
    cfg.write_text(f"instance: {inst}\nzones: [{{origin: x.test., file: x.zone}}]\n")
    try:
        run([args.sextant_control, "--once", "--config", str(cfg)])
        r = run(eal + ["--instance", inst], check=False, timeout=60)
        res.check("published config without dataplane: section: clear refusal",
                  r.returncode == 1 and "no dataplane: section" in r.stderr
                  and inst in r.stderr, r.stderr[-300:])
    finally:
        remove_shm([inst])


def run_pmd(args, pmd: str, res: Results):
    workdir = Path(args.workdir) / pmd
    with Lab(args.sextant_control, args.sextant_dataplane, workdir, pmd=pmd,
             extra_addresses=['{address: 198.18.5.2, vlan: 5}']) as lab:
        lab.write_config([("example.test.", zone_text(1))],
                         server='  nsid: "lab"\n', extra=LAB_RRL_EXEMPT)
        lab.publish()
        quiet = None
        if pmd == "af_packet":
            # The wire first, so the data interface's settings can be staged before the start.
            lab.make_wire()
            quiet = QuietSysctls(lab.host_if)
            quiet.stage()
        # No PATH: nothing could run ip(8) or sysctl(8) even if the dataplane tried.
        lab.start(make_wire=pmd != "af_packet", env={**os.environ, "PATH": "/nonexistent"})
        if quiet:
            quiet.check_during(res)
        # No static neighbour entries: the client must resolve the appliance by ARP/ND.
        lab.ns_run(["ip", "neigh", "flush", "all"])
        basic_checks(lab, res, pmd)
        if pmd == "af_packet":
            idle_cpu(lab, res, "af_packet", sleeping=True)
            corrupt_snapshot_refused(lab, res)
            vlan_check(lab, res)
            sent, completed, lost, out = dnsperf(lab, 10, 5000)
            res.check("af_packet: dnsperf 10 s at 5k qps, zero loss",
                      sent > 40000 and lost == 0 and completed == sent, out[-600:])
            nic_metrics_and_telemetry(lab, res, sent)
            r = lab.ns_run(["dnsperf", "-s", APPLIANCE_V6, "-d", str(lab.workdir / "queries.txt"),
                            "-l", "3", "-Q", "2000"], timeout=40)
            res.check("af_packet: dnsperf over IPv6, zero loss",
                      "Queries lost:         0 " in r.stdout or
                      re.search(r"Queries lost:\s+0\s", r.stdout) is not None, r.stdout[-400:])
            switch_under_load(lab, res)
            rate_limited(lab, res)
        else:
            sent, completed, lost, out = dnsperf(lab, 5, 3000)
            res.check("tap: dnsperf 5 s, zero loss", sent > 10000 and lost == 0, out[-600:])
        rc = lab.stop()
        log = lab.log_path.read_text()
        res.check(f"{pmd}: clean shutdown on SIGTERM", rc == 0 and "stopped:" in log,
                  f"rc={rc} {log[-400:]}")
        if quiet:
            quiet.check_restored(res, log)
        # It ran with no PATH to find ip(8) or sysctl(8) in, and the TCP checks above went
        # through the tap's kernel side: that side was set up without them. The one complaint
        # allowed is the VLAN a kernel without 802.1Q cannot have.
        complaints = [line for line in log.splitlines()
                      if "sextant-dataplane: " in line
                      and re.search(r"warning|netlink|cannot|failed", line)
                      and "no VLAN 5 on the exception path" not in line]
        res.check(f"{pmd}: exception path set up without a shell, no error logged",
                  not complaints, "\n".join(complaints))


def cpu_ticks():
    """(all, stolen) jiffies of the machine so far (/proc/stat's cpu line)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(fields[:8]), fields[7]


def idle_cpu(lab: Lab, res: Results, tag: str, sleeping: bool):
    """With no traffic, a dataplane started with --idle-sleep-us (the lab's default) leaves its
    cores alone, and says so in its serving line; one without (busy-poll, the production
    default) keeps a core spinning. A busy worker gets only what the hypervisor does not steal
    (CI hosts lose half their CPU at times), so its share is judged against that."""
    time.sleep(0.5)  # past the last query's spin
    before, t0, (all0, stolen0) = lab.cpu_seconds(), time.monotonic(), cpu_ticks()
    time.sleep(2.0)
    share = (lab.cpu_seconds() - before) / (time.monotonic() - t0)
    all1, stolen1 = cpu_ticks()
    available = 1 - (stolen1 - stolen0) / max(1, all1 - all0)
    log = lab.log_path.read_text()
    said = f"idle sleep {LAB_IDLE_SLEEP_US} us" in log
    print(f"     {tag}: idle for 2 s, the dataplane used {share:.3f} of a core "
          f"({available:.0%} of the machine's CPU time was not stolen)")
    if sleeping:
        res.check(f"{tag}: idle with --idle-sleep-us {LAB_IDLE_SLEEP_US}: under 30% of a core "
                  "(ThreadSanitizer builds included) and logged", share < 0.3 and said,
                  f"{share:.2f} of a core, logged: {said}")
    else:
        res.check(f"{tag}: idle without --idle-sleep-us: a worker core busy-polls",
                  share / max(available, 0.05) > 0.6 and not said,
                  f"{share:.2f} of a core, {available:.0%} not stolen, logged: {said}")


def multi_queue(args, res: Results):
    """Two worker lcores on two RX/TX queue pairs (af_packet fanout hashing plays RSS) share the
    load; the two lcores share the second core, which is enough to show the split. This run
    uses hugepages (the others run with --no-huge)."""
    workdir = Path(args.workdir) / "multiqueue"
    with Lab(args.sextant_control, args.sextant_dataplane, workdir, pmd="af_packet",
             tag=f"mq{os.getpid() % 10000}") as lab:
        lab.write_config([("example.test.", zone_text(1))], extra=LAB_RRL_EXEMPT)
        lab.publish()
        lab.start(lcores=("--lcores", "0@0,1@1,2@1"), vdev_args=",qpairs=2", hugepages=True,
                  idle_sleep_us=0)
        log = lab.log_path.read_text()
        res.check("multiqueue: 2 worker lcores on 2 queues", "2 worker lcores, 2 queues" in log,
                  log[-300:])
        idle_cpu(lab, res, "multiqueue", sleeping=False)
        # 16 client sockets: 16 flows for the fanout hash to spread (all on one queue: 2^-15).
        sent, completed, lost, out = dnsperf(lab, 4, 4000, clients=16)
        per_lcore = [q for (_, _, q) in lab.lcore_counters()]
        res.check("multiqueue: both lcores answer, zero loss",
                  lost == 0 and sent > 10000 and per_lcore[1] > 1000 and per_lcore[2] > 1000,
                  f"sent={sent} lost={lost} queries per lcore={per_lcore[:4]}")
        lab.start_exporter()
        time.sleep(1.5)
        m = lab.exporter_metrics()
        q = [m.get(f'sextant_nic_queue_received_packets_total{{port="net_af_packet0",queue="{i}"}}',
                   0) for i in (0, 1)]
        res.check("multiqueue: the exporter shows both RX queues' packets",
                  q[0] > 1000 and q[1] > 1000,
                  json.dumps({k: v for k, v in m.items() if "queue" in k}))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sextant-control", required=True)
    ap.add_argument("--sextant-dataplane", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--pmd", default="all", choices=["all", "af_packet", "tap"])
    args = ap.parse_args()
    res = Results()
    Path(args.workdir).mkdir(parents=True, exist_ok=True)
    start_refusals(args, res)
    for pmd in (["af_packet", "tap"] if args.pmd == "all" else [args.pmd]):
        try:
            run_pmd(args, pmd, res)
        except Exception as e:  # a setup failure is a failure, never a skip
            res.check(f"{pmd}: lab setup", False, repr(e))
    if args.pmd == "all":
        try:
            multi_queue(args, res)
        except Exception as e:
            res.check("multiqueue: lab setup", False, repr(e))
    print(f"{res.passed} passed, {res.failed} failed")
    return 0 if res.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
