#!/usr/bin/python3
"""TCP abuse limits against a running sextant-dataplane (kernel listener): slowloris attacks
from many addresses of 127.0.0.0/8 while real clients (dig +tcp, kdig +tcp, from addresses of
their own) keep asking a name every 0.4 s and must get the right answer promptly.

The config sets `tcp: {max_connections: 40, max_connections_per_client: 6, idle_timeout: 3s,
query_timeout: 1500ms}`. Then:

  1. one address opens 10 connections: 6 stay open, 4 are closed at once (per-client limit);
  2. timeouts (7 s): 6 addresses hold 6 connections each that trickle a valid query a byte
     every 0.4 s, and one address holds 3 that never send (39, under the limit); every
     connection the server closes is reopened. Each trickler must be closed by the query
     timeout (1.5 s after its first byte, within the 100 ms sweep and some slack, and not
     before), each silent one by the idle timeout (3 s), none answered;
  3. flood (7 s): the same tricklers plus 3 addresses of 6 silent ones (54 wanted, 40 allowed).
     The server must not hold more than 40 established connections (ss, sampled every 250 ms
     after the attackers paused 50 ms: established minus the listener's accept queue, plus one
     for a real client's connection in flight) and must be full most of the time;
     no address ever has more than 6; newcomers make room by closing the connection stalled
     longest, which the dataplane logs;
  4. afterwards the dataplane is alive and answers over UDP and TCP.

Usage: tcp_abuse_test.py --sextant-control PATH --sextant-dataplane PATH --workdir DIR
"""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from lab import (Binaries, Results, integration_args, publish_once, remove_shm,  # noqa: E402
                 start_listener, stop_processes)
from slowloris import WWW, ZONE, TCP_SECTION, Target, ask, run_all  # noqa: E402


def main():
    args = integration_args()
    b = Binaries(args)
    res = Results()
    procs, instance = [], f"sxtcpabuse{os.getpid()}"
    try:
        zone = b.work / "abuse.test.zone"
        zone.write_text(ZONE)
        cfg = b.work / "sextant.yaml"
        cfg.write_text(f"instance: {instance}\nzones:\n  - {{origin: abuse.test., file: {zone}}}\n"
                       + TCP_SECTION)
        publish_once(b.control, str(cfg), str(b.work))
        roles = {"trickle": "127.0.1.%d", "silent": "127.0.3.%d", "greedy": "127.0.0.%d",
                 "client": "127.0.2.%d"}

        def addr(role, i):
            return roles[role] % (10 + i)

        def ready(port, p):
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                if p.poll() is not None:
                    raise RuntimeError("sextant-dataplane exited at start-up")
                if ask("dig", "127.0.0.1", Target("127.0.0.1", port, addr))[1] == WWW:
                    return
                time.sleep(0.1)
            raise RuntimeError("sextant-dataplane did not answer")

        log_path = str(b.work / "dataplane.out")
        port, proc = start_listener(b.dataplane, str(cfg), log_path, procs, ready)
        run_all(res, Target("127.0.0.1", port, addr), log_path, lambda: proc.poll() is None)
    finally:
        stop_processes(procs)
        remove_shm([instance])
    return res.summary()


if __name__ == "__main__":
    sys.exit(main())
