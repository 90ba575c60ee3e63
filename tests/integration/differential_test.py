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

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data")
ZONES = [("diff.test.", os.path.join(DATA, "diff.test.zone")),
         ("other.test.", os.path.join(DATA, "other.test.zone"))]

IDENTITY = "sextant-diff-identity"
VERSION = "sextant-diff-version"
NSID = "sextant-diff-nsid"
UDP_SIZE = 1232

UDP_TIMEOUT = 1.0
TCP_TIMEOUT = 2.0

# ---------------------------------------------------------------------------
# Wire construction
# ---------------------------------------------------------------------------
QR, AA, TC, RD, RA, Z, AD, CD = 0x8000, 0x0400, 0x0200, 0x0100, 0x0080, 0x0040, 0x0020, 0x0010
T = dns.rdatatype
C_IN, C_CH, C_HS, C_NONE, C_ANY = 1, 3, 4, 254, 255


def qname(n):
    return dns.name.from_text(n).to_wire()


def question(n, t=1, c=C_IN):
    return qname(n) + struct.pack("!HH", int(t), c)


def opt(udp=1232, ver=0, do=False, opts=b"", ext=0, owner=b"\x00", zbits=0):
    ttl = (ext << 24) | (ver << 16) | (0x8000 if do else 0) | zbits
    return owner + struct.pack("!HHIH", 41, udp, ttl, len(opts)) + opts


def option(code, data=b""):
    return struct.pack("!HH", code, len(data)) + data


def ecs(family, source, scope, addr):
    return option(8, struct.pack("!HBB", family, source, scope) + addr)


def raw_msg(qs=(), ar=(), flags=0, opcode=0, qd=None, an=0, ns=0, arc=None, extra=b""):
    """Header + questions + additional records + extra bytes; ID patched later."""
    fl = flags | (opcode << 11)
    hdr = struct.pack("!6H", 0, fl, len(qs) if qd is None else qd, an, ns,
                      len(ar) if arc is None else arc)
    return hdr + b"".join(qs) + b"".join(ar) + extra


def mq(name, rdtype="A", rdclass="IN", edns=None, payload=1232, do=False, options=None,
       rd=False, flags_extra=0):
    """A well-formed query built with dns.message.make_query (ID patched later)."""
    kw = {}
    if edns is not None:
        kw = dict(use_edns=edns, payload=payload, want_dnssec=do, options=options or [])
    m = dns.message.make_query(name, rdtype, rdclass, **kw)
    m.flags = (RD if rd else 0) | flags_extra
    m.id = 0
    return m.to_wire()


