#!/usr/bin/env bash
# Instructions per uplink, plain and PSK: bench/cpu/uplinks.c (the C library
# as `cargo build -p iotx-coap-ffi --release` builds it, the reference HAL, gcc -O2) sends CON uplinks
# of 64 bytes to the local emulator one after another; callgrind counts the
# whole process's instructions for N=10 and N=110, and the difference over
# 100 is one uplink's cost (send, receive, decode, callback; HAL and libc
# included, the kernel not). Prints figures only: no wall-clock, no gate.
# The vendor's CoAP client, measured the same way: 9,229 plain, 20,472 PSK.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v valgrind >/dev/null || {
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null
}
cargo build -q --release -p iotx-coap-ffi
cargo build -q --release -p iotx-coap-sim --bin iotx-coap-sim
target=${CARGO_TARGET_DIR:-target}
out=$target/bench-cpu
mkdir -p "$out"
gcc -Wall -Wextra -Werror -std=c99 -D_DEFAULT_SOURCE -O2 -Iinclude bench/cpu/uplinks.c hal/linux/*.c \
    "$target/release/libiotx_coap.a" $(pkg-config --libs openssl) -lpthread -o "$out/uplinks"

instructions() { # mode n
    local log=$out/callgrind-$1-$2.log
    tests/e2e/with_sim.sh "$target/release/iotx-coap-sim" "$1" \
        valgrind --tool=callgrind --callgrind-out-file=/dev/null --log-file="$log" \
        "$out/uplinks" @URL@ "$2" >/dev/null
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$log"
}

echo "instructions per uplink (callgrind, whole client process, (N=110 - N=10) / 100):"
for mode in plain psk; do
    small=$(instructions "$mode" 10)
    large=$(instructions "$mode" 110)
    vendor=9229
    [[ $mode == psk ]] && vendor=20472
    printf '  %-5s %7d   (vendor %d)\n' "$mode" $(((large - small) / 100)) "$vendor"
done
