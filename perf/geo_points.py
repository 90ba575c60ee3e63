"""Where geo queries come from and what a right geo answer is, for the perf tools that ask
Sextant for geo answers (perf/compare.py's geo rows, perf/make_query_pcap.py --geo for
perf/e2e_pcap.sh GEO=...): three datacenters at places the MaxMind City test database knows,
client networks with coordinates, and the nearest-datacenter rule (great-circle distance, as
control/geo/geo_compiler.cc computes it).

Client networks come from the City test database's source JSON (tests/data/maxmind), or from a
points file that perf/make_city_mmdb --points writes: one "network latitude longitude" a line.

Python standard library only.
"""
import ipaddress
import json
import math
from pathlib import Path

MAXMIND = Path(__file__).resolve().parents[1] / "tests" / "data" / "maxmind"
CITY_DB = MAXMIND / "GeoIP2-City-Test.mmdb"
CITY_SOURCE = MAXMIND / "GeoIP2-City-Test.source.json"
# The datacenters are places the City test database knows, and their answers are addresses in
# those places: PowerDNS's pickclosest() locates each candidate address in the database itself.
# These addresses are only handed out in answers, never contacted.
DCS = [("eu", "81.2.69.160", 51.5142, -0.0931),      # London
       ("us", "216.160.83.56", 47.2513, -122.3149),  # Milton, WA
       ("ap", "175.16.199.1", 43.88, 125.3228)]      # Changchun


def haversine_km(a, b):
    la1, lo1, la2, lo2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = math.sin((la2 - la1) / 2) ** 2 + \
        math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def nearest_dc(coords):
    return min(DCS, key=lambda dc: haversine_km(coords, (dc[2], dc[3])))


def as_ipv4(net):
    """"::a.b.c.d/1xx" (IPv4 inside the IPv6 tree at ::/96) as the IPv4 network, others as given."""
    if net.version == 6 and net.prefixlen >= 96 and \
            net.network_address in ipaddress.ip_network("::/96"):
        v4 = ipaddress.IPv4Address(int(net.network_address) & 0xffffffff)
        return ipaddress.ip_network("%s/%d" % (v4, net.prefixlen - 96))
    return net


def city_networks():
    """[(network, nearest dc, country, city)] for every network of the City test database with
    coordinates and a country."""
    out, seen = [], set()
    for entry in json.load(open(CITY_SOURCE)):
        for key, rec in entry.items():
            loc = rec.get("location", {})
            cc = rec.get("country", {}).get("iso_code")
            if "latitude" not in loc or not cc:
                continue
            net = as_ipv4(ipaddress.ip_network(key, strict=False))
            if net in seen:
                continue
            seen.add(net)
            city = rec.get("city", {}).get("names", {}).get("en")
            out.append((net, nearest_dc((loc["latitude"], loc["longitude"])), cc, city))
    return out


def read_points(path):
    """[(network, nearest dc)] from a points file ("network latitude longitude" lines), or
    ValueError naming the line."""
    out = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if not line.strip() or line.startswith("#"):
                continue
            try:
                net, lat, lon = line.split()
                out.append((as_ipv4(ipaddress.ip_network(net)),
                            nearest_dc((float(lat), float(lon)))))
            except ValueError as e:
                raise ValueError("%s line %d: %s (want 'network latitude longitude')" %
                                 (path, n, e)) from None
    if not out:
        raise ValueError("%s: no points" % path)
    return out


def wrong_dcs():
    """The datacenters with their answers rotated (eu answers us's address, ...): what a
    harness feeds a server on purpose, so that its answer check must fail."""
    return [(n, DCS[(i + 1) % len(DCS)][1], la, lo) for i, (n, _, la, lo) in enumerate(DCS)]


def sextant_geo_config(name, database, dcs=DCS):
    """Sextant config lines (datacenters, geo_maps, resources, records) that answer A `name`
    from the datacenter nearest the client (ECS) over `database`, each datacenter answering its
    address in `dcs` (DCS, or wrong_dcs())."""
    lines = ["datacenters:"]
    lines += ["  %s: {latitude: %s, longitude: %s}" % (n, la, lo) for n, _, la, lo in DCS]
    lines += ["geo_maps:", "  world: {database: %s, mode: nearest, max: 3}" % database,
              "resources:", "  www:", "    kind: geo", "    map: world", "    ttl: 60",
              "    datacenters:"]
    lines += ["      %s: {members: [%s]}" % (n, a) for n, a, _, _ in dcs]
    lines += ["records:", "  - {name: %s, type: A, resource: www}" % name]
    return lines
