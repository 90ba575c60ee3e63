#!/usr/bin/python3
"""Least privilege (issue 13), through the real processes on the DPDK lab (net_af_packet on a
veth pair into a namespace of the test's own, the exception tap for TCP): sextant-control runs
as an unprivileged user (setpriv --reuid=nobody, no capabilities), sextant-dataplane in DPDK
mode with only the capabilities packaging/sextant-dataplane-dpdk.conf documents (its
CapabilityBoundingSet line, read from the file: what is documented is what is tested). The
quick-start queries still answer: A over UDP in the fast path, AAAA over IPv6, TCP through the
exception path; sextantctl reaches the daemon; the shared memory belongs to control's user with
the documented modes.

Prints 'N passed, M failed'."""
import os
import pwd
import re
import shutil
import stat
import tempfile
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE / "lib"))
from lab import APPLIANCE_V6, Lab, Results, integration_args, run  # noqa: E402

CAP_NUMBERS = {"CAP_DAC_OVERRIDE": 1, "CAP_NET_BIND_SERVICE": 10, "CAP_NET_ADMIN": 12,
               "CAP_NET_RAW": 13, "CAP_IPC_LOCK": 14, "CAP_SYS_RAWIO": 17, "CAP_SYS_ADMIN": 21,
               "CAP_SYS_RESOURCE": 24}

ZONE = """$ORIGIN example.test.
$TTL 300
@    3600 IN SOA ns1 hostmaster 1 7200 3600 1209600 300
     3600 IN NS  ns1
ns1  IN A    198.18.0.2
ns1  IN AAAA 2001:db8:18::2
www  IN A    198.18.1.10
www  IN A    198.18.1.11
"""


def documented_caps():
    text = (ROOT / "packaging/sextant-dataplane-dpdk.conf").read_text()
    m = re.search(r"^CapabilityBoundingSet=(.*)$", text, re.M)
    return m.group(1).split()


def cap_field(pid, field):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1], 16)
    return None


def cap_eff(pid):
    return cap_field(pid, "CapEff")


def main():
    args = integration_args()
    res = Results()
    caps = documented_caps()
    unknown = [c for c in caps if c not in CAP_NUMBERS]
    res.check("the DPDK drop-in names its capabilities", caps and not unknown, f"{caps}")
    nobody = pwd.getpwnam("nobody")
    work = Path(args.workdir)
    # Everything control (as nobody) reads or runs sits where nobody can reach it, whatever the
    # checkout's parents allow: a private directory under /tmp with a copy of the binary.
    home = Path(tempfile.mkdtemp(prefix="sxlp"))
    os.chmod(home, 0o755)
    control_bin = home / "sextant-control"
    shutil.copy2(args.sextant_control, control_bin)
    with Lab(str(control_bin), args.sextant_dataplane, home / "lab", tag="lp") as lab:
        os.chmod(lab.workdir, 0o755)
        priv = lab.workdir / "control"
        priv.mkdir(exist_ok=True)
        os.chown(priv, nobody.pw_uid, nobody.pw_gid)
        lab.write_config([("example.test.", ZONE)],
                         extra=f"control:\n  socket: {priv}/control.sock\n"
                               f"  state_file: {priv}/control.state\n")
        for f in lab.workdir.glob("*"):
            if f.is_file():
                os.chmod(f, 0o644)
        lab.start_control(wrapper=["setpriv", f"--reuid={nobody.pw_uid}",
                                   f"--regid={nobody.pw_gid}", "--clear-groups",
                                   "--no-new-privs", "--inh-caps=-all", "--bounding-set=-all"])
        res.check("control runs as nobody with no capabilities",
                  os.stat(f"/proc/{lab.control_proc.pid}").st_uid == nobody.pw_uid and
                  cap_eff(lab.control_proc.pid) == 0, str(cap_eff(lab.control_proc.pid)))
        capset = ",".join("+" + c.lower().removeprefix("cap_") for c in caps)
        lab.start(wrapper=["setpriv", f"--bounding-set=-all,{capset}", "--inh-caps=-all"])
        # A container's own bounding set may lack some (CAP_SYS_RESOURCE): the dataplane has the
        # documented ones this machine can give, and nothing else.
        want = sum(1 << CAP_NUMBERS[c] for c in caps) & cap_field("self", "CapBnd")
        got = cap_eff(lab.proc.pid)
        res.check("the DPDK dataplane runs with exactly the drop-in's capabilities",
                  got == want, f"CapEff {got:#x}, documented (and available) {want:#x}")
        out = lab.dig("www.example.test", "A", "+short")
        res.check("A over UDP (the fast path) answers", sorted(out.split()) ==
                  ["198.18.1.10", "198.18.1.11"], out)
        out = lab.dig("ns1.example.test", "AAAA", "+short", server=APPLIANCE_V6)
        res.check("AAAA over IPv6 answers", out.split() == ["2001:db8:18::2"], out)
        out = lab.dig("www.example.test", "A", "+short", "+tcp")
        res.check("TCP through the exception path answers (tap, netlink, sysctls with only "
                  "these capabilities)", sorted(out.split()) == ["198.18.1.10", "198.18.1.11"],
                  out + lab.log_path.read_text()[-800:])
        r = run([str(Path(args.sextant_control).resolve().parent / "sextantctl"), "--instance",
                 lab.instance, "status"], check=False)
        res.check("sextantctl status reaches control and sees the dataplane",
                  r.returncode == 0 and re.search(r"^dataplanes\s+1 attached", r.stdout, re.M),
                  r.stdout + r.stderr)
        ctl = os.stat(f"/dev/shm/{lab.instance}.ctl")
        snaps = sorted(Path("/dev/shm").glob(f"{lab.instance}.snap.*"))
        snap = os.stat(snaps[-1]) if snaps else None
        res.check("control block nobody's 0600, snapshots nobody's 0640",
                  ctl.st_uid == nobody.pw_uid and stat.S_IMODE(ctl.st_mode) == 0o600 and
                  snap is not None and snap.st_uid == nobody.pw_uid and
                  stat.S_IMODE(snap.st_mode) == 0o640,
                  f"{oct(ctl.st_mode)} {snap and oct(snap.st_mode)}")
        rc = lab.stop()
        res.check("the dataplane stops cleanly", rc == 0, lab.log_path.read_text()[-500:])
        res.check("control stops cleanly", lab.stop_control() == 0, lab.control_log_text())
        work.mkdir(parents=True, exist_ok=True)
        for log in lab.workdir.glob("*.log"):
            shutil.copy2(log, work / log.name)
    shutil.rmtree(home, ignore_errors=True)
    print(f"{res.passed} passed, {res.failed} failed")
    return 1 if res.failed else 0


if __name__ == "__main__":
    sys.exit(main())
