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

# sipp_peer NAME PORT SCENARIO [SIPP_ARGS...]: a sipp UAS on 127.0.0.1:PORT playing
# tests/integration/sipp/SCENARIO (UDP; "-t t1" in SIPP_ARGS for TCP). Raw traffic goes to
# $WORK/NAME/messages.raw, the scenario's <log> lines to $WORK/NAME/log. Returns once the port
# is bound (at most 5 s). Sets PEER_PID; stop it with peer_stop NAME.
sipp_peer()
{
    local name=$1 port=$2 sf=$3 dir proto=u i
    shift 3
    dir=$WORK/$name
    mkdir -p "$dir"
    case " $* " in *" -t t1 "*) proto=t ;; esac
    (cd "$dir" && exec sipp -sf "$TESTS_DIR/sipp/$sf" -i 127.0.0.1 -p "$port" -t u1 -nostdin \
        -m 100000 -trace_msg -message_file "$dir/messages.raw" -trace_logs -log_file "$dir/log" \
        "$@" </dev/null >/dev/null 2>>"$dir/err") &
    PEER_PID=$!
    provider_track_pid "$WORK" "$name" "$PEER_PID"
    for i in $(seq 50); do
        ss -Hnl"$proto" "sport = :$port" 2>/dev/null | grep -q . && return 0
        kill -0 "$PEER_PID" 2>/dev/null || break
        sleep 0.1
    done
    echo "# sipp $name did not start: $(cat "$dir/err")"
    return 1
}

# peer_stop NAME: stops the sipp peer NAME (TERM, then KILL) and waits for it.
peer_stop()
{
    lp_stop_file "$WORK/pids/$1.pid"
}

# peer_raw NAME: the raw traffic file of the sipp peer NAME.
peer_raw()
{
    echo "$WORK/$1/messages.raw"
}

# sipp_requests FILE METHOD [TEXT]: prints the arrival time ("YYYY-MM-DD HH:MM:SS.us") of each
# distinct METHOD request (by Call-ID and CSeq, so UDP retransmissions count once) that the
# sipp -trace_msg FILE shows as received, oldest first; with TEXT, only requests containing it.
sipp_requests()
{
    [ -f "$1" ] || return 0
    awk -v m="$2" -v txt="${3-}" '
        function flush() {
            key = cid "|" cseq
            if (req && cid != "" && (txt == "" || has) && !(key in seen)) {
                seen[key] = 1
                print t
            }
            req = 0; cid = ""; cseq = ""; has = 0
        }
        /^----------/ { flush(); inmsg = 0; if (NF >= 3) t = $2 " " $3; next }
        /message received/ { inmsg = 1; first = 1; next }
        !inmsg { next }
        first && NF { first = 0; req = ($1 == m) }
        req && tolower($1) ~ /^(call-id|i):$/ { cid = $2 }
        req && tolower($1) == "cseq:" { cseq = $2 }
        req && txt != "" && index($0, txt) { has = 1 }
        END { flush() }' "$1" | tr -d '\r'
}

# count_requests FILE METHOD [TEXT]: how many requests sipp_requests lists.
count_requests()
{
    sipp_requests "$@" | wc -l
}

# wait_count FILE METHOD N SECONDS [TEXT]: until count_requests FILE METHOD [TEXT] >= N.
wait_count()
{
    local end=$((SECONDS + $4))
    while [ $SECONDS -le $end ]; do
        [ "$(count_requests "$1" "$2" "${5-}")" -ge "$3" ] && return 0
        sleep 0.1
    done
    return 1
}

# raw_http PORT SECONDS: sends standard input as raw bytes to 127.0.0.1:PORT, then reads until
# the server closes the connection or SECONDS pass. Prints "STATUS closed|open" (STATUS is 000
# when no status line came back), then the answer as received.
raw_http()
{
    timeout $((${2%.*} + 5)) python3 -c '
import re, socket, sys, time
port, limit = int(sys.argv[1]), float(sys.argv[2])
data = sys.stdin.buffer.read()
s = socket.create_connection(("127.0.0.1", port), timeout=limit)
try:
    s.sendall(data)
except OSError:
    pass
buf, how, end = b"", "open", time.monotonic() + limit
while time.monotonic() < end:
    s.settimeout(max(0.01, end - time.monotonic()))
    try:
        chunk = s.recv(65536)
    except socket.timeout:
        break
    except OSError:
        how = "closed"
        break
    if not chunk:
        how = "closed"
        break
    buf += chunk
m = re.match(rb"HTTP/1\.[01] ([0-9]{3}) ", buf)
sys.stdout.write("%s %s\n" % (m.group(1).decode() if m else "000", how))
sys.stdout.write(buf.decode("latin-1"))
' "$1" "$2"
}

