"""Slowloris against a DNS-over-TCP server (tcp_abuse_test.py: the kernel listener;
dpdk_tcp_abuse_test.py: the DPDK exception path's): tricklers sending a valid query a byte at a
time, silent connections, one address over its limit, while dig and kdig +tcp keep asking; and
the checks on what the server did. Both run it against the same `tcp:` limits (TCP_SECTION) and
zone (ZONE)."""
import re
import socket
import statistics
import struct
import subprocess
import threading
import time

MAX_CONNECTIONS = 40
PER_CLIENT = 6
IDLE_S = 3.0
QUERY_TIMEOUT_S = 1.5
SWEEP_S = 0.1  # the TCP thread's sweep period (dataplane/kernel/serving_thread.h kPollMs)
TRICKLE_EVERY_S = 0.4
PHASE_S = 7.0
WWW = {"198.18.1.1", "198.18.1.2"}
TCP_SECTION = (f"tcp: {{max_connections: {MAX_CONNECTIONS}, max_connections_per_client: "
               f"{PER_CLIENT}, idle_timeout: 3s, query_timeout: 1500ms}}\n")
LIMITS_LINE = ("TCP limits: 40 connections, 6 per client, idle timeout 3 s, query timeout "
               "1500 ms")

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


class Target:
    """The TCP server under attack: its address and port, the client addresses each role uses
    (addr(role, i) for role trickle, silent, greedy, client), and the command prefix that runs
    ss(8) where the server's sockets are."""

    def __init__(self, host, port, addr, ss_prefix=()):
        self.host, self.port, self.addr, self.ss_prefix = host, port, addr, list(ss_prefix)


