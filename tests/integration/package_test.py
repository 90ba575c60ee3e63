#!/usr/bin/python3
"""The Debian package, installed and run as its systemd units say (issue 13), through the real
path: scripts/package.sh builds the .deb (without tests or perf tools) and passes lintian;
`dpkg -i` installs it (the sextant user, its directories, the conffiles); `systemd-analyze
verify` accepts both units; then, since PID 1 here need not be systemd, the units' own
ExecStartPre/ExecStart lines are run by hand, with the units' User= and capabilities (setpriv),
the dataplane's EnvironmentFile, and a $NOTIFY_SOCKET the test listens on, inside a network
namespace of the test's own (its loopback: port 53 and the metrics port are free there).

Checked: every binary's --version; READY=1 arrives only once the first snapshot is published;
the installed example config answers `dig @127.0.0.1 www.example.test` through the dataplane
running as sextant with only CAP_NET_BIND_SERVICE; the control block and /var/lib/sextant
belong to sextant with their modes; the control socket is 0660 (group sextant may steer); the
dataplane survives SIGHUP; control's SIGHUP is a reload (RELOADING=1, then READY=1); `dpkg
--purge` removes the package and its state.

Prints 'N passed, M failed'."""
import os
import pwd
import re
import shlex
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE / "lib"))
from lab import Results, integration_args, run  # noqa: E402

NETNS = f"sxpkg{os.getpid()}"
UNITS = Path("/lib/systemd/system")
SHM = ["/dev/shm/sextant.ctl", "/dev/shm/sextant.lock", "/dev/shm/sextant.targets"]


def unit_settings(path):
    """[Service] (and other sections') settings of a unit file: key -> list of values."""
    out = {}
    for line in Path(path).read_text().splitlines():
        line = line.strip()
        if not line or line[0] in "#;[":
            continue
        key, _, value = line.partition("=")
        out.setdefault(key.strip(), []).append(value.strip())
    return out


def environment_file(path):
    env = {}
    for line in Path(path).read_text().splitlines():
        m = re.match(r'^([A-Z_]+)="?(.*?)"?$', line.strip())
        if m and not line.startswith("#"):
            env[m.group(1)] = m.group(2)
    return env


def expand(cmdline, env):
    """systemd's $VAR (word-split) expansion of an Exec line."""
    words = []
    for w in shlex.split(cmdline):
        m = re.fullmatch(r"\$([A-Z_]+)", w)
        words += shlex.split(env.get(m.group(1), "")) if m else [w]
    return words


def as_unit_user(unit, cmd):
    """`cmd` as the unit's User=/Group= with its AmbientCapabilities= (and a bounding set to
    match), as systemd would start it."""
    s = unit_settings(unit)
    user = s["User"][-1]
    caps = " ".join(s.get("AmbientCapabilities", [""])).split()
    capset = ",".join("+" + c.lower().removeprefix("cap_") for c in caps)
    pre = ["setpriv", f"--reuid={user}", f"--regid={s['Group'][-1]}", "--init-groups",
           "--no-new-privs"]
    if capset:
        pre += [f"--inh-caps=-all,{capset}", f"--ambient-caps=-all,{capset}",
                f"--bounding-set=-all,{capset}"]
    else:
        pre += ["--inh-caps=-all", "--bounding-set=-all"]
    return ["ip", "netns", "exec", NETNS] + pre + cmd


