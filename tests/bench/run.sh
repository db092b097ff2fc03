#!/usr/bin/env bash
# `make bench`: smsgw measured against the raw SIP limit of the same operator, in one run.
#
# One local operator (deploy/local-provider.sh: Kamailio with digest auth on every MESSAGE,
# relaying to a registered sipp handset that answers 200) serves every measurement:
#   baseline  sipp as the gateway's account, 407 answered, stepping the rate up: the highest
#             rate with no failed call is the raw SIP limit of this machine and operator (a
#             failed step is tried once more before it counts)
#   max       smsgw under wrk (closed loop): accepted/s, sent/s, accept and POST->sent latency
#   fixed     smsgw at a fixed rate (tests/bench/pace, open loop): latency, RSS, CPU per message
#   stored    the same with 10k and with 1M sent messages already in the store
# Every measurement is repeated BENCH_REPS times. The table goes to stdout and, with CSV and
# JSON, to $SMSGW_BUILD/bench/results.{txt,csv,json}. Loopback only; every load step is
# bounded and the whole run keeps within BENCH_BUDGET seconds (steps that would not fit are
# skipped and say so).
#
# Settings (environment, defaults in brackets): BENCH_REPS [2], BENCH_BUDGET [270],
# BENCH_BASE_RATES ["2000 4000 6000 8000 10000 12000 16000"], BENCH_BASE_SECS [3],
# BENCH_LOAD_SECS [10], BENCH_WRK_CONNS [32], BENCH_FIXED_RATE [1000], BENCH_FIXED_SECS [20],
# BENCH_STORED_SECS [10], BENCH_STORED_ROWS ["10000 1000000"], BENCH_OP_SHM_MB [1024],
# BENCH_PERF=1 (with perf installed: also profile smsgw in the first run of each kind into
# $SMSGW_BUILD/bench/perf-*.{data,txt}; perf takes CPU from the run),
# BENCH_KEEP=1 (keep the work directory with every log).
set -u
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/../.." && pwd)
cd "$REPO" || exit 1
. "$REPO/deploy/local-provider.sh"

