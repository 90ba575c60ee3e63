#!/usr/bin/python3
"""TCP abuse limits against a running sextant-dataplane (kernel listener): slowloris attacks
from many addresses of 127.0.0.0/8 while real clients (dig +tcp, kdig +tcp, from addresses of
their own) keep asking a name every 0.4 s and must get the right answer promptly.

The config sets `tcp: {max_connections: 40, max_connections_per_client: 6, idle_timeout: 3s,
query_timeout: 1500ms}`. Then:

  1. one address opens 10 connections: 6 stay open, 4 are closed at once (per-client limit);
  2. timeouts (7 s): 6 addresses hold 6 connections each that trickle a valid query a byte
     every 0.4 s, and one address holds 3 that never send (39, under the limit); every
     connection the server closes is reopened. Each trickler must be closed by the query
     timeout (1.5 s after its first byte, within the 100 ms sweep and some slack, and not
     before), each silent one by the idle timeout (3 s), none answered;
  3. flood (7 s): the same tricklers plus 3 addresses of 6 silent ones (54 wanted, 40 allowed).
     The server must not hold more than 40 established connections (ss, sampled every 250 ms
     after the attackers paused 50 ms: established minus the listener's accept queue, plus one
     for a real client's connection in flight) and must be full most of the time;
     no address ever has more than 6; newcomers make room by closing the connection stalled
     longest, which the dataplane logs;
  4. afterwards the dataplane is alive and answers over UDP and TCP.

Usage: tcp_abuse_test.py --sextant-control PATH --sextant-dataplane PATH --workdir DIR
"""

import os
import re
import socket
import statistics
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from lab import (Binaries, Results, integration_args, publish_once, remove_shm,  # noqa: E402
                 start_listener, stop_processes)

MAX_CONNECTIONS = 40
PER_CLIENT = 6
IDLE_S = 3.0
QUERY_TIMEOUT_S = 1.5
SWEEP_S = 0.1  # the TCP thread's sweep period (dataplane/kernel/serving_thread.h kPollMs)
TRICKLE_EVERY_S = 0.4
PHASE_S = 7.0
WWW = {"198.18.1.1", "198.18.1.2"}

ZONE = """\
$ORIGIN abuse.test.
$TTL 300
@    3600 IN SOA ns1 hostmaster 2024010101 7200 3600 1209600 300
@    3600 IN NS  ns1
ns1  IN A 198.18.0.1
www  IN A 198.18.1.1
www  IN A 198.18.1.2
"""


def query_frame(qid, name="www.abuse.test"):
    q = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\0" + struct.pack("!HH", 1, 1)
    return struct.pack("!H", len(q)) + q


