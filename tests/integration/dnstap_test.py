#!/usr/bin/python3
"""dnstap query logging against real processes, read back with Debian's dnstap-ldns.

Publishes configs with `sextant-control --once` and runs `sextant-dataplane --listen` (kernel
sockets on 127.0.0.1) with a `dnstap:` section, then:

  file     sample: all to a file: every query sent with dig (UDP) and kdig (TCP) is in
           `dnstap-ldns -r FILE` as an AQ and an AR line with its name, type and protocol; the
           identity and version are in the YAML form (-y), and an unanswered query (QR=1) has
           its AQ without an AR
  socket   sample: all to a Unix socket that fstrm_capture (fstrm-bin) listens on: the capture
           holds the queries sent
  sample   sample: 10: of 500 queries (one UDP worker, so one countdown), exactly 50 are logged,
           and the lcore counter dnstap_sampled says 50 too
  drops    ring: 2, sample: all, queries sent in bursts of 64 without waiting: the full ring
           drops samples and counts them (dnstap_dropped > 0); sampled + dropped = queries, and
           the file holds exactly the sampled ones
  off      without a dnstap: section nothing is sampled (counters stay 0)
  dpdk     DPDK mode (af_packet on a veth into a namespace of 198.18.0.0/15, --no-huge): UDP
           over IPv4 and IPv6 sampled by the fast path with the frame's addresses and ports,
           TCP by the exception path's listener, all in one file

Usage: dnstap_test.py --sextant-control PATH --sextant-dataplane PATH --workdir DIR
Needs dnstap-ldns, fstrm-bin, dnsutils (dig), knot-dnsutils (kdig), python3-dnspython.
"""

import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from lab import (APPLIANCE_V4, APPLIANCE_V6, CLIENT_V4, CLIENT_V6, LAB_RRL_EXEMPT, Lab,  # noqa: E402
                 Results, answering, integration_args, publish_once, remove_shm, run,
                 start_listener,
                 stop_processes, wait_for)

import dns.flags  # noqa: E402
import dns.message  # noqa: E402
import dns.query  # noqa: E402

ZONE = """\
$ORIGIN tap.test.
$TTL 300
@       3600 IN SOA ns1 hostmaster 2024010101 7200 3600 1209600 300
@       3600 IN NS  ns1
ns1     IN A     198.18.0.1
www     IN A     198.18.0.80
www     IN AAAA  2001:db8:18::80
mail    IN MX    10 www
*.wild  IN TXT   "wildcard"
"""

# LcoreCounters (maps/control_block.h): 64-byte header, 65536 health words, then 128 slots of
# 320 bytes; dnstap_sampled and dnstap_dropped are u64 fields 30 and 31 of a slot.
LCORES_OFFSET = 64 + 4 * 65536
LCORE_SIZE = 320
DNSTAP_SAMPLED = 30 * 8
DNSTAP_DROPPED = 31 * 8

PROCS = []


def dnstap_counters(instance):
    """(sampled, dropped) summed over the instance's lcore slots."""
    data = Path(f"/dev/shm/{instance}.ctl").read_bytes()
    sampled = dropped = 0
    for i in range(128):
        base = LCORES_OFFSET + i * LCORE_SIZE
        sampled += struct.unpack_from("<Q", data, base + DNSTAP_SAMPLED)[0]
        dropped += struct.unpack_from("<Q", data, base + DNSTAP_DROPPED)[0]
    return sampled, dropped


def ask(port, name, rdtype, tcp=False, timeout=2.0):
    q = dns.message.make_query(name, rdtype)
    fn = dns.query.tcp if tcp else dns.query.udp
    return fn(q, "127.0.0.1", port=port, timeout=timeout)


