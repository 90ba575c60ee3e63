#!/usr/bin/env python3
"""Writes a pcap of DNS query frames and the zone they ask about, for end-to-end replay.

The frames are what a DPDK port would receive from many clients: Ethernet (destination a fixed
MAC, by default broadcast so that any port MAC accepts them), IPv4 from varied client addresses in
198.18.0.0/15 (RFC 2544) to the server address, UDP to port 53 from varied ports, correct IPv4
header and UDP checksums, and a DNS query (with an EDNS OPT, udp 1232, unless --no-edns).

Names come from the zone written beside the pcap (--zone): hostNNNN.<origin> with one A (two on
every fourth host) and one AAAA. The mix, in percent, is A hits / AAAA hits / NXDOMAIN
(nohostNNNN.<origin>), default 70/20/10, shuffled with a fixed seed.

--geo CONFIG: every query asks A geo.<origin> instead, with an EDNS Client Subnet option from a
spread of client networks (perf/geo_points.py: the City test database's, or --geo-points FILE
from make_city_mmdb --points): a random /24 (IPv6: /48) inside each network, the network itself
when it is longer; the networks are taken in turn, shuffled. CONFIG gets the Sextant config
lines (datacenters, geo_maps over --geo-db, the geo resource, the record) to append to the
harness's config; --geo-wrong rotates the datacenters' answers there (the check must fail).

--expect FILE: one line per frame, "client port id rcode answers" (answers sorted, comma
separated, "-" for none): what a right answer to it holds, for perf/check_answers.py.

python3 standard library only: the pcap format (libpcap 2.4, microsecond timestamps, LINKTYPE
ETHERNET) is written by hand.

  perf/make_query_pcap.py --count 4096 --out queries.pcap --zone perf.test.zone
"""

import argparse
import ipaddress
import random
import struct
import sys
from pathlib import Path

# The one RFC 1071 checksum of the Python tools: the integration tests' frame builders.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "integration" / "lib"))
from raw_frames import checksum  # noqa: E402
import geo_points  # noqa: E402  (beside this file)

PCAP_MAGIC = 0xA1B2C3D4
LINKTYPE_ETHERNET = 1
TYPE_A, TYPE_AAAA = 1, 28


def parse_mac(text):
    parts = text.split(":")
    if len(parts) != 6:
        raise argparse.ArgumentTypeError(f"not a MAC address: {text}")
    return bytes(int(p, 16) for p in parts)


def parse_ipv4(text):
    parts = [int(p) for p in text.split(".")]
    if len(parts) != 4 or not all(0 <= p <= 255 for p in parts):
        raise argparse.ArgumentTypeError(f"not an IPv4 address: {text}")
    return bytes(parts)


def ecs_option(net):
    """EDNS Client Subnet (RFC 7871) option for an ip_network: family, source prefix, scope 0,
    the address cut to the prefix's octets."""
    addr = net.network_address.packed[:(net.prefixlen + 7) // 8]
    body = struct.pack("!HBB", 1 if net.version == 4 else 2, net.prefixlen, 0) + addr
    return struct.pack("!HH", 8, len(body)) + body


def dns_query(qid, name, qtype, edns, ecs=None):
    header = struct.pack("!HHHHHH", qid, 0x0000, 1, 0, 0, 1 if edns else 0)
    qname = b"".join(bytes([len(l)]) + l.encode() for l in name.rstrip(".").split(".")) + b"\0"
    msg = header + qname + struct.pack("!HH", qtype, 1)
    if edns:
        # OPT: root owner, type 41, class = UDP size, TTL = ext-rcode/version/flags, options.
        opts = ecs_option(ecs) if ecs is not None else b""
        msg += b"\0" + struct.pack("!HHIH", 41, 1232, 0, len(opts)) + opts
    return msg


def frame(dst_mac, src_mac, src_ip, dst_ip, sport, payload):
    udp_len = 8 + len(payload)
    pseudo = src_ip + dst_ip + struct.pack("!BBH", 0, 17, udp_len)
    udp = struct.pack("!HHHH", sport, 53, udp_len, 0) + payload
    csum = checksum(pseudo + udp) or 0xFFFF  # RFC 768: a computed zero is sent as all ones
    udp = udp[:6] + struct.pack("!H", csum) + udp[8:]
    total = 20 + udp_len
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, sport ^ 0x5A5A, 0x4000, 64, 17, 0, src_ip,
                     dst_ip)
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    eth = dst_mac + src_mac + struct.pack("!H", 0x0800)
    f = eth + ip + udp
    return f + b"\0" * max(0, 60 - len(f))  # Ethernet minimum (without FCS)


def host_name(i):
    return f"host{i:04d}"


def a_records(i):
    return 2 if i % 4 == 0 else 1


