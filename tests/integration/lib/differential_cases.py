"""The differential test's queries (differential_test.py): wire construction, the corpus sent to
both Knot and Sextant, the corpus for servers with identity/version/nsid disabled, and the
documented deliberate differences between them.
"""

import struct

import dns.message
import dns.name
import dns.rdatatype

# Both servers are configured with this EDNS UDP size.
UDP_SIZE = 1232

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
    "COOKIE client only":
        "Knot (without its cookies module) ignores COOKIE; Sextant answers it with a server cookie "
        "(RFC 7873 5.2.3, RFC 9018). Rule: Knot's answer with a 24-byte COOKIE option added to "
        "the OPT: the query's client cookie, then version 1 and three zero bytes (timestamp and "
        "hash not checked: they depend on the time and the secret).",
}
