#!/usr/bin/env bash
# The prebuilt-archive route, as a C team without Rust takes it: builds the
# Cortex-M4F archive (scripts/dist.sh), unpacks it, checks its SHA256SUMS,
# then builds the QEMU image from it with CMake, the toolchain file and
# find_package() with no cargo or rustc on PATH, and runs it in QEMU
# against the emulator (scripts/qemu-test.sh's checks). Also checks that the
# x86_64 archive links a C program through its pkg-config file.
set -euo pipefail
cd "$(dirname "$0")/../.."

work=$(mktemp -d "${TMPDIR:-/tmp}/iotx-dist.XXXXXX")
trap 'rm -rf "$work"' EXIT

DIST_DIR=$work/dist scripts/dist.sh thumbv7em-none-eabihf x86_64-unknown-linux-gnu
for archive in "$work"/dist/*.tar.gz; do
    tar -C "$work" -xzf "$archive"
done
for pkg in "$work"/iotx-coap-*/; do
    (cd "$pkg" && sha256sum --quiet -c SHA256SUMS) || { echo "dist: $pkg: SHA256SUMS do not match" >&2; exit 1; }
    for f in lib/libiotx_coap.a lib/pkgconfig/iotx-coap.pc lib/cmake/iotx-coap/iotx-coapConfig.cmake \
        FOOTPRINT.txt include/iotx-coap/iotx_coap.h include/iotx-coap/v3/coap_api.h \
        include/iotx-coap/v3.0/coap_api.h; do
        [[ -f "$pkg/$f" ]] || { echo "dist: $pkg lacks $f" >&2; exit 1; }
    done
done

echo "== dist: x86_64 archive through pkg-config"
linux=$(echo "$work"/iotx-coap-*-x86_64-unknown-linux-gnu)
# shellcheck disable=SC2046
PKG_CONFIG_PATH=$linux/lib/pkgconfig gcc -std=c99 -Wall -Wextra -Werror tests/cmake-consumer/main.c \
    -o "$work/consumer" $(PKG_CONFIG_PATH=$linux/lib/pkgconfig pkg-config --cflags --libs iotx-coap iotx-hal-linux)
out=$("$work/consumer")
[[ "$out" == *OK* ]] || { echo "dist: pkg-config consumer printed: $out" >&2; exit 1; }
echo "dist: pkg-config consumer: $out"

echo "== dist: Cortex-M4F archive, QEMU image through find_package(), no Rust on PATH"
QEMU_TEST_PACKAGE=$(echo "$work"/iotx-coap-*-thumbv7em-none-eabihf) scripts/qemu-test.sh
echo "dist: all OK"
