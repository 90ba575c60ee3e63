#!/usr/bin/env bash
# Sourced by the perf scripts that write a Sextant config (e2e_pcap.sh, compare.sh):
#   rate_limit_off CONTROL_BINARY   prints "rate_limit: {enabled: false}" when that
#                                   sextant-control's config knows the key, nothing otherwise
# A benchmark floods from few client prefixes on purpose, so response rate limiting (on by
# default where the build has it) would measure the limiter's drops, not the server. The key is
# known when `--check` accepts an otherwise valid config holding it; a build that knows the key
# but refuses this value gets a warning on stderr (its rows may then be rate limited).
rate_limit_off() {
  local probe check
  probe=$(mktemp -d /tmp/sxperf-probe.XXXXXX)
  # shellcheck disable=SC2016 # $ORIGIN is the zone file's, not the shell's
  printf '%s\n' '$ORIGIN probe.test.' '@ 300 IN SOA ns h 1 3600 600 86400 60' '@ 300 IN NS ns' \
    'ns 300 IN A 127.0.0.1' >"$probe/probe.test.zone"
  printf '%s\n' 'instance: sxperfprobe' 'zones: [{origin: probe.test., file: probe.test.zone}]' \
    'rate_limit: {enabled: false}' >"$probe/c.yaml"
  if check=$("$1" --check --config "$probe/c.yaml" 2>&1); then
    echo 'rate_limit: {enabled: false}'
  elif [[ $check != *"unknown key 'rate_limit'"* ]]; then
    echo "perf: WARNING: $1 refuses 'rate_limit: {enabled: false}' but knows the key, so" \
      "Sextant may be rate limited here: $check" >&2
  fi
  rm -rf "$probe"
}
