#!/usr/bin/env bash
# Flash and static RAM of the CoAP client on a Cortex-M4
# (thumbv7em-none-eabihf), gated against a budget.
#
# Builds the C library exactly as the README's firmware route does
# (scripts/firmware-lib.sh: no std, features dtls, profile
# firmware), links bench/footprint/app.c (the vendor sample's calls) once
# with the library and once with no-op stand-ins (baseline.c), both over the
# stub HAL, with arm-none-eabi-gcc -Os, newlib-nano and --gc-sections. The
# difference is the library's share. Then checks the linked image: no
# core::fmt, float formatting, soft-double or unwinder code, and no
# undefined symbol but the firmware's HAL_* functions.
#
#   bench/footprint.sh [--budget BYTES]   (or FOOTPRINT_BUDGET; default 40960)
#                      [--features LIST]  (or FIRMWARE_FEATURES; default dtls),
#   e.g. --features dtls,session-store for the flash of an option
# Exits 1 when the flash share is over the budget, static RAM over 1 KB
# (with tests/ram.rs's 6 KB peak heap: 7 KB in all), or a check fails.
set -euo pipefail
cd "$(dirname "$0")/.."

budget=${FOOTPRINT_BUDGET:-40960}
ram_budget=1024
while (($#)); do
    case $1 in
    --budget) budget=$2; shift 2 ;;
    --features) export FIRMWARE_FEATURES=$2; shift 2 ;;
    *) echo "usage: $0 [--budget BYTES] [--features LIST]" >&2; exit 2 ;;
    esac
done

# FOOTPRINT_ARCHIVE: measure that archive (e.g. a scripts/dist.sh build) instead.
lib=${FOOTPRINT_ARCHIVE:-$(scripts/firmware-lib.sh)}
out=${FIRMWARE_TARGET_DIR:-target/firmware}/footprint
mkdir -p "$out"
cflags=(-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 -Os -ffunction-sections -fdata-sections
    -Wall -Wextra -Werror -Iinclude --specs=nano.specs --specs=nosys.specs -Wl,--gc-sections
    -Wl,--no-warn-rwx-segments)
app=(bench/footprint/app.c bench/footprint/hal_stub.c)
arm-none-eabi-gcc "${cflags[@]}" "${app[@]}" "$lib" -Wl,-Map="$out/with-lib.map" -o "$out/with-lib.elf" 2>"$out/link.log" ||
    { cat "$out/link.log" >&2; exit 1; }
arm-none-eabi-gcc "${cflags[@]}" "${app[@]}" bench/footprint/baseline.c -o "$out/baseline.elf" 2>/dev/null
# Without the stub HAL, the only unresolved names must be HAL_* ones.
arm-none-eabi-gcc "${cflags[@]}" bench/footprint/app.c "$lib" -Wl,--warn-unresolved-symbols \
    -o "$out/no-hal.elf" 2>"$out/no-hal.log" || true

read -r lt ld lb _ < <(arm-none-eabi-size "$out/with-lib.elf" | tail -1)
read -r bt bd bb _ < <(arm-none-eabi-size "$out/baseline.elf" | tail -1)
flash=$(((lt + ld) - (bt + bd)))
ram=$(((ld + lb) - (bd + bb)))

echo "footprint: thumbv7em-none-eabihf, features ${FIRMWARE_FEATURES:-dtls}, profile firmware (arm-none-eabi-gcc -Os, newlib-nano)"
echo "  flash (library share): $flash bytes   budget $budget; the vendor's CoAP client: ~47,700 (40,800 with logs muted)"
echo "  static RAM (library share): $ram bytes   budget $ram_budget (peak heap: tests/ram.rs)"
echo "largest contributors (bytes):"
arm-none-eabi-nm -S -C "$out/baseline.elf" | awk 'NF>=4 {$1=$2=$3=""; print substr($0,4)}' | sort -u >"$out/baseline.syms"
arm-none-eabi-nm -S -C --size-sort "$out/with-lib.elf" | python3 -c '
import collections, re, sys
base = set(open(sys.argv[1]).read().splitlines())
groups = [("serde-json-core", r"serde_json_core|serde_core|serde::"),
          ("aes + cbc + block padding", r"\baes::|cbc::|cipher::|block_padding|inout::"),
          ("md5 + sha256 + hmac", r"md5|sha2|hmac|digest|block_buffer|generic_array"),
          ("coap-lite (decoder)", r"coap_lite"),
          ("alloc (collections, vectors)", r"\balloc::"),
          ("iotx-coap", r"iotx_coap|^IOT_"),
          ("core + compiler-builtins", r"\bcore::|compiler_builtins|^<|^__aeabi")]
sizes = collections.Counter()
for line in sys.stdin:
    parts = line.split(None, 3)
    if len(parts) < 4 or parts[3].strip() in base:
        continue
    size, name = int(parts[1], 16), parts[3].strip()
    sizes[next((k for k, pat in groups if re.search(pat, name)), "other (newlib malloc, outlined)")] += size
for k, v in sizes.most_common():
    print(f"  {v:7d}  {k}")
' "$out/baseline.syms"

fail=0
forbidden=$(arm-none-eabi-nm -C "$out/with-lib.elf" | awk '{ $1 = ""; $2 = ""; print substr($0, 3) }' |
    grep -E '(^|<)core::fmt::|as core::fmt::[A-Za-z]+>|flt2dec|dragon|grisu|ryu|float|__aeabi_d|__(add|sub|mul|div)df3|_Unwind_|__gnu_unwind|unwind_phase|__aeabi_unwind_cpp_pr[12]' || true)
if [[ -n $forbidden ]]; then
    echo "FAIL: formatting, floating-point or unwinder code in the image:" >&2
    echo "$forbidden" | head -20 >&2
    fail=1
else
    echo "  no core::fmt, float formatting, soft-double or unwinder symbols"
fi
undefined=$(grep -o "undefined reference to \`[^']*'" "$out/no-hal.log" | sed "s/.*\`//; s/'$//" | sort -u)
if grep -qv '^HAL_' <<<"$undefined"; then
    echo "FAIL: undefined symbols other than HAL_*:" >&2
    grep -v '^HAL_' <<<"$undefined" >&2
    fail=1
else
    echo "  undefined symbols: $(wc -l <<<"$undefined") HAL_* functions, nothing else"
fi
if ((ram > ram_budget)); then
    echo "FAIL: static RAM $ram bytes is over the budget of $ram_budget bytes" >&2
    fail=1
fi
if ((flash > budget)); then
    echo "FAIL: flash share $flash bytes is over the budget of $budget bytes" >&2
    fail=1
fi
exit $fail
