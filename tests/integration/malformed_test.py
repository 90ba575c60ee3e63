#!/usr/bin/python3
"""Malformed-packet test: hostile wire messages against a running sextant-dataplane.

Writes a config and a zone into --workdir, publishes them with sextant-control, starts
sextant-dataplane on a free 127.0.0.1 port and sends it several hundred hostile packets over
UDP (and a subset over TCP, plus TCP framing abuse): truncated headers and questions,
compression pointers and reserved label types in the qname, over-long names, impossible
section counts, records running past the end, broken OPT and ECS, unknown EDNS versions,
QR=1 packets, every opcode, extreme qtypes/qclasses, random bytes and bit-flipped queries
(fixed seeds, so a failure reproduces).

For every packet: the server must stay alive; a reply, if any, must parse with dnspython (or
be a well-formed header-only message), carry the query's ID and opcode, have QR=1, echo the
question bytes unchanged, respect the UDP size limits and have a sensible rcode
(FORMERR/NOTIMP/REFUSED/NOERROR/NXDOMAIN/NOTAUTH/BADVERS; some cases pin it further). A
packet with QR=1 or shorter than a header must get no reply. Whether a packet got no reply is
decided without waiting for a timeout: each hostile packet is followed on the same socket by
a sentinel query, and the server answers one socket's packets in order. Every 10 hostile
packets a valid query (A, AAAA, CNAME, wildcard, NXDOMAIN) is checked exactly.

Usage:
  malformed_test.py --sextant-control PATH --sextant-dataplane PATH --workdir DIR
Options: --only REGEX (run the hostile cases whose name matches), --verbose, --seed N.

Prints "N passed, M failed" and exits 0 when M == 0, 1 otherwise (2 when the server could not
be started). Needs python3 + python3-dnspython (Debian).
"""

import os
import sys

try:
    import dns.exception
    import dns.flags
    import dns.message
    import dns.name
    import dns.opcode
    import dns.rcode
    import dns.rdataclass
    import dns.rdatatype
except ImportError:  # pragma: no cover
    # CMake may have picked a python3 without dnspython (pyenv, venv): Debian's has it.
    if os.path.exists("/usr/bin/python3") and os.path.realpath(sys.executable) != \
            os.path.realpath("/usr/bin/python3") and not os.environ.get("SX_REEXEC"):
        os.environ["SX_REEXEC"] = "1"
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    sys.stderr.write("malformed_test.py needs dnspython (Debian: python3-dnspython)\n")
    sys.exit(2)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from lab import publish_once, remove_shm, start_listener, stop_processes  # noqa: E402
from malformed_cases import (FORMERR, ORIGIN, SENTINEL_SPEC, SERVER, VALID, ZONE,  # noqa: E402
                             build_hostile, frame, make_valid, sentinel_id, tcp_framing_cases)
from malformed_checks import (check_reply, check_valid, generic_reply_problems,  # noqa: E402
                              hostile_problems, udp_exchange, until_sentinel)

import argparse
import atexit
import re
import shutil
import signal
import socket
import struct
import subprocess
import time

TIME_BUDGET = 50.0  # seconds for the whole run (ctest's timeout is far above)
REPLY_TIMEOUT = 2.0  # per exchange; only reached when the server misbehaves




# ---------------------------------------------------------------------------
# Transport
# ---------------------------------------------------------------------------


class TcpReader:
    def __init__(self, sock):
        self.s = sock
        self.buf = b""
        self.eof = False

    def next(self, deadline):
        """The next framed message, or None on EOF/timeout/reset."""
        while len(self.buf) < 2 or len(self.buf) < 2 + struct.unpack("!H", self.buf[:2])[0]:
            if self.eof:
                return None
            rem = deadline - time.monotonic()
            if rem <= 0:
                return None
            self.s.settimeout(rem)
            try:
                c = self.s.recv(65535)
            except socket.timeout:
                return None
            except OSError:
                self.eof = True
                return None
            if not c:
                self.eof = True
                return None
            self.buf += c
        n = struct.unpack("!H", self.buf[:2])[0]
        msg, self.buf = self.buf[2:2 + n], self.buf[2 + n:]
        return msg

    def wait_eof(self, deadline):
        """True when the server closes the connection before the deadline; extra frames read on
        the way are returned through self.extra."""
        self.extra = []
        while True:
            m = self.next(deadline)
            if m is None:
                return self.eof
            self.extra.append(m)


