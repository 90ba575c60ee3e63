#!/usr/bin/python3
"""The soak test's answer checker: asks one server a steady mix of questions for a while and
checks every answer that comes back against the rules of tests/integration/soak_test.py's zone,
whatever state (zone version, health, geo map) the server is in at that moment:

  alias.soak.test A   CNAME vK.soak.test + vK.soak.test A 198.18.(100 + K // 250).(K % 250):
                      the chain and its address from one zone version (never a mix), and K never
                      going backwards on this server (one socket = one serving thread)
  pool.soak.test A    a non-empty subset of the pool's members, or its fallback alone
  www.soak.test A     (ECS: London) exactly one datacenter's address, or the fallback
  nxN.soak.test A     NXDOMAIN with the zone's SOA
  keep.other.test A   198.18.30.1 (the other zone never changes: a corrupt copy is refused)

Prints one JSON object at the end: sent, answered, lost, truncated, wrong (with up to 20
examples), versions (first and last K seen). Runs inside the lab namespace or on the host.

  soak_checker.py SERVER PORT SECONDS QPS"""
import json
import random
import socket
import sys
import time

import dns.edns
import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype

POOL = {"198.18.20.1", "198.18.20.2", "198.18.20.3"}
POOL_FALLBACK = {"198.18.20.9"}
GEO = {"198.18.1.1", "198.18.2.1", "198.18.3.1"}
GEO_FALLBACK = "198.18.9.9"


def version_address(k):
    return f"198.18.{100 + k // 250}.{k % 250}"


def records(msg, rdtype):
    return [(str(rr.name), r.to_text()) for rr in msg.answer if rr.rdtype == rdtype for r in rr]


class Checker:
    def __init__(self):
        self.stats = {"sent": 0, "answered": 0, "lost": 0, "truncated": 0, "wrong": 0,
                      "examples": [], "versions": [], "by_kind": {}}
        self.last_version = 0

    def wrong(self, kind, why, msg):
        self.stats["wrong"] += 1
        if len(self.stats["examples"]) < 20:
            self.stats["examples"].append(f"{kind}: {why}: {msg.to_text()[:600]}")

    def check_alias(self, msg):
        cname = records(msg, dns.rdatatype.CNAME)
        a = records(msg, dns.rdatatype.A)
        if msg.rcode() != dns.rcode.NOERROR or len(cname) != 1 or len(a) != 1:
            return self.wrong("alias", "want one CNAME and one A", msg)
        target = cname[0][1]
        if not (target.startswith("v") and target.endswith(".soak.test.")):
            return self.wrong("alias", "CNAME target", msg)
        k = int(target[1:target.index(".")])
        if a[0] != (target, version_address(k)):
            return self.wrong("alias", f"A of v{k} is not from the same version", msg)
        if k < self.last_version:
            return self.wrong("alias", f"version went back {self.last_version} -> {k}", msg)
        if k != self.last_version:
            self.stats["versions"].append(k)
        self.last_version = k

    def check_pool(self, msg):
        got = {r for _, r in records(msg, dns.rdatatype.A)}
        if msg.rcode() != dns.rcode.NOERROR or not got or \
                not (got <= POOL or got == POOL_FALLBACK):
            self.wrong("pool", f"members {sorted(got)}", msg)

    def check_geo(self, msg):
        got = [r for _, r in records(msg, dns.rdatatype.A)]
        if msg.rcode() != dns.rcode.NOERROR or len(got) != 1 or \
                (got[0] not in GEO and got[0] != GEO_FALLBACK):
            self.wrong("geo", f"answer {got}", msg)

    def check_nx(self, msg):
        soa = [rr for rr in msg.authority if rr.rdtype == dns.rdatatype.SOA]
        if msg.rcode() != dns.rcode.NXDOMAIN or len(soa) != 1:
            self.wrong("nx", "want NXDOMAIN with SOA", msg)

    def check_other(self, msg):
        if records(msg, dns.rdatatype.A) != [("keep.other.test.", "198.18.30.1")]:
            self.wrong("other", "keep.other.test changed", msg)


def question(i):
    kind = ("alias", "pool", "geo", "nx", "other")[i % 5]
    name = {"alias": "alias.soak.test", "pool": "pool.soak.test", "geo": "www.soak.test",
            "nx": f"nx{random.randrange(1 << 30)}.soak.test", "other": "keep.other.test"}[kind]
    q = dns.message.make_query(name, "A", use_edns=0, payload=1232)
    q.flags &= ~dns.flags.RD
    if kind == "geo":
        q.use_edns(0, payload=1232, options=[dns.edns.ECSOption("81.2.69.160", 32)])
    return kind, q


def main():
    server, port, seconds, qps = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), \
        float(sys.argv[4])
    family = socket.AF_INET6 if ":" in server else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.settimeout(1.0)
    c = Checker()
    checks = {"alias": c.check_alias, "pool": c.check_pool, "geo": c.check_geo,
              "nx": c.check_nx, "other": c.check_other}
    end = time.time() + seconds
    i = 0
    while time.time() < end:
        t0 = time.time()
        kind, q = question(i)
        i += 1
        sock.sendto(q.to_wire(), (server, port))
        c.stats["sent"] += 1
        c.stats["by_kind"][kind] = c.stats["by_kind"].get(kind, 0) + 1
        msg = None
        while msg is None:
            try:
                data, _ = sock.recvfrom(65535)
            except socket.timeout:
                break
            r = dns.message.from_wire(data)
            if r.id == q.id:  # a late answer to an earlier (lost) query is skipped
                msg = r
        if msg is None:
            c.stats["lost"] += 1
        elif msg.flags & dns.flags.TC:
            c.stats["truncated"] += 1
        else:
            c.stats["answered"] += 1
            checks[kind](msg)
        time.sleep(max(0.0, 1.0 / qps - (time.time() - t0)))
    v = c.stats["versions"]
    c.stats["versions"] = [v[0], v[-1], len(v)] if v else []
    print(json.dumps(c.stats), flush=True)


if __name__ == "__main__":
    main()
