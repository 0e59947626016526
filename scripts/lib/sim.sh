# Sourced by every script that starts the emulator (bash).
#
#   sim_start OUT ERR SIM_BIN [ARGS...]
#       Starts SIM_BIN ARGS in the background, stdout to OUT, stderr to ERR
#       (ERR may be OUT), and waits for its `listening` line (the first
#       stdout line, printed once every socket is bound and the --ca-out
#       file written). Sets SIM_PID and SIM_LISTENING. When the line does
#       not come within SIM_START_TIMEOUT seconds (default 10), or the
#       emulator exits first, prints why with the emulator's stderr, stops
#       it if it still runs and returns 1; the caller decides whether that
#       ends the script.
#   sim_addr NAME [LINE]
#       The address of listener NAME (plain, psk, dtls) in LINE (default
#       SIM_LISTENING); empty when that listener is off.
#   sim_stop
#       Stops the emulator sim_start started, if it still runs.
#   sim_scheme MODE
#       The URL scheme of listener MODE (plain coap, psk coap-psk, dtls
#       coaps); returns 1 for anything else.
#   SIM_PK, SIM_DN, SIM_DS, SIM_TEST_DEVICE
#       docs/protocol.md's test device, and its --device argument.
#   wait_listening OUT PID WHAT
#       The wait itself, for any process announcing itself with a JSON
#       `listening` line (the relay too): sets LISTENING_LINE, or returns 1.

# Starting the emulator once took up to 2 s on a loaded machine (DTLS
# certificates, debug builds); 10 s leaves room without hiding a hang.
: "${SIM_START_TIMEOUT:=10}"
SIM_PK=a1TestPK001 SIM_DN=dev-001 SIM_DS=s3cr3tS3cr3tS3cr3tS3cr3tS3cr3tAB
SIM_TEST_DEVICE=$SIM_PK:$SIM_DN:$SIM_DS
SIM_PID=""

wait_listening() {
    local out=$1 pid=$2 what=$3 line="" i
    LISTENING_LINE=""
    for ((i = 0; i < SIM_START_TIMEOUT * 20; i++)); do
        line=$(head -n 1 "$out" 2>/dev/null || true)
        # The whole line: the process may be mid-write.
        if [[ "$line" == *'"listening"'*'}' ]]; then
            LISTENING_LINE=$line
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    local status="still running after ${SIM_START_TIMEOUT} s"
    if ! kill -0 "$pid" 2>/dev/null; then
        local rc=0
        wait "$pid" 2>/dev/null || rc=$?
        status="exited with status $rc"
    fi
    echo "sim.sh: $what printed no listening line ($status)" >&2
    return 1
}

sim_start() {
    local out=$1 err=$2 bin=$3
    shift 3
    SIM_PID=""
    SIM_LISTENING=""
    if [[ "$err" == "$out" ]]; then
        "$bin" "$@" >"$out" 2>&1 &
    else
        "$bin" "$@" >"$out" 2>"$err" &
    fi
    SIM_PID=$!
    if ! wait_listening "$out" "$SIM_PID" "the emulator ($bin)"; then
        echo "---- emulator stderr ($err) ----" >&2
        tail -n 50 "$err" >&2 2>/dev/null || true
        echo "---- end ----" >&2
        kill "$SIM_PID" 2>/dev/null || true
        return 1
    fi
    SIM_LISTENING=$LISTENING_LINE
}

sim_addr() {
    sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p" <<<"${2-$SIM_LISTENING}"
}

sim_stop() {
    if [[ -n "$SIM_PID" ]] && kill -0 "$SIM_PID" 2>/dev/null; then
        kill "$SIM_PID" 2>/dev/null || true
        wait "$SIM_PID" 2>/dev/null || true
    fi
}

sim_scheme() {
    case "$1" in
        plain) echo coap ;;
        psk) echo coap-psk ;;
        dtls) echo coaps ;;
        *) return 1 ;;
    esac
}
