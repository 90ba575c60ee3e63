#!/usr/bin/python3
"""A new operator's mistakes, made on purpose through the real binaries (issue 18, items 1, 3, 8,
9, 10 and 11): each one is caught at `sextant-control --check` with a message that names the
mistake, the place and the fix, or accepted with a warning where it may be meant.

- item 1: a target's `datacenter:` that is not in `datacenters:` is refused; without a
  `datacenters:` section the labels are accepted with a warning; a target serving datacenter X's
  site of a geo resource but labelled Y is accepted with a warning. With a running daemon and
  dataplane, `sextantctl force down sgp --datacenter` hits the correctly labelled targets and the
  answer moves to the next datacenter; the mislabelled config is refused by --check and by the
  daemon's reload, which keeps serving; the site-mislabelled one loads with the warning logged,
  and the override then misses that target exactly as the warning said;
- item 3: a database that cannot serve the geo map's mode is refused, naming its type;
- item 8: an unknown enum value names the value and the choices, for each enum;
- item 9: zone errors quote the token and its column; a zone without NS records and a TXT with
  an unterminated quote are refused;
- item 10: a file that cannot be read is named by its absolute path, with the errno text
  (config, zone, $INCLUDE, MaxMind DB, nets, latency);
- item 11: key paths are YAML paths with the offending line; ecs names the bad value; the nets
  parser allows either family; a duplicate key has both lines.

Instance sxmist18<pid>, a port picked free on 127.0.0.1. Prints 'N passed, M failed'."""
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "lib"))
from lab import Results, free_port, integration_args, remove_shm, run, stop_processes, wait_for  # noqa: E402

MAXMIND = HERE.parent / "data" / "maxmind"
INSTANCE = f"sxmist18{os.getpid()}"

ZONE = """$ORIGIN mist.test.
$TTL 300
@ SOA ns hostmaster 1 3600 600 86400 60
@ NS ns
ns A 198.18.0.2
"""

NETS = "198.18.0.0/16 sgp,ams\n"

# The base configuration: every mistake below is one replacement in it. Line numbers matter to
# the expected messages: `targets:` is line 10, `resources:` line 14, `records:` line 22.
BASE = """instance: {instance}
zones:
  - {{origin: mist.test., file: mist.test.zone}}
datacenters:
  ams: {{latitude: 52.37, longitude: 4.90}}
  sgp: {{latitude: 1.35, longitude: 103.82}}
geo_maps:
  world: {{database: city.mmdb, mode: nearest, nets: nets.txt}}
# targets
targets:
  ams1: {{datacenter: ams}}
  sgp1: {{datacenter: sgp}}
  sgp2: {{datacenter: sgp}}
resources:
  app:
    kind: geo
    map: world
    ecs: use
    datacenters:
      ams: {{members: [{{address: 198.18.2.1, target: ams1}}]}}
      sgp: {{kind: failover, members: [{{address: 198.18.1.1, target: sgp1}}, {{address: 198.18.1.2, target: sgp2}}]}}
records:
  - {{name: www.mist.test., type: A, resource: app}}
control:
  socket: {work}/control.sock
  state_file: {work}/control.state
  reload_delay: 50ms
"""


class Env:
    def __init__(self, args, work):
        self.control = args.sextant_control
        self.dataplane = args.sextant_dataplane
        self.ctl_bin = str(Path(args.sextant_control).parent / "sextantctl")
        self.work = work
        self.base = BASE.format(instance=INSTANCE, work=work)
        self.procs = []
        self.n = 0

    def config(self, *replacements):
        """The base config with each (old, new) replaced once; old must be there."""
        text = self.base
        for old, new in replacements:
            assert old in text, old
            text = text.replace(old, new, 1)
        return text

    def check(self, text, name=None, cwd=None):
        """--check on `text` written to a new file in the workdir: (rc, stdout, stderr)."""
        self.n += 1
        path = self.work / (name or f"mistake{self.n}.yaml")
        path.write_text(text)
        r = run([self.control, "--check", "--config", str(path)], check=False, timeout=60,
                cwd=cwd)
        return r.returncode, r.stdout, r.stderr, path

    def ctl(self, *a):
        return run([self.ctl_bin, "--instance", INSTANCE, "--socket",
                    str(self.work / "control.sock"), *a], check=False, timeout=30)


