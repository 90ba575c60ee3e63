#!/usr/bin/python3
"""sextantctl as a contract for scripts and operators (issue 14), through the real binaries on
loopback: sextant-control, sextant-dataplane in kernel-socket mode on 127.0.0.21, sextantctl, dig.

- every read command's --json (status, health, stats, stats --watch, dump, explain) validates
  against its schema in docs/schema/ (python3-jsonschema), with the daemon up and, for the
  commands that work from shared memory, with it down; explain's steps are the lines its text output prints;
- `health --json` has the same keys for every target from the daemon and from the shared-memory
  fallback (control SIGKILLed);
- `stats --watch` under a query loop shows queries per second above zero, one block per refresh on
  a pipe, the screen cleared on a terminal (a pty), and stops after --count;
- `dump` shows the zone's serial, the resources with their members, targets and datacenters, the
  geo map with the build date and network counts the daemon logged when it built it, and the
  targets with their health, from the daemon and (control down) from shared memory;
- a broken config (not validating, then not YAML at all) under a running daemon: `sextantctl
  --config FILE status` still answers with the daemon's last good generation and notes the
  error; `reload` is refused with the config's error (exit 1);
- the bash completion (packaging/sextantctl.bash-completion) sourced in bash completes commands,
  options, targets, datacenters and names (sextantctl_completion_check.sh).

Prints 'N passed, M failed'."""
import json
import os
import pty
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path


HERE = Path(__file__).resolve().parent
SOURCE = HERE.parent.parent
sys.path.insert(0, str(HERE / "lib"))
from lab import (Binaries, Results, free_port, integration_args, remove_shm, run,  # noqa: E402
                 schema_errors, schema_validators, stop_processes, wait_for)
from spoofed_flood import query  # noqa: E402

ADDR = "127.0.0.21"
INSTANCE = f"sxctl{os.getpid()}"
SERIAL = 2026120501
ZONE_ORIGIN = "ctl.test."

ZONE = f"""$ORIGIN {ZONE_ORIGIN}
$TTL 300
@ SOA ns hostmaster {SERIAL} 3600 600 86400 60
@ NS ns
ns A 198.18.0.2
"""


def config_text(work):
    # stats --watch is checked under a query loop from 127.0.0.1 far above the default rate
    # limits: a dropped reply stalls dig for its timeout, so loopback is exempt here.
    return f"""instance: {INSTANCE}
zones: [{{origin: {ZONE_ORIGIN}, file: ctl.test.zone}}]
rate_limit: {{exempt: [127.0.0.0/8]}}
datacenters:
  sgp: {{latitude: 1.35, longitude: 103.82}}
  nyc: {{latitude: 40.71, longitude: -74.01}}
geo_maps:
  world: {{database: {SOURCE}/tests/data/maxmind/GeoIP2-City-Test.mmdb, mode: nearest}}
targets:
  sgp1: {{datacenter: sgp}}
  sgp2: {{datacenter: sgp}}
  nyc1: {{datacenter: nyc}}
  web1: {{}}
resources:
  site:
    kind: geo
    map: world
    ttl: 30
    datacenters:
      sgp:
        members:
          - {{address: 198.18.1.1, target: sgp1}}
          - {{address: 198.18.1.2, target: sgp2}}
      nyc: {{members: [{{address: 198.18.2.1, target: nyc1}}]}}
  web:
    kind: weighted
    members:
      - {{address: 198.18.3.1, target: web1, weight: 3}}
      - {{address: 198.18.3.2, weight: 1}}
records:
  - {{name: www.{ZONE_ORIGIN}, type: A, resource: site}}
  - {{name: web.{ZONE_ORIGIN}, type: A, resource: web}}
control:
  socket: {work}/ctl/control.sock
  state_file: {work}/control.state
  reload_delay: 50ms
"""


class Env(Binaries):
    def __init__(self, args):
        super().__init__(args)
        (self.work / "ctl.test.zone").write_text(ZONE)
        self.config = self.work / "sextant.yaml"
        self.good_config = config_text(self.work)
        self.config.write_text(self.good_config)
        self.procs = []
        self.daemon = None
        self.log = self.work / "control.log"

    def ctl(self, *a, timeout=60):
        return run([self.ctl_bin, "--instance", INSTANCE, *a], check=False, timeout=timeout)

    def started(self, p, log, mark, what):
        """Waits for `p` to log "serving generation" in `log` after offset `mark`."""
        if not wait_for(lambda: "serving generation" in log.read_text()[mark:] or
                        p.poll() is not None, timeout=60) or p.poll() is not None:
            raise RuntimeError(f"{what} did not start: {log.read_text()[mark:]}")
        return p

    def start_daemon(self):
        mark = self.log.stat().st_size if self.log.exists() else 0
        p = subprocess.Popen([self.control, "--config", str(self.config)],
                             stdout=open(self.log, "a"), stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL)
        self.procs.append(p)
        self.daemon = self.started(p, self.log, mark, "sextant-control")

    def kill_daemon(self):
        self.daemon.send_signal(signal.SIGKILL)
        self.daemon.wait()

    def start_dataplane(self):
        self.port = free_port()  # free on 127.0.0.1, and so on ADDR too
        log = self.work / "dataplane.log"
        p = subprocess.Popen([self.dataplane, "--listen", f"{ADDR}:{self.port}", "--instance",
                              INSTANCE], stdout=open(log, "w"), stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL)
        self.procs.append(p)
        self.started(p, log, 0, "sextant-dataplane")

    def cleanup(self):
        stop_processes(self.procs)
        remove_shm([INSTANCE])


