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
# The stable route is gated: its linked client must hold no formatting
# code (core::fmt, Display/Debug impls, the integer-to-text digit table,
# float formatting) and no unwinder, and its share must be within the
# budget, the vendor's 2.3.0 client measured this way: 47,844 bytes.
# Exits 1 when a check fails. The from-source figure is printed, not gated.
#   bench/linux-share.sh                  both routes, the stable one gated
#   bench/linux-share.sh --stable         the stable route alone (quick: no
#                                         Debian Rust, no core from source)
#   bench/linux-share.sh --budget BYTES   (or LINUX_SHARE_BUDGET) another budget
#   bench/linux-share.sh --archive FILE   measures FILE alone (one line, no gate)
set -euo pipefail
cd "$(dirname "$0")/.."
archive=""
stable_only=0
budget=${LINUX_SHARE_BUDGET:-47844}
while (($#)); do
    case $1 in
    --archive) archive=$(realpath "$2"); shift 2 ;;
    --stable) stable_only=1; shift ;;
    --budget) budget=$2; shift 2 ;;
    *) echo "usage: $0 [--stable] [--budget BYTES] | --archive FILE" >&2; exit 2 ;;
    esac
done

target=${CARGO_TARGET_DIR:-target}
out=$target/linux-share
mkdir -p "$out"
cflags=(-Os -ffunction-sections -fdata-sections -Wall -Wextra -Werror -Iinclude -Wl,--gc-sections)
app=(bench/footprint/app.c bench/footprint/hal_stub.c)
gcc "${cflags[@]}" "${app[@]}" bench/footprint/baseline.c -o "$out/baseline"

share() { # archive [image] -> bytes of text + data over the baseline
    local image=${2:-$out/with-lib}
    gcc "${cflags[@]}" "${app[@]}" "$1" -Wl,-Map="$image.map" -o "$image"
    read -r lt ld _ < <(size "$image" | tail -1)
    read -r bt bd _ < <(size "$out/baseline" | tail -1)
    echo $(((lt + ld) - (bt + bd)))
}

if [[ -n "$archive" ]]; then
    echo "  x86_64 share of a linked client (gcc -Os, --gc-sections): $(share "$archive") bytes"
    exit 0
fi

cargo build -q --release -p iotx-coap-ffi
stable_image=$out/stable
stable=$(share "$target/release/libiotx_coap.a" "$stable_image")

if ((!stable_only)); then
    scripts/firmware-lib.sh >/dev/null # installs the Debian Rust packages when missing
    RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort -Cforce-unwind-tables=no -Zlocation-detail=none -Cllvm-args=-inline-threshold=10 --cfg aes_force_soft --cfg aes_compact" \
        RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR=$target/linux-share/cargo /usr/bin/cargo build -q \
        -p iotx-coap-ffi -Zbuild-std=core,alloc --target x86_64-unknown-linux-gnu --profile firmware
    from_source=$(share "$target/linux-share/cargo/x86_64-unknown-linux-gnu/firmware/libiotx_coap.a" "$out/from-source")
fi

echo "x86_64 share of a linked client (gcc -Os, --gc-sections), bytes:"
printf '  %-58s %7d\n' "C library, stable route (cargo build -p iotx-coap-ffi / CMake)" "$stable"
((stable_only)) ||
    printf '  %-58s %7d\n' "C library, core/alloc from source (-Zbuild-std, opt z)" "$from_source"
printf '  %-58s %7d\n' "the vendor's 2.3.0 client" 47844

# Where the stable route's share goes, by section (the baseline's subtracted).
size -A "$stable_image" "$out/baseline" | awk '
    /^section/ || NF != 3 || $3 == 0 { if (/:$/) f++; next }
    { s[$1] += (f == 1 ? $2 : -$2); if (!($1 in seen)) { seen[$1] = 1; order[n++] = $1 } }
    END { printf "  stable route by section:"
          for (i = 0; i < n; i++) if (s[order[i]] > 100) printf " %s %d", order[i], s[order[i]]
          print "" }'

# The map check. The precompiled `core` carries the formatting machinery
# (core::fmt, integer Display with its digit table, pad_integral, the
# unicode printable tables); it is linked in as soon as anything reaches
# it, which in this library could only be a panic message. The panic
# handler (ffi/src/runtime/hosted_panic.rs) never reads the message, so
# LTO drops it all: keep it that way.
fail=0
forbidden=$(nm -C "$stable_image" | awk '{ $1 = ""; $2 = ""; print substr($0, 3) }' |
    grep -E '(^|<)core::fmt::|as core::fmt::[A-Za-z]+>|pad_integral|core::unicode::|flt2dec|dragon|grisu|float_to|_Unwind_' || true)
if [[ -n $forbidden ]]; then
    echo "FAIL: formatting or unwinder code in the stable route's client:" >&2
    echo "$forbidden" | head -20 >&2
    fail=1
fi
# Integer Display's digit-pair table ("000102..99"): present whenever an
# integer is formatted, even when its functions were inlined or renamed.
if grep -q --text 00010203040506070809101112131415 "$stable_image"; then
    echo "FAIL: core's integer formatting table is in the stable route's client" >&2
    fail=1
fi
((fail)) || echo "  stable route: no core::fmt, Display/Debug, digit-table, float-formatting or unwinder code"
if ((stable > budget)); then
    echo "FAIL: the stable route's share, $stable bytes, is over the budget of $budget bytes" >&2
    fail=1
fi
exit $fail
