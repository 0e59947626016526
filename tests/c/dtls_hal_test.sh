#!/usr/bin/env bash
# Runs tests/c/dtls_hal_test.c (the reference DTLS HAL, hal/linux/hal_dtls.c)
# against libcoap's coap-server-openssl with a throwaway PKI made here.
#
#   tests/c/dtls_hal_test.sh [PREBUILT_TEST_BINARY]
#
# Without an argument the test is compiled with gcc (or $CC) from the sources.
# Needs: openssl CLI, coap-server-openssl (Debian/Ubuntu: libcoap3-bin),
# OpenSSL headers/libs; valgrind for the leak check (set
# DTLS_HAL_TEST_NO_VALGRIND=1 to skip that step). Exits 77 (skip) when the
# server or the openssl CLI is missing, non-zero on any failure.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)

for tool in openssl coap-server-openssl; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "dtls_hal_test: SKIP: $tool not found"
        exit 77
    fi
done

work=$(mktemp -d "${TMPDIR:-/tmp}/dtls_hal_test.XXXXXX")
pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do
        kill "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT

if [[ $# -ge 1 ]]; then
    bin=$1
else
    bin=$work/dtls_hal_test
    # shellcheck disable=SC2046
    "${CC:-gcc}" -Wall -Wextra -Werror -std=c99 -D_POSIX_C_SOURCE=200809L -g \
        -I"$root/include" "$root/tests/c/dtls_hal_test.c" "$root"/hal/linux/*.c \
        $(pkg-config --libs openssl 2>/dev/null || echo -lssl -lcrypto) -lpthread -o "$bin"
fi

# --- PKI: a CA, a server certificate for 127.0.0.1/localhost, one for some
# other name (same CA), and an unrelated CA.
cd "$work"
mk_ca() {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$1.key" -out "$1.pem" -days 2 -subj "/CN=iotx test $1" \
        -addext basicConstraints=critical,CA:TRUE \
        -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
}
mk_server() {
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$1.key" -out "$1.csr" -subj "/CN=$1" 2>/dev/null
    printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' "$2" >"$1.ext"
    openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial \
        -days 2 -out "$1.pem" -extfile "$1.ext" 2>/dev/null
}
mk_ca ca
mk_ca otherca
mk_server server "IP:127.0.0.1,DNS:localhost"
mk_server wrongname "DNS:other.example,IP:10.9.9.9"
# Several certificates in one PEM text: the trust loop must read past the first.
cat otherca.pem ca.pem >bundle.pem

# --- servers. coap-server listens for DTLS on PORT+1.
udp_listening() { # port
    local hex
    hex=$(printf ':%04X ' "$1")
    grep -q "$hex" /proc/net/udp 2>/dev/null
}
# Starts coap-server-openssl with CERT on a free port; sets $port to its DTLS port.
start_server() { # cert name
    local try base pid
    for try in 1 2 3 4 5 6 7 8; do
        base=$((20000 + (RANDOM % 20000) * 2))
        if udp_listening "$base" || udp_listening $((base + 1)); then
            continue
        fi
        coap-server-openssl -A 127.0.0.1 -p "$base" -c "$1.pem" -j "$1.key" -n \
            >"server-$1-$try.log" 2>&1 &
        pid=$!
        for _ in $(seq 50); do
            if udp_listening $((base + 1)) || ! kill -0 "$pid" 2>/dev/null; then
                break
            fi
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null && udp_listening $((base + 1)); then
            pids+=("$pid")
            port=$((base + 1))
            server_pid=$pid
            return 0
        fi
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    echo "dtls_hal_test: cannot start coap-server-openssl" >&2
    cat server-"$1"-*.log >&2 || true
    return 1
}

fails=0
run() { # description, then the command
    local what=$1
    shift
    echo "== $what"
    if "$@"; then
        echo "   pass"
    else
        echo "   FAIL: $what (exit $?)"
        fails=$((fails + 1))
    fi
}

start_server server
good=$port
start_server wrongname
wrong=$port

run "session, echo, truncation, timeout" "$bin" ok 127.0.0.1 "$good" ca.pem
run "several CAs in p_ca_cert_pem" "$bin" connect 127.0.0.1 "$good" bundle.pem
if [[ $(getent ahosts localhost 2>/dev/null | awk '{print $1; exit}') == 127.0.0.1 ]]; then
    run "DNS name (localhost) checked and accepted" "$bin" connect localhost "$good" ca.pem
fi
run "IOTX_DTLS_CA_FILE replaces p_ca_cert_pem" env IOTX_DTLS_CA_FILE=ca.pem "$bin" connect 127.0.0.1 "$good" -
run "IOTX_DTLS_CA_FILE wins over a good p_ca_cert_pem" env IOTX_DTLS_CA_FILE=otherca.pem "$bin" fail 127.0.0.1 "$good" ca.pem 5000
run "unrelated CA -> NULL" "$bin" fail 127.0.0.1 "$good" otherca.pem 5000
run "no certificate in p_ca_cert_pem -> NULL" "$bin" fail 127.0.0.1 "$good" - 5000
run "IP not in certificate -> NULL" "$bin" fail 127.0.0.1 "$wrong" ca.pem 5000
run "host name not in certificate -> NULL" "$bin" fail localhost "$wrong" ca.pem 5000
run "nothing listening -> NULL, fast" "$bin" fail 127.0.0.1 9 ca.pem 11000
run "silent peer -> NULL within IOTX_DTLS_HANDSHAKE_TIMEOUT_MS" "$bin" silent ca.pem

if [[ ${DTLS_HAL_TEST_NO_VALGRIND:-0} != 1 ]]; then
    if command -v valgrind >/dev/null 2>&1; then
        run "valgrind: session, echo, truncation, timeout" \
            valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99 \
            "$bin" ok 127.0.0.1 "$good" ca.pem
        run "valgrind: certificate failure path" \
            valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99 \
            "$bin" fail 127.0.0.1 "$good" otherca.pem 20000
    else
        echo "== valgrind not installed: FAIL (set DTLS_HAL_TEST_NO_VALGRIND=1 to skip)"
        fails=$((fails + 1))
    fi
fi

# Last: this one kills its server.
start_server server
run "server killed -> dead-session code" "$bin" dead 127.0.0.1 "$port" ca.pem "$server_pid"

if [[ $fails -ne 0 ]]; then
    echo "dtls_hal_test: $fails check(s) FAILED"
    exit 1
fi
echo "dtls_hal_test: all passed"
