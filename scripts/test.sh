#!/usr/bin/env bash
# The whole test suite: formatting, lints, Rust unit and integration tests
# (emulator, C ABI, C example end to end, DTLS), then every snippet of the
# docs (scripts/doc-check.sh: the demo, the CMake build with its ctest
# suite, ...), the find_package/add_subdirectory/pkg-config consumers, the
# footprint gate of each of the six microcontroller targets, the wake-cycle
# and CPU benches, a fuzzing smoke and a lossy-network soak
# (docs/testing.md), and the firmware build running in QEMU on each core
# family (M0, M3, M4F, M33, RV32IMAC, RV32IMC) against the emulator.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh

echo "== file-level import cycles (every crate)"
scripts/cycles.sh
echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings
# The C library as it is built alone (no std; a workspace-wide check sees
# the hosted variant, see ffi/build.rs), with and without the session store.
cargo clippy -p iotx-coap-ffi -- -D warnings
cargo clippy -p iotx-coap-ffi --features session-store -- -D warnings
echo "== cargo doc (no warnings)"
RUSTDOCFLAGS=-Dwarnings cargo doc --no-deps -p iotx-coap
# Its own run: both libraries are named iotx_coap (the archive's name).
RUSTDOCFLAGS=-Dwarnings cargo doc --no-deps -p iotx-coap-ffi
echo "== cargo test"
cargo test --workspace
echo "== session store (feature session-store): lints and unit tests"
cargo clippy -p iotx-coap --all-targets --features session-store -- -D warnings
cargo test -p iotx-coap --lib --test rust_session_store --features session-store
echo "== docs: every snippet of the READMEs, run as written"
# Includes the demo, the CMake build with its ctest suite (examples-c/README.md),
# the by-hand and pkg-config builds, and the emulator's load generator.
scripts/doc-check.sh
echo "== cmake consumers (add_subdirectory, find_package)"
tests/cmake-consumer/run.sh
echo "== firmware footprint, six targets (no std; installs its Debian packages)"
# Builds core once per target into target/firmware, which the QEMU set reuses.
bench/footprint.sh --all
echo "== prebuilt archives: the M4F image from an unpacked archive, no Rust on PATH (QEMU)"
tests/dist/run.sh
if bench/footprint.sh --budget 1000 >/dev/null 2>&1; then
    echo "bench/footprint.sh passed a 1,000-byte budget: the gate is broken" >&2
    exit 1
fi
echo "== wake cycle of a battery device: bytes fresh vs resumed (session store)"
bench/wake.sh
echo "== instructions per uplink (callgrind; gated at half the vendor's)"
bench/cpu.sh
echo "== x86_64 share of a linked client, stable route (map check, budget)"
# The budget is today's share + 2%; the goal, the vendor's 47,844 bytes, is
# not met on this route yet (README "Where the x86_64 stable route's bytes go").
bench/linux-share.sh --stable --budget 73856
if bench/linux-share.sh --stable --budget 1000 >/dev/null 2>&1; then
    echo "bench/linux-share.sh passed a 1,000-byte budget: the gate is broken" >&2
    exit 1
fi
echo "== the emulator against libcoap's coap-server-notls, both generators (short; no gate)"
ROUNDS=1 SECS=1 RATES="20000" bench/emulator-vs-libcoap.sh
echo "== retransmission timers over the NB-IoT link model (README \"On NB-IoT links\")"
bench/link.sh --short
echo "== fuzz smoke, 30 s per target (docs/testing.md)"
FUZZ_JOBS=2 scripts/fuzz.sh 30
echo "== lossy-network soak, 100 uplinks per mode (docs/testing.md)"
scripts/soak.sh 100
echo "== firmware in QEMU: M4F mps2-an386, M3 mps2-an385, M33 mps2-an505, M0 microbit, RV32 virt (imac, imc)"
# Also checks the library's #[panic_handler] line on mps2-an386 (a second
# library build). Prints the set's wall time.
QEMU_TEST_PANIC_HANDLER=1 scripts/qemu-test.sh --all
echo "== firmware build with the session store, six targets (core reused from target/firmware)"
for t in thumbv6m-none-eabi thumbv7m-none-eabi thumbv7em-none-eabihf thumbv8m.main-none-eabihf \
    riscv32imc-unknown-none-elf riscv32imac-unknown-none-elf; do
    FIRMWARE_TARGET=$t FIRMWARE_FEATURES=dtls,session-store scripts/firmware-lib.sh
done
echo "test.sh: all suites passed"