def refused(env, res, name, want, *replacements, text=None):
    """--check refuses the mistake with exactly one line: 'sextant-control: ' + want(path)."""
    rc, out, err, path = env.check(text if text is not None else env.config(*replacements))
    expected = "sextant-control: " + (want(path) if callable(want) else want)
    res.check(f"refused: {name}", rc == 1 and err.strip() == expected and out == "",
              f"rc {rc}\nwant: {expected}\ngot:  {err.strip()}{out}")


def warned(env, res, name, want, *replacements, text=None):
    """--check accepts the config and prints exactly this one warning on stderr."""
    rc, out, err, path = env.check(text if text is not None else env.config(*replacements))
    expected = "sextant-control: warning: " + (want(path) if callable(want) else want)
    res.check(f"warned: {name}",
              rc == 0 and err.strip() == expected and f"{path} is valid: 1 zone" in out,
              f"rc {rc}\nwant: {expected}\ngot:  {err.strip()}\n{out}")


def datacenter_labels(env, res):
    rc, out, err, path = env.check(env.config())
    res.check("the base config is valid, without warnings",
              rc == 0 and err == "" and "is valid: 1 zone, 3 records" in out, out + err)
    refused(env, res, "a target's datacenter: not in datacenters: (item 1)",
            lambda p: f"{p} line 12: targets.sgp1.datacenter: unknown datacenter 'sng' "
                      "(known: ams, sgp; did you mean sgp?); `sextantctl force NAME "
                      "--datacenter` selects targets by this name",
            ("sgp1: {datacenter: sgp}", "sgp1: {datacenter: sng}"))
    no_dcs = f"""instance: {INSTANCE}
zones:
  - {{origin: mist.test., file: mist.test.zone}}
targets:
  ams1: {{datacenter: ams}}
  sgp1: {{datacenter: sng}}
resources:
  app: {{kind: failover, members: [{{address: 198.18.1.1, target: sgp1}}, {{address: 198.18.2.1, target: ams1}}]}}
records:
  - {{name: www.mist.test., type: A, resource: app}}
"""
    warned(env, res, "target labels without a datacenters: section (item 1)",
           lambda p: f"{p} line 5: targets name datacenters (ams, sng) but there is no "
                     "datacenters: section to check them against: a misspelt name goes "
                     "unnoticed, and `sextantctl force NAME --datacenter` then misses that "
                     "target; declare them under datacenters: (with their coordinates)",
           text=no_dcs)
    warned(env, res, "a target in the sgp site labelled ams (item 1)",
           lambda p: f"{p} line 21: resources.app.datacenters.sgp.members[0].target: target "
                     "sgp1 serves the sgp site of resources.app but is labelled datacenter ams "
                     "(line 12): `sextantctl force sgp --datacenter` would not move it, `force "
                     "ams --datacenter` would",
           ("sgp1: {datacenter: sgp}", "sgp1: {datacenter: ams}"))


