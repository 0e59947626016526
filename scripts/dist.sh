#!/usr/bin/env bash
# Prebuilt archives for C teams without Rust:
#   scripts/dist.sh [TRIPLE...]     (no argument: every supported triple)
# writes dist/iotx-coap-<version>-<triple>.tar.gz for each, holding
#   include/iotx-coap/        the header sets (2.x at the top, v3.0/, v3/)
#   lib/libiotx_coap.a        the C library for that core
#   lib/libiotx_hal_linux.a   (Linux only) the reference HAL
#   lib/pkgconfig/            iotx-coap.pc (and iotx-hal-linux.pc on Linux)
#   lib/cmake/iotx-coap/      find_package(iotx-coap) -> iotx::coap
#   FOOTPRINT.txt             flash and static RAM of the library's share
#   SHA256SUMS                of every other file
# Each archive is what the CMake route installs (`cmake --install`) for the
# core's toolchain file in firmware/cmake/ (x86_64: the host compiler), so
# the archive and add_subdirectory() give the same library.
#   DIST_DIR   output directory (default: dist)
#   DIST_WORK  build directory (default: target/dist)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

# Rust triple -> toolchain file (empty: the host's Linux compiler).
declare -A toolchain=(
    [x86_64-unknown-linux-gnu]=""
    [thumbv6m-none-eabi]=firmware/cmake/cortex-m0.cmake
    [thumbv7m-none-eabi]=firmware/cmake/cortex-m3.cmake
    [thumbv7em-none-eabihf]=firmware/cmake/cortex-m4f.cmake
    [thumbv8m.main-none-eabihf]=firmware/cmake/cortex-m33.cmake
    [riscv32imc-unknown-none-elf]=firmware/cmake/riscv32imc.cmake
    [riscv32imac-unknown-none-elf]=firmware/cmake/riscv32imac.cmake
)
supported=(x86_64-unknown-linux-gnu thumbv6m-none-eabi thumbv7m-none-eabi thumbv7em-none-eabihf
    thumbv8m.main-none-eabihf riscv32imc-unknown-none-elf riscv32imac-unknown-none-elf)

triples=("$@")
((${#triples[@]})) || triples=("${supported[@]}")
for t in "${triples[@]}"; do
    [[ -v "toolchain[$t]" ]] || { echo "dist: unsupported triple $t (supported: ${supported[*]})" >&2; exit 2; }
done

command -v cmake >/dev/null || scripts/install-deps.sh
version=$(sed -n 's/^version *= *"\([^"]*\)".*/\1/p' Cargo.toml | head -n 1)
dist=$(realpath -m "${DIST_DIR:-dist}")
work=$(realpath -m "${DIST_WORK:-target/dist}")
mkdir -p "$dist" "$work"

for t in "${triples[@]}"; do
    name=iotx-coap-$version-$t
    build=$work/$t
    stage=$work/stage/$name
    rm -rf "$stage"
    args=(-S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DIOTX_COAP_BUILD_EXAMPLES=OFF
        -DIOTX_COAP_BUILD_TESTS=OFF)
    # The cargo target dirs the other routes use (same flags, same output):
    # the library is not built twice.
    if [[ -n "${toolchain[$t]}" ]]; then
        args+=(-DIOTX_COAP_CARGO_TARGET_DIR="$root/target/firmware")
    else
        args+=(-DIOTX_COAP_CARGO_TARGET_DIR="$root/target")
    fi
    if [[ -n "${toolchain[$t]}" ]]; then
        # The bare-metal route needs the cross compiler and Debian's Rust.
        FIRMWARE_LIB_INSTALL_ONLY=1 FIRMWARE_TARGET=$t scripts/firmware-lib.sh >/dev/null
        args+=(-DCMAKE_TOOLCHAIN_FILE="$root/${toolchain[$t]}")
    fi
    echo "== dist: $name"
    cmake "${args[@]}" >"$work/$t.configure.log" || { cat "$work/$t.configure.log" >&2; exit 1; }
    grep '^-- iotx-coap:' "$work/$t.configure.log" | sed 's/^/  /'
    cmake --build "$build" -j 2 >"$work/$t.build.log" 2>&1 || { tail -n 40 "$work/$t.build.log" >&2; exit 1; }
    cmake --install "$build" --prefix "$stage" >/dev/null

    if [[ "$t" == x86_64-unknown-linux-gnu ]]; then
        share=$(bench/linux-share.sh --archive "$stage/lib/libiotx_coap.a")
        printf 'iotx-coap %s for %s\n%s\n' "$version" "$t" "$share" >"$stage/FOOTPRINT.txt"
    else
        FOOTPRINT_ARCHIVE="$stage/lib/libiotx_coap.a" FIRMWARE_TARGET_DIR="$work/footprint-$t" \
            bench/footprint.sh --target "$t" >"$work/$t.footprint.txt"
        {
            echo "iotx-coap $version for $t (bench/footprint.sh: the vendor sample's calls, gcc -Os, --gc-sections)"
            grep -E '^  (flash|static RAM)' "$work/$t.footprint.txt"
        } >"$stage/FOOTPRINT.txt"
    fi
    (cd "$stage" && find . -type f ! -name SHA256SUMS -printf '%P\n' | LC_ALL=C sort | xargs sha256sum >SHA256SUMS)
    tar -C "$work/stage" --sort=name --owner=0 --group=0 --numeric-owner -czf "$dist/$name.tar.gz" "$name"
    echo "  $dist/$name.tar.gz"
    sed 's/^/  | /' "$stage/FOOTPRINT.txt"
done