def host_v4(i, net):
    """Host i's address in 198.<net>.0.0/16: 198.<net>.1.1 up; past the 50,800th host the third
    octet wraps (addresses repeat: a large zone's answers need not be unique)."""
    return f"198.{net}.{1 + (i // 200) % 254}.{i % 200 + 1}"


def host_v6(i):
    """Host i's address in 2001:db8:1::/64 (i + 1 in the last one or two groups)."""
    n = i + 1
    return f"2001:db8:1::{n >> 16:x}:{n & 0xFFFF:x}" if n > 0xFFFF else f"2001:db8:1::{n:x}"


def zone_text(origin, hosts):
    lines = [
        f"$ORIGIN {origin}",
        "$TTL 3600",
        f"@ IN SOA ns1.{origin} hostmaster.{origin} 2024010101 7200 3600 1209600 300",
        "@ IN NS ns1",
        "@ IN NS ns2",
        "ns1 IN A 198.18.0.1",
        "ns2 IN A 198.18.0.2",
    ]
    for i in range(hosts):
        h = host_name(i)
        lines.append(f"{h} 300 IN A {host_v4(i, 18)}")
        if a_records(i) == 2:
            lines.append(f"{h} 300 IN A {host_v4(i, 19)}")
        lines.append(f"{h} 300 IN AAAA {host_v6(i)}")
    return "\n".join(lines) + "\n"


def parse_mix(text):
    """"70/20/10" -> [70, 20, 10] (A hits / AAAA hits / NXDOMAIN percent), or ValueError."""
    mix = [int(x) for x in text.split("/")]
    if len(mix) != 3 or sum(mix) != 100 or min(mix) < 0:
        raise ValueError("the mix must be three percentages summing to 100, e.g. 70/20/10")
    return mix


def pick_question(rng, kind, hosts, origin):
    """(name, qtype) of one query of `kind` ("a", "aaaa" or "nx") about the zone of zone_text():
    a random host, or a name that does not exist. Also used by perf/compare.py, so that the
    peers get the same query mix as the e2e harness."""
    if kind == "nx":
        return f"nohost{rng.randrange(100000):05d}.{origin}", TYPE_A
    return f"{host_name(rng.randrange(hosts))}.{origin}", TYPE_A if kind == "a" else TYPE_AAAA


def query_kinds(rng, mix, count):
    """`count` kinds drawn with the weights of `mix` (see parse_mix)."""
    return rng.choices(["a", "aaaa", "nx"], weights=mix, k=count)


def zone_answers(text):
    """{(owner, qtype): [addresses]} of the A and AAAA records in zone_text()'s output."""
    out, origin = {}, ""
    for line in text.splitlines():
        f = line.split()
        if f[:1] == ["$ORIGIN"]:
            origin = f[1]
        elif len(f) >= 4 and f[-2] in ("A", "AAAA") and not line.startswith(("$", "@")):
            owner = f[0] if f[0].endswith(".") else f"{f[0]}.{origin}"
            key = (owner, TYPE_A if f[-2] == "A" else TYPE_AAAA)
            out.setdefault(key, []).append(str(ipaddress.ip_address(f[-1])))
    return out