# ---------------------------------------------------------------------------
# Corpus: (name, wire, transport). Names are unique and stable (they are the
# keys of KNOWN_DIFFERENCES).
# ---------------------------------------------------------------------------
def build_corpus():
    cases = []

    def add(name, wire, tcp=False):
        cases.append((name, wire, tcp if isinstance(tcp, str) else ("tcp" if tcp else "udp")))

    W = question("www.diff.test", T.A)
    # --- exact hits ---------------------------------------------------------
    add("www A", mq("www.diff.test", "A"))
    add("www AAAA", mq("www.diff.test", "AAAA"))
    add("www TXT", mq("www.diff.test", "TXT"))
    add("apex SOA", mq("diff.test", "SOA"))
    add("apex NS", mq("diff.test", "NS"))
    add("apex MX", mq("diff.test", "MX"))
    add("apex TXT", mq("diff.test", "TXT"))
    add("apex CAA", mq("diff.test", "CAA"))
    add("apex DS (NODATA)", mq("diff.test", "DS"))
    add("ns1 A", mq("ns1.diff.test", "A"))
    add("ns2 AAAA (TTL 7200)", mq("ns2.diff.test", "AAAA"))
    add("mail AAAA", mq("mail.diff.test", "AAAA"))
    add("SRV _sip._tcp", mq("_sip._tcp.diff.test", "SRV"))
    add("TXT multi-string", mq("txt.diff.test", "TXT"))
    add("TXT long 504B no EDNS", mq("longtxt.diff.test", "TXT"))
    add("PTR ptr", mq("ptr.diff.test", "PTR"))
    add("PTR in-addr style", mq("1.1.18.198.in-addr.diff.test", "PTR"))
    add("unknown TYPE65400", mq("unk.diff.test", "TYPE65400"))
    add("unknown TYPE65401 NODATA", mq("unk.diff.test", "TYPE65401"))
    add("unk A", mq("unk.diff.test", "A"))
    add("$INCLUDE inc A", mq("inc.diff.test", "A"))
    add("$INCLUDE inc TXT TTL 60", mq("inc.diff.test", "TXT"))
    add("after $INCLUDE origin restored", mq("afterinc.diff.test", "A"))
    add("other.test host A", mq("host.other.test", "A"))
    add("other.test SOA", mq("other.test", "SOA"))
    add("other.test wildcard", mq("x.w.other.test", "A"))
    # --- case --------------------------------------------------------------
    add("mixed case WwW.DiFf.TeSt A", mq("WwW.DiFf.TeSt", "A"))
    add("mixed case NXDOMAIN", mq("NoSuch.DIFF.test", "A"))
    add("mixed case CNAME chain", mq("CHAIN1.Diff.Test", "A"))
    add("mixed case wildcard", mq("ABC.Wild.diff.TEST", "TXT"))
    add("mixed case referral", mq("WWW.SUB.DIFF.TEST", "A"))
    add("mixed case MX", mq("dIfF.tEsT", "MX", edns=0))
    add("upper case refused", mq("WWW.EXAMPLE.COM", "A"))
    # --- NODATA / NXDOMAIN ---------------------------------------------------
    add("NODATA onlya AAAA", mq("onlya.diff.test", "AAAA"))
    add("NODATA onlyaaaa A", mq("onlyaaaa.diff.test", "A"))
    add("NODATA www RRSIG", mq("www.diff.test", "RRSIG"))
    add("NODATA qtype OPT", mq("www.diff.test", "OPT"))
    add("NODATA qtype MAILB", raw_msg([question("diff.test", 253)]))
    add("NXDOMAIN", mq("nx.diff.test", "A"))
    add("NXDOMAIN EDNS", mq("nx.diff.test", "A", edns=0))
    add("NXDOMAIN DO", mq("nx.diff.test", "A", edns=0, do=True))
    add("NXDOMAIN deep", mq("a.b.c.nx.diff.test", "TXT"))
    add("NXDOMAIN other.test", mq("nx.other.test", "A"))
    add("NODATA EDNS DO", mq("onlya.diff.test", "AAAA", edns=0, do=True))
    # --- CNAME -------------------------------------------------------------
    add("CNAME chain len 3", mq("chain1.diff.test", "A"))
    add("CNAME chain len 3 TXT", mq("chain1.diff.test", "TXT"))
    add("CNAME chain mid", mq("chain2.diff.test", "AAAA"))
    add("CNAME chain to NODATA", mq("chain1.diff.test", "MX"))
    add("CNAME qtype CNAME", mq("chain1.diff.test", "CNAME"))
    add("CNAME into other.test", mq("tother.diff.test", "A"))
    add("CNAME into other.test AAAA", mq("tother.diff.test", "AAAA"))
    add("CNAME other.test back into diff.test", mq("back.other.test", "A"))
    add("CNAME to other.test CNAME", mq("tothercname.diff.test", "A"))
    add("CNAME out of zone", mq("tout.diff.test", "A"))
    add("CNAME loop", mq("loopa.diff.test", "A"))
    add("CNAME loop other end", mq("loopb.diff.test", "TXT"))
    add("CNAME self loop", mq("self.diff.test", "A"))
    add("CNAME to nonexistent", mq("dangling.diff.test", "A"))
    add("CNAME to nonexistent EDNS", mq("dangling.diff.test", "AAAA", edns=0))
    add("CNAME to wildcard", mq("towild.diff.test", "A"))
    add("CNAME to wildcard NODATA", mq("towild.diff.test", "AAAA"))
    add("CNAME to ENT", mq("toent.diff.test", "A"))
    add("CNAME to below cut", mq("tosub.diff.test", "A"))
    # --- wildcards -----------------------------------------------------------
    add("wildcard A", mq("foo.wild.diff.test", "A"))
    add("wildcard TXT", mq("foo.wild.diff.test", "TXT"))
    add("wildcard NODATA AAAA", mq("foo.wild.diff.test", "AAAA"))
    add("wildcard deep 3 labels", mq("a.b.c.wild.diff.test", "A"))
    add("wildcard literal *", mq("*.wild.diff.test", "A"))
    add("wildcard parent is ENT", mq("wild.diff.test", "A"))
    add("wildcard blocked by existing name", mq("x.exists.wild.diff.test", "A"))
    add("wildcard sibling exists A", mq("exists.wild.diff.test", "A"))
    add("wildcard sibling exists NODATA", mq("exists.wild.diff.test", "TXT"))
    add("wildcard CNAME", mq("abc.wcname.diff.test", "A"))
    add("wildcard CNAME deep", mq("x.y.wcname.diff.test", "AAAA"))
    add("wildcard CNAME out of zone", mq("abc.wcout.diff.test", "A"))
    add("wildcard under ENT", mq("q.a.went.diff.test", "A"))
    add("wildcard under ENT MX additional", mq("z.q.a.went.diff.test", "MX"))
    add("wildcard under ENT NODATA", mq("q.a.went.diff.test", "TXT"))
    # --- ENT -----------------------------------------------------------------
    add("ENT NODATA", mq("ent.diff.test", "A"))
    add("ENT NODATA EDNS", mq("ent.diff.test", "TXT", edns=0))
    add("below ENT NXDOMAIN", mq("nope.ent.diff.test", "A"))
    add("below ENT exists", mq("x.ent.diff.test", "A"))
    add("ENT above wildcard a.went", mq("a.went.diff.test", "A"))
    add("ENT went", mq("went.diff.test", "A"))
    add("NXDOMAIN below ENT went", mq("zz.went.diff.test", "A"))
    # --- delegation ----------------------------------------------------------
    add("referral at cut A", mq("sub.diff.test", "A"))
    add("referral www.sub", mq("www.sub.diff.test", "A"))
    add("referral occluded deep TXT", mq("deep.below.sub.diff.test", "TXT"))
    add("referral nonexistent below cut", mq("nothing.sub.diff.test", "A"))
    add("referral glue name itself", mq("ns.sub.diff.test", "A"))
    add("referral NS at cut", mq("sub.diff.test", "NS"))
    add("referral DS at cut (no DS)", mq("sub.diff.test", "DS"))
    add("referral DS at cut (DS present)", mq("secure.diff.test", "DS"))
    add("referral DS below cut", mq("x.sub.diff.test", "DS"))
    add("referral secure A", mq("www.secure.diff.test", "A"))
    add("referral EDNS", mq("www.sub.diff.test", "A", edns=0))
    add("referral RD", mq("www.sub.diff.test", "A", rd=True))
    # --- positive-answer extras --------------------------------------------
    add("RD copied", mq("www.diff.test", "A", rd=True))
    add("CD in query", raw_msg([W], flags=CD))
    add("AD in query", raw_msg([W], flags=AD))
    add("CD with DO", raw_msg([W], [opt(do=True)], flags=CD))
    add("TC in query ignored", raw_msg([W], flags=TC))
    add("AA RA Z in query ignored", raw_msg([W], flags=AA | RA | Z))
    add("rcode bits in query ignored", raw_msg([W], flags=3))
    add("ancount=1 in query", raw_msg([W], an=1, extra=qname("www.diff.test") + struct.pack("!HHIH", 1, 1, 0, 4) + b"\x01\x02\x03\x04"))
    # --- ANY -----------------------------------------------------------------
    add("ANY apex UDP", mq("diff.test", "ANY"))
    add("ANY apex UDP EDNS", mq("diff.test", "ANY", edns=0))
    add("ANY apex TCP", mq("diff.test", "ANY"), tcp=True)
    add("ANY www UDP", mq("www.diff.test", "ANY"))
    add("ANY www TCP", mq("www.diff.test", "ANY"), tcp=True)
    add("ANY txt", mq("txt.diff.test", "ANY"))
    add("ANY onlyaaaa", mq("onlyaaaa.diff.test", "ANY"))
    add("ANY CNAME node", mq("chain1.diff.test", "ANY"))
    add("ANY wildcard", mq("q.wild.diff.test", "ANY"))
    add("ANY NXDOMAIN", mq("nx.diff.test", "ANY"))
    add("ANY ENT", mq("ent.diff.test", "ANY"))
    add("ANY at cut", mq("sub.diff.test", "ANY"))
    add("ANY big TCP", mq("big.diff.test", "ANY"), tcp=True)
    # --- out of zone ---------------------------------------------------------
    add("REFUSED out of zone", mq("www.example.com", "A"))
    add("REFUSED out of zone EDNS", mq("www.example.com", "A", edns=0))
    add("REFUSED root NS", mq(".", "NS"))
    add("REFUSED parent test. SOA", mq("test", "SOA"))
    add("REFUSED sibling zone name", mq("notdiff.test", "A"))
    add("REFUSED TCP", mq("www.example.com", "A"), tcp=True)
    # --- classes -------------------------------------------------------------
    add("CH TXT version.bind", mq("version.bind", "TXT", "CH"))
    add("CH TXT version.bind EDNS", mq("version.bind", "TXT", "CH", edns=0))
    add("CH TXT VERSION.BIND upper", mq("VERSION.BIND", "TXT", "CH"))
    add("CH TXT id.server", mq("id.server", "TXT", "CH"))
    add("CH TXT version.server", mq("version.server", "TXT", "CH"))
    add("CH TXT hostname.bind", mq("hostname.bind", "TXT", "CH"))
    add("CH TXT authors.bind", mq("authors.bind", "TXT", "CH"))
    add("CH TXT other name", mq("foo.bar", "TXT", "CH"))
    add("CH TXT zone name", mq("www.diff.test", "TXT", "CH"))
    add("CH TXT below version.bind", mq("x.version.bind", "TXT", "CH"))
    add("CH A version.bind", mq("version.bind", "A", "CH"))
    add("CH ANY version.bind", mq("version.bind", "ANY", "CH"))
    add("CH TXT version.bind TCP", mq("version.bind", "TXT", "CH"), tcp=True)
    add("qclass ANY", raw_msg([question("www.diff.test", T.A, C_ANY)]))
    add("qclass NONE", raw_msg([question("www.diff.test", T.A, C_NONE)]))
    add("qclass HS", raw_msg([question("www.diff.test", T.A, C_HS)]))
    add("qclass 77", raw_msg([question("www.diff.test", T.A, 77)]))
    # --- opcodes -------------------------------------------------------------
    add("opcode IQUERY", raw_msg([W], opcode=1))
    add("opcode STATUS", raw_msg([W], opcode=2))
    add("opcode STATUS EDNS", raw_msg([W], [opt()], opcode=2))
    add("opcode 3", raw_msg([W], opcode=3))
    add("opcode NOTIFY", raw_msg([question("diff.test", T.SOA)], opcode=4, flags=AA))
    add("opcode UPDATE", raw_msg([question("diff.test", T.SOA)], opcode=5))
    add("opcode 6 DSO", raw_msg([W], opcode=6))
    add("opcode 15", raw_msg([W], opcode=15))
    add("opcode STATUS TCP", raw_msg([W], opcode=2), tcp=True)
    # --- special qtypes ------------------------------------------------------
    add("qtype AXFR over UDP", raw_msg([question("diff.test", 252)]))
    add("qtype 0", raw_msg([question("www.diff.test", 0)]))
    # --- malformed -----------------------------------------------------------
    add("QR=1 dropped", raw_msg([W], flags=QR))
    add("QR=1 dropped TCP", raw_msg([W], flags=QR), tcp=True)
    add("qdcount 0", raw_msg([]))
    add("qdcount 0 EDNS", raw_msg([], [opt()]))
    add("qdcount 0 TCP", raw_msg([]), tcp=True)
    add("qdcount 2", raw_msg([W, question("ns1.diff.test", T.A)]))
    add("qdcount 2 EDNS", raw_msg([W, question("ns1.diff.test", T.A)], [opt()]))
    add("qdcount 1 without question", raw_msg([], qd=1))
    add("question without qtype", raw_msg([], qd=1, extra=qname("www.diff.test")))
    add("compression loop in qname", raw_msg([], qd=1, extra=b"\x03www\xc0\x0c" + struct.pack("!HH", 1, 1)))
    add("bad label type 0x41", raw_msg([], qd=1, extra=b"\x41" + b"a" * 65 + b"\x00" + struct.pack("!HH", 1, 1)))
    add("short header 11 bytes", b"\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00")
    add("trailing garbage", raw_msg([W], extra=b"\xde\xad\xbe\xef"))
    add("trailing garbage after OPT", raw_msg([W], [opt()], extra=b"\xde\xad"))
    add("nscount claims missing RR", raw_msg([W], ns=1))
    add("arcount claims missing RR", raw_msg([W], arc=1))
    # --- EDNS ----------------------------------------------------------------
    add("EDNS 512", mq("www.diff.test", "A", edns=0, payload=512))
    add("EDNS 1232", mq("www.diff.test", "A", edns=0, payload=1232))
    add("EDNS 4096", mq("www.diff.test", "A", edns=0, payload=4096))
    add("EDNS 65535", mq("www.diff.test", "A", edns=0, payload=65535))
    add("EDNS 100 (below 512)", mq("www.diff.test", "A", edns=0, payload=100))
    add("EDNS 0 (below 512)", mq("www.diff.test", "A", edns=0, payload=0))
    add("EDNS DO", mq("www.diff.test", "A", edns=0, do=True))
    add("EDNS DO TCP", mq("www.diff.test", "A", edns=0, do=True), tcp=True)
    add("EDNS Z bits", raw_msg([W], [opt(zbits=0x4000)]))
    add("EDNS ext-rcode in query", raw_msg([W], [opt(ext=1)]))
    add("BADVERS v1", raw_msg([W], [opt(ver=1)]))
    add("BADVERS v1 TCP", raw_msg([W], [opt(ver=1)]), tcp=True)
    add("BADVERS v1 DO", raw_msg([W], [opt(ver=1, do=True)]))
    add("BADVERS v255", raw_msg([W], [opt(ver=255)]))
    add("BADVERS v1 NSID", raw_msg([W], [opt(ver=1, opts=option(3))]))
    add("BADVERS v1 out of zone", raw_msg([question("www.example.com", 1)], [opt(ver=1)]))
    add("unknown option", raw_msg([W], [opt(opts=option(65001, b"abc"))]))
    add("unknown option empty", raw_msg([W], [opt(opts=option(65001))]))
    add("COOKIE client only", raw_msg([W], [opt(opts=option(10, b"\x01" * 8))]))
    add("PADDING option", raw_msg([W], [opt(opts=option(12, b"\x00" * 10))]))
    add("NSID", raw_msg([W], [opt(opts=option(3))]))
    add("NSID TCP", raw_msg([W], [opt(opts=option(3))]), tcp=True)
    add("NSID with payload", raw_msg([W], [opt(opts=option(3, b"xx"))]))
    add("NSID + unknown option", raw_msg([W], [opt(opts=option(65001) + option(3))]))
    add("NSID NXDOMAIN", raw_msg([question("nx.diff.test", 1)], [opt(opts=option(3))]))
    add("NSID REFUSED", raw_msg([question("www.example.com", 1)], [opt(opts=option(3))]))
    add("NSID CH version.bind", raw_msg([question("version.bind", 16, C_CH)], [opt(opts=option(3))]))
    add("two OPT records", raw_msg([W], [opt(), opt()]))
    add("OPT non-root owner", raw_msg([W], [opt(owner=qname("www.diff.test"))]))
    add("OPT option overruns RDATA", raw_msg([W], [b"\x00" + struct.pack("!HHIH", 41, 1232, 0, 4) + struct.pack("!HH", 3, 10)]))
    add("OPT in answer section", raw_msg([W], an=1, arc=0, extra=opt()))
    # --- ECS -----------------------------------------------------------------
    add("ECS v4/24", raw_msg([W], [opt(opts=ecs(1, 24, 0, bytes([198, 18, 1])))]))
    add("ECS v4/0", raw_msg([W], [opt(opts=ecs(1, 0, 0, b""))]))
    add("ECS v4/32", raw_msg([W], [opt(opts=ecs(1, 32, 0, bytes([198, 18, 1, 5])))]))
    add("ECS v6/56", raw_msg([W], [opt(opts=ecs(2, 56, 0, bytes.fromhex("20010db8000100")))]))
    add("ECS v4/24 + NSID", raw_msg([W], [opt(opts=ecs(1, 24, 0, bytes([198, 18, 1])) + option(3))]))
    add("ECS v4/24 NXDOMAIN", raw_msg([question("nx.diff.test", 1)], [opt(opts=ecs(1, 24, 0, bytes([198, 18, 1])))]))
    add("ECS bad family", raw_msg([W], [opt(opts=ecs(3, 24, 0, bytes([1, 2, 3])))]))
    add("ECS v4 prefix 33", raw_msg([W], [opt(opts=ecs(1, 33, 0, bytes([1, 2, 3, 4, 5])))]))
    add("ECS v6 prefix 129", raw_msg([W], [opt(opts=ecs(2, 129, 0, b"\x20" + b"\x00" * 16))]))
    add("ECS nonzero bits beyond prefix", raw_msg([W], [opt(opts=ecs(1, 20, 0, bytes([198, 18, 255])))]))
    add("ECS address longer than prefix", raw_msg([W], [opt(opts=ecs(1, 16, 0, bytes([198, 18, 0])))]))
    add("ECS address shorter than prefix", raw_msg([W], [opt(opts=ecs(1, 24, 0, bytes([198, 18])))]))
    add("ECS truncated option", raw_msg([W], [opt(opts=option(8, b"\x00\x01\x18"))]))
    # --- truncation ----------------------------------------------------------
    add("TC big no EDNS", mq("big.diff.test", "A"))
    add("big EDNS 1232", mq("big.diff.test", "A", edns=0, payload=1232))
    add("TC big EDNS 512", mq("big.diff.test", "A", edns=0, payload=512))
    add("TC big EDNS 100", mq("big.diff.test", "A", edns=0, payload=100))
    add("big TCP", mq("big.diff.test", "A"), tcp=True)
    add("TC huge no EDNS", mq("huge.diff.test", "A"))
    add("TC huge EDNS 1232", mq("huge.diff.test", "A", edns=0, payload=1232))
    add("TC huge EDNS 4096", mq("huge.diff.test", "A", edns=0, payload=4096))
    add("TC huge EDNS 4096 NSID", raw_msg([question("huge.diff.test", 1)], [opt(udp=4096, opts=option(3))]))
    add("TC huge EDNS DO", mq("huge.diff.test", "A", edns=0, payload=4096, do=True))
    add("huge TCP", mq("huge.diff.test", "A"), tcp=True)
    add("huge TCP EDNS", mq("huge.diff.test", "A", edns=0), tcp=True)
    add("TC hugetxt no EDNS", mq("hugetxt.diff.test", "TXT"))
    add("TC hugetxt EDNS 1232", mq("hugetxt.diff.test", "TXT", edns=0))
    add("hugetxt TCP", mq("hugetxt.diff.test", "TXT"), tcp=True)
    add("TC big referral no EDNS", mq("www.bigref.diff.test", "A"))
    add("TC big referral NS no EDNS", mq("bigref.diff.test", "NS"))
    add("big referral EDNS 1232", mq("www.bigref.diff.test", "A", edns=0))
    add("big referral TCP", mq("www.bigref.diff.test", "A"), tcp=True)
    add("big referral glue name EDNS", mq("nameserver07.bigref.diff.test", "AAAA", edns=0))
    # --- TCP subset ----------------------------------------------------------
    add("www A TCP", mq("www.diff.test", "A"), tcp=True)
    add("mixed case TCP", mq("wWw.diff.TEST", "AAAA"), tcp=True)
    add("NXDOMAIN TCP", mq("nx.diff.test", "A"), tcp=True)
    add("NODATA TCP", mq("onlya.diff.test", "AAAA"), tcp=True)
    add("CNAME chain TCP", mq("chain1.diff.test", "A"), tcp=True)
    add("wildcard TCP", mq("a.b.wild.diff.test", "TXT"), tcp=True)
    add("referral TCP", mq("www.sub.diff.test", "A"), tcp=True)
    add("MX TCP EDNS", mq("diff.test", "MX", edns=0), tcp=True)
    add("ECS v4/24 TCP", raw_msg([W], [opt(opts=ecs(1, 24, 0, bytes([198, 18, 1])))]), tcp=True)
    add("trailing garbage TCP", raw_msg([W], extra=b"\x00\x00"), tcp=True)
    add("TCP pipelined 3 queries", mq("www.diff.test", "A"), tcp="tcp3")
    add("TCP pipelined 3 NXDOMAIN EDNS", mq("nx.diff.test", "A", edns=0), tcp="tcp3")
    # --- odd names -------------------------------------------------------------
    add("qname with escaped dot", mq(r"www\.sub.diff.test", "A"))
    add("qname with non-ASCII byte", mq(r"\200www.diff.test", "A"))
    add("qname binary label under wildcard", mq(r"w\201w.wild.diff.test", "A"))
    add("qname 255 octets NXDOMAIN", mq(".".join(["a" * 61] * 3 + ["b" * 57]) + ".diff.test", "A"))
    add("qname over 255 octets", raw_msg([], qd=1, extra=(b"\x3f" + b"a" * 63) * 4 + b"\x00" + struct.pack("!HH", 1, 1)))
    add("qname many labels under wildcard", mq(".".join(["x"] * 100) + ".wild.diff.test", "TXT"))
    add("qname root-only label under zone", mq("_.diff.test", "A"))
    # --- more combinations -----------------------------------------------------
    add("ANY with DO EDNS", mq("www.diff.test", "ANY", edns=0, do=True))
    add("CNAME chain EDNS DO", mq("chain1.diff.test", "A", edns=0, do=True))
    add("big referral EDNS 512", mq("www.bigref.diff.test", "A", edns=0, payload=512))
    add("CH TXT version.bind RD", mq("version.bind", "TXT", "CH", rd=True))
    add("other.test mixed case NODATA", mq("HOST.Other.Test", "MX"))
    add("other.test DS at apex", mq("other.test", "DS"))
    add("other.test NS EDNS NSID", raw_msg([question("other.test", T.NS)], [opt(opts=option(3))]))
    add("SRV TCP", mq("_sip._tcp.diff.test", "SRV"), tcp=True)
    return cases


