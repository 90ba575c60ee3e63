#!/usr/bin/python3
"""The fleet over TLS, and bundles that name GeoIP databases by SHA-256 (README "Running a
fleet"), everything on loopback.

The test makes a throwaway CA with `openssl` (a server certificate for IP 127.0.0.1 and a client
certificate, plus a second, unrelated CA), starts ONE etcd member (tmpfs data directory, stopped by
PID) that serves https only and asks clients for a certificate of that CA (--client-cert-auth), and
one Sextant node (sextant-control + kernel-mode sextant-dataplane, the Node of fleet_lab_test.py)
whose fleet: section has https endpoints and fleet.ca_file, cert_file and key_file. Covered:

- the node registers: `fleet status --json` says etcd is reachable and lists the node itself;
- `sextantctl force down ovr --fleet` (sextantctl talks to etcd itself, with the same files)
  reaches the node's answers, and `release --fleet` lifts it;
- a second control daemon whose ca_file is the other CA reports etcd unreachable, with an error
  that names the certificate problem, and never registers; sextantctl --fleet with that config
  fails saying so;
- a bundle whose geo map database (world.mmdb, by SHA-256) is not the file in the node's
  fleet.bundle_dir/geo/ is refused, with a reason naming the database, in fleet status; the
  same bundle with the matching database activates and the geo resource answers.

Prints 'N passed, M failed'."""
import json
import re
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "lib"))
sys.path.insert(0, str(HERE))
from lab import Results, free_port, integration_args, remove_shm, wait_for  # noqa: E402
from fleet_lab_test import ETCD, ZONE, Node, stop_nodes  # noqa: E402

MAXMIND = HERE.parent / "data" / "maxmind"


def sh(*cmd, cwd):
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def make_pki(d):
    """ca.pem/ca.key, server.pem/.key (SAN IP:127.0.0.1), client.pem/.key, other-ca.pem."""
    d.mkdir(parents=True, exist_ok=True)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    for ca in ("ca", "other-ca"):
        sh("openssl", "req", "-x509", *ec, "-keyout", f"{ca}.key", "-out", f"{ca}.pem",
           "-days", "2", "-subj", f"/CN=sextant-test-{ca}", cwd=d)
    for leaf, san in (("server", "IP:127.0.0.1"), ("client", "DNS:sextant-node")):
        sh("openssl", "req", "-new", *ec, "-keyout", f"{leaf}.key", "-out", f"{leaf}.csr",
           "-subj", f"/CN=sextant-test-{leaf}", "-addext", f"subjectAltName={san}", cwd=d)
        sh("openssl", "x509", "-req", "-in", f"{leaf}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
           "-CAcreateserial", "-days", "2", "-copy_extensions", "copy", "-out", f"{leaf}.pem",
           cwd=d)


class TlsEtcd:
    """One etcd member: https client URL, client certificates required."""

    def __init__(self, workdir, pki):
        self.workdir = workdir
        self.pki = pki
        self.datadir = Path(tempfile.mkdtemp(prefix="sextant-fleettls-etcd-", dir="/dev/shm"))
        self.client = free_port()
        self.peer = free_port()
        self.proc = None

    def endpoints(self):
        return [f"https://127.0.0.1:{self.client}"]

    def start(self):
        log = open(self.workdir / "etcd.log", "a")
        p = self.pki
        self.proc = subprocess.Popen(
            [ETCD, "--name", "t0", "--data-dir", str(self.datadir / "t0"),
             "--listen-client-urls", self.endpoints()[0],
             "--advertise-client-urls", self.endpoints()[0],
             "--listen-peer-urls", f"http://127.0.0.1:{self.peer}",
             "--initial-advertise-peer-urls", f"http://127.0.0.1:{self.peer}",
             "--initial-cluster", f"t0=http://127.0.0.1:{self.peer}",
             "--cert-file", str(p / "server.pem"), "--key-file", str(p / "server.key"),
             "--trusted-ca-file", str(p / "ca.pem"), "--client-cert-auth",
             "--heartbeat-interval", "100", "--election-timeout", "1000",
             "--listen-metrics-urls", ""],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def post(self, path, body, cert=True):
        ctx = ssl.create_default_context(cafile=str(self.pki / "ca.pem"))
        if cert:
            ctx.load_cert_chain(str(self.pki / "client.pem"), str(self.pki / "client.key"))
        req = urllib.request.Request(self.endpoints()[0] + path, data=json.dumps(body).encode(),
                                     method="POST")
        with urllib.request.urlopen(req, timeout=2, context=ctx) as r:
            return json.loads(r.read())

    def healthy(self, timeout=20):
        def put():
            try:
                return "header" in self.post("/v3/kv/put", {"key": "aGVhbHRo", "value": "b2s="})
            except (OSError, ValueError):
                return False
        return wait_for(put, timeout, step=0.1)

    def stop(self):
        if self.proc:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.datadir, ignore_errors=True)


