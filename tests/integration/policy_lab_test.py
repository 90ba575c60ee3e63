#!/usr/bin/python3
"""Record-set policies through the real path: sextant-control compiles targets, resources and
records into the snapshot, sextant-dataplane serves them on a DPDK port (net_af_packet in the
namespace lab), dig asks from the namespace, and health words are flipped in the running
instance with `sextantctl set-health` (the stand-in for health checks until they exist).
Also: `sextantctl explain` names the skipped members, and bad policy configs are refused by
`sextant-control --check` with a message naming the resource. Prints 'N passed, M failed'."""
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "lib"))
from lab import Lab, Results, integration_args, run  # noqa: E402

ZONE = """$ORIGIN pol.test.
$TTL 300
@ 3600 IN SOA ns1 hostmaster 1 7200 3600 1209600 300
@ IN NS ns1
ns1 IN A 198.18.0.2
www-backup IN A 198.18.7.7
"""

POLICIES = """targets:
  web1: {}
  web2: {}
  web3: {}
  dc1: {}
  dc2: {}
resources:
  pool:
    kind: static
    order: cyclic
    ttl: 60
    ttl_when_down: 5
    members:
      - {address: 198.18.1.1, target: web1}
      - {address: 198.18.1.2, target: web2}
      - {address: 198.18.1.3, target: web3}
  queue:
    kind: failover
    ttl: 30
    all_down: servfail
    members:
      - {address: 198.18.2.1, target: dc1}
      - {address: 198.18.2.2, target: dc2}
  heavy:
    kind: weighted
    members:
      - {address: 198.18.3.1, target: web1, weight: 9}
      - {address: 198.18.3.2, target: web2, weight: 1}
records:
  - {name: www.pol.test., type: A, resource: pool}
  - {name: api.pol.test., type: A, resource: queue}
  - {name: w.pol.test., type: A, resource: heavy}
  - name: alias.pol.test.
    type: CNAME
    kind: failover
    all_down: fallback
    fallback: www-backup.pol.test.
    members:
      - {cname: www.pol.test., target: web1}
"""

BAD = [
    ("unknown member resource", "resources:\n  a: {kind: failover, members: [{resource: nope}]}\n",
     "resources.a.members[0].resource: unknown resource 'nope' (known: a)"),
    ("negative weight", "resources:\n  a: {kind: weighted, members: [{address: 198.18.1.1, weight: -1}]}\n",
     "resources.a.members[0].weight must be an integer in 0..65535, not '-1'"),
    ("cycle", "resources:\n  a: {kind: failover, members: [{resource: b}]}\n"
              "  b: {kind: failover, members: [{resource: a}]}\n", "nesting cycle"),
    ("empty list", "resources:\n  a: {kind: static, members: []}\n",
     "'resources.a.members' must be a non-empty list"),
    ("too deep", "resources:\n" + "".join(
        f"  r{i}: {{kind: failover, members: [{{resource: r{i + 1}}}]}}\n" for i in range(5)) +
     "  r5: {kind: failover, members: [198.18.1.1]}\n", "nesting deeper than 4"),
]


def a_records(out):
    return sorted(re.findall(r"^[^;\s]\S*\s+\d+\s+IN\s+A\s+(\S+)", out, re.M))


def ttl_of(out):
    m = re.search(r"^[^;\s]\S*\s+(\d+)\s+IN\s+A\s", out, re.M)
    return int(m.group(1)) if m else None


