#!/usr/bin/python3
"""DNS Cookies (RFC 7873, server cookies per RFC 9018) through real processes, with BIND's dig
and Knot's kdig as the clients.

  interop   sextant-control --once (which publishes a secret) and `sextant-dataplane --listen`:
            `dig +cookie` and `kdig +cookie` get a 24-byte COOKIE back (their client cookie and a
            version-1 server cookie); sent back with `+cookie=VALUE` it is accepted (dig says
            "good") and the same cookie returns; a forged server cookie is replaced by a fresh
            one for the same client cookie; TCP (kdig +tcp) gets one too; a malformed COOKIE
            (3 bytes) is FORMERR; the lcore counters count seen and valid cookies
  require   cookies: {require: true, rotate: 2s} under the control daemon: a UDP query with
            only a client cookie gets BADCOOKIE with a new cookie (dig +nobadcookie shows it,
            plain dig and kdig retry with it and get the answer), TCP is answered; the cookie
            is accepted after one rotation by control (the previous secret) and refused
            (BADCOOKIE) after two; BADCOOKIE is counted
  dpdk      DPDK mode (af_packet on a veth into a namespace of 198.18.0.0/15, --no-huge): the
            fast path answers dig +cookie with a server cookie, accepts it back, and the
            exception path's TCP listener answers kdig +tcp +cookie

Usage: cookies_test.py --sextant-control PATH --sextant-dataplane PATH --workdir DIR
Needs dnsutils (dig), knot-dnsutils (kdig), python3-dnspython.
"""

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from lab import (APPLIANCE_V4, Lab, Results, answering, cookie_counters,  # noqa: E402
                 cookie_rotations, integration_args, publish_once, remove_shm, run, start_listener,
                 stop_processes, wait_for)

import dns.edns  # noqa: E402
import dns.message  # noqa: E402
import dns.query  # noqa: E402
import dns.rcode  # noqa: E402

ZONE = """\
$ORIGIN ck.test.
$TTL 300
@       3600 IN SOA ns1 hostmaster 2024010101 7200 3600 1209600 300
@       3600 IN NS  ns1
ns1     IN A     198.18.0.1
www     IN A     198.18.0.80
"""

COOKIE = 10
BADCOOKIE = 23
PROCS = []


def dig_cookie(out):
    """The COOKIE dig printed ("; COOKIE: HEX (good)") as (hex, remark)."""
    m = re.search(r"; COOKIE: ([0-9a-f]+)(?: \(([a-z ]+)\))?", out)
    return (m.group(1), m.group(2) or "") if m else (None, "")


def kdig_cookie(out):
    """The COOKIE kdig printed (";; COOKIE: HEX" in the EDNS pseudosection)."""
    m = re.search(r"COOKIE: ([0-9a-fA-F]+)", out)
    return m.group(1).lower() if m else None


def ask(port, cookie=None, tcp=False, timeout=2.0):
    """A query for www.ck.test. A with the COOKIE option `cookie` (bytes; None: none)."""
    opts = [dns.edns.GenericOption(COOKIE, cookie)] if cookie is not None else []
    q = dns.message.make_query("www.ck.test.", "A", use_edns=0, options=opts)
    fn = dns.query.tcp if tcp else dns.query.udp
    return fn(q, "127.0.0.1", port=port, timeout=timeout)


def cookie_of(resp):
    for o in resp.options:
        if o.otype == COOKIE:
            return bytes(o.to_wire()) if hasattr(o, "to_wire") else bytes(o.data)
    return None


