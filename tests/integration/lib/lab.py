"""The one-machine test lab: a network namespace playing the client side, a veth pair (or a DPDK
net_tap moved into the namespace) as the wire, and sextant-control + sextant-dataplane on the DPDK
side. Addresses come from 198.18.0.0/15 only (RFC 2544), inside namespaces this lab creates.

Used by the integration tests and by scripts/demo.sh."""
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

APPLIANCE_V4 = "198.18.0.2"
APPLIANCE_V6 = "2001:db8:18::2"
CLIENT_V4 = "198.18.0.1"
CLIENT_V6 = "2001:db8:18::1"
# The lab's one client (CLIENT_V4, CLIENT_V6) is where the tests' dnsperf runs flood from on
# purpose, expecting zero loss: those tests exempt its prefixes from rate limiting (on by default)
# with this config section. dpdk_lab_test checks the limiting itself on the DPDK path.
LAB_RRL_EXEMPT = 'rate_limit: {exempt: [198.18.0.0/24, "2001:db8:18::/64"]}\n'
# The lab's dataplane sleeps this long between polls once idle (sextant-dataplane
# --idle-sleep-us), so that a busy-polling worker does not take one of a small test machine's
# cores from control, the checker, the backends and the clients the tests time. dpdk_lab_test's
# multiqueue run and the perf harnesses busy-poll, as a production appliance does.
LAB_IDLE_SLEEP_US = 300


def integration_args(extra=None):
    """The arguments every integration test takes from ctest (tests/CMakeLists.txt): the two
    binaries and a work directory. `extra(parser)` may add a test's own."""
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("--sextant-control", required=True)
    ap.add_argument("--sextant-dataplane", required=True)
    ap.add_argument("--workdir", required=True)
    if extra:
        extra(ap)
    return ap.parse_args()


class Binaries:
    """What a test that drives the processes itself takes from integration_args(): the paths of
    sextant-control, sextant-dataplane and sextantctl (beside sextant-control), and its work
    directory, emptied."""

    def __init__(self, args):
        self.control = args.sextant_control
        self.dataplane = args.sextant_dataplane
        self.ctl_bin = str(Path(args.sextant_control).parent / "sextantctl")
        self.work = Path(args.workdir)
        shutil.rmtree(self.work, ignore_errors=True)
        self.work.mkdir(parents=True)


class Results:
    """PASS/FAIL lines and the closing 'N passed, M failed' of the lab tests."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
            print(f"PASS {name}", flush=True)
        else:
            self.failed += 1
            print(f"FAIL {name}: {detail}", flush=True)

    def summary(self):
        """Prints 'N passed, M failed'; the test's exit code."""
        print(f"{self.passed} passed, {self.failed} failed")
        return 0 if self.failed == 0 else 1


def run(cmd, check=True, **kw):
    return subprocess.run(cmd, shell=isinstance(cmd, str), check=check, text=True,
                          capture_output=True, **kw)


def stop_processes(procs):
    """Terminates (then kills) every process still running in `procs`, and empties it."""
    for p in procs:
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=5)
    procs.clear()


