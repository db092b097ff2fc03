# shellcheck shell=bash
# Local SIP operator for `make run` and the integration tests: a Kamailio that behaves like an
# operator's SMS edge (deploy/kamailio/kamailio.cfg) and a sipp handset that registers with it
# and answers every MESSAGE (deploy/handset/). Everything listens on 127.0.0.1 only.
#
# Source it from bash:  . deploy/local-provider.sh
#
#   free_port [WORKDIR]                     print a free loopback UDP+TCP port
#   provider_start WORKDIR SIP_PORT         start Kamailio on udp+tcp 127.0.0.1:SIP_PORT
#   provider_ping SIP_PORT [SECONDS]        OPTIONS over UDP and TCP, 0 when both get 200
#   handset_start WORKDIR PROVIDER_PORT UAS_PORT REG_PORT [NUMBER] [PASSWORD]
#                                           start the handset; returns once REGISTER got 200
#   uas_start WORKDIR NAME PORT [REPLY]     a bare MESSAGE answerer ("200 OK") on PORT
#   handset_log WORKDIR [NUMBER]            print the handset's received-MESSAGE log path
#   uas_log WORKDIR NAME                    the same for a uas_start answerer
#   provider_log WORKDIR                    print the Kamailio log path
#   wait_for_line FILE ERE SECONDS          wait until FILE has a line matching ERE
#   provider_track_pid WORKDIR NAME PID     record another process for provider_stop_all
#   provider_stop_all WORKDIR               stop every recorded process (TERM, then KILL)
#
# Accounts and domain come from the environment (defaults in brackets):
#   SMSGW_OP_DOMAIN [operator.test], SMSGW_OP_GW_USER [smsgw],
#   SMSGW_OP_GW_PASSWORD [smsgw-secret], SMSGW_OP_HANDSET_USER [+15550100],
#   SMSGW_OP_HANDSET_PASSWORD [handset-secret]
# and, less often: SMSGW_OP_FR_TIMER (ms before a relayed MESSAGE gets 408) [8000],
# SMSGW_OP_DEBUG (Kamailio log level) [2], SMSGW_OP_SHM_MB (Kamailio shared memory, MB) [64],
# SMSGW_OP_REG_BEFORE_AUTH=1 (unregistered senders get 403 cause 55 before any 407),
# SMSGW_OP_HANDSET_EXPIRES (REGISTER Expires) [3600], SMSGW_OP_HANDSET_REPLY (the handset's answer to MESSAGE) [200 OK].
# They become Kamailio -A defines; values must not contain '"', '\' or line breaks.
#
# Files in WORKDIR: kamailio.log, kamailio.cmd (the command line), pids/*.pid (one PID per
# line), handset-<digits>/{received.log,messages.raw,register.log,register.raw}.

LP_DEPLOY_DIR=${LP_DEPLOY_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}

lp_err()
{
    printf 'local-provider: %s\n' "$*" >&2
}

# Prints the value of the setting named $1, or the default $2.
lp_setting()
{
    local v
    eval "v=\${$1-}"
    printf '%s' "${v:-$2}"
}

# Fails unless $2 can sit inside a Kamailio string literal.
lp_check_value()
{
    case $2 in
        '' | *'"'* | *\\* | *$'\n'* | *$'\r'*)
            lp_err "$1 must be non-empty and contain no '\"', '\\' or line break"
            return 1
            ;;
    esac
}

lp_check_port()
{
    case $1 in
        '' | *[!0-9]*)
            lp_err "bad port '$1'"
            return 1
            ;;
    esac
    if [ "$1" -lt 1 ] || [ "$1" -gt 65535 ]; then
        lp_err "bad port '$1'"
        return 1
    fi
}

lp_kamailio_bin()
{
    if command -v kamailio >/dev/null 2>&1; then
        command -v kamailio
    elif [ -x /usr/sbin/kamailio ]; then
        echo /usr/sbin/kamailio
    else
        lp_err "kamailio not found (Debian package kamailio; run deploy/install-deps.sh)"
        return 1
    fi
}

lp_sipp_bin()
{
    if command -v sipp >/dev/null 2>&1; then
        command -v sipp
    else
        lp_err "sipp not found (Debian package sip-tester; run deploy/install-deps.sh)"
        return 1
    fi
}