def build_disabled_corpus():
    """Run against servers with identity/version/nsid disabled (Knot: empty strings;
    Sextant: keys absent): CH TXT must be REFUSED and no NSID sent."""
    cases = []

    def add(name, wire, tcp=False):
        cases.append(("disabled: " + name, wire, "tcp" if tcp else "udp"))
    for n in ("version.bind", "version.server", "id.server", "hostname.bind", "VERSION.BIND"):
        add("CH TXT " + n, mq(n, "TXT", "CH"))
    add("CH TXT version.bind EDNS", mq("version.bind", "TXT", "CH", edns=0))
    add("CH TXT id.server TCP", mq("id.server", "TXT", "CH"), tcp=True)
    add("CH TXT other name", mq("foo.bar", "TXT", "CH"))
    add("NSID not sent", raw_msg([question("www.diff.test", T.A)], [opt(opts=option(3))]))
    add("NSID not sent REFUSED", raw_msg([question("www.example.com", T.A)], [opt(opts=option(3))]))
    add("NSID not sent BADVERS", raw_msg([question("www.diff.test", T.A)], [opt(ver=1, opts=option(3))]))
    add("www A", mq("www.diff.test", "A"))
    return cases


# ---------------------------------------------------------------------------
# Documented deliberate differences. Each entry is compared with the custom
# rule of the same name in RULES (never skipped). In --self-test mode (Knot
# against Knot) these cases are compared exactly like all others.
# ---------------------------------------------------------------------------
KNOWN_DIFFERENCES = {
    "opcode NOTIFY":
        "Knot answers NOTAUTH (no ACL); the spec asks NOTIMP for every opcode != QUERY. "
        "Rule: Knot's answer with rcode NOTIMP, everything else identical.",
    "opcode UPDATE":
        "Knot answers NOTAUTH (no ACL); the spec asks NOTIMP for every opcode != QUERY. "
        "Rule: Knot's answer with rcode NOTIMP, everything else identical.",
    "qdcount 2":
        "Knot drops a query with two questions; the spec asks FORMERR for malformed questions. "
        "Rule: a reply with QR=1, rcode FORMERR, opcode QUERY, same ID, AA/TC clear, "
        "empty answer/authority (question section and OPT not checked).",
    "qdcount 2 EDNS":
        "As 'qdcount 2' (Knot drops; spec: FORMERR). Same rule.",
    "qdcount 1 without question":
        "Knot drops; spec: FORMERR for malformed questions. Rule as 'qdcount 2'.",
    "question without qtype":
        "Knot drops; spec: FORMERR for malformed questions. Rule as 'qdcount 2'.",
    "compression loop in qname":
        "Knot drops; spec: FORMERR for malformed questions. Rule as 'qdcount 2'.",
    "bad label type 0x41":
        "Knot drops; spec: FORMERR for malformed questions. Rule as 'qdcount 2'.",
    "qname over 255 octets":
        "Knot drops; spec: FORMERR for malformed questions. Rule as 'qdcount 2'.",
    "ECS v4/24":
        "Knot ignores ECS; the spec asks ECS to be echoed with scope 0. "
        "Rule: Knot's answer with the query's ECS option (scope 0) added to the OPT.",
    "ECS v4/0":
        "Knot ignores ECS; spec: echo with scope 0. Rule as 'ECS v4/24'.",
    "ECS v4/32":
        "Knot ignores ECS; spec: echo with scope 0. Rule as 'ECS v4/24'.",
    "ECS v6/56":
        "Knot ignores ECS; spec: echo with scope 0. Rule as 'ECS v4/24'.",
    "ECS v4/24 + NSID":
        "Knot ignores ECS; spec: echo with scope 0. Rule as 'ECS v4/24' (NSID as Knot).",
    "ECS v4/24 NXDOMAIN":
        "Knot ignores ECS; spec: echo with scope 0. Rule as 'ECS v4/24'.",
    "ECS v4/24 TCP":
        "Knot ignores ECS; spec: echo with scope 0. Rule as 'ECS v4/24'.",
    "ECS bad family":
        "Knot ignores ECS; spec: FORMERR on a bad ECS family. Rule: FORMERR, QR=1, AA/TC clear, "
        "question echoed, empty answer/authority, OPT present (version 0, udp 1232); "
        "OPT options not checked.",
    "ECS v4 prefix 33":
        "Knot ignores ECS; spec: FORMERR on a source prefix longer than the family allows. "
        "Rule as 'ECS bad family'.",
    "ECS v6 prefix 129":
        "Knot ignores ECS; spec: FORMERR on a source prefix longer than the family allows. "
        "Rule as 'ECS bad family'.",
    "ECS nonzero bits beyond prefix":
        "Knot ignores ECS; spec: FORMERR on non-zero address bits beyond the source prefix. "
        "Rule as 'ECS bad family'.",
    "ECS address longer than prefix":
        "Knot ignores ECS; RFC 7871 7.1.1: more ADDRESS octets than the prefix needs -> FORMERR. "
        "Rule as 'ECS bad family'.",
    "ECS address shorter than prefix":
        "Knot ignores ECS; fewer ADDRESS octets than the prefix needs is malformed -> FORMERR. "
        "Rule as 'ECS bad family'.",
    "ECS truncated option":
        "Knot ignores ECS; a 3-byte ECS option is malformed -> FORMERR. Rule as 'ECS bad family'.",
}


