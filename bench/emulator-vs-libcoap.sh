#!/usr/bin/env bash
# The emulator (iotx-coap-sim) against libcoap's coap-server-notls, with two
# generators in one run: bench/udpgen/udpgen.c (independent: hand-built
# requests, no project code) and iotx-coap-load (the library's sans-IO
# session per device). Both servers run throughout and the measurements
# alternate between them, so the machine's other load hits both alike.
# Prints figures only: no wall-clock gate.
#
# Like for like: every request is the same CON POST (4-byte token,
# Uri-Path /topic/a1TestPK001/dev-001/update, Content-Format and Accept 50,
# option 2088 carrying a 32-character token, the same 19-byte JSON
# payload). The emulator checks the token it issued at /auth and answers
# 2.05 with option 2090; coap-server-notls (-d: dynamic resources) created
# the resource on the first POST and answers 2.04, storing the payload.
# Neither logs per request (the emulator runs with --no-log; coap-server-notls
# with -v 0).
#
#   bench/emulator-vs-libcoap.sh            # defaults below
#   ROUNDS=3 SECS=3 CLIENTS=16 RATES="20000 100000 160000" THREADS=1 bench/emulator-vs-libcoap.sh
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-2}         # alternations per udpgen measurement
SECS=${SECS:-3}             # seconds per measurement
CLIENTS=${CLIENTS:-16}      # udpgen clients (one socket, one CON in flight each)
# Open loop: offered rates, from one both servers carry to beyond what
# either does here; a server's capacity is where its answered rate stops
# following the offered one.
RATES=${RATES:-20000 60000 100000 140000}
THREADS=${THREADS:-1}       # the emulator's --threads (coap-server-notls has one thread)
DEVICES=${DEVICES:-200}     # iotx-coap-load devices

command -v coap-server-notls >/dev/null || {
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libcoap3-bin >/dev/null
}
cargo build -q --release -p iotx-coap-sim --bins
target=${CARGO_TARGET_DIR:-target}
out=$target/bench-vs-libcoap
mkdir -p "$out"
gcc -O2 -Wall -Wextra -Werror -std=c11 bench/udpgen/udpgen.c -o "$out/udpgen"

pk=a1TestPK001 dn=dev-001 secret=s3cr3tS3cr3tS3cr3tS3cr3tS3cr3tAB
sign=$(printf 'clientId%s.%sdeviceName%sproductKey%s' "$pk" "$dn" "$dn" "$pk" |
    openssl dgst -md5 -hmac "$secret" | awk '{print $NF}')
auth="{\"productKey\":\"$pk\",\"deviceName\":\"$dn\",\"clientId\":\"$pk.$dn\",\"sign\":\"$sign\"}"
path=/topic/$pk/$dn/update

pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT

"$target/release/iotx-coap-sim" --device "$pk:$dn:$secret" --plain-port 0 --no-psk --no-dtls \
    --no-log --quiet --threads "$THREADS" >"$out/sim.out" &
sim=$!
pids+=("$sim")
for _ in $(seq 100); do
    sim_port=$(sed -n 's/.*"plain":"127.0.0.1:\([0-9]*\)".*/\1/p' "$out/sim.out")
    [[ -n $sim_port ]] && break
    sleep 0.05
done
[[ -n $sim_port ]] || { echo "the emulator did not start" >&2; exit 1; }

for _ in $(seq 20); do
    coap_port=$((20000 + RANDOM % 20000))
    coap-server-notls -A 127.0.0.1 -p "$coap_port" -d 100 -v 0 &
    coap=$!
    sleep 0.3
    kill -0 "$coap" 2>/dev/null && break
done
pids+=("$coap")

ticks() { # pid: user+system clock ticks of the whole process
    awk '{print $14 + $15}' "/proc/$1/stat"
}
hz=$(getconf CLK_TCK)

