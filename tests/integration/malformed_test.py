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

import argparse
import atexit
import random
import re
import shutil
import signal
import socket
import struct
import subprocess
import time

ORIGIN = "malformed.test."
NSID = "sextant-malformed-nsid"
VERSION = "sextant-malformed-version"
IDENTITY = "sextant-malformed-identity"
UDP_SIZE = 1232  # server.edns_udp_size: no UDP reply may be larger
TIME_BUDGET = 50.0  # seconds for the whole run (ctest's timeout is far above)
REPLY_TIMEOUT = 2.0  # per exchange; only reached when the server misbehaves

ZONE = """\
$ORIGIN malformed.test.
$TTL 300
@       3600 IN SOA ns1 hostmaster 2024010101 7200 3600 1209600 300
@       3600 IN NS  ns1
        IN MX 10 mail
ns1     IN A     198.18.0.1
mail    IN A     198.18.0.25
www     IN A     198.18.1.1
www     IN A     198.18.1.2
www     IN AAAA  2001:db8:1::1
www 600 IN TXT   "hello"
alias   IN CNAME www
chain   IN CNAME alias
*.wild  IN A     198.18.2.1
sub     IN NS    ns.sub
ns.sub  IN A     198.18.6.1
sentinel IN TXT  "sentinel"
""" + "".join("big     IN A     198.18.9.%d\n" % i for i in range(1, 61))

QR, AA, TC, RD, RA, Z, AD, CD = 0x8000, 0x0400, 0x0200, 0x0100, 0x0080, 0x0040, 0x0020, 0x0010
NOERROR, FORMERR, SERVFAIL, NXDOMAIN, NOTIMP, REFUSED, NOTAUTH, BADVERS = 0, 1, 2, 3, 4, 5, 9, 16
SENSIBLE = frozenset([FORMERR, NOTIMP, REFUSED, NOERROR, NXDOMAIN, NOTAUTH, BADVERS])
ERRORS = frozenset([FORMERR, NOTIMP, REFUSED, NOTAUTH, BADVERS])

# Reply expectations: MAY = a reply is optional, MUST = a reply is required, NEVER = no reply.
MAY, MUST, NEVER = "may", "must", "never"


# ---------------------------------------------------------------------------
# Wire construction
# ---------------------------------------------------------------------------
def wname(text):
    return dns.name.from_text(text).to_wire()


def question(name, qtype=1, qclass=1):
    return (name if isinstance(name, bytes) else wname(name)) + struct.pack("!HH", qtype, qclass)


def header(qid=0x4d41, flags=0, qd=1, an=0, ns=0, ar=0, opcode=0):
    return struct.pack("!6H", qid, flags | (opcode << 11), qd, an, ns, ar)


def opt_rr(udp=1232, ver=0, do=False, opts=b"", ext=0, owner=b"\x00", zbits=0, rdlen=None):
    ttl = (ext << 24) | (ver << 16) | (0x8000 if do else 0) | zbits
    return owner + struct.pack("!HHIH", 41, udp, ttl, len(opts) if rdlen is None else rdlen) + opts


def option(code, data=b"", olen=None):
    return struct.pack("!HH", code, len(data) if olen is None else olen) + data


def ecs(family, source, scope, addr):
    return option(8, struct.pack("!HBB", family, source, scope) + addr)


def a_rr(owner=b"\xc0\x0c", rdata=b"\xc6\x12\x01\x01", rdlen=None, rtype=1):
    return owner + struct.pack("!HHIH", rtype, 1, 300, len(rdata) if rdlen is None else rdlen) + rdata


WWW = "www.malformed.test."
QWWW = question(WWW)


def query(name=WWW, qtype=1, qclass=1, qid=0x4d41, flags=0, opcode=0, edns=None, **opt_kw):
    """A well-formed query; edns=None: no OPT, else the OPT's UDP size."""
    w = header(qid, flags, 1, 0, 0, 0 if edns is None else 1, opcode) + question(name, qtype, qclass)
    if edns is not None:
        w += opt_rr(udp=edns, **opt_kw)
    return w


