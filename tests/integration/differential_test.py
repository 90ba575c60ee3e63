#!/usr/bin/python3
"""Differential test: Sextant vs Knot DNS on the same zones.

Starts knotd and Sextant (sextant-control + sextant-dataplane) on 127.0.0.1,
both serving tests/integration/data/{diff.test,other.test}.zone, sends the
same wire bytes to both and compares the answers field by field.

Usage:
  differential_test.py --sextant-control PATH --sextant-dataplane PATH --workdir DIR
  differential_test.py --self-test --workdir DIR     # Knot vs Knot (harness check)

Options: --knotd PATH (default: knotd on PATH or /usr/sbin/knotd),
         --only REGEX (run the cases whose name matches),
         --dump (print every answer, not only mismatches), --list (list cases).

Only python3 + python3-dnspython (Debian) are needed. Run with /usr/bin/python3
if another python3 without dnspython comes first on PATH.

Prints "N passed, M failed" and exits 0 when M == 0, 1 otherwise
(2 when the servers could not be started).
"""

import argparse
import atexit
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

try:
    import dns.edns
    import dns.flags
    import dns.message
    import dns.name
    import dns.opcode
    import dns.rcode
    import dns.rdata
    import dns.rdataclass
    import dns.rdatatype
except ImportError:  # pragma: no cover
    sys.stderr.write("differential_test.py needs dnspython (Debian: python3-dnspython); "
                     "try running it with /usr/bin/python3\n")
    sys.exit(2)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from lab import free_port, publish_once, remove_shm, start_listener, stop_processes  # noqa: E402,E501
from differential_cases import KNOWN_DIFFERENCES, UDP_SIZE, build_corpus, build_disabled_corpus  # noqa: E402,E501
from differential_compare import RULES, describe, diff_fields, fmt_field_diff, parse_response  # noqa: E402,E501

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data")
ZONES = [("diff.test.", os.path.join(DATA, "diff.test.zone")),
         ("other.test.", os.path.join(DATA, "other.test.zone"))]

IDENTITY = "sextant-diff-identity"
VERSION = "sextant-diff-version"
NSID = "sextant-diff-nsid"

UDP_TIMEOUT = 1.0
TCP_TIMEOUT = 2.0


# ---------------------------------------------------------------------------
# Transport
# ---------------------------------------------------------------------------
def send_udp(port, wire, qid):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.settimeout(UDP_TIMEOUT)
        s.connect(("127.0.0.1", port))
        s.send(wire)
        deadline = time.monotonic() + UDP_TIMEOUT
        while True:
            rem = deadline - time.monotonic()
            if rem <= 0:
                return None
            s.settimeout(rem)
            try:
                r = s.recv(65535)
            except (socket.timeout, ConnectionRefusedError):
                return None
            if len(r) < 2 or struct.unpack("!H", r[:2])[0] == qid:
                return r
    finally:
        s.close()


def send_tcp(port, wire, qid):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.settimeout(TCP_TIMEOUT)
        s.connect(("127.0.0.1", port))
        s.sendall(struct.pack("!H", len(wire)) + wire)

        def rd(n):
            b = b""
            while len(b) < n:
                c = s.recv(n - len(b))
                if not c:
                    return None
                b += c
            return b
        try:
            h = rd(2)
            if h is None:
                return None
            return rd(struct.unpack("!H", h)[0])
        except (socket.timeout, ConnectionResetError):
            return None
    finally:
        s.close()


