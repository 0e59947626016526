#!/usr/bin/env bash
# Bytes on the wire and round trips of one wake cycle of a battery device
# (Init, DeviceNameAuth, one 64-byte CON uplink answered, Deinit), fresh
# (nothing stored: auth + uplink) vs resumed (stored session: uplink only),
# plain and PSK. The C library is built with the session store (feature
# session-store) and run as one process per cycle against the emulator,
# which counts the UDP payload bytes both ways (tests/battery.rs,
# wake_cycle_bytes).
#
#   bench/wake.sh
# Exits 1 when a resumed cycle costs more than half a fresh one's bytes.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp)
trap 'rm -f "$out"' EXIT
status=0
cargo test -q --test battery -- --ignored --nocapture --exact wake_cycle_bytes >"$out" 2>&1 || status=$?
grep -E '^(wake cycle|\(UDP|mode |plain|psk)' "$out" || true
if ((status)); then
    cat "$out" >&2
    echo "bench/wake.sh: FAIL: a resumed cycle costs more than half a fresh one (or the bench failed)" >&2
    exit 1
fi