def geo_clients(rng, nets):
    """ECS networks, endlessly: each client network of `nets` [(network, dc)] in turn (shuffled),
    a random /24 (IPv6 /48) inside it, or the network itself when it is longer; with its dc."""
    nets = list(nets)
    rng.shuffle(nets)
    while True:
        for net, dc in nets:
            plen = 24 if net.version == 4 else 48
            if net.prefixlen < plen:
                sub = rng.randrange(1 << (plen - net.prefixlen))
                base = int(net.network_address) + (sub << (net.max_prefixlen - plen))
                net = ipaddress.ip_network((base, plen))
            yield net, dc


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=4096, help="frames to write (default 4096)")
    ap.add_argument("--out", required=True, help="pcap file to write")
    ap.add_argument("--zone", required=True, help="zone file to write (master-file format)")
    ap.add_argument("--origin", default="perf.test.", help="zone origin (default perf.test.)")
    ap.add_argument("--hosts", type=int, default=1000, help="hosts in the zone (default 1000)")
    ap.add_argument("--mix", default="70/20/10", help="A/AAAA/NXDOMAIN percent (default 70/20/10)")
    ap.add_argument("--dst-mac", type=parse_mac, default=parse_mac("ff:ff:ff:ff:ff:ff"),
                    help="Ethernet destination (default broadcast: accepted by any port MAC)")
    ap.add_argument("--server", type=parse_ipv4, default=parse_ipv4("198.18.0.2"),
                    help="server (destination) IPv4 address (default 198.18.0.2)")
    ap.add_argument("--no-edns", action="store_true", help="queries without an OPT record")
    ap.add_argument("--seed", type=int, default=20240101)
    ap.add_argument("--expect", help="write what a right answer holds, per frame, to this file")
    ap.add_argument("--geo", metavar="CONFIG",
                    help="geo queries with ECS; write the Sextant config lines they need here")
    ap.add_argument("--geo-db", default=str(geo_points.CITY_DB),
                    help="MaxMind City database of the geo map (default: the City test database)")
    ap.add_argument("--geo-points", help="client networks with coordinates (make_city_mmdb "
                    "--points); default: the City test database's networks")
    ap.add_argument("--geo-wrong", action="store_true",
                    help="rotate the datacenters' answers in CONFIG (the answer check must fail)")
    args = ap.parse_args()

    origin = args.origin if args.origin.endswith(".") else args.origin + "."
    try:
        mix = parse_mix(args.mix)
    except ValueError as e:
        ap.error(f"--mix: {e}")
    if args.count < 1 or args.hosts < 1:
        ap.error("--count and --hosts must be positive")

    text = zone_text(origin, args.hosts)
    with open(args.zone, "w") as z:
        z.write(text)
    answers = zone_answers(text) if args.expect else {}
    expect = open(args.expect, "w") if args.expect else None

    rng = random.Random(args.seed)
    kinds = query_kinds(rng, mix, args.count)
    counts = {"a": 0, "aaaa": 0, "nx": 0}
    geo_name, clients, ecs_nets, dc_counts = f"geo.{origin}", None, set(), {}
    if args.geo:
        try:
            nets = (geo_points.read_points(args.geo_points) if args.geo_points else
                    [(net, dc) for net, dc, _, _ in geo_points.city_networks()])
        except (OSError, ValueError) as e:
            sys.exit(f"make_query_pcap: --geo-points: {e}")
        dcs = geo_points.wrong_dcs() if args.geo_wrong else geo_points.DCS
        with open(args.geo, "w") as f:
            f.write("\n".join(geo_points.sextant_geo_config(geo_name, args.geo_db, dcs)) + "\n")
        clients = geo_clients(random.Random(args.seed + 1), nets)
    with open(args.out, "wb") as out:
        out.write(struct.pack("<IHHiIII", PCAP_MAGIC, 2, 4, 0, 0, 65535, LINKTYPE_ETHERNET))
        for n, kind in enumerate(kinds):
            ecs = None
            if clients:
                name, qtype = geo_name, TYPE_A
                ecs, dc = next(clients)
                ecs_nets.add(ecs)
                dc_counts[dc[0]] = dc_counts.get(dc[0], 0) + 1
                want = [dc[1]]
            else:
                counts[kind] += 1
                name, qtype = pick_question(rng, kind, args.hosts, origin)
                want = answers.get((name, qtype))
            # Clients spread over 198.18.16.0 - 198.19.255.254; the server sits in 198.18.0.0/24.
            c = 16 * 256 + rng.randrange(2 * 65536 - 16 * 256 - 1)
            src_ip = bytes([198, 18 + (c >> 16), (c >> 8) & 0xFF, 1 + (c & 0xFF) % 254])
            src_mac = bytes([0x02, 0x43, 0x4C]) + src_ip[1:]
            sport = 1024 + rng.randrange(64512)
            qid = rng.randrange(65536)
            payload = dns_query(qid, name, qtype, not args.no_edns, ecs)
            f = frame(args.dst_mac, src_mac, src_ip, args.server, sport, payload)
            if expect:
                # NOERROR with the RRset, or NXDOMAIN (every name asked that is not in the zone).
                expect.write(f"{ipaddress.ip_address(src_ip)} {sport} {qid} "
                             f"{0 if want else 3} {','.join(sorted(want or [])) or '-'}\n")
            out.write(struct.pack("<IIII", 1700000000 + n // 1000000, n % 1000000, len(f), len(f)))
            out.write(f)
    if expect:
        expect.close()
    v4 = sum(1 for net in ecs_nets if net.version == 4)
    what = (f"A {geo_name} with ECS from {len(ecs_nets)} client networks: {v4} IPv4, "
            f"{len(ecs_nets) - v4} IPv6; frames per datacenter: "
            f"{', '.join(f'{k} {v}' for k, v in sorted(dc_counts.items()))}; "
            f"geo map {args.geo_db}" if clients else
            f"{counts['a']} A, {counts['aaaa']} AAAA, {counts['nx']} NXDOMAIN")
    print(f"make_query_pcap: {args.count} frames ({what}) -> {args.out}; zone {origin} "
          f"({args.hosts} hosts) -> {args.zone}", file=sys.stderr)


if __name__ == "__main__":
    main()