class Instance:
    """A config, its control (--once or the daemon) and a kernel-listener dataplane."""

    def __init__(self, args, name, cookies_yaml, daemon):
        self.dir = Path(args.workdir) / name
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir.mkdir(parents=True)
        (self.dir / "ck.test.zone").write_text(ZONE)
        self.instance = f"sx-cookies-{name}"
        remove_shm([self.instance])
        cfg = self.dir / "sextant.yaml"
        cfg.write_text(f"instance: {self.instance}\n"
                       "zones: [{origin: ck.test., file: ck.test.zone}]\n"
                       f"control: {{socket: {self.dir}/ctl.sock, state_file: {self.dir}/state}}\n"
                       + cookies_yaml)
        if daemon:
            log = open(self.dir / "control.out", "w")
            self.control = subprocess.Popen([args.sextant_control, "--config", str(cfg)],
                                            stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL)
            PROCS.append(self.control)
            if not wait_for(lambda: "serving generation" in
                            (self.dir / "control.out").read_text(), timeout=20):
                raise RuntimeError("sextant-control did not start: " +
                                   (self.dir / "control.out").read_text())
        else:
            publish_once(args.sextant_control, str(cfg), str(self.dir))
        self.port, self.proc = start_listener(args.sextant_dataplane, str(cfg),
                                              str(self.dir / "dataplane.out"), PROCS,
                                              answering(lambda port: ask(port, tcp=True,
                                                                         timeout=0.3)))

    def dig(self, *args):
        return run(["dig", "@127.0.0.1", "-p", str(self.port), "+time=2", "+tries=1", *args,
                    "www.ck.test.", "A"], check=False).stdout

    def kdig(self, *args):
        return run(["kdig", "@127.0.0.1", "-p", str(self.port), "+time=2", "+retry=0", *args,
                    "www.ck.test.", "A"], check=False).stdout

    def cleanup(self):
        remove_shm([self.instance])


def test_interop(args, res):
    inst = Instance(args, "interop", "", daemon=False)
    out = inst.dig("+cookie")
    first, _ = dig_cookie(out)
    res.check("interop: dig +cookie gets NOERROR and a 24-byte cookie back",
              "status: NOERROR" in out and first is not None and len(first) == 48 and
              first[16:18] == "01", out)
    if first is None:
        return
    out = inst.dig(f"+cookie={first}")
    again, remark = dig_cookie(out)
    res.check("interop: the returned cookie sent back is accepted (dig: good) and comes back "
              "the same", "status: NOERROR" in out and again == first and remark == "good", out)
    forged = first[:16] + "01000000" + first[24:32] + "0123456789abcdef"
    out = inst.dig(f"+cookie={forged}")
    fresh, _ = dig_cookie(out)
    res.check("interop: a forged server cookie is answered with a fresh one for the same client",
              "status: NOERROR" in out and fresh is not None and fresh != forged and
              fresh[:16] == first[:16], out)

    out = inst.kdig("+cookie")
    k1 = kdig_cookie(out)
    res.check("interop: kdig +cookie gets a 24-byte cookie back",
              "NOERROR" in out and k1 is not None and len(k1) == 48, out)
    if k1:
        out = inst.kdig(f"+cookie={k1}")
        res.check("interop: kdig +cookie=VALUE is accepted and the same cookie comes back",
                  "NOERROR" in out and kdig_cookie(out) == k1, out)
    out = inst.kdig("+tcp", "+cookie")
    kt = kdig_cookie(out)
    res.check("interop: kdig +tcp +cookie gets a cookie over TCP",
              "NOERROR" in out and kt is not None and len(kt) == 48, out)
    if kt:
        out = inst.kdig("+tcp", f"+cookie={kt}")
        res.check("interop: the TCP cookie is accepted over TCP", kdig_cookie(out) == kt, out)

    r = ask(inst.port, cookie=b"\x01\x02\x03")
    res.check("interop: a 3-byte COOKIE is FORMERR without a cookie",
              r.rcode() == dns.rcode.FORMERR and cookie_of(r) is None, r.to_text())
    seen, valid, bad = cookie_counters(inst.instance)
    res.check("interop: the counters saw the cookies and the valid ones", seen >= 6 and
              valid >= 3 and bad == 0, f"seen {seen} valid {valid} badcookie {bad}")
    inst.cleanup()


def fresh_cookie(inst, client):
    """A server cookie for `client` made with the current secret, taken over TCP (no
    BADCOOKIE there), with the rotation count it was made under."""
    for _ in range(20):
        before = cookie_rotations(inst.instance)
        c = cookie_of(ask(inst.port, cookie=client, tcp=True))
        if cookie_rotations(inst.instance) == before:
            return c, before
    raise RuntimeError("the secret rotated under every try")