# ---------------------------------------------------------------------------
# Hostile corpus: (name, wire, expectation dict)
#   reply: MAY / MUST / NEVER;  rcodes: allowed rcodes when a reply comes (default SENSIBLE)
# ---------------------------------------------------------------------------
def build_hostile(seed):
    cases = []

    def add(name, wire, reply=MAY, rcodes=SENSIBLE, tcp=True, tcp_rcodes=None):
        cases.append(dict(name=name, wire=bytes(wire), reply=reply, rcodes=frozenset(rcodes),
                          tcp=tcp, tcp_rcodes=frozenset(tcp_rcodes or rcodes)))

    base = query()
    # Question-level malformation: Knot drops these, FORMERR is as good.
    BADQ = dict(reply=MAY, rcodes=[FORMERR])

    # --- truncated headers (0..11 bytes): below a header nothing can be answered -------------
    for n in range(12):
        add("short header %d bytes" % n, base[:n], reply=NEVER, tcp=n > 0)
    add("short header 11 bytes of 0xff", b"\xff" * 11, reply=NEVER)
    # --- truncated questions -------------------------------------------------------------
    for n in range(12, len(base)):
        add("truncated question at %d" % n, base[:n], **BADQ)
    add("qdcount 1, header only", header(qd=1), **BADQ)
    add("question without root label", header() + b"\x03www", **BADQ)
    add("question name, no type/class", header() + wname(WWW), **BADQ)
    add("question name, half a type", header() + wname(WWW) + b"\x00", **BADQ)
    add("question name, type only", header() + wname(WWW) + b"\x00\x01", **BADQ)
    add("question name, type + half class", header() + wname(WWW) + b"\x00\x01\x00", **BADQ)
    # --- compression pointers in the qname -----------------------------------------------
    ptr_cases = [
        ("pointer to itself (loop)", b"\xc0\x0c"),
        ("pointer to header", b"\xc0\x00"),
        ("pointer to header id", b"\xc0\x02"),
        ("label then pointer back to qname start (loop)", b"\x03www\xc0\x0c"),
        ("two pointers pointing at each other", b"\xc0\x0e\xc0\x0c"),
        ("pointer to pointer to itself", b"\xc0\x0e\xc0\x0e"),
        ("forward pointer past the question", b"\xc0\x20" + b"\x00" * 20),
        ("forward pointer to a valid name", b"\xc0\x12\x00\x01\x00\x01" + wname(WWW)),
        ("pointer beyond the packet", b"\xff\xff"),
        ("pointer 0x3fff", b"\xff\xff\x00\x01\x00\x01"),
        ("truncated pointer (last byte)", b"\xc0"),
        ("labels then forward pointer", b"\x03www\x09malformed\xc0\x20" + b"\x00" * 20),
        ("pointer chain of 100 hops", b"".join(struct.pack("!H", 0xc000 | (12 + 2 * (i + 1)))
                                               for i in range(100)) + b"\x00"),
        ("pointer with 0x80 type bits", b"\x80\x0c\x00\x01\x00\x01"),
        ("pointer with 0x40 type bits", b"\x40\x0c\x00\x01\x00\x01"),
    ]
    for n, qn in ptr_cases:
        add("qname " + n, header() + qn + (b"" if n.startswith("truncated") else b"\x00\x01\x00\x01"),
            **BADQ)
    # --- label length bytes 64..255 ------------------------------------------------------
    for l in range(64, 256):
        body = bytes([l]) + b"a" * min(l & 0x3f, 40) + wname("malformed.test.")
        add("qname label byte 0x%02x" % l, header() + body + b"\x00\x01\x00\x01", **BADQ)
    add("qname label byte 0x41 at end", header() + b"\x03www\x41" + b"\x00\x01\x00\x01", **BADQ)
    # --- name lengths around 255 ---------------------------------------------------------
    sfx = wname("malformed.test.")
    n255 = (b"\x3f" + b"a" * 63) * 3 + b"\x2e" + b"b" * 46 + sfx
    n256 = (b"\x3f" + b"a" * 63) * 3 + b"\x2f" + b"b" * 47 + sfx
    assert len(n255) == 255 and len(n256) == 256
    add("qname exactly 255 octets (NXDOMAIN)", header() + n255 + b"\x00\x01\x00\x01",
        reply=MUST, rcodes=[NXDOMAIN])
    add("qname 256 octets", header() + n256 + b"\x00\x01\x00\x01", **BADQ)
    add("qname 320 octets (5x63)", header() + (b"\x3f" + b"c" * 63) * 5 + b"\x00\x00\x01\x00\x01",
        **BADQ)
    add("qname 127 one-char labels (255 octets, REFUSED)",
        header() + b"\x01a" * 127 + b"\x00\x00\x01\x00\x01", reply=MUST, rcodes=[REFUSED])
    add("qname 128 one-char labels", header() + b"\x01a" * 128 + b"\x00\x00\x01\x00\x01", **BADQ)
    add("qname 600 one-char labels", header() + b"\x01a" * 300 + b"\x00\x00\x01\x00\x01", **BADQ)
    add("qname empty labels? (root then junk)", header() + b"\x00\x00\x01\x00\x01\x00", reply=MAY,
        rcodes=[FORMERR])
    add("qname with NUL and 0xff bytes in labels",
        header() + b"\x03\x00\xff\x2e" + sfx + b"\x00\x01\x00\x01", reply=MUST,
        rcodes=[NXDOMAIN])
    add("qname root", header() + b"\x00\x00\x02\x00\x01", reply=MUST, rcodes=[REFUSED])
    # --- qdcount ---------------------------------------------------------------------------
    add("qdcount 0, nothing else", header(qd=0), reply=MUST, rcodes=[FORMERR])
    add("qdcount 0 with EDNS", header(qd=0, ar=1) + opt_rr(), reply=MUST, rcodes=[FORMERR])
    add("qdcount 0 with question bytes", header(qd=0) + QWWW, reply=MUST, rcodes=[FORMERR])
    add("qdcount 2, one question", header(qd=2) + QWWW, **BADQ)
    add("qdcount 2, two questions", header(qd=2) + QWWW + QWWW, **BADQ)
    add("qdcount 2, two questions + EDNS", header(qd=2, ar=1) + QWWW + QWWW + opt_rr(), **BADQ)
    add("qdcount 65535, one question", header(qd=65535) + QWWW, **BADQ)
    add("qdcount 65535, nothing", header(qd=65535), **BADQ)
    add("qdcount 256, 40 questions", header(qd=256) + QWWW * 40, **BADQ)
    # --- record counts with no records behind them -----------------------------------------
    for an, ns, ar in [(1, 0, 0), (0, 1, 0), (0, 0, 1), (65535, 0, 0), (0, 65535, 0),
                       (0, 0, 65535), (65535, 65535, 65535), (2, 0, 0), (0, 3, 7)]:
        add("counts an=%d ns=%d ar=%d without records" % (an, ns, ar),
            header(an=an, ns=ns, ar=ar) + QWWW, reply=MUST, rcodes=[FORMERR])
    add("ancount 1 with a real A record (ignored)", header(an=1) + QWWW + a_rr(), reply=MUST,
        rcodes=[NOERROR])
    add("arcount 65535 with one OPT", header(ar=65535) + QWWW + opt_rr(), reply=MUST,
        rcodes=[FORMERR])
    add("ancount 1, record with 1-byte rdlen field", header(an=1) + QWWW + b"\xc0\x0c\x00\x01\x00",
        reply=MUST, rcodes=[FORMERR])
    add("ancount 1, record owner truncated pointer", header(an=1) + QWWW + b"\xc0", reply=MUST,
        rcodes=[FORMERR])
    add("ancount 1, owner label 0x80", header(an=1) + QWWW + b"\x80" + a_rr()[2:], reply=MAY,
        rcodes=[FORMERR])
    add("ancount 1, owner 200 labels (never ends)", header(an=1) + QWWW + b"\x01x" * 200,
        reply=MUST, rcodes=[FORMERR])
    # --- rdlength past the end --------------------------------------------------------------
    for rdlen in (5, 100, 0xffff):
        add("A record rdlen %d with 4 bytes (answer)" % rdlen,
            header(an=1) + QWWW + a_rr(rdlen=rdlen), reply=MUST, rcodes=[FORMERR])
        add("A record rdlen %d with 4 bytes (additional)" % rdlen,
            header(ar=1) + QWWW + a_rr(rdlen=rdlen), reply=MUST, rcodes=[FORMERR])
    add("OPT rdlen 0xffff, no data", header(ar=1) + QWWW + opt_rr(rdlen=0xffff), reply=MUST,
        rcodes=[FORMERR])
    add("OPT rdlen 6 with 4 bytes", header(ar=1) + QWWW + opt_rr(opts=option(10), rdlen=6),
        reply=MUST, rcodes=[FORMERR])
    add("OPT fixed part truncated", header(ar=1) + QWWW + opt_rr()[:7], reply=MUST,
        rcodes=[FORMERR])
    add("trailing garbage after question", base + b"\x00", reply=MUST, rcodes=[FORMERR])
    add("trailing garbage after OPT", query(edns=1232) + b"junk", reply=MUST, rcodes=[FORMERR])
    add("trailing 500 zero bytes", base + b"\x00" * 500, reply=MUST, rcodes=[FORMERR])
    # --- bad OPT ------------------------------------------------------------------------
    add("two OPT records", header(ar=2) + QWWW + opt_rr() + opt_rr(), reply=MUST,
        rcodes=[FORMERR])
    add("two OPT records, second bad version", header(ar=2) + QWWW + opt_rr() + opt_rr(ver=1),
        reply=MUST, rcodes=[FORMERR])
    add("OPT in the answer section", header(an=1) + QWWW + opt_rr(), reply=MUST, rcodes=[FORMERR])
    add("OPT in the authority section", header(ns=1) + QWWW + opt_rr(), reply=MUST,
        rcodes=[FORMERR])
    add("OPT in answer and additional", header(an=1, ar=1) + QWWW + opt_rr() + opt_rr(),
        reply=MUST, rcodes=[FORMERR])
    add("OPT option length overruns rdata",
        header(ar=1) + QWWW + opt_rr(opts=option(3, b"", olen=10)), reply=MUST, rcodes=[FORMERR])
    add("OPT option length 0xffff",
        header(ar=1) + QWWW + opt_rr(opts=option(10, b"12345678", olen=0xffff)), reply=MUST,
        rcodes=[FORMERR])
    for k in (1, 2, 3):
        add("OPT truncated option header (%d bytes)" % k,
            header(ar=1) + QWWW + opt_rr(opts=b"\x00\x03\x00"[:k]), reply=MUST, rcodes=[FORMERR])
    add("OPT good option then truncated header",
        header(ar=1) + QWWW + opt_rr(opts=option(3) + b"\x00\x08"), reply=MUST, rcodes=[FORMERR])
    add("OPT non-root owner (accepted)", header(ar=1) + QWWW + opt_rr(owner=wname(WWW)),
        reply=MUST, rcodes=[NOERROR])
    add("OPT owner is a pointer to the qname", header(ar=1) + QWWW + opt_rr(owner=b"\xc0\x0c"),
        reply=MUST, rcodes=[NOERROR])
    add("OPT owner is a forward pointer", header(ar=1) + QWWW + opt_rr(owner=b"\xc0\x30"),
        reply=MAY, rcodes=[NOERROR, FORMERR])
    for udp in (0, 1, 511, 512, 65535):
        add("OPT udp size %d" % udp, query(edns=udp), reply=MUST, rcodes=[NOERROR])
    add("OPT udp 0 asking for a big RRset", query("big.malformed.test.", edns=0), reply=MUST,
        rcodes=[NOERROR])
    add("OPT udp 65535 asking for a big RRset", query("big.malformed.test.", edns=65535),
        reply=MUST, rcodes=[NOERROR])
    add("OPT ext-rcode 0xff and Z bits", query(edns=1232, ext=0xff, zbits=0x7fff, do=True),
        reply=MUST, rcodes=[NOERROR])
    add("OPT with NSID + unknown options", query(edns=1232, opts=option(3) + option(65001, b"x" * 30)
                                                 + option(10, b"12345678") + option(12, b"\x00" * 50)),
        reply=MUST, rcodes=[NOERROR])
    add("OPT with NSID carrying data", query(edns=1232, opts=option(3, b"\xff" * 300)), reply=MUST,
        rcodes=[NOERROR])
    add("OPT 100 NSID options", query(edns=1232, opts=option(3) * 100), reply=MUST,
        rcodes=[NOERROR])
    # --- ECS --------------------------------------------------------------------------------
    # Knot ignores ECS entirely (NOERROR); Sextant FORMERRs a malformed one (RFC 7871 s. 7.1.2).
    ECSBAD = dict(reply=MUST, rcodes=[NOERROR, FORMERR])
    bad_ecs = [
        ("family 0", ecs(0, 0, 0, b"")),
        ("family 0 prefix 24", ecs(0, 24, 0, b"\x0a\x00\x00")),
        ("family 3", ecs(3, 24, 0, b"\x0a\x00\x00")),
        ("family 0xffff", ecs(0xffff, 8, 0, b"\x0a")),
        ("v4 prefix 33", ecs(1, 33, 0, b"\x0a\x00\x00\x01\x00")),
        ("v4 prefix 255", ecs(1, 255, 0, b"\x0a" * 32)),
        ("v6 prefix 129", ecs(2, 129, 0, b"\x20" * 17)),
        ("v6 prefix 129, 16 address bytes", ecs(2, 129, 0, b"\x20" * 16)),
        ("v4/24 address too long (4 bytes)", ecs(1, 24, 0, b"\x0a\x00\x00\x01")),
        ("v4/24 address too short (2 bytes)", ecs(1, 24, 0, b"\x0a\x00")),
        ("v4/32 address empty", ecs(1, 32, 0, b"")),
        ("v6/56 address too long (16 bytes)", ecs(2, 56, 0, b"\x20\x01\x0d\xb8" + b"\x00" * 12)),
        ("v6/56 address too short (3 bytes)", ecs(2, 56, 0, b"\x20\x01\x0d")),
        ("v4/0 with an address byte", ecs(1, 0, 0, b"\x0a")),
        ("v4/20 non-zero bits beyond prefix", ecs(1, 20, 0, b"\x0a\x00\xff")),
        ("v4/1 non-zero bits beyond prefix", ecs(1, 1, 0, b"\x7f")),
        ("v6/60 non-zero bits beyond prefix", ecs(2, 60, 0, b"\x20\x01\x0d\xb8\x00\x00\x00\x0f")),
        ("v4/24 non-zero scope", ecs(1, 24, 24, b"\x0a\x00\x00")),
        ("v6/56 scope 255", ecs(2, 56, 255, b"\x20\x01\x0d\xb8\x00\x00\x00")),
        ("truncated option (3 bytes)", option(8, b"\x00\x01\x18")),
        ("empty option", option(8)),
        ("duplicated valid", ecs(1, 24, 0, b"\x0a\x00\x00") * 2),
        ("valid then bad", ecs(1, 24, 0, b"\x0a\x00\x00") + ecs(3, 0, 0, b"")),
    ]
    for n, o in bad_ecs:
        add("ECS " + n, query(edns=1232, opts=o), **ECSBAD)
        add("ECS " + n + " + NSID + DO", query(edns=1232, do=True, opts=option(3) + o), **ECSBAD)
    for n, o in [("v4/24", ecs(1, 24, 0, b"\x0a\x00\x00")), ("v4/0", ecs(1, 0, 0, b"")),
                 ("v4/32", ecs(1, 32, 0, b"\x0a\x00\x00\x01")),
                 ("v6/56", ecs(2, 56, 0, b"\x20\x01\x0d\xb8\x00\x00\x00")),
                 ("v6/128", ecs(2, 128, 0, b"\x20\x01\x0d\xb8" + b"\x00" * 11 + b"\x01"))]:
        add("ECS valid " + n, query(edns=1232, opts=o), reply=MUST, rcodes=[NOERROR])
    add("ECS valid v6/128 on a REFUSED name",
        query("example.com.", edns=1232, opts=option(3) + ecs(2, 128, 0, b"\xff" * 16)),
        reply=MUST, rcodes=[REFUSED])
    add("ECS valid v4 with big RRset, udp 512",
        query("big.malformed.test.", edns=512, opts=option(3) + ecs(1, 32, 0, b"\x0a\x00\x00\x01")),
        reply=MUST, rcodes=[NOERROR])
    # --- EDNS version ------------------------------------------------------------------------
    for ver in (1, 2, 255):
        add("EDNS version %d" % ver, query(edns=1232, ver=ver), reply=MUST, rcodes=[BADVERS])
        add("EDNS version %d + NSID + DO" % ver, query(edns=1232, ver=ver, do=True,
                                                        opts=option(3)),
            reply=MUST, rcodes=[BADVERS])
    add("EDNS version 1, qdcount 0", header(qd=0, ar=1) + opt_rr(ver=1), reply=MUST,
        rcodes=[BADVERS, FORMERR])
    add("EDNS version 1, out of zone", query("example.com.", edns=1232, ver=1), reply=MUST,
        rcodes=[BADVERS])
    add("EDNS version 1 with bad ECS", query(edns=1232, ver=1, opts=ecs(3, 0, 0, b"")),
        reply=MUST, rcodes=[BADVERS, FORMERR])
    # --- QR=1: never answered ---------------------------------------------------------------
    add("QR=1 valid query", query(flags=QR), reply=NEVER)
    add("QR=1 with EDNS", query(flags=QR, edns=1232), reply=NEVER)
    add("QR=1 all flags", query(flags=0xffff & ~0x7800), reply=NEVER)
    add("QR=1 qdcount 0", header(flags=QR, qd=0), reply=NEVER)
    add("QR=1 header only, garbage after", header(flags=QR) + b"\xff" * 40, reply=NEVER)
    add("QR=1 looks like a response to us", header(flags=QR | AA, an=1) + QWWW + a_rr(),
        reply=NEVER)
    for op in range(16):
        add("QR=1 opcode %d" % op, query(flags=QR, opcode=op), reply=NEVER)
    # --- every opcode ------------------------------------------------------------------------
    for op in range(16):
        # NOTIFY (4) and UPDATE (5): Knot says NOTAUTH, Sextant NOTIMP (it implements neither).
        want = [NOERROR] if op == 0 else [NOTAUTH, NOTIMP] if op in (4, 5) else [NOTIMP]
        add("opcode %d" % op, query(opcode=op), reply=MUST, rcodes=want)
        add("opcode %d with EDNS" % op, query(opcode=op, edns=1232, opts=option(3)), reply=MUST,
            rcodes=want)
        add("opcode %d qdcount 0" % op, header(opcode=op, qd=0), reply=MUST,
            rcodes=[FORMERR, NOTIMP])
    add("opcode NOTIFY for SOA", query(ORIGIN, 6, opcode=4), reply=MUST, rcodes=[NOTAUTH, NOTIMP])
    add("opcode UPDATE with a prerequisite", header(opcode=5, an=1) + question(ORIGIN, 6) + a_rr(),
        reply=MUST, rcodes=[NOTAUTH, NOTIMP, FORMERR])
    # --- header flag noise ------------------------------------------------------------------
    add("all flags but QR set, rcode 15", query(flags=0x7fff & ~0x7800), reply=MUST,
        rcodes=[NOERROR])
    add("TC set in query", query(flags=TC), reply=MUST, rcodes=[NOERROR])
    add("AD CD DO", query(flags=AD | CD, edns=1232, do=True), reply=MUST, rcodes=[NOERROR])
    # --- qtype / qclass extremes ------------------------------------------------------------
    for qt, want in [(0, [NOTIMP]), (41, [NOERROR]), (250, [NOERROR]), (251, [NOTAUTH]),
                     (252, [NOTIMP]), (253, [NOERROR]), (254, [NOERROR]), (255, [NOERROR]),
                     (256, [NOERROR]), (0x7fff, [NOERROR]), (0xff00, [NOERROR]),
                     (0xfffe, [NOERROR]), (0xffff, [NOERROR])]:
        # AXFR: NOTIMP over UDP (RFC 5936 s. 4.2), NOTAUTH over TCP (no transfers offered).
        add("qtype %d" % qt, query(qtype=qt), reply=MUST, rcodes=want,
            tcp_rcodes=[NOTAUTH] if qt == 252 else None)
    add("qtype ANY at a CNAME", query("alias.malformed.test.", 255), reply=MUST, rcodes=[NOERROR])
    add("qtype ANY at the apex", query(ORIGIN, 255), reply=MUST, rcodes=[NOERROR])
    add("qtype ANY below the cut", query("x.sub.malformed.test.", 255), reply=MUST,
        rcodes=[NOERROR])
    add("qtype DS at the cut", query("sub.malformed.test.", 43), reply=MUST, rcodes=[NOERROR])
    add("qtype 0 qclass 0", query(qtype=0, qclass=0), reply=MUST, rcodes=[NOTIMP, REFUSED])
    for qc, want in [(0, [REFUSED]), (2, [REFUSED]), (3, [REFUSED]), (4, [REFUSED]),
                     (254, [REFUSED]), (255, [NOERROR]), (256, [REFUSED]), (0xffff, [REFUSED])]:
        add("qclass %d" % qc, query(qclass=qc), reply=MUST, rcodes=want)
    add("qclass CH TXT version.bind", query("version.bind.", 16, 3), reply=MUST, rcodes=[NOERROR])
    add("qclass CH TXT VERSION.BIND + EDNS 512 + NSID",
        query("VERSION.BIND.", 16, 3, edns=512, opts=option(3)), reply=MUST, rcodes=[NOERROR])
    add("qclass CH TXT id.server", query("id.server.", 16, 3), reply=MUST, rcodes=[NOERROR])
    add("qclass CH A version.bind", query("version.bind.", 1, 3), reply=MUST, rcodes=[REFUSED])
    add("qclass CH TXT x.version.bind", query("x.version.bind.", 16, 3), reply=MUST,
        rcodes=[REFUSED])
    add("qclass CH ANY hostname.bind", query("hostname.bind.", 255, 3), reply=MUST,
        rcodes=[REFUSED])
    add("AXFR", query(ORIGIN, 252), reply=MUST, rcodes=[NOTIMP], tcp_rcodes=[NOTAUTH])
    add("IXFR over UDP", query(ORIGIN, 251), reply=MUST, rcodes=[NOTAUTH])

    # --- random bytes (fixed seed) ------------------------------------------------------------
    rnd = random.Random(seed)
    for i in range(150):
        n = rnd.randint(0, 600)
        w = bytes(rnd.getrandbits(8) for _ in range(n))
        if i % 3 == 0 and n >= 12:
            # A third look like queries (QR=0, qdcount 1) so the parser gets past the header.
            w = w[:2] + bytes([w[2] & 0x7f]) + w[3:4] + b"\x00\x01" + w[6:]
        add("random #%d (%d bytes)" % (i, n), w, reply=expect_for_random(w), tcp=i % 5 == 0)
    # --- bit-flipped valid queries (fixed seed) ------------------------------------------------
    bases = [query(), query("alias.malformed.test.", 1, edns=1232, do=True, opts=option(3)),
             query("nx.malformed.test.", 28, edns=512,
                   opts=ecs(1, 24, 0, b"\x0a\x00\x00") + option(10, b"01234567")),
             query("foo.wild.malformed.test.", 255), query("x.sub.malformed.test.", 1, edns=4096),
             query("big.malformed.test.", 1, edns=1232), query("version.bind.", 16, 3, edns=1232)]
    for i in range(180):
        b = bytearray(bases[i % len(bases)])
        for _ in range(rnd.randint(1, 4)):
            bit = rnd.randrange(len(b) * 8)
            b[bit // 8] ^= 1 << (bit % 8)
        add("bitflip #%d" % i, bytes(b), reply=expect_for_random(bytes(b)), tcp=i % 5 == 0)
    return cases


def expect_for_random(w):
    if len(w) < 12 or w[2] & 0x80:
        return NEVER
    return MAY


# ---------------------------------------------------------------------------
# Reply checks
# ---------------------------------------------------------------------------
def name_end(w, i):
    """End offset of an uncompressed name at w[i:], or None."""
    while i < len(w):
        l = w[i]
        if l == 0:
            return i + 1
        if l > 63:
            return None
        i += 1 + l
    return None


def for_dnspython(r):
    """dnspython 2.3 refuses messages with an opcode it does not know (3, 6-15), which are
    legitimate NOTIMP replies, and reads UPDATE (5) with UPDATE's rules (zone section of type
    SOA): it gets a copy with opcode 0 (the opcode is checked separately)."""
    if len(r) >= 3 and (r[2] >> 3) & 0xF not in (0, 1, 2, 4):
        return r[:2] + bytes([r[2] & 0x87]) + r[3:]
    return r


def check_reply(q, r, tcp, rcodes):
    """Problems with reply r to query q (empty list = fine)."""
    p = []
    if len(r) < 12:
        return ["reply shorter than a header (%d bytes)" % len(r)]
    rid, rfl, qd, an, ns, ar = struct.unpack("!6H", r[:12])
    qid, qfl = struct.unpack("!HH", q[:4])
    if rid != qid:
        p.append("reply id %#06x != query id %#06x" % (rid, qid))
    if not rfl & QR:
        p.append("QR not set in reply")
    if (rfl >> 11) & 0xF != (qfl >> 11) & 0xF:
        p.append("opcode %d not echoed (query %d)" % ((rfl >> 11) & 0xF, (qfl >> 11) & 0xF))
    header_only = len(r) == 12 and qd == an == ns == ar == 0
    rcode = rfl & 0xF
    has_opt = False
    try:
        m = dns.message.from_wire(for_dnspython(r))
        rcode = m.rcode()
        has_opt = m.edns >= 0
        if len(m.question) > 1:
            p.append("%d questions in reply" % len(m.question))
    except Exception as e:  # noqa: BLE001 - any parse failure is the finding
        if not header_only:
            p.append("dnspython cannot parse the reply: %s: %s" % (type(e).__name__, e))
            return p
    if rcode not in rcodes:
        p.append("rcode %s not in %s" % (rcode_text(rcode), "/".join(sorted(map(rcode_text, rcodes)))))
    if qd == 1:
        # The question is echoed byte for byte (case and all) from the query.
        end = name_end(r, 12)
        if end is None or end + 4 > len(r):
            p.append("reply question is malformed")
        elif r[12:end + 4] != q[12:end + 4]:
            p.append("reply question %s differs from the query's %s" % (
                r[12:end + 4].hex(), q[12:end + 4].hex()))
    if rcode in ERRORS and (an or ns):
        p.append("%s with answer/authority records (%d/%d)" % (rcode_text(rcode), an, ns))
    if not tcp:
        if len(r) > UDP_SIZE:
            p.append("UDP reply of %d bytes > %d" % (len(r), UDP_SIZE))
        if not has_opt and len(r) > 512:
            p.append("UDP reply without OPT of %d bytes > 512" % len(r))
    elif rfl & TC:
        p.append("TC over TCP")
    return p


def rcode_text(v):
    try:
        return dns.rcode.to_text(v)
    except Exception:  # noqa: BLE001
        return str(v)


def rrset_key(m, section):
    out = set()
    for rrset in section:
        for rd in rrset:
            out.add((rrset.name.to_text().lower(), dns.rdatatype.to_text(rrset.rdtype),
                     dns.rdataclass.to_text(rrset.rdclass), rrset.ttl, rd.to_text().lower()))
    return out


# Valid queries interleaved with the hostile ones: (name, qtype, edns, rcode, answer, authority
# types). Answers are exact sets of (owner, type, class, ttl, rdata).
M = ORIGIN
VALID = [
    ("www." + M, "A", None, NOERROR,
     {("www." + M, "A", "IN", 300, "198.18.1.1"), ("www." + M, "A", "IN", 300, "198.18.1.2")}, []),
    ("www." + M, "AAAA", 1232, NOERROR, {("www." + M, "AAAA", "IN", 300, "2001:db8:1::1")}, []),
    ("chain." + M, "A", None, NOERROR,
     {("chain." + M, "CNAME", "IN", 300, "alias." + M),
      ("alias." + M, "CNAME", "IN", 300, "www." + M),
      ("www." + M, "A", "IN", 300, "198.18.1.1"), ("www." + M, "A", "IN", 300, "198.18.1.2")}, []),
    ("alias." + M, "CNAME", None, NOERROR, {("alias." + M, "CNAME", "IN", 300, "www." + M)}, []),
    ("nx." + M, "A", 1232, NXDOMAIN, set(), ["SOA"]),
    ("a.b.wild." + M, "A", None, NOERROR, {("a.b.wild." + M, "A", "IN", 300, "198.18.2.1")}, []),
    ("WwW.MaLfOrMeD.tEsT.", "TXT", None, NOERROR, {("www." + M, "TXT", "IN", 600, '"hello"')}, []),
    ("www." + M, "MX", None, NOERROR, set(), ["SOA"]),
]


def check_valid(r, qid, spec):
    name, qtype, edns, rcode, answer, auth = spec
    if r is None:
        return ["no reply"]
    try:
        m = dns.message.from_wire(r)
    except Exception as e:  # noqa: BLE001
        return ["unparseable: %s" % e]
    p = []
    if m.id != qid:
        p.append("id %d != %d" % (m.id, qid))
    if m.rcode() != rcode:
        p.append("rcode %s, expected %s" % (rcode_text(m.rcode()), rcode_text(rcode)))
    if not m.flags & dns.flags.AA:
        p.append("AA not set")
    if m.flags & dns.flags.TC:
        p.append("TC set")
    got = rrset_key(m, m.answer)
    if got != answer:
        p.append("answer %s, expected %s" % (sorted(got), sorted(answer)))
    got_auth = sorted(dns.rdatatype.to_text(rs.rdtype) for rs in m.authority)
    if got_auth != sorted(auth):
        p.append("authority types %s, expected %s" % (got_auth, sorted(auth)))
    if (m.edns >= 0) != (edns is not None):
        p.append("OPT %s in reply" % ("present" if m.edns >= 0 else "missing"))
    return p


def make_valid(spec, qid):
    name, qtype, edns, _, _, _ = spec
    kw = {} if edns is None else dict(use_edns=0, payload=edns)
    m = dns.message.make_query(name, qtype, **kw)
    m.flags = 0
    m.id = qid
    return m.to_wire()


SENTINEL_SPEC = ("sentinel." + M, "TXT", None, NOERROR,
                 {("sentinel." + M, "TXT", "IN", 300, '"sentinel"')}, [])


def sentinel_id(hostile):
    """An ID that differs from the hostile packet's."""
    hid = struct.unpack("!H", hostile[:2])[0] if len(hostile) >= 2 else -1
    return 0x5e5e if hid != 0x5e5e else 0x5e5f


def is_sentinel_reply(r, sid):
    return len(r) >= 12 and struct.unpack("!H", r[:2])[0] == sid and b"\x08sentinel" in r[12:40]


# ---------------------------------------------------------------------------
# Transport
# ---------------------------------------------------------------------------
def udp_exchange(port, wire, sid):
    """Sends wire then the sentinel; returns (replies before the sentinel's, sentinel reply)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    replies = []
    try:
        s.connect(("127.0.0.1", port))
        try:
            s.send(wire)
            s.send(make_valid(SENTINEL_SPEC, sid))
        except ConnectionRefusedError:  # ICMP port unreachable: nobody listens (yet)
            return replies, None
        deadline = time.monotonic() + REPLY_TIMEOUT
        while True:
            rem = deadline - time.monotonic()
            if rem <= 0:
                return replies, None
            s.settimeout(rem)
            try:
                r = s.recv(65535)
            except (socket.timeout, ConnectionRefusedError):
                return replies, None
            if is_sentinel_reply(r, sid):
                return replies, r
            replies.append(r)
    finally:
        s.close()


def frame(w):
    return struct.pack("!H", len(w)) + w


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
        while True:
            m = rd.next(deadline)
            if m is None:
                return replies, None
            if is_sentinel_reply(m, sid):
                return replies, m
            replies.append(m)
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
        f.write("instance: %s\nzones:\n  - origin: %s\n    file: %s\n"
                "server:\n  edns_udp_size: %d\n  nsid: \"%s\"\n  version: \"%s\"\n"
                "  identity: \"%s\"\n" % (instance, ORIGIN, zone, UDP_SIZE, NSID, VERSION,
                                          IDENTITY))
    publish_once(control, cfg, workdir, timeout=60)

    def ready(port, p):
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if p.poll() is not None:
                raise RuntimeError("sextant-dataplane exited with status %s at start-up" %
                                   p.returncode)
            _, r = udp_exchange(port, b"", 0x5e5e)  # an empty datagram is dropped, then the sentinel
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
        replies, sent = (tcp_exchange if tcp else udp_exchange)(self.port, w, sid)
        name = "%s %s" % (transport, c["name"])
        p = []
        if not self.alive(name):
            return False
        if sent is None:
            p.append("sentinel query after the packet got no reply (server wedged?)")
        else:
            p += ["sentinel: " + x for x in check_valid(sent, sid, SENTINEL_SPEC)]
        if len(replies) > 1:
            p.append("%d replies to one packet" % len(replies))
        if c["reply"] == NEVER and replies:
            p.append("a reply came; none expected (%s)" % replies[0][:64].hex())
        if c["reply"] == MUST and not replies and sent is not None:
            p.append("no reply; one expected (rcode %s)" % "/".join(
                sorted(map(rcode_text, c["rcodes"]))))
        for r in replies[:1]:
            if len(w) < 12:
                continue  # already reported: nothing may answer a sub-header packet
            p += check_reply(w, r, tcp, c["tcp_rcodes"] if tcp else c["rcodes"])
        self.result(name, p, w)
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
            extra, sent = udp_exchange(self.port, w, 0x5e5e)
            r = extra[0] if extra else None
        self.result("valid %s %s %s" % (transport, spec[0], spec[1]), check_valid(r, qid, spec))


def tcp_framing_cases():
    """Framing abuse over one TCP connection each: the chunks to send (with `delay` between
    them), whether to half-close afterwards, and what must come back: a list with one entry per
    reply (a VALID spec = that exact answer, "any" = any sane reply, ("pipelined", i) = the i-th
    of a pipeline), "any" for any number of sane replies, or "formerr"."""
    good = [VALID[0], VALID[2], VALID[4]]
    q = [make_valid(s, 0x6000 + i) for i, s in enumerate(good)]
    cases = []

    def add(name, chunks, expect, shutdown=True, delay=0.0):
        cases.append(dict(name=name, chunks=chunks, expect=expect, shutdown=shutdown, delay=delay))

    add("length 0 frame then a valid frame", [b"\x00\x00" + frame(q[0])], [])
    add("length 0xffff with 100 bytes", [b"\xff\xff" + b"\x00" * 100], [])
    add("length 4097 (over the limit) with the bytes", [b"\x10\x01" + q[0] + b"\x00" *
                                                        (4097 - len(q[0]))], [])
    add("length 4096 (at the limit): query + trailing zeros",
        [b"\x10\x00" + q[0] + b"\x00" * (4096 - len(q[0]))], "formerr")
    add("length larger than the data, then EOF", [struct.pack("!H", len(q[0]) + 10) + q[0]], [])
    add("length shorter than the data", [struct.pack("!H", len(q[0]) - 5) + q[0]], "any")
    add("only one byte of length", [b"\x00"], [])
    add("only the length", [struct.pack("!H", len(q[0]))], [])
    add("length 5 (short header) then a valid frame", [frame(b"\x12\x34\x00\x00\x00")
                                                       + frame(q[0])], [good[0]])
    add("length 1 then a valid frame", [b"\x00\x01\x00" + frame(q[0])], [good[0]])
    add("length prefix split from the body", [b"\x00", bytes([len(q[0])]) + q[0][:5], q[0][5:]],
        [good[0]], delay=0.05)
    add("valid frame one byte at a time", [bytes([b]) for b in frame(q[1])], [good[1]],
        delay=0.003)
    add("three frames pipelined then a truncated one",
        [frame(q[0]) + frame(q[1]) + frame(q[2]) + struct.pack("!H", 40) + b"\x00" * 10],
        [good[0], good[1], good[2]])
    add("valid, garbage, valid", [frame(q[0]) + frame(b"\x99\x99" + b"\x01" * 40)
                                  + frame(q[2])], [good[0], "any", good[2]])
    add("20 frames pipelined (over the 16 pipelining limit)",
        [b"".join(frame(make_valid(VALID[0], 0x6100 + i)) for i in range(20))],
        [("pipelined", i) for i in range(20)])
    add("valid frame, no EOF from the client (server must answer)", [frame(q[2])], [good[2]],
        shutdown=False)
    return cases, q


def generic_reply_problems(r):
    """Checks for a reply to a query we cannot pin down (framing garbage)."""
    if len(r) < 12 or not r[2] & 0x80:
        return ["malformed reply %s" % r[:32].hex()]
    try:
        m = dns.message.from_wire(for_dnspython(r))
    except Exception as e:  # noqa: BLE001
        return ["unparseable reply: %s" % e]
    return [] if m.rcode() in SENSIBLE else ["rcode %s" % rcode_text(m.rcode())]


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