# ---------------------------------------------------------------------------
# Wire parsing / normalisation
# ---------------------------------------------------------------------------
FLAG_BITS = [("QR", QR), ("AA", AA), ("TC", TC), ("RD", RD), ("RA", RA), ("Z", Z), ("AD", AD), ("CD", CD)]


class Parsed:
    pass


def _read_name(wire, off):
    name, used = dns.name.from_wire(wire, off)
    return name, off + used


def parse_response(wire):
    """Return a dict describing the response, or {'present': False}."""
    if wire is None:
        return {"present": False}
    r = {"present": True, "len": len(wire)}
    if len(wire) < 12:
        r["error"] = "short message"
        r["raw"] = wire.hex()
        return r
    id_, fl, qd, an, ns, ar = struct.unpack("!6H", wire[:12])
    r["id"] = id_
    r["opcode"] = (fl >> 11) & 0xF
    r["hdr_rcode"] = fl & 0xF
    r["flags"] = tuple(n for n, b in FLAG_BITS if fl & b)
    r["counts"] = (qd, an, ns, ar)
    try:
        off = 12
        qs = []
        for _ in range(qd):
            n, off = _read_name(wire, off)
            t, c = struct.unpack("!HH", wire[off:off + 4])
            if len(wire) < off + 4:
                raise ValueError("truncated question")
            off += 4
            qs.append((n.to_text(), c, t))  # exact case
        r["question"] = tuple(qs)
        secs = {}
        opts = []
        for sec, cnt in (("answer", an), ("authority", ns), ("additional", ar)):
            rrs = []
            for _ in range(cnt):
                owner, off = _read_name(wire, off)
                if len(wire) < off + 10:
                    raise ValueError("truncated RR header")
                t, c, ttl, rdlen = struct.unpack("!HHIH", wire[off:off + 10])
                off += 10
                if len(wire) < off + rdlen:
                    raise ValueError("truncated RDATA")
                rdwire = wire[off:off + rdlen]
                if t == 41:
                    opts.append((sec, owner, c, ttl, rdwire))
                else:
                    rd = dns.rdata.from_wire(c, t, wire, off, rdlen)
                    rrs.append((owner, c, t, ttl, rd))
                off += rdlen
            secs[sec] = rrs
        r["trailing"] = len(wire) - off
    except Exception as e:  # malformed response: compare raw bytes
        r["error"] = "unparseable: %s" % e
        r["raw"] = wire.hex()
        return r
    r["rr_text"] = {}
    for sec, rrs in secs.items():
        grouped = {}
        text = []
        for owner, c, t, ttl, rd in rrs:
            key = (owner.to_text().lower(), dns.rdataclass.to_text(c), dns.rdatatype.to_text(t))
            grouped.setdefault(key, []).append((ttl, rd.to_digestable().hex()))
            text.append("%s %d %s %s %s" % (owner.to_text(), ttl, key[1], key[2], rd.to_text()))
        r[sec] = {k: tuple(sorted(v)) for k, v in grouped.items()}
        r["rr_text"][sec] = text
    r["opt_count"] = len(opts)
    ext = 0
    if opts:
        sec, owner, udp, ttl, rdwire = opts[0]
        ext = (ttl >> 24) & 0xFF
        options = []
        p = 0
        bad = False
        while p < len(rdwire):
            if p + 4 > len(rdwire):
                bad = True
                break
            code, olen = struct.unpack("!HH", rdwire[p:p + 4])
            options.append((code, rdwire[p + 4:p + 4 + olen].hex()))
            if p + 4 + olen > len(rdwire):
                bad = True
            p += 4 + olen
        r["opt"] = {
            "section": sec,
            "owner": owner.to_text(),
            "udp": udp,
            "version": (ttl >> 16) & 0xFF,
            "do": bool(ttl & 0x8000),
            "zbits": ttl & 0x7FFF,
            "options": tuple(sorted(options)),
            "malformed_options": bad,
        }
    else:
        r["opt"] = None
    r["rcode"] = (ext << 4) | r["hdr_rcode"]
    return r