def database_modes(env, res):
    shutil.copy(MAXMIND / "GeoLite2-Country-Test.mmdb", env.work / "country.mmdb")
    shutil.copy(MAXMIND / "GeoLite2-ASN-Test.mmdb", env.work / "asn.mmdb")
    w = env.work
    refused(env, res, "a Country database for mode: nearest (item 3)",
            lambda p: f"{p} line 8: geo map 'world': mode nearest needs coordinates "
                      f"(location.latitude/longitude), but database type GeoLite2-Country "
                      f"({w}/country.mmdb) has none in any of its 52 records: every client "
                      "would get the default list. Use a City database (GeoIP2-City, "
                      "GeoLite2-City), or mode: rules with rules on the codes this database has",
            ("database: city.mmdb", "database: country.mmdb"))
    rc, _, err, path = env.check(env.config(
        ("database: city.mmdb, mode: nearest",
         "database: asn.mmdb, mode: rules, rules: {country: {SG: [sgp]}}")))
    want = re.escape(f"sextant-control: {path} line 8: geo map 'world': rules.country needs "
                     f"country.iso_code, but database type GeoLite2-ASN ({w}/asn.mmdb) has none "
                     "in any of its ") + r"\d+" + re.escape(" records: these rules could never "
                                                             "match")
    res.check("refused: an ASN database for country rules (item 3)",
              rc == 1 and re.fullmatch(want, err.strip()) is not None, err)
    refused(env, res, "a Country database for subdivision rules (item 3)",
            lambda p: f"{p} line 8: geo map 'world': rules.subdivision needs "
                      f"subdivisions[].iso_code, but database type GeoLite2-Country "
                      f"({w}/country.mmdb) has none in any of its 52 records: these rules "
                      "could never match",
            ("database: city.mmdb, mode: nearest",
             "database: country.mmdb, mode: rules, rules: {subdivision: {GB-ENG: [ams]}}"))
    rc, out, err, _ = env.check(env.config(
        ("database: city.mmdb, mode: nearest",
         "database: country.mmdb, mode: rules, rules: {country: {SG: [sgp]}}")))
    res.check("a Country database for country rules is accepted",
              rc == 0 and err == "" and "is valid" in out, out + err)


def enums(env, res):
    rows = [
        ("kind", ("kind: geo", "kind: goe"),
         "line 16: resources.app.kind 'goe' is not one of static, failover, weighted, "
         "multivalue, geo, latency (did you mean geo?)"),
        ("mode", ("mode: nearest", "mode: nearst"),
         "line 8: geo_maps.world.mode 'nearst' is not one of nearest, rules "
         "(did you mean nearest?)"),
        ("ecs", ("ecs: use", "ecs: usee"),
         "line 18: resources.app.ecs 'usee' is not one of use, ignore (did you mean use?)"),
        ("all_down", ("ecs: use", "all_down: frist"),
         "line 18: resources.app.all_down 'frist' is not one of all, first, nodata, servfail, "
         "fallback (did you mean first?)"),
        ("order", ("kind: failover,", "kind: static, order: rnd,"),
         "line 21: resources.app.datacenters.sgp.order 'rnd' is not one of cyclic, random, "
         "fixed"),
        ("records type", ("type: A,", "type: AA,"),
         "line 23: records[0].type 'AA' is not one of A, AAAA, CNAME"),
        ("initial", ("ams1: {datacenter: ams}", "ams1: {datacenter: ams, initial: upp}"),
         "line 11: targets.ams1.initial 'upp' is not one of up, down (did you mean up?)"),
        ("check.type", ("ams1: {datacenter: ams}",
                        "ams1: {datacenter: ams, check: {type: htp, address: 198.18.2.1}}"),
         "line 11: targets.ams1.check.type 'htp' is not one of tcp, http, https, dns, none "
         "(did you mean http?)"),
        ("check.method", ("ams1: {datacenter: ams}",
                          "ams1: {datacenter: ams, check: {type: http, method: PUT, "
                          "address: 198.18.2.1}}"),
         "line 11: targets.ams1.check.method 'PUT' is not one of GET, HEAD, POST"),
        ("check.expect_rcode", ("ams1: {datacenter: ams}",
                                "ams1: {datacenter: ams, check: {type: dns, query: x., "
                                "expect_rcode: NOERR, address: 198.18.2.1}}"),
         "line 11: targets.ams1.check.expect_rcode 'NOERR' is not an rcode (one of NOERROR, "
         "FORMERR, SERVFAIL, NXDOMAIN, NOTIMP, REFUSED, YXDOMAIN, YXRRSET, NXRRSET, NOTAUTH, "
         "NOTZONE, BADVERS; did you mean NOERROR?)"),
    ]
    for name, repl, want in rows:
        refused(env, res, f"enum {name} names the value and the choices (item 8)",
                lambda p, want=want: f"{p} {want}", repl)


