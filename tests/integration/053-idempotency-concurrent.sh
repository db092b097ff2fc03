#!/usr/bin/env bash
# Idempotency under concurrency: the same Idempotency-Key sent by 10 clients at the same instant
# makes one message (one row, one SIP MESSAGE); every answer is 202 with the same id and all but
# one say Idempotent-Replayed: true. With two different bodies racing on one key, one body wins
# and the other gets 422 idempotency_key_reused. The record survives a restart.
. "$(dirname "$0")/lib.sh"

# race KEY BODY...: one client per BODY, all released together; prints one JSON line per
# answer: {"status":..,"id":..,"replayed":..,"code":..}.
race()
{
    timeout 30 python3 - "$HTTP_PORT" "$@" <<'EOF'
import http.client, json, sys, threading
port, key, bodies = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
barrier = threading.Barrier(len(bodies))
out = [None] * len(bodies)
def one(i):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    conn.connect()
    barrier.wait()
    conn.request("POST", "/messages", bodies[i],
                 {"Content-Type": "application/json", "Idempotency-Key": key})
    r = conn.getresponse()
    data = json.loads(r.read() or b"{}")
    out[i] = {"status": r.status, "id": data.get("id"), "code": data.get("code"),
              "replayed": r.getheader("Idempotent-Replayed"), "text": json.loads(bodies[i])["text"]}
threads = [threading.Thread(target=one, args=(i,)) for i in range(len(bodies))]
for t in threads:
    t.start()
for t in threads:
    t.join()
for o in out:
    print(json.dumps(o))
EOF
}

rows_with_text()
{
    sqlite3 "$WORK/smsgw.db" "SELECT count(*) FROM messages WHERE text = '$1'"
}

start_operator
start_gateway
wait_ready 10 || bail "not registered"

for round in 1 2 3; do
    key=same-key-$round-$RANDOM
    text="idem race $round"
    body="{\"to\":\"+15550100\",\"text\":\"$text\"}"
    race "$key" "$body" "$body" "$body" "$body" "$body" "$body" "$body" "$body" "$body" "$body" \
        >"$WORK/race$round"
    is "round $round: 10 concurrent requests, all 202" \
        "$(jq -r .status "$WORK/race$round" | sort | uniq -c | tr -s ' ')" " 10 202"
    is "round $round: all answers carry one id" \
        "$(jq -r .id "$WORK/race$round" | sort -u | wc -l)" 1
    is "round $round: 9 answers say Idempotent-Replayed: true, one does not" \
        "$(jq -r '.replayed // "none"' "$WORK/race$round" | sort | uniq -c | tr -s ' ' |
            tr '\n' ' ')" \
        " 1 none  9 true "
    is "round $round: one row in the store" "$(rows_with_text "$text")" 1
    [ "$round" = 1 ] && { FIRST_KEY=$key FIRST_ID=$(jq -r .id "$WORK/race1" | head -n 1); }
done

check "the first message is sent" wait_status "$FIRST_ID" sent 10
sleep 1
is "the handset got it exactly once" \
    "$(grep -c 'body=idem race 1$' "$(handset_log "$WORK")")" 1

# Two bodies racing on one key: one wins, its twins replay, the others are refused.
key=mixed-key-$RANDOM
a='{"to":"+15550100","text":"idem mixed a"}'
b='{"to":"+15550100","text":"idem mixed b"}'
race "$key" "$a" "$b" "$a" "$b" "$a" "$b" "$a" "$b" "$a" "$b" >"$WORK/mixed"
winner=$(jq -r 'select(.status == 202 and .replayed == null) | .text' "$WORK/mixed")
is "mixed bodies: exactly one fresh 202" "$(grep -c . <<<"$winner")" 1
winner=$(head -n 1 <<<"$winner")
is "mixed bodies: the winner's 5 twins got 202, the other 5 got 422 idempotency_key_reused" \
    "$(jq -r 'if .status == 202 then "202 \(.text)" else "\(.status) \(.code)" end' "$WORK/mixed" |
        sort | uniq -c | tr -s ' ' | tr '\n' ' ')" \
    "$(printf ' 5 202 %s\n 5 422 idempotency_key_reused\n' "$winner" | sort | tr '\n' ' ')"
is "mixed bodies: one row for the key" \
    "$(( $(rows_with_text 'idem mixed a') + $(rows_with_text 'idem mixed b') ))" 1

# The idempotency record is durable: after a restart the same key still replays.
check "SIGTERM: clean exit" stop_gateway
start_gateway
post '{"to":"+15550100","text":"idem race 1"}' -H "Idempotency-Key: $FIRST_KEY"
check "after a restart the key replays the same id" test "$HTTP_CODE" = 202 -a \
    "$(jq -r .id <<<"$BODY")" = "$FIRST_ID" -a \
    -n "$(grep -i '^Idempotent-Replayed: true' "$WORK/headers")"
is "and reports its current status" "$(jq -r .status <<<"$BODY")" sent
is "still one row" "$(rows_with_text 'idem race 1')" 1

plan "$T_N"
done_testing
