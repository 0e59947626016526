#!/usr/bin/env bash
# Builds and runs tests/cmake-consumer twice: once with add_subdirectory() of
# the source tree, once against an installed package (cmake --install into a
# temporary prefix, then find_package). Exits non-zero on any failure.
#
# Environment:
#   CMAKE                        cmake to use (default: cmake on PATH)
#   IOTX_COAP_CARGO_TARGET_DIR   cargo target dir shared by both builds
#                                (default: one under the temporary directory)
#   KEEP_CONSUMER_DIR=1          keep the temporary directory for inspection
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cmake=${CMAKE:-cmake}

work=$(mktemp -d "${TMPDIR:-/tmp}/iotx-consumer.XXXXXX")
cleanup() {
    if [[ -z "${KEEP_CONSUMER_DIR:-}" ]]; then
        rm -rf "$work"
    else
        echo "cmake-consumer: kept $work" >&2
    fi
}
trap cleanup EXIT

# One cargo target dir for both builds so the Rust code compiles once.
cargo_dir=${IOTX_COAP_CARGO_TARGET_DIR:-$work/cargo}
jobs=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)
# Only the library and HAL matter here; the sample and the tests would only
# slow both builds down.
common=(-DCMAKE_BUILD_TYPE=Debug
        -DIOTX_COAP_CARGO_TARGET_DIR="$cargo_dir"
        -DIOTX_COAP_BUILD_EXAMPLES=OFF
        -DIOTX_COAP_BUILD_TESTS=OFF)

run_consumer() {
    local bin=$1 what=$2 output
    if ! output=$("$bin"); then
        echo "cmake-consumer ($what): $bin failed: $output" >&2
        return 1
    fi
    if [[ "$output" != *OK* ]]; then
        echo "cmake-consumer ($what): unexpected output: $output" >&2
        return 1
    fi
    echo "cmake-consumer ($what): $output"
}

echo "== add_subdirectory() ==" >&2
"$cmake" -S "$here" -B "$work/subdir" -DUSE_SUBDIR=ON -DIOTX_COAP_SOURCE_DIR="$root" "${common[@]}"
"$cmake" --build "$work/subdir" -j "$jobs"
run_consumer "$work/subdir/consumer" add_subdirectory

echo "== install + find_package() ==" >&2
"$cmake" -S "$root" -B "$work/lib" -DCMAKE_INSTALL_PREFIX="$work/prefix" "${common[@]}"
"$cmake" --build "$work/lib" -j "$jobs"
"$cmake" --install "$work/lib"
"$cmake" -S "$here" -B "$work/pkg" -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_BUILD_TYPE=Debug
"$cmake" --build "$work/pkg" -j "$jobs"
run_consumer "$work/pkg/consumer" find_package

# The pkg-config file must let a plain compiler command line build the same program.
if command -v pkg-config >/dev/null 2>&1 && command -v "${CC:-cc}" >/dev/null 2>&1; then
    echo "== pkg-config ==" >&2
    pcdir=$(dirname "$(find "$work/prefix" -name iotx-coap.pc | head -n 1)")
    export PKG_CONFIG_PATH="$pcdir${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
    # shellcheck disable=SC2046
    "${CC:-cc}" -std=c99 -Wall -Wextra -Werror "$here/main.c" -o "$work/pc-consumer" \
        $(pkg-config --cflags --libs iotx-coap iotx-hal-linux)
    run_consumer "$work/pc-consumer" pkg-config
fi

echo "cmake-consumer: all OK"