def as_json(r):
    try:
        return json.loads(r.stdout)
    except ValueError:
        return None


EXPLAIN = ("explain", f"www.{ZONE_ORIGIN}", "A", "--client", "198.18.7.1")


def check_schemas(env, res, v, phase, commands):
    out = {}
    for cmd in commands:
        r = env.ctl(*(EXPLAIN if cmd == "explain" else [cmd]), "--json")
        doc = as_json(r)
        errors = schema_errors(v[cmd], doc) if doc is not None else "not JSON"
        res.check(f"{phase}: {cmd} --json validates against docs/schema/{cmd}.schema.json",
                  r.returncode == 0 and not errors, f"{r.returncode} {errors} {r.stdout[:400]} "
                  f"{r.stderr}")
        out[cmd] = doc
    return out


class QueryLoop:
    """Real traffic until stopped: queries for www and web over one UDP socket, a few hundred a
    second, their answers drained. (A dig process per batch took longer than a --watch interval
    to start on a loaded machine, and an interval with no query failed the test now and then.)"""

    def __init__(self, port):
        self.port = port
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)

    def loop(self):
        queries = [query(i, f"{name}.{ZONE_ORIGIN}") for i, name in enumerate(("www", "web"))]
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.setblocking(False)
            n = 0
            while not self.stop.is_set():
                sock.sendto(queries[n % 2], (ADDR, self.port))
                n += 1
                time.sleep(0.002)
                try:
                    while sock.recv(4096):
                        pass
                except (BlockingIOError, ConnectionRefusedError):
                    pass

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(timeout=10)


