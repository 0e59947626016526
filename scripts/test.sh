#!/usr/bin/env bash
# The whole test suite: formatting, lints, Rust unit and integration tests
# (emulator, C ABI, C example end to end, DTLS), then the CMake build with
# its ctest suite and the find_package/add_subdirectory consumers, then the
# firmware build running in QEMU (Cortex-M4) against the emulator.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings
echo "== cargo test"
cargo test --workspace
echo "== cmake + ctest"
build=build/test
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DIOTX_COAP_BUILD_TESTS=ON >/dev/null
cmake --build "$build" -j2
(cd "$build" && ctest --output-on-failure)
echo "== cmake consumers (add_subdirectory, find_package)"
tests/cmake-consumer/run.sh
echo "== firmware footprint (Cortex-M4, no std; installs its Debian packages)"
bench/footprint.sh
if bench/footprint.sh --budget 1000 >/dev/null 2>&1; then
    echo "bench/footprint.sh passed a 1,000-byte budget: the gate is broken" >&2
    exit 1
fi
echo "== instructions per uplink (callgrind)"
bench/cpu.sh
echo "== firmware on a Cortex-M4 (QEMU mps2-an386)"
scripts/qemu-test.sh
echo "test.sh: all suites passed"