def send_tcp_pipelined(port, wire, qid, n=3):
    """n copies of the query back to back on one connection; returns the reply when all n
    replies arrive and are byte-identical, else a marker that never equals a real reply."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    replies = []
    try:
        s.settimeout(TCP_TIMEOUT)
        s.connect(("127.0.0.1", port))
        s.sendall((struct.pack("!H", len(wire)) + wire) * n)
        buf = b""
        while len(replies) < n:
            while len(buf) >= 2 and len(buf) >= 2 + struct.unpack("!H", buf[:2])[0]:
                ln = struct.unpack("!H", buf[:2])[0]
                replies.append(buf[2:2 + ln])
                buf = buf[2 + ln:]
            if len(replies) >= n:
                break
            try:
                c = s.recv(65535)
            except (socket.timeout, ConnectionResetError):
                break
            if not c:
                break
            buf += c
    except OSError:
        pass
    finally:
        s.close()
    if not replies:
        return None
    if len(replies) == n and all(r == replies[0] for r in replies):
        return replies[0]
    return ("PIPELINE: %d of %d replies, identical=%s" % (
        len(replies), n, all(r == replies[0] for r in replies))).encode()


def ask(port, wire, transport, qid):
    if transport == "tcp3":
        return send_tcp_pipelined(port, wire, qid)
    return (send_tcp if transport == "tcp" else send_udp)(port, wire, qid)


def ask_both(pa, pb, wire, transport, qid):
    res = [None, None]

    def run(i, port):
        res[i] = ask(port, wire, transport, qid)
    ts = [threading.Thread(target=run, args=(0, pa)), threading.Thread(target=run, args=(1, pb))]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return res


# ---------------------------------------------------------------------------
# Server management
# ---------------------------------------------------------------------------
PROCS = []
SHM_INSTANCES = []


def cleanup():
    stop_processes(PROCS)
    remove_shm(SHM_INSTANCES)


def _on_signal(signum, frame):
    cleanup()
    sys.exit(2)


def wait_ready(port, proc, what, timeout=30):
    """Wait until both zones answer SOA over UDP (and TCP works)."""
    deadline = time.monotonic() + timeout
    probes = [(dns.message.make_query(z, "SOA"), z) for z, _ in ZONES]
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("%s exited with status %s during startup" % (what, proc.returncode))
        ok = True
        for m, z in probes:
            m.id = 4242
            r = send_udp(port, m.to_wire(), 4242)
            if r is None:
                ok = False
                break
            pr = parse_response(r)
            if pr.get("rcode") != 0 or not pr.get("answer"):
                ok = False
                break
        if ok:
            return
        time.sleep(0.2)
    raise RuntimeError("%s on port %d did not answer within %ds" % (what, port, timeout))


def start_knot(knotd, workdir, tag, disabled=False):
    d = os.path.join(workdir, tag)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    rundir = os.path.join(d, "run")
    if len(rundir) > 80:  # unix socket path limit for knot.sock
        import tempfile
        rundir = tempfile.mkdtemp(prefix="sxknot")
    os.makedirs(rundir, exist_ok=True)
    for sub in ("db", "zones"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    port = free_port()
    zones = "".join("  - domain: %s\n    file: %s\n" % (o, f) for o, f in ZONES)
    conf = """server:
    rundir: "%(rundir)s"
    listen: 127.0.0.1@%(port)d
    identity: "%(identity)s"
    version: "%(version)s"
    nsid: "%(nsid)s"
    udp-max-payload: %(udp)d
database:
    storage: "%(d)s/db"
log:
  - target: "%(d)s/knot.log"
    any: info
template:
  - id: default
    storage: "%(d)s/zones"
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none
    semantic-checks: off