def tcp_connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=REPLY_TIMEOUT)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def tcp_exchange(port, wire, sid):
    """Sends frame(wire) + frame(sentinel) on one connection."""
    replies = []
    try:
        s = tcp_connect(port)
    except OSError:
        return replies, None
    try:
        try:
            s.sendall(frame(wire) + frame(make_valid(SENTINEL_SPEC, sid)))
        except OSError:
            return replies, None
        rd = TcpReader(s)
        deadline = time.monotonic() + REPLY_TIMEOUT
        return until_sentinel(lambda: rd.next(deadline), sid)
    finally:
        s.close()


# ---------------------------------------------------------------------------
# Server management
# ---------------------------------------------------------------------------
PROCS = []
INSTANCES = []


def cleanup():
    stop_processes(PROCS)
    remove_shm(INSTANCES)


def start_server(control, dataplane, workdir):
    shutil.rmtree(workdir, ignore_errors=True)
    os.makedirs(workdir)
    instance = "sxmalformed%d" % os.getpid()
    INSTANCES.append(instance)
    zone = os.path.join(workdir, "malformed.test.zone")
    with open(zone, "w") as f:
        f.write(ZONE)
    cfg = os.path.join(workdir, "sextant.yaml")
    with open(cfg, "w") as f:
        f.write("instance: %s\nzones:\n  - origin: %s\n    file: %s\nserver:\n%s" % (
            instance, ORIGIN, zone, SERVER))
        # Hundreds of hostile packets (most answered FORMERR: the 100/s error class) from one
        # address, each reply checked whole: rate limiting (on by default) would drop or
        # truncate them. It stays on, with limits this test never reaches, so the replies still
        # pass through the limiter.
        f.write("rate_limit:\n  responses_per_second: {answers: 1000000, nxdomain: 1000000, "
                "nodata: 1000000, errors: 1000000}\n")
    publish_once(control, cfg, workdir, timeout=60)

    def ready(port, p):
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if p.poll() is not None:
                raise RuntimeError("sextant-dataplane exited with status %s at start-up" %
                                   p.returncode)
            # An empty datagram is dropped, then the sentinel answered.
            _, r = udp_exchange(("127.0.0.1", port), b"", 0x5e5e, REPLY_TIMEOUT)
            if r is not None and not check_valid(r, 0x5e5e, SENTINEL_SPEC):
                return
            time.sleep(0.1)
        raise RuntimeError("sextant-dataplane on port %d did not answer within 20 s" % port)

    log_path = os.path.join(workdir, "dataplane.out")
    port, p = start_listener(dataplane, cfg, log_path, PROCS, ready)
    return p, port, log_path


# ---------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------
class Run:
    def __init__(self, proc, port, verbose, log_path):
        self.proc, self.port, self.verbose, self.log_path = proc, port, verbose, log_path
        self.passed = 0
        self.failed = 0
        self.valid_i = 0
        self.dead = False

    def result(self, name, problems, wire=None):
        if problems:
            self.failed += 1
            print("FAIL %s" % name)
            for x in problems:
                print("     %s" % x)
            if wire is not None:
                print("     packet (%d bytes): %s" % (len(wire), wire.hex()))
        else:
            self.passed += 1
            if self.verbose:
                print("ok   %s" % name)

    def alive(self, after):
        if self.proc.poll() is None:
            return True
        if not self.dead:
            self.dead = True
            self.failed += 1
            print("FAIL sextant-dataplane died (status %s) after: %s" % (self.proc.returncode, after))
            try:
                print("     log tail: " + open(self.log_path).read()[-2000:].replace("\n", "\n     "))
            except OSError:
                pass
        return False

    def hostile(self, c, transport):
        w = c["wire"]
        sid = sentinel_id(w)
        tcp = transport == "tcp"
        replies, sent = tcp_exchange(self.port, w, sid) if tcp else udp_exchange(
            ("127.0.0.1", self.port), w, sid, REPLY_TIMEOUT)
        name = "%s %s" % (transport, c["name"])
        if not self.alive(name):
            return False
        self.result(name, hostile_problems(c, replies, sent, tcp), w)
        return True

    def valid(self, transport="udp"):
        spec = VALID[self.valid_i % len(VALID)]
        self.valid_i += 1
        qid = 0x7000 + self.valid_i
        w = make_valid(spec, qid)
        if transport == "tcp":
            r = None
            try:
                s = tcp_connect(self.port)
                try:
                    s.sendall(frame(w))
                    r = TcpReader(s).next(time.monotonic() + REPLY_TIMEOUT)
                finally:
                    s.close()
            except OSError:
                pass
        else:
            # udp_exchange's sentinel doubles as a check that nothing else came back.
            extra, sent = udp_exchange(("127.0.0.1", self.port), w, 0x5e5e, REPLY_TIMEOUT)
            r = extra[0] if extra else None
        self.result("valid %s %s %s" % (transport, spec[0], spec[1]), check_valid(r, qid, spec))