# free_port [WORKDIR]: prints a port that is free for both UDP and TCP on 127.0.0.1, chosen at
# random below the kernel's ephemeral range so parallel scripts rarely collide. With WORKDIR,
# ports already handed out for it (WORKDIR/ports) are skipped and the new one is recorded.
free_port()
{
    local wd=${1-} given="" port
    if [ -n "$wd" ]; then
        mkdir -p "$wd" || return 1
        [ -f "$wd/ports" ] && given=$(tr '\n' ' ' <"$wd/ports")
    fi
    # shellcheck disable=SC2086
    port=$(timeout 10 python3 - $given <<'EOF'
import random, socket, sys
given = set(sys.argv[1:])
try:
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        eph_lo, eph_hi = (int(x) for x in f.read().split())
except (OSError, ValueError):
    eph_lo, eph_hi = 32768, 60999
ranges = [r for r in ((20000, eph_lo - 1), (eph_hi + 1, 65000), (10240, eph_lo - 1))
          if r[1] - r[0] >= 1000]
if not ranges:
    ranges = [(10240, 65000)]
lo, hi = ranges[0]
for _ in range(300):
    port = random.randint(lo, hi)
    if str(port) in given:
        continue
    ok = True
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        s = socket.socket(socket.AF_INET, kind)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            ok = False
        finally:
            s.close()
        if not ok:
            break
    if ok:
        print(port)
        sys.exit(0)
sys.exit(1)
EOF
    ) || {
        lp_err "no free loopback port found"
        return 1
    }
    [ -n "$wd" ] && echo "$port" >>"$wd/ports"
    echo "$port"
}

# provider_track_pid WORKDIR NAME PID: records PID in WORKDIR/pids/NAME.pid.
provider_track_pid()
{
    mkdir -p "$1/pids" && echo "$3" >>"$1/pids/$2.pid"
}

provider_log()
{
    echo "$1/kamailio.log"
}

# wait_for_line FILE ERE SECONDS: 0 once a line of FILE matches the extended regex ERE.
wait_for_line()
{
    local end=$((SECONDS + $3))
    while [ "$SECONDS" -le "$end" ]; do
        if [ -f "$1" ] && grep -Eq -- "$2" "$1"; then
            return 0
        fi
        sleep 0.1
    done
    return 1
}

# provider_ping SIP_PORT [SECONDS]: sends OPTIONS to 127.0.0.1:SIP_PORT over UDP and over TCP,
# retrying until SECONDS (default 2) have passed; 0 when both answered 200.
provider_ping()
{
    lp_ping "$1" "${2:-2}" ""
}

# lp_port_free PORT: 0 when PORT can be bound on 127.0.0.1 for both UDP and TCP.
lp_port_free()
{
    timeout 5 python3 - "$1" <<'EOF'
import socket, sys
for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
    s = socket.socket(socket.AF_INET, kind)
    try:
        s.bind(("127.0.0.1", int(sys.argv[1])))
    except OSError:
        sys.exit(1)
    finally:
        s.close()
EOF
}

# lp_ping PORT SECONDS TOKEN: provider_ping, also requiring TOKEN in the answers.
lp_ping()
{
    local limit=${2:-2}
    lp_check_port "$1" || return 1
    case $limit in
        '' | *[!0-9.]* | .*)
            lp_err "bad ping time '$limit'"
            return 1
            ;;
    esac
    timeout $((${limit%%.*} + 3)) python3 - "$1" "$limit" "${3-}" <<'EOF'
import socket, sys, time, uuid
port, limit, token = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3].encode()
def options(proto, local_port):
    tag = uuid.uuid4().hex
    return ("OPTIONS sip:127.0.0.1:%d SIP/2.0\r\n"
            "Via: SIP/2.0/%s 127.0.0.1:%d;branch=z9hG4bK%s;rport\r\n"
            "Max-Forwards: 70\r\nFrom: <sip:ping@127.0.0.1>;tag=%s\r\n"
            "To: <sip:127.0.0.1:%d>\r\nCall-ID: %s@127.0.0.1\r\nCSeq: 1 OPTIONS\r\n"
            "Content-Length: 0\r\n\r\n"
            % (port, proto, local_port, tag, tag[:8], port, tag)).encode()
def udp():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind(("127.0.0.1", 0))
        s.settimeout(0.3)
        s.sendto(options("UDP", s.getsockname()[1]), ("127.0.0.1", port))
        data = s.recv(65535)
        return data.startswith(b"SIP/2.0 200") and token in data
    finally:
        s.close()