zone:
%(zones)s""" % dict(rundir=rundir, port=port, identity="" if disabled else IDENTITY,
                    version="" if disabled else VERSION, nsid="" if disabled else NSID,
                    udp=UDP_SIZE, d=d, zones=zones)
    cfg = os.path.join(d, "knot.conf")
    with open(cfg, "w") as f:
        f.write(conf)
    log = open(os.path.join(d, "knotd.out"), "w")
    p = subprocess.Popen([knotd, "-c", cfg], stdout=log, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL)
    PROCS.append(p)
    try:
        wait_ready(port, p, "knotd (%s)" % tag)
    except RuntimeError:
        sys.stderr.write(open(os.path.join(d, "knotd.out")).read()[-3000:])
        raise
    return port


def yaml_str(s):
    return '"%s"' % s.replace("\\", "\\\\").replace('"', '\\"')


def start_sextant(control, dataplane, workdir, disabled=False):
    d = os.path.join(workdir, "sextant-disabled" if disabled else "sextant")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    instance = "sxdiff%d%s" % (os.getpid(), "d" if disabled else "")
    SHM_INSTANCES.append(instance)
    cfg = os.path.join(d, "sextant.yaml")
    zones = "".join("  - origin: %s\n    file: %s\n" % (o, f) for o, f in ZONES)
    with open(cfg, "w") as f:
        f.write("instance: %s\nzones:\n%sserver:\n  edns_udp_size: %d\n" % (instance, zones, UDP_SIZE))
        if not disabled:
            f.write("  nsid: %s\n  version: %s\n  identity: %s\n" % (
                yaml_str(NSID), yaml_str(VERSION), yaml_str(IDENTITY)))
        # Every case's reply is compared byte for byte with Knot's, hundreds from 127.0.0.1 in
        # a few seconds (REFUSED, FORMERR and NXDOMAIN among them): rate limiting, on by
        # default, would truncate some. Limits it never reaches keep the limiter in the path.
        f.write("rate_limit:\n  responses_per_second: {answers: 1000000, nxdomain: 1000000, "
                "nodata: 1000000, errors: 1000000}\n")
    publish_once(control, cfg, d)
    port, _ = start_listener(dataplane, cfg, os.path.join(d, "dataplane.out"), PROCS,
                             lambda port, p: wait_ready(port, p, "sextant-dataplane"))
    return port


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------
def run_cases(corpus, kport, sport, other, self_test, dump, id_base):
    """Returns the list of failed case names."""
    failures = []
    for i, (name, wire, transport) in enumerate(corpus):
        qid = (id_base + i) & 0xFFFF
        if len(wire) >= 2:
            wire = struct.pack("!H", qid) + wire[2:]
        rk, rs = ask_both(kport, sport, wire, transport, qid)
        k, s = parse_response(rk), parse_response(rs)
        if self_test or name not in KNOWN_DIFFERENCES:
            problems = [fmt_field_diff(f, x, y) for f, x, y in diff_fields(k, s)]
            # a reply must carry the query's ID
            for who, r in (("knot", k), (other, s)):
                if r["present"] and "id" in r and len(wire) >= 2 and r["id"] != qid:
                    problems.append("    %s: reply id %d != query id %d" % (who, r["id"], qid))
            rule = None
        else:
            problems = ["    " + p for p in RULES[name](k, s, wire)]
            rule = KNOWN_DIFFERENCES[name]
        ok = not problems
        if not ok:
            failures.append(name)
        if not ok or dump:
            print("%s %s [%s]%s" % ("FAIL" if not ok else "ok  ", name, transport,
                                    "  (known difference: %s)" % rule if rule else ""))
            print("  query: %s" % wire.hex())
            if problems:
                print("\n".join(problems))
            print(" knot:")
            print("\n".join(describe(k)))
            print(" %s:" % other)
            print("\n".join(describe(s)))
            print()
    return failures


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sextant-control")
    ap.add_argument("--sextant-dataplane")
    ap.add_argument("--workdir")
    ap.add_argument("--self-test", action="store_true", help="compare Knot against a second Knot")
    ap.add_argument("--knotd", default=shutil.which("knotd") or "/usr/sbin/knotd")
    ap.add_argument("--only", help="regex on case names")
    ap.add_argument("--dump", action="store_true", help="print both answers for every case")
    ap.add_argument("--list", action="store_true", help="list the cases and exit")
    a = ap.parse_args()

    corpus = build_corpus()
    disabled_corpus = build_disabled_corpus()
    names = [c[0] for c in corpus + disabled_corpus]
    assert len(names) == len(set(names)), "duplicate case names"
    for n in KNOWN_DIFFERENCES:
        assert n in names, "KNOWN_DIFFERENCES names an unknown case: %s" % n
        assert n in RULES, "no rule for known difference: %s" % n
    if a.list:
        for n, w, t in corpus + disabled_corpus:
            print("%-45s %-4s %s" % (n, t, "(known difference)" if n in KNOWN_DIFFERENCES else ""))
        print("%d cases" % len(names))
        return 0
    if not a.workdir or (not a.self_test and not (a.sextant_control and a.sextant_dataplane)):
        ap.error("need --workdir and either --self-test or --sextant-control and --sextant-dataplane")
    if a.only:
        rx = re.compile(a.only)
        corpus = [c for c in corpus if rx.search(c[0])]
        disabled_corpus = [c for c in disabled_corpus if rx.search(c[0])]

    workdir = os.path.abspath(a.workdir)
    os.makedirs(workdir, exist_ok=True)
    atexit.register(cleanup)
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)

    def start_pair(disabled):
        suffix = "-disabled" if disabled else ""
        kport = start_knot(a.knotd, workdir, "knot" + suffix, disabled)
        if a.self_test:
            return kport, start_knot(a.knotd, workdir, "knot2" + suffix, disabled), "knot2"
        return kport, start_sextant(os.path.abspath(a.sextant_control),
                                    os.path.abspath(a.sextant_dataplane), workdir, disabled), "sextant"

    failures = []
    total = 0
    for disabled, cases in ((False, corpus), (True, disabled_corpus)):
        if not cases:
            continue
        try:
            kport, sport, other = start_pair(disabled)
        except Exception as e:
            print("setup failed: %s" % e)
            return 2
        print("%s: knot on 127.0.0.1:%d, %s on 127.0.0.1:%d, %d cases" % (
            "identity/version/nsid disabled" if disabled else "main", kport, other, sport, len(cases)))
        failures += run_cases(cases, kport, sport, other, a.self_test, a.dump,
                              0x4000 if disabled else 0x1000)
        total += len(cases)
        for p in PROCS:
            if p.poll() is not None:
                print("FAIL: a server exited during the run (status %s): %s" % (p.returncode, p.args[0]))
                failures.append("server exited: %s" % p.args[0])
                total += 1
        cleanup()
    if failures:
        print("failed cases: %s" % "; ".join(failures))
    print("%d passed, %d failed" % (total - len(failures), len(failures)))
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