def watch(env, res, v):
    with QueryLoop(env.port):
        time.sleep(0.5)
        r = env.ctl("stats", "--watch", "--json", "--interval", "500ms", "--count", "3")
        lines = [ln for ln in r.stdout.splitlines() if ln.strip()]
        docs = [json.loads(ln) for ln in lines if ln.startswith("{")]
        errors = "; ".join(e for e in (schema_errors(v["stats-watch"], d) for d in docs) if e)
        res.check("stats --watch --json --count 3: three lines, each valid "
                  "(docs/schema/stats-watch.schema.json)",
                  r.returncode == 0 and len(lines) == 3 and len(docs) == 3 and not errors,
                  f"{r.returncode} {errors} {r.stdout[:600]} {r.stderr}")
        qps = [d["rates"]["queries"] for d in docs]
        res.check("stats --watch under a query loop: queries/s above zero, NOERROR/s too, "
                  "interval about 0.5 s",
                  docs and min(qps) > 0 and all(d["rates"]["noerror"] > 0 for d in docs) and
                  all(0.4 < d["interval_s"] < 1.5 for d in docs), json.dumps(docs)[:800])
        print(f"measured: stats --watch q/s under the query loop: {[round(q) for q in qps]}")
        t0 = time.time()
        r = env.ctl("stats", "--watch", "--interval", "0.3", "--count", "2")
        took = time.time() - t0
        blocks = r.stdout.split("\n\n")
        m = re.findall(r"^queries/s\s+([\d.]+)", r.stdout, re.M)
        res.check("stats --watch on a pipe: one block per refresh (2), no screen control, "
                  "queries/s above zero, stops after --count",
                  r.returncode == 0 and len(blocks) == 2 and "\033[" not in r.stdout and
                  len(m) == 2 and float(m[-1]) > 0 and took < 10, r.stdout + r.stderr)
        r = env.ctl("stats", "--count", "2")
        res.check("stats --count without --watch: a usage mistake, exit 2",
                  r.returncode == 2 and "--count requires --watch" in r.stderr, r.stderr)
        # A terminal: the screen is cleared before each block, like top.
        master, slave = pty.openpty()
        p = subprocess.Popen([env.ctl_bin, "--instance", INSTANCE, "stats", "--watch",
                              "--interval", "0.2", "--count", "2"], stdout=slave,
                             stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        os.close(slave)
        text = b""
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            text += chunk
        p.wait(timeout=10)
        os.close(master)
        res.check("stats --watch on a terminal: the screen cleared before each of 2 blocks",
                  p.returncode == 0 and text.count(b"\033[H\033[2J") == 2 and
                  b"queries/s" in text, repr(text[:300]))


def health_shape(h_daemon, h_shm, res):
    keys_d = {t["target"]: sorted(t) for t in h_daemon or []}
    keys_s = {t["target"]: sorted(t) for t in h_shm or []}
    res.check("health --json: the same targets with the same keys from the daemon and from "
              "shared memory (control killed)",
              keys_d and keys_d == keys_s, f"{keys_d} vs {keys_s}")
    states_d = {t["target"]: (t["state"], t["forced"], t["word"]) for t in h_daemon or []}
    states_s = {t["target"]: (t["state"], t["forced"], t["word"]) for t in h_shm or []}
    res.check("health --json: state, forced and word agree between the two sources",
              states_d == states_s, f"{states_d} vs {states_s}")


def dump_checks(env, res, d, source):
    zones = {z["origin"]: z for z in d.get("zones", [])}
    res.check(f"dump ({source}): the zone with its serial", zones.get(ZONE_ORIGIN, {}).get(
        "serial") == SERIAL, json.dumps(d.get("zones")))
    rs = {r["name"]: r for r in d.get("resources", [])}
    site, web = rs.get("site", {}), rs.get("web", {})
    res.check(f"dump ({source}): the geo resource with its map, owner, datacenters",
              site.get("policy") == "geo" and site.get("geo_map") == "world" and
              site.get("owners") == [f"www.{ZONE_ORIGIN}"] and
              sorted(m.get("datacenter") for m in site.get("members", [])) == ["nyc", "sgp"],
              json.dumps(site))
    sgp = [r for r in d.get("resources", []) if r.get("name", "").startswith("site") and
           any(m.get("target") == "sgp2" for m in r.get("members", []))]
    res.check(f"dump ({source}): a datacenter's members with addresses and targets",
              sgp and sorted((m["value"], m["target"]) for m in sgp[0]["members"]) ==
              [("198.18.1.1", "sgp1"), ("198.18.1.2", "sgp2")], json.dumps(d.get("resources")))
    res.check(f"dump ({source}): the weighted resource's weights and targets (null: always up)",
              sorted((m.get("value"), m.get("weight"), m.get("target"))
                     for m in web.get("members", [])) ==
              [("198.18.3.1", 3, "web1"), ("198.18.3.2", 1, None)], json.dumps(web))
    # What the daemon logged when it built the map: "geo map 'world': GeoIP2-City built
    # YYYY-MM-DD, N networks (v4 A, v6 B), ..."
    m = re.search(r"geo map 'world': (\S+) built (\d{4}-\d\d-\d\d), \d+ networks "
                  r"\(v4 (\d+), v6 (\d+)\)", env.log.read_text())
    g = (d.get("geo_maps") or [{}])[0]
    db = g.get("database") or {}
    built = (time.strftime("%Y-%m-%d", time.gmtime(db["build_epoch"]))
             if isinstance(db.get("build_epoch"), int) else None)
    res.check(f"dump ({source}): the geo map's database type, build date and v4/v6 networks "
              "are those the daemon logged when it built it",
              m is not None and g.get("name") == "world" and db.get("type") == m.group(1) and
              built == m.group(2) and g.get("networks") == {"v4": int(m.group(3)),
                                                            "v6": int(m.group(4))},
              f"{m and m.group(0)} vs {json.dumps(g)}")
    targets = {t["target"]: t for t in d.get("targets", [])}
    res.check(f"dump ({source}): every target with its health, targets_from {source}",
              set(targets) == {"sgp1", "sgp2", "nyc1", "web1"} and
              d.get("targets_from") == source and
              all(t["state"] in ("up", "down", "drained") for t in targets.values()),
              json.dumps(d.get("targets")))


def explain_checks(env, res, e):
    r = env.ctl(*EXPLAIN)
    lines = r.stdout.splitlines()
    answer_at = next((i for i, ln in enumerate(lines) if ln.startswith("answer:")), len(lines))
    text_steps = [ln.strip() for ln in lines[2:answer_at]]  # after "snapshot ...", "query ..."
    answer = e.get("answer") or {}
    res.check("explain --json: the query, the text output's steps, and the answer's parts",
              e.get("query", {}).get("client") == "198.18.7.1/32" and
              [s["text"] for s in e.get("steps", [])] == text_steps and
              len(e.get("steps", [])) >= 3 and answer.get("rcode") == "NOERROR" and
              "aa" in answer.get("flags", []) and len(answer.get("answer", [])) >= 1 and
              all(f"www.{ZONE_ORIGIN}" in rr for rr in answer["answer"]),
              json.dumps(e)[:1200] + "\n" + r.stdout)


def dump_text(env, res):
    r = env.ctl("dump")
    res.check("dump (text): zone serial, resources, members, geo map built date, targets",
              r.returncode == 0 and re.search(rf"^  {re.escape(ZONE_ORIGIN)}\s+serial {SERIAL}",
                                              r.stdout, re.M) and
              re.search(r"^  site  geo A ttl 30 map world  at www\.ctl\.test\.", r.stdout, re.M)
              and "198.18.3.1  weight 3  target web1" in r.stdout and
              re.search(r"GeoIP2-City, built \d{4}-\d\d-\d\d\)", r.stdout) and
              re.search(r"^  sgp1\s+up", r.stdout, re.M), r.stdout + r.stderr)
    print("measured: sextantctl dump:\n" + r.stdout)


def broken_config(env, res, v):
    gen = as_json(env.ctl("status", "--json"))["generation"]
    for what, text in (("does not validate", env.good_config + "bogus_key: 1\n"),
                       ("is not YAML", f"instance: {INSTANCE}\nzones: [unclosed\n  : : :\n")):
        env.config.write_text(text)
        time.sleep(0.5)  # the daemon sees the change and refuses it; it keeps serving
        r = run([env.ctl_bin, "--config", str(env.config), "status", "--json"], check=False,
                timeout=60)
        st = as_json(r) or {}
        res.check(f"config {what}: `--config FILE status --json` answers (exit 0, valid), "
                  "with the daemon's last good generation",
                  r.returncode == 0 and not schema_errors(v["status"], st) and
                  st.get("instance") == INSTANCE and st.get("generation") == gen,
                  f"{r.returncode} {r.stdout} {r.stderr}")
        res.check(f"config {what}: status notes that the file does not load",
                  f"{env.config} does not load" in r.stderr and
                  "keeps serving its last good config" in r.stderr, r.stderr)
        r = run([env.ctl_bin, "--config", str(env.config), "status"], check=False, timeout=60)
        res.check(f"config {what}: `--config FILE status` (text) answers too",
                  r.returncode == 0 and re.search(rf"^generation\s+{gen}$", r.stdout, re.M),
                  r.stdout + r.stderr)
        r = run([env.ctl_bin, "--config", str(env.config), "reload"], check=False, timeout=60)
        key = "bogus_key" if what == "does not validate" else "sextant.yaml"
        res.check(f"config {what}: `--config FILE reload` is refused with the config's error, "
                  "exit 1", r.returncode == 1 and key in r.stderr, f"{r.returncode} {r.stderr}")
    env.config.write_text(env.good_config)
    time.sleep(0.5)
    r = run([env.ctl_bin, "--config", str(env.config), "reload"], check=False, timeout=60)
    res.check("config repaired: reload publishes", r.returncode == 0 and
              "published generation" in r.stdout, r.stdout + r.stderr)


def completion(env, res):
    r = run(["bash", str(HERE / "sextantctl_completion_check.sh"),
             str(SOURCE / "packaging" / "sextantctl.bash-completion"), env.ctl_bin, INSTANCE,
             ZONE_ORIGIN], check=False, timeout=120)
    print(r.stdout, end="")
    res.check("bash completion: commands, options, targets, datacenters, names "
              "(sextantctl_completion_check.sh)", r.returncode == 0 and "FAIL" not in r.stdout
              and r.stdout.count("ok ") >= 10, r.stdout + r.stderr)


def main():
    args = integration_args()
    res = Results()
    env = Env(args)
    v = schema_validators()
    try:
        env.start_daemon()
        env.start_dataplane()
        env.ctl("force", "down", "nyc1")  # an override, so that the override object shows
        up = check_schemas(env, res, v, "control up",
                           ["status", "health", "stats", "dump", "explain"])
        explain_checks(env, res, up["explain"] or {})
        dump_checks(env, res, up["dump"] or {}, "daemon")
        dump_text(env, res)
        watch(env, res, v)
        completion(env, res)
        broken_config(env, res, v)
        env.kill_daemon()
        down = check_schemas(env, res, v, "control killed",
                             ["health", "stats", "dump", "explain"])
        health_shape(up["health"], down["health"], res)
        dump_checks(env, res, down["dump"] or {}, "shared_memory")
        r = env.ctl("status", "--json")
        res.check("control killed: status --json exits 3, nothing on stdout",
                  r.returncode == 3 and r.stdout == "", f"{r.returncode} {r.stdout} {r.stderr}")
    finally:
        env.cleanup()
    return res.summary()


if __name__ == "__main__":
    sys.exit(main())
