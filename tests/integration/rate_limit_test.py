#!/usr/bin/python3
"""Response rate limiting through the real kernel listener (sextant-dataplane --listen, two UDP
threads, so the RSS share rule is in play: each thread gets half of every limit), published by
sextant-control: a reflection flood of one name from 8 /24s of 127.0.0.0/8 (16 source addresses
each, sockets bound to 127.10.N.x) beside a steady client in another prefix and a flooding client
in an exempt prefix.

- each flooded /24 gets about the configured rate (40 answers/s, window 1 s) of full answers;
- slip 2: about half of the limited responses come back truncated (TC=1, no records);
- the steady client (10 queries/s from 127.20.0.1) gets every answer, none truncated;
- the exempt prefix (127.99.0.0/16) gets every answer while it floods;
- TCP from a flooded address is answered (TCP is never limited);
- the counters: sextantctl stats --json (which validates against its schema) has rrl_limited =
  what was sent and not answered in full, rrl_slipped = the truncated responses received, and
  sextant-exporter's sextant_rrl_limited_total / sextant_rrl_slipped_total per thread sum to them;
- the DNS Cookie and TCP-limit counters move and reach both: a query with a valid server cookie
  (dig +cookie, then +cookie=what came back), five TCP connections from one address over a
  per-client limit of four (one refused, four closed by the 1 s idle timeout) show in
  sextantctl stats --json (cookie_*, tcp_*) and as sextant_cookie_*_total and
  sextant_tcp_*_total in sextant-exporter, whose text passes `promtool check metrics`;
- a reload with `enabled: false` stops the limiting without a restart.

Prints 'N passed, M failed'."""
import json
import os
import re
import socket
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "lib"))
from lab import (Binaries, Results, integration_args, parse_metrics,  # noqa: E402
                 promtool_metrics, publish_once, remove_shm, run, schema_errors,
                 schema_validators, scrape, start_exporter, start_listener, stop_processes,
                 wait_for)
from spoofed_flood import Group, flood  # noqa: E402

INSTANCE = f"sxrrl{os.getpid()}"
RATE = 40       # answers per second per /24, for the whole dataplane
SECONDS = 5
NAME = "www.rrl.test"
TCP_PER_CLIENT = 4  # tcp.max_connections_per_client

ZONE = """$ORIGIN rrl.test.
$TTL 300
@ SOA ns hostmaster 1 3600 600 86400 60
@ NS ns
ns A 198.18.0.2
www A 198.18.0.10
"""


def config(work, enabled=True):
    (work / "rrl.test.zone").write_text(ZONE)
    text = f"""instance: {INSTANCE}
zones: [{{origin: rrl.test., file: {work}/rrl.test.zone}}]
rate_limit:
  enabled: {"true" if enabled else "false"}
  responses_per_second: {{answers: {RATE}, nxdomain: {RATE}, nodata: {RATE}, errors: {RATE}}}
  window: 1
  slip: 2
  exempt: [127.99.0.0/16]
tcp: {{max_connections_per_client: {TCP_PER_CLIENT}, idle_timeout: 1s}}
"""
    path = work / "sextant.yaml"
    path.write_text(text)
    return str(path)


def dig(port, *a):
    return run(["dig", "@127.0.0.1", "-p", str(port), "+tries=1", "+time=2", "+short", *a],
               check=False).stdout.strip()


def flooded_groups():
    # 128 sources at 100 queries/s each: 12,800/s, 320 times the rate, and little enough that
    # neither the listener's nor the clients' socket buffers overflow (loss would blur the counts).
    return [Group(f"127.10.{n}.0/24", [f"127.10.{n}.{h}" for h in range(1, 17)], interval=0.01)
            for n in range(8)]


