#!/usr/bin/env bash
# Builds the Debian package of Sextant: the two daemons and sextantctl without tests or perf tools
# (so neither GoogleTest nor Google Benchmark is needed), installed under /usr with the units,
# the example configuration and the sysusers/tmpfiles snippets (cmake/install.cmake), then checks
# it with lintian. Prints the .deb's path on the last line.
#   scripts/package.sh [BUILD_DIR]   (default build-package)
# PACKAGE_FROM=DIR instead packages what DIR, a tree configured with -DCMAKE_INSTALL_PREFIX=/usr
# (as scripts/test.sh configures its build), has built: the test suite's package_test then
# compiles nothing a second time. Only the installed files differ from a Release tree's: that
# tree's optimisation (-O2), stripped, instead of -O3.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh >/dev/null
if [[ -n ${PACKAGE_FROM:-} ]]; then
  build=$PACKAGE_FROM
  if ! grep -qx 'CMAKE_INSTALL_PREFIX:PATH=/usr' "$build/CMakeCache.txt" 2>/dev/null; then
    echo "PACKAGE_FROM=$build: not a build tree configured with -DCMAKE_INSTALL_PREFIX=/usr" >&2
    exit 2
  fi
else
  build=${1:-build-package}
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
    -DSEXTANT_BUILD_TESTS=OFF -DSEXTANT_BUILD_PERF=OFF >/dev/null
fi
ninja -C "$build" -j"$(nproc)" sextant-control sextant-dataplane sextant-exporter sextantctl
rm -f "$build"/sextant_*.deb
(cd "$build" && cpack -G DEB >/dev/null)
deb=$(ls "$build"/sextant_*.deb)
# Tags that remain are listed, each with its reason, in packaging/lintian-suppressed.
lintian --fail-on error,warning --suppress-tags-from-file packaging/lintian-suppressed "$deb" >&2
echo "$(realpath "$deb")"