class Instance:
    """One config published and one dataplane serving it."""

    def __init__(self, args, name, dnstap_yaml):
        self.args = args
        self.name = name
        self.dir = Path(args.workdir) / name
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir.mkdir(parents=True)
        (self.dir / "tap.test.zone").write_text(ZONE)
        self.instance = f"sx-dnstap-{name}"
        remove_shm([self.instance])
        cfg = self.cfg = self.dir / "sextant.yaml"
        cfg.write_text(f"instance: {self.instance}\n"
                       "zones: [{origin: tap.test., file: tap.test.zone}]\n"
                       f"control: {{socket: {self.dir}/ctl.sock, state_file: {self.dir}/state}}\n"
                       # Bursts of a thousand queries from 127.0.0.1, each expected back and
                       # logged: exempt loopback from rate limiting (on by default).
                       "rate_limit: {exempt: [127.0.0.0/8]}\n"
                       + dnstap_yaml)
        publish_once(args.sextant_control, str(cfg), str(self.dir))
        self.log = self.dir / "dataplane.out"
        self.port, self.proc = start_listener(args.sextant_dataplane, str(cfg), str(self.log),
                                              PROCS, answering(
                                                  lambda port: ask(port, "ns1.tap.test.", "A",
                                                                   timeout=0.3)))

    def republish(self, old, new):
        """Publishes the config with `old` replaced by `new`; waits until the dataplane serves
        the new generation."""
        self.cfg.write_text(self.cfg.read_text().replace(old, new))
        publish_once(self.args.sextant_control, str(self.cfg), str(self.dir))
        want = re.findall(r"generation (\d+)", (self.dir / "control.out").read_text())[-1]
        if not wait_for(lambda: f"-> {want}" in self.log.read_text()):
            raise RuntimeError(f"the dataplane did not switch to generation {want}")
        time.sleep(0.3)  # the switch is logged before the new snapshot is looked at

    def stop(self):
        """SIGTERM, so that the writer drains the rings and fstrm closes the output."""
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=20)
        PROCS.remove(self.proc)
        return self.proc.returncode

    def cleanup(self):
        remove_shm([self.instance])


def ldns_lines(path):
    """dnstap-ldns's one-line form: [(kind AQ/AR, protocol, qname, qtype)]."""
    r = run(["dnstap-ldns", "-r", str(path)], check=False)
    if r.returncode != 0:
        raise RuntimeError(f"dnstap-ldns -r {path}: {r.stderr}")
    out = []
    for line in r.stdout.splitlines():
        m = re.search(r'\s(AQ|AR)\s+\S+\s+(UDP|TCP)\s+\d+b\s+"([^"]+)"\s+IN\s+(\S+)', line)
        if m:
            out.append(m.groups())
    return out, r.stdout


def test_file(args, res):
    inst = Instance(args, "file", "dnstap: {file: queries.dnstap, sample: all, "
                                  "identity: ns-test-1, version: sextant-dnstap-test}\n")
    path = inst.dir / "queries.dnstap"
    sent = [("www.tap.test.", "A", "UDP"), ("www.tap.test.", "AAAA", "UDP"),
            ("mail.tap.test.", "MX", "UDP"), ("nothere.tap.test.", "A", "UDP"),
            ("x.wild.tap.test.", "TXT", "TCP"), ("www.tap.test.", "AAAA", "TCP")]
    for name, qtype, proto in sent:
        tool = ["dig", "+time=2", "+tries=1"] if proto == "UDP" else ["kdig", "+tcp", "+time=2"]
        r = run(tool + [f"@127.0.0.1", "-p", str(inst.port), name, qtype], check=False)
        res.check(f"file: {name} {qtype} over {proto} answered", r.returncode == 0,
                  r.stdout + r.stderr)
    # A response sent to us (QR=1): the engine drops it, so dnstap has the query and no response.
    q = dns.message.make_query("stray.tap.test.", "A")
    q.flags |= dns.flags.QR
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(q.to_wire(), ("127.0.0.1", inst.port))
    ask(inst.port, "ns1.tap.test.", "NS")  # answered after the stray one: it was processed
    rc = inst.stop()
    res.check("file: dataplane stopped cleanly", rc == 0, f"exit {rc}")
    lines, text = ldns_lines(path)
    for name, qtype, proto in sent:
        for kind in ("AQ", "AR"):
            res.check(f"file: {kind} {name} {qtype} {proto} in dnstap-ldns -r",
                      (kind, proto, name, qtype) in lines, text[-2000:])
    res.check("file: the dropped QR=1 message logged as a query only",
              ("AQ", "UDP", "stray.tap.test.", "A") in lines and
              ("AR", "UDP", "stray.tap.test.", "A") not in lines, text[-2000:])
    y = run(["dnstap-ldns", "-r", str(path), "-y"], check=False).stdout
    res.check("file: identity and version in every message",
              y.count('identity: "ns-test-1"') == len(lines) and
              y.count('version: "sextant-dnstap-test"') == len(lines),
              f"{len(lines)} messages; {y[:1500]}")
    res.check("file: AUTH_QUERY and AUTH_RESPONSE types", "type: AUTH_QUERY" in y and
              "type: AUTH_RESPONSE" in y and 'query_address: "127.0.0.1"' in y, y[:1500])
    res.check("file: the response port is the listener's", f"response_port: {inst.port}" in y,
              y[:1500])
    inst.cleanup()


