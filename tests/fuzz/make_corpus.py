#!/usr/bin/env python3
"""Writes the seed corpus of engine_fuzz: small binary DNS queries, one per file, named for what
they ask. The names match the zones in engine_fuzz.cc. Standard library only.

Usage: make_corpus.py [DIR]   (default: tests/fuzz/corpus next to this script)
"""

import os
import struct
import sys

QR, AA, TC, RD, CD, AD = 0x8000, 0x0400, 0x0200, 0x0100, 0x0010, 0x0020


def wname(text):
    out = b""
    for label in [l for l in text.split(".") if l]:
        out += bytes([len(label)]) + label.encode()
    return out + b"\x00"


def option(code, data=b""):
    return struct.pack("!HH", code, len(data)) + data


def ecs(family, source, scope, addr):
    return option(8, struct.pack("!HBB", family, source, scope) + addr)


def opt_rr(udp=1232, ver=0, do=False, opts=b""):
    ttl = (ver << 16) | (0x8000 if do else 0)
    return b"\x00" + struct.pack("!HHIH", 41, udp, ttl, len(opts)) + opts


def query(name, qtype=1, qclass=1, qid=0x1234, flags=0, opcode=0, edns=None, **kw):
    ar = 0 if edns is None else 1
    w = struct.pack("!6H", qid, flags | (opcode << 11), 1, 0, 0, ar)
    w += wname(name) + struct.pack("!HH", qtype, qclass)
    if edns is not None:
        w += opt_rr(udp=edns, **kw)
    return w


A, NS, CNAME, SOA, PTR, MX, TXT, AAAA, SRV, DS, ANY = 1, 2, 5, 6, 12, 15, 16, 28, 33, 43, 255
LONG = "a" * 63 + "." + "b" * 63 + "." + "c" * 63 + "." + "d" * 51 + ".fuzz.test"

