#!/usr/bin/python3
"""The malformed corpus through the DPDK port: raw Ethernet frames, broken at every layer, sent
from the client side of the namespace lab with an AF_PACKET socket on the kernel end of the
data port's net_tap (frames reach DPDK byte for byte; on net_af_packet over veth the kernel
would swallow lone IP fragments, which the PMD's PACKET_FANOUT_FLAG_DEFRAG holds for
reassembly, and short 802.1Q tags, which veth cannot untag), valid queries interleaved and checked, then the DNS-level hostile corpus of
malformed_test.py (lib/malformed_cases.py) over UDP to the appliance address.

Frames (lib/raw_frames.py corpus()): unknown EtherTypes, another host's MAC, a cut 802.1Q tag, a
VLAN not ours, IPv4 headers cut short, version 5, IHL 4, total length past the frame and under
the header, bad header checksums, IP options, first and later fragments, an unknown protocol,
UDP headers cut short, UDP lengths past and under the IP payload, bad and absent UDP checksums,
another port, QR=1, a 5-byte and an empty DNS message, a compression loop, ICMP with a bad
checksum or cut, ICMP timestamp, ARP cut, of hardware type 6 or protocol IPv6, for another
address, replies; IPv6 cut, payload length past the frame, another address, bad or zero UDP
checksums, hop-by-hop and fragment extension headers, an ND solicitation with hop limit 64, a
bad ICMPv6 checksum, a solicitation for another address; a full 1514-byte frame. Each has the
outcome the packet path must give it (drop by reason, the exception path, or an answer, which is
captured and checked). Every 5 frames, a valid query from the client's own stack (exact answer).

The port checks receive checksums (net_tap offers IPv4 header and UDP checksum offload), so the
bad sums are dropped on its verdict (the packet path's RxChecksum bits) and the test checks the
dataplane said so.

Then: the dataplane is alive and answers; its drop counters (control block, summed over lcores)
moved by exactly the number of frames expected malformed and QR=1, and at least by those
expected not ours and handed to the exception path (the client's kernel adds ND/MLD of its own
to those two).

The hostile DNS corpus skips datagrams over 1400 bytes: on the 1500-byte link they leave as IP
fragments, which go to the kernel through the exception path, where nothing serves UDP.
Frames over the link's MTU are not sent by the kernel at all, so the largest frame sent is a
full 1514-byte one.
"""
import socket
import struct
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "lib"))
from lab import (APPLIANCE_V4, APPLIANCE_V6, CLIENT_V4, CLIENT_V6, Lab,  # noqa: E402
                 Results, integration_args)
from malformed_cases import (FORMERR, ORIGIN, QR, SENSIBLE, SERVER, VALID, ZONE,  # noqa: E402
                             build_hostile, make_valid, sentinel_id)
from malformed_checks import (check_reply, check_valid, hostile_problems,  # noqa: E402
                              udp_exchange)
import raw_frames as rf  # noqa: E402

SEED = 20240101
DNS_BUDGET_S = 25.0


def lab_query(spec_index, qid):
    return make_valid(VALID[spec_index], qid)


class Client:
    """The client side, from inside the lab namespace: a raw socket on its interface and UDP
    sockets through its own stack."""

    def __init__(self, lab):
        self.raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
        self.raw.bind((lab.client_ifname, 0))
        self.raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.mac = self.raw.getsockname()[4]
        self.valid_i = 0
        self.valid_bad = 0

    def valid(self, res, name):
        """One valid query through the client's stack, its answer checked exactly."""
        spec = VALID[self.valid_i % len(VALID)]
        self.valid_i += 1
        qid = 0x7000 + self.valid_i
        extra, _ = udp_exchange((APPLIANCE_V4, 53), make_valid(spec, qid), 0x5e5e, 2.0)
        p = check_valid(extra[0] if extra else None, qid, spec)
        if p:
            self.valid_bad += 1
            res.check(f"valid {spec[0]} {spec[1]} after {name}", False, "; ".join(p))
        return not p

    def replies(self, wait_s):
        """UDP replies from the appliance's port 53 seen on the wire: {dst port: DNS payload}."""
        out = {}
        self.raw.settimeout(0.1)
        deadline = time.monotonic() + wait_s
        a4 = socket.inet_aton(APPLIANCE_V4)
        while time.monotonic() < deadline:
            try:
                f = self.raw.recv(65535)
            except socket.timeout:
                continue
            if len(f) < 42 or struct.unpack("!H", f[12:14])[0] != rf.ETH_IPV4:
                continue
            ip = f[14:]
            ihl = (ip[0] & 15) * 4
            if ip[9] != rf.UDP or ip[12:16] != a4 or struct.unpack("!H", ip[ihl:ihl + 2])[0] != 53:
                continue
            out[struct.unpack("!H", ip[ihl + 2:ihl + 4])[0]] = ip[ihl + 8:]
        return out


