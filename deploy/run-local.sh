#!/usr/bin/env bash
# `make run`: the local operator (Kamailio on 127.0.0.1:5070), a handset registered as
# +15550100, and smsgw with deploy/smsgw.conf (HTTP on 127.0.0.1:8080). Ctrl-C stops all.
set -u
cd "$(dirname "$0")/.."
. deploy/local-provider.sh

BIN=${SMSGW_BUILD:-build}/smsgw
WORK=${SMSGW_RUN_DIR:-${TMPDIR:-/tmp}/smsgw-run}
OP_PORT=${SMSGW_RUN_OPERATOR_PORT:-5070}
GW_PID=
rm -rf "$WORK/pids"
mkdir -p "$WORK"

stop() {
    trap - INT TERM EXIT
    echo
    echo "stopping smsgw (it un-REGISTERs first), then the handset and the operator"
    if [ -n "${GW_PID:-}" ] && kill -TERM "$GW_PID" 2>/dev/null; then
        for _ in $(seq 50); do kill -0 "$GW_PID" 2>/dev/null || break; sleep 0.2; done
    fi
    provider_stop_all "$WORK"
}
trap stop INT TERM EXIT

provider_start "$WORK" "$OP_PORT" || exit 1
handset_start "$WORK" "$OP_PORT" "$(free_port "$WORK")" "$(free_port "$WORK")" || exit 1

"$BIN" --config deploy/smsgw.conf --check-config >/dev/null || exit 2
SMSGW_SIP_PROXY="sip:127.0.0.1:$OP_PORT" SMSGW_STORE_PATH="$WORK/smsgw.db" \
    "$BIN" --config deploy/smsgw.conf &
GW_PID=$!
provider_track_pid "$WORK" smsgw "$GW_PID"

for _ in $(seq 50); do
    curl -sf -o /dev/null 127.0.0.1:8080/health/ready && break
    kill -0 "$GW_PID" 2>/dev/null || { echo "smsgw exited; see the lines above"; exit 1; }
    sleep 0.2
done

cat <<TXT

smsgw is up: HTTP 127.0.0.1:8080, operator sip:127.0.0.1:$OP_PORT (Kamailio, log:
$(provider_log "$WORK")), handset +15550100 (received messages: $(handset_log "$WORK")).

Try, in another terminal:

  curl -s -X POST localhost:8080/messages -H 'Content-Type: application/json' \\
       -d '{"to":"+15550100","text":"hello"}'
  curl -s localhost:8080/messages/<id>

Ctrl-C stops everything.
TXT
wait "$GW_PID"