COMPARED_FIELDS = ["present", "error", "raw", "id", "opcode", "rcode", "flags", "question",
                   "answer", "authority", "additional", "opt_count", "opt", "trailing"]


def rcode_text(v):
    try:
        return dns.rcode.to_text(v)
    except Exception:
        return str(v)


def describe(r):
    """Human-readable rendering of a parsed response."""
    if not r["present"]:
        return ["  (no response)"]
    if "error" in r:
        return ["  %s: %s" % (r["error"], r.get("raw", ""))]
    out = ["  id=%d opcode=%d rcode=%s flags=%s counts=%s len=%d" % (
        r["id"], r["opcode"], rcode_text(r["rcode"]), " ".join(r["flags"]) or "-",
        "/".join(map(str, r["counts"])), r["len"])]
    for q in r["question"]:
        out.append("  QUESTION   %s %s %s" % (q[0], dns.rdataclass.to_text(q[1]), dns.rdatatype.to_text(q[2])))
    for sec in ("answer", "authority", "additional"):
        for t in r["rr_text"][sec]:
            out.append("  %-10s %s" % (sec.upper(), t if len(t) < 160 else t[:157] + "..."))
    o = r["opt"]
    if o:
        out.append("  OPT        v%d udp=%d do=%d z=%#x owner=%s section=%s options=%s" % (
            o["version"], o["udp"], o["do"], o["zbits"], o["owner"], o["section"],
            ", ".join("%d:%s" % x for x in o["options"]) or "none"))
    else:
        out.append("  OPT        none")
    if r.get("trailing"):
        out.append("  TRAILING   %d bytes" % r["trailing"])
    return out


