# shellcheck shell=bash
# bench/lib.sh — helpers shared by every bench/<name>/run.  Source it:
#
#   #!/usr/bin/env bash
#   set -euo pipefail
#   . "$(dirname "$0")/../lib.sh"
#   bench_init ocsp                 # name, temp dir, clean-up on exit
#   bench_build                     # release build of llave, llaved, bench_*
#   bench_demo                      # temporary demo install -> $BENCH_DEMO
#   bench_server "$BENCH_DEMO"      # llaved on a free port -> $BENCH_URL
#   ours=$(bench_wrk_post "$BENCH_URL/ocsp" req.der application/ocsp-request)
#   peer=$(bench_speed_rsa 2048 sign)
#   bench_result ocsp "$ours" "$peer" req/s
#
# Every figure goes to stderr as the bench runs; stdout carries the figures
# the caller captures and, last, the line bench/run collects:
#   RESULT <name> ours=<n> peer=<n> ratio=<ours/peer> unit=<unit>
#
# Environment:
#   LLAVE_BENCH_BUILD  build directory (default build-release).  Engineers
#                      sharing one tree should each use their own.
#   BENCH_CPUS         processes/threads for load and ceilings (default nproc)
#   BENCH_SECONDS      duration of openssl speed and wrk runs (default 5)
#   LLAVE_KEEP_TMP=1   keep the temporary directory for inspection

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_CPUS=${BENCH_CPUS:-$(nproc 2>/dev/null || echo 2)}
BENCH_SECONDS=${BENCH_SECONDS:-5}
BENCH_PIDS=()

# ---- life cycle --------------------------------------------------------------

bench_log() {
    printf '[%s] %s\n' "${BENCH_NAME:-bench}" "$*" >&2
}

bench_die() {
    bench_log "error: $*"
    exit 1
}

# bench_need CMD... — fails with the package hint when a tool is missing.
bench_need() {
    local c
    for c in "$@"; do
        command -v "$c" >/dev/null 2>&1 ||
            bench_die "$c is not installed (scripts/setup installs it)"
    done
}

bench_cleanup() {
    local pid
    for pid in "${BENCH_PIDS[@]}"; do
        kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    done
    BENCH_PIDS=()
    if [ -n "${BENCH_TMP:-}" ] && [ -d "$BENCH_TMP" ]; then
        if [ -n "${LLAVE_KEEP_TMP:-}" ]; then
            bench_log "kept $BENCH_TMP"
        else
            rm -rf "$BENCH_TMP"
        fi
    fi
}

# bench_init NAME — names the bench, makes $BENCH_TMP, cleans up on exit
# (servers started with bench_server are stopped by their PID).
bench_init() {
    BENCH_NAME=$1
    bench_need openssl awk
    BENCH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/llave-bench-$BENCH_NAME.XXXXXX")
    trap bench_cleanup EXIT
    trap 'exit 130' INT TERM
    bench_log "$(uname -m), $BENCH_CPUS CPUs, $(openssl version | cut -d' ' -f1-2)"
}

# ---- building and installing -------------------------------------------------

