#!/usr/bin/env bash
# The library's share of a linked x86_64 Linux client, measured like
# bench/footprint.sh: bench/footprint/app.c (the vendor sample's calls) over
# the stub HAL, with gcc -Os -ffunction-sections -fdata-sections
# --gc-sections, once with the C library and once with no-op stand-ins.
#   1. the C library as CMake and `cargo build -p iotx-coap-ffi --release`
#      build it (stable Rust, no
#      std; `core`/`alloc` come precompiled, with their formatting code);
#   2. the same built from source like the firmware route (Debian's
#      rustc-web + rust-web-src, -Zbuild-std, panics abort at once, no
#      unwind tables), for gateways that can take that route.
# Prints figures; no gate. The vendor's 2.3.0 client, measured this way:
# 47,844 bytes.
#   bench/linux-share.sh --archive FILE   measures FILE alone (one line)
set -euo pipefail
cd "$(dirname "$0")/.."
archive=""
if [[ "${1:-}" == --archive ]]; then
    archive=$(realpath "$2")
fi

target=${CARGO_TARGET_DIR:-target}
out=$target/linux-share
mkdir -p "$out"
cflags=(-Os -ffunction-sections -fdata-sections -Wall -Wextra -Werror -Iinclude -Wl,--gc-sections)
app=(bench/footprint/app.c bench/footprint/hal_stub.c)
gcc "${cflags[@]}" "${app[@]}" bench/footprint/baseline.c -o "$out/baseline"

share() { # archive -> bytes of text + data over the baseline
    gcc "${cflags[@]}" "${app[@]}" "$1" -o "$out/with-lib"
    read -r lt ld _ < <(size "$out/with-lib" | tail -1)
    read -r bt bd _ < <(size "$out/baseline" | tail -1)
    echo $(((lt + ld) - (bt + bd)))
}

if [[ -n "$archive" ]]; then
    echo "  x86_64 share of a linked client (gcc -Os, --gc-sections): $(share "$archive") bytes"
    exit 0
fi

cargo build -q --release -p iotx-coap-ffi
stable=$(share "$target/release/libiotx_coap.a")

scripts/firmware-lib.sh >/dev/null # installs the Debian Rust packages when missing
RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort -Cforce-unwind-tables=no -Zlocation-detail=none -Cllvm-args=-inline-threshold=10 --cfg aes_force_soft --cfg aes_compact" \
    RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR=$target/linux-share/cargo /usr/bin/cargo build -q \
    -p iotx-coap-ffi -Zbuild-std=core,alloc --target x86_64-unknown-linux-gnu --profile firmware
from_source=$(share "$target/linux-share/cargo/x86_64-unknown-linux-gnu/firmware/libiotx_coap.a")

echo "x86_64 share of a linked client (gcc -Os, --gc-sections), bytes:"
printf '  %-58s %7d\n' "C library, stable route (cargo build -p iotx-coap-ffi / CMake)" "$stable"
printf '  %-58s %7d\n' "C library, core/alloc from source (-Zbuild-std, opt z)" "$from_source"
printf '  %-58s %7d\n' "the vendor's 2.3.0 client" 47844
