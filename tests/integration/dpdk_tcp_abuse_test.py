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
afterwards.

Usage: dpdk_tcp_abuse_test.py --sextant-control PATH --sextant-dataplane PATH --workdir DIR
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "lib"))
from lab import APPLIANCE_V4, Lab, Results, integration_args  # noqa: E402
from slowloris import TCP_SECTION, WWW, ZONE, Target, ask, run_all  # noqa: E402

ROLES = {"trickle": 10, "silent": 20, "greedy": 30, "client": 40}


def addr(role, i):
    return f"198.18.0.{ROLES[role] + i}"


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
        leave = lab.enter_namespace()
        try:
            t = Target(APPLIANCE_V4, 53, addr, ss_prefix=["nsenter", f"--net={leave.home}"])
            first = ask("dig", addr("client", 0), t)
            res.check("TCP through the exception path answers before the attack",
                      first[1] == WWW, f"{first}")
            run_all(res, t, str(lab.log_path), lambda: lab.proc.poll() is None)
        finally:
            leave()
        rc = lab.stop()
        res.check("clean shutdown on SIGTERM", rc == 0, f"rc={rc}")
    return res.summary()


if __name__ == "__main__":
    sys.exit(main())