def main():
    args = integration_args()
    ctl = str(Path(args.sextant_control).parent / "sextantctl")
    res = Results()
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)

    for name, yaml, expect in BAD:
        cfg = work / "bad.yaml"
        cfg.write_text(f"zones: [{{origin: pol.test., file: {work / 'pol.zone'}}}]\n" + yaml)
        (work / "pol.zone").write_text(ZONE)
        r = run([args.sextant_control, "--check", "--config", str(cfg)], check=False)
        res.check(f"--check refuses: {name}", r.returncode == 1 and expect in r.stderr,
                  r.stderr.strip())

    with Lab(args.sextant_control, args.sextant_dataplane, work / "lab", tag="pol") as lab:
        control = lab.control_section()
        lab.write_config([("pol.test.", ZONE)], extra=POLICIES + control)
        r = run([args.sextant_control, "--check", "--config", str(lab.config_path)], check=False)
        res.check("policy config is valid", r.returncode == 0, r.stderr)
        lab.start_control()
        lab.start()
        sx = [ctl, "--instance", lab.instance, "--socket", str(lab.socket_path)]

        out = lab.dig("www.pol.test", "A")
        res.check("static: all healthy members, resource TTL",
                  a_records(out) == ["198.18.1.1", "198.18.1.2", "198.18.1.3"] and ttl_of(out) == 60,
                  out)
        firsts = set()
        for _ in range(6):
            o = lab.dig("www.pol.test", "A", "+short").split()
            if o:
                firsts.add(o[0])
        res.check("static cyclic: the first address rotates", len(firsts) == 3, str(firsts))

        run(sx + ["force", "down", "web2"])
        out = lab.dig("www.pol.test", "A")
        res.check("static: a down member is left out at once, TTL shortened",
                  a_records(out) == ["198.18.1.1", "198.18.1.3"] and ttl_of(out) == 5, out)
        out = run(sx + ["explain", "www.pol.test", "A"]).stdout
        res.check("explain names the skipped member and its target",
                  "198.18.1.2 (target web2): down: skipped" in out, out)

        out = lab.dig("api.pol.test", "A")
        res.check("failover: first healthy", a_records(out) == ["198.18.2.1"], out)
        run(sx + ["force", "down", "dc1"])
        out = lab.dig("api.pol.test", "A")
        res.check("failover: primary down -> secondary", a_records(out) == ["198.18.2.2"], out)
        run(sx + ["force", "drain", "dc2"])
        out = lab.dig("api.pol.test", "A")
        res.check("failover: all down -> SERVFAIL (all_down: servfail)",
                  "status: SERVFAIL" in out, out)
        run(sx + ["release", "dc1"])
        out = lab.dig("api.pol.test", "A")
        res.check("failover: primary back", a_records(out) == ["198.18.2.1"], out)

        counts = {"198.18.3.1": 0, "198.18.3.2": 0}
        for _ in range(40):
            o = lab.dig("w.pol.test", "A", "+short").split()
            if o and o[0] in counts:
                counts[o[0]] += 1
        res.check("weighted 9:1: one answer each time, mostly the heavy one",
                  sum(counts.values()) == 40 and counts["198.18.3.1"] > counts["198.18.3.2"],
                  str(counts))

        out = lab.dig("alias.pol.test", "A")
        res.check("CNAME resource followed to the pool",
                  "CNAME" in out and "www.pol.test." in out and "198.18.1.1" in out, out)
        run(sx + ["force", "down", "web1"])
        out = lab.dig("alias.pol.test", "A")
        res.check("CNAME resource all down -> fallback target",
                  "www-backup.pol.test." in out and a_records(out) == ["198.18.7.7"], out)

        # Reordering targets and adding one keeps every target's health word (and state).
        reordered = POLICIES.replace("targets:\n  web1: {}\n  web2: {}\n  web3: {}\n",
                                     "targets:\n  new1: {initial: down}\n  web3: {}\n  web2: {}\n"
                                     "  web1: {}\n")
        assert reordered != POLICIES
        g0 = lab.generation()
        lab.write_config([("pol.test.", ZONE)], extra=reordered + control)
        deadline = time.time() + 5
        while lab.generation() == g0 and time.time() < deadline:
            time.sleep(0.05)
        res.check("the daemon reloads a changed config by itself", lab.generation() > g0,
                  lab.control_log_text()[-400:])
        out = lab.dig("www.pol.test", "A")
        res.check("reload with reordered targets keeps health state (web1, web2 still down)",
                  a_records(out) == ["198.18.1.3"], out)
        out = run(sx + ["health"]).stdout
        res.check("a new target starts in its initial state",
                  re.search(r"^new1\s+down", out, re.M) is not None, out)

        out = run(sx + ["health", "--json"]).stdout
        res.check("sextantctl health --json lists targets", '"target":"web1"' in out
                  and '"state":"down"' in out, out)
        out = run(sx + ["stats"]).stdout
        res.check("sextantctl stats shows queries", re.search(r"queries [1-9]", out) is not None, out)

    print(f"{res.passed} passed, {res.failed} failed")
    return 0 if res.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
