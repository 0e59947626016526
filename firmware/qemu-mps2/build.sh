#!/usr/bin/env bash
# Links the mps2-an386 image against the firmware staticlib.
#   build.sh LIB OUT.elf [-DNAME=VALUE ...]
# LIB is what scripts/firmware-lib.sh prints; the -D flags are main.c's
# build-time settings (URLs, token lifetime, test scenario). Also writes
# OUT.map (the linker map the footprint figures are read from).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
lib=$1
out=$2
shift 2

cflags=(-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 -Os -g
    -ffunction-sections -fdata-sections -ffreestanding
    -Wall -Wextra -Werror -I"$root/include" "$@")
ldflags=(-nostartfiles --specs=nano.specs -T"$here/mps2-an386.ld" -Wl,--defsym=STACK_SIZE=8192
    -Wl,--gc-sections -Wl,--no-warn-rwx-segments -Wl,--no-warn-execstack -Wl,-Map="${out%.elf}.map")
arm-none-eabi-gcc "${cflags[@]}" "$here/board.c" "$here/hal_mps2.c" "$here/main.c" \
    "$lib" "${ldflags[@]}" -o "$out"
