#!/usr/bin/env python3
"""Checks the answers a dataplane sent (pcap files written by the pcap PMD's tx_pcap) against
what make_query_pcap.py --expect says a right answer holds: every query answered exactly once
(matched by client address, port and DNS id), with the expected rcode and exactly the expected
A/AAAA addresses, and valid IPv4 header and UDP checksums (a zero UDP checksum counts as wrong:
the dataplane always fills it in); with --ecs (every query carried an EDNS Client Subnet option), an ECS option
in every answer as well. With --offloaded (sextant-dataplane --perf-checksum-offload) the
checksums are the ones left for a NIC to complete instead: 0 in the IPv4 header, the
pseudo-header sum in the UDP field.

Exit 0 when every answer is right, 1 (with the first problems listed) otherwise. Standard
library only (and tests/integration/lib/raw_frames.py for the checksum).

  perf/check_answers.py --expect expected.txt [--copies 2] [--offloaded] answers0.pcap [...]
  perf/check_answers.py --self-test   (the checksum check passes a right frame, fails wrong ones)
"""
import argparse
import ipaddress
import struct
import sys
from pathlib import Path

# The one RFC 1071 checksum of the Python tools, and the frame builders: the integration tests'.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "integration" / "lib"))
import raw_frames  # noqa: E402


def pcap_frames(path):
    """The frames of a libpcap file (either byte order, micro- or nanosecond timestamps)."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        raise ValueError(f"{path}: {len(data)} bytes, not a pcap file")
    for endian in "<>":
        if struct.unpack_from(endian + "I", data)[0] in (0xA1B2C3D4, 0xA1B23C4D):
            break
    else:
        raise ValueError(f"{path}: not a pcap file (magic {data[:4].hex()})")
    off = 24
    while off + 16 <= len(data):
        incl = struct.unpack_from(endian + "IIII", data, off)[2]
        yield data[off + 16:off + 16 + incl]
        off += 16 + incl


def skip_name(msg, off):
    while True:
        n = msg[off]
        if n >= 0xC0:
            return off + 2
        if n == 0:
            return off + 1
        off += 1 + n


def pseudo_header(frame, udp_len):
    """The IPv4 UDP pseudo-header of a frame (RFC 768): addresses, protocol, UDP length."""
    return frame[26:34] + struct.pack("!BBH", 0, 17, udp_len)


def checksum_problem(frame, offloaded=False):
    """What is wrong with an IPv4/UDP frame's checksums, or None. offloaded: the checksums are
    to be completed by a NIC (IPv4 and UDP transmit offload): the IPv4 header's must be 0 and the
    UDP field must hold the pseudo-header sum (not complemented), what DPDK's offload wants."""
    ihl = (frame[14] & 0x0F) * 4
    total = struct.unpack_from("!H", frame, 16)[0]
    udp = frame[14 + ihl:14 + total]
    field = struct.unpack_from("!H", udp, 6)[0]
    pseudo = pseudo_header(frame, len(udp))
    if offloaded:
        if frame[24:26] != b"\0\0":
            return "IPv4 header checksum not left to the NIC"
        # One's complement sums: 0 and 0xFFFF are the same value.
        if field % 0xFFFF != (~raw_frames.checksum(pseudo) & 0xFFFF) % 0xFFFF:
            return "UDP checksum field is not the pseudo-header sum"
        return None
    if raw_frames.checksum(frame[14:14 + ihl]) != 0:
        return "bad IPv4 header checksum"
    if field == 0:
        return "no UDP checksum"
    if raw_frames.checksum(pseudo + udp) != 0:
        return "bad UDP checksum"
    return None


def self_test():
    """A reply frame with right checksums passes (raw_frames builds it); a wrong IPv4 header
    checksum, a wrong UDP checksum, a zero UDP checksum and one wrong byte in the DNS message are
    caught. With offload, the frame as a NIC would get it passes; complete checksums, a wrong
    pseudo-header sum, and the offloaded frame checked as a finished one are caught. Returns the
    process exit code."""
    def frame(check="good", bad_ip=False):
        dns = bytes(range(12)) + b"\x03www\x00\x00\x01\x00\x01"  # odd length
        seg = raw_frames.udp("198.18.0.2", "198.18.1.7", 53, 40000, dns, check=check)
        ip = raw_frames.ipv4("198.18.0.2", "198.18.1.7", raw_frames.UDP, seg, bad_checksum=bad_ip)
        return raw_frames.eth(raw_frames.BROADCAST, b"\x02" * 6, raw_frames.ETH_IPV4, ip)
    byte_changed = bytearray(frame())
    byte_changed[14 + 20 + 8 + 5] ^= 0x50
    # As sent with checksum offload: IPv4 checksum 0, the UDP field the pseudo-header sum.
    offloaded = bytearray(frame("zero"))
    offloaded[24:26] = b"\0\0"
    offloaded[40:42] = struct.pack(
        "!H", ~raw_frames.checksum(pseudo_header(offloaded, len(offloaded) - 34)) & 0xFFFF)
    pseudo_off_by_one = bytearray(offloaded)
    pseudo_off_by_one[41] ^= 0x01
    cases = [("right", frame(), False, False),
             ("IPv4 header checksum", frame(bad_ip=True), False, True),
             ("UDP checksum", frame(check="bad"), False, True),
             ("zero UDP checksum", frame("zero"), False, True),
             ("a byte of the DNS message", bytes(byte_changed), False, True),
             ("offloaded, right", bytes(offloaded), True, False),
             ("offloaded, but complete checksums", frame(), True, True),
             ("offloaded, a wrong pseudo-header sum", bytes(pseudo_off_by_one), True, True),
             ("offloaded frame without --offloaded", bytes(offloaded), False, True)]
    failed = 0
    for name, f, off, wrong in cases:
        got = checksum_problem(f, off)
        if (got is not None) != wrong:
            print(f"self-test: {name}: {got or 'passed'}")
            failed += 1
    print(f"check_answers self-test: {len(cases) - failed} of {len(cases)} cases right")
    return 1 if failed else 0


