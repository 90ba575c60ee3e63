#!/usr/bin/env python3
"""The house's arrows, checked (ARCHITECTURE.md): control -> maps <- dataplane, never maps ->
control|dataplane, never dataplane -> control; the engine library (dataplane/engine/) uses only
maps/ and itself; the control plane includes the engine's public headers only, only in its CLI.
And sextant-dataplane links none of the control plane's parsers and clients.

Usage: check_layout.py --source ROOT [--dataplane-binary PATH] | --self-test. Prints each violation with its
file and line and exits 1 when there is one."""
import argparse
import re
import subprocess
import sys
from pathlib import Path

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
ENGINE_PUBLIC = {"dataplane/engine/engine.h", "dataplane/engine/trace.h"}
# Libraries of the control plane that the dataplane must not link (sonames as ldd/readelf show).
FORBIDDEN_LIBS = ["yaml-cpp", "ldns", "curl", "httplib", "maxminddb"]


def rule_for(path: str, target: str):
    """The broken rule, or None."""
    top = target.split("/", 1)[0]
    if path.startswith("maps/") and top in ("control", "dataplane"):
        return "maps/ is the contract: it includes nothing of control/ or dataplane/"
    if path.startswith("dataplane/") and top == "control":
        return "dataplane/ never includes control/ (settings come through shared memory)"
    if path.startswith("dataplane/engine/") and top == "dataplane" and \
            not target.startswith("dataplane/engine/"):
        return "the engine library uses only maps/ and dataplane/engine/"
    if path.startswith("control/") and top == "dataplane":
        if not path.startswith("control/cli/"):
            return "only control/cli/ may use the engine library"
        if target not in ENGINE_PUBLIC:
            return "control/cli/ includes only the engine's public headers " + \
                   ", ".join(sorted(ENGINE_PUBLIC))
    return None


def check_includes(root: Path):
    bad = []
    for folder in ("maps", "control", "dataplane"):
        for f in sorted((root / folder).rglob("*")):
            if f.suffix not in (".h", ".cc"):
                continue
            rel = f.relative_to(root).as_posix()
            for n, line in enumerate(f.read_text(errors="replace").splitlines(), 1):
                m = INCLUDE.match(line)
                if not m:
                    continue
                why = rule_for(rel, m.group(1))
                if why:
                    bad.append(f"{rel}:{n}: includes {m.group(1)}: {why}")
    return bad


def check_links(binary: str):
    out = subprocess.run(["readelf", "-d", binary], capture_output=True, text=True, check=True)
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out.stdout)
    if not needed:
        return [f"{binary}: readelf shows no NEEDED entries (not a dynamic executable?)"]
    return [f"{binary} links {lib}: the dataplane must not link the control plane's {name}"
            for lib in needed for name in FORBIDDEN_LIBS if name in lib]


# (file, include, whether it breaks a rule): the rules themselves, checked with --self-test.
RULE_CASES = [
    ("maps/snapshot_reader.cc", "control/config/config.h", True),
    ("maps/name_table.h", "dataplane/engine/engine.h", True),
    ("maps/snapshot_reader.cc", "maps/dns/wire.h", False),
    ("dataplane/dpdk/dpdk_main.cc", "control/config/config.h", True),
    ("dataplane/engine/engine.cc", "dataplane/packet_path.h", True),
    ("dataplane/engine/engine.cc", "dataplane/engine/responder.h", False),
    ("dataplane/packet_path.cc", "dataplane/engine/engine.h", False),
    ("control/daemon/daemon.cc", "dataplane/engine/engine.h", True),
    ("control/cli/explain.cc", "dataplane/engine/engine.h", False),
    ("control/cli/explain.cc", "dataplane/engine/trace.h", False),
    ("control/cli/explain.cc", "dataplane/engine/responder.h", True),
    ("control/compile/snapshot_builder.cc", "maps/snapshot_writer.h", False),
]


def self_test():
    wrong = [c for c in RULE_CASES if (rule_for(c[0], c[1]) is not None) != c[2]]
    for path, target, want in wrong:
        print(f"rule table: {path} -> {target} should {'break' if want else 'keep'} the rules")
    return 1 if wrong else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source")
    ap.add_argument("--dataplane-binary")
    ap.add_argument("--self-test", action="store_true")
    args = ap.parse_args()
    if args.self_test:
        return self_test()
    if not args.source:
        ap.error("--source is required")
    bad = check_includes(Path(args.source))
    if args.dataplane_binary:
        bad += check_links(args.dataplane_binary)
    for b in bad:
        print(b)
    print(f"{len(bad)} violation(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
