#!/bin/bash
# Sources sextantctl's bash completion and checks COMPREPLY for a few command lines against a
# running instance (sextantctl_contract_test.py runs it). Usage:
#   sextantctl_completion_check.sh COMPLETION_FILE SEXTANTCTL INSTANCE ZONE_ORIGIN
# Prints one line per case and exits 1 when any fails.
set -u
# shellcheck source=/dev/null
source "$1"
ctl=$2 instance=$3 zone=$4
failed=0

# expect "WORDS..." -- EXPECTED: completes the last word of WORDS (the command word is $ctl).
expect() {
    local -a words=()
    while [[ $1 != -- ]]; do words+=("$1"); shift; done
    shift
    COMP_WORDS=("$ctl" "${words[@]}")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMPREPLY=()
    _sextantctl
    local got
    got=$(printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//')
    if [[ $got == "$*" ]]; then
        echo "ok   [${words[*]}] -> $got"
    else
        echo "FAIL [${words[*]}] -> '$got', expected '$*'"
        failed=1
    fi
}

expect st -- stats status
expect --inst -- --instance
expect f -- force
expect force d -- down drain
expect stats --w -- --watch
expect dump --j -- --json
expect --instance "$instance" force down sg -- sgp1 sgp2
expect --instance "$instance" release w -- web1
expect --instance "$instance" force drain --datacenter n -- nyc
expect --instance "$instance" explain "www.$zone" a -- A AAAA ANY
expect --instance "$instance" explain ww -- "www.$zone"
exit $failed