def tls_config(node, pki, ca="ca.pem", distribute=True):
    """Adds the TLS files to the node's fleet: section (the Node writes http-less endpoints)."""
    text = node.config.read_text()
    text = text.replace("fleet:\n", f"fleet:\n  ca_file: {pki / ca}\n"
                        f"  cert_file: {pki}/client.pem\n  key_file: {pki}/client.key\n", 1)
    if not distribute:
        text = text.replace("  distribute: true\n", "")
    node.config.write_text(text)


def status(node):
    return json.loads(node.ctl("fleet", "status", "--json").stdout or "{}")


def scenario_tls(res, node, etcd, bad):
    ok = wait_for(lambda: status(node).get("reachable") and
                  [m["node"] for m in status(node).get("members", [])] == ["T"], 10)
    res.check("TLS: the node reaches etcd (https, client certificate) and is a member", ok,
              node.ctl("fleet", "status").stdout)
    try:
        etcd.post("/v3/kv/range", {"key": "aGVhbHRo"}, cert=False)
        refused = False
    except (OSError, ValueError):
        refused = True
    res.check("the etcd member refuses a client without a certificate (so the node's counts)",
              refused, "a request without a client certificate went through")
    dn, up = "198.18.15.9", "198.18.15.1"
    r = node.ctl("force", "down", "ovr", "--fleet", "--for", "60s")
    ok = r.returncode == 0 and wait_for(lambda: node.answer("ov.fl.test") == [dn], 3, step=0.05)
    res.check("sextantctl force down ovr --fleet over TLS reaches the node's answers", ok,
              f"{r.stdout}{r.stderr}{node.answer('ov.fl.test')}")
    r = node.ctl("release", "ovr", "--fleet")
    ok = r.returncode == 0 and wait_for(lambda: node.answer("ov.fl.test") == [up], 3, step=0.05)
    res.check("release --fleet over TLS lifts it", ok,
              f"{r.stdout}{r.stderr}{node.answer('ov.fl.test')}")

    bad.start_control()
    ok = wait_for(lambda: status(bad).get("error"), 5)
    st = status(bad)
    err = st.get("error", "")
    # curl's own words for a failed verification, not the generic "peer certificate ... not OK".
    res.check("a node trusting the wrong CA: etcd unreachable, the error says the server's "
              "certificate did not verify", ok and not st.get("reachable") and
              "SSL certificate problem" in err and "issuer" in err, st)
    text = bad.ctl("fleet", "status").stdout
    res.check("its fleet status text says unreachable and why", "unreachable: " in text and
              "certificate" in text.lower(), text)
    r = bad.ctl("force", "down", "ovr", "--fleet", "--for", "60s")
    res.check("sextantctl --fleet with the wrong CA fails and says why",
              r.returncode != 0 and "SSL certificate problem" in r.stderr, r.stdout + r.stderr)
    res.check("that node never registers with etcd",
              [m["node"] for m in status(node).get("members", [])] == ["T"],
              node.ctl("fleet", "status").stdout)
    bad.stop_control()


BUNDLE = """zones:
  - {origin: fl.test., file: fl.test.zone}
datacenters:
  ams: {latitude: 52.37, longitude: 4.90}
  sgp: {latitude: 1.35, longitude: 103.82}
geo_maps:
  world: {database: world.mmdb, mode: nearest}
targets:
  web1: {}
  web2: {quorum: local}
  ovr: {datacenter: ams}
resources:
  app:
    kind: geo
    map: world
    datacenters:
      ams: {members: [198.18.2.1]}
      sgp: {members: [198.18.1.1]}
records:
  - {name: web.fl.test., type: A, kind: failover, members: [{address: 198.18.13.1, target: web1}, 198.18.13.9]}
  - {name: loc.fl.test., type: A, kind: failover, members: [{address: 198.18.14.1, target: web2}, 198.18.14.9]}
  - {name: ov.fl.test., type: A, kind: failover, members: [{address: 198.18.15.1, target: ovr}, 198.18.15.9]}
  - {name: geo.fl.test., type: A, resource: app}
"""