def connect_from(source, t):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.bind((source, 0))
    s.settimeout(2)
    s.connect((t.host, t.port))
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
    records each connection's life: (opened, first byte sent, seen open last, seen closed,
    bytes answered). The server closed it somewhere between "seen open last" and "seen closed":
    the test's own loop (stepping every attacker, sampling ss) sets how wide that window is, and
    on a loaded machine it can be wide, so the checks bound the server's timing by its edges.
    Every time is read when the event happens, not once per loop."""

    def __init__(self, source, t, trickle):
        self.source, self.t, self.trickle = source, t, trickle
        self.s = None
        self.lives = []
        self.frame = query_frame(0x4141)
        self.reopen_at = 0.0

    def open(self, now):
        try:
            self.s = connect_from(self.source, self.t)
        except OSError:
            self.s = None
            self.reopen_at = now + 0.1
            return
        self.opened = time.monotonic()  # connect() returned: the server's handshake is done
        self.first, self.sent, self.next_byte, self.answered = None, 0, now, 0
        self.seen_open = self.opened

    def step(self, now):
        if self.s is None:
            if now >= self.reopen_at:
                self.open(now)
            return
        closed, data = closed_by_server(self.s)
        checked = time.monotonic()
        self.answered += len(data)
        if not closed:
            self.seen_open = checked
        if not closed and self.trickle and now >= self.next_byte and self.sent < len(self.frame):
            try:
                self.s.send(self.frame[self.sent:self.sent + 1])
                if self.first is None:
                    self.first = time.monotonic()
                self.sent += 1
                self.next_byte = now + TRICKLE_EVERY_S
            except OSError:
                closed = True
        if closed:
            self.lives.append((self.opened, self.first, self.seen_open, checked, self.answered))
            self.s.close()
            self.s = None
            self.reopen_at = now + 0.1  # a real attacker would not wait; this keeps the box calm

    def close(self):
        if self.s is not None:
            self.s.close()
            self.s = None


def established(t):
    """Connections the server holds: ({client address: established}, the listener's accept
    queue: established connections the server has not accepted yet), from ss."""
    out = subprocess.run([*t.ss_prefix, "ss", "-Htn", f"( src {t.host} and sport = :{t.port} )"],
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


def ask(tool, source, t, tcp=True):
    """One query by dig or kdig (over TCP unless tcp=False): (seconds, the A records, or None
    on failure)."""
    if tool == "dig":
        cmd = ["dig", "+tcp" if tcp else "+notcp", "-b", source, "-p", str(t.port), f"@{t.host}",
               "www.abuse.test", "A", "+short", "+time=2", "+tries=2"]
    else:
        cmd = ["kdig", "+tcp" if tcp else "+notcp", "-b", source, "-p", str(t.port), f"@{t.host}",
               "www.abuse.test", "A", "+short", "+time=2", "+retry=1"]
    start = time.monotonic()
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
    took = time.monotonic() - start
    got = set(r.stdout.split()) if r.returncode == 0 else None
    return took, got


def per_client_limit(res, t):
    greedy = t.addr("greedy", 0)
    socks = [connect_from(greedy, t) for _ in range(10)]
    time.sleep(0.5)
    closed = sum(1 for s in socks if closed_by_server(s)[0])
    res.check("per-client limit: 4 of 10 connections from one address closed at once",
              closed == 10 - PER_CLIENT, f"{closed} closed")
    peer = established(t)[0].get(greedy, 0)
    res.check("per-client limit: the server holds 6 for that address", peer == PER_CLIENT,
              f"{peer} established")
    for s in socks:
        s.close()


def attack(t, silent_addresses, silent_each):
    """Runs tricklers (6 addresses x 6) and silent connections for PHASE_S while dig and kdig
    ask; returns (attackers, {tool: [(seconds, answer)]}, ss samples)."""
    attackers = [Attacker(t.addr("trickle", a), t, True) for a in range(6)
                 for _ in range(PER_CLIENT)]
    attackers += [Attacker(t.addr("silent", a), t, False) for a in range(silent_addresses)
                  for _ in range(silent_each)]
    results = {"dig": [], "kdig": []}
    stop = threading.Event()

    def clients():
        i = 0
        while not stop.is_set():
            tool = ("dig", "kdig")[i % 2]
            results[tool].append(ask(tool, t.addr("client", i % 2), t))
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
            samples.append(established(t))
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
    """(trickled: (earliest, latest) seconds from first byte to the server's close, silent: the
    same from open to close, bytes answered to attackers). The server's close lies between the
    two: earliest is when the connection was last seen open, latest when it was seen closed."""
    trickled = [(open_last - first, closed - first) for a in attackers if a.trickle
                for _, first, open_last, closed, _ in a.lives if first is not None]
    silent = [(open_last - opened, closed - opened) for a in attackers if not a.trickle
              for opened, _, open_last, closed, _ in a.lives]
    return trickled, silent, sum(life[4] for a in attackers for life in a.lives)


def closed_within(lives, lo_s, hi_s):
    """Whether every close could have happened in [lo_s, hi_s]: none seen closed before lo_s,
    none seen still open after hi_s. Also (min seen closed, max seen open, widest window) for
    the message."""
    lo = min((c for _, c in lives), default=0)
    hi = max((o for o, _ in lives), default=0)
    widest = max((c - o for o, c in lives), default=0)
    return lo >= lo_s and hi <= hi_s, (f"seen closed at {lo:.2f} s at the soonest, seen open at "
                                       f"{hi:.2f} s at the latest (observation windows up to "
                                       f"{widest * 1000:.0f} ms)")


def check_timeouts(res, attackers):
    trickled, silent, answered = lifetimes(attackers)
    res.check("timeouts: no trickled query was answered", answered == 0,
              f"{answered} bytes came back")
    ok, span = closed_within(trickled, QUERY_TIMEOUT_S - 0.05, QUERY_TIMEOUT_S + SWEEP_S + 0.3)
    res.check(f"timeouts: {len(trickled)} tricklers closed by the query timeout (from their "
              f"first byte: {span})", len(trickled) >= 36 and ok, f"{len(trickled)} closed")
    ok, span = closed_within(silent, IDLE_S - 0.05, IDLE_S + SWEEP_S + 0.3)
    res.check(f"timeouts: {len(silent)} silent connections closed by the idle timeout (from "
              f"their open: {span})", len(silent) >= 3 and ok, f"{len(silent)} closed")


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
    ok, span = closed_within(trickled, 0, QUERY_TIMEOUT_S + SWEEP_S + 0.3)
    res.check("flood: no trickler outlived the query timeout", ok, span)


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


def run_all(res, t, log_path, alive):
    """The whole scenario against `t`; log_path: the dataplane's log; alive(): it still runs."""
    res.check("the dataplane logged the config's TCP limits", LIMITS_LINE in open(log_path).read(),
              open(log_path).read()[-500:])
    per_client_limit(res, t)
    attackers, results, _ = attack(t, silent_addresses=1, silent_each=3)
    check_clients(res, "timeouts", results)
    check_timeouts(res, attackers)
    attackers, results, samples = attack(t, silent_addresses=3, silent_each=PER_CLIENT)
    check_clients(res, "flood", results)
    check_flood(res, attackers, samples)
    check_log(res, log_path)
    res.check("the dataplane is alive after the attack", alive())
    res.check("dig +tcp answered after the attack", ask("dig", t.addr("client", 2), t)[1] == WWW)
    res.check("UDP answered after the attack",
              ask("dig", t.addr("client", 2), t, tcp=False)[1] == WWW)
