# shellcheck shell=bash
# Shared by the integration tests: TAP output, the local operator + handset + smsgw on free
# loopback ports, HTTP helpers. Every process is recorded and stopped by PID on exit.
set -u
TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$TESTS_DIR/../.." && pwd)
. "$REPO/deploy/local-provider.sh"

BUILD=${SMSGW_BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$REPO/$BUILD ;; esac
SMSGW_BIN=$BUILD/smsgw
WORK=$(mktemp -d "${TMPDIR:-/tmp}/smsgw-it.XXXXXX")
T_N=0
T_FAILED=0

t_cleanup()
{
    if [ -n "${GW_PID:-}" ] && kill -0 "$GW_PID" 2>/dev/null; then
        kill -TERM "$GW_PID" 2>/dev/null
        for _ in $(seq 50); do kill -0 "$GW_PID" 2>/dev/null || break; sleep 0.1; done
    fi
    provider_stop_all "$WORK"
    if [ "$T_FAILED" -gt 0 ]; then
        echo "# work dir kept: $WORK"
        [ -f "$WORK/smsgw.log" ] && tail -n 30 "$WORK/smsgw.log" | sed 's/^/#   /'
    else
        rm -rf "$WORK"
    fi
}
trap t_cleanup EXIT
trap 'exit 1' INT TERM

plan() { echo "1..$1"; }
ok() { T_N=$((T_N + 1)); echo "ok $T_N - $*"; }
not_ok() { T_N=$((T_N + 1)); T_FAILED=$((T_FAILED + 1)); echo "not ok $T_N - $*"; }
# check DESCRIPTION COMMAND...: ok when the command succeeds
check() { local d=$1; shift; if "$@"; then ok "$d"; else not_ok "$d"; fi; }
# is DESCRIPTION GOT WANT
is() { if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1 (got '$2', want '$3')"; fi; }
done_testing() { [ "$T_FAILED" -eq 0 ]; }
bail() { echo "Bail out! $*"; exit 1; }

# Starts the operator and the handset (+15550100). Sets OP_PORT.
start_operator()
{
    OP_PORT=$(free_port "$WORK")
    provider_start "$WORK" "$OP_PORT" >"$WORK/provider.out" 2>&1 \
        || bail "operator did not start: $(tail -n 5 "$WORK/provider.out")"
    handset_start "$WORK" "$OP_PORT" "$(free_port "$WORK")" "$(free_port "$WORK")" \
        >>"$WORK/provider.out" 2>&1 || bail "handset did not register"
}

# Starts smsgw against the operator; extra SMSGW_* settings come from the environment.
# Sets HTTP_PORT, GW_PID, BASE. Waits until /health/live answers.
start_gateway()
{
    HTTP_PORT=${HTTP_PORT:-$(free_port "$WORK")}
    BASE=http://127.0.0.1:$HTTP_PORT
    SMSGW_SIP_PROXY=${SMSGW_SIP_PROXY:-sip:127.0.0.1:$OP_PORT} \
        SMSGW_HTTP_LISTEN=127.0.0.1:$HTTP_PORT SMSGW_STORE_PATH=$WORK/smsgw.db \
        SMSGW_LOG_LEVEL=${SMSGW_LOG_LEVEL:-debug} \
        "$SMSGW_BIN" --config "$REPO/deploy/smsgw.conf" >>"$WORK/smsgw.log" 2>&1 &
    GW_PID=$!
    provider_track_pid "$WORK" smsgw "$GW_PID"
    for _ in $(seq 100); do
        curl -sf -o /dev/null "$BASE/health/live" && return 0
        kill -0 "$GW_PID" 2>/dev/null || bail "smsgw exited: $(tail -n 5 "$WORK/smsgw.log")"
        sleep 0.1
    done
    bail "smsgw did not answer on $BASE"
}

# Stops smsgw with SIGTERM and waits (bounded). Returns its exit status.
stop_gateway()
{
    kill -TERM "$GW_PID" 2>/dev/null || return 1
    local i
    for i in $(seq 150); do
        kill -0 "$GW_PID" 2>/dev/null || break
        sleep 0.1
    done
    wait "$GW_PID"
    local rc=$?
    GW_PID=
    return $rc
}

# wait_ready SECONDS: until /health/ready is 200.
wait_ready()
{
    local end=$((SECONDS + $1))
    while [ $SECONDS -lt $end ]; do
        curl -sf -o /dev/null "$BASE/health/ready" && return 0
        sleep 0.1
    done
    return 1
}

# post JSON [extra curl args...]: POST /messages; sets HTTP_CODE, BODY, HEADERS.
post()
{
    local json=$1
    shift
    HTTP_CODE=$(curl -s -o "$WORK/body" -D "$WORK/headers" -w '%{http_code}' \
        -X POST "$BASE/messages" -H 'Content-Type: application/json' "$@" --data-binary "$json")
    BODY=$(cat "$WORK/body")
    HEADERS=$(cat "$WORK/headers")
}

# wait_status ID STATUS SECONDS: until GET /messages/ID shows STATUS; BODY holds the last body.
wait_status()
{
    local end=$((SECONDS + $3)) st=""
    while [ $SECONDS -lt $end ]; do
        BODY=$(curl -s "$BASE/messages/$1")
        st=$(printf '%s' "$BODY" | jq -r .status 2>/dev/null)
        [ "$st" = "$2" ] && return 0
        sleep 0.1
    done
    echo "# message $1 is '$st', wanted '$2'"
    return 1
}

# Counts the rows of the messages table.
stored_count()
{
    sqlite3 "$WORK/smsgw.db" 'SELECT count(*) FROM messages'
}
