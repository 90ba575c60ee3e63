#!/usr/bin/python3
"""TCP abuse limits on the DPDK exception path: the slowloris scenario of tcp_abuse_test.py
(lib/slowloris.py) against the TCP server behind the DPDK port, in the namespace lab.

The client side of the lab gets addresses 198.18.0.10-42 for the roles (tricklers, silent
connections, one address over its per-client limit, dig and kdig); their connections reach the
appliance address through the DPDK port (net_af_packet), the exception tap and the kernel, to
the exception path's TCP listener in sextant-dataplane, with the same `tcp:` limits. The checks
are the kernel test's: real clients answered right and promptly throughout, tricklers closed by
the query timeout, silent connections by the idle timeout, the per-client and total limits held
(ss on the appliance's side), what was closed logged, and UDP (the fast path) and TCP answered
afterwards. Before that, IPv6: two addresses of the client's /64 count as one client.

Usage: dpdk_tcp_abuse_test.py --sextant-control PATH --sextant-dataplane PATH --workdir DIR
"""
import socket
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "lib"))
from lab import APPLIANCE_V4, APPLIANCE_V6, CLIENT_V6, Lab, Results, integration_args  # noqa: E402
from slowloris import (PER_CLIENT, TCP_SECTION, WWW, ZONE, Target, ask,  # noqa: E402
                       closed_by_server, run_all)

SAME_64 = "2001:db8:18::5"  # another address of the client's /64

ROLES = {"trickle": 10, "silent": 20, "greedy": 30, "client": 40}


def addr(role, i):
    return f"198.18.0.{ROLES[role] + i}"


def per_64_limit(res):
    """IPv6 clients are counted by /64: 10 connections from two addresses of one /64, 6 kept."""
    socks = []
    for source in [CLIENT_V6] * 5 + [SAME_64] * 5:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.bind((source, 0))
        s.settimeout(2)
        s.connect((APPLIANCE_V6, 53))
        s.setblocking(False)
        socks.append(s)
    time.sleep(0.5)
    closed = sum(1 for s in socks if closed_by_server(s)[0])
    res.check("per-client limit over IPv6 counts the /64: 4 of 10 from two addresses closed",
              closed == 10 - PER_CLIENT, f"{closed} closed")
    for s in socks:
        s.close()


def main():
    args = integration_args()
    res = Results()
    with Lab(args.sextant_control, args.sextant_dataplane, Path(args.workdir)) as lab:
        lab.write_config([("abuse.test.", ZONE)], extra=TCP_SECTION.rstrip())
        lab.publish()
        lab.start()
        for role in ROLES:
            for i in range(6 if role in ("trickle", "silent") else 3):
                lab.ns_run(["ip", "addr", "add", f"{addr(role, i)}/24", "dev", lab.client_ifname],
                           check=True)
        lab.ns_run(["ip", "-6", "addr", "add", f"{SAME_64}/64", "dev", lab.client_ifname, "nodad"],
                   check=True)
        leave = lab.enter_namespace()
        try:
            t = Target(APPLIANCE_V4, 53, addr, ss_prefix=["nsenter", f"--net={leave.home}"])
            first = ask("dig", addr("client", 0), t)
            res.check("TCP through the exception path answers before the attack",
                      first[1] == WWW, f"{first}")
            per_64_limit(res)
            run_all(res, t, str(lab.log_path), lambda: lab.proc.poll() is None)
        finally:
            leave()
        rc = lab.stop()
        res.check("clean shutdown on SIGTERM", rc == 0, f"rc={rc}")
    return res.summary()


if __name__ == "__main__":
    sys.exit(main())