def test_require(args, res):
    inst = Instance(args, "require", "cookies: {require: true, rotate: 2s}\n", daemon=True)
    out = inst.dig("+cookie", "+nobadcookie")
    c, _ = dig_cookie(out)
    res.check("require: dig +cookie +nobadcookie over UDP shows BADCOOKIE with a new cookie",
              "status: BADCOOKIE" in out and c is not None and len(c) == 48, out)
    out = inst.dig("+cookie")
    res.check("require: plain dig retries with the new cookie and gets the answer",
              "status: NOERROR" in out and "198.18.0.80" in out, out)
    out = inst.kdig("+cookie")
    res.check("require: kdig +cookie retries after BADCOOKIE and gets the answer",
              "NOERROR" in out and "198.18.0.80" in out, out)
    out = inst.kdig("+tcp", "+cookie")
    res.check("require: TCP with a client cookie only is answered", "NOERROR" in out and
              "198.18.0.80" in out, out)
    out = inst.dig("+nocookie")
    res.check("require: a query without any cookie is answered", "status: NOERROR" in out, out)

    client = bytes.fromhex("0011223344556677")
    cookie, made = fresh_cookie(inst, client)
    r = ask(inst.port, cookie=cookie)
    res.check("require: the fresh cookie is accepted over UDP", r.rcode() == dns.rcode.NOERROR,
              r.to_text())
    rotated = wait_for(lambda: cookie_rotations(inst.instance) >= made + 1, timeout=10, step=0.05)
    r = ask(inst.port, cookie=cookie)
    res.check("require: after one rotation the cookie is still accepted (previous secret), and "
              "a renewed one comes back", rotated and r.rcode() == dns.rcode.NOERROR and
              cookie_of(r) not in (None, cookie), r.to_text())
    rotated = wait_for(lambda: cookie_rotations(inst.instance) >= made + 2, timeout=10, step=0.05)
    r = ask(inst.port, cookie=cookie)
    res.check("require: after two rotations it is refused with BADCOOKIE",
              rotated and r.rcode() == BADCOOKIE and cookie_of(r) is not None and
              cookie_of(r)[:8] == client, r.to_text())
    res.check("require: control logged the rotations",
              "DNS Cookie secret rotated" in (inst.dir / "control.out").read_text(),
              (inst.dir / "control.out").read_text()[-1500:])
    _, _, bad = cookie_counters(inst.instance)
    res.check("require: BADCOOKIE answers are counted", bad >= 3, f"badcookie {bad}")

    # Control stopped: the dataplane keeps the last secrets and still accepts their cookies.
    inst.control.terminate()
    inst.control.wait(timeout=15)
    cookie, _ = fresh_cookie(inst, client)
    time.sleep(2.5)  # no rotation happens without control
    r = ask(inst.port, cookie=cookie)
    res.check("require: with control down the last secret still validates",
              r.rcode() == dns.rcode.NOERROR and cookie_of(r) == cookie, r.to_text())
    inst.cleanup()


def test_dpdk(args, res):
    workdir = Path(args.workdir) / "dpdk"
    shutil.rmtree(workdir, ignore_errors=True)
    with Lab(args.sextant_control, args.sextant_dataplane, workdir,
             tag=f"k{os.getpid() % 10000}") as lab:
        lab.write_config([("ck.test.", ZONE)])
        lab.publish()
        lab.start()
        out = lab.dig("+cookie", "www.ck.test.", "A")
        first, _ = dig_cookie(out)
        res.check("dpdk: the fast path answers dig +cookie with a server cookie",
                  "status: NOERROR" in out and first is not None and len(first) == 48, out)
        if first:
            out = lab.dig(f"+cookie={first}", "www.ck.test.", "A")
            again, remark = dig_cookie(out)
            res.check("dpdk: the cookie is accepted back by the fast path",
                      again == first and remark == "good", out)
        out = lab.ns_run(["kdig", f"@{APPLIANCE_V4}", "+tcp", "+time=3", "+cookie",
                          "www.ck.test.", "A"]).stdout
        kt = kdig_cookie(out)
        res.check("dpdk: the exception path's TCP answers kdig +tcp +cookie",
                  "NOERROR" in out and kt is not None and len(kt) == 48, out)
        seen, valid, _ = cookie_counters(lab.instance)
        res.check("dpdk: the lcores counted the cookies", seen >= 3 and valid >= 1,
                  f"seen {seen} valid {valid}")
        rc = lab.stop()
        res.check("dpdk: dataplane stopped cleanly", rc == 0, f"exit {rc}")


def main():
    args = integration_args()
    os.makedirs(args.workdir, exist_ok=True)
    for tool in ("dig", "kdig"):
        if shutil.which(tool) is None:
            print(f"FAIL {tool} is not installed (scripts/install-deps.sh)")
            return 1
    res = Results()
    try:
        for test in (test_interop, test_require, test_dpdk):
            test(args, res)
    finally:
        stop_processes(PROCS)
    print(f"{res.passed} passed, {res.failed} failed")
    return 0 if res.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