def run_framing(run, case, queries):
    name = "tcp framing: " + case["name"]
    p = []
    try:
        s = tcp_connect(run.port)
    except OSError as e:
        run.result(name, ["connect failed: %s" % e])
        return
    try:
        try:
            for i, ch in enumerate(case["chunks"]):
                s.sendall(ch)
                if case["delay"] and i + 1 < len(case["chunks"]):
                    time.sleep(case["delay"])
            if case["shutdown"]:
                s.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server may close first (length 0, over the limit): fine
        rd = TcpReader(s)
        deadline = time.monotonic() + REPLY_TIMEOUT * 2
        exp = case["expect"]
        if case["shutdown"]:
            closed = rd.wait_eof(deadline)
            replies = rd.extra
            if not closed:
                p.append("server did not close the connection after a framing error / EOF")
        else:
            replies = []
            for _ in exp:
                m = rd.next(deadline)
                if m is None:
                    break
                replies.append(m)
    finally:
        s.close()
    good = [VALID[0], VALID[2], VALID[4]]
    if exp == "any":
        for r in replies:
            p += generic_reply_problems(r)
    elif exp == "formerr":
        if len(replies) != 1:
            p.append("%d replies, expected 1 FORMERR" % len(replies))
        else:
            p += check_reply(queries[0] + b"\x00" * (4096 - len(queries[0])), replies[0], True,
                             [FORMERR])
    else:
        if len(replies) != len(exp):
            p.append("%d replies, expected %d" % (len(replies), len(exp)))
        for r, e in zip(replies, exp):
            if e == "any":
                p += generic_reply_problems(r)
                continue
            if e[0] == "pipelined":  # ("pipelined", i): in order, ids 0x6100 + i
                p += ["#%d: %s" % (e[1], x) for x in check_valid(r, 0x6100 + e[1], VALID[0])]
                continue
            qid = 0x6000 + good.index(e)
            p += check_valid(r, qid, e)
    run.alive(name)
    run.result(name, p, b"".join(case["chunks"])[:200])


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sextant-control", required=True)
    ap.add_argument("--sextant-dataplane", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--only", help="regex on hostile case names")
    ap.add_argument("--seed", type=int, default=20240101)
    ap.add_argument("--verbose", action="store_true")
    a = ap.parse_args()

    atexit.register(cleanup)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: sys.exit(2))

    cases = build_hostile(a.seed)
    if a.only:
        cases = [c for c in cases if re.search(a.only, c["name"])]
    try:
        proc, port, log_path = start_server(a.sextant_control, a.sextant_dataplane,
                                            os.path.abspath(a.workdir))
    except (RuntimeError, OSError, subprocess.SubprocessError) as e:
        sys.stderr.write("cannot start the server: %s\n" % e)
        return 2

    started = time.monotonic()
    run = Run(proc, port, a.verbose, log_path)
    n_udp = n_tcp = 0
    for i, c in enumerate(cases):
        if time.monotonic() - started > TIME_BUDGET:
            run.result("time budget", ["stopped after %d of %d cases: over %.0f s" % (
                i, len(cases), TIME_BUDGET)])
            break
        if i % 10 == 0:
            run.valid("tcp" if i % 40 == 0 else "udp")
        if not run.hostile(c, "udp"):
            break
        n_udp += 1
        # A subset over TCP with correct framing (a 0-byte message cannot be framed correctly:
        # it is in the framing cases).
        if c["tcp"] and c["wire"] and i % 2 == 0:
            if not run.hostile(c, "tcp"):
                break
            n_tcp += 1
    if not run.dead:
        framing, queries = tcp_framing_cases()
        for fc in framing:
            run_framing(run, fc, queries)
            if run.dead:
                break
    if not run.dead:
        for t in ("udp", "tcp"):
            for _ in range(len(VALID)):
                run.valid(t)
        run.result("still running at the end", [] if run.alive("the end") else ["process died"])
        # SIGTERM after all that: a clean exit (status 0; under ASan also no leak report).
        proc.terminate()
        try:
            rc = proc.wait(timeout=10)
            run.result("clean shutdown on SIGTERM", [] if rc == 0 else [
                "exit status %s; see %s" % (rc, log_path)])
        except subprocess.TimeoutExpired:
            run.result("clean shutdown on SIGTERM", ["still running 10 s after SIGTERM"])
    print("%d hostile packets over UDP, %d over TCP, %d TCP framing cases, %.1f s" % (
        n_udp, n_tcp, len(tcp_framing_cases()[0]), time.monotonic() - started))
    print("%d passed, %d failed" % (run.passed, run.failed))
    return 0 if run.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
