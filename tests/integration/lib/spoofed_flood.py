"""A reflection attack on loopback: one name queried over UDP from many source addresses of
127.0.0.0/8 (Linux treats the whole /8 as local, so a socket bound to 127.a.b.c sends from it
and gets its replies), as an attacker spoofing many victims would, beside other clients. Counts,
per group of sources, what came back: full answers, truncated ones (TC=1: rate limiting's slip),
and nothing. Used by rate_limit_test.py, and meant for the soak test's flood."""
import select
import socket
import struct
import time


def query(qid, name, qtype=1):
    """A plain DNS query (no EDNS) for `name`, type `qtype`, class IN."""
    wire = b"".join(bytes([len(label)]) + label.encode()
                    for label in name.rstrip(".").split(".")) + b"\0"
    return struct.pack("!6H", qid, 0, 1, 0, 0, 0) + wire + struct.pack("!HH", qtype, 1)


class Group:
    """Sources that send alike: every `interval` seconds each (0: as fast as the loop goes)."""

    def __init__(self, name, sources, interval=0.0):
        self.name = name
        self.sources = sources
        self.interval = interval
        self.sent = 0
        self.answers = 0     # responses with TC=0
        self.truncated = 0   # TC=1
        self.tc_with_records = 0  # TC=1 responses that still carried records (should be none)
        self.socks = []
        self.next_at = 0.0


def _drain(by_fd, timeout):
    ready, _, _ = select.select(list(by_fd), [], [], timeout)
    for fd in ready:
        sock, g = by_fd[fd]
        while True:
            try:
                data = sock.recv(4096)
            except BlockingIOError:
                break
            if len(data) < 12:
                continue
            flags, an, ns, ar = data[2], *struct.unpack("!3H", data[6:12])
            if flags & 0x02:
                g.truncated += 1
                g.tc_with_records += (an + ns + ar) != 0
            else:
                g.answers += 1


def flood(port, name, groups, seconds, server="127.0.0.1"):
    """Runs every group against server:port for `seconds` (then drains the replies for half a
    second); the counts are in the groups."""
    by_fd = {}
    for g in groups:
        for src in g.sources:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
            s.bind((src, 0))
            s.setblocking(False)
            s.connect((server, port))
            g.socks.append(s)
            by_fd[s.fileno()] = (s, g)
    msg = query(0x5151, name)
    start = time.time()
    end = start + seconds
    sends = 0
    try:
        while time.time() < end:
            now = time.time()
            for g in groups:
                if g.interval and now < g.next_at:
                    continue
                g.next_at = now + g.interval
                for s in g.socks:
                    try:
                        s.send(msg)
                        g.sent += 1
                    except BlockingIOError:
                        pass
                    sends += 1
                    if sends % 64 == 0:
                        _drain(by_fd, 0)
            _drain(by_fd, 0.0005)
        drain_end = time.time() + 0.5
        while time.time() < drain_end:
            _drain(by_fd, 0.05)
    finally:
        for g in groups:
            for s in g.socks:
                s.close()
            g.socks = []
    return time.time() - start
