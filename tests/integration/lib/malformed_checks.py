"""What the malformed-packet test (malformed_test.py) asks of a reply: the checks every reply to
a hostile packet must pass, the exact answer to a valid query, and the sentinel's reply.
"""

import socket
import struct
import time

import dns.flags
import dns.message
import dns.rcode
import dns.rdataclass
import dns.rdatatype

from malformed_cases import (ERRORS, MUST, NEVER, QR, SENSIBLE, SENTINEL_SPEC, TC, UDP_SIZE,
                             make_valid, sentinel_id as sentinel_id_of)

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


def is_sentinel_reply(r, sid):
    return len(r) >= 12 and struct.unpack("!H", r[:2])[0] == sid and b"\x08sentinel" in r[12:40]


def generic_reply_problems(r):
    """Checks for a reply to a query we cannot pin down (framing garbage)."""
    if len(r) < 12 or not r[2] & 0x80:
        return ["malformed reply %s" % r[:32].hex()]
    try:
        m = dns.message.from_wire(for_dnspython(r))
    except Exception as e:  # noqa: BLE001
        return ["unparseable reply: %s" % e]
    return [] if m.rcode() in SENSIBLE else ["rcode %s" % rcode_text(m.rcode())]


# ---------------------------------------------------------------------------
# One hostile packet: sent, then the sentinel, over UDP
# ---------------------------------------------------------------------------
def until_sentinel(receive, sid):
    """Takes messages from receive() (None: nothing more comes in time) until the sentinel's
    reply; returns (the replies before it, the sentinel's reply or None)."""
    replies = []
    while True:
        m = receive()
        if m is None or is_sentinel_reply(m, sid):
            return replies, m
        replies.append(m)


def udp_exchange(addr, wire, sid, timeout):
    """Sends wire then the sentinel to addr (host, port); returns (replies before the
    sentinel's, the sentinel's reply or None after `timeout` seconds)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.connect(addr)
        try:
            s.send(wire)
            s.send(make_valid(SENTINEL_SPEC, sid))
        except ConnectionRefusedError:  # ICMP port unreachable: nobody listens (yet)
            return [], None
        deadline = time.monotonic() + timeout

        def receive():
            rem = deadline - time.monotonic()
            if rem <= 0:
                return None
            s.settimeout(rem)
            try:
                return s.recv(65535)
            except (socket.timeout, ConnectionRefusedError):
                return None
        return until_sentinel(receive, sid)
    finally:
        s.close()


def hostile_problems(c, replies, sent, tcp):
    """What is wrong with the replies to hostile case c and to the sentinel after it."""
    w = c["wire"]
    sid = sentinel_id_of(w)
    p = []
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
    return p