BUILD=${SMSGW_BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$REPO/$BUILD ;; esac
SMSGW_BIN=$BUILD/smsgw
OUT=$BUILD/bench
REPS=${BENCH_REPS:-2}
BUDGET=${BENCH_BUDGET:-270}
BASE_RATES=${BENCH_BASE_RATES:-2000 4000 6000 8000 10000 12000 16000}
BASE_SECS=${BENCH_BASE_SECS:-3}
LOAD_SECS=${BENCH_LOAD_SECS:-10}
WRK_CONNS=${BENCH_WRK_CONNS:-32}
FIXED_RATE=${BENCH_FIXED_RATE:-1000}
FIXED_SECS=${BENCH_FIXED_SECS:-20}
STORED_SECS=${BENCH_STORED_SECS:-10}
STORED_ROWS=${BENCH_STORED_ROWS:-10000 1000000}
OP_SHM_MB=${BENCH_OP_SHM_MB:-1024}
PACE_CONNS=64
DRAIN_MAX=20
DOMAIN=$(lp_setting SMSGW_OP_DOMAIN operator.test)
GW_USER=$(lp_setting SMSGW_OP_GW_USER smsgw)
GW_PASSWORD=$(lp_setting SMSGW_OP_GW_PASSWORD smsgw-secret)
HANDSET=$(lp_setting SMSGW_OP_HANDSET_USER +15550100)
# The operator's own per-MESSAGE log lines would take CPU from everything else on the box.
export SMSGW_OP_DEBUG=${SMSGW_OP_DEBUG:-0}

WORK=
GW_PID=
FAILED=0
TICK=$(getconf CLK_TCK)

say()
{
    printf 'bench: %s\n' "$*" >&2
}

now_ms()
{
    date +%s%3N
}

# Installs what tests/bench/packages lists and is missing (root or sudo).
install_packages()
{
    local p missing="" sudo=""
    for p in $(grep -v '^#' "$BENCH_DIR/packages"); do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
            missing="$missing $p"
    done
    [ -z "$missing" ] && return 0
    say "installing:$missing"
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    # shellcheck disable=SC2086
    $sudo apt-get update -qq &&
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
            $missing
}

# The paced client, built with the project's warning flags.
build_pace()
{
    PACE=$OUT/pace
    [ "$PACE" -nt "$BENCH_DIR/pace.c" ] && return 0
    ${CC:-cc} -std=c11 -D_GNU_SOURCE -O2 -g -Werror -Wall -Wextra -Wpedantic -Wshadow \
        -Wconversion -Wstrict-prototypes -Wmissing-prototypes -Wold-style-definition \
        -Wformat=2 -Wvla -Wcast-qual -Wwrite-strings -Wundef -Wimplicit-fallthrough \
        -Wnull-dereference -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE -pie \
        "$BENCH_DIR/pace.c" -o "$PACE" -lm
}

# Kamailio keeps each relayed MESSAGE's transaction for tm's wait timer (5 s), about 11 KB
# apiece, so the 64 MB of shared memory provider_start asks for runs out near 1,100 MESSAGEs/s
# and the operator answers "500 out of memory": a limit of the test operator, not of SIP or
# of smsgw. BENCH_OP_SHM_MB goes to provider_start as SMSGW_OP_SHM_MB when it knows that
# setting; otherwise a kamailio shim first in PATH changes only the -m argument.
operator_memory()
{
    local real
    export SMSGW_OP_SHM_MB=$OP_SHM_MB
    grep -q SMSGW_OP_SHM_MB "$REPO/deploy/local-provider.sh" && return 0
    real=$(lp_kamailio_bin) || return 1
    mkdir -p "$WORK/bin" || return 1
    cat >"$WORK/bin/kamailio" <<EOF
#!/bin/sh
# Written by tests/bench/run.sh: $real with -m $OP_SHM_MB, all other arguments unchanged.
n=\$#
prev=
for a in "\$@"; do
    [ "\$prev" = -m ] && a=$OP_SHM_MB
    set -- "\$@" "\$a"
    prev=\$a
done
shift "\$n"
exec "$real" "\$@"
EOF
    chmod +x "$WORK/bin/kamailio"
    PATH=$WORK/bin:$PATH
}

# ---- CPU and memory readings ----------------------------------------------------------------

# Prints the CPU ticks (user + system) of the PIDs in the given pid files.
pidfile_ticks()
{
    local f p files=()
    for f in "$@"; do
        [ -f "$f" ] || continue
        while IFS= read -r p; do
            [ -r "/proc/$p/stat" ] && files+=("/proc/$p/stat")
        done <"$f"
    done
    [ ${#files[@]} -eq 0 ] && { echo 0; return; }
    # Field 2 (comm) may hold spaces; count from the last ')'. utime, stime are then 12, 13.
    cat "${files[@]}" 2>/dev/null | awk '{ sub(/^.*\) /, ""); t += $12 + $13 } END { print t + 0 }'
}

gw_ticks()
{
    if [ -n "$GW_PID" ] && [ -r "/proc/$GW_PID/stat" ]; then
        awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$GW_PID/stat"
    else
        echo 0
    fi
}

# "uptime idle" of the whole machine, in seconds (idle summed over the cores). Taken from
# /proc/uptime rather than the jiffies of /proc/stat, which jump on this kind of VM.
machine_ticks()
{
    cat /proc/uptime
}

udp_rcvbuf_errors()
{
    awk '/^Udp: [0-9]/ { print $6 }' /proc/net/snmp
}

# Datagrams dropped so far by the UDP socket bound to 127.0.0.1:PORT (0 if there is none).
sock_drops()
{
    ss -Huamn "sport = :$1" 2>/dev/null | grep -o 'skmem:([^)]*)' | grep -o ',d[0-9]*' |
        tr -d ',d' | awk '{ t += $1 } END { print t + 0 }'
}

# One snapshot: CPU ticks of the gateway, the operator and the handset; machine uptime and
# idle seconds; UDP receive-buffer drops so far: all, at the operator, at the handset.
snapshot()
{
    local hs
    hs=$(basename "$(lp_handset_dir "$WORK" "$HANDSET")")
    echo "$(gw_ticks) $(pidfile_ticks "$WORK/pids/kamailio.pid" \
        "$WORK/pids/kamailio-children.pid") $(pidfile_ticks "$WORK/pids/$hs-uas.pid") \
$(machine_ticks) $(udp_rcvbuf_errors) $(sock_drops "$OP_PORT") $(sock_drops "$HS_PORT")"
}

# cpu_json SNAP_BEFORE SNAP_AFTER: the CPU seconds of each part between two snapshots.
cpu_json()
{
    # shellcheck disable=SC2086
    set -- $1 $2
    awk -v hz="$TICK" -v cores="$(nproc)" -v a="$1 $2 $3 $4 $5 $6 $7 $8" \
        -v b="$9 ${10} ${11} ${12} ${13} ${14} ${15} ${16}" 'BEGIN {
        split(a, x, " "); split(b, y, " ")
        span = (y[4] - x[4]) * cores
        pct = span > 0 ? 100 * (1 - (y[5] - x[5]) / span) : 0
        pct = pct < 0 ? 0 : pct > 100 ? 100 : pct
        printf "{\"gw_s\":%.2f,\"op_s\":%.2f,\"handset_s\":%.2f,\"machine_busy_pct\":%.1f,", \
            (y[1] - x[1]) / hz, (y[2] - x[2]) / hz, (y[3] - x[3]) / hz, pct
        printf "\"udp_rcvbuf_errors\":%d,\"op_udp_drops\":%d,\"handset_udp_drops\":%d}", \
            y[6] - x[6], y[7] - x[7], y[8] - x[8]
    }'
}

# ---- the gateway -------------------------------------------------------------------------

# gw_start DB NAME: starts smsgw on store DB, logging to WORK/NAME.log; returns once
# /health/ready answers 200 (registered). Sets GW_PID, HTTP_PORT, READY_S.
gw_start()
{
    local t0 end
    HTTP_PORT=$(free_port "$WORK") || return 1
    t0=$(date +%s%N)
    SMSGW_SIP_PROXY=sip:127.0.0.1:$OP_PORT SMSGW_HTTP_LISTEN=127.0.0.1:$HTTP_PORT \
        SMSGW_STORE_PATH=$1 "$SMSGW_BIN" --config "$REPO/deploy/smsgw.conf" \
        </dev/null >"$WORK/$2.log" 2>&1 &
    GW_PID=$!
    end=$((SECONDS + 30))
    until curl -sf -o /dev/null "http://127.0.0.1:$HTTP_PORT/health/ready"; do
        if ! kill -0 "$GW_PID" 2>/dev/null || [ $SECONDS -gt $end ]; then
            say "smsgw did not become ready; end of $WORK/$2.log:"
            tail -n 5 "$WORK/$2.log" >&2
            gw_stop
            return 1
        fi
        sleep 0.05
    done
    READY_S=$(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
    # The pre-filled stores are built with the schema the gateway itself created.
    [ -s "$WORK/schema.sql" ] || sqlite3 "$1" .schema >"$WORK/schema.sql"
}

# Peak resident set of the running gateway in MB.
gw_rss_mb()
{
    awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$GW_PID/status" 2>/dev/null || echo 0
}

gw_stop()
{
    [ -n "$GW_PID" ] || return 0
    kill -TERM "$GW_PID" 2>/dev/null
    for _ in $(seq 100); do
        kill -0 "$GW_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$GW_PID" 2>/dev/null
    wait "$GW_PID" 2>/dev/null
    GW_PID=
}

# wait_drain DB: until no message is queued or sending, nothing moved for 3 s (what is left
# waits for a retry timer) or DRAIN_MAX seconds passed.
wait_drain()
{
    local end=$((SECONDS + DRAIN_MAX)) left last="" still=0
    while [ $SECONDS -lt $end ]; do
        left=$(sqlite3 "$1" "SELECT (SELECT count(*) FROM messages WHERE status = 0) +
            (SELECT count(*) FROM messages WHERE status = 1)" 2>/dev/null)
        [ "$left" = 0 ] && return 0
        if [ "$left" = "$last" ]; then
            still=$((still + 1))
            [ $still -ge 6 ] && return 0
        else
            still=0
        fi
        last=$left
        sleep 0.5
    done
}

# perf_start NAME SECONDS: with BENCH_PERF=1, profiles the gateway for SECONDS.
perf_start()
{
    PERF_PID=
    [ "${BENCH_PERF:-0}" = 1 ] && command -v perf >/dev/null || return 0
    perf record -q -F 499 -g -p "$GW_PID" -o "$OUT/perf-$1.data" -- sleep "$2" \
        >/dev/null 2>&1 &
    PERF_PID=$!
}

perf_finish()
{
    [ -n "${PERF_PID:-}" ] || return 0
    wait "$PERF_PID" 2>/dev/null
    perf report -q -i "$OUT/perf-$1.data" --stdio --no-children --sort dso,sym 2>/dev/null |
        grep -v '^$' | head -n 80 >"$OUT/perf-$1.txt"
    PERF_PID=
}

# ---- measurements --------------------------------------------------------------------------

record()
{
    echo "$1" >>"$RESULTS"
}

# Stops the run's clock: 0 when a step of about $1 seconds still fits in the budget.
fits()
{
    if [ $((SECONDS + $1)) -gt "$BUDGET" ]; then
        say "skipping $2: it would not finish within BENCH_BUDGET=${BUDGET}s"
        record "{\"step\":\"skipped\",\"what\":\"$2\"}"
        return 1
    fi
}

# Registers the gateway's account from a sipp UAC, as smsgw would (the operator refuses
# MESSAGEs from senders without a registration: 403 cause 55).
register_account()
{
    local dir=$WORK/register
    mkdir -p "$dir"
    (cd "$dir" && timeout 15 sipp -sf "$BENCH_DIR/sipp/register.xml" -i 127.0.0.1 \
        -p "$(free_port "$WORK")" -t u1 -m 1 -nostdin -s "$GW_USER" -au "$GW_USER" \
        -ap "$GW_PASSWORD" -key domain "$DOMAIN" -key contact_port "$(free_port "$WORK")" \
        -key expires 3600 "127.0.0.1:$OP_PORT" </dev/null >/dev/null 2>"$dir/sipp.err")
}

# sipp_step REP RATE: one raw SIP load step; prints bench.py's JSON for it.
sipp_step()
{
    local dir before after
    dir=$(mktemp -d "$WORK/baseline-$1-$2.XXXX") || return 1
    before=$(snapshot)
    (cd "$dir" && timeout $((BASE_SECS + 20)) sipp -sf "$BENCH_DIR/sipp/message.xml" \
        -i 127.0.0.1 -p "$(free_port "$WORK")" -t u1 -buff_size 4194304 \
        -m $(($2 * BASE_SECS)) -r "$2" -rp 1000 -l $(($2 * 2)) -nostdin -nd \
        -s "$GW_USER" -au "$GW_USER" -ap "$GW_PASSWORD" -key domain "$DOMAIN" \
        -key ruri "sip:$HANDSET@$DOMAIN;user=phone" -recv_timeout 4000 \
        -trace_stat -stf stat.csv -fd 1 -trace_counts -trace_err "127.0.0.1:$OP_PORT" \
        </dev/null >/dev/null 2>"$dir/sipp.err")
    after=$(snapshot)
    local j
    j=$(python3 "$BENCH_DIR/bench.py" sipp "$dir/stat.csv" "$dir"/*_counts.csv "$2" 2>/dev/null) ||
        j="{\"target\":$2,\"clean\":false,\"error\":\"sipp left no statistics\"}"
    echo "${j%\}},\"cpu\":$(cpu_json "$before" "$after")}"
}

# try_rate REP RATE: one baseline step, recorded; 0 when it was clean. Sets STEP_J.
try_rate()
{
    fits $((BASE_SECS + 6)) "baseline $1 at $2/s" || return 2
    STEP_J=$(sipp_step "$1" "$2")
    record "{\"step\":\"baseline_step\",\"rep\":$1,\"sipp\":$STEP_J}"
    if [ "$(json_get "$STEP_J" clean)" = True ]; then
        say "baseline $1: $2/s clean, $(json_get "$STEP_J" achieved)/s achieved"
        return 0
    fi
    say "baseline $1: $2/s NOT clean ($(summary_sipp "$STEP_J"))"
    return 1
}

# baseline REP: steps the rate up until a step fails twice (once may be a hiccup of the shared
# machine), then tries halfway back once. The result is the highest achieved clean rate.
baseline()
{
    local rate best=0 best_j=null ok=0 bad=0 rc
    if ! register_account; then
        say "baseline $1: the sipp UAC could not register $GW_USER"
        record "{\"step\":\"baseline\",\"rep\":$1,\"error\":\"register failed\"}"
        FAILED=1
        return
    fi
    for rate in $BASE_RATES; do
        try_rate "$1" "$rate"
        rc=$?
        [ $rc = 1 ] && { try_rate "$1" "$rate"; rc=$?; }
        [ $rc = 2 ] && break
        [ $rc = 1 ] && { bad=$rate; break; }
        ok=$rate
        best=$(json_get "$STEP_J" achieved)
        best_j=$STEP_J
    done
    rate=$(((ok + bad) / 2 / 500 * 500))
    if [ "$bad" -gt 0 ] && [ "$rate" -gt "$ok" ] && try_rate "$1" "$rate"; then
        best=$(json_get "$STEP_J" achieved)
        best_j=$STEP_J
    fi
    record "{\"step\":\"baseline\",\"rep\":$1,\"clean_rate\":$best,\"first_unclean\":$bad,\
\"best\":$best_j}"
}

json_get()
{
    python3 -c 'import json,sys; print(json.loads(sys.argv[1]).get(sys.argv[2]))' "$1" "$2"
}

summary_sipp()
{
    python3 -c 'import json,sys; j = json.loads(sys.argv[1]); c = j.get("cpu", {})
print("ok %s failed %s timeouts %s unexpected %s retrans %s, %s/s achieved; UDP drops: "
      "operator %s, handset %s" % tuple([j.get(k) for k in ("ok", "failed", "timeouts",
      "unexpected", "retrans", "achieved")] + [c.get("op_udp_drops"),
      c.get("handset_udp_drops")]))' "$1"
}

# gateway_run STEP REP DB AFTER_SEQ SECONDS KIND LOADER...: starts smsgw on DB, runs the load
# generator command (KIND wrk or pace) for about SECONDS (its output goes to WORK/STEP-REP.load;
# @PORT@ in its arguments becomes the gateway's HTTP port), waits for the backlog to drain and
# records one result line. AFTER_SEQ: rows already in DB before the run.
gateway_run()
{
    local step=$1 rep=$2 db=$3 after=$4 secs=$5 kind=$6 name=$1-$2 a
    shift 6
    gw_start "$db" "$name" || {
        record "{\"step\":\"$step\",\"rep\":$rep,\"error\":\"smsgw did not start\"}"
        FAILED=1
        return
    }
    local -a cmd=()
    for a in "$@"; do
        cmd+=("${a//@PORT@/$HTTP_PORT}")
    done
    local s0 s1 s2 t0 t1 rss
    [ "$rep" = 1 ] && perf_start "$step" "$secs"
    s0=$(snapshot)
    t0=$(now_ms)
    "${cmd[@]}" >"$WORK/$name.load" 2>&1
    t1=$(now_ms)
    s1=$(snapshot)
    wait_drain "$db"
    s2=$(snapshot)
    perf_finish "$step"
    rss=$(gw_rss_mb)
    gw_stop
    python3 "$BENCH_DIR/bench.py" result "$step" "$rep" "$kind" "$WORK/$name.load" \
        "$db" "$after" "$t0" "$t1" "$(cpu_json "$s0" "$s1")" "$(cpu_json "$s0" "$s2")" \
        "$rss" "$READY_S" >>"$RESULTS" || FAILED=1
    rm -f "$db" "$db-wal" "$db-shm"
}

max_load()
{
    fits $((LOAD_SECS + DRAIN_MAX + 3)) "max load $1" || return
    gateway_run max "$1" "$WORK/max-$1.db" 0 "$LOAD_SECS" wrk timeout $((LOAD_SECS + 15)) wrk \
        -t1 -c"$WRK_CONNS" -d"${LOAD_SECS}s" --latency -s "$BENCH_DIR/post.lua" \
        "http://127.0.0.1:@PORT@/"
}

fixed_rate()
{
    fits $((FIXED_SECS + 8)) "fixed rate $1" || return
    gateway_run fixed "$1" "$WORK/fixed-$1.db" 0 "$FIXED_SECS" pace \
        timeout $((FIXED_SECS + 20)) "$PACE" -a "127.0.0.1:@PORT@" -r "$FIXED_RATE" \
        -d "$FIXED_SECS" -c "$PACE_CONNS"
}

# prefill ROWS: a store holding ROWS sent messages with their three events each, built with
# the gateway's own schema; prints its path.
prefill()
{
    local db=$WORK/prefill-$1.db t0
    [ -f "$db" ] && { echo "$db"; return 0; }
    t0=$(now_ms)
    sqlite3 "$db" <"$WORK/schema.sql" || return 1
    sed "s/@ROWS@/$1/" "$BENCH_DIR/prefill.sql" | sqlite3 "$db" >/dev/null || return 1
    record "{\"step\":\"prefill\",\"rows\":$1,\"ms\":$(($(now_ms) - t0)),\
\"bytes\":$(stat -c %s "$db")}"
    say "pre-filled $1 sent messages in $(($(now_ms) - t0)) ms" \
        "($(($(stat -c %s "$db") / 1048576)) MB)"
    echo "$db"
}

stored()
{
    local rows=$1 rep=$2 tpl name fill=0
    case $rows in
        1000000) name=stored_1m ;;
        10000) name=stored_10k ;;
        *) name=stored_$rows ;;
    esac
    [ -f "$WORK/prefill-$rows.db" ] || fill=$((rows / 160000)) # about 6 s per million rows
    fits $((STORED_SECS + 10 + fill)) "$name $rep" || return
    if ! [ -s "$WORK/schema.sql" ]; then
        say "$name $rep: no store created yet to take the schema from"
        record "{\"step\":\"$name\",\"rep\":$rep,\"error\":\"no schema\"}"
        FAILED=1
        return
    fi
    tpl=$(prefill "$rows") || {
        record "{\"step\":\"$name\",\"rep\":$rep,\"error\":\"prefill failed\"}"
        FAILED=1
        return
    }
    # Flushed now, or the kernel writes the copy back while a later run measures fsync.
    cp "$tpl" "$WORK/$name-$rep.db" && sync "$tpl" "$WORK/$name-$rep.db" || return
    gateway_run "$name" "$rep" "$WORK/$name-$rep.db" "$rows" "$STORED_SECS" pace \
        timeout $((STORED_SECS + 20)) "$PACE" -a "127.0.0.1:@PORT@" -r "$FIXED_RATE" \
        -d "$STORED_SECS" -c "$PACE_CONNS"
}

machine()
{
    local cpu mem
    cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
    mem=$(awk '/^MemTotal:/ { printf "%d", $2 / 1024 }' /proc/meminfo)
    record "$(python3 -c 'import json,sys
k = ["when", "cores", "cpu", "kernel", "mem_mb", "smsgw", "kamailio", "sipp", "wrk", "sqlite",
     "op_shm_mb", "op_debug", "reps", "wrk_conns", "fixed_rate", "fixed_secs", "load_secs",
     "stored_secs", "base_secs", "loadavg"]
d = dict(zip(k, sys.argv[1:]))
d["step"] = "machine"
print(json.dumps(d))' "$(date -u '+%Y-%m-%d %H:%M UTC')" "$(nproc)" "$cpu" "$(uname -r)" "$mem" \
        "$(cat VERSION 2>/dev/null) ($(git rev-parse --short HEAD 2>/dev/null || echo '?'))" \
        "$(kamailio -v 2>/dev/null | awk '/^version:/ { print $2, $3; exit }')" \
        "$(sipp -v 2>/dev/null | awk '/SIPp v/ { print $2; exit }' | sed 's/\.$//')" \
        "$(wrk -v 2>&1 | awk 'NR == 1 { print $2 }')" "$(sqlite3 --version | cut -d' ' -f1)" \
        "$OP_SHM_MB" "$SMSGW_OP_DEBUG" "$REPS" "$WRK_CONNS" "$FIXED_RATE" "$FIXED_SECS" \
        "$LOAD_SECS" "$STORED_SECS" "$BASE_SECS" "$(cut -d' ' -f1-3 /proc/loadavg)")"
}

# Everything here shares the cores, so other work on the machine skews every figure: measure
# how busy it is before starting and say so.
quiet_check()
{
    local a b busy
    a=$(machine_ticks)
    sleep 1
    b=$(machine_ticks)
    busy=$(awk -v a="$a" -v b="$b" -v cores="$(nproc)" 'BEGIN { split(a, x, " ")
        split(b, y, " "); t = (y[1] - x[1]) * cores; v = t > 0 ? 100 * (1 - (y[2] - x[2]) / t) : 0
        v = v < 0 ? 0 : v; printf "%.0f", v }')
    record "{\"step\":\"idle\",\"machine_busy_pct\":$busy}"
    [ "$busy" -gt 10 ] &&
        say "WARNING: the machine was ${busy}% busy before the run; the figures will be low"
    return 0
}

cleanup()
{
    trap - EXIT INT TERM
    gw_stop
    [ -n "$WORK" ] && provider_stop_all "$WORK"
    if [ -n "$WORK" ]; then
        rm -f "$WORK"/*.db "$WORK"/*.db-wal "$WORK"/*.db-shm
        if [ "${BENCH_KEEP:-0}" = 1 ] || [ "$FAILED" != 0 ]; then
            say "work directory kept: $WORK"
        else
            rm -rf "$WORK"
        fi
    fi
}

main()
{
    [ -x "$SMSGW_BIN" ] || { say "$SMSGW_BIN is missing; run make first"; exit 1; }
    install_packages || { say "cannot install $(tr '\n' ' ' <"$BENCH_DIR/packages")"; exit 1; }
    mkdir -p "$OUT" || exit 1
    build_pace || { say "cannot build tests/bench/pace.c"; exit 1; }
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/smsgw-bench.XXXXXX") || exit 1
    trap cleanup EXIT
    trap 'exit 1' INT TERM
    RESULTS=$OUT/results.jsonl
    : >"$RESULTS"
    operator_memory || exit 1
    OP_PORT=$(free_port "$WORK") || exit 1
    provider_start "$WORK" "$OP_PORT" || exit 1
    HS_PORT=$(free_port "$WORK") || exit 1
    handset_start "$WORK" "$OP_PORT" "$HS_PORT" "$(free_port "$WORK")" || exit 1
    machine
    say "operator on 127.0.0.1:$OP_PORT, handset $HANDSET registered; work dir $WORK"
    quiet_check

    local rep rows
    for rep in $(seq "$REPS"); do
        baseline "$rep"
        max_load "$rep"
    done
    for rep in $(seq "$REPS"); do
        fixed_rate "$rep"
    done
    for rep in $(seq "$REPS"); do
        for rows in $STORED_ROWS; do
            stored "$rows" "$rep"
        done
    done
    say "done in ${SECONDS}s"
    echo
    python3 "$BENCH_DIR/bench.py" report "$RESULTS" "$OUT" || FAILED=1
    echo "(${SECONDS}s; table, CSV and JSON in $OUT/results.{txt,csv,json})"
    [ "$FAILED" = 0 ]
}

main "$@"