# bench_build [TARGET...] — release build (-O3, no sanitizers) into
# $LLAVE_BENCH_BUILD; sets BENCH_BUILD, LLAVE, LLAVED.  Default targets:
# llave, llaved and every bench_* program.  llave-keyd is always built:
# llave and llaved start it from their own directory (issue 12).
bench_build() {
    BENCH_BUILD=${LLAVE_BENCH_BUILD:-$BENCH_ROOT/build-release}
    bench_need cmake
    bench_log "building (Release) in $BENCH_BUILD"
    cmake -S "$BENCH_ROOT" -B "$BENCH_BUILD" -DCMAKE_BUILD_TYPE=Release \
        -DLLAVE_SANITIZE=OFF >/dev/null ||
        bench_die "cmake configure failed"
    local targets=("$@")
    [ ${#targets[@]} -eq 0 ] || targets+=(llave-keyd)
    if [ ${#targets[@]} -eq 0 ]; then
        cmake --build "$BENCH_BUILD" -j "$BENCH_CPUS" >/dev/null ||
            bench_die "build failed (run cmake --build $BENCH_BUILD)"
    else
        cmake --build "$BENCH_BUILD" -j "$BENCH_CPUS" --target "${targets[@]}" \
            >/dev/null || bench_die "build of ${targets[*]} failed"
    fi
    LLAVE=$BENCH_BUILD/llave
    LLAVED=$BENCH_BUILD/llaved
}

# bench_prog NAME — path of a bench program built from bench/*/NAME.c.
bench_prog() {
    local p
    p=$(find "$BENCH_BUILD/bench" -type f -name "$1" -perm -u+x | head -n 1)
    [ -n "$p" ] || bench_die "bench program $1 was not built"
    printf '%s\n' "$p"
}

# bench_demo [DIR] — a demo install (ceremony with RSA-4096 keys, ~10 s) in
# DIR (default $BENCH_TMP/demo); sets BENCH_DEMO and BENCH_PEM (CA chain).
# shellcheck disable=SC2120 # DIR is optional
bench_demo() {
    BENCH_DEMO=${1:-$BENCH_TMP/demo}
    BENCH_PEM=$(dirname "$BENCH_DEMO")/pem
    bench_log "demo install (key ceremony) in $BENCH_DEMO"
    "$LLAVE" init "$BENCH_DEMO" --demo >"$BENCH_TMP/init.log" 2>&1 ||
        bench_die "llave init failed: $(tail -n 3 "$BENCH_TMP/init.log")"
    "$LLAVE" -d "$BENCH_DEMO" ca export "$BENCH_PEM" >/dev/null ||
        bench_die "llave ca export failed"
}

# bench_demo_pkcs11 [DIR] — the same demo install with its keys on a
# PKCS#11 token (issue 16): SoftHSM2 with a token directory of this bench's
# own (SOFTHSM2_CONF, exported so that llaved, llave-keyd and the bench_*
# programs started afterwards inherit it), a fresh token, `llave init
# --keystore pkcs11` with the PIN in LLAVE_PKCS11_PIN.  SoftHSM2 does its
# cryptography in software with OpenSSL, so HSM/file ratios measure our
# overhead per PKCS#11 call and the module's own (goal >= 0.8).  Sets
# BENCH_DEMO_HSM and BENCH_PEM_HSM, and BENCH_P11_MODULE, BENCH_P11_TOKEN,
# BENCH_P11_PIN for bench_p11_rate.  BENCH_HSM=0 skips every HSM figure.
# shellcheck disable=SC2120 # DIR is optional
bench_demo_pkcs11() {
    local home=$BENCH_TMP/softhsm pin=bench-user-pin
    local module=${BENCH_PKCS11_MODULE:-/usr/lib/softhsm/libsofthsm2.so}
    BENCH_P11_MODULE=$module
    BENCH_P11_TOKEN=llave-bench
    BENCH_P11_PIN=$pin
    BENCH_DEMO_HSM=${1:-$BENCH_TMP/demo-hsm}
    BENCH_PEM_HSM=$(dirname "$BENCH_DEMO_HSM")/pem-hsm
    bench_need softhsm2-util
    mkdir -p "$home/tokens"
    printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' \
        "$home" >"$home/softhsm2.conf"
    export SOFTHSM2_CONF=$home/softhsm2.conf
    softhsm2-util --init-token --free --label llave-bench \
        --so-pin bench-so-pin --pin "$pin" >/dev/null ||
        bench_die "softhsm2-util --init-token failed"
    bench_log "demo install on SoftHSM2 (key ceremony) in $BENCH_DEMO_HSM"
    LLAVE_PKCS11_PIN=$pin "$LLAVE" init "$BENCH_DEMO_HSM" --demo \
        --keystore pkcs11 --pkcs11-module "$module" \
        --pkcs11-token llave-bench >"$BENCH_TMP/init-hsm.log" 2>&1 ||
        bench_die "llave init --keystore pkcs11 failed: $(tail -n 3 "$BENCH_TMP/init-hsm.log")"
    "$LLAVE" -d "$BENCH_DEMO_HSM" ca export "$BENCH_PEM_HSM" >/dev/null ||
        bench_die "llave ca export (HSM install) failed"
}

# bench_p11_rate ARGS... — signatures per second of the bare module on the
# token of bench_demo_pkcs11, without llave (bench/p11/bench_p11.c; ARGS:
# --key TEXT | --unwrap [--batch N]), $BENCH_CPUS threads for
# $BENCH_SECONDS: the peer of RESULT *_hsm_module.  Needs bench_p11 among
# bench_build's targets.
bench_p11_rate() {
    local out
    out=$(LLAVE_PKCS11_PIN=$BENCH_P11_PIN "$(bench_prog bench_p11)" \
        --module "$BENCH_P11_MODULE" --token "$BENCH_P11_TOKEN" \
        -t "$BENCH_CPUS" -s "$BENCH_SECONDS" "$@") ||
        bench_die "bench_p11 $* failed"
    bench_log "bench_p11: $out"
    sed -n 's/.* cpu_ms=\([0-9.]*\).*/\1/p' <<<"$out" >"$BENCH_TMP/p11-cpu-ms"
    sed -n 's/.* rate=\([0-9.]*\).*/\1/p' <<<"$out"
}

# bench_p11_cpu_ms — CPU milliseconds per signature of the last
# bench_p11_rate (user + system time of the process).
bench_p11_cpu_ms() {
    cat "$BENCH_TMP/p11-cpu-ms"
}

# bench_keyd_cpu SERVER_PID — CPU seconds (user + system) used so far by
# the llave-keyd processes llaved SERVER_PID started: the difference over
# a run, divided by its signatures, is keyd's CPU per signature, which a
# machine busy with other work changes less than the rates.
bench_keyd_cpu() {
    local pid ticks=0
    for pid in $(pgrep -P "$1" -x llave-keyd); do
        ticks=$((ticks + $(awk '{ print $14 + $15 }' "/proc/$pid/stat")))
    done
    awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.3f\n", t / hz }'
}

# bench_result_module NAME HSM BARE UNIT — llave on the token against the
# bare module doing the same PKCS#11 calls:
# "RESULT NAME_hsm_module ours=HSM peer=BARE ratio=HSM/BARE".
bench_result_module() {
    bench_result "$1_hsm_module" "$2" "$3" "$4"
}

# bench_result_module_cpu NAME KEYD_MS BARE_MS — the same pair by CPU time
# per signature (bench_keyd_cpu, bench_p11_cpu_ms), as signatures per CPU
# second: "RESULT NAME_hsm_module_cpu ours=1000/KEYD_MS peer=1000/BARE_MS".
bench_result_module_cpu() {
    local ours peer
    ours=$(awk -v m="$2" 'BEGIN { print (m > 0 ? 1000 / m : 0) }')
    peer=$(awk -v m="$3" 'BEGIN { print (m > 0 ? 1000 / m : 0) }')
    bench_result "$1_hsm_module_cpu" "$ours" "$peer" sig/cpu-s
}

# bench_hsm — true unless BENCH_HSM=0.
bench_hsm() {
    [ "${BENCH_HSM:-1}" != 0 ]
}

# bench_server DIR [LLAVED ARGS...] — starts llaved on 127.0.0.1 and a free
# port and waits until it listens; sets BENCH_URL and BENCH_SERVER_PID.
bench_server() {
    local dir=$1 out=$BENCH_TMP/llaved.out
    shift
    "$LLAVED" -d "$dir" --port 0 "$@" >"$out" 2>"$BENCH_TMP/llaved.err" &
    BENCH_SERVER_PID=$!
    BENCH_PIDS+=("$BENCH_SERVER_PID")
    for _ in $(seq 300); do
        BENCH_URL=$(sed -n 's/.*listening on \(http[^ ]*\).*/\1/p' "$out")
        [ -n "$BENCH_URL" ] && break
        kill -0 "$BENCH_SERVER_PID" 2>/dev/null ||
            bench_die "llaved exited: $(cat "$BENCH_TMP/llaved.err")"
        sleep 0.1
    done
    [ -n "$BENCH_URL" ] || bench_die "llaved did not start within 30 s"
    bench_log "llaved pid $BENCH_SERVER_PID at $BENCH_URL"
}

# bench_server_stop — stops the server started by bench_server.
bench_server_stop() {
    [ -n "${BENCH_SERVER_PID:-}" ] || return 0
    kill "$BENCH_SERVER_PID" 2>/dev/null || true
    wait "$BENCH_SERVER_PID" 2>/dev/null || true
    local keep=() pid
    for pid in "${BENCH_PIDS[@]}"; do
        [ "$pid" = "$BENCH_SERVER_PID" ] || keep+=("$pid")
    done
    BENCH_PIDS=("${keep[@]}")
    BENCH_SERVER_PID=
}

# ---- ceilings: openssl speed ---------------------------------------------------

# bench_speed ALG... — raw machine-readable output (-mr) of
# `openssl speed -multi $BENCH_CPUS -seconds $BENCH_SECONDS ALG...`.
# With -multi the last +F… line of each algorithm is the sum of all workers.
bench_speed() {
    openssl speed -mr -multi "$BENCH_CPUS" -seconds "$BENCH_SECONDS" "$@" \
        2>/dev/null
}

# Picks field N of the last line starting with TAG (+F2 RSA, +F4 ECDSA,
# +F5 ECDH, +F6 EdDSA) whose bits field (3) is BITS.
bench_speed_field() {
    awk -F: -v tag="$1" -v bits="$2" -v n="$3" \
        '$1 == tag && $3 == bits { v = $n } END { if (v == "") exit 1; print v + 0 }'
}

# bench_speed_rsa BITS sign|verify — RSA operations per second on all CPUs.
bench_speed_rsa() {
    local field=4
    [ "$2" = verify ] && field=5
    local v
    v=$(bench_speed "rsa$1" | bench_speed_field +F2 "$1" "$field") ||
        bench_die "openssl speed rsa$1 gave no figure"
    bench_log "openssl speed -multi $BENCH_CPUS rsa$1: $v $2/s"
    printf '%s\n' "$v"
}

# bench_speed_ecdsa p256|p384 sign|verify — ECDSA operations per second.
bench_speed_ecdsa() {
    local bits=${1#p} field=4
    [ "$2" = verify ] && field=5
    local v
    v=$(bench_speed "ecdsa$1" | bench_speed_field +F4 "$bits" "$field") ||
        bench_die "openssl speed ecdsa$1 gave no figure"
    bench_log "openssl speed -multi $BENCH_CPUS ecdsa$1: $v $2/s"
    printf '%s\n' "$v"
}

# ---- ceilings: commands timed with hyperfine -----------------------------------

# bench_hyperfine_rate PER_WORKER RUNS COMMAND — runs COMMAND PER_WORKER times
# in each of $BENCH_CPUS parallel loops, RUNS times under hyperfine; prints
# completed commands per second (all loops together).  COMMAND is a shell
# command line; its output is discarded.
bench_hyperfine_rate() {
    local per=$1 runs=$2 cmd=$3 loop script csv mean
    bench_need hyperfine
    loop="for i in \$(seq $per); do $cmd >/dev/null 2>&1 || exit 1; done"
    script=$BENCH_TMP/hyperfine-$$.sh
    {
        echo "set -e"
        for _ in $(seq "$BENCH_CPUS"); do echo "( $loop ) &"; done
        # shellcheck disable=SC2016 # expanded by the generated script
        echo 'for p in $(jobs -p); do wait "$p"; done'
    } >"$script"
    csv=$BENCH_TMP/hyperfine-$$.csv
    hyperfine -N --style none --warmup 0 --runs "$runs" \
        --export-csv "$csv" -n rate "bash $script" >/dev/null 2>&1 ||
        bench_die "hyperfine failed on: $cmd"
    mean=$(awk -F, 'NR == 2 { print $2 }' "$csv")
    awk -v n="$((per * BENCH_CPUS))" -v t="$mean" \
        'BEGIN { printf "%.2f\n", n / t }'
}

# ---- load on our own service: wrk ------------------------------------------------

# bench_wrk URL [WRK ARGS...] — requests per second of `wrk` against URL on
# this machine, for $BENCH_SECONDS with $BENCH_CPUS threads and 4 connections
# per thread unless WRK ARGS say otherwise.  Non-2xx answers fail the bench.
# Latency percentiles of the same run: bench_wrk_latency.
bench_wrk() {
    local url=$1 out
    shift
    bench_need wrk
    out=$BENCH_TMP/wrk-$$.out
    wrk --latency -t "$BENCH_CPUS" -c "$((BENCH_CPUS * 4))" \
        -d "${BENCH_SECONDS}s" "$@" "$url" >"$out" 2>&1 ||
        bench_die "wrk failed: $(cat "$out")"
    if grep -q 'Non-2xx or 3xx responses' "$out"; then
        bench_die "wrk got error answers from $url: $(grep Non-2xx "$out")"
    fi
    awk '/^Requests\/sec:/ { print $2 + 0; found = 1 } END { exit !found }' \
        "$out" || bench_die "wrk printed no rate: $(cat "$out")"
}

# bench_wrk_post URL BODY_FILE CONTENT_TYPE [WRK ARGS...] — like bench_wrk
# with every request a POST of BODY_FILE (OCSP, TSA requests).
bench_wrk_post() {
    local url=$1 body=$2 ctype=$3 lua
    shift 3
    lua=$BENCH_TMP/post-$$.lua
    cat >"$lua" <<EOF
local f = assert(io.open("$body", "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "$ctype"
EOF
    bench_wrk "$url" -s "$lua" "$@"
}

# bench_wrk_latency 50|75|90|99 — that percentile of the last bench_wrk run,
# in milliseconds.
bench_wrk_latency() {
    awk -v p="$1%" '$1 == p {
            v = $2; u = v; sub(/^[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
            f = (u == "us") ? 0.001 : (u == "s") ? 1000 : (u == "m") ? 60000 : 1
            printf "%.3f\n", v * f; found = 1
        } END { exit !found }' "$BENCH_TMP/wrk-$$.out" ||
        bench_die "no $1% latency in the last wrk output"
}

# bench_wrk_requests — the number of requests of the last bench_wrk run.
bench_wrk_requests() {
    awk '/ requests in / { print $1; found = 1 } END { exit !found }' \
        "$BENCH_TMP/wrk-$$.out" || bench_die "no request count in the last wrk output"
}

# ---- time and memory of one command ----------------------------------------------

# bench_measure COMMAND [ARGS...] — runs COMMAND; prints "<seconds>
# <peak RSS in KiB>" (largest resident set of it and its children).
# COMMAND's stdout goes to stderr so that only the figures are captured.
bench_measure() {
    bench_need python3
    python3 -c '
import resource, subprocess, sys, time
t0 = time.monotonic()
rc = subprocess.call(sys.argv[1:], stdout=sys.stderr)
t = time.monotonic() - t0
if rc != 0:
    sys.exit(f"{sys.argv[1]} exited with {rc}")
print(f"{t:.3f} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}")
' "$@"
}

# ---- figures ---------------------------------------------------------------------

# bench_ratio OURS PEER — ours/peer with three decimals.
bench_ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "nan"; else printf "%.3f\n", a / b }'
}

# bench_combine_rates N1 RATE1 [N2 RATE2...] — the rate of several runs
# taken together: (N1 + N2 + ...) / (N1/RATE1 + N2/RATE2 + ...).
bench_combine_rates() {
    awk 'BEGIN {
        for (i = 1; i + 1 < ARGC; i += 2) { n += ARGV[i]; t += ARGV[i] / ARGV[i + 1] }
        if (t == 0) exit 1
        printf "%.2f\n", n / t
    }' "$@" || bench_die "cannot combine rates: $*"
}

# bench_mean RATE... — the mean of rates measured over equal durations.
bench_mean() {
    awk 'BEGIN { for (i = 1; i < ARGC; i++) t += ARGV[i]
                 if (ARGC < 2) exit 1; printf "%.2f\n", t / (ARGC - 1) }' "$@" ||
        bench_die "no rates to average"
}

# bench_mean_ms MS... — the mean of CPU times per signature, four decimals
# (an ECDSA signature on the token costs ~0.05 ms).
bench_mean_ms() {
    awk 'BEGIN { for (i = 1; i < ARGC; i++) t += ARGV[i]
                 if (ARGC < 2) exit 1; printf "%.4f\n", t / (ARGC - 1) }' "$@" ||
        bench_die "no CPU times to average"
}

# bench_num N — a figure with two decimals.
bench_num() {
    awk -v a="$1" 'BEGIN { printf "%.2f\n", a }'
}

# bench_compare WHAT OURS PEER PEER_NAME UNIT — the human line "ours next to
# peer" that every bench prints before its RESULT line.
bench_compare() {
    printf '%-34s %10s %s   %s: %s %s   ratio %s\n' "$1" "$(bench_num "$2")" \
        "$5" "$4" "$(bench_num "$3")" "$5" "$(bench_ratio "$2" "$3")"
}

# bench_result_hsm NAME HSM FILE UNIT — the same figure on both back ends
# of one run: "RESULT NAME_hsm_file ours=HSM peer=FILE ratio=HSM/FILE".
bench_result_hsm() {
    bench_result "$1_hsm_file" "$2" "$3" "$4"
}

# bench_result NAME OURS PEER UNIT — the line bench/run collects.
bench_result() {
    printf 'RESULT %s ours=%s peer=%s ratio=%s unit=%s\n' "$1" \
        "$(bench_num "$2")" "$(bench_num "$3")" "$(bench_ratio "$2" "$3")" "$4"
}
