#!/usr/bin/env bash
# Runs the firmware build of the library on emulated cores against the local
# emulator, and prints what it used. One machine per core family:
#
#   machine      core (Rust target)                          toolchain file
#   mps2-an386   Cortex-M4F (thumbv7em-none-eabihf)          cortex-m4f.cmake   (the default)
#   mps2-an385   Cortex-M3  (thumbv7m-none-eabi)             cortex-m3.cmake
#   mps2-an505   Cortex-M33 (thumbv8m.main-none-eabihf)      cortex-m33.cmake
#   microbit     Cortex-M0  (thumbv6m-none-eabi, nRF51)      cortex-m0.cmake
#   riscv-virt   RV32IMAC   (riscv32imac-unknown-none-elf)   riscv32imac.cmake
#   riscv-virt-imc  RV32IMC (riscv32imc-unknown-none-elf)    riscv32imc.cmake
#                (virt with the A extension off: no compare-and-swap)
#
#   scripts/qemu-test.sh                  mps2-an386
#   scripts/qemu-test.sh --machine NAME   that machine (repeatable)
#   scripts/qemu-test.sh --all            all six, two at a time (the
#                                         machine's 2 cores), with a summary
#                                         table and the wall time
#
# Builds each image as a firmware team would: the CMake project in
# firmware/ with the core's toolchain file, which adds the library with
# add_subdirectory() (so the library is built for the core's Rust target by
# CMake's own route, into the shared cargo target dir target/firmware), then
# starts iotx-coap-sim (plain + PSK listeners, short token lifetime) and
# iotx-coap-relay (the board's link UART <-> UDP on loopback), boots the
# image, and checks: auth and 20 CON uplinks answered 2.05 in each mode,
# each uplink logged exactly once by the emulator, a 4.01 (expired token)
# renewed on the device, heap back to its starting level after
# IOT_CoAP_Deinit, exit status 0, and the stack high-water of the task that
# calls IOT_CoAP_Yield within QEMU_TEST_STACK_BUDGET (2,048 bytes). A second
# image makes the library abort (allocation failure) and must report it on
# the console. Prints peak heap, stack high-water, static RAM and flash
# (whole image / library share).
#
# Installs qemu-system-arm, qemu-system-misc, newlib, picolibc, the RISC-V
# GCC and cmake (and, through firmware-lib.sh, the Debian Rust and ARM GCC
# packages) when missing.
#   QEMU_TEST_TIMEOUT  seconds a QEMU run may take (default 120)
#   QEMU_TEST_KEEP=1   keep the work directory (logs, ELF, map)
#   QEMU_TEST_STACK_BUDGET  bytes of stack high-water allowed (default 2048)
#   QEMU_TEST_PACKAGE=DIR  build the image from that unpacked prebuilt archive
#                      (scripts/dist.sh) through firmware/from-package and
#                      find_package(), with no cargo or rustc on PATH
#   QEMU_TEST_PANIC_HANDLER=1  on mps2-an386, also build the library with
#                      -Cpanic=abort and check its #[panic_handler]'s line
#                      (a second, slow build)
#   QEMU_TEST_JOBS     machines run at once by --all (default 2)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/sim.sh

machines=()
while (($#)); do
    case $1 in
    --machine) machines+=("$2"); shift 2 ;;
    --all) machines=(mps2-an386 mps2-an385 mps2-an505 microbit riscv-virt riscv-virt-imc); shift ;;
    *) echo "usage: $0 [--machine NAME]... [--all]" >&2; exit 2 ;;
    esac