def check_flood(res, port):
    floods = flooded_groups()
    steady = Group("steady 127.20.0.1", ["127.20.0.1"], interval=0.1)
    exempt = Group("exempt 127.99.0.0/16", [f"127.99.0.{h}" for h in range(1, 5)],
                   interval=0.002)
    took = flood(port, NAME, floods + [steady, exempt], SECONDS)
    # The whole /24 shares one bucket (split over the two threads): the rate for the time, plus
    # the window's burst at the start. The floor allows for a prefix whose 16 flows all hashed to
    # one thread (half the rate; odds 2^-15) not at all: the rate is a promise both ways.
    expect = RATE * took + RATE
    for g in floods:
        res.check(f"flood from {g.name}: {g.answers} answers in {took:.1f} s (about {expect:.0f})",
                  0.7 * RATE * took <= g.answers <= 1.25 * expect,
                  f"sent {g.sent}, answers {g.answers}, truncated {g.truncated}")
    sent = sum(g.sent for g in floods)
    answers = sum(g.answers for g in floods)
    tc = sum(g.truncated for g in floods)
    limited = sent - answers
    res.check("the flood was cut (over 90% of it limited)", limited > 0.9 * sent,
              f"sent {sent}, answered {answers}")
    res.check("slip 2: about half the limited responses come back truncated",
              0.4 * limited <= tc <= 0.6 * limited, f"limited {limited}, truncated {tc}")
    res.check("truncated responses carry no records (header and question, TC=1)",
              sum(g.tc_with_records for g in floods) == 0)
    res.check("a steady client in another prefix gets every answer, none truncated",
              steady.sent >= 40 and steady.answers == steady.sent and steady.truncated == 0,
              f"sent {steady.sent}, answers {steady.answers}, truncated {steady.truncated}")
    res.check("an exempt prefix is never limited",
              exempt.sent > 10 * RATE * took and exempt.answers == exempt.sent and
              exempt.truncated == 0,
              f"sent {exempt.sent}, answers {exempt.answers}, truncated {exempt.truncated}")
    return floods + [steady, exempt]


def check_counters(res, b, port, groups, exporter_url, validator):
    stats = stats_json(b, validator, res)
    sent = sum(g.sent for g in groups)
    answers = sum(g.answers for g in groups)
    tc = sum(g.truncated for g in groups)
    # Loopback loses nothing: what did not come back in full was limited, and every slipped
    # response arrived. 1% leeway for a reply a full socket buffer may still have dropped.
    limited, slipped = stats.get("rrl_limited", -1), stats.get("rrl_slipped", -1)
    res.check("stats: rrl_limited = queries sent and not answered in full",
              abs(limited - (sent - answers)) <= 0.01 * sent,
              f"rrl_limited {limited}, sent {sent}, answers {answers}")
    res.check("stats: rrl_slipped = truncated responses received",
              abs(slipped - tc) <= 0.01 * max(tc, 100), f"rrl_slipped {slipped}, received {tc}")
    # Server side, exactly: every query was answered in full, slipped or dropped; slipped ones
    # count as answers (NOERROR) too.
    res.check("stats: queries = full answers + limited (NOERROR counts the slipped ones)",
              stats.get("queries", -1) == stats.get("noerror", -2) - slipped + limited,
              json.dumps({k: v for k, v in stats.items() if k != "lcores"}))
    per_lcore = [(lc.get("rrl_limited", 0), lc.get("rrl_slipped", 0))
                 for lc in stats.get("lcores", [])]
    res.check("stats: both UDP threads limited (RSS share)",
              sum(1 for lim, _ in per_lcore if lim > 0) == 2, json.dumps(stats.get("lcores")))
    m = parse_metrics(scrape(exporter_url))
    exp_limited = sum(v for k, v in m.items() if k.startswith("sextant_rrl_limited_total{"))
    exp_slipped = sum(v for k, v in m.items() if k.startswith("sextant_rrl_slipped_total{"))
    res.check("exporter: sextant_rrl_limited_total and _slipped_total per lcore sum to stats",
              exp_limited == limited and exp_slipped == slipped,
              f"exporter {exp_limited}/{exp_slipped}, stats {limited}/{slipped}")
    return stats


def stats_json(b, validator, res=None):
    r = run([b.ctl_bin, "--instance", INSTANCE, "stats", "--json"], check=False)
    stats = json.loads(r.stdout) if r.returncode == 0 else {}
    if res is not None:
        res.check("sextantctl stats --json validates against stats.schema.json",
                  r.returncode == 0 and not schema_errors(validator, stats), r.stderr + r.stdout)
    return stats


