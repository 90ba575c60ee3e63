#!/usr/bin/env bash
# Builds the Debian package of Sextant: the two daemons and sextantctl without tests or perf tools
# (so neither GoogleTest nor Google Benchmark is needed), installed under /usr with the units,
# the example configuration and the sysusers/tmpfiles snippets (cmake/install.cmake), then checks
# it with lintian. Prints the .deb's path on the last line.
#   scripts/package.sh [BUILD_DIR]   (default build-package)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-package}
bash scripts/install-deps.sh >/dev/null
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
  -DSEXTANT_BUILD_TESTS=OFF -DSEXTANT_BUILD_PERF=OFF >/dev/null
ninja -C "$build" -j"$(nproc)"
rm -f "$build"/sextant_*.deb
(cd "$build" && cpack -G DEB >/dev/null)
deb=$(ls "$build"/sextant_*.deb)
# Tags that remain are listed, each with its reason, in packaging/lintian-suppressed.
lintian --fail-on error,warning --suppress-tags-from-file packaging/lintian-suppressed "$deb" >&2
echo "$(realpath "$deb")"
