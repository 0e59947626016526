#!/usr/bin/env bash
# Installs the system packages the tests and demo use, when missing.
# A fresh machine has the Rust toolchain, gcc, libssl-dev and pkg-config;
# g++ (the headers are also checked as C++),
# cmake (CMake integration tests), valgrind (memcheck runs) and libcoap3-bin
# (interop with libcoap's coap-client/coap-server) come from Debian.
set -euo pipefail

need=()
command -v g++ >/dev/null 2>&1 || need+=(g++)
command -v cmake >/dev/null 2>&1 || need+=(cmake)
command -v valgrind >/dev/null 2>&1 || need+=(valgrind)
command -v coap-client-notls >/dev/null 2>&1 || need+=(libcoap3-bin)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
pkg-config --exists openssl 2>/dev/null || need+=(libssl-dev pkg-config)

if ((${#need[@]})); then
    echo "install-deps: installing ${need[*]}" >&2
    if [[ $(id -u) -ne 0 ]]; then
        SUDO=sudo
    else
        SUDO=
    fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
