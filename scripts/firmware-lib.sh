#!/usr/bin/env bash
# Builds the no_std C staticlib for a Cortex-M4 (thumbv7em-none-eabihf; or
# FIRMWARE_TARGET) the way the README tells a firmware team to, and prints
# the archive's path.
# This script is that route: the cargo command below, then one objcopy.
# Flags that size needs live in .cargo/config.toml (stable ones) and
# ffi/build-std.toml (those of the core-from-source route), so the
# documented cargo command gets them too. Installs Debian's rustc-web, cargo-web,
# rust-web-src (core/alloc sources for -Zbuild-std) and gcc-arm-none-eabi
# when missing.
#   FIRMWARE_FEATURES  cargo features of iotx-coap-ffi (default: dtls)
#   FIRMWARE_TARGET_DIR  cargo target dir (default: target/firmware)
#   FIRMWARE_TARGET  Rust target (default: thumbv7em-none-eabihf); bench/footprint.sh
#                    passes each of its six
#   FIRMWARE_LIB_INSTALL_ONLY=1  only install the packages, build nothing
set -euo pipefail
cd "$(dirname "$0")/.."

pkgs=()
[[ -x /usr/bin/rustc && -x /usr/bin/cargo ]] || pkgs+=(rustc-web cargo-web)
[[ -d /usr/lib/rustlib/src/rust/library ]] || pkgs+=(rust-web-src)
command -v arm-none-eabi-gcc >/dev/null || pkgs+=(gcc-arm-none-eabi)
command -v riscv64-unknown-elf-gcc >/dev/null || pkgs+=(gcc-riscv64-unknown-elf)
[[ -f /usr/lib/picolibc/riscv64-unknown-elf/picolibc.specs ]] || pkgs+=(picolibc-riscv64-unknown-elf)
if ((${#pkgs[@]})); then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pkgs[@]}" >/dev/null
fi

[[ "${FIRMWARE_LIB_INSTALL_ONLY:-0}" == 1 ]] && exit 0

features=${FIRMWARE_FEATURES:-dtls}
triple=${FIRMWARE_TARGET:-thumbv7em-none-eabihf}
target_dir=${FIRMWARE_TARGET_DIR:-target/firmware}
RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR=$target_dir /usr/bin/cargo build -q \
    -p iotx-coap-ffi --profile firmware --target "$triple" --config ffi/build-std.toml \
    --no-default-features --features "$features" >&2
lib=$target_dir/$triple/firmware/libiotx_coap.a

# compiler_builtins brings its own memcpy/memmove/memset (as weak symbols,
# ~1 KB) and, being first in the link, would be used instead of the
# firmware's C library, which every C firmware links anyway. Hide them, so
# the library calls the C library's routines like any C code does.
objcopy=arm-none-eabi-objcopy
[[ $triple == riscv32* ]] && objcopy=riscv64-unknown-elf-objcopy
"$objcopy" --localize-symbols=ffi/localize-symbols.txt "$lib"
echo "$lib"