def wait_for(pred, timeout=10, step=0.05):
    """Polls `pred` until it returns something true or `timeout` seconds pass; returns its last
    value (so a caller can wait for a state and use it)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


def remove_shm(instances):
    """Removes the /dev/shm files (control block, snapshots, targets) of these instances."""
    import glob
    for inst in instances:
        for f in glob.glob("/dev/shm/%s.*" % glob.escape(inst)) + \
                glob.glob("/dev/shm/%s" % glob.escape(inst)):
            try:
                os.unlink(f)
            except OSError:
                pass


def publish_once(control, cfg, workdir, timeout=120):
    """`sextant-control --once --config cfg` (log in workdir/control.out); raises with the log's
    tail when it fails."""
    out = os.path.join(workdir, "control.out")
    with open(out, "w") as log:
        rc = subprocess.call([control, "--once", "--config", cfg], stdout=log,
                             stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, timeout=timeout)
    if rc != 0:
        sys.stderr.write(open(out).read()[-3000:])
        raise RuntimeError("sextant-control --once --config %s exited %d" % (cfg, rc))


def instance_of(cfg):
    """The `instance:` a config names (default sextant): what sextant-dataplane is told, since it
    reads shared memory only, never the config file."""
    import re
    m = re.search(r"^instance:\s*([^\s#]+)", Path(cfg).read_text(), re.M)
    return m.group(1).strip("\"'") if m else "sextant"


def start_listener(dataplane, cfg, log_path, procs, ready, extra_args=()):
    """Starts `sextant-dataplane --listen` (kernel sockets) on a free loopback port, adds it to
    `procs`, and calls ready(port, proc), which raises RuntimeError when it never answers (the
    dataplane's log tail is shown then). Returns (port, proc). `extra_args` go to the dataplane
    (--threads N)."""
    port = free_port()
    log = open(log_path, "w")
    p = subprocess.Popen([dataplane, "--listen", "127.0.0.1:%d" % port,
                          "--instance", instance_of(cfg), *extra_args],
                         stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    procs.append(p)
    try:
        ready(port, p)
    except RuntimeError:
        sys.stderr.write(open(log_path).read()[-3000:])
        raise
    return port, p


# The control block's DNS Cookie parts (maps/control_block.h, ABI 4): CookieSecrets (64 bytes:
# u64 seq, current[2], previous[2], rotated_unix_ms, rotations, reserved) after PortStats, then
# LcoreCookies[128] of 64 bytes (u64 seen, valid, badcookie, reserved[5]).
COOKIE_SECRETS_OFFSET = 1374656
COOKIE_COUNTERS_OFFSET = COOKIE_SECRETS_OFFSET + 64


def cookie_rotations(instance):
    """How many times control rotated the instance's DNS Cookie secret."""
    import struct
    with open(f"/dev/shm/{instance}.ctl", "rb") as f:
        f.seek(COOKIE_SECRETS_OFFSET + 6 * 8)
        return struct.unpack("<Q", f.read(8))[0]


def cookie_counters(instance):
    """(seen, valid, badcookie) summed over the instance's lcore slots."""
    import struct
    with open(f"/dev/shm/{instance}.ctl", "rb") as f:
        f.seek(COOKIE_COUNTERS_OFFSET)
        data = f.read(128 * 64)
    sums = [0, 0, 0]
    for i in range(128):
        for k, v in enumerate(struct.unpack_from("<QQQ", data, i * 64)):
            sums[k] += v
    return tuple(sums)


def answering(probe, timeout=20):
    """A `ready` for start_listener: waits until probe(port) gets an answer (dnspython's timeout
    or a socket error count as none yet), failing at once when the dataplane exits."""
    def ready(port, proc):
        import dns.exception

        def answers():
            if proc.poll() is not None:
                raise RuntimeError(f"sextant-dataplane exited with {proc.returncode} at start-up")
            try:
                return probe(port)
            except (dns.exception.Timeout, OSError):
                return None
        if not wait_for(answers, timeout=timeout, step=0.1):
            raise RuntimeError(f"sextant-dataplane on port {port} did not answer within "
                               f"{timeout} s")
    return ready


def exporter_binary(control):
    """sextant-exporter, built beside sextant-control (ctest passes only the two daemons)."""
    return str(Path(control).parent / "sextant-exporter")


def scrape(url, timeout=5):
    """GET a /metrics URL: its text."""
    import urllib.request
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode()


def parse_metrics(text):
    """Prometheus text: {'name{labels}': value}."""
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.rpartition(" ")
            out[key] = float(value)
    return out


def promtool_metrics(res, name, text):
    """Checks Prometheus text with `promtool check metrics` (Debian's prometheus package): names,
    HELP and TYPE lines, counters ending in _total."""
    r = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                       text=True, timeout=30)
    res.check(f"promtool check metrics: {name}", r.returncode == 0, r.stdout + r.stderr)


def scrape_metrics(url):
    """GET a Prometheus /metrics page: {'name{labels}': value}."""
    return parse_metrics(scrape(url))


def start_exporter(control, instance, log_path, procs, wait_s=10):
    """Starts sextant-exporter for `instance` on a free loopback port, adds it to `procs`;
    returns its /metrics URL once it answers."""
    port = free_port()
    log = open(log_path, "w")
    p = subprocess.Popen([exporter_binary(control), "--instance", instance,
                          "--listen", f"127.0.0.1:{port}"],
                         stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    procs.append(p)
    url = f"http://127.0.0.1:{port}/metrics"
    deadline = time.time() + wait_s
    while time.time() < deadline:
        if p.poll() is not None:
            raise RuntimeError(f"sextant-exporter exited: {open(log_path).read()[-2000:]}")
        try:
            scrape(url, timeout=1)
            return url
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"sextant-exporter did not answer: {open(log_path).read()[-2000:]}")


SOURCE_DIR = Path(__file__).resolve().parents[3]


def _inline_refs(node, schemas):
    """Replaces a {"$ref": "other.schema.json"} by that schema (an embedded resource, its own
    $id), so that one Draft 2020-12 validator of any python3-jsonschema version checks it."""
    if isinstance(node, dict):
        ref = node.get("$ref", "")
        if ref in schemas:
            return _inline_refs(schemas[ref], schemas)
        return {k: _inline_refs(v, schemas) for k, v in node.items()}
    if isinstance(node, list):
        return [_inline_refs(v, schemas) for v in node]
    return node