def loop_query():
    """A query whose name is a pointer to itself (RFC 1035 compression loop)."""
    return struct.pack("!6H", 0x6c6f, 0, 1, 0, 0, 0) + b"\xc0\x0c" + struct.pack("!HH", 1, 1)


def check_answer(name, wire, reply):
    if reply is None:
        return ["no answer"]
    if wire == lab_query(0, 0x4242):
        return check_valid(reply, 0x4242, VALID[0])
    rcodes = [FORMERR] if name.startswith("DNS name compression loop") else list(SENSIBLE)
    return check_reply(wire, reply, False, rcodes)


COUNTER_OF = {rf.MALFORMED: "malformed", rf.RESPONSE: "response", rf.NOT_OURS: "not_ours",
              rf.EXCEPTION: "exception"}


def check_frame_counted(lab, res, name, outcome, before):
    """The frame moved its outcome's counter by one (waiting up to 1 s for the lcore's burst),
    and no other drop counter (the client's own ND/MLD may reach the exception path meanwhile)."""
    key = COUNTER_OF[outcome]
    deadline = time.monotonic() + 1.0
    while True:
        d = deltas(before, lab.drop_counters())
        if d[key] >= 1 or time.monotonic() > deadline:
            break
        time.sleep(0.005)
    others = {k: v for k, v in d.items() if v and k not in (key, "exception")}
    exact = d[key] == 1 if outcome in (rf.MALFORMED, rf.RESPONSE) else d[key] >= 1
    if not exact or others:
        res.check(f"frame counted as {key}: {name}", False, f"counters moved by {d}")
        return False
    return True


def frames(lab, res, client):
    """Part 1: the raw frame corpus. Returns the expected counts by outcome."""
    query = lab_query(0, 0x4242)
    response = struct.pack("!H", 0x4243) + struct.pack("!H", QR) + query[4:]
    peer = bytes.fromhex(lab.appliance_mac().replace(":", ""))
    corpus = rf.corpus(client.mac, peer, CLIENT_V4, APPLIANCE_V4, CLIENT_V6, APPLIANCE_V6, query,
                       response, b"\x12\x34\x01\x00\x00", loop_query())
    expected = {}
    answers = {}
    miscounted = 0
    for i, (name, frame, outcome, sport) in enumerate(corpus):
        before = lab.drop_counters()
        client.raw.send(frame)
        expected[outcome] = expected.get(outcome, 0) + 1
        if outcome == rf.ANSWER:
            answers[sport] = (name, frame)
        else:
            miscounted += not check_frame_counted(lab, res, name, outcome, before)
        if i % 5 == 4:
            client.valid(res, name)
    got = client.replies(1.0)
    for sport, (name, frame) in answers.items():
        # The DNS message starts after Ethernet (14), IPv4 (20) and UDP (8) headers.
        ulen = struct.unpack("!H", frame[38:40])[0]
        wire = frame[42:34 + ulen]
        p = check_answer(name, wire, got.get(sport))
        res.check(f"frame answered: {name}", not p, "; ".join(p))
    print(f"     {len(corpus)} frames: " + ", ".join(f"{n} {k}" for k, n in sorted(expected.items())))
    res.check(f"each of the {len(corpus) - len(answers)} dropped or handed-over frames moved its "
              "own counter", miscounted == 0, f"{miscounted} did not")
    res.check(f"{client.valid_i} valid queries interleaved with the frames answered exactly",
              client.valid_bad == 0 and client.valid_i >= 9, f"{client.valid_bad} wrong")
    return expected


