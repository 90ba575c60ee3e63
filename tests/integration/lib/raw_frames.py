"""Hand-built Ethernet frames for the lab's raw AF_PACKET sockets (vlan_probe.py, the DPDK
malformed corpus in dpdk_malformed_test.py): checksums, IPv4/IPv6/UDP/ICMP/ARP headers with any
field wrong on purpose, and the corpus of broken frames with what the dataplane must do with each.
"""
import socket
import struct

ETH_IPV4, ETH_IPV6, ETH_ARP, ETH_VLAN = 0x0800, 0x86DD, 0x0806, 0x8100
UDP, ICMP, ICMP6 = 17, 1, 58
BROADCAST = b"\xff" * 6

# What the dataplane does with a frame, by the counter it moves (maps/control_block.h):
MALFORMED = "malformed"   # dropped[kDropMalformed]
RESPONSE = "response"     # dropped[kDropResponse]: a DNS message with QR=1
NOT_OURS = "not_ours"     # dropped[kDropNotOurs]
EXCEPTION = "exception"   # exception_packets: handed to the kernel through the exception tap
ANSWER = "answer"         # answered in the fast path: the reply is checked


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def eth(dst, src, etype, payload, vlan=None):
    tag = struct.pack("!HH", ETH_VLAN, vlan) if vlan is not None else b""
    return dst + src + tag + struct.pack("!H", etype) + payload


def ipv4(src, dst, proto, payload, total=None, ihl=5, options=b"", frag=0x4000, version=4,
         bad_checksum=False, ttl=64):
    """frag: the flags and fragment offset word (default: DF)."""
    hlen = ihl * 4
    h = struct.pack("!BBHHHBBH4s4s", version << 4 | ihl, 0,
                    total if total is not None else 20 + len(options) + len(payload), 0x1234,
                    frag, ttl, proto, 0, socket.inet_aton(src), socket.inet_aton(dst)) + options
    h = h[:hlen] if len(h) >= hlen else h
    c = checksum(h) ^ (0x5555 if bad_checksum else 0)
    return h[:10] + struct.pack("!H", c) + h[12:] + payload


def udp(src_ip, dst_ip, sport, dport, payload, length=None, check="good", v6=False,
        covered=None):
    """check: good, bad or zero. covered: the bytes the checksum covers (default: all)."""
    ulen = length if length is not None else 8 + len(payload)
    body = struct.pack("!HHHH", sport, dport, ulen, 0) + payload
    if check == "zero":
        return body
    n = covered if covered is not None else len(body)
    if v6:
        pseudo = (socket.inet_pton(socket.AF_INET6, src_ip) +
                  socket.inet_pton(socket.AF_INET6, dst_ip) + struct.pack("!IxxxB", n, UDP))
    else:
        pseudo = (socket.inet_aton(src_ip) + socket.inet_aton(dst_ip) +
                  struct.pack("!BBH", 0, UDP, n))
    c = checksum(pseudo + body[:n]) or 0xFFFF
    if check == "bad":
        c ^= 0x00FF
    return body[:6] + struct.pack("!H", c) + body[8:]


def ipv6(src, dst, nh, payload, plen=None, hop=64):
    return struct.pack("!IHBB16s16s", 6 << 28, len(payload) if plen is None else plen, nh, hop,
                       socket.inet_pton(socket.AF_INET6, src),
                       socket.inet_pton(socket.AF_INET6, dst)) + payload


def icmp6(src, dst, body, bad=False):
    pseudo = (socket.inet_pton(socket.AF_INET6, src) + socket.inet_pton(socket.AF_INET6, dst) +
              struct.pack("!IxxxB", len(body), ICMP6))
    c = checksum(pseudo + body[:2] + b"\0\0" + body[4:]) ^ (0x0F0F if bad else 0)
    return body[:2] + struct.pack("!H", c) + body[4:]


def icmp4(type_, code, rest, bad=False):
    body = struct.pack("!BBH", type_, code, 0) + rest
    c = checksum(body) ^ (0x0F0F if bad else 0)
    return body[:2] + struct.pack("!H", c) + body[4:]


def arp(op, sender_mac, sender_ip, target_mac, target_ip, htype=1, ptype=ETH_IPV4):
    return struct.pack("!HHBBH6s4s6s4s", htype, ptype, 6, 4, op, sender_mac,
                       socket.inet_aton(sender_ip), target_mac, socket.inet_aton(target_ip))


def solicited_node(addr):
    a = socket.inet_pton(socket.AF_INET6, addr)
    return socket.inet_ntop(socket.AF_INET6, bytes.fromhex("ff0200000000000000000001ff")
                            + a[13:])


