#!/usr/bin/python3
"""What operators scrape, through real processes on loopback: sextant-control (the daemon, with
/metrics), sextant-dataplane in kernel mode (--listen) answering dig, and sextant-exporter serving
the dataplane's families from shared memory.

- both /metrics pass `promtool check metrics` (Debian's prometheus package);
- an AAAA query is counted under qtype AAAA; geo answers are counted per resource and datacenter
  (the nets file's choice for loopback, the nearest one for an ECS address in London), and move to
  the other datacenter when the first one's backend dies (its TCP check fails: a flap counted, the
  latency histogram filled, the resource's members up one fewer);
- build_info, per-lcore generation, attached dataplanes, the geo map's database build date and
  network count, reload outcome (a broken config refused, then fixed) have sane values;
- the dashboard (examples/grafana/sextant.json) and the alert rules
  (examples/prometheus/sextant-alerts.yml, `promtool check rules`) use only metric names the two
  processes export;
- sextant-control killed (SIGKILL): sextant-exporter keeps serving, and its counters keep moving
  while the dataplane answers.

Prints 'N passed, M failed'."""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "lib"))
from lab import (Results, free_port, integration_args, parse_metrics,  # noqa: E402
                 promtool_metrics, remove_shm, run, scrape, start_exporter, start_listener,
                 stop_processes, wait_for)

REPO = HERE.parent.parent
MAXMIND = HERE.parent / "data" / "maxmind"
DASHBOARD = REPO / "examples" / "grafana" / "sextant.json"
RULES = REPO / "examples" / "prometheus" / "sextant-alerts.yml"
INSTANCE = f"sxmetrics{os.getpid() % 100000}"
LONDON = "+subnet=81.2.69.160/32"  # GeoIP2-City-Test: London, nearest to ams

ZONE = """$ORIGIN met.test.
$TTL 300
@ SOA ns hostmaster 1 3600 600 86400 60
@ NS ns
ns A 198.18.0.2
"""


def config(work, backend_port, metrics_port):
    return f"""instance: {INSTANCE}
zones:
  - {{origin: met.test., file: {work}/met.test.zone}}
datacenters:
  ams: {{latitude: 52.37, longitude: 4.90}}
  sgp: {{latitude: 1.35, longitude: 103.82}}
geo_maps:
  world: {{database: {work}/world.mmdb, mode: nearest, nets: {work}/nets.txt}}
targets:
  ams1: {{datacenter: ams, check: {{type: tcp, address: 127.0.0.1, port: {backend_port}, interval: 200ms, timeout: 150ms, rise: 1, fall: 1}}}}
  sgp1: {{datacenter: sgp}}
resources:
  app:
    kind: geo
    map: world
    ecs: use
    datacenters:
      ams: {{members: [{{address: 198.18.2.1, target: ams1}}]}}
      sgp: {{members: [{{address: 198.18.1.1, target: sgp1}}]}}
records:
  - {{name: www.met.test., type: A, resource: app}}
control:
  socket: {work}/control.sock
  state_file: {work}/control.state
  reload_delay: 50ms
  metrics: 127.0.0.1:{metrics_port}
"""


class Env:
    def __init__(self, args, work):
        self.args = args
        self.work = work
        self.procs = []
        self.port = None

    def dig(self, *a):
        return run(["dig", "@127.0.0.1", "-p", str(self.port), "+time=2", "+tries=2", "+norec",
                    "+short", *a], check=False, timeout=30).stdout.strip()

    def ready(self, port, proc):
        self.port = port
        if not wait_for(lambda: proc.poll() is None and self.dig("www.met.test", "A"), 15, 0.1):
            raise RuntimeError("the dataplane never answered")


def families(text):
    """The metric names a scrape exports (a histogram's _bucket, _sum and _count included)."""
    names = set()
    for m in re.finditer(r"^# TYPE (\S+) (\S+)$", text, re.M):
        names.add(m.group(1))
        if m.group(2) == "histogram":
            names.update(m.group(1) + s for s in ("_bucket", "_sum", "_count"))
    return names


def used_names(text):
    return set(re.findall(r"\b(sextant_[a-z0-9_]+)", text))


def start_control(env, cfg):
    log = open(env.work / "control.log", "a")
    p = subprocess.Popen([env.args.sextant_control, "--config", str(cfg)], stdout=log,
                         stderr=subprocess.STDOUT)
    env.procs.append(p)
    if not wait_for(lambda: "serving generation" in (env.work / "control.log").read_text(), 30):
        raise RuntimeError("sextant-control did not start: " +
                           (env.work / "control.log").read_text()[-3000:])
    return p