def test_socket(args, res):
    if shutil.which("fstrm_capture") is None:
        res.check("socket: fstrm_capture installed (fstrm-bin)", False, "not on PATH")
        return
    base = Path(args.workdir) / "capture"  # not the instance's directory, which Instance clears
    shutil.rmtree(base, ignore_errors=True)
    base.mkdir(parents=True)
    sock = base / "tap.sock"
    capture = base / "capture.fstrm"
    cap_log = open(base / "fstrm_capture.out", "w")
    cap = subprocess.Popen(["fstrm_capture", "-t", "protobuf:dnstap.Dnstap", "-u", str(sock),
                            "-w", str(capture)], stdout=cap_log, stderr=subprocess.STDOUT)
    PROCS.append(cap)
    wait_for(sock.exists)
    inst = Instance(args, "socket", f"dnstap: {{socket: {sock}, sample: all}}\n")
    names = [f"q{i}.wild.tap.test." for i in range(20)]
    # The writer connects to the socket within its reopen interval (1 s): ask until a query shows
    # up in the capture's count of frames, then send the ones the test looks for.
    for name in names:
        ask(inst.port, name, "TXT")
    time.sleep(1.5)
    for name in names:
        ask(inst.port, "again." + name, "TXT")
    rc = inst.stop()
    cap.send_signal(signal.SIGINT)  # fstrm_capture closes its file on SIGINT
    cap.wait(timeout=10)
    PROCS.remove(cap)
    res.check("socket: dataplane stopped cleanly", rc == 0, f"exit {rc}")
    lines, text = ldns_lines(capture)
    missing = [n for n in names if ("AQ", "UDP", "again." + n, "TXT") not in lines or
               ("AR", "UDP", "again." + n, "TXT") not in lines]
    res.check("socket: fstrm_capture received the queries and responses sent after connecting",
              not missing, f"missing {missing[:5]}; {text[-1500:]}")
    inst.cleanup()


def test_sample(args, res):
    inst = Instance(args, "sample", "dnstap: {file: queries.dnstap, sample: 10}\n")
    before = dnstap_counters(inst.instance)
    for i in range(500):
        ask(inst.port, f"s{i}.wild.tap.test.", "TXT")
    after = dnstap_counters(inst.instance)
    # A reload keeps what the dataplane started with, and says so when the section changed.
    inst.republish("sample: 10}", "sample: 10}  # same")
    res.check("sample: a reload with the same dnstap: section warns of nothing",
              "changes the dnstap: section" not in inst.log.read_text(), inst.log.read_text())
    inst.republish("sample: 10}", "sample: 20}")
    res.check("sample: a reload that changes dnstap: says it applies at the next start",
              "changes the dnstap: section" in inst.log.read_text(), inst.log.read_text())
    rc = inst.stop()
    lines, text = ldns_lines(inst.dir / "queries.dnstap")
    logged = {q for kind, _, q, _ in lines if kind == "AQ" and q.startswith("s")}
    res.check("sample: 10: 50 of 500 queries logged", len(logged) == 50,
              f"{len(logged)} logged")
    res.check("sample: 10: dnstap_sampled counted 50, none dropped",
              (after[0] - before[0], after[1] - before[1]) == (50, 0), f"{before} -> {after}")
    res.check("sample: every logged query has its response",
              all(("AR", "UDP", q, "TXT") in lines for q in logged), text[-1000:])
    res.check("sample: dataplane stopped cleanly", rc == 0, f"exit {rc}")
    inst.cleanup()


def test_drops(args, res):
    inst = Instance(args, "drops", "dnstap: {file: queries.dnstap, sample: all, ring: 2}\n")
    before = dnstap_counters(inst.instance)
    total = 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(2.0)
        for burst in range(20):
            wires = [dns.message.make_query(f"d{burst}-{i}.wild.tap.test.", "TXT").to_wire()
                     for i in range(64)]
            for w in wires:
                s.sendto(w, ("127.0.0.1", inst.port))
            got = 0
            try:
                while got < len(wires):
                    s.recvfrom(4096)
                    got += 1
            except socket.timeout:
                pass
            total += len(wires)
    after = dnstap_counters(inst.instance)
    sampled, dropped = after[0] - before[0], after[1] - before[1]
    rc = inst.stop()
    lines, _ = ldns_lines(inst.dir / "queries.dnstap")
    logged = [q for kind, _, q, _ in lines if kind == "AQ" and q.startswith("d")]
    res.check("drops: a ring of 2 overflows and counts dnstap_dropped", dropped > 0,
              f"sampled {sampled} dropped {dropped}")
    res.check("drops: sampled + dropped = queries sent", sampled + dropped == total,
              f"{sampled} + {dropped} != {total}")
    res.check("drops: the file holds exactly the sampled queries", len(logged) == sampled,
              f"{len(logged)} in the file, {sampled} sampled")
    res.check("drops: dataplane stopped cleanly", rc == 0, f"exit {rc}")
    inst.cleanup()