# wait_ready_key KEY SECONDS: wait_ready for a gateway that wants Authorization: Bearer KEY.
wait_ready_key()
{
    local end=$((SECONDS + $2))
    while [ $SECONDS -lt $end ]; do
        curl -sf -o /dev/null -H "Authorization: Bearer $1" "$BASE/health/ready" && return 0
        sleep 0.1
    done
    return 1
}

# operator_stop: stops the Kamailio of start_operator (main process and children, by the PIDs
# recorded in $WORK/pids); the handset keeps running.
operator_stop()
{
    lp_stop_file "$WORK/pids/kamailio.pid" "$WORK/pids/kamailio-children.pid"
}

# operator_restart: starts Kamailio again on $OP_PORT. It remembers no registration.
operator_restart()
{
    provider_start "$WORK" "$OP_PORT" >>"$WORK/provider.out" 2>&1
}

# handset_reregister [SECONDS]: registers the handset of start_operator again (after
# operator_restart) with the same contact, through a new REGISTER client; the old client is
# stopped by its PID. Waits at most SECONDS (default 10) for the 200.
handset_reregister()
{
    local number dir name uport rport password domain log i pid
    number=$(lp_setting SMSGW_OP_HANDSET_USER +15550100)
    password=$(lp_setting SMSGW_OP_HANDSET_PASSWORD handset-secret)
    domain=$(lp_setting SMSGW_OP_DOMAIN operator.test)
    dir=$(lp_handset_dir "$WORK" "$number")
    name=$(basename "$dir")
    uport=$(grep -o 'contact=<sip:[^>]*:[0-9]*>' "$dir/register.log" | head -n 1 |
        sed 's/.*:\([0-9]*\)>$/\1/')
    [ -n "$uport" ] || return 1
    lp_stop_file "$WORK/pids/$name-register.pid"
    rport=$(free_port "$WORK") || return 1
    i=1
    while [ -e "$dir/register-again$i.log" ]; do i=$((i + 1)); done
    log=$dir/register-again$i.log
    : >"$log"
    (cd "$dir" && exec "$(lp_sipp_bin)" -sf "$LP_DEPLOY_DIR/handset/register.xml" \
        -i 127.0.0.1 -p "$rport" -t u1 -m 1 -nostdin -s "$number" -au "$number" \
        -ap "$password" -key domain "$domain" -key contact_port "$uport" -key expires 3600 \
        -d 2880000 -trace_logs -log_file "$log" "127.0.0.1:$OP_PORT" \
        </dev/null >/dev/null 2>"$log.err") &
    pid=$!
    provider_track_pid "$WORK" "$name-register" "$pid"
    wait_for_line "$log" '^registered' "${1:-10}"
}

# sipp_uac NAME LOCAL_IP TARGET SCENARIO [SIPP_ARGS...]: runs one call of the sipp client
# scenario tests/integration/sipp/SCENARIO from LOCAL_IP (e.g. 127.0.0.2, another loopback
# address) to TARGET (host:port), bounded to 20 s; traffic in $WORK/NAME/messages.raw, the
# scenario's <log> lines in $WORK/NAME/log. Returns sipp's exit status (0: the call succeeded).
sipp_uac()
{
    local name=$1 ip=$2 target=$3 sf=$4 dir
    shift 4
    dir=$WORK/$name
    mkdir -p "$dir"
    (cd "$dir" && timeout 20 sipp -sf "$TESTS_DIR/sipp/$sf" -i "$ip" -p "$(free_port "$WORK")" \
        -t u1 -m 1 -nostdin -recv_timeout 5000 -trace_msg -message_file "$dir/messages.raw" \
        -trace_logs -log_file "$dir/log" "$@" "$target" </dev/null >/dev/null 2>>"$dir/err")
}

# wait_events ID N SECONDS: until message ID has at least N events; BODY holds the last body.
wait_events()
{
    local end=$((SECONDS + $3))
    while [ $SECONDS -le $end ]; do
        BODY=$(curl -s "$BASE/messages/$1")
        [ "$(printf '%s' "$BODY" | jq -r '.events | length')" -ge "$2" ] && return 0
        sleep 0.1
    done
    return 1
}