def corpus(me, peer, c4, a4, c6, a6, query, response, short_dns, loop_dns):
    """The broken frames: (name, frame, outcome, udp source port of an ANSWER). me/peer: the
    client's and the appliance's MACs; c4/a4, c6/a6: client and appliance addresses; query: a
    valid DNS query (answered when it arrives whole); response: the same with QR=1; short_dns: a
    5-byte DNS message; loop_dns: a query whose name is a compression loop."""
    other_mac = b"\x02\x00\x00\x00\x00\x99"
    out = []

    def add(name, frame, outcome, sport=None):
        out.append((name, frame, outcome, sport))

    def v4udp(payload, sport=40001, **kw):
        ukw = {k: kw.pop(k) for k in ("length", "check", "covered") if k in kw}
        return eth(peer, me, ETH_IPV4, ipv4(c4, a4, UDP, udp(c4, a4, sport, 53, payload, **ukw),
                                             **kw))

    def v6udp(payload, sport=40001, nh=UDP, dst=a6, **ukw):
        return eth(peer, me, ETH_IPV6, ipv6(c6, dst, nh, udp(c6, dst, sport, 53, payload,
                                                               v6=True, **ukw)))

    # Ethernet
    add("unknown EtherType 0x88b5 to us", eth(peer, me, 0x88B5, b"\0" * 46), EXCEPTION)
    add("unknown EtherType to another host's MAC", eth(other_mac, me, 0x88B5, b"\0" * 46),
        NOT_OURS)
    add("IPv4 to another host's MAC", eth(other_mac, me, ETH_IPV4, ipv4(c4, a4, UDP, b"")),
        NOT_OURS)
    add("802.1Q tag cut short", peer + me + struct.pack("!H", ETH_VLAN) + b"\x00", MALFORMED)
    add("802.1Q tag, then no IPv4 header", eth(peer, me, ETH_IPV4, b"", vlan=0), MALFORMED)
    add("802.1Q VLAN 7 (not ours) query", eth(peer, me, ETH_IPV4, ipv4(
        c4, a4, UDP, udp(c4, a4, 40002, 53, query)), vlan=7), NOT_OURS)
    add("Ethernet header only, IPv4 type", eth(peer, me, ETH_IPV4, b""), MALFORMED)
    # IPv4 header
    add("IPv4 header cut at 12 bytes", eth(peer, me, ETH_IPV4, ipv4(c4, a4, UDP, b"")[:12]),
        MALFORMED)
    add("IPv4 version 5", eth(peer, me, ETH_IPV4, ipv4(c4, a4, UDP, b"\0" * 20, version=5)),
        MALFORMED)
    add("IPv4 IHL 4", eth(peer, me, ETH_IPV4, ipv4(c4, a4, UDP, b"\0" * 20, ihl=4)), MALFORMED)
    add("IPv4 total length past the frame", v4udp(query, total=1400), MALFORMED)
    add("IPv4 total length under the header", v4udp(query, total=16), MALFORMED)
    add("IPv4 bad header checksum", v4udp(query, bad_checksum=True), MALFORMED)
    add("IPv4 to another address", eth(peer, me, ETH_IPV4, ipv4(
        c4, "198.18.0.77", UDP, udp(c4, "198.18.0.77", 40003, 53, query))), NOT_OURS)
    add("IPv4 options (NOP x4), UDP/53", eth(peer, me, ETH_IPV4, ipv4(
        c4, a4, UDP, udp(c4, a4, 40004, 53, query), ihl=6, options=b"\x01\x01\x01\x01")),
        EXCEPTION)
    add("IPv4 first fragment (MF)", v4udp(query, frag=0x2000), EXCEPTION)
    add("IPv4 later fragment (offset 185)", v4udp(query, frag=185), EXCEPTION)
    add("IPv4 protocol 253 (experimental)", eth(peer, me, ETH_IPV4, ipv4(c4, a4, 253, b"x" * 20)),
        EXCEPTION)
    # UDP
    add("UDP header cut at 4 bytes", eth(peer, me, ETH_IPV4, ipv4(
        c4, a4, UDP, udp(c4, a4, 40005, 53, b"")[:4])), MALFORMED)
    add("UDP length past the IP payload", v4udp(query, length=8 + len(query) + 40, check="zero"),
        MALFORMED)
    add("UDP length under 8", v4udp(query, length=6, check="zero"), MALFORMED)
    add("UDP bad checksum", v4udp(query, check="bad"), MALFORMED)
    add("UDP checksum 0 (none), answered", v4udp(query, sport=40010, check="zero"), ANSWER, 40010)
    add("UDP length under the IP payload (trailing bytes), answered",
        v4udp(query + b"TRAILING-GARBAGE", sport=40011, length=8 + len(query),
              covered=8 + len(query)), ANSWER, 40011)
    add("UDP to port 54", eth(peer, me, ETH_IPV4, ipv4(c4, a4, UDP, udp(c4, a4, 40006, 54, query))),
        EXCEPTION)
    # DNS in an otherwise good datagram
    add("DNS QR=1 (a response)", v4udp(response), RESPONSE)
    add("DNS shorter than a header (5 bytes)", v4udp(short_dns), MALFORMED)
    add("DNS empty datagram", v4udp(b""), MALFORMED)
    add("DNS name compression loop, answered", v4udp(loop_dns, sport=40012), ANSWER, 40012)
    # ICMP
    add("ICMP echo with a bad checksum", eth(peer, me, ETH_IPV4, ipv4(
        c4, a4, ICMP, icmp4(8, 0, b"\0\1\0\1" + b"x" * 16, bad=True))), MALFORMED)
    add("ICMP header cut at 2 bytes", eth(peer, me, ETH_IPV4, ipv4(c4, a4, ICMP, b"\x08\x00")),
        MALFORMED)
    add("ICMP timestamp request", eth(peer, me, ETH_IPV4, ipv4(
        c4, a4, ICMP, icmp4(13, 0, b"\0" * 16))), EXCEPTION)
    # ARP
    add("ARP cut at 10 bytes", eth(BROADCAST, me, ETH_ARP, arp(1, me, c4, b"\0" * 6, a4)[:10]),
        MALFORMED)
    add("ARP hardware type 6", eth(BROADCAST, me, ETH_ARP, arp(1, me, c4, b"\0" * 6, a4, htype=6)),
        MALFORMED)
    add("ARP protocol type IPv6", eth(BROADCAST, me, ETH_ARP, arp(1, me, c4, b"\0" * 6, a4,
                                                                  ptype=ETH_IPV6)), MALFORMED)
    add("ARP request for another address", eth(BROADCAST, me, ETH_ARP, arp(
        1, me, c4, b"\0" * 6, "198.18.0.99")), EXCEPTION)
    add("ARP reply to us", eth(peer, me, ETH_ARP, arp(2, me, c4, peer, a4)), EXCEPTION)
    # IPv6
    add("IPv6 header cut at 20 bytes", eth(peer, me, ETH_IPV6, ipv6(c6, a6, UDP, b"")[:20]),
        MALFORMED)
    add("IPv6 payload length past the frame", eth(peer, me, ETH_IPV6, ipv6(
        c6, a6, UDP, udp(c6, a6, 40007, 53, query, v6=True), plen=1200)), MALFORMED)
    add("IPv6 to another address", v6udp(query, dst="2001:db8:18::77"), NOT_OURS)
    add("IPv6 UDP bad checksum", v6udp(query, check="bad"), MALFORMED)
    add("IPv6 UDP checksum 0 (not allowed over IPv6)", v6udp(query, check="zero"), MALFORMED)
    add("IPv6 UDP length past the payload", v6udp(query, length=8 + len(query) + 9, check="zero"),
        MALFORMED)
    add("IPv6 hop-by-hop extension header", eth(peer, me, ETH_IPV6, ipv6(
        c6, a6, 0, bytes([UDP, 0]) + b"\x01\x04\0\0\0\0" + udp(c6, a6, 40008, 53, query, v6=True))),
        EXCEPTION)
    add("IPv6 fragment header", eth(peer, me, ETH_IPV6, ipv6(
        c6, a6, 44, bytes([UDP, 0]) + b"\0\x01\0\0\x12\x34" + udp(c6, a6, 40009, 53, query,
                                                                  v6=True))), EXCEPTION)
    ns_body = struct.pack("!BBHI", 135, 0, 0, 0) + socket.inet_pton(socket.AF_INET6, a6)
    add("ND solicitation with hop limit 64", eth(peer, me, ETH_IPV6, ipv6(
        c6, a6, ICMP6, icmp6(c6, a6, ns_body), hop=64)), MALFORMED)
    add("ICMPv6 bad checksum", eth(peer, me, ETH_IPV6, ipv6(
        c6, a6, ICMP6, icmp6(c6, a6, struct.pack("!BBHHH", 128, 0, 0, 1, 1), bad=True))),
        MALFORMED)
    other_ns = struct.pack("!BBHI", 135, 0, 0, 0) + socket.inet_pton(socket.AF_INET6,
                                                                     "2001:db8:18::99")
    sn = solicited_node("2001:db8:18::99")
    add("ND solicitation for another address (multicast)", eth(
        b"\x33\x33\xff\x00\x00\x99", me, ETH_IPV6, ipv6(c6, sn, ICMP6, icmp6(c6, sn, other_ns),
                                                       hop=255)), EXCEPTION)
    # Oversized: a full 1514-byte frame whose UDP datagram is the query plus padding up to the
    # MTU: answered (the DNS message ends where its sections do; the rest is ignored or FORMERR).
    pad = b"\0" * (1500 - 20 - 8 - len(query))
    add("1514-byte frame, query padded to the MTU, answered", v4udp(query + pad, sport=40013),
        ANSWER, 40013)
    return out