done
((${#machines[@]})) || machines=(mps2-an386)

pkgs=()
command -v qemu-system-arm >/dev/null || pkgs+=(qemu-system-arm)
command -v qemu-system-riscv32 >/dev/null || pkgs+=(qemu-system-misc)
# newlib is only a recommendation of gcc-arm-none-eabi.
[[ -d /usr/lib/arm-none-eabi/newlib ]] || pkgs+=(libnewlib-arm-none-eabi)
command -v riscv64-unknown-elf-gcc >/dev/null || pkgs+=(gcc-riscv64-unknown-elf)
[[ -f /usr/lib/picolibc/riscv64-unknown-elf/picolibc.specs ]] || pkgs+=(picolibc-riscv64-unknown-elf)
if ((${#pkgs[@]})); then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${pkgs[@]}" >/dev/null
fi
command -v cmake >/dev/null || scripts/install-deps.sh
# The Debian Rust and ARM GCC packages the firmware route uses.
FIRMWARE_LIB_INSTALL_ONLY=1 scripts/firmware-lib.sh >/dev/null
cargo build -q -p iotx-coap-sim -p iotx-coap-relay
bin=${CARGO_TARGET_DIR:-target}/debug

if ((${#machines[@]} > 1)); then
    # One run of this script per machine, QEMU_TEST_JOBS at a time, each with
    # its own emulator and relay; their outputs in order, then a summary.
    started=$(date +%s)
    logs=$(mktemp -d "${TMPDIR:-/tmp}/qemu-all.XXXXXX")
    printf '%s\n' "${machines[@]}" |
        xargs -P "${QEMU_TEST_JOBS:-2}" -I{} sh -c '"$0" --machine "$1" >"$2/$1.log" 2>&1; echo $? >"$2/$1.rc"' \
            "$0" {} "$logs"
    failed=()
    for m in "${machines[@]}"; do
        echo "======== $m"
        cat "$logs/$m.log"
        [[ "$(cat "$logs/$m.rc" 2>/dev/null)" == 0 ]] || failed+=("$m")
    done
    echo "== qemu-test: summary (PSK session unless noted; bytes)"
    printf '  %-14s %-28s %9s %8s %10s %9s %6s %7s %7s %6s\n' machine target answered renewal heap-deinit peak-heap stack static RAM flash
    for m in "${machines[@]}"; do
        grep '^qemu-test-summary ' "$logs/$m.log" | cut -d' ' -f2- |
            awk '{ printf "  %-14s %-28s %9s %8s %10s %9s %6s %7s %7s %6s\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $10 }' || true
    done
    echo "qemu-test: wall time of the QEMU set: $(($(date +%s) - started)) s (${#machines[@]} machines, ${QEMU_TEST_JOBS:-2} at a time)"
    rm -rf "$logs"
    if ((${#failed[@]})); then
        echo "qemu-test: FAIL on: ${failed[*]}" >&2
        exit 1
    fi
    echo "qemu-test: all machines passed"
    exit 0
fi
machine=${machines[0]}
board=$machine
qemu_serial_console=1
case $machine in
mps2-an386) toolchain=cortex-m4f; qemu=(qemu-system-arm -M mps2-an386) ;;
mps2-an385) toolchain=cortex-m3; qemu=(qemu-system-arm -M mps2-an385) ;;
mps2-an505) toolchain=cortex-m33; qemu=(qemu-system-arm -M mps2-an505) ;;
# One UART (the link): the console goes through semihosting.
microbit) toolchain=cortex-m0; qemu=(qemu-system-arm -M microbit); qemu_serial_console=0 ;;
riscv-virt) toolchain=riscv32imac; qemu=(qemu-system-riscv32 -M virt -bios none); qemu_serial_console=0 ;;
# The same board with the A (atomics) extension turned off: an RV32IMC core,
# which traps on any amo*/lr/sc instruction.
riscv-virt-imc)
    toolchain=riscv32imc; board=riscv-virt; qemu_serial_console=0
    qemu=(qemu-system-riscv32 -M virt -cpu rv32,a=false -bios none) ;;
*) echo "qemu-test: unknown machine $machine" >&2; exit 2 ;;
esac
qemu+=(-nographic -monitor none)
if [[ $board == riscv-virt ]]; then
    tools=riscv64-unknown-elf
else
    tools=arm-none-eabi
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/qemu-test.XXXXXX")
pids=()
cleanup() {
    local p
    for p in ${pids[@]+"${pids[@]}"}; do
        kill "$p" 2>/dev/null || true
    done
    for p in ${pids[@]+"${pids[@]}"}; do
        wait "$p" 2>/dev/null || true
    done
    if [[ "${QEMU_TEST_KEEP:-0}" == 1 ]]; then
        echo "qemu-test: work directory kept: $work" >&2
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Runs QEMU in the background (so cleanup can stop it too), bounded by a
# timeout; returns its exit status.
boot() {
    local rc=0
    timeout "${QEMU_TEST_TIMEOUT:-120}" "${qemu[@]}" "$@" </dev/null &
    pids+=($!)
    wait "${pids[-1]}" || rc=$?
    return "$rc"
}

fail() {
    echo "qemu-test: FAIL: $*" >&2
    for f in console.log panic-console.log handler-console.log relay.err sim.err; do
        if [[ -s "$work/$f" ]]; then
            echo "---- $f" >&2
            tail -n 40 "$work/$f" >&2
        fi
    done
    exit 1
}

field() { sim_addr "$1" "$2"; }

ttl=3
sim_start "$work/sim.out" "$work/sim.err" "$bin/iotx-coap-sim" \
    --plain-port 0 --psk-port 0 --no-dtls --token-ttl "$ttl" \
    --device "$SIM_TEST_DEVICE" --log "$work/sim.log" --quiet ||
    fail "no listening line from the emulator"
pids+=("$SIM_PID")
sim_line=$SIM_LISTENING
"$bin/iotx-coap-relay" --quiet >"$work/relay.out" 2>"$work/relay.err" &
pids+=($!)
wait_listening "$work/relay.out" "${pids[-1]}" "the relay" || fail "no listening line from the relay"
relay_line=$LISTENING_LINE
plain=$(field plain "$sim_line")
psk=$(field psk "$sim_line")
serial=$(field serial "$relay_line")

# A PATH with cmake, make and the cross tools but no cargo or rustc: the
# prebuilt-archive route must not need Rust.
no_rust_path() {
    local d=$work/no-rust-bin tool
    mkdir -p "$d"
    for tool in cmake make $(compgen -c arm-none-eabi- | sort -u) $(compgen -c riscv64-unknown-elf- | sort -u); do
        ln -sf "$(command -v "$tool")" "$d/"
    done
    if PATH=$d command -v cargo >/dev/null || PATH=$d command -v rustc >/dev/null; then
        fail "cargo or rustc still on the restricted PATH"
    fi
    echo "$d"
}

# Configures and builds the image for $machine into $work/DIR with cargo
# target dir CARGO_DIR; the rest are main.c's settings (NAME=VALUE). With
# QEMU_TEST_PACKAGE, firmware/from-package against that unpacked archive
# (find_package), with no Rust on PATH; else firmware/, which adds the
# library's source tree (add_subdirectory).
build_image() {
    local dir=$1 cargo_dir=$2 defines src=firmware path=$PATH
    shift 2
    defines=$(IFS=';'; echo "$*")
    local args=(-DCMAKE_TOOLCHAIN_FILE="$PWD/firmware/cmake/$toolchain.cmake" -DIOTX_FW_BOARD="$board"
        "-DFW_DEFINES=$defines")
    if [[ -n "${QEMU_TEST_PACKAGE:-}" ]]; then
        src=firmware/from-package
        path=$(no_rust_path)
        args+=(-DCMAKE_PREFIX_PATH="$(realpath "$QEMU_TEST_PACKAGE")")
    else
        args+=(-DIOTX_COAP_CARGO_TARGET_DIR="$cargo_dir")
    fi
    PATH=$path cmake -S "$src" -B "$work/$dir" "${args[@]}" >"$work/$dir.configure.log" 2>&1 ||
        fail "configure $dir: $(tail -n 20 "$work/$dir.configure.log")"
    grep '^-- iotx-coap' "$work/$dir.configure.log" | sed 's/^/  /'
    PATH=$path cmake --build "$work/$dir" -j 2 >"$work/$dir.build.log" 2>&1 ||
        fail "build $dir: $(tail -n 30 "$work/$dir.build.log")"
}
target_dir=$(realpath -m "${FIRMWARE_TARGET_DIR:-target/firmware}")
echo "== qemu-test: $machine: building the image (CMake, toolchain file $toolchain.cmake${QEMU_TEST_PACKAGE:+, prebuilt archive, no Rust on PATH})"
# shellcheck disable=SC2086 # QEMU_TEST_DEFINES: extra NAME=VALUE settings of main.c
build_image fw "$target_dir" "IOTX_PLAIN_URL=\"coap://$plain\"" "IOTX_PSK_URL=\"coap-psk://$psk\"" \
    "IOTX_TOKEN_TTL_MS=$((ttl * 1000))" ${QEMU_TEST_DEFINES:-}
lib=${QEMU_TEST_PACKAGE:+$QEMU_TEST_PACKAGE/lib/libiotx_coap.a}
lib=${lib:-$work/fw/iotx-coap/lib/libiotx_coap.a}
cp "$work/fw/fw.elf" "$work/fw.elf"
cp "$work/fw/fw.map" "$work/fw.map"
cp "$work/fw/fw-alloc-failure.elf" "$work/panic.elf"

# The console: the first serial port, or (one UART, which is the link) the
# semihosting chardev. $1: the console file; $2: the link's serial setting.
console_args() {
    if ((qemu_serial_console)); then
        echo "-semihosting-config enable=on,target=native -serial file:$1 -serial $2"
    else
        echo "-chardev file,id=shcon,path=$1 -semihosting-config enable=on,target=native,chardev=shcon -serial $2"
    fi
}
echo "== qemu-test: booting $machine (plain coap://$plain, PSK coap-psk://$psk, relay $serial)"
status=0
# shellcheck disable=SC2046 # console_args: words
boot $(console_args "$work/console.log" "tcp:$serial") -kernel "$work/fw.elf" || status=$?
tr -d '\r' <"$work/console.log" >"$work/console.txt"
sed 's/^/  | /' "$work/console.txt"
((status == 0)) || fail "image exited with status $status"

expect() { grep -qxF -- "$1" "$work/console.txt" || fail "console lacks: $1"; }
for mode in plain psk; do
    expect "[app] $mode: auth ok"
    expect "[app] $mode: 20/20 uplinks answered 2.05"
    expect "[app] $mode: uplink after token expiry answered 2.05"
    # The emulator's view: every uplink (20 + the one after expiry) accepted
    # exactly once on this listener, one 4.01 for the expired token, a
    # second auth for the renewal.
    for n in $(seq 1 21); do
        c=$(grep '"event":"uplink_accepted"' "$work/sim.log" | grep "\"listener\":\"$mode\"" |
            grep -c "mode.\{0,4\}:.\{0,4\}$mode.\{0,4\},.\{0,4\}n.\{0,4\}:$n," || true)
        ((c == 1)) || fail "$mode uplink $n accepted $c times by the emulator"
    done
    expired=$(grep '"event":"uplink_rejected"' "$work/sim.log" | grep "\"listener\":\"$mode\"" |
        grep -c '"code":"4.01"' || true)
    ((expired >= 1)) || fail "$mode: the emulator never answered 4.01"
    auths=$(grep '"event":"auth_accepted"' "$work/sim.log" | grep -c "\"listener\":\"$mode\"" || true)
    # More than 2 only if a slow machine outlived the token mid-sequence.
    ((auths >= 2)) || fail "$mode: $auths auths, expected 2 (initial + renewal)"
done
expect "[app] PASS"
grep -q '^\[app\] heap after deinit: \([0-9]*\) bytes in \([0-9]*\) blocks (at start: \1 in \2)$' \
    "$work/console.txt" || fail "heap not back to its starting level"

echo "== qemu-test: $machine: library abort on the device (allocation failure)"
status=0
# shellcheck disable=SC2046
boot $(console_args "$work/panic-console.log" null) -kernel "$work/panic.elf" || status=$?
tr -d '\r' <"$work/panic-console.log" | sed 's/^/  | /'
((status == 3)) || fail "abort image exited with status $status, expected 3 (fault)"
grep -q '^\[board\] HALTED: Rust panic/abort in iotx-coap' "$work/panic-console.log" ||
    fail "the fault handler did not report the library's abort"

if [[ "${QEMU_TEST_PANIC_HANDLER:-0}" == 1 && $machine == mps2-an386 && -z "${QEMU_TEST_PACKAGE:-}" ]]; then
    # The #[panic_handler] only runs with a panic strategy that calls it:
    # build the library once more with -Cpanic=abort (RUSTFLAGS replaces the
    # config's flags) and expect its line, then the board's watchdog.
    echo "== qemu-test: the library's #[panic_handler] (library built with -Cpanic=abort)"
    RUSTFLAGS="-Cpanic=abort -Cforce-unwind-tables=no --cfg aes_compact" \
        build_image handler "$target_dir-panic-abort"
    cp "$work/handler/fw-alloc-failure.elf" "$work/handler.elf"
    status=0
    # shellcheck disable=SC2046
    boot $(console_args "$work/handler-console.log" null) -kernel "$work/handler.elf" || status=$?
    tr -d '\r' <"$work/handler-console.log" | sed 's/^/  | /'
    ((status == 6)) || fail "panic-handler image exited with status $status, expected 6 (watchdog)"
    grep -q '^\[crt\] iotx-coap: panic, device halted at .*:[0-9][0-9]*.$' "$work/handler-console.log" ||
        fail "the library's panic handler did not print its line"
fi

# ---- figures ----------------------------------------------------------
figure() { sed -n "s/^\[figures\] phase=$1 .*$2=\([0-9]*\).*/\1/p" "$work/console.txt"; }
section() { "$tools-size" -A "$work/fw.elf" | awk -v s="$1" '$1 == s { n = $2 } END { print n + 0 }'; }
# Bytes of the map's input sections from each origin, per output section
# kind (flash = code/rodata/data image, ram = data/bss).
read -r lib_flash lib_ram < <(awk '
    function hex(s,    n, i) {
        n = 0
        s = tolower(substr(s, 3))
        for (i = 1; i <= length(s); i++) n = n * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
        return n
    }
    /^Linker script and memory map/ { on = 1; next }
    !on { next }
    /^\.[a-z]/ { out = $1 }
    {
        for (i = 1; i < NF; i++) if ($i ~ /^0x[0-9a-f]+$/ && $(i + 1) ~ /^0x[0-9a-f]+$/) break
        if (i >= NF || $NF !~ /libiotx_coap\.a\(/) next
        size = hex($(i + 1))
        if (out == ".text" || out == ".vectors" || out == ".ARM.exidx" || out == ".data") flash += size
        if (out == ".data" || out == ".bss") ram += size
    }
    END { printf "%d %d\n", flash, ram }' "$work/fw.map")
goal_heap=$(figure psk-auth+20 heap_peak)
goal_stack=$(figure psk-auth+20 stack_hwm)
heap_peak=$(figure psk heap_peak)
heap_peak_plain=$(figure plain heap_peak)
heap_extent=$(figure psk heap_extent)
stack_hwm=$(figure psk stack_hwm)
stack_hwm_plain=$(figure plain stack_hwm)
stack_at_hal=$(figure psk stack_at_hal)
data=$(section .data)
bss=$(section .bss)
static_ram=$((data + bss))
flash=$(($(section .vectors) + $(section .text) + $(section .ARM.exidx) + data))
sum=$((heap_peak + stack_hwm + static_ram))
goal_sum=$((goal_heap + goal_stack + static_ram))
target=$(sed -n 's/^-- iotx-coap: Rust target \([^ ]*\).*/\1/p' "$work/fw.configure.log" | head -n 1)
answered=$(sed -n 's/^\[app\] psk: \([0-9]*\/[0-9]*\) uplinks answered 2.05$/\1/p' "$work/console.txt")
heap_deinit=$(sed -n 's/^\[app\] heap after deinit: \([0-9]*\) bytes.*/\1/p' "$work/console.txt")
cat <<REPORT
== qemu-test: on-target figures ($machine, $target, library from $lib)
  PSK session (Init, auth, 20 + 1 uplinks of 64 bytes, 4.01 renewal, Deinit):
  peak heap:                                    $heap_peak bytes (HAL_Malloc high-water, 8-byte block headers included; plain: $heap_peak_plain)
  heap arena extent ever used (whole run):      $heap_extent bytes (with fragmentation)
  stack high-water:                             $stack_hwm bytes (painted stack; plain: $stack_hwm_plain)
    of which down to the library's deepest HAL call: $stack_at_hal bytes (the rest: the HAL's own frames)
  static RAM (.data + .bss of the image):       $static_ram bytes (library's share: $lib_ram)
  RAM total (peak heap + stack + static):       $sum bytes
  RAM for auth + 20 PSK uplinks of 64 bytes:    $goal_sum bytes (heap $goal_heap + stack $goal_stack + static $static_ram; goal <= 7168, vendor client ~14.7 KB)
  flash (whole image):                          $flash bytes (library's share: $lib_flash)
REPORT
echo "qemu-test-summary $machine $target $answered+1 yes $heap_deinit $heap_peak $stack_hwm $static_ram $sum $flash"
stack_budget=${QEMU_TEST_STACK_BUDGET:-2048}
for s in "$stack_hwm" "$stack_hwm_plain" "$goal_stack"; do
    ((s <= stack_budget)) || fail "stack high-water $s bytes is over the budget of $stack_budget bytes"
done
echo "qemu-test: $machine: all checks passed (stack high-water $stack_hwm <= $stack_budget bytes)"
