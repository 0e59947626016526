#!/usr/bin/env bash
# Runs a command against a freshly started emulator.
#
#   with_sim.sh SIM_BIN plain|psk [--sim-arg ARG]... PROG [ARGS...]
#
# Starts SIM_BIN on ephemeral ports with the test device of docs/protocol.md (plus any
# --sim-arg arguments, e.g. more --device entries), replaces in ARGS every
# @URL@ with the chosen listener's URL and @PLAIN_URL@ / @PSK_URL@ with the
# plain (coap://) / PSK (coap-psk://) ones, runs PROG under `timeout`
# (IOTX_E2E_TIMEOUT seconds, default 120) and exits with its status. On
# failure the emulator's log is printed. The emulator is always stopped.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/sim.sh"

if [[ $# -lt 3 ]]; then
    echo "usage: $0 SIM_BIN plain|psk [--sim-arg ARG]... PROG [ARGS...]" >&2
    exit 2
fi
sim=$1
mode=$2
shift 2
sim_args=()
while [[ $# -ge 2 && "$1" == --sim-arg ]]; do
    sim_args+=("$2")
    shift 2
done
if [[ $# -lt 1 ]]; then
    echo "with_sim: no program to run" >&2
    exit 2
fi
[[ "$mode" == plain || "$mode" == psk ]] ||
    { echo "with_sim: mode must be plain or psk, not '$mode'" >&2; exit 2; }
scheme=$(sim_scheme "$mode")

work=$(mktemp -d "${TMPDIR:-/tmp}/with_sim.XXXXXX")
cleanup() {
    sim_stop
    rm -rf "$work"
}
trap cleanup EXIT

sim_start "$work/sim.out" "$work/sim.err" "$sim" --plain-port 0 --psk-port 0 \
    --device "$SIM_TEST_DEVICE" ${sim_args[@]+"${sim_args[@]}"} \
    --log "$work/sim.log" --quiet || exit 1
plain_addr=$(sim_addr plain)
psk_addr=$(sim_addr psk)
addr=$(sim_addr "$mode")
if [[ -z "$addr" ]]; then
    echo "with_sim: emulator did not report a $mode listener" >&2
    cat "$work/sim.out" "$work/sim.err" >&2 || true
    exit 1
fi
url="$scheme://$addr"

args=()
for a in "$@"; do
    a=${a//@PLAIN_URL@/coap://$plain_addr}
    a=${a//@PSK_URL@/coap-psk://$psk_addr}
    args+=("${a//@URL@/$url}")
done
status=0
timeout "${IOTX_E2E_TIMEOUT:-120}" "${args[@]}" || status=$?
if (( status != 0 )); then
    echo "with_sim: '${args[*]}' exited with status $status; emulator log:" >&2
    cat "$work/sim.log" >&2 || true
fi
exit "$status"