# One udpgen run; appends "rate p50 p99 cpu_us_per_req codes" to $out/$name.
measure() { # name pid port extra-args...
    local name=$1 pid=$2 port=$3
    shift 3
    local t0 line t1 n rate p50 p99 codes
    t0=$(ticks "$pid")
    line=$("$out/udpgen" -q -p "$port" -c "$CLIENTS" -s "$SECS" -u "$path" "$@")
    t1=$(ticks "$pid")
    n=$(sed -n 's/.* answered=\([0-9]*\).*/\1/p' <<<"$line")
    rate=$(sed -n 's/.* rate=\([0-9]*\)\/s.*/\1/p' <<<"$line")
    p50=$(sed -n 's/.* p50=\([0-9.]*\)ms.*/\1/p' <<<"$line")
    p99=$(sed -n 's/.* p99=\([0-9.]*\)ms.*/\1/p' <<<"$line")
    codes=$(sed -n 's/.* codes: \(.*\) resent=.*/\1/p' <<<"$line")
    echo "$rate $p50 $p99 $(awk -v d=$((t1 - t0)) -v n="$n" -v hz="$hz" \
        'BEGIN { printf "%.1f", n ? d * 1e6 / hz / n : 0 }') $codes" >>"$out/$name"
}

# Medians over the rounds of one column.
median() { # file column
    sort -n -k"$2" "$1" | awk -v c="$2" '{ v[NR] = $c } END { print v[int((NR + 1) / 2)] }'
}

echo "udpgen: $CLIENTS clients, $SECS s per run, $ROUNDS alternating runs per row (medians);"
echo "emulator --threads $THREADS, coap-server-notls single-threaded; 2.xx codes checked"
rm -f "$out"/sim-* "$out"/coap-*
modes=(closed)
for r in $RATES; do modes+=("$r"); done
for mode in "${modes[@]}"; do
    args=()
    [[ $mode == closed ]] || args=(-r "$mode")
    for _ in $(seq "$ROUNDS"); do
        measure "sim-$mode" "$sim" "$sim_port" -A "$auth" "${args[@]}"
        measure "coap-$mode" "$coap" "$coap_port" -T 0123456789abcdef0123456789abcdef "${args[@]}"
    done
done
printf '%-34s %25s %25s %7s\n' "" "iotx-coap-sim" "coap-server-notls" "ratio"
printf '%-34s %25s %25s\n' "" "rate   p50    p99  CPU/req" "rate   p50    p99  CPU/req"
row() { # file
    printf '%7s %5s %6s %5sus' "$(median "$1" 1)" "$(median "$1" 2)" "$(median "$1" 3)" "$(median "$1" 4)"
}
for mode in "${modes[@]}"; do
    label="open loop, $mode/s offered"
    [[ $mode == closed ]] && label="closed loop, 1 in flight/client"
    s=$(median "$out/sim-$mode" 1) c=$(median "$out/coap-$mode" 1)
    printf '%-34s %25s %25s %6.2fx\n' "$label" "$(row "$out/sim-$mode")" "$(row "$out/coap-$mode")" \
        "$(awk -v s="$s" -v c="$c" 'BEGIN { print c ? s / c : 0 }')"
done
printf '(rates: answers/s; p50, p99: ms; CPU: the server process per answer; last closed-loop codes: emulator %s, libcoap %s)\n' \
    "$(tail -n1 "$out/sim-closed" | cut -d' ' -f5-)" "$(tail -n1 "$out/coap-closed" | cut -d' ' -f5-)"
kill "${pids[@]}" 2>/dev/null || true
wait 2>/dev/null || true
pids=()

echo
echo "iotx-coap-load: the library's session per device, emulator in-process (--sim-threads $THREADS):"
# One worker: the emulator polls on one core, the generator gets the other.
first=${RATES%% *} last=${RATES##* }
"$target/release/iotx-coap-load" --devices "$DEVICES" --workers 1 --seconds "$SECS" --rate "$first" \
    --sim-threads "$THREADS"
"$target/release/iotx-coap-load" --devices "$DEVICES" --workers 1 --seconds "$SECS" --rate "$last" \
    --sim-threads "$THREADS" | grep 'open'