def diff_fields(a, b, fields=COMPARED_FIELDS):
    """List of (field, a_value, b_value) that differ."""
    d = []
    for f in fields:
        if a.get(f) != b.get(f):
            d.append((f, a.get(f), b.get(f)))
    return d


def fmt_field_diff(f, a, b):
    if f in ("answer", "authority", "additional") and isinstance(a, dict) and isinstance(b, dict):
        lines = ["    %s:" % f]
        for k in sorted(set(a) | set(b)):
            if a.get(k) != b.get(k):
                lines.append("      %s %s %s: knot=%s sextant=%s" % (k + (
                    _short(a.get(k)), _short(b.get(k)))))
        return "\n".join(lines)
    if f == "rcode":
        return "    rcode: knot=%s sextant=%s" % (rcode_text(a) if a is not None else None,
                                                  rcode_text(b) if b is not None else None)
    return "    %s: knot=%s sextant=%s" % (f, a, b)


def _short(v):
    if v is None:
        return "absent"
    return "[" + ", ".join("ttl=%d %s" % (ttl, h[:24] + ("..." if len(h) > 24 else "")) for ttl, h in v) + "]"


# ---------------------------------------------------------------------------
# Custom rules for KNOWN_DIFFERENCES. Each returns a list of problems.
# ---------------------------------------------------------------------------
def _exact_except(k, s, overrides, skip=()):
    exp = dict(k)
    exp.update(overrides)
    fields = [f for f in COMPARED_FIELDS if f not in skip]
    out = []
    for f, a, b in diff_fields(exp, s, fields):
        if f == "rcode":
            a, b = rcode_text(a) if a is not None else None, rcode_text(b) if b is not None else None
        out.append("%s: expected %r got %r" % (f, a, b))
    return out