def counting(res, env, exp_url):
    """AAAA and geo answers counted, per datacenter."""
    before = parse_metrics(scrape(exp_url))
    for _ in range(3):
        env.dig("www.met.test", "A")
    for _ in range(2):
        env.dig("www.met.test", "AAAA")
    london = [env.dig(LONDON, "www.met.test", "A") for _ in range(2)]
    m = parse_metrics(scrape(exp_url))

    def delta(k):
        return m.get(k, 0) - before.get(k, 0)
    res.check("qtype: 2 AAAA queries counted under AAAA, 5 A under A",
              delta('sextant_responses_by_qtype_total{qtype="AAAA"}') == 2 and
              delta('sextant_responses_by_qtype_total{qtype="A"}') == 5,
              json.dumps({k: v for k, v in m.items() if "qtype" in k}))
    sgp = 'sextant_geo_answers_total{resource="app",datacenter="sgp"}'
    ams = 'sextant_geo_answers_total{resource="app",datacenter="ams"}'
    res.check("geo answers: loopback (nets: sgp) 3 to sgp, London (nearest: ams) 2 to ams",
              london == ["198.18.2.1"] * 2 and delta(sgp) == 3 and delta(ams) == 2,
              f"{london} " + json.dumps({k: v for k, v in m.items() if "geo" in k}))
    return m


def site_failover(res, env, exp_url, ctl_url, backend):
    """ams1's backend killed: the check fails (a flap, latency observed), London goes to sgp."""
    backend.kill()
    backend.wait()
    down = wait_for(lambda: env.dig(LONDON, "www.met.test", "A") == "198.18.1.1", 10, 0.1)
    before = parse_metrics(scrape(exp_url))
    for _ in range(2):
        env.dig(LONDON, "www.met.test", "A")
    m = parse_metrics(scrape(exp_url))
    sgp = 'sextant_geo_answers_total{resource="app",datacenter="sgp"}'
    ams = 'sextant_geo_answers_total{resource="app",datacenter="ams"}'
    res.check("ams down: London's answers counted under sgp",
              down and m[sgp] - before[sgp] == 2 and m[ams] == before[ams],
              json.dumps({k: v for k, v in m.items() if "geo" in k}))
    res.check("ams down: resource app has 1 of its 2 members up",
              m.get('sextant_resource_members_up{resource="app"}') == 1 and
              m.get('sextant_resource_members{resource="app"}') == 2,
              json.dumps({k: v for k, v in m.items() if "resource_members" in k}))
    c = parse_metrics(scrape(ctl_url))
    lab = '{target="ams1",datacenter="ams"}'
    res.check("ams1: flapped, down, its check latency in the histogram",
              c.get(f"sextant_target_flaps_total{lab}", 0) >= 1 and
              c.get(f"sextant_target_up{lab}") == 0 and
              c.get('sextant_health_check_duration_seconds_count{target="ams1"}', 0) >= 2 and
              c.get('sextant_health_check_duration_seconds_bucket{target="ams1",le="+Inf"}') ==
              c.get('sextant_health_check_duration_seconds_count{target="ams1"}'),
              json.dumps({k: v for k, v in c.items() if "ams1" in k}))


def sane_values(res, ctl, exp, ctl_text):
    gen = ctl.get("sextant_published_snapshot_generation", -1)
    lcores = {k: v for k, v in exp.items() if k.startswith("sextant_lcore_snapshot_generation")}
    res.check("generation: published = active = every serving lcore's; one dataplane attached",
              gen >= 1 and exp.get("sextant_snapshot_generation") == gen and lcores and
              all(v == gen for v in lcores.values()) and
              exp.get("sextant_dataplanes_attached") == 1,
              json.dumps({"published": gen, "lcores": lcores,
                          "attached": exp.get("sextant_dataplanes_attached")}))
    res.check("build_info: control and exporter, 1 each",
              re.search(r'^sextant_build_info\{component="control",version="[^"]+".*\} 1$',
                        ctl_text, re.M) is not None and
              any(k.startswith('sextant_build_info{component="exporter"') and v == 1
                  for k, v in exp.items()), ctl_text[:400])
    epoch = ctl.get('sextant_geo_map_database_build_timestamp_seconds{map="world"}', 0)
    nets = ctl.get('sextant_geo_map_networks{map="world"}', 0)
    res.check("geo map: database build date (2015..2100) and networks > 0",
              1.42e9 < epoch < 4.1e9 and nets > 0, f"epoch {epoch} networks {nets}")
    hb = exp.get("sextant_control_heartbeat_timestamp_seconds", 0)
    res.check("control heartbeat in the exporter: within 10 s", abs(time.time() - hb) < 10,
              f"{hb}")