def connect_from(source, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.bind((source, 0))
    s.settimeout(2)
    s.connect(("127.0.0.1", port))
    s.setblocking(False)
    return s


def closed_by_server(s):
    """True when the server closed `s` (EOF or reset); any bytes read are returned too."""
    try:
        data = s.recv(65535)
    except BlockingIOError:
        return False, b""
    except OSError:
        return True, b""
    return data == b"", data


class Attacker:
    """One attacking connection slot: reopens its connection whenever the server closes it, and
    records each connection's life: (kind, opened, first byte sent, closed, bytes answered)."""

    def __init__(self, source, port, trickle):
        self.source, self.port, self.trickle = source, port, trickle
        self.s = None
        self.lives = []
        self.frame = query_frame(0x4141)
        self.reopen_at = 0.0

    def open(self, now):
        try:
            self.s = connect_from(self.source, self.port)
        except OSError:
            self.s = None
            self.reopen_at = now + 0.1
            return
        self.opened, self.first, self.sent, self.next_byte, self.answered = now, None, 0, now, 0

    def step(self, now):
        if self.s is None:
            if now >= self.reopen_at:
                self.open(now)
            return
        closed, data = closed_by_server(self.s)
        self.answered += len(data)
        if not closed and self.trickle and now >= self.next_byte and self.sent < len(self.frame):
            try:
                self.s.send(self.frame[self.sent:self.sent + 1])
                if self.first is None:
                    self.first = now
                self.sent += 1
                self.next_byte = now + TRICKLE_EVERY_S
            except OSError:
                closed = True
        if closed:
            self.lives.append((self.opened, self.first, now, self.answered))
            self.s.close()
            self.s = None
            self.reopen_at = now + 0.1  # a real attacker would not wait; this keeps the box calm

    def close(self):
        if self.s is not None:
            self.s.close()
            self.s = None


def established(port):
    """Connections the server holds on `port`: ({client address: established}, the listener's
    accept queue: established connections the server has not accepted yet), from ss."""
    out = subprocess.run(["ss", "-Htn", f"( sport = :{port} )"],
                         capture_output=True, text=True).stdout
    per, queued = {}, 0
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 5 and f[0] == "LISTEN":
            queued += int(f[1])
        elif len(f) >= 5 and f[0] == "ESTAB":
            peer = f[4].rsplit(":", 1)[0]
            per[peer] = per.get(peer, 0) + 1
    return per, queued


def ask(tool, source, port):
    """One TCP query by dig or kdig: (seconds, the A records, or None on failure)."""
    if tool == "dig":
        cmd = ["dig", "+tcp", "-b", source, "-p", str(port), "@127.0.0.1", "www.abuse.test",
               "A", "+short", "+time=2", "+tries=2"]
    else:
        cmd = ["kdig", "+tcp", "-b", source, "-p", str(port), "@127.0.0.1", "www.abuse.test",
               "A", "+short", "+time=2", "+retry=1"]
    start = time.monotonic()
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
    took = time.monotonic() - start
    got = set(r.stdout.split()) if r.returncode == 0 else None
    return took, got


def per_client_limit(res, port):
    socks = [connect_from("127.0.0.10", port) for _ in range(10)]
    time.sleep(0.5)
    closed = sum(1 for s in socks if closed_by_server(s)[0])
    res.check("per-client limit: 4 of 10 connections from one address closed at once",
              closed == 10 - PER_CLIENT, f"{closed} closed")
    peer = established(port)[0].get("127.0.0.10", 0)
    res.check("per-client limit: the server holds 6 for that address", peer == PER_CLIENT,
              f"{peer} established")
    for s in socks:
        s.close()


def attack(port, silent_addresses, silent_each):
    """Runs tricklers (6 addresses x 6) and silent connections for PHASE_S while dig and kdig
    ask; returns (attackers, {tool: [(seconds, answer)]}, ss samples)."""
    attackers = [Attacker(f"127.0.1.{a}", port, True) for a in range(1, 7)
                 for _ in range(PER_CLIENT)]
    attackers += [Attacker(f"127.0.3.{a}", port, False) for a in range(1, silent_addresses + 1)
                  for _ in range(silent_each)]
    results = {"dig": [], "kdig": []}
    stop = threading.Event()

    def clients():
        i = 0
        while not stop.is_set():
            tool = ("dig", "kdig")[i % 2]
            results[tool].append(ask(tool, f"127.0.2.{1 + i % 2}", port))
            i += 1
            stop.wait(TRICKLE_EVERY_S)

    samples = []
    start = time.monotonic()
    asker = None
    next_sample = start
    while time.monotonic() - start < PHASE_S:
        now = time.monotonic()
        for a in attackers:
            a.step(now)
        if asker is None and now - start >= 1.0:  # every attacker is connected by now
            asker = threading.Thread(target=clients)
            asker.start()
        if now >= next_sample:
            # The attackers pause 50 ms first, so that the server has accepted (and made room
            # for) every connection they opened: ss reads the listener's queue and the
            # connections one after the other, and a burst in between would count as held.
            time.sleep(0.05)
            samples.append(established(port))
            next_sample = now + 0.25
        time.sleep(0.02)
    stop.set()
    asker.join()
    for a in attackers:
        a.close()
    return attackers, results, samples


def check_clients(res, phase, results):
    for tool, rows in results.items():
        times = [t for t, _ in rows]
        bad = [got for _, got in rows if got != WWW]
        res.check(f"{phase}: {tool} +tcp, {len(rows)} queries answered correctly",
                  rows and not bad, f"{len(bad)} of {len(rows)} wrong or unanswered: {bad[:3]}")
        if times:
            print(f"     {tool} +tcp latency: median {statistics.median(times) * 1000:.0f} ms, "
                  f"max {max(times) * 1000:.0f} ms (process start included)")
            res.check(f"{phase}: {tool} +tcp median under 500 ms",
                      statistics.median(times) < 0.5, f"{statistics.median(times):.3f} s")


def lifetimes(attackers):
    """(trickled: seconds from first byte to close, silent: seconds from open to close, bytes
    answered to attackers)."""
    trickled = [closed - first for a in attackers if a.trickle
                for _, first, closed, _ in a.lives if first is not None]
    silent = [closed - opened for a in attackers if not a.trickle
              for opened, _, closed, _ in a.lives]
    return trickled, silent, sum(life[3] for a in attackers for life in a.lives)


def check_timeouts(res, attackers):
    trickled, silent, answered = lifetimes(attackers)
    res.check("timeouts: no trickled query was answered", answered == 0,
              f"{answered} bytes came back")
    lo, hi = min(trickled, default=0), max(trickled, default=0)
    res.check(f"timeouts: {len(trickled)} tricklers closed by the query timeout, "
              f"{lo:.2f}..{hi:.2f} s after their first byte",
              len(trickled) >= 36 and lo >= QUERY_TIMEOUT_S - 0.05 and
              hi <= QUERY_TIMEOUT_S + SWEEP_S + 0.3, f"{len(trickled)} closed, {lo:.2f}..{hi:.2f}")
    lo, hi = min(silent, default=0), max(silent, default=0)
    res.check(f"timeouts: {len(silent)} silent connections closed by the idle timeout, "
              f"{lo:.2f}..{hi:.2f} s after they opened",
              len(silent) >= 3 and lo >= IDLE_S - 0.05 and hi <= IDLE_S + SWEEP_S + 0.3,
              f"{len(silent)} closed, {lo:.2f}..{hi:.2f}")


def check_flood(res, attackers, samples):
    totals = [sum(per.values()) - queued for per, queued in samples]
    peak = max(totals, default=0)
    full = [t for t in totals if t >= MAX_CONNECTIONS - 2]
    print(f"     connections held, sampled every 250 ms: {totals}")
    # One more than the limit: a dig or kdig connection the kernel completed and the server had
    # not accepted yet when ss looked.
    res.check(f"flood: connection limit held, at most {peak} held (limit {MAX_CONNECTIONS})",
              peak <= MAX_CONNECTIONS + 1, f"peak {peak}")
    res.check("flood: the table was full (the attack reached the limit)",
              len(full) >= len(totals) // 2, f"{len(full)} of {len(totals)} samples")
    worst = max((n for per, _ in samples for n in per.values()), default=0)
    res.check(f"flood: per-client limit held, at most {worst} per address", worst <= PER_CLIENT,
              f"{worst}")
    trickled, _, answered = lifetimes(attackers)
    res.check("flood: no trickled query was answered", answered == 0, f"{answered} bytes")
    res.check("flood: no trickler outlived the query timeout",
              max(trickled, default=0) <= QUERY_TIMEOUT_S + SWEEP_S + 0.3,
              f"{max(trickled, default=0):.2f} s")


def check_log(res, log_path):
    deadline = time.monotonic() + 6  # the TCP thread reports every 5 s at most
    pattern = re.compile(r"TCP limits: refused (\d+) .* and (\d+) at a lowered connection limit; "
                         r"closed (\d+) stalled ones for newcomers, (\d+) idle, (\d+) with a slow")
    while True:
        sums = [0] * 5
        for m in pattern.finditer(open(log_path).read()):
            sums = [x + int(y) for x, y in zip(sums, m.groups())]
        if (sums[2] and sums[3] and sums[4]) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    print(f"     logged: refused {sums[0]} over the per-client limit; closed {sums[2]} stalled "
          f"for newcomers, {sums[3]} idle, {sums[4]} slow queries")
    res.check("the dataplane logged what the limits refused and closed",
              sums[0] >= 4 and sums[2] > 0 and sums[3] > 0 and sums[4] > 0, f"sums {sums}")


def main():
    args = integration_args()
    b = Binaries(args)
    res = Results()
    procs, instance = [], f"sxtcpabuse{os.getpid()}"
    try:
        zone = b.work / "abuse.test.zone"
        zone.write_text(ZONE)
        cfg = b.work / "sextant.yaml"
        cfg.write_text(
            f"instance: {instance}\nzones:\n  - {{origin: abuse.test., file: {zone}}}\n"
            f"tcp: {{max_connections: {MAX_CONNECTIONS}, max_connections_per_client: "
            f"{PER_CLIENT}, idle_timeout: 3s, query_timeout: 1500ms}}\n")
        publish_once(b.control, str(cfg), str(b.work))

        def ready(port, p):
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                if p.poll() is not None:
                    raise RuntimeError("sextant-dataplane exited at start-up")
                if ask("dig", "127.0.0.1", port)[1] == WWW:
                    return
                time.sleep(0.1)
            raise RuntimeError("sextant-dataplane did not answer")

        log_path = str(b.work / "dataplane.out")
        port, proc = start_listener(b.dataplane, str(cfg), log_path, procs, ready)
        res.check("the dataplane logged the config's TCP limits",
                  "TCP limits: 40 connections, 6 per client, idle timeout 3 s, query timeout "
                  "1500 ms" in open(log_path).read(), open(log_path).read()[-500:])
        per_client_limit(res, port)
        attackers, results, _ = attack(port, silent_addresses=1, silent_each=3)
        check_clients(res, "timeouts", results)
        check_timeouts(res, attackers)
        attackers, results, samples = attack(port, silent_addresses=3, silent_each=PER_CLIENT)
        check_clients(res, "flood", results)
        check_flood(res, attackers, samples)
        check_log(res, log_path)
        res.check("the dataplane is alive after the attack", proc.poll() is None,
                  f"exit {proc.returncode}")
        res.check("dig +tcp answered after the attack", ask("dig", "127.0.2.9", port)[1] == WWW)
        udp = subprocess.run(["dig", "-p", str(port), "@127.0.0.1", "www.abuse.test", "A",
                              "+short", "+time=2"], capture_output=True, text=True).stdout
        res.check("UDP answered after the attack", set(udp.split()) == WWW, udp)
    finally:
        stop_processes(procs)
        remove_shm([instance])
    return res.summary()


if __name__ == "__main__":
    sys.exit(main())