SEEDS = {
    "www_a": query("www.fuzz.test", A),
    "www_aaaa_edns": query("www.fuzz.test", AAAA, edns=1232),
    "www_txt_mixed_case": query("WwW.FuZz.TeSt", TXT),
    "apex_soa": query("fuzz.test", SOA),
    "apex_ns_glue": query("fuzz.test", NS, edns=4096, do=True),
    "apex_mx": query("fuzz.test", MX),
    "apex_any": query("fuzz.test", ANY),
    "apex_ds": query("fuzz.test", DS),
    "srv": query("_sip._tcp.fuzz.test", SRV, edns=1232),
    "ptr": query("ptr.fuzz.test", PTR),
    "unknown_type": query("unk.fuzz.test", 65400),
    "cname_chain": query("c1.fuzz.test", A),
    "cname_loop": query("loopa.fuzz.test", A),
    "cname_self": query("self.fuzz.test", AAAA),
    "cname_dangling": query("dangling.fuzz.test", A, edns=1232),
    "cname_to_ent": query("toent.fuzz.test", A),
    "cname_to_wild": query("towild.fuzz.test", TXT),
    "cname_to_sub": query("tosub.fuzz.test", A),
    "cname_to_child": query("tochild.fuzz.test", A),
    "cname_to_other": query("toother.fuzz.test", AAAA),
    "cname_to_long": query("tolong.fuzz.test", A),
    "cname_qtype": query("c2.fuzz.test", CNAME),
    "wild_a": query("foo.wild.fuzz.test", A),
    "wild_deep_mx": query("a.b.c.wild.fuzz.test", MX),
    "wild_literal": query("*.wild.fuzz.test", A),
    "wild_blocked": query("x.exists.wild.fuzz.test", A),
    "wild_cname": query("abc.wcname.fuzz.test", A),
    "wild_cname_loop": query("q.wcloop.fuzz.test", A),
    "wild_ns": query("x.dwild.fuzz.test", NS),
    "ent_nodata": query("ent.fuzz.test", A),
    "ent_wild": query("q.a.went.fuzz.test", MX),
    "nxdomain": query("nx.fuzz.test", A),
    "nxdomain_edns_do": query("nx.fuzz.test", A, edns=512, do=True),
    "referral": query("www.sub.fuzz.test", A),
    "referral_ds_at_cut": query("sub.fuzz.test", DS),
    "secure_ds": query("secure.fuzz.test", DS),
    "bigref_no_edns": query("www.bigref.fuzz.test", A),
    "bigref_edns": query("bigref.fuzz.test", NS, edns=1232),
    "big_tc": query("big.fuzz.test", A),
    "huge_edns": query("huge.fuzz.test", A, edns=65535),
    "hugetxt": query("hugetxt.fuzz.test", TXT, edns=1232),
    "many_mx": query("many.fuzz.test", MX, edns=1232),
    "bigmx_past_0x3fff": query("bigmx.fuzz.test", MX),
    "long_name": query(LONG, A),
    "long_name_txt": query(LONG, TXT, edns=1232),
    "long_wild": query("x." + "c" * 63 + "." + "d" * 51 + ".fuzz.test", A),
    "child_apex": query("child.fuzz.test", SOA),
    "child_wild_cname": query("zz.child.fuzz.test", A),
    "other_back": query("back.other.test", A),
    "refused": query("www.example.com", A, edns=1232),
    "root_ns": query(".", NS),
    "ch_version": query("version.bind", TXT, 3),
    "ch_id_nsid": query("id.server", TXT, 3, edns=1232, opts=option(3)),
    "ch_hostname": query("HOSTNAME.BIND", TXT, 3),
    "qclass_any": query("www.fuzz.test", A, 255),
    "nsid": query("www.fuzz.test", A, edns=1232, opts=option(3)),
    "ecs_v4": query("www.fuzz.test", A, edns=1232, opts=ecs(1, 24, 0, b"\xc0\x00\x02")),
    "ecs_v6_nsid": query("www.fuzz.test", AAAA, edns=1232,
                         opts=option(3) + ecs(2, 56, 0, b"\x20\x01\x0d\xb8\x00\x00\x00")),
    "ecs_bad_family": query("www.fuzz.test", A, edns=1232, opts=ecs(3, 0, 0, b"")),
    "edns_options_mix": query("www.fuzz.test", A, edns=1232,
                              opts=option(10, b"01234567") + option(12, b"\x00" * 8) + option(3)),
    "badvers": query("www.fuzz.test", A, edns=1232, ver=1),
    "notify": query("fuzz.test", SOA, opcode=4),
    "update": query("fuzz.test", SOA, opcode=5),
    "opcode_status": query("www.fuzz.test", A, opcode=2, edns=1232),
    "axfr": query("fuzz.test", 252),
    "ixfr": query("fuzz.test", 251),
    "qtype0": query("www.fuzz.test", 0),
    "flags": query("www.fuzz.test", A, flags=RD | CD | AD | AA | TC),
    "qdcount0": struct.pack("!6H", 0x1234, 0, 0, 0, 0, 0),
    "qdcount2": struct.pack("!6H", 0x1234, 0, 2, 0, 0, 0) + (wname("www.fuzz.test") + b"\x00\x01\x00\x01") * 2,
    "two_opts": struct.pack("!6H", 0x1234, 0, 1, 0, 0, 2) + wname("www.fuzz.test") +
    b"\x00\x01\x00\x01" + opt_rr() + opt_rr(),
    "answer_record": struct.pack("!6H", 0x1234, 0, 1, 1, 0, 0) + wname("www.fuzz.test") +
    b"\x00\x01\x00\x01" + b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x01\x2c\x00\x04\xc6\x12\x01\x01",
    "qname_pointer": struct.pack("!6H", 0x1234, 0, 1, 0, 0, 0) + b"\x03www\xc0\x0c\x00\x01\x00\x01",
    "qr_set": query("www.fuzz.test", A, flags=QR),
    # Record-set policies and geo resources (engine_fuzz.cc PolicyYaml).
    "pol_multivalue": query("mv.fuzz.test", A, edns=1232),
    "pol_multivalue_aaaa": query("mv.fuzz.test", AAAA),
    "pol_multivalue_ttl_when_down": query("mvt.fuzz.test", A),
    "pol_multivalue_20": query("mvbig.fuzz.test", A, edns=1232),
    "pol_one": query("one.fuzz.test", A),
    "pol_one_aaaa": query("one.fuzz.test", AAAA, edns=1232),
    "pol_failover_servfail": query("fo.fuzz.test", A),
    "pol_weighted_nodata": query("wt.fuzz.test", A),
    "pol_cyclic": query("cyc.fuzz.test", A, edns=1232),
    "pol_random_aaaa": query("rnd.fuzz.test", AAAA),
    "pol_cname": query("cn.fuzz.test", A),
    "pol_via_cname": query("tomv.fuzz.test", A, edns=1232),
    "pol_wildcard": query("x.pwild.fuzz.test", A),
    "geo_ecs_v4": query("geo.fuzz.test", A, edns=1232, opts=ecs(1, 32, 0, b"\x51\x02\x45\xa0")),
    "geo_ecs_v6": query("geo.fuzz.test", A, edns=1232,
                        opts=ecs(2, 56, 0, b"\x20\x01\x02\x18\x00\x00\x00")),
    "geo_ecs_mapped": query("geo3.fuzz.test", A, edns=1232, opts=ecs(
        2, 128, 0, b"\x00" * 10 + b"\xff\xff\x51\x02\x45\xa0")),
    "geo_ecs_teredo": query("geo3.fuzz.test", A, edns=1232, opts=ecs(
        2, 128, 0, b"\x20\x01\x00\x00" + b"\x00" * 8 + b"\xae\xfd\xba\x5f")),
    "geo_ecs_6to4": query("geo.fuzz.test", A, edns=1232,
                          opts=ecs(2, 48, 0, b"\x20\x02\x51\x02\x45\xa0")),
    "geo_ecs_ignore_aaaa": query("geo.fuzz.test", AAAA, edns=1232,
                                 opts=ecs(1, 24, 0, b"\x51\x02\x45")),
    "geo_no_ecs": query("geo3.fuzz.test", A),
}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(
        os.path.abspath(__file__)), "corpus")
    os.makedirs(out, exist_ok=True)
    for name, wire in sorted(SEEDS.items()):
        with open(os.path.join(out, name), "wb") as f:
            f.write(wire)
    print("wrote %d seeds to %s" % (len(SEEDS), out))


if __name__ == "__main__":
    main()
