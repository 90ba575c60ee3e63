#!/usr/bin/python3
"""Sends one 802.1Q-tagged DNS query frame from inside a network namespace over a raw socket and
waits for the tagged answer. Used where the kernel has no VLAN sub-interfaces (no 8021q): the
frame is built by hand, so only a raw AF_PACKET socket is needed.

usage: vlan_probe.py IFACE DST_MAC SRC_IP DST_IP VLAN QNAME
prints the answer's A records and the VLAN id it came back on; exit 0 on success."""
import socket
import struct
import sys
import time

import dns.message
import dns.rdatatype

from raw_frames import checksum

SOL_PACKET = 263
PACKET_AUXDATA = 8
TP_STATUS_VLAN_VALID = 1 << 4


def main() -> int:
    iface, dst_mac, src_ip, dst_ip, vlan, qname = sys.argv[1:7]
    vlan = int(vlan)
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
    sock.bind((iface, 0))
    sock.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
    src_mac = sock.getsockname()[4]
    q = dns.message.make_query(qname, "A", use_edns=0, payload=1232)
    q.id = 0x5A5A
    payload = q.to_wire()
    sport = 40053
    udp_len = 8 + len(payload)
    ip_hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + udp_len, 0, 0, 64, 17, 0,
                         socket.inet_aton(src_ip), socket.inet_aton(dst_ip))
    ip_hdr = ip_hdr[:10] + struct.pack("!H", checksum(ip_hdr)) + ip_hdr[12:]
    pseudo = socket.inet_aton(src_ip) + socket.inet_aton(dst_ip) + struct.pack("!BBH", 0, 17, udp_len)
    udp = struct.pack("!HHHH", sport, 53, udp_len, 0) + payload
    udp = udp[:6] + struct.pack("!H", checksum(pseudo + udp) or 0xFFFF) + udp[8:]
    frame = (bytes.fromhex(dst_mac.replace(":", "")) + src_mac +
             struct.pack("!HH", 0x8100, vlan) + struct.pack("!H", 0x0800) + ip_hdr + udp)
    sock.send(frame)
    deadline = time.time() + 3
    sock.settimeout(0.5)
    while time.time() < deadline:
        try:
            data, anc, _, _ = sock.recvmsg(4096, socket.CMSG_SPACE(20))
        except socket.timeout:
            continue
        tag = None
        for level, typ, cdata in anc:
            if level == SOL_PACKET and typ == PACKET_AUXDATA and len(cdata) >= 20:
                status, _, _, _, _, tci, _ = struct.unpack("IIIHHHH", cdata[:20])
                if status & TP_STATUS_VLAN_VALID:
                    tag = tci & 0xFFF
        off = 12
        etype = struct.unpack("!H", data[off:off + 2])[0]
        if etype == 0x8100:  # tag left in the frame
            tag = struct.unpack("!H", data[14:16])[0] & 0xFFF
            off += 4
            etype = struct.unpack("!H", data[off:off + 2])[0]
        if etype != 0x0800:
            continue
        ip = data[off + 2:]
        if ip[9] != 17 or ip[12:16] != socket.inet_aton(dst_ip):
            continue
        ihl = (ip[0] & 0xF) * 4
        sp, dp = struct.unpack("!HH", ip[ihl:ihl + 4])
        if sp != 53 or dp != sport:
            continue
        r = dns.message.from_wire(ip[ihl + 8:])
        addrs = sorted(rd.address for rrset in r.answer if rrset.rdtype == dns.rdatatype.A for rd in rrset)
        print(f"vlan={tag} id={r.id:#x} rcode={r.rcode()} a={','.join(addrs)}")
        return 0 if tag == vlan and r.id == 0x5A5A else 1
    print("no answer")
    return 1


if __name__ == "__main__":
    sys.exit(main())