def zone_files(env, res):
    head = ZONE.split("@ NS")[0]
    rows = [
        ("an unknown record type", "@ NS ns\nns A 198.18.0.2\nx IN AX 1.2.3.4\n",
         "unknown record type 'AX' (column 6)"),
        ("A 192.0.2.300", "@ NS ns\nns A 198.18.0.2\nx IN A 192.0.2.300\n",
         "'192.0.2.300' (column 8) is not an IPv4 address (A rdata field 1)"),
        ("MX with a word for its preference", "@ NS ns\nns A 198.18.0.2\nx IN MX ten mail\n",
         "'ten' (column 9) is not an integer in 0..65535 (MX rdata field 1)"),
        ("a TXT with an unterminated quote",
         "@ NS ns\nns A 198.18.0.2\nx 300 IN TXT \"hello world\ny A 198.18.0.3\n",
         "unterminated quoted string at column 14: '\"hello world' (a quoted string "
         "ends on its own line)"),
    ]
    for name, body, want in rows:
        zone = env.work / f"bad{env.n}.zone"
        zone.write_text(head + body)
        refused(env, res, f"zone: {name} (item 9)",
                lambda p, zone=zone, want=want: f"zone mist.test. ({zone} line 6): {want}",
                ("file: mist.test.zone", f"file: {zone.name}"))
    zone = env.work / "no-ns.zone"
    zone.write_text(head + "ns A 198.18.0.2\n")
    refused(env, res, "zone: no NS records at the apex (item 9)",
            f"zone mist.test. ({zone}): no NS records at the zone apex mist.test. (RFC 1034 "
            "section 4.2.1): add the zone's name servers, like '@ IN NS ns1.mist.test.'",
            ("file: mist.test.zone", "file: no-ns.zone"))
    zone = env.work / "quotes.zone"
    zone.write_text(head + "@ NS ns\nns A 198.18.0.2\nx TXT \"a \\\"quoted\\\" word\" \"b\" ; \"\n")
    rc, out, err, _ = env.check(env.config(("file: mist.test.zone", "file: quotes.zone")))
    res.check("zone: closed quotes, escaped quotes and a quote in a comment are accepted",
              rc == 0 and err == "" and "is valid: 1 zone" in out, out + err)


def unreadable_files(env, res):
    w = env.work
    enoent = "No such file or directory"
    refused(env, res, "a zone file that is not there: absolute path and errno (item 10)",
            f"zone mist.test.: cannot read {w}/example.nett.zone: {enoent}",
            ("file: mist.test.zone", "file: example.nett.zone"))
    zone = w / "include.zone"
    zone.write_text(ZONE + "$INCLUDE sub/nothere.inc\n")
    refused(env, res, "an $INCLUDE that is not there (item 10)",
            f"zone mist.test. ({zone} line 6): cannot read $INCLUDE file {w}/sub/nothere.inc: "
            f"{enoent}",
            ("file: mist.test.zone", "file: include.zone"))
    refused(env, res, "a MaxMind DB that is not there (item 10)",
            lambda p: f"{p} line 8: geo map 'world': cannot open MaxMind DB {w}/cty.mmdb: "
                      f"{enoent} (Error opening the specified MaxMind DB file)",
            ("database: city.mmdb", "database: cty.mmdb"))
    refused(env, res, "a nets file that is not there (item 10)",
            lambda p: f"{p} line 8: geo map 'world': cannot read nets file {w}/nets.text: "
                      f"{enoent}",
            ("nets: nets.txt", "nets: nets.text"))
    refused(env, res, "a latency file that is not there (item 10)",
            lambda p: f"{p} line 8: geo map 'world': cannot read latency file {w}/rtt.csv: "
                      f"{enoent}",
            ("nets: nets.txt", "nets: nets.txt, latency: rtt.csv"))
    refused(env, res, "a zone 'file' that is a directory: the errno says so (item 10)",
            f"zone mist.test.: cannot read {w}/sub: Is a directory",
            ("file: mist.test.zone", "file: sub"))
    # The config itself, named relatively from another directory.
    r = run([env.control, "--check", "--config", "work-missing/sextant.yaml"], check=False,
            cwd=w)
    res.check("a config that is not there: absolute path and errno (item 10)",
              r.returncode == 1 and r.stderr.strip() ==
              f"sextant-control: cannot read config {w}/work-missing/sextant.yaml: {enoent}",
              r.stderr)


