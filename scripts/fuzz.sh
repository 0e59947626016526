#!/usr/bin/env bash
# Runs every fuzz target of fuzz/ for SECONDS each (default 60) and prints
# the executions of each. Exits non-zero on any crash, contract failure,
# timeout or leak. Needs the nightly toolchain; installs cargo-fuzz if
# missing.
#
#   scripts/fuzz.sh 600                  # ten minutes per target
#   FUZZ_JOBS=2 scripts/fuzz.sh 30       # two targets at a time (CI smoke)
#   FUZZ_TARGETS="c_abi" scripts/fuzz.sh 60
#
# Each target starts from its committed seeds (fuzz/corpus/<target>) and
# keeps what it finds in fuzz/work/<target> (not committed), so later runs
# go on from there. Crashes land in fuzz/artifacts/<target>/; reproduce one
# with `cd fuzz && cargo +nightly fuzz run <target> <file>`.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

seconds=${1:-60}
jobs=${FUZZ_JOBS:-1}
targets=${FUZZ_TARGETS:-"session_plain session_psk url_parse c_abi message_decode"}

if ! rustup toolchain list | grep -q '^nightly'; then
    rustup toolchain install nightly --profile minimal
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    cargo install --locked cargo-fuzz
fi

echo "== fuzz: building the targets"
cargo +nightly fuzz build

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

run_target() {
    local t=$1
    mkdir -p "work/$t" "corpus/$t"
    # -timeout: one input running 10 s is a hang (the clock is simulated).
    cargo +nightly fuzz run "$t" "work/$t" "corpus/$t" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 \
        -print_final_stats=1 >"$logs/$t.log" 2>&1
}

declare -A status
running=()
for t in $targets; do
    echo "== fuzz: $t for ${seconds}s"
    run_target "$t" &
    running+=("$t:$!")
    if ((${#running[@]} >= jobs)); then
        for r in "${running[@]}"; do
            wait "${r#*:}" && status[${r%%:*}]=0 || status[${r%%:*}]=$?
        done
        running=()
    fi
done
for r in "${running[@]}"; do
    wait "${r#*:}" && status[${r%%:*}]=0 || status[${r%%:*}]=$?
done

# libFuzzer's -print_final_stats lines: "stat::NAME:   VALUE".
stat_of() {
    sed -n "s/^stat::$1:[[:space:]]*\([0-9]*\).*/\1/p" "$2" | tail -1
}

failed=0
printf '%-14s %12s %8s %10s  %s\n' target executions seconds exec/s result
for t in $targets; do
    log="$logs/$t.log"
    runs=$(stat_of number_of_executed_units "$log")
    rate=$(stat_of average_exec_per_sec "$log")
    secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
    if [[ ${status[$t]} -eq 0 ]]; then
        result=ok
    else
        result="FAILED (exit ${status[$t]})"
        failed=1
    fi
    printf '%-14s %12s %8s %10s  %s\n' "$t" "${runs:-?}" "${secs:-?}" "${rate:-?}" "$result"
    if [[ ${status[$t]} -ne 0 ]]; then
        echo "---- $t: the failure (full log below)" >&2
        grep -E -A12 "panicked at|ERROR: libFuzzer|ERROR: AddressSanitizer|ERROR: LeakSanitizer" "$log" | head -40 >&2 || true
        grep -E "Test unit written to|artifact_prefix" "$log" >&2 || true
        tail -5 "$log" >&2
    fi
done
exit "$failed"
