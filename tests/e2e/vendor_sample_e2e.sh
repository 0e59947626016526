#!/usr/bin/env bash
# End-to-end run of one of the per-release samples (examples-c/v*/) against
# the emulator.
#
#   vendor_sample_e2e.sh SAMPLE_BIN SIM_BIN MODE TOPIC [valgrind]
#
# MODE is plain (coap://), psk (coap-psk://) or dtls (coaps://, trusting the
# emulator's generated CA through the reference HAL's IOTX_DTLS_CA_FILE).
# TOPIC is the topic the sample must publish to, as the emulator logs it
# (the Uri-Path after "topic"), with PK/DN standing for the test device:
# /PK/DN/update for 2.x and 3.0.x, /PK/DN/user/update for 3.1/3.2. The
# samples add a trailing '/' as the vendor's do; it must not reach the topic. The sample gets the server as
# `-u URL` and the test device in IOTX_PRODUCT_KEY/IOTX_DEVICE_NAME/
# IOTX_DEVICE_SECRET (3.0-style samples read it from the HAL; the others
# carry the same device as their built-in default). Passes when the sample
# saw 3 answers 0x45 (2.05) and exited 0, and the emulator accepted its auth
# and 3 uplinks with its payload on TOPIC, on the MODE listener.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/sim.sh"

if [[ $# -lt 4 || $# -gt 5 ]]; then
    echo "usage: $0 SAMPLE_BIN SIM_BIN plain|psk|dtls TOPIC [valgrind]" >&2
    exit 2
fi
sample=$1
sim=$2
mode=$3
topic_pattern=$4
tool=${5:-}

scheme=$(sim_scheme "$mode") ||
    { echo "vendor_sample_e2e: MODE must be plain, psk or dtls, not '$mode'" >&2; exit 2; }
for bin in "$sample" "$sim"; do
    [[ -x "$bin" ]] || { echo "vendor_sample_e2e: not an executable: $bin" >&2; exit 2; }
done

readonly PK=$SIM_PK DN=$SIM_DN DS=$SIM_DS
readonly COUNT=3
topic=${topic_pattern//PK/$PK}
topic=${topic//DN/$DN}

work=$(mktemp -d "${TMPDIR:-/tmp}/vendor_sample_e2e.XXXXXX")
cleanup() {
    sim_stop
    rm -rf "$work"
}
trap cleanup EXIT

name=$(basename "$(dirname "$sample")")/$(basename "$sample")
fail() {
    echo "FAIL vendor_sample_e2e $name $mode: $*" >&2
    echo "---- sample output ----" >&2
    cat "$work/sample.out" >&2 2>/dev/null || true
    echo "---- emulator log ----" >&2
    cat "$work/sim.err" "$work/sim.log" >&2 2>/dev/null || true
    exit 1
}

sim_start "$work/sim.out" "$work/sim.err" "$sim" --plain-port 0 --psk-port 0 --dtls-port 0 \
    --ca-out "$work/ca.pem" --device "$PK:$DN:$DS" --log "$work/sim.log" --quiet ||
    fail "emulator did not start"
addr=$(sim_addr "$mode")
[[ -n "$addr" ]] || fail "no \"$mode\" listener reported by the emulator"

cmd=(timeout 60 "$sample" -u "$scheme://$addr" -n "$COUNT" -w 100)
if [[ "$tool" == valgrind ]]; then
    cmd=(timeout 240 valgrind --error-exitcode=99 --leak-check=full
         --errors-for-leak-kinds=definite "$sample" -u "$scheme://$addr" -n "$COUNT" -w 100)
fi
[[ "$mode" == dtls ]] && export IOTX_DTLS_CA_FILE=$work/ca.pem
export IOTX_PRODUCT_KEY=$PK IOTX_DEVICE_NAME=$DN IOTX_DEVICE_SECRET=$DS
status=0
"${cmd[@]}" >"$work/sample.out" 2>&1 || status=$?
case $status in
    0) ;;
    124) fail "sample timed out" ;;
    99) fail "valgrind reported errors" ;;
    *) fail "sample exited with status $status" ;;
esac

answers=$(grep -c -F '[APPL]: Message response code: 0x45' "$work/sample.out" || true)
(( answers >= COUNT )) || fail "expected >= $COUNT responses 0x45, got $answers"

payload_field='"payload":"{\"name\":\"hello world\"}"'
ok=0
for _ in $(seq 1 40); do
    auth=$(grep -F '"event":"auth_accepted"' "$work/sim.log" 2>/dev/null \
        | grep -c -F "\"listener\":\"$mode\"" || true)
    uplinks=$(grep -F '"event":"uplink_accepted"' "$work/sim.log" 2>/dev/null \
        | grep -F "\"listener\":\"$mode\"" | grep -F "\"topic\":\"$topic\"" \
        | grep -c -F "$payload_field" || true)
    if (( auth >= 1 && uplinks >= COUNT )); then
        ok=1
        break
    fi
    sleep 0.05
done
(( ok )) || fail "emulator: auth_accepted=$auth (want >= 1), uplinks to $topic with the payload=$uplinks (want >= $COUNT)"

echo "PASS vendor_sample_e2e $name $mode${tool:+ ($tool)}"
