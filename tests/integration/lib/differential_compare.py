"""How the differential test (differential_test.py) compares two answers: responses parsed and
normalised into comparable fields, rendered for a person, diffed field by field, and the custom
rules that check the cases of KNOWN_DIFFERENCES.
"""

import struct

import dns.message
import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype

from differential_cases import AA, AD, CD, KNOWN_DIFFERENCES, QR, RA, RD, TC, UDP_SIZE, Z

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


def rule_cookie_answered(k, s, q):
    """Knot's answer plus the COOKIE Sextant answers: the query's client cookie, then an RFC 9018
    server cookie (version 1, reserved zero; timestamp and hash vary)."""
    client = next(o.to_wire() for o in dns.message.from_wire(q).options if o.otype == 10)
    o = s.get("opt") or {}
    cookie = next((h for c, h in o.get("options", ()) if c == 10), None)
    if cookie is None or len(cookie) != 48 or not cookie.startswith(client.hex() + "01000000"):
        return ["COOKIE option %r, expected %s01000000 + 16 bytes" % (cookie, client.hex())]
    exp = dict(k)
    if exp.get("opt"):
        ko = dict(exp["opt"])
        ko["options"] = tuple(sorted(ko["options"] + ((10, cookie),)))
        exp["opt"] = ko
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
    elif _n == "COOKIE client only":
        RULES[_n] = rule_cookie_answered