def dns_corpus(res):
    """Part 2: the hostile DNS messages over UDP. Returns (malformed, QR=1) expected."""
    cases = [c for c in build_hostile(SEED) if len(c["wire"]) <= 1400]
    started = time.monotonic()
    short = qr = failed = sent = 0
    for i, c in enumerate(cases):
        if time.monotonic() - started > DNS_BUDGET_S:
            res.check("hostile DNS corpus within its time budget", False,
                      f"stopped after {i} of {len(cases)}")
            break
        w = c["wire"]
        replies, answered = udp_exchange((APPLIANCE_V4, 53), w, sentinel_id(w), 2.0)
        sent += 1
        p = hostile_problems(c, replies, answered, False)
        if p:
            failed += 1
            res.check(f"hostile DNS: {c['name']}", False, "; ".join(p) + f" ({w[:48].hex()})")
        if len(w) < 12:
            short += 1
        elif w[2] & 0x80:
            qr += 1
    res.check(f"hostile DNS corpus through the DPDK port: {sent} packets, each with its sentinel "
              "answered and no wrong reply", failed == 0 and sent > 100, f"{failed} failed")
    return short, qr


def deltas(before, after):
    return {k: after[k] - before[k] for k in before}


def settle(lab):
    """The counters once the lcores have counted everything sent (they count per burst)."""
    last = lab.drop_counters()
    for _ in range(20):
        time.sleep(0.1)
        now = lab.drop_counters()
        if now == last:
            return now
        last = now
    return last


def main():
    args = integration_args()
    res = Results()
    workdir = Path(args.workdir)
    with Lab(args.sextant_control, args.sextant_dataplane, workdir, pmd="tap") as lab:
        # Hundreds of hostile messages from one address, most answered FORMERR (rate limiting's
        # errors class, 100/s by default), each reply checked: limits this test never reaches,
        # so the replies still go through the limiter.
        lab.write_config([(ORIGIN, ZONE)], server=SERVER,
                         extra="rate_limit:\n  responses_per_second: {answers: 1000000, "
                               "nxdomain: 1000000, nodata: 1000000, errors: 1000000}\n")
        lab.publish()
        lab.start()
        out = lab.dig("www." + ORIGIN, "A")  # resolves the appliance's MAC too
        res.check("the lab answers before the corpus", "198.18.1.1" in out, out)
        # net_tap checks receive checksums (RTE_ETH_RX_OFFLOAD_IPV4_CKSUM, _UDP_CKSUM): the
        # corpus's bad IPv4 header and UDP sums are dropped on the port's verdict, the good ones
        # answered without a second sum.
        serving = [line for line in lab.log_path.read_text().splitlines()
                   if "serving generation" in line]
        res.check("net_tap: receive checksums checked by the port",
                  any("checked by the NIC" in line for line in serving), "\n".join(serving))
        leave = lab.enter_namespace()
        try:
            client = Client(lab)
            before = settle(lab)
            expected = frames(lab, res, client)
            mid = settle(lab)
            d = deltas(before, mid)
            print(f"     counters moved by: {d}")
            for reason, outcome in (("malformed", rf.MALFORMED), ("response", rf.RESPONSE)):
                res.check(f"frames: dropped as {reason} exactly {expected.get(outcome, 0)}",
                          d[reason] == expected.get(outcome, 0), f"{d[reason]}")
            for reason, outcome in (("not_ours", rf.NOT_OURS), ("exception", rf.EXCEPTION)):
                res.check(f"frames: {reason} at least {expected.get(outcome, 0)}",
                          d[reason] >= expected.get(outcome, 0), f"{d[reason]}")
            res.check("frames: nothing dropped for another reason",
                      d["other"] == 0 and d["tx_full"] == 0 and d["no_snapshot"] == 0, f"{d}")
            short, qr = dns_corpus(res)
            d = deltas(mid, settle(lab))
            print(f"     counters moved by: {d}")
            res.check(f"hostile DNS: dropped as malformed exactly {short} (shorter than a header)",
                      d["malformed"] == short, f"{d['malformed']}")
            res.check(f"hostile DNS: dropped as responses exactly {qr} (QR=1)",
                      d["response"] == qr, f"{d['response']}")
            ok = all(client.valid(res, "the end") for _ in range(len(VALID)))
            res.check("valid queries answered exactly at the end", ok)
        finally:
            leave()
        res.check("the dataplane is alive", lab.proc.poll() is None, lab.log_path.read_text()[-800:])
        out = lab.dig("+tcp", "www." + ORIGIN, "A")
        res.check("TCP through the exception path answers", "198.18.1.1" in out, out)
        rc = lab.stop()
        res.check("clean shutdown on SIGTERM", rc == 0, f"rc={rc}")
    return res.summary()


if __name__ == "__main__":
    sys.exit(main())