def schema_validators():
    """A validator per sextantctl read command, from docs/schema/ (dump refers to health's
    schema), keyed by the file name without .schema.json. Debian's python3-jsonschema."""
    import json
    import jsonschema
    schemas = {p.name: json.loads(p.read_text())
               for p in (SOURCE_DIR / "docs" / "schema").glob("*.schema.json")}
    out = {}
    for name, schema in schemas.items():
        jsonschema.Draft202012Validator.check_schema(schema)
        out[name.removesuffix(".schema.json")] = jsonschema.Draft202012Validator(
            _inline_refs(schema, schemas))
    return out


def schema_errors(validator, doc):
    """'' when `doc` is valid, else every error with its path."""
    return "; ".join(f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(doc))


def free_port(addr="127.0.0.1"):
    """A port free for both UDP and TCP on `addr` (a DNS backend needs both)."""
    import socket
    for _ in range(50):
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t.bind((addr, 0))
        port = t.getsockname()[1]
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind((addr, port))
        except OSError:
            t.close()
            continue
        t.close()
        u.close()
        return port
    raise RuntimeError("no free port")


def reserve_hugepages(pages=512):
    """At least `pages` 2 MiB hugepages and a hugetlbfs mount, as an operator would set up."""
    nr = Path("/proc/sys/vm/nr_hugepages")
    if int(nr.read_text()) < pages:
        nr.write_text(str(pages))
    if "hugetlbfs" not in Path("/proc/mounts").read_text():
        Path("/dev/hugepages").mkdir(exist_ok=True)
        run("mount -t hugetlbfs nodev /dev/hugepages")


