#!/usr/bin/env bash
# Retransmission timers on constrained links (README "On NB-IoT links").
#
# 1. The link model (bench/link, sans-IO, seeded) drives the core's Session
#    on a simulated clock: UPLINKS CON uplinks (default 1000) in each of
#    four link profiles (fast: loopback-like; nbiot: heavy-tailed 1.5-10 s
#    round trips; nbiot-loss10: and 10 % loss each way; nbiot-bursts: bursts
#    of 90 % loss and radio-off windows) under each timer setting
#    (rfc7252: RFC 7252's defaults; static-15s: ACK_TIMEOUT 15 s;
#    adaptive: the RTT-adaptive timer from 2 s; adaptive-15s: from 15 s).
#    Prints per cell: delivered, SEND_FAILED, datagrams sent per delivered
#    uplink, spurious retransmissions (an earlier copy was answered), mean
#    and p95 time from send to response.
# 2. End to end: the C library (IOT_CoAP_SetTransmission) and the reference
#    HAL against the emulator's copy of the model (iotx-coap-sim --link
#    nbiot, delays compressed by --link-scale), a few dozen uplinks per
#    timer.
#
#   bench/link.sh [--short] [--uplinks N] [--seed S]
#     --short: 200 uplinks per cell and no end-to-end run (CI)
# e.g.
#   bench/link.sh --short
#   bench/link.sh
# E2E_UPLINKS, E2E_LINK (default nbiot-loss10) and E2E_SCALE (per mille,
# default 250) shape the end-to-end run.
set -euo pipefail
cd "$(dirname "$0")/.."

uplinks=${UPLINKS:-1000}
seed=${SEED:-1}
e2e=1
while (($#)); do
    case $1 in
    --short) uplinks=200; e2e=0; shift ;;
    --uplinks) uplinks=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    *) echo "usage: $0 [--short] [--uplinks N] [--seed S]" >&2; exit 2 ;;
    esac
done

cargo build -q -p iotx-coap-link --bin link-bench
"${CARGO_TARGET_DIR:-target}/debug/link-bench" --uplinks "$uplinks" --seed "$seed"

((e2e)) || exit 0

# End to end: one emulator per timer (its `received` count is the device's
# datagrams), all three at once.
uplinks_e2e=${E2E_UPLINKS:-30}
link=${E2E_LINK:-nbiot-loss10}
scale=${E2E_SCALE:-250} # per mille: NB-IoT four times faster
out=${CARGO_TARGET_DIR:-target}/link-e2e
mkdir -p "$out"
cargo build -q -p iotx-coap-ffi
cargo build -q -p iotx-coap-sim --bin iotx-coap-sim
lib=${CARGO_TARGET_DIR:-target}/debug/libiotx_coap.a
sim=${CARGO_TARGET_DIR:-target}/debug/iotx-coap-sim
gcc -std=c99 -D_DEFAULT_SOURCE -Wall -Wextra -Werror -Iinclude -Itests/c bench/link/e2e.c hal/linux/*.c "$lib" \
    -lssl -lcrypto -lpthread -o "$out/e2e"
scale_f=$(awk "BEGIN { print $scale / 1000 }")
echo
echo "end to end: the C library against iotx-coap-sim --link $link:$scale_f, $uplinks_e2e CON uplinks per timer (timers scaled alike)"
pids=()
for timer in rfc7252 static-15s adaptive; do
    (
        coproc SIM { exec "$sim" --device a1TestPK001:dev-001:s3cr3tS3cr3tS3cr3tS3cr3tS3cr3tAB --plain-port 0 \
            --no-psk --no-dtls --link "$link:$scale_f" --seed "$seed" --quiet --log "$out/$timer.log"; }
        read -r listening <&"${SIM[0]}"
        addr=$(sed -E 's/.*"plain":"([^"]+)".*/\1/' <<<"$listening")
        line=$("$out/e2e" "coap://$addr" "$uplinks_e2e" "$timer" "$scale")
        kill -TERM "$SIM_PID"; wait "$SIM_PID" || true
        received=$(grep '"event":"stats"' "$out/$timer.log" | sed -E 's/.*"received":([0-9]+).*/\1/')
        echo "$line datagrams_sent=$received (auth included)" >"$out/$timer.out"
    ) &
    pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
cat "$out"/{rfc7252,static-15s,adaptive}.out