def publish(node, workdir, version, mmdb):
    """A bundle dir with sextant.yaml, the zone (ver.fl.test TXT "vN") and world.mmdb (a copy
    of `mmdb`, which the bundle carries by SHA-256 only); returns (result, revision)."""
    d = workdir / f"bundle-v{version}"
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    (d / "fl.test.zone").write_text(ZONE + f'ver IN TXT "v{version}"\n')
    (d / "sextant.yaml").write_text(BUNDLE)
    shutil.copyfile(mmdb, d / "world.mmdb")
    r = node.ctl("fleet", "publish", str(d))
    m = re.search(r"revision (\d+)", r.stdout)
    return r, int(m.group(1)) if m else None


def scenario_geo_bundle(res, node, workdir):
    geo = node.dir / "bundle" / "geo"
    geo.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(MAXMIND / "GeoIP2-City-Test.mmdb", geo / "world.mmdb")
    # Published with another database than the node holds: refused.
    r, rev1 = publish(node, workdir, 1, MAXMIND / "GeoLite2-City-Test.mmdb")
    ok = r.returncode == 0 and rev1 and wait_for(
        lambda: any(m.get("refused_revision") == rev1 for m in status(node).get("members", [])),
        10)
    me = next(iter(status(node).get("members", [])), {})
    res.check("a bundle whose geo database hash differs from the node's file is refused, "
              "the reason naming the database", ok and "world.mmdb" in me.get("refusal", "") and
              "SHA-256" in me.get("refusal", "") and me.get("revision", 0) == 0,
              f"{r.stdout}{r.stderr}{node.ctl('fleet', 'status').stdout}")
    res.check("the refused bundle is not served", node.txt("ver.fl.test") == "",
              node.txt("ver.fl.test"))
    r, rev2 = publish(node, workdir, 2, MAXMIND / "GeoIP2-City-Test.mmdb")
    ok = r.returncode == 0 and wait_for(lambda: node.txt("ver.fl.test") == '"v2"', 10)
    res.check("the same bundle with the node's database activates", ok,
              f"{r.stdout}{r.stderr}{node.ctl('fleet', 'status').stdout}")
    # The member record follows the activation within a round.
    ok = wait_for(lambda: any(m.get("revision") == rev2 and not m.get("refusal")
                              for m in status(node).get("members", [])), 5)
    res.check("fleet status: the node at that revision, no refusal", ok,
              node.ctl("fleet", "status").stdout)
    ans = node.answer("geo.fl.test")
    res.check("the geo resource of the bundle answers", ans in (["198.18.2.1"], ["198.18.1.1"]),
              ans)


def main():
    args = integration_args()
    workdir = Path(args.workdir)
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    pki = workdir / "pki"
    make_pki(pki)
    res = Results()
    etcd = TlsEtcd(workdir, pki)
    nodes = []
    try:
        t0 = time.time()
        etcd.start()
        if not etcd.healthy():
            raise RuntimeError("etcd did not come up: " +
                               (workdir / "etcd.log").read_text()[-2000:])
        node = Node("T", args, workdir, etcd)
        bad = Node("W", args, workdir, etcd)
        nodes = [node, bad]
        remove_shm([n.instance for n in nodes])
        tls_config(node, pki)
        tls_config(bad, pki, ca="other-ca.pem", distribute=False)
        node.backend(True)
        node.start_control()
        node.start_listener()
        scenario_tls(res, node, etcd, bad)
        scenario_geo_bundle(res, node, workdir)
        print(f"took {time.time() - t0:.1f}s", flush=True)
    finally:
        stop_nodes(nodes)
        etcd.stop()
    print(f"{res.passed} passed, {res.failed} failed")
    return 0 if res.failed == 0 and res.passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
