#!/usr/bin/env bash
# Flash/RAM cost of the CoAP client on a Cortex-M4 (thumbv7em-none-eabihf):
# builds the library without std (feature `firmware`, profile `firmware`),
# links bench/footprint/app.c (the vendor sample's calls) against it and
# against no-op stand-ins, and prints the difference plus where the bytes go.
# Target: <= 28 KB flash, <= 7 KB RAM (the vendor client: ~48 KB / ~15 KB).
#
# Needs Debian's rustc-web, cargo-web, rust-web-src (core/alloc sources for
# -Zbuild-std) and gcc-arm-none-eabi; installs them when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

lib=$(scripts/firmware-lib.sh)
target_dir=${FIRMWARE_TARGET_DIR:-target/firmware}

out=$target_dir/elf
mkdir -p "$out"
cflags=(-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 -Os -ffunction-sections -fdata-sections
    -Wall -Wextra -Werror -Iinclude --specs=nano.specs --specs=nosys.specs -Wl,--gc-sections -Wl,--no-warn-rwx-segments)
arm-none-eabi-gcc "${cflags[@]}" bench/footprint/app.c bench/footprint/hal_stub.c "$lib" -o "$out/with-lib.elf" 2>/dev/null
arm-none-eabi-gcc "${cflags[@]}" bench/footprint/app.c bench/footprint/hal_stub.c bench/footprint/baseline.c \
    -o "$out/baseline.elf" 2>/dev/null

read -r lt ld lb _ < <(arm-none-eabi-size "$out/with-lib.elf" | tail -1)
read -r bt bd bb _ < <(arm-none-eabi-size "$out/baseline.elf" | tail -1)
flash=$(((lt + ld) - (bt + bd)))
ram=$(((ld + lb) - (bd + bb)))
echo "footprint (thumbv7em-none-eabihf, opt-level z, panic=immediate-abort):"
echo "  flash: $flash bytes ($((flash / 1024)) KB)   target <= 28 KB, vendor ~48 KB"
echo "  static RAM: $ram bytes (heap use per context comes on top)"
echo "largest contributors (bytes):"
arm-none-eabi-nm --size-sort -S -C "$out/with-lib.elf" | python3 -c '
import sys, re, collections
groups = [("serde_json", r"serde_json|serde_core"),
          ("core::fmt + float", r"flt2dec|fmt|unicode|float|zmij|dragon|grisu|__.*df3|__aeabi_d"),
          ("hashes (sha1, sha256, md5, hmac)", r"sha1|sha2|md5|hmac|digest"),
          ("aes + cbc", r"aes|cbc|cipher"),
          ("coap-lite", r"coap_lite"),
          ("iotx-coap", r"iotx_coap|IOT_"),
          ("unwinder (libgcc)", r"nwind"),
          ("alloc collections", r"alloc|btree|BTree|LinkedList|Vec")]
s = collections.Counter()
for line in sys.stdin:
    p = line.split(None, 3)
    if len(p) < 4:
        continue
    size, name = int(p[1], 16), p[3]
    for k, pat in groups:
        if re.search(pat, name):
            s[k] += size
            break
    else:
        s["other"] += size
for k, v in s.most_common():
    print(f"  {v:7d}  {k}")
'