def parse_answer(frame):
    """(client, port, id, rcode, sorted addresses, ECS (family, source, address) or None) of an
    IPv4/UDP DNS answer frame, or None for anything else."""
    if len(frame) < 42 or frame[12:14] != b"\x08\x00" or frame[23] != 17:
        return None
    ihl = (frame[14] & 0x0F) * 4
    client = str(ipaddress.IPv4Address(frame[30:34]))
    udp = 14 + ihl
    port = struct.unpack_from("!H", frame, udp + 2)[0]
    msg = frame[udp + 8:]
    qid, flags, qd, an, ns, ar = struct.unpack_from("!HHHHHH", msg)
    off = 12
    for _ in range(qd):
        off = skip_name(msg, off) + 4
    addrs, ecs = [], None
    for i in range(an + ns + ar):
        off = skip_name(msg, off)
        rtype, _, _, rdlen = struct.unpack_from("!HHIH", msg, off)
        rdata = msg[off + 10:off + 10 + rdlen]
        off += 10 + rdlen
        if i < an and rtype in (1, 28):
            addrs.append(str(ipaddress.ip_address(rdata)))
        elif rtype == 41:
            o = 0
            while o + 4 <= len(rdata):
                code, olen = struct.unpack_from("!HH", rdata, o)
                if code == 8:
                    fam, src = struct.unpack_from("!HB", rdata, o + 4)
                    ecs = (fam, src, rdata[o + 8:o + 4 + olen])
                o += 4 + olen
    return client, port, qid, flags & 0x0F, sorted(addrs), ecs


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--expect", required=True, help="make_query_pcap.py --expect output")
    ap.add_argument("--copies", type=int, default=1,
                    help="each query was sent this many times (one rx_pcap per queue)")
    ap.add_argument("--ecs", action="store_true",
                    help="every query carried an ECS option: every answer must carry one")
    ap.add_argument("--offloaded", action="store_true",
                    help="the checksums were left to a NIC (sextant-dataplane "
                    "--perf-checksum-offload): 0 in the IPv4 header, the pseudo-header sum in UDP")
    ap.add_argument("answers", nargs="+", help="tx_pcap files")
    args = ap.parse_args()

    want = {}
    with open(args.expect) as f:
        for line in f:
            client, port, qid, rcode, addrs = line.split()
            want.setdefault((client, int(port), int(qid)), []).extend(
                [(int(rcode), sorted(addrs.split(",")) if addrs != "-" else [])] * args.copies)
    expected = sum(len(v) for v in want.values())
    problems, answered, other = [], 0, 0
    try:
        for path in args.answers:
            for frame in pcap_frames(path):
                a = parse_answer(frame)
                if a is None:
                    other += 1
                    continue
                answered += 1
                client, port, qid, rcode, addrs, ecs = a
                bad = checksum_problem(frame, args.offloaded)
                if bad:
                    problems.append(f"{client}:{port} id {qid}: {bad}")
                options = want.get((client, port, qid))
                if not options:
                    problems.append(f"{client}:{port} id {qid}: an answer nobody asked for "
                                    "(or a second one)")
                elif (rcode, addrs) in options:
                    options.remove((rcode, addrs))
                    if args.ecs and ecs is None:
                        problems.append(f"{client}:{port} id {qid}: no ECS option in the answer")
                else:
                    problems.append(f"{client}:{port} id {qid}: rcode {rcode} {addrs}, want "
                                    + " or ".join(f"rcode {r} {w}" for r, w in options))
                    options.pop(0)
    except (OSError, ValueError, IndexError, struct.error) as e:
        sys.exit(f"check_answers: {e}")
    unanswered = sum(len(v) for v in want.values())
    if unanswered:
        problems.append(f"{unanswered} of {expected} queries not answered")
    print(f"check_answers: {answered} answers to {expected} queries, {other} other frames, "
          f"{len(problems)} problems")
    for p in problems[:10]:
        print("  " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