class NotifySocket:
    """A $NOTIFY_SOCKET like systemd's: datagrams of KEY=VALUE lines."""

    def __init__(self, path):
        self.path = path
        if os.path.exists(path):
            os.unlink(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        os.chmod(path, 0o777)  # the daemon runs as sextant
        self.messages = []

    def wait_for(self, key, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            self.sock.settimeout(max(0.05, deadline - time.time()))
            try:
                data = self.sock.recv(4096).decode()
            except socket.timeout:
                break
            self.messages.append(data)
            if key in data.splitlines():
                return data
        return None


def shm_snapshots():
    return sorted(p for p in os.listdir("/dev/shm") if p.startswith("sextant.snap."))


def clean_shm():
    for p in SHM + ["/dev/shm/" + s for s in shm_snapshots()]:
        if os.path.exists(p):
            os.unlink(p)


def build_and_install(args, res):
    # The suite's own build when it is configured for /usr (scripts/test.sh does so): packaged
    # as it is, nothing compiled twice. Otherwise package.sh's Release tree of its own.
    tree = Path(args.sextant_control).resolve().parent.parent
    env = dict(os.environ)
    cache = tree / "CMakeCache.txt"
    if cache.exists() and "CMAKE_INSTALL_PREFIX:PATH=/usr\n" in cache.read_text():
        env["PACKAGE_FROM"] = str(tree)
        print(f"     packaging the test build {tree}")
    else:
        print("     building a Release tree to package (the test build is not configured for /usr)")
    r = run(["bash", str(ROOT / "scripts/package.sh"), str(Path(args.workdir) / "build-package")],
            check=False, timeout=1800, env=env)
    deb = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else ""
    res.check("scripts/package.sh builds the package and lintian passes",
              r.returncode == 0 and deb.endswith(".deb"), r.stderr[-3000:])
    if not deb.endswith(".deb"):
        return None
    info = run(["dpkg-deb", "--info", deb], check=False).stdout
    contents = run(["dpkg-deb", "--contents", deb], check=False).stdout
    res.check("the package holds the daemons, sextantctl, units, sysusers/tmpfiles, conffiles, "
              "the man pages, sextantctl's bash completion and JSON Schemas",
              all(f in contents for f in (
                  "./usr/sbin/sextant-control", "./usr/sbin/sextant-dataplane",
                  "./usr/sbin/sextant-exporter",
                  "./usr/bin/sextantctl", "./lib/systemd/system/sextant-control.service",
                  "./lib/systemd/system/sextant-dataplane.service",
                  "./lib/systemd/system/sextant-exporter.service",
                  "./etc/default/sextant-exporter",
                  "./usr/share/man/man8/sextant-exporter.8.gz",
                  "./usr/share/doc/sextant/examples/sextant.json",
                  "./usr/share/doc/sextant/examples/sextant-alerts.yml",
                  "./usr/lib/sysusers.d/sextant.conf", "./usr/lib/tmpfiles.d/sextant.conf",
                  "./etc/sextant/sextant.yaml", "./etc/default/sextant-dataplane",
                  "./usr/share/man/man5/sextant.yaml.5.gz",
                  "./usr/share/man/man8/sextant-control.8.gz",
                  "./usr/share/man/man8/sextant-dataplane.8.gz",
                  "./usr/share/man/man8/sextantctl.8.gz",
                  "./usr/share/bash-completion/completions/sextantctl",
                  "./usr/share/doc/sextant/schema/health.schema.json")) and
              "gtest" not in info and "benchmark" not in info, contents + info)
    run(["dpkg", "--purge", "sextant"], check=False)
    r = run(["dpkg", "-i", deb], check=False, timeout=300)
    res.check("dpkg -i installs it", r.returncode == 0, r.stdout + r.stderr)
    return deb


def installed_files(res):
    try:
        pw = pwd.getpwnam("sextant")
    except KeyError:
        res.check("postinst created the sextant user", False, "no user sextant")
        return
    res.check("postinst created the sextant system user (no login shell)",
              pw.pw_uid < 1000 and pw.pw_shell.endswith("nologin"), str(pw))
    st = os.stat("/var/lib/sextant")
    res.check("/var/lib/sextant belongs to sextant, 0750",
              st.st_uid == pw.pw_uid and stat.S_IMODE(st.st_mode) == 0o750, oct(st.st_mode))
    st = os.stat("/etc/sextant/sextant.yaml")
    res.check("/etc/sextant/sextant.yaml is root:sextant 0640",
              st.st_uid == 0 and st.st_gid == pw.pw_gid and stat.S_IMODE(st.st_mode) == 0o640,
              f"{st.st_uid}:{st.st_gid} {oct(st.st_mode)}")
    r = run(["dpkg-query", "--showformat=${Conffiles}", "--show", "sextant"], check=False)
    res.check("the config and the dataplane's defaults are conffiles",
              "/etc/sextant/sextant.yaml" in r.stdout and
              "/etc/default/sextant-dataplane" in r.stdout and
              "/etc/default/sextant-exporter" in r.stdout, r.stdout)
    for b in ("/usr/sbin/sextant-control", "/usr/sbin/sextant-dataplane",
              "/usr/sbin/sextant-exporter", "/usr/bin/sextantctl"):
        r = run([b, "--version"], check=False)
        res.check(f"{os.path.basename(b)} --version names version, revision and both ABIs",
                  r.returncode == 0 and re.search(
                      r"^\S+ \d+\.\d+\.\d+ \(git [0-9a-f]+(-dirty)?\), snapshot ABI \d+, "
                      r"control block ABI \d+$", r.stdout.strip()), r.stdout + r.stderr)
    r = run(["systemd-analyze", "verify", str(UNITS / "sextant-control.service"),
             str(UNITS / "sextant-dataplane.service"), str(UNITS / "sextant-exporter.service")],
            check=False, timeout=120)
    res.check("systemd-analyze verify accepts the three units",
              r.returncode == 0 and "sextant" not in r.stderr, r.stdout + r.stderr)


def scrape_exporter():
    """sextant-exporter's /metrics at the address /etc/default/sextant-exporter names."""
    listen = re.search(r"--listen (\S+)",
                       environment_file("/etc/default/sextant-exporter")["SEXTANT_EXPORTER_ARGS"])
    r = run(["ip", "netns", "exec", NETNS, "curl", "-s", "--max-time", "5",
             f"http://{listen.group(1)}/metrics"], check=False)
    return r.stdout


def start_exporter_unit(work, procs):
    """sextant-exporter.service's ExecStart as its User=; None when it never answers."""
    unit = UNITS / "sextant-exporter.service"
    s = unit_settings(unit)
    env = environment_file("/etc/default/sextant-exporter")
    log = open(work / "exporter.log", "w")
    p = subprocess.Popen(as_unit_user(unit, expand(s["ExecStart"][0], env)), stdout=log,
                         stderr=subprocess.STDOUT)
    procs.append(p)
    for _ in range(100):
        if "sextant_queries_total" in scrape_exporter():
            return p
        time.sleep(0.1)
    return None


def serve(args, res):
    work = Path(args.workdir)
    control_unit = UNITS / "sextant-control.service"
    dp_unit = UNITS / "sextant-dataplane.service"
    cs, ds = unit_settings(control_unit), unit_settings(dp_unit)
    res.check("control: Type=notify, --check before start, SIGHUP reload, restart on failure, "
              "User=sextant", cs["Type"] == ["notify"] and "--check" in cs["ExecStartPre"][0]
              and "-HUP" in cs["ExecReload"][0] and cs["Restart"] == ["on-failure"] and
              cs["User"] == ["sextant"] and "RemoveIPC" not in cs and "DynamicUser" not in cs, cs)
    res.check("dataplane: Wants/After control, --wait", "sextant-control.service" in
              " ".join(ds["Wants"]) and "sextant-control.service" in " ".join(ds["After"]) and
              "--wait" in environment_file("/etc/default/sextant-dataplane")
              ["SEXTANT_DATAPLANE_ARGS"], ds)
    notify = NotifySocket(str(work / "notify.sock"))
    env = dict(os.environ, NOTIFY_SOCKET=notify.path)
    run(["systemd-tmpfiles", "--create", "sextant.conf"], check=False)
    procs = []
    try:
        r = run(as_unit_user(control_unit, expand(cs["ExecStartPre"][0], {})), check=False)
        res.check("ExecStartPre (--check) passes on the installed config as sextant",
                  r.returncode == 0 and "is valid" in r.stdout, r.stdout + r.stderr)
        clog = open(work / "control.log", "w")
        control = subprocess.Popen(as_unit_user(control_unit, expand(cs["ExecStart"][0], {})),
                                   stdout=clog, stderr=subprocess.STDOUT, env=env)
        procs.append(control)
        ready = notify.wait_for("READY=1", 60)
        snaps = shm_snapshots()
        res.check("READY=1 only after the first snapshot is published",
                  ready is not None and snaps != [] and "serving generation 1" in ready,
                  f"{notify.messages} {snaps}")
        dp_env = environment_file("/etc/default/sextant-dataplane")
        dlog = open(work / "dataplane.log", "w")
        dataplane = subprocess.Popen(as_unit_user(dp_unit, expand(ds["ExecStart"][0], dp_env)),
                                     stdout=dlog, stderr=subprocess.STDOUT)
        procs.append(dataplane)
        # Until it listens: dig +short prints ";; communications error ... connection refused"
        # on stdout while it starts (slowly on a loaded machine), which is not an answer.
        answer = []
        deadline = time.time() + 30
        while time.time() < deadline:
            r = run(["ip", "netns", "exec", NETNS, "dig", "+short", "+time=1", "+tries=1",
                     "@127.0.0.1", "www.example.test", "A"], check=False)
            answer = sorted(w for line in r.stdout.splitlines() if not line.startswith(";")
                            for w in line.split())
            if r.returncode == 0 and answer:
                break
            time.sleep(0.1)
        res.check("the installed example answers on 127.0.0.1:53 (dataplane as sextant, only "
                  "CAP_NET_BIND_SERVICE)", answer == ["198.18.1.10", "198.18.1.11"],
                  f"{answer} {(work / 'dataplane.log').read_text()}")
        pw = pwd.getpwnam("sextant")
        st = os.stat("/dev/shm/sextant.ctl")
        res.check("the control block belongs to sextant, 0600",
                  st.st_uid == pw.pw_uid and stat.S_IMODE(st.st_mode) == 0o600, oct(st.st_mode))
        snap = os.stat("/dev/shm/" + shm_snapshots()[-1])
        res.check("snapshots belong to sextant, 0640 (group sextant may read them)",
                  snap.st_uid == pw.pw_uid and stat.S_IMODE(snap.st_mode) == 0o640,
                  oct(snap.st_mode))
        sock = os.stat("/run/sextant/sextant.sock")
        res.check("the control socket is sextant's, 0660",
                  sock.st_uid == pw.pw_uid and stat.S_IMODE(sock.st_mode) == 0o660,
                  oct(sock.st_mode))
        r = run(["ip", "netns", "exec", NETNS, "sextantctl", "--instance", "sextant", "status"],
                check=False)
        res.check("sextantctl status finds the daemon and the attached dataplane",
                  r.returncode == 0 and re.search(r"^dataplanes\s+1 attached", r.stdout, re.M),
                  r.stdout + r.stderr)
        exporter = start_exporter_unit(work, procs)
        dataplane.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        r = run(["ip", "netns", "exec", NETNS, "dig", "+short", "+time=1", "+tries=2",
                 "@127.0.0.1", "www.example.test", "A"], check=False)
        res.check("the dataplane survives SIGHUP and keeps answering",
                  dataplane.poll() is None and r.stdout.split() != [], r.stdout)
        notify.messages.clear()
        control.send_signal(signal.SIGHUP)
        reloading = notify.wait_for("RELOADING=1", 20)
        again = notify.wait_for("READY=1", 20)
        res.check("control's SIGHUP reloads: RELOADING=1, then READY=1",
                  reloading is not None and again is not None, str(notify.messages))
        control.send_signal(signal.SIGTERM)
        rc = control.wait(timeout=30)
        stopping = notify.wait_for("STOPPING=1", 5)
        res.check("control stops on SIGTERM with STOPPING=1, exit 0",
                  rc == 0 and stopping is not None,
                  f"{rc} {notify.messages}")
        r = run(["ip", "netns", "exec", NETNS, "dig", "+short", "+time=1", "+tries=2",
                 "@127.0.0.1", "www.example.test", "A"], check=False)
        res.check("the dataplane keeps answering with control stopped", r.stdout.split() != [],
                  r.stdout)
        if exporter is not None:
            m = scrape_exporter()
            res.check("sextant-exporter (as its unit runs it) serves the dataplane's counters "
                      "with control stopped", "sextant_queries_total" in m and
                      re.search(r"^sextant_dataplanes_attached 1$", m, re.M) is not None, m[-2000:])
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()


def main():
    args = integration_args()
    Path(args.workdir).mkdir(parents=True, exist_ok=True)
    res = Results()
    clean_shm()
    run(["ip", "netns", "add", NETNS])
    try:
        run(["ip", "netns", "exec", NETNS, "ip", "link", "set", "lo", "up"])
        if build_and_install(args, res):
            installed_files(res)
            serve(args, res)
            r = run(["dpkg", "--purge", "sextant"], check=False, timeout=300)
            left = [p for p in SHM if os.path.exists(p)] + shm_snapshots()
            res.check("dpkg --purge removes the package and its state (/var/lib/sextant, the "
                      "instance's shared memory and its target index)",
                      r.returncode == 0 and not os.path.exists("/usr/sbin/sextant-control") and
                      not os.path.exists("/var/lib/sextant") and not left,
                      f"left: {left} {r.stdout + r.stderr}")
    finally:
        run(["ip", "netns", "del", NETNS], check=False)
        run(["dpkg", "--purge", "sextant"], check=False, timeout=300)
        clean_shm()
    print(f"{res.passed} passed, {res.failed} failed")
    return 1 if res.failed else 0


if __name__ == "__main__":
    sys.exit(main())
