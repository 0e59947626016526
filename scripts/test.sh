#!/usr/bin/env bash
# The whole test suite: formatting, lints, Rust unit and integration tests
# (emulator, C ABI, C example end to end, DTLS), then every snippet of the
# docs (scripts/doc-check.sh: the demo, the CMake build with its ctest
# suite, ...) and the find_package/add_subdirectory/pkg-config consumers.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings
echo "== cargo test"
cargo test --workspace
echo "== docs: every snippet of the READMEs, run as written"
# Includes the demo, the CMake build with its ctest suite (examples-c/README.md),
# the by-hand and pkg-config builds, and the emulator's load generator.
scripts/doc-check.sh
echo "== cmake consumers (add_subdirectory, find_package)"
tests/cmake-consumer/run.sh
echo "test.sh: all suites passed"
