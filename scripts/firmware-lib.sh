#!/usr/bin/env bash
# Builds the no_std C staticlib for a Cortex-M4 (thumbv7em-none-eabihf) the
# way the README tells a firmware team to, and prints the archive's path.
# This script is that route: the cargo command below, then one objcopy.
# Flags that size needs live in .cargo/config.toml, so the documented cargo
# command gets them too. Installs Debian's rustc-web, cargo-web,
# rust-web-src (core/alloc sources for -Zbuild-std) and gcc-arm-none-eabi
# when missing.
#   FIRMWARE_FEATURES  cargo features (default: firmware,dtls)
#   FIRMWARE_TARGET_DIR  cargo target dir (default: target/firmware)
set -euo pipefail
cd "$(dirname "$0")/.."

pkgs=()
[[ -x /usr/bin/rustc && -x /usr/bin/cargo ]] || pkgs+=(rustc-web cargo-web)
[[ -d /usr/lib/rustlib/src/rust/library ]] || pkgs+=(rust-web-src)
command -v arm-none-eabi-gcc >/dev/null || pkgs+=(gcc-arm-none-eabi)
if ((${#pkgs[@]})); then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pkgs[@]}" >/dev/null
fi

features=${FIRMWARE_FEATURES:-firmware,dtls}
target_dir=${FIRMWARE_TARGET_DIR:-target/firmware}
# `cargo rustc --crate-type staticlib`, not `cargo build`: the package also
# declares an rlib, and rustc skips LTO for a build that emits one, so
# `cargo build` leaves every crate in its own object (measured: ~6.7 KB more
# flash). Built alone, the staticlib gets the profile's fat LTO.
RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR=$target_dir /usr/bin/cargo rustc -q -p iotx-coap \
    --lib --crate-type staticlib -Zbuild-std=core,alloc --target thumbv7em-none-eabihf \
    --no-default-features --features "$features" --profile firmware >&2
lib=$target_dir/thumbv7em-none-eabihf/firmware/libiotx_coap.a

# compiler_builtins brings its own memcpy/memmove/memset (as weak symbols,
# ~1 KB) and, being first in the link, would be used instead of the
# firmware's C library, which every C firmware links anyway. Hide them, so
# the library calls the C library's routines like any C code does.
mem_syms=(memcpy memmove memset memcmp bcmp)
for s in memcpy memmove memset memclr; do
    mem_syms+=("__aeabi_$s" "__aeabi_${s}4" "__aeabi_${s}8")
done
arm-none-eabi-objcopy "${mem_syms[@]/#/--localize-symbol=}" "$lib"
echo "$lib"
