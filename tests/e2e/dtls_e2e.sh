#!/usr/bin/env bash
# DTLS (coaps://) failure and recovery paths of the unchanged C sample:
#
#   dtls_e2e.sh EXAMPLE_BIN SIM_BIN OUTAGE_BIN
#
#  1. wrong CA: the handshake fails, IOT_CoAP_Init returns NULL, the log says why
#     (and without the override the HAL is given the embedded platform root CA);
#  2. nothing listening: a clean error, quickly (no hang);
#  3. the emulator is killed (no close_notify) and restarted mid-run: the
#     client builds a new session, re-authenticates and later uplinks succeed;
#  4. a DTLS peer nobody here wrote (libcoap's coap-server-openssl): the
#     session works and the library logs the server's answer to /auth;
#  5. a 12 s outage under steady uplinks (tests/c/dtls_outage.c): one
#     RECV_FAILED, attempts at a new session spaced by a growing backoff,
#     and every uplink answered once the server is back.
# The happy path (handshake, auth, 3 uplinks) is example_e2e.sh dtls.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/sim.sh"

if [[ $# -ne 3 ]]; then
    echo "usage: $0 EXAMPLE_BIN SIM_BIN OUTAGE_BIN" >&2
    exit 2
fi
example=$(realpath "$1")
sim=$(realpath "$2")
outage=$(realpath "$3")
for tool in openssl coap-server-openssl; do
    command -v "$tool" >/dev/null || { echo "dtls_e2e: $tool not found (apt-get install openssl libcoap3-bin)" >&2; exit 1; }
done

readonly PK=$SIM_PK DN=$SIM_DN DS=$SIM_DS
work=$(mktemp -d "${TMPDIR:-/tmp}/dtls_e2e.XXXXXX")
pids=()
cleanup() {
    for p in "${pids[@]}"; do
        kill -9 "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    [[ -n "${KEEP_E2E_DIR:-}" ]] && echo "dtls_e2e: kept $work" >&2 || rm -rf "$work"
}
trap cleanup EXIT
cd "$work"

failures=0
fail() {
    echo "FAIL dtls_e2e: $*" >&2
    for f in "$work"/*.out "$work"/*.log; do
        [[ -f "$f" ]] || continue
        echo "---- $f" >&2
        tail -n 40 "$f" >&2
    done
    failures=$((failures + 1))
}
pass() { echo "PASS dtls_e2e: $*"; }

# A throwaway PKI: our CA with a server certificate for 127.0.0.1/localhost,
# and an unrelated CA.
mk_ca() {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$1.key" -out "$1.pem" -days 2 -subj "/CN=iotx e2e $1" \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
}
mk_ca ca
mk_ca otherca
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server.key -out server.csr \
    -subj /CN=localhost 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >server.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -out server.pem \
    -extfile server.ext 2>/dev/null

free_udp_port() {
    local p hex
    while :; do
        p=$((20000 + RANDOM % 30000))
        hex=$(printf ':%04X ' "$p")
        grep -q "$hex" /proc/net/udp /proc/net/udp6 2>/dev/null || { echo "$p"; return; }
    done
}

# start_sim PORT LOG: the emulator, DTLS only, with the fixed certificate.
start_sim() {
    sim_start "$2.stdout" "$2.stdout" "$sim" --no-plain --no-psk --dtls-port "$1" \
        --cert server.pem --key server.key \
        --device "$PK:$DN:$DS" --log "$2" --quiet || return 1
    sim_pid=$SIM_PID
    pids+=("$sim_pid")
}

count() { grep -c -F "$1" "$2" 2>/dev/null || true; }

# --- 1. wrong CA
start_sim 0 wrongca.log || fail "emulator did not start"
addr=$(sed -n 's/.*"dtls":"\([^"]*\)".*/\1/p' wrongca.log.stdout)
status=0
IOTX_DTLS_CA_FILE=$work/otherca.pem timeout 60 "$example" -u "coaps://$addr" -p "$PK" -d "$DN" -k "$DS" -n 1 \
    >wrongca.out 2>&1 || status=$?
if [[ $status -ne 1 ]]; then
    fail "wrong CA: sample exit status $status, want 1"
elif ! grep -q "IoTx CoAP init failed" wrongca.out; then
    fail "wrong CA: IOT_CoAP_Init did not fail"
elif ! grep -q "certificate: " wrongca.out || ! grep -q "DTLS session could not be created" wrongca.out; then
    fail "wrong CA: no clear log line (HAL certificate error + library reason)"
else
    pass "wrong CA: handshake refused, Init returned NULL: $(grep -m1 'certificate: ' wrongca.out)"
fi
# --- 1b. no override: the library passes the platform's embedded root CA,
# which did not sign the emulator's certificate.
status=0
env -u IOTX_DTLS_CA_FILE timeout 60 "$example" -u "coaps://$addr" -p "$PK" -d "$DN" -k "$DS" -n 1 \
    >defaultca.out 2>&1 || status=$?
if [[ $status -ne 1 ]] || ! grep -q "trusting 1 CA certificate(s) from p_ca_cert_pem" defaultca.out ||
    ! grep -q "certificate: " defaultca.out; then
    fail "default CA: want the embedded root CA offered and refused (status $status)"
else
    pass "default CA: the embedded platform root CA is what the HAL is given"
fi
kill "$sim_pid" 2>/dev/null || true

# --- 2. nothing listening
port=$(free_udp_port)
status=0
start=$SECONDS
IOTX_DTLS_CA_FILE=$work/ca.pem timeout 60 "$example" -u "coaps://127.0.0.1:$port" -p "$PK" -d "$DN" -k "$DS" \
    -n 1 -w 500 >nolistener.out 2>&1 || status=$?
if [[ $status -eq 124 ]]; then
    fail "no emulator: the sample hung"
elif [[ $status -eq 0 ]] || ! grep -q "IoTx CoAP init failed" nolistener.out; then
    fail "no emulator: want a failed Init, got status $status"
else
    pass "no emulator: Init failed cleanly after $((SECONDS - start)) s"
fi

# --- 3. restart mid-run (SIGKILL: the old session just vanishes). With a
# pause, the client's records meet ICMP refusals (a dead-session code from
# the HAL); with none, the new server silently drops them and only the
# client's liveness check (no answer to two retransmissions) notices.
restart_case() { # name, seconds down
    local name=$1 down=$2 port status answers
    port=$(free_udp_port)
    start_sim "$port" "$name-first.log" || { fail "$name: emulator did not start on $port"; return; }
    IOTX_DTLS_CA_FILE=$work/ca.pem timeout 180 "$example" -u "coaps://127.0.0.1:$port" -p "$PK" -d "$DN" \
        -k "$DS" -n 6 -w 100 -t 3000 >"$name.out" 2>&1 &
    local ex_pid=$!
    pids+=("$ex_pid")
    for _ in $(seq 600); do
        (($(count 'response code: 2.05 (0x45)' "$name.out") >= 2)) && break
        sleep 0.05
    done
    if (($(count 'response code: 2.05 (0x45)' "$name.out") < 2)); then
        fail "$name: no uplinks before the restart"
        return
    fi
    kill -9 "$sim_pid"
    wait "$sim_pid" 2>/dev/null || true
    sleep "$down"
    start_sim "$port" "$name-second.log" || { fail "$name: emulator did not restart on $port"; return; }
    status=0
    wait "$ex_pid" || status=$?
    answers=$(count 'response code: 2.05 (0x45)' "$name.out")
    if [[ $status -ne 0 ]]; then
        fail "$name: sample exit status $status ($answers answers)"
    elif (($(count '"event":"auth_accepted"' "$name-second.log") < 1 ||
        $(count '"event":"uplink_accepted"' "$name-second.log") < 1)); then
        fail "$name: the restarted emulator saw no new auth/uplink"
    elif [[ "$down" != 0 ]] && ! grep -q "event 1 (RECV_FAILED)" "$name.out"; then
        fail "$name: the dead session was not reported through event_handle"
    else
        pass "$name: $answers answers, $(count '"event":"uplink_accepted"' "$name-second.log") after the restart over a new session"
    fi
}
restart_case restart-after-pause 1
restart_case restart-instant 0

# --- 4. libcoap's DTLS server (it serves DTLS on its port + 1)
base=$(free_udp_port)
coap-server-openssl -A 127.0.0.1 -p "$base" -c server.pem -j server.key -n >libcoap.log 2>&1 &
pids+=($!)
for _ in $(seq 100); do
    grep -q "$(printf ':%04X ' $((base + 1)))" /proc/net/udp 2>/dev/null && break
    sleep 0.05
done
status=0
IOTX_DTLS_CA_FILE=$work/ca.pem timeout 120 "$example" -u "coaps://127.0.0.1:$((base + 1))" -p "$PK" -d "$DN" \
    -k "$DS" -n 1 >libcoap.out 2>&1 || status=$?
if grep -q "authentication failed: the platform answered [0-9]\.[0-9][0-9]" libcoap.out; then
    pass "libcoap coap-server: DTLS session up, /auth $(grep -o "answered [0-9.]*" libcoap.out | head -1)"
else
    fail "libcoap coap-server: no CoAP answer over DTLS (status $status)"
fi

# --- 5. outage: the emulator is killed for 12 s while uplinks go on.
outage_case() {
    local port down=12 ex_pid
    port=$(free_udp_port)
    start_sim "$port" outage-first.log || { fail "outage: emulator did not start on $port"; return; }
    # The HAL stamps each log line with its uptime (IOTX_HAL_LOG_UPTIME).
    IOTX_HAL_LOG_UPTIME=1 IOTX_DTLS_CA_FILE=$work/ca.pem timeout 200 "$outage" "coaps://127.0.0.1:$port" 24 \
        >outage.out 2>&1 &
    ex_pid=$!
    pids+=("$ex_pid")
    sleep 4
    kill -9 "$sim_pid"
    wait "$sim_pid" 2>/dev/null || true
    sleep "$down"
    start_sim "$port" outage-second.log || { fail "outage: emulator did not restart on $port"; return; }
    wait "$ex_pid" || true
    local verdict
    verdict=$(python3 - outage.out <<'PY'
import re, sys
lines = open(sys.argv[1]).read().splitlines()
summary = [l for l in lines if l.startswith("summary: ")]
if not summary:
    print("FAIL no summary line"); sys.exit()
n = dict((k, int(v)) for k, v in re.findall(r"(\w+)=(\d+)", summary[0]))
tries = [int(m.group(1)) / 1000 for m in
         (re.match(r"\[(\d+)\] .*could not re-create the session", l) for l in lines) if m]
gaps = [round(b - a, 2) for a, b in zip(tries, tries[1:])]
problems = []
if n["recv_failed"] != 1:
    problems.append("%d RECV_FAILED for one outage" % n["recv_failed"])
if n["answered"] != n["sent"] or n["send_failed"]:
    problems.append("not every uplink answered")
if not 2 <= len(tries) <= 7:
    problems.append("%d attempts at a new session in 12 s" % len(tries))
if any(g < 0.45 for g in gaps) or (gaps and gaps[-1] <= gaps[0]):
    problems.append("attempts not spaced by a growing backoff")
print("%s sent=%d answered=%d send_failed=%d recv_failed=%d, %d attempts, gaps %s s" % (
    "FAIL " + "; ".join(problems) if problems else "ok", n["sent"], n["answered"],
    n["send_failed"], n["recv_failed"], len(tries), gaps))
PY
)
    if [[ $verdict == ok* ]]; then
        pass "outage: ${verdict#ok }"
    else
        fail "outage: $verdict"
    fi
}
outage_case

if ((failures)); then
    echo "dtls_e2e: $failures failed" >&2
    exit 1
fi
echo "dtls_e2e: all passed"