def tcp():
    s = socket.create_connection(("127.0.0.1", port), timeout=0.5)
    try:
        s.sendall(options("TCP", s.getsockname()[1]))
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(65535)
            if not chunk:
                break
            data += chunk
        return data.startswith(b"SIP/2.0 200") and token in data
    finally:
        s.close()
deadline = time.monotonic() + limit
done = {"udp": False, "tcp": False}
while True:
    for name, probe in (("udp", udp), ("tcp", tcp)):
        if not done[name]:
            try:
                done[name] = probe()
            except OSError:
                pass
    if all(done.values()):
        sys.exit(0)
    if time.monotonic() > deadline:
        sys.exit(1)
    time.sleep(0.1)
EOF
}

# Prints the -A arguments for Kamailio, one per line, from the SMSGW_OP_* settings.
lp_defines()
{
    local name var dflt val
    for spec in OP_DOMAIN:SMSGW_OP_DOMAIN:operator.test OP_GW_USER:SMSGW_OP_GW_USER:smsgw \
        OP_GW_PASSWORD:SMSGW_OP_GW_PASSWORD:smsgw-secret \
        OP_HS_USER:SMSGW_OP_HANDSET_USER:+15550100 \
        OP_HS_PASSWORD:SMSGW_OP_HANDSET_PASSWORD:handset-secret; do
        name=${spec%%:*}
        var=${spec#*:}
        dflt=${var#*:}
        var=${var%%:*}
        val=$(lp_setting "$var" "$dflt")
        lp_check_value "$var" "$val" || return 1
        printf '%s="%s"\n' "$name" "$val"
    done
    for spec in OP_FR_TIMER:SMSGW_OP_FR_TIMER:8000 OP_DEBUG:SMSGW_OP_DEBUG:2; do
        name=${spec%%:*}
        var=${spec#*:}
        dflt=${var#*:}
        var=${var%%:*}
        val=$(lp_setting "$var" "$dflt")
        case $val in
            '' | *[!0-9-]*)
                lp_err "$var must be a number"
                return 1
                ;;
        esac
        printf '%s=%s\n' "$name" "$val"
    done
    if [ "$(lp_setting SMSGW_OP_REG_BEFORE_AUTH 0)" = 1 ]; then
        echo OP_REG_BEFORE_AUTH
    fi
}

lp_alive()
{
    kill -0 "$1" 2>/dev/null
}

# provider_start WORKDIR SIP_PORT: starts Kamailio in the foreground (-DD) in the background
# of this shell, logging to WORKDIR/kamailio.log, and waits (at most 10 s) until it answers
# OPTIONS over UDP and TCP. On failure it prints the end of the log and stops what it started.
provider_start()
{
    local wd=$1 port=$2 bin defines pid i token
    if [ -z "$wd" ] || [ $# -lt 2 ]; then
        lp_err "usage: provider_start WORKDIR SIP_PORT"
        return 1
    fi
    lp_check_port "$port" || return 1
    bin=$(lp_kamailio_bin) || return 1
    mkdir -p "$wd/run" "$wd/pids" || return 1
    wd=$(cd "$wd" && pwd)
    defines=$(lp_defines) || return 1
    if ! lp_port_free "$port"; then
        lp_err "127.0.0.1:$port (udp or tcp) is already in use"
        return 1
    fi
    # The ping must be answered by this instance, not by anything else on the port.
    token="$$-$RANDOM$RANDOM"
    defines="$defines
OP_SERVER_HEADER=\"Server: smsgw-local-operator $token\""
    local -a args=("$bin" -DD -E -f "$LP_DEPLOY_DIR/kamailio/kamailio.cfg"
        -l "udp:127.0.0.1:$port" -l "tcp:127.0.0.1:$port"
        -w "$wd" -Y "$wd/run" -P "$wd/run/kamailio.pid" -m "$(lp_setting SMSGW_OP_SHM_MB 64)" -M 8 -n 2)
    while IFS= read -r i; do
        args+=(-A "$i")
    done <<<"$defines"
    printf '%q ' "${args[@]}" >"$wd/kamailio.cmd"
    echo >>"$wd/kamailio.cmd"
    # Its own session: a Ctrl-C in the terminal must not stop the operator before smsgw has
    # un-REGISTERed; provider_stop_all stops it by PID afterwards. (setsid execs in place, so
    # $! is Kamailio's PID.)
    setsid "${args[@]}" </dev/null >"$wd/kamailio.log" 2>&1 &
    pid=$!
    provider_track_pid "$wd" kamailio "$pid"
    i=$((SECONDS + 10))
    while [ "$SECONDS" -le "$i" ]; do
        if ! lp_alive "$pid"; then
            break
        fi
        if lp_ping "$port" 0.1 "$token" >/dev/null 2>&1; then
            # Children too, so they go even if the main process has to be killed.
            ps -o pid= --ppid "$pid" | tr -d ' ' >>"$wd/pids/kamailio-children.pid"
            return 0
        fi
        sleep 0.1
    done
    lp_err "kamailio on 127.0.0.1:$port did not come up; end of $wd/kamailio.log:"
    tail -n 25 "$wd/kamailio.log" >&2
    lp_stop_file "$wd/pids/kamailio.pid"
    return 1
}

# Directory of the handset for NUMBER: its digits only, so "+15550100" -> handset-15550100.
lp_handset_dir()
{
    local digits
    digits=$(printf '%s' "$2" | tr -cd '0-9A-Za-z_-')
    echo "$1/handset-${digits:-x}"
}

handset_log()
{
    echo "$(lp_handset_dir "$1" "${2:-$(lp_setting SMSGW_OP_HANDSET_USER +15550100)}")/received.log"
}

uas_log()
{
    echo "$1/$2/received.log"
}

# uas_start WORKDIR NAME PORT [REPLY]: a sipp UAS on 127.0.0.1:PORT (UDP) answering every
# MESSAGE with REPLY (default "200 OK"; e.g. "480 Temporarily Unavailable") and logging one
# line per MESSAGE to WORKDIR/NAME/received.log, raw traffic to WORKDIR/NAME/messages.raw.
# Returns once the port is bound (at most 5 s).
uas_start()
{
    local wd=$1 name=$2 port=$3 reply=${4:-200 OK} bin dir pid i
    if [ $# -lt 3 ]; then
        lp_err "usage: uas_start WORKDIR NAME PORT [REPLY]"
        return 1
    fi
    lp_check_port "$port" || return 1
    case $reply in
        *[\|\&\\\<\>]* | *$'\n'* | *$'\r'*)
            lp_err "reply must be 'CODE PHRASE' without | & \\ < > or line breaks"
            return 1
            ;;
        [1-6][0-9][0-9]' '?*) ;;
        *)
            lp_err "reply must be 'CODE PHRASE', not '$reply'"
            return 1
            ;;
    esac
    bin=$(lp_sipp_bin) || return 1
    mkdir -p "$wd/$name" || return 1
    dir=$(cd "$wd/$name" && pwd)
    : >"$dir/received.log"
    # sipp reads the status code when it loads the scenario, so another reply needs a copy.
    sed "s|^\( *\)SIP/2.0 200 OK\$|\1SIP/2.0 $reply|" "$LP_DEPLOY_DIR/handset/uas.xml" \
        >"$dir/uas.xml" || return 1
    (cd "$dir" && exec "$bin" -sf "$dir/uas.xml" -i 127.0.0.1 -p "$port" -buff_size 4194304 \
        -t u1 -m 2000000000 -nostdin -trace_msg -message_file "$dir/messages.raw" \
        -trace_logs -log_file "$dir/received.log" </dev/null >/dev/null 2>"$dir/uas.err") &
    pid=$!
    provider_track_pid "$wd" "$name-uas" "$pid"
    i=$((SECONDS + 5))
    while [ "$SECONDS" -le "$i" ]; do
        if ! lp_alive "$pid"; then
            break
        fi
        if ss -Hnlu "sport = :$port" 2>/dev/null | grep -q .; then
            return 0
        fi
        sleep 0.1
    done
    lp_err "UAS $name on 127.0.0.1:$port did not start:"
    cat "$dir/uas.err" >&2
    lp_stop_file "$wd/pids/$name-uas.pid"
    return 1
}

# handset_start WORKDIR PROVIDER_PORT UAS_PORT REG_PORT [NUMBER] [PASSWORD]: starts the handset:
# a UAS on UAS_PORT that answers MESSAGEs, then a REGISTER client on REG_PORT that registers
# NUMBER (default $SMSGW_OP_HANDSET_USER) with Contact sip:NUMBER@127.0.0.1:UAS_PORT and keeps
# refreshing. Returns 0 once the first REGISTER got 200 after the 401 (at most 10 s).
handset_start()
{
    local wd=$1 pport=$2 uport=$3 rport=$4 number password domain expires bin dir name pid i
    if [ $# -lt 4 ]; then
        lp_err "usage: handset_start WORKDIR PROVIDER_PORT UAS_PORT REG_PORT [NUMBER] [PASSWORD]"
        return 1
    fi
    number=${5:-$(lp_setting SMSGW_OP_HANDSET_USER +15550100)}
    password=${6:-$(lp_setting SMSGW_OP_HANDSET_PASSWORD handset-secret)}
    domain=$(lp_setting SMSGW_OP_DOMAIN operator.test)
    expires=$(lp_setting SMSGW_OP_HANDSET_EXPIRES 3600)
    lp_check_port "$pport" && lp_check_port "$rport" || return 1
    case $expires in
        '' | *[!0-9]*)
            lp_err "SMSGW_OP_HANDSET_EXPIRES must be a number of seconds"
            return 1
            ;;
    esac
    bin=$(lp_sipp_bin) || return 1
    dir=$(lp_handset_dir "$wd" "$number")
    name=$(basename "$dir")
    uas_start "$wd" "$name" "$uport" "$(lp_setting SMSGW_OP_HANDSET_REPLY '200 OK')" || return 1
    dir=$(cd "$dir" && pwd)
    : >"$dir/register.log"
    # Refresh at 80 % of the lifetime, the usual client habit.
    (cd "$dir" && exec "$bin" -sf "$LP_DEPLOY_DIR/handset/register.xml" -i 127.0.0.1 \
        -p "$rport" -t u1 -m 1 -nostdin -s "$number" -au "$number" -ap "$password" \
        -key domain "$domain" -key contact_port "$uport" -key expires "$expires" \
        -d $((expires * 800)) -trace_msg -message_file "$dir/register.raw" \
        -trace_logs -log_file "$dir/register.log" "127.0.0.1:$pport" \
        </dev/null >/dev/null 2>"$dir/register.err") &
    pid=$!
    provider_track_pid "$wd" "$name-register" "$pid"
    i=$((SECONDS + 10))
    while [ "$SECONDS" -le "$i" ]; do
        if grep -q '^registered' "$dir/register.log" 2>/dev/null; then
            return 0
        fi
        # A refused REGISTER ends the sipp call and so the process: no need to wait longer.
        lp_alive "$pid" || break
        sleep 0.1
    done
    lp_err "handset $number not registered at 127.0.0.1:$pport, last answer:" \
        "$(grep -a '^SIP/2.0 ' "$dir/register.raw" 2>/dev/null | tail -n 1 | tr -d '\r')" \
        "(details: $dir/register.raw, $wd/kamailio.log)"
    lp_stop_file "$wd/pids/$name-register.pid" "$wd/pids/$name-uas.pid"
    return 1
}

# Stops the processes listed in FILE...: TERM, then KILL after at most 3 s. Removes the files.
lp_stop_file()
{
    local pids="" p f i alive
    for f in "$@"; do
        [ -f "$f" ] || continue
        while IFS= read -r p; do
            case $p in
                '' | *[!0-9]*) continue ;;
            esac
            pids="$pids $p"
        done <"$f"
    done
    for p in $pids; do
        kill -TERM "$p" 2>/dev/null || true
    done
    for i in $(seq 1 30); do
        alive=""
        for p in $pids; do
            lp_alive "$p" && alive="$alive $p"
        done
        [ -z "$alive" ] && break
        sleep 0.1
    done
    for p in $alive; do
        kill -KILL "$p" 2>/dev/null || true
    done
    for p in $pids; do
        # Reap our own children so no zombie outlives the caller; others are not ours to wait.
        wait "$p" 2>/dev/null || true
    done
    rm -f "$@"
    return 0
}

# provider_stop_all WORKDIR: stops every process recorded in WORKDIR/pids. Kamailio's main
# process goes first so it can take its children down in order. Safe in a `trap ... EXIT`.
provider_stop_all()
{
    local wd=${1-}
    [ -n "$wd" ] && [ -d "$wd/pids" ] || return 0
    lp_stop_file "$wd/pids/kamailio.pid"
    lp_stop_file "$wd"/pids/*.pid
    return 0
}
