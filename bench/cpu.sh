#!/usr/bin/env bash
# Instructions per uplink, plain and PSK: bench/cpu/uplinks.c (the C library
# as `cargo build -p iotx-coap-ffi --release` builds it, the reference HAL, gcc -O2) sends CON uplinks
# of 64 bytes to the local emulator one after another; callgrind counts the
# whole process's instructions for N=10 and N=110, and the difference over
# 100 is one uplink's cost (send, receive, decode, callback; HAL and libc
# included, the kernel not), then the functions that cost most per uplink.
# The vendor's CoAP client, measured the same way: 9,229 plain, 20,472 PSK.
# Exits 1 over half the vendor's figures (4,614 plain, 10,236 PSK): an
# instruction count is the same on every run of the same build, unlike a
# time, so it may gate.
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

instructions() { # mode n -> total; keeps the profile in $out/callgrind-MODE-N.out
    local log=$out/callgrind-$1-$2.log
    tests/e2e/with_sim.sh "$target/release/iotx-coap-sim" "$1" \
        valgrind --tool=callgrind --callgrind-out-file="$out/callgrind-$1-$2.out" --log-file="$log" \
        "$out/uplinks" @URL@ "$2" >/dev/null
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$log"
}

# Self cost by function, "instructions<TAB>function" (no file names).
by_function() {
    callgrind_annotate --inclusive=no --threshold=100 "$1" 2>/dev/null |
        awk '/^ *[0-9,]+ .*[^ ]:/ { n = $1; gsub(",", "", n); $1 = ""; if ($2 ~ /^\(/) $2 = "";
             sub(/^ +/, ""); sub(/^[^:]*:/, ""); sub(/ \[.*\]$/, ""); cost[$0] += n }
             END { for (f in cost) print cost[f] "\t" f }'
}

# The functions one uplink spends most in: (N=110 - N=10) / 100 each.
top_contributors() { # mode
    join -t $'\t' -1 2 -2 2 -a 1 -e 0 -o 0,1.1,2.1 \
        <(by_function "$out/callgrind-$1-110.out" | sort -t $'\t' -k2,2) \
        <(by_function "$out/callgrind-$1-10.out" | sort -t $'\t' -k2,2) |
        awk -F '\t' '{ d = ($2 - $3) / 100; if (d >= 40) printf "%9.0f  %s\n", d, substr($1, 1, 90) }' |
        sort -rn | head -"${CPU_TOP:-15}"
}

echo "instructions per uplink (callgrind, whole client process, (N=110 - N=10) / 100):"
over=0
for mode in plain psk; do
    small=$(instructions "$mode" 10)
    large=$(instructions "$mode" 110)
    vendor=9229
    [[ $mode == psk ]] && vendor=20472
    per=$(((large - small) / 100))
    printf '  %-5s %7d   (vendor %d; goal <= %d)\n' "$mode" "$per" "$vendor" $((vendor / 2))
    ((per <= vendor / 2)) || over=1
done
for mode in plain psk; do
    echo "top contributors per $mode uplink (instructions, self cost):"
    top_contributors "$mode"
done
if ((over)); then
    echo "FAIL: over half the vendor's instructions per uplink" >&2
    exit 1
fi