class Lab:
    """One lab: namespace + wire + sextant processes. Use as a context manager."""

    def __init__(self, control, dataplane, workdir, pmd="af_packet", tag=None,
                 extra_addresses=()):
        self.control = control
        self.dataplane = dataplane
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.pmd = pmd
        tag = tag or str(os.getpid() % 100000)
        self.tag = tag
        self.ns = f"sxns{tag}"
        self.host_if = f"sxd{tag}"     # DPDK side (af_packet) / tap name (net_tap)
        self.client_if = f"sxc{tag}"   # client side in the namespace (af_packet)
        self.exc_if = f"sxe{tag}"      # the exception tap
        self.instance = f"sxlab{tag}"
        self.file_prefix = f"sxlab{tag}"
        self.extra_addresses = list(extra_addresses)
        self.proc = None
        self.log_path = self.workdir / f"dataplane-{pmd}.log"
        self.config_path = self.workdir / "sextant.yaml"

    # --- setup -------------------------------------------------------------------------------
    def write_config(self, zones, server="", extra=""):
        """zones: list of (origin, zone_text)."""
        lines = [f"instance: {self.instance}", "zones:"]
        for origin, text in zones:
            path = self.workdir / f"{origin.rstrip('.')}.zone"
            path.write_text(text)
            lines.append(f"  - origin: {origin}\n    file: {path}")
        if server:
            lines.append("server:\n" + server)
        addrs = [f'"{APPLIANCE_V4}"', f'"{APPLIANCE_V6}"'] + self.extra_addresses
        lines.append("dataplane:\n  addresses: [" + ", ".join(addrs) + "]\n"
                     f"  exception_interface: {self.exc_if}")
        if extra:
            lines.append(extra)
        self.config_path.write_text("\n".join(lines) + "\n")

    def publish(self):
        r = run([self.control, "--once", "--config", str(self.config_path)], check=False)
        if r.returncode != 0:
            raise RuntimeError(f"sextant-control failed: {r.stderr.strip()}")
        return r.stdout

    # --- the control daemon (sextant-control without --once) ---------------------------------
    def control_section(self, reload_delay="50ms", metrics=False):
        """A `control:` config section keeping the socket and state file in the workdir; with
        metrics, /metrics on a free loopback port (self.metrics_url)."""
        self.socket_path = self.workdir / "control.sock"
        self.state_path = self.workdir / "control.state"
        # Each lab starts from a clean slate: a state file from an earlier run would bring back
        # its overrides (which is what it is for, but not what a fresh test wants).
        self.state_path.unlink(missing_ok=True)
        text = (f"control:\n  socket: {self.socket_path}\n  state_file: {self.state_path}\n"
                f"  reload_delay: {reload_delay}\n")
        if metrics:
            port = free_port()
            self.metrics_url = f"http://127.0.0.1:{port}/metrics"
            text += f"  metrics: 127.0.0.1:{port}\n"
        return text

    def metrics(self):
        """Scrapes control's /metrics: {'name{labels}': value}."""
        return scrape_metrics(self.metrics_url)

    def start_exporter(self):
        """Starts sextant-exporter for the lab's instance (stopped with the lab)."""
        self.exporter_procs = getattr(self, "exporter_procs", [])
        self.exporter_url = start_exporter(self.control, self.instance,
                                           self.workdir / "exporter.log", self.exporter_procs)
        return self.exporter_url

    def exporter_metrics(self):
        """Scrapes sextant-exporter's /metrics (the dataplane's families)."""
        return parse_metrics(scrape(self.exporter_url))

    def start_control(self, wait_s=20, wrapper=()):
        """Starts the daemon on the lab config; returns once it has published. wrapper: a
        command prefix (setpriv ... to run it as another user)."""
        self.control_log_path = self.workdir / "control.log"
        first = getattr(self, "control_started", False) is False
        self.control_started = True
        self.control_log = open(self.control_log_path, "w" if first else "a")
        mark = self.control_log_path.stat().st_size
        self.control_proc = subprocess.Popen([*wrapper, self.control, "--config",
                                              str(self.config_path)],
                                             stdout=self.control_log, stderr=subprocess.STDOUT)
        deadline = time.time() + wait_s
        while time.time() < deadline:
            text = self.control_log_path.read_text()[mark:]
            if self.control_proc.poll() is not None:
                raise RuntimeError(f"sextant-control exited: {text}")
            if "serving generation" in text:
                return self
            time.sleep(0.05)
        raise RuntimeError(f"sextant-control did not start: {self.control_log_path.read_text()}")

    def stop_control(self):
        p = getattr(self, "control_proc", None)
        if p is None:
            return None
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.control_log.close()
        self.control_proc = None
        return p.returncode

    def control_log_text(self):
        return self.control_log_path.read_text()

    def generation(self):
        """The control block's active generation (offset 16 of /dev/shm/<instance>.ctl)."""
        import struct
        with open(f"/dev/shm/{self.instance}.ctl", "rb") as f:
            return struct.unpack("<Q", f.read(24)[16:24])[0]

    def make_wire(self):
        """The namespace and (af_packet) the veth pair, without starting anything: for a test
        that prepares the wire before start(make_wire=False). A new wire starts a new log: the
        first start on it must not append to an earlier run's."""
        self.log_path.unlink(missing_ok=True)
        self._make_wire()

    def _make_wire(self):
        run(f"ip netns add {self.ns}")
        run(f"ip -n {self.ns} link set lo up")
        if self.pmd == "af_packet":
            run(f"ip link add {self.host_if} type veth peer name {self.client_if}")
            run(f"ip link set {self.client_if} netns {self.ns}")
            run(f"ip link set {self.host_if} up")
            self._client_addresses(self.client_if)

    def _client_addresses(self, ifname):
        run(f"ip -n {self.ns} addr add {CLIENT_V4}/24 dev {ifname}")
        run(f"ip -n {self.ns} -6 addr add {CLIENT_V6}/64 dev {ifname} nodad")
        run(f"ip -n {self.ns} link set {ifname} up")
        # veth hands frames to af_packet with checksums still to be filled in ("offloaded"):
        # compute them in the client, as a real NIC would have on the wire.
        run(f"ip netns exec {self.ns} ethtool -K {ifname} tx off", check=False)
        self.client_ifname = ifname

    def start(self, wait_s=20, lcores=("-l", "0-1"), vdev_args="", hugepages=False,
              make_wire=True, env=None, wrapper=(), idle_sleep_us=LAB_IDLE_SLEEP_US):
        """lcores: EAL lcore arguments; vdev_args: extra devargs for the data port
        (e.g. ",qpairs=2" for two af_packet queue pairs); hugepages: reserve 2 MiB pages and
        run on them instead of --no-huge; make_wire=False restarts on the existing wire (or on
        one made with make_wire()); env: the dataplane's environment (default: ours);
        wrapper: a command prefix (setpriv ... to run it with fewer capabilities);
        idle_sleep_us: --idle-sleep-us (0: busy-poll)."""
        if make_wire:
            self._make_wire()
        vdev = (f"net_af_packet0,iface={self.host_if}" if self.pmd == "af_packet"
                else f"net_tap0,iface={self.host_if}") + vdev_args
        if hugepages:
            reserve_hugepages()
        memory = [] if hugepages else ["--no-huge", "-m", "512"]
        cmd = [*wrapper, self.dataplane, *lcores, *memory, "--no-pci",
               f"--vdev={vdev}", f"--file-prefix={self.file_prefix}", "--",
               "--instance", self.instance, "--idle-sleep-us", str(idle_sleep_us)]
        self.log = open(self.log_path, "w" if make_wire else "a")
        mark = self.log_path.stat().st_size
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, text=True,
                                     env=env)
        deadline = time.time() + wait_s
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"sextant-dataplane exited: {self.log_path.read_text()}")
            if "serving generation" in self.log_path.read_text()[mark:]:
                break
            time.sleep(0.1)
        else:
            raise RuntimeError(f"sextant-dataplane did not start: {self.log_path.read_text()}")
        if self.pmd == "tap" and make_wire:
            # The kernel end of the data tap becomes the client's interface.
            run(f"ip link set {self.host_if} netns {self.ns}")
            self._client_addresses(self.host_if)
        time.sleep(0.3)
        return self

    # --- use ---------------------------------------------------------------------------------
    def ns_run(self, cmd, check=False, timeout=60):
        if isinstance(cmd, str):
            cmd = f"ip netns exec {self.ns} {cmd}"
        else:
            cmd = ["ip", "netns", "exec", self.ns] + cmd
        return run(cmd, check=check, timeout=timeout)

    def dig(self, *args, server=APPLIANCE_V4):
        r = self.ns_run(["dig", f"@{server}", "+time=2", "+tries=2", "+norec", *args])
        return r.stdout

    def cpu_seconds(self):
        """CPU time (user + system) the dataplane process has used so far, from /proc."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def lcore_counters(self):
        """Per-lcore (rx, tx, queries) from the control block (maps/control_block.h layout:
        64-byte header, 65536 health words, then 128 LcoreCounters of 320 bytes)."""
        import struct
        data = Path(f"/dev/shm/{self.instance}.ctl").read_bytes()
        base = 64 + 65536 * 4
        return [struct.unpack_from("<QQQ", data, base + i * 320) for i in range(128)]

    DROP_REASONS = ("malformed", "response", "no_snapshot", "not_ours", "tx_full", "other")

    def drop_counters(self):
        """The dataplane's drops by reason and the frames it handed to the exception path, summed
        over the lcores: {'malformed': n, ..., 'exception': n} (maps/control_block.h: dropped[8]
        at offset 152 of each LcoreCounters, exception_packets at 216)."""
        import struct
        data = Path(f"/dev/shm/{self.instance}.ctl").read_bytes()
        base = 64 + 65536 * 4
        out = dict.fromkeys(self.DROP_REASONS + ("exception",), 0)
        for i in range(128):
            at = base + i * 320
            for r, v in zip(self.DROP_REASONS, struct.unpack_from("<6Q", data, at + 152)):
                out[r] += v
            out["exception"] += struct.unpack_from("<Q", data, at + 216)[0]
        return out

    def enter_namespace(self):
        """Moves this (single-threaded) process into the lab's namespace, so that its sockets are
        the client's (threads and processes it starts then are there too); returns a function
        that moves it back, whose `home` attribute names the namespace it came from."""
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        clone_newnet = 0x40000000
        home = os.open("/proc/self/ns/net", os.O_RDONLY)
        target = os.open(f"/run/netns/{self.ns}", os.O_RDONLY)
        try:
            if libc.setns(target, clone_newnet) != 0:
                raise OSError(ctypes.get_errno(), "setns into the lab namespace")
        finally:
            os.close(target)

        def leave():
            try:
                if libc.setns(home, clone_newnet) != 0:
                    raise OSError(ctypes.get_errno(), "setns back")
            finally:
                os.close(home)
        # For commands that must run where we came from: nsenter --net=<leave.home>.
        leave.home = f"/proc/{os.getpid()}/fd/{home}"
        return leave

    def appliance_mac(self):
        out = self.ns_run(["ip", "neigh", "show", APPLIANCE_V4]).stdout
        m = re.search(r"lladdr ([0-9a-f:]{17})", out)
        return m.group(1) if m else None

    def stop(self):
        """SIGTERM the dataplane; returns its exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        rc = self.proc.returncode
        self.proc = None
        return rc

    def cleanup(self):
        self.stop()
        self.stop_control()
        stop_processes(getattr(self, "exporter_procs", []))
        run(f"ip netns del {self.ns}", check=False)
        run(f"ip link del {self.host_if}", check=False)
        for p in Path("/dev/shm").glob(f"{self.instance}.*"):
            p.unlink(missing_ok=True)
        shutil.rmtree(f"/var/run/dpdk/{self.file_prefix}", ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cleanup()
