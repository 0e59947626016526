#!/usr/bin/env bash
# End-to-end check of the C sample against the emulator.
#
#   example_e2e.sh EXAMPLE_BIN SIM_BIN MODE [valgrind]
#
# MODE is plain (coap://), psk (coap-psk://) or dtls (coaps://; the sample
# trusts the emulator's generated CA through the reference HAL's
# IOTX_DTLS_CA_FILE, its code unchanged). Starts the emulator on free
# ports, runs the sample for 3 uplinks, and checks both sides: the sample saw
# three 2.05 answers, and the emulator accepted the auth and three uplinks
# carrying the sample's payload on the expected listener.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/sim.sh"

if [[ $# -lt 3 || $# -gt 4 ]]; then
    echo "usage: $0 EXAMPLE_BIN SIM_BIN plain|psk|dtls [valgrind]" >&2
    exit 2
fi
example=$1
sim=$2
mode=$3
tool=${4:-}

scheme=$(sim_scheme "$mode") ||
    { echo "example_e2e: MODE must be plain, psk or dtls, not '$mode'" >&2; exit 2; }
if [[ -n "$tool" && "$tool" != valgrind ]]; then
    echo "example_e2e: 4th argument must be 'valgrind'" >&2
    exit 2
fi
for bin in "$example" "$sim"; do
    if [[ ! -x "$bin" ]]; then
        echo "example_e2e: not an executable: $bin" >&2
        exit 2
    fi
done

readonly PK=$SIM_PK DN=$SIM_DN DS=$SIM_DS
readonly COUNT=3

work=$(mktemp -d "${TMPDIR:-/tmp}/example_e2e.XXXXXX")
cleanup() {
    sim_stop
    if [[ -z "${KEEP_E2E_DIR:-}" ]]; then
        rm -rf "$work"
    else
        echo "example_e2e: kept $work" >&2
    fi
}
trap cleanup EXIT

log=$work/sim.log
out=$work/example.out

fail() {
    echo "FAIL example_e2e $mode: $*" >&2
    echo "---- example output ($out) ----" >&2
    cat "$out" >&2 2>/dev/null || true
    echo "---- emulator stdout/stderr ----" >&2
    cat "$work/sim.out" "$work/sim.err" >&2 2>/dev/null || true
    echo "---- emulator log ($log) ----" >&2
    cat "$log" >&2 2>/dev/null || true
    echo "---- end ----" >&2
    exit 1
}

sim_start "$work/sim.out" "$work/sim.err" "$sim" --plain-port 0 --psk-port 0 --dtls-port 0 \
    --ca-out "$work/ca.pem" --device "$PK:$DN:$DS" --log "$log" --quiet ||
    fail "emulator did not start"
addr=$(sim_addr "$mode")
[[ -n "$addr" ]] || fail "no listening line with a \"$mode\" address from the emulator"
url="$scheme://$addr"

cmd=(timeout 60 "$example" -u "$url" -p "$PK" -d "$DN" -k "$DS" -n "$COUNT" -w 100)
if [[ "$tool" == valgrind ]]; then
    cmd=(timeout 180 valgrind --error-exitcode=99 --leak-check=full
         --errors-for-leak-kinds=definite "$example" -u "$url" -p "$PK" -d "$DN" -k "$DS"
         -n "$COUNT" -w 100)
fi
if [[ "$mode" == dtls ]]; then
    export IOTX_DTLS_CA_FILE=$work/ca.pem
fi
echo "example_e2e: ${cmd[*]}" >&2
status=0
"${cmd[@]}" >"$out" 2>&1 || status=$?
case $status in
    0) ;;
    124) fail "sample timed out" ;;
    99) fail "valgrind reported errors" ;;
    *) fail "sample exited with status $status" ;;
esac

answers=$(grep -c -F '[APPL]: Message response code: 2.05 (0x45)' "$out" || true)
(( answers >= COUNT )) || fail "expected >= $COUNT responses with code 2.05 (0x45), got $answers"
grep -q -F "[APPL]: done, " "$out" || fail "sample did not print its done line"

# The emulator may still be writing its last lines; give it a moment.
payload_field='"payload":"{\"name\":\"hello world\"}"'
ok=0
for _ in $(seq 1 40); do
    auth=$(grep -F '"event":"auth_accepted"' "$log" 2>/dev/null | grep -c -F "\"listener\":\"$mode\"" || true)
    uplinks=$(grep -F '"event":"uplink_accepted"' "$log" 2>/dev/null \
        | grep -F "\"listener\":\"$mode\"" | grep -c -F "$payload_field" || true)
    if (( auth >= 1 && uplinks >= COUNT )); then
        ok=1
        break
    fi
    sleep 0.05
done
(( ok )) || fail "emulator log: auth_accepted=$auth (want >= 1), uplink_accepted with payload=$uplinks (want >= $COUNT) on listener $mode"

echo "PASS example_e2e $mode${tool:+ ($tool)}"