def key_paths(env, res):
    rows = [
        ("an unknown check key", ("ams1: {datacenter: ams}",
                                  "ams1: {datacenter: ams, check: {type: tcp, address: "
                                  "198.18.2.1, port: 80, intervall: 5}}"),
         "line 11: unknown key 'targets.ams1.check.intervall' (known: address, fall, interval, "
         "port, rise, source, timeout, type; did you mean interval?)"),
        ("an unknown datacenter key", ("ams: {latitude: 52.37,", "ams: {latitute: 52.37,"),
         "line 5: unknown key 'datacenters.ams.latitute' (known: latitude, longitude; "
         "did you mean latitude?)"),
        ("an unknown resource key", ("map: world", "mapp: world"),
         "line 17: unknown key 'resources.app.mapp' (known: all_down, datacenters, ecs, fallback, "
         "kind, map, ttl, ttl_when_down; did you mean map?)"),
        ("an unknown map: the map's line, not the resource's", ("map: world", "map: wrld"),
         "line 17: resources.app.map: unknown geo map 'wrld' (known: world; did you mean "
         "world?)"),
        ("an unknown site datacenter: the site's line", ("      sgp: {kind", "      sgg: {kind"),
         "line 21: resources.app.datacenters.sgg: unknown datacenter 'sgg' (known: ams, sgp; "
         "did you mean sgp?)"),
        ("a duplicate key: both lines", ("  sgp2: {datacenter: sgp}\n",
                                         "  sgp2: {datacenter: sgp}\n  ams1: {datacenter: sgp}\n"),
         "line 14: duplicate key 'targets.ams1' (first at line 11): YAML reads only the first"),
    ]
    for name, repl, want in rows:
        refused(env, res, f"key path: {name} (item 11)", lambda p, want=want: f"{p} {want}", repl)
    for text, want in [("garbage sgp\n", "'garbage' is not an IPv4 or IPv6 network (like "
                                         "198.18.7.0/24 or 2001:db8::/32)"),
                       ("198.18.0.300/24 sgp\n", "'198.18.0.300/24' is not an IPv4 network "
                                                  "(like 198.18.7.0/24 or 2001:db8::/32)")]:
        (env.work / "bad-nets.txt").write_text(text)
        refused(env, res, f"nets: {text.split()[0]} (item 11)",
                lambda p, want=want: f"{p} line 8: geo map 'world': {env.work}/bad-nets.txt:1: "
                                     f"{want}",
                ("nets: nets.txt", "nets: bad-nets.txt"))


def dig(port):
    r = run(["dig", "@127.0.0.1", "-p", str(port), "+time=2", "+tries=2", "+norec", "+short",
             "+subnet=198.18.7.9/32", "www.mist.test", "A"], check=False)
    return r.stdout.split()