def test_off(args, res):
    inst = Instance(args, "off", "")
    for i in range(50):
        ask(inst.port, f"o{i}.wild.tap.test.", "TXT")
    sampled, dropped = dnstap_counters(inst.instance)
    rc = inst.stop()
    log = inst.log.read_text()
    res.check("off: nothing sampled without a dnstap: section", (sampled, dropped) == (0, 0),
              f"{sampled}, {dropped}")
    res.check("off: no dnstap line in the log", ": dnstap:" not in log, log[-800:])
    res.check("off: dataplane stopped cleanly", rc == 0, f"exit {rc}")
    inst.cleanup()


def test_dpdk(args, res):
    """The DPDK fast path (af_packet on a veth, --no-huge) samples UDP; the exception path's
    kernel listener samples TCP; both into the same file."""
    workdir = Path(args.workdir) / "dpdk"
    shutil.rmtree(workdir, ignore_errors=True)
    path = workdir / "queries.dnstap"
    with Lab(args.sextant_control, args.sextant_dataplane, workdir, tag=f"t{os.getpid() % 10000}") \
            as lab:
        lab.write_config([("tap.test.", ZONE)],
                         extra=f"dnstap: {{file: {path}, sample: all, identity: dpdk-lab}}\n"
                         + LAB_RRL_EXEMPT)
        lab.publish()
        lab.start()
        sent = [("www.tap.test.", "A"), ("www.tap.test.", "AAAA"), ("mail.tap.test.", "MX")]
        for name, qtype in sent:
            out = lab.dig(name, qtype)
            res.check(f"dpdk: {name} {qtype} answered over UDP", "status: NOERROR" in out, out)
        out = lab.ns_run(["kdig", f"@{APPLIANCE_V4}", "+tcp", "+time=3", "x.wild.tap.test.",
                          "TXT"]).stdout
        res.check("dpdk: TCP answered through the exception path", "NOERROR" in out, out)
        six = lab.dig("www.tap.test.", "A", server=APPLIANCE_V6)
        res.check("dpdk: IPv6 answered", "status: NOERROR" in six, six)
        rc = lab.stop()
        res.check("dpdk: dataplane stopped cleanly", rc == 0, f"exit {rc}")
        log = lab.log_path.read_text()
    lines, text = ldns_lines(path)
    for name, qtype in sent:
        for kind in ("AQ", "AR"):
            res.check(f"dpdk: {kind} {name} {qtype} UDP from the fast path",
                      (kind, "UDP", name, qtype) in lines, text[-1500:] + log[-1500:])
    res.check("dpdk: TCP query and response from the exception listener",
              ("AQ", "TCP", "x.wild.tap.test.", "TXT") in lines and
              ("AR", "TCP", "x.wild.tap.test.", "TXT") in lines, text[-1500:])
    y = run(["dnstap-ldns", "-r", str(path), "-y"], check=False).stdout
    res.check("dpdk: client and server addresses and ports from the frame",
              f'query_address: "{CLIENT_V4}"' in y and f'response_address: "{APPLIANCE_V4}"' in y
              and "response_port: 53" in y and f'query_address: "{CLIENT_V6}"' in y, y[:2000])


def main():
    args = integration_args()
    os.makedirs(args.workdir, exist_ok=True)
    for tool in ("dnstap-ldns", "dig", "kdig"):
        if shutil.which(tool) is None:
            print(f"FAIL {tool} is not installed (scripts/install-deps.sh)")
            return 1
    res = Results()
    try:
        for test in (test_file, test_socket, test_sample, test_drops, test_off, test_dpdk):
            test(args, res)
    finally:
        stop_processes(PROCS)
    print(f"{res.passed} passed, {res.failed} failed")
    return 0 if res.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