def reload_outcome(res, env, cfg, ctl_url):
    good = cfg.read_text()
    cfg.write_text(good.replace("kind: geo", "kind: geography"))
    refused = wait_for(lambda: parse_metrics(scrape(ctl_url)).get(
        'sextant_reloads_total{result="refused"}', 0) >= 1, 10)
    m = parse_metrics(scrape(ctl_url))
    res.check("broken config: refused counted, last refused time set, last reload failed",
              refused and m["sextant_last_refused_reload_timestamp_seconds"] > 0 and
              m["sextant_last_reload_success"] == 0 and
              m["sextant_last_successful_reload_timestamp_seconds"] > 0,
              json.dumps({k: v for k, v in m.items() if "reload" in k}))
    ok_before = m['sextant_reloads_total{result="ok"}']
    cfg.write_text(good)
    fixed = wait_for(lambda: parse_metrics(scrape(ctl_url)).get(
        'sextant_reloads_total{result="ok"}', 0) > ok_before, 10)
    m = parse_metrics(scrape(ctl_url))
    res.check("fixed config: published again, last reload succeeded",
              fixed and m["sextant_last_reload_success"] == 1 and
              m["sextant_last_successful_reload_timestamp_seconds"] >=
              m["sextant_last_refused_reload_timestamp_seconds"],
              json.dumps({k: v for k, v in m.items() if "reload" in k}))


def dashboard_and_rules(res, exported):
    r = run(["promtool", "check", "rules", str(RULES)], check=False, timeout=30)
    res.check("promtool check rules examples/prometheus/sextant-alerts.yml", r.returncode == 0,
              r.stdout + r.stderr)
    dash = json.loads(DASHBOARD.read_text())
    exprs = json.dumps([t.get("expr", "") for p in dash["panels"] for t in p.get("targets", [])])
    res.check("dashboard: panels with queries", len(dash["panels"]) >= 6 and "sextant_" in exprs)
    for name, text in (("dashboard", exprs), ("alert rules", RULES.read_text())):
        missing = sorted(used_names(text) - exported)
        res.check(f"{name}: every metric it uses is exported", not missing and used_names(text),
                  f"not exported: {missing}")


def control_killed(res, env, exp_url, control):
    control.send_signal(signal.SIGKILL)
    control.wait()
    before = parse_metrics(scrape(exp_url))
    answers = [env.dig("www.met.test", "A") for _ in range(3)]
    m = parse_metrics(scrape(exp_url))
    res.check("control killed: the exporter keeps serving, counting the dataplane's answers",
              answers == ["198.18.1.1"] * 3 and
              m["sextant_queries_total"] - before["sextant_queries_total"] == 3 and
              m["sextant_dataplanes_attached"] == 1,
              f"{answers} {before.get('sextant_queries_total')} -> {m.get('sextant_queries_total')}")
    promtool_metrics(res, "sextant-exporter with control down", scrape(exp_url))


def main():
    args = integration_args()
    work = Path(args.workdir).resolve()
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    (work / "met.test.zone").write_text(ZONE)
    (work / "nets.txt").write_text("127.0.0.0/8 sgp,ams\n")
    shutil.copy(MAXMIND / "GeoIP2-City-Test.mmdb", work / "world.mmdb")
    backend_port, metrics_port = free_port(), free_port()
    backend = subprocess.Popen(["/usr/bin/python3", str(HERE / "lib" / "backend.py"), "tcp",
                                str(backend_port)], stdout=subprocess.PIPE, text=True)
    backend.stdout.readline()  # "ready"
    cfg = work / "sextant.yaml"
    cfg.write_text(config(work, backend_port, metrics_port))
    env = Env(args, work)
    res = Results()
    remove_shm([INSTANCE])
    try:
        control = start_control(env, cfg)
        start_listener(args.sextant_dataplane, str(cfg), work / "dataplane.log", env.procs,
                       env.ready)
        exp_url = start_exporter(args.sextant_control, INSTANCE, work / "exporter.log", env.procs)
        ctl_url = f"http://127.0.0.1:{metrics_port}/metrics"
        wait_for(lambda: env.dig(LONDON, "www.met.test", "A") == "198.18.2.1", 10, 0.1)
        counting(res, env, exp_url)
        ctl_text, exp_text = scrape(ctl_url), scrape(exp_url)
        promtool_metrics(res, "sextant-control", ctl_text)
        promtool_metrics(res, "sextant-exporter", exp_text)
        shared = sorted(families(ctl_text) & families(exp_text) - {"sextant_build_info"})
        res.check("no family in both (but build_info, told apart by component)", not shared,
                  f"{shared}")
        sane_values(res, parse_metrics(ctl_text), parse_metrics(exp_text), ctl_text)
        site_failover(res, env, exp_url, ctl_url, backend)
        reload_outcome(res, env, cfg, ctl_url)
        dashboard_and_rules(res, families(scrape(ctl_url)) | families(scrape(exp_url)))
        control_killed(res, env, exp_url, control)
    finally:
        stop_processes(env.procs)
        if backend.poll() is None:
            backend.kill()
        remove_shm([INSTANCE])
    print(f"{res.passed} passed, {res.failed} failed")
    return 0 if res.failed == 0 and res.passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