def running_overrides(env, res):
    """Item 1 with a daemon: the override hits the labelled targets; the mislabelled config is
    refused at --check and at reload; the site-mislabelled one warns, and the override then
    misses the target as the warning said."""
    cfg = env.work / "sextant.yaml"
    cfg.write_text(env.config())
    log_path = env.work / "control.log"
    log = open(log_path, "w")
    control = subprocess.Popen([env.control, "--config", str(cfg)], stdout=log,
                               stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    env.procs.append(control)
    if not wait_for(lambda: "serving generation" in log_path.read_text(), timeout=30):
        res.check("sextant-control starts", False, log_path.read_text())
        return
    port = free_port()
    dp_log = env.work / "dataplane.log"
    dp = subprocess.Popen([env.dataplane, "--listen", f"127.0.0.1:{port}", "--instance",
                           INSTANCE], stdout=open(dp_log, "w"), stderr=subprocess.STDOUT,
                          stdin=subprocess.DEVNULL)
    env.procs.append(dp)
    if not wait_for(lambda: "serving generation" in dp_log.read_text(), timeout=20):
        res.check("sextant-dataplane starts", False, dp_log.read_text())
        return
    res.check("the client of 198.18.7.9 is answered from the sgp site first",
              dig(port) == ["198.18.1.1"], str(dig(port)))
    r = env.ctl("force", "down", "sgp", "--datacenter")
    res.check("force down sgp --datacenter hits both correctly labelled targets",
              r.returncode == 0 and "datacenter sgp forced down: 2 targets (sgp1, sgp2)" in
              r.stdout, r.stdout + r.stderr)
    res.check("... and the answer moves to the ams site",
              wait_for(lambda: dig(port) == ["198.18.2.1"]), str(dig(port)))
    r = env.ctl("release", "sgp", "--datacenter")
    res.check("release sgp --datacenter: sgp answers again",
              r.returncode == 0 and wait_for(lambda: dig(port) == ["198.18.1.1"]),
              r.stdout + r.stderr + str(dig(port)))

    # The typo: refused at --check, and by the daemon's reload, which keeps what it serves.
    typo = env.config(("sgp2: {datacenter: sgp}", "sgp2: {datacenter: sng}"))
    rc, _, err, _ = env.check(typo, name="typo.yaml")
    res.check("the mislabelled target is refused at --check",
              rc == 1 and "targets.sgp2.datacenter: unknown datacenter 'sng'" in err, err)
    mark = len(log_path.read_text())
    cfg.write_text(typo)
    r = env.ctl("reload")
    refusal = wait_for(lambda: "targets.sgp2.datacenter: unknown datacenter 'sng'" in
                       log_path.read_text()[mark:])
    res.check("... and by the running daemon's reload, which keeps serving",
              r.returncode != 0 and refusal and dig(port) == ["198.18.1.1"],
              r.stdout + r.stderr + log_path.read_text()[mark:])

    # Labelled ams but serving the sgp site: accepted, the warning logged at the reload; the
    # datacenter override then misses it, as the warning says.
    cfg.write_text(env.config(("sgp1: {datacenter: sgp}", "sgp1: {datacenter: ams}")))
    mark = len(log_path.read_text())
    r = env.ctl("reload")
    warning = ("warning: " + f"{cfg} line 21: resources.app.datacenters.sgp.members[0].target: "
               "target sgp1 serves the sgp site of resources.app but is labelled datacenter ams")
    res.check("the site-mislabelled config loads; the daemon logs the warning",
              r.returncode == 0 and wait_for(lambda: warning in log_path.read_text()[mark:]),
              r.stdout + r.stderr + log_path.read_text()[mark:])
    r = env.ctl("force", "down", "sgp", "--datacenter")
    res.check("force down sgp --datacenter now hits sgp2 only",
              r.returncode == 0 and "datacenter sgp forced down: 1 target (sgp2)" in r.stdout,
              r.stdout + r.stderr)
    res.check("... and sgp1 keeps being handed out, as the warning said",
              dig(port) == ["198.18.1.1"], str(dig(port)))
    env.ctl("release", "sgp", "--datacenter")
    dp.send_signal(signal.SIGTERM)
    dp.wait(timeout=15)
    control.send_signal(signal.SIGTERM)
    control.wait(timeout=15)


def main():
    args = integration_args()
    work = Path(args.workdir).resolve()
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    res = Results()
    env = Env(args, work)
    remove_shm([INSTANCE])
    try:
        shutil.copy(MAXMIND / "GeoIP2-City-Test.mmdb", work / "city.mmdb")
        (work / "mist.test.zone").write_text(ZONE)
        (work / "nets.txt").write_text(NETS)
        (work / "sub").mkdir()
        datacenter_labels(env, res)
        database_modes(env, res)
        enums(env, res)
        zone_files(env, res)
        unreadable_files(env, res)
        key_paths(env, res)
        running_overrides(env, res)
    finally:
        stop_processes(env.procs)
        remove_shm([INSTANCE])
    print(f"{res.passed} passed, {res.failed} failed")
    return 0 if res.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