def rule_notimp(k, s, q):
    return _exact_except(k, s, {"rcode": dns.rcode.NOTIMP})


def _query_header(q):
    id_, fl = struct.unpack("!HH", q[:4]) if len(q) >= 4 else (0, 0)
    return id_, fl


def rule_formerr_any_body(k, s, q):
    p = []
    if not s["present"]:
        return ["no response; expected FORMERR"]
    if "error" in s:
        return ["unparseable response: " + s["error"]]
    qid, qfl = _query_header(q)
    if s["id"] != qid:
        p.append("id %d != query id %d" % (s["id"], qid))
    if s["rcode"] != dns.rcode.FORMERR:
        p.append("rcode %s, expected FORMERR" % rcode_text(s["rcode"]))
    if "QR" not in s["flags"]:
        p.append("QR not set")
    for f in ("AA", "TC"):
        if f in s["flags"]:
            p.append("%s set" % f)
    if s["opcode"] != (qfl >> 11) & 0xF:
        p.append("opcode not echoed")
    if s["answer"] or s["authority"]:
        p.append("answer/authority not empty")
    return p


def rule_formerr_ecs(k, s, q):
    p = rule_formerr_any_body(k, s, q)
    if p and not s["present"]:
        return p
    if "error" in s:
        return p
    if s["question"] != k["question"]:
        p.append("question %r, expected %r" % (s["question"], k["question"]))
    o = s["opt"]
    if not o:
        p.append("no OPT in reply")
    else:
        if o["version"] != 0 or o["udp"] != UDP_SIZE:
            p.append("OPT version/udp %d/%d" % (o["version"], o["udp"]))
    return p


def _query_ecs(q):
    """The ECS option of the query, as (code, hex) with scope forced to 0."""
    m = dns.message.from_wire(q)
    for o in m.options:
        if o.otype == 8:
            w = o.to_wire()
            return (8, (w[:3] + b"\x00" + w[4:]).hex())
    raise ValueError("no ECS in query")


def rule_ecs_echo(k, s, q):
    exp = dict(k)
    if exp.get("opt"):
        o = dict(exp["opt"])
        o["options"] = tuple(sorted(o["options"] + (_query_ecs(q),)))
        exp["opt"] = o
    return _exact_except(exp, s, {})


RULES = {}
for _n, _r in KNOWN_DIFFERENCES.items():
    if _n.startswith("opcode "):
        RULES[_n] = rule_notimp
    elif _n in ("qdcount 2", "qdcount 2 EDNS", "qdcount 1 without question", "question without qtype",
                "compression loop in qname", "bad label type 0x41", "qname over 255 octets"):
        RULES[_n] = rule_formerr_any_body
    elif _n.startswith("ECS ") and ("v4/" in _n or "v6/" in _n):
        RULES[_n] = rule_ecs_echo
    elif _n.startswith("ECS "):
        RULES[_n] = rule_formerr_ecs


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
