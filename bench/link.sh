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