def check_cookies_and_tcp(res, b, port, exporter_url, validator):
    """Moves the DNS Cookie and TCP-limit counters by known amounts while nothing else runs."""
    before = stats_json(b, validator)
    dig_args = ["dig", "@127.0.0.1", "-p", str(port), "+tries=1", "+time=2", NAME, "A"]
    m = re.search(r"; COOKIE: ([0-9a-f]+)", run(dig_args + ["+cookie"], check=False).stdout)
    out = run(dig_args + [f"+cookie={m.group(1) if m else '00'}"], check=False).stdout
    res.check("dig +cookie=VALUE: the server cookie that came back is good", "(good)" in out, out)
    # One address over its limit: the fifth connection is refused, the other four, silent, are
    # closed by the idle timeout.
    conns = []
    try:
        for _ in range(TCP_PER_CLIENT + 1):
            conns.append(socket.create_connection(("127.0.0.1", port), timeout=2,
                                                  source_address=("127.40.0.1", 0)))

        def moved(key):
            return stats_json(b, validator).get(key, 0) - before.get(key, 0)
        wait_for(lambda: moved("tcp_closed_idle") >= TCP_PER_CLIENT, timeout=10, step=0.2)
    finally:
        for c in conns:
            c.close()
    after = stats_json(b, validator, res)
    delta = {k: after.get(k, -1) - before.get(k, 0)
             for k in ("cookie_seen", "cookie_valid", "cookie_badcookie", "tcp_refused_per_client",
                       "tcp_refused_full", "tcp_closed_evicted", "tcp_closed_idle",
                       "tcp_closed_query_timeout", "tcp_closed_max_queries")}
    res.check("stats: two queries with a cookie, one of them with a valid server cookie",
              (delta["cookie_seen"], delta["cookie_valid"], delta["cookie_badcookie"]) ==
              (2, 1, 0), json.dumps(delta))
    res.check(f"stats: one TCP connection refused over the per-client limit, "
              f"{TCP_PER_CLIENT} closed idle, nothing else",
              delta["tcp_refused_per_client"] == 1 and
              delta["tcp_closed_idle"] == TCP_PER_CLIENT and
              delta["tcp_refused_full"] == delta["tcp_closed_evicted"] ==
              delta["tcp_closed_query_timeout"] == delta["tcp_closed_max_queries"] == 0,
              json.dumps(delta))
    text = scrape(exporter_url)
    promtool_metrics(res, "sextant-exporter", text)
    m = parse_metrics(text)
    pairs = {"sextant_cookie_queries_total": "cookie_seen",
             "sextant_cookie_valid_total": "cookie_valid",
             "sextant_cookie_badcookie_total": "cookie_badcookie",
             'sextant_tcp_refused_total{reason="per_client"}': "tcp_refused_per_client",
             'sextant_tcp_refused_total{reason="connection_limit"}': "tcp_refused_full",
             'sextant_tcp_closed_total{reason="evicted"}': "tcp_closed_evicted",
             'sextant_tcp_closed_total{reason="idle_timeout"}': "tcp_closed_idle",
             'sextant_tcp_closed_total{reason="query_timeout"}': "tcp_closed_query_timeout",
             'sextant_tcp_closed_total{reason="max_queries"}': "tcp_closed_max_queries"}
    differ = {k: (m.get(k), after.get(v)) for k, v in pairs.items() if m.get(k) != after.get(v)}
    res.check("exporter: sextant_cookie_*_total and sextant_tcp_*_total equal stats", not differ,
              json.dumps(differ))
    for family in ("sextant_cookie_queries_total", "sextant_cookie_valid_total",
                   "sextant_cookie_badcookie_total", "sextant_tcp_refused_total",
                   "sextant_tcp_closed_total"):
        res.check(f"exporter: {family} has HELP and TYPE counter",
                  f"# HELP {family} " in text and f"# TYPE {family} counter" in text)


def main():
    args = integration_args()
    b = Binaries(args)
    res = Results()
    procs = []
    validator = schema_validators()["stats"]
    try:
        cfg = config(b.work)
        publish_once(b.control, cfg, str(b.work))

        def ready(port, proc):
            if not wait_for(lambda: proc.poll() is None and dig(port, NAME, "A"), 15, 0.1):
                raise RuntimeError("the dataplane never answered")

        port, _ = start_listener(b.dataplane, cfg, b.work / "dataplane.log", procs, ready,
                                 extra_args=["--threads", "2"])
        exporter_url = start_exporter(b.control, INSTANCE, b.work / "exporter.log", procs)
        groups = check_flood(res, port)
        res.check("TCP from a flooded address is answered (never limited)",
                  dig(port, "+tcp", "-b", "127.10.0.1", NAME, "A") == "198.18.0.10")
        # The one query each `dig` above sent (readiness) counts as sent and answered too.
        ready_probe = Group("probe", [])
        ready_probe.sent = ready_probe.answers = 1
        check_counters(res, b, port, groups + [ready_probe], exporter_url, validator)
        check_cookies_and_tcp(res, b, port, exporter_url, validator)

        # A reload turns limiting off; the same flood then goes through whole.
        publish_once(b.control, config(b.work, enabled=False), str(b.work))
        time.sleep(1)  # the follower maps the new generation; the threads adopt it per burst
        g = Group("after reload", [f"127.30.0.{h}" for h in range(1, 9)], interval=0.005)
        flood(port, NAME, [g], 1)
        res.check("after a reload with enabled: false nothing is limited",
                  g.sent > 4 * RATE and g.answers == g.sent and g.truncated == 0,
                  f"sent {g.sent}, answers {g.answers}, truncated {g.truncated}")
    finally:
        stop_processes(procs)
        remove_shm([INSTANCE])
    return res.summary()


if __name__ == "__main__":
    sys.exit(main())
