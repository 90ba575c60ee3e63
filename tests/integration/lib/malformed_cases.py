"""The malformed-packet test's packets (malformed_test.py): wire construction, the hostile corpus
with what each packet may or must get back, the valid queries interleaved with it (and the
sentinel that follows every hostile packet), and the TCP framing abuse cases.
"""

import random
import struct

import dns.message
import dns.name

ORIGIN = "malformed.test."
# The zone the hostile packets are asked against, served at ORIGIN.
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
UDP_SIZE = 1232  # server.edns_udp_size: no UDP reply may be larger
NSID = "sextant-malformed-nsid"
VERSION = "sextant-malformed-version"
IDENTITY = "sextant-malformed-identity"
# The config's server: section the corpus expects (CH TXT version.bind and id.server answered).
SERVER = ('  edns_udp_size: %d\n  nsid: "%s"\n  version: "%s"\n  identity: "%s"\n' %
          (UDP_SIZE, NSID, VERSION, IDENTITY))

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



def frame(w):
    return struct.pack("!H", len(w)) + w


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
