#!/usr/bin/env bash
# Runs the snippets of README.md, examples-c/README.md and emulator/README.md
# as written, so that the docs cannot drift from what works.
#
# Every fenced block must follow a marker line saying how it is checked:
#   <!-- doc-check: run -->           bash, from the repository's root, in
#                                     document order (blocks of one file may
#                                     use what earlier ones built); background
#                                     jobs left running are killed afterwards
#   <!-- doc-check: c-fragment -->    C statements: the #include lines go on
#                                     top, the rest in a main() with the
#                                     names it uses declared; compiled and
#                                     linked against the library and the HAL
#   <!-- doc-check: cmake-project --> a consumer's CMakeLists.txt:
#                                     path/to/iotx-coap becomes this tree, the
#                                     example becomes app.c; configured, built,
#                                     and `app -h` run
#   <!-- doc-check: doctest -->       a Rust block, compiled as a doctest of
#                                     iotx-coap-sim (emulator/src/lib.rs)
#   <!-- doc-check: sample -->        output or data shown, not run (json/text)
#   <!-- doc-check: covered-by PATH --> run elsewhere, e.g. by CI: every
#                                     command line of the block (comments and
#                                     blank lines aside) must appear as it is
#                                     in PATH (for scripts/test.sh itself,
#                                     .ci/run; for benches, the script that
#                                     runs them)
# A block without a marker fails the check.
#
# `cargo install` in the snippets installs into a temporary root put first
# on PATH; cargo builds share CARGO_TARGET_DIR (default: ./target).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
docs=(README.md examples-c/README.md emulator/README.md)

work=$(mktemp -d "${TMPDIR:-/tmp}/doc-check.XXXXXX")
trap 'rm -rf "$work"' EXIT
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}
export CARGO_INSTALL_ROOT=$work/cargo-install
export PATH=$CARGO_INSTALL_ROOT/bin:$PATH
mkdir -p build

# Splits the docs into $work/NNN (block text) and $work/manifest
# ("NNN kind language file:line").
awk -v out="$work" '
    FNR == 1 { marker = ""; infence = 0 }
    infence {
        if ($0 ~ /^```[ \t]*$/) { infence = 0; close(f); next }
        print > f; next
    }
    /^<!-- doc-check: / {
        marker = $0; sub(/^<!-- doc-check: /, "", marker); sub(/ *-->.*$/, "", marker)
        split(marker, w, " "); marker = w[1] (w[2] == "" ? "" : "=" w[2]); next
    }
    /^```/ {
        lang = substr($0, 4); sub(/,.*$/, "", lang)
        n++; f = sprintf("%s/%03d", out, n); printf "" > f
        printf "%03d %s %s %s:%d\n", n, (marker == "" ? "UNMARKED" : marker), \
            (lang == "" ? "-" : lang), FILENAME, FNR >> (out "/manifest")
        infence = 1; marker = ""; next
    }
    NF { marker = "" }
' "${docs[@]}"

failures=0
fail() {
    echo "doc-check: FAILED $*" >&2
    failures=$((failures + 1))
}

run_sh() {
    local id=$1 where=$2
    {
        # Stopped and gone (its ports free) before the next block starts.
        echo 'trap '\''kill $(jobs -p) 2>/dev/null || true; wait'\'' EXIT'
        cat "$work/$id"
    } >"$work/$id.sh"
    if timeout 1800 bash -euo pipefail "$work/$id.sh" </dev/null >"$work/$id.log" 2>&1; then
        echo "doc-check: ok    $where (run)"
    else
        tail -n 40 "$work/$id.log" >&2
        fail "$where: the block exits non-zero (output above)"
    fi
}

c_fragment() {
    local id=$1 where=$2 src=$work/$id.c
    {
        grep '^#include' "$work/$id"
        cat <<'EOF'
#include <string.h>
/* What the fragment names without declaring. */
static iotx_deviceinfo_t devinfo;
static iotx_message_t message;
static int running;
static void on_event(void *context, iotx_coap_event_t event, void *p_data)
{
    (void)context; (void)event; (void)p_data;
}
int main(void)
{
EOF
        grep -v '^#include' "$work/$id"
        echo 'return 0;'
        echo '}'
    } >"$src"
    # Compiled and linked, never run: its URL names the real platform.
    if cc -Wall -Wextra -Werror -Wno-unused-variable -std=c99 -D_DEFAULT_SOURCE -Iinclude "$src" \
        hal/linux/*.c "$CARGO_TARGET_DIR/debug/libiotx_coap.a" -lssl -lcrypto -lpthread \
        -o "$work/$id.bin" >"$work/$id.log" 2>&1; then
        echo "doc-check: ok    $where (C fragment compiled and linked)"
    else
        cat "$work/$id.log" >&2
        fail "$where: the C fragment does not build"
    fi
}

cmake_project() {
    local id=$1 where=$2 dir=$work/$id.proj
    mkdir -p "$dir"
    sed "s|path/to/iotx-coap|$root|g" "$work/$id" >"$dir/CMakeLists.txt"
    cp examples-c/coap-example.c "$dir/app.c"
    if { cmake -S "$dir" -B "$dir/build" -DIOTX_COAP_CARGO_TARGET_DIR="$CARGO_TARGET_DIR" \
            -DIOTX_COAP_BUILD_TESTS=OFF -DIOTX_COAP_BUILD_EXAMPLES=OFF &&
         cmake --build "$dir/build" -j2 && "$dir/build/app" -h; } >"$work/$id.log" 2>&1; then
        echo "doc-check: ok    $where (CMake consumer built and run)"
    else
        tail -n 40 "$work/$id.log" >&2
        fail "$where: the CMake consumer does not build or run"
    fi
}

covered_by() {
    local id=$1 where=$2 path=$3 line missing=0
    [[ -f $path ]] || { fail "$where: covered-by names $path, which does not exist"; return; }
    while IFS= read -r line; do
        line=${line%%#*}
        line=$(sed 's/^[[:space:]]*//; s/[[:space:]]*$//' <<<"$line")
        [[ -z $line ]] && continue
        grep -qF -- "$line" "$path" || { fail "$where: '$line' is not in $path"; missing=1; }
    done <"$work/$id"
    ((missing)) || echo "doc-check: ok    $where (run by $path)"
}

doctests_ran=0
while read -r id kind lang where; do
    case $kind in
        run) run_sh "$id" "$where" ;;
        c-fragment)
            # The fragment links against the C library (no std), unoptimised.
            cargo build -q -p iotx-coap-ffi
            c_fragment "$id" "$where"
            ;;
        cmake-project) cmake_project "$id" "$where" ;;
        doctest)
            [[ $lang == rust ]] || fail "$where: a doctest block must be rust"
            if ((doctests_ran == 0)); then
                doctests_ran=1
                if ! cargo test -q -p iotx-coap-sim --doc >"$work/doctest.log" 2>&1; then
                    cat "$work/doctest.log" >&2
                    fail "the Rust snippets (cargo test -p iotx-coap-sim --doc)"
                fi
            fi
            echo "doc-check: ok    $where (doctest)"
            ;;
        sample)
            [[ $lang == json || $lang == text ]] ||
                fail "$where: only json/text blocks can be samples (this is $lang)"
            ;;
        covered-by=*) covered_by "$id" "$where" "${kind#covered-by=}" ;;
        *) fail "$where: fenced block without a doc-check marker (kind: $kind)" ;;
    esac
done <"$work/manifest"

if ((failures > 0)); then
    echo "doc-check: $failures failure(s)" >&2
    exit 1
fi
echo "doc-check: every snippet passed"
