#!/usr/bin/env bash
# Kill -9 ledger test (reliability.md 6.6): 2,000 messages are submitted (8 clients, each
# message with its own Idempotency-Key, retried until answered 202) and sent to the Kamailio
# operator and the handset while smsgw is killed with SIGKILL twice at random moments and
# restarted on the same store and port. Every id answered 202 must exist, end sent (or in a
# terminal state with a reason), reach the handset, and the database must pass
# PRAGMA integrity_check after each crash. A message may reach the handset twice only if it was
# "sending" at a kill.
. "$(dirname "$0")/lib.sh"

N=2000
RATE=500 # submissions per second, so that the kills land mid-run

# load: the client. Writes "index id" for each 202 to $WORK/ids; exits 0 when all N got one.
load()
{
    timeout 90 python3 - "$HTTP_PORT" "$N" "$RATE" "$WORK/ids" <<'EOF'
import http.client, json, sys, threading, time
port, n, rate, path = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
threads_n, t0 = 8, time.monotonic()
end = t0 + 60
lock = threading.Lock()
out = open(path, "w")
stats = {"ok": 0, "retries": 0}
def worker(t):
    conn = None
    for i in range(t, n, threads_n):
        delay = t0 + i / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        body = json.dumps({"to": "+15550100", "text": "load-%d" % i})
        while time.monotonic() < end:
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
                conn.request("POST", "/messages", body, {"Content-Type": "application/json",
                                                         "Idempotency-Key": "load-%d" % i})
                r = conn.getresponse()
                data = r.read()
                if r.status == 202:
                    with lock:
                        out.write("%d %s\n" % (i, json.loads(data)["id"]))
                        out.flush()
                        stats["ok"] += 1
                    break
                if r.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException, ValueError):
                if conn:
                    conn.close()
                conn = None
            with lock:
                stats["retries"] += 1
            time.sleep(0.05)
threads = [threading.Thread(target=worker, args=(t,)) for t in range(threads_n)]
for th in threads:
    th.start()
for th in threads:
    th.join()
out.close()
print("accepted=%d retries=%d seconds=%.1f" % (stats["ok"], stats["retries"],
                                                time.monotonic() - t0))
sys.exit(0 if stats["ok"] == n else 1)
EOF
}

# crash K: SIGKILL smsgw, keep a copy of the store as the crash left it (checked on the copy,
# so that the restart recovers from the real state), then start smsgw again.
crash()
{
    kill -KILL "$GW_PID"
    wait "$GW_PID" 2>/dev/null
    GW_PID=
    mkdir -p "$WORK/crash$1"
    cp "$WORK"/smsgw.db* "$WORK/crash$1/"
    echo "# kill $1 at $(date +%T.%N | cut -c1-12): $(sqlite3 "$WORK/crash$1/smsgw.db" \
        "SELECT count(*) || ' stored, ' || sum(status = 0) || ' queued, ' || sum(status = 1) ||
         ' sending, ' || sum(status = 2) || ' sent' FROM messages")"
    sqlite3 "$WORK/crash$1/smsgw.db" 'SELECT id FROM messages WHERE status = 1' \
        >>"$WORK/sending-at-kill"
    is "PRAGMA integrity_check after kill $1" \
        "$(sqlite3 "$WORK/crash$1/smsgw.db" 'PRAGMA integrity_check')" ok
    start_gateway
}

start_operator
export SMSGW_LOG_LEVEL=info SMSGW_LIMITS_SEND_RATE=250 # sending lags the submissions
start_gateway
wait_ready 10 || bail "not registered"
: >"$WORK/sending-at-kill"

load >"$WORK/load.out" 2>&1 &
LOAD_PID=$!
# The first kill lands 0.5 to 3 s into the 4 s of submissions, the second 0.2 to 1.5 s after
# the restart (while the rest is submitted or sent).
pause=$(awk -v r=$RANDOM 'BEGIN { printf "%.2f", 0.5 + (r % 250) / 100 }')
echo "# first kill after $pause s"
sleep "$pause"
crash 1
sleep "$(awk -v r=$RANDOM 'BEGIN { printf "%.2f", 0.2 + (r % 130) / 100 }')"
crash 2
wait "$LOAD_PID"
load_rc=$?
echo "# load: $(cat "$WORK/load.out")"
is "every one of the $N submissions got a 202 (retried across the crashes)" "$load_rc" 0
cut -d' ' -f2 "$WORK/ids" | sort -u >"$WORK/ids.sorted"
is "$N distinct ids" "$(wc -l <"$WORK/ids.sorted")" "$N"
is "the store holds each submission once (no row from a retried submission)" \
    "$(sqlite3 "$WORK/smsgw.db" "SELECT count(*) FROM messages WHERE text LIKE 'load-%'")" "$N"

end=$((SECONDS + 60))
while [ $SECONDS -lt $end ]; do
    left=$(sqlite3 "$WORK/smsgw.db" 'SELECT count(*) FROM messages WHERE status IN (0, 1)')
    [ "$left" = 0 ] && break
    sleep 0.2
done
is "the queue drained (nothing queued or sending)" "$left" 0

out=$(timeout 60 python3 - "$HTTP_PORT" "$WORK/ids" <<'EOF'
import http.client, json, sys
port, path = int(sys.argv[1]), sys.argv[2]
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
found = sent = reasoned = 0
bad = []
for line in open(path):
    mid = line.split()[1]
    conn.request("GET", "/messages/" + mid)
    r = conn.getresponse()
    data = r.read()
    if r.status != 200:
        bad.append("%s:%d" % (mid, r.status))
        continue
    found += 1
    m = json.loads(data)
    if m["status"] == "sent":
        sent += 1
    elif m["status"] in ("failed", "expired") and (m.get("error") or {}).get("code"):
        reasoned += 1
        bad.append("%s:%s:%s" % (mid, m["status"], m["error"]["code"]))
    else:
        bad.append("%s:%s" % (mid, m["status"]))
print(found, sent, reasoned, " ".join(bad[:5]))
EOF
)
read -r found sent reasoned sample <<<"$out"
is "every recorded id answers GET /messages/{id} with 200" "${found:-0}" "$N"
is "every one ended sent or terminal with a reason (sent: ${sent:-?})" \
    "$((${sent:-0} + ${reasoned:-0}))" "$N"
[ -n "${sample:-}" ] && echo "# not sent: $sample"
is "PRAGMA integrity_check after the drain" \
    "$(sqlite3 "$WORK/smsgw.db" 'PRAGMA integrity_check')" ok

HLOG=$(handset_log "$WORK")
grep -o 'body=load-[0-9]*$' "$HLOG" | sort | uniq -c >"$WORK/received"
is "the handset received every message" "$(wc -l <"$WORK/received")" "$N"
awk '$1 > 1 { sub(/^body=load-/, "", $2); print $2 }' "$WORK/received" | sort >"$WORK/dup-index"
sort -k1,1 "$WORK/ids" | join - "$WORK/dup-index" 2>/dev/null | cut -d' ' -f2 |
    sort >"$WORK/dup-ids"
sort -u "$WORK/sending-at-kill" >"$WORK/sending.sorted"
echo "# duplicates at the handset: $(wc -l <"$WORK/dup-ids")," \
    "sending at a kill: $(wc -l <"$WORK/sending.sorted")"
is "duplicates only among messages that were sending at a kill" \
    "$(comm -23 "$WORK/dup-ids" "$WORK/sending.sorted" | head -n 3 | tr '\n' ' ')" ""

plan "$T_N"
done_testing
