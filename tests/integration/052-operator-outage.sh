#!/usr/bin/env bash
# The operator goes away for 20 s while messages keep arriving, twice:
#   frozen    Kamailio is stopped with SIGSTOP (a black hole: nothing answers, nothing is
#             refused) and continued with SIGCONT; it keeps its registrations.
#   restarted Kamailio is stopped (by its PIDs: the port then refuses) and started again on the
#             same port; like a restarted registrar it has forgotten every registration, and
#             the handset registers again.
# Each time 50 messages plus one with the shortest validity (60 s) are submitted over the outage
# and must all be accepted (202); none may fail, expire or count as sent while the operator is
# down; after it is back every one must end "sent", reach the handset, and none may go out
# after its validity. An outage longer than the 60 s minimum validity (to see a message expire)
# is left out: it would take over a minute.
. "$(dirname "$0")/lib.sh"

COUNT=50
OUTAGE=20
SETTLE=60 # seconds the messages may take to go out once the operator is back

# states FILE: one "id status error_code sent_at expires_at" line per id in FILE.
states()
{
    local id
    while read -r id; do
        curl -s "$BASE/messages/$id" | jq -r '"\(.id) \(.status) \(.error.code // "-") \(
            first(.events[] | select(.status == "sent") | .at) // "-") \(.expires_at)"'
    done <"$1"
}

kamailio_signal()
{
    local p
    for p in $(cat "$WORK"/pids/kamailio*.pid); do kill "-$1" "$p"; done
}

# outage KIND: one outage of KIND (frozen or restarted) with its checks.
outage()
{
    local kind=$1 ids=$WORK/$1.ids down_at up_at seen codes="" i valid_id end
    if [ "$kind" = frozen ]; then kamailio_signal STOP; else operator_stop; fi
    down_at=$SECONDS
    seen=$(wc -l <"$HLOG")
    : >"$ids"
    for i in $(seq "$COUNT"); do
        post "{\"to\":\"+15550100\",\"text\":\"$kind-$i\"}"
        codes="$codes$HTTP_CODE "
        jq -r .id <<<"$BODY" >>"$ids"
        if [ "$i" = $((COUNT / 2)) ]; then
            post "{\"to\":\"+15550100\",\"text\":\"$kind-validity\",\"validity\":60}"
            codes="$codes$HTTP_CODE "
            valid_id=$(jq -r .id <<<"$BODY")
            echo "$valid_id" >>"$ids"
        fi
        sleep "$(awk -v n="$COUNT" -v t="$OUTAGE" 'BEGIN { printf "%.2f", t / n - 0.02 }')"
        [ $((SECONDS - down_at)) -gt $((OUTAGE + 10)) ] && break
    done
    is "$kind: all $((COUNT + 1)) submissions during the outage got 202" \
        "$(tr ' ' '\n' <<<"$codes" | grep -c '^202$')" $((COUNT + 1))
    while [ $((SECONDS - down_at)) -lt "$OUTAGE" ]; do sleep 0.2; done
    echo "# $kind: /health during the outage: $(curl -s -o /dev/null -w '%{http_code}' \
        "$BASE/health") $(curl -s "$BASE/health" | jq -c '{status, registration:
        .registration.state, dispatch}')"
    if [ "$kind" = restarted ]; then
        # a refusing operator trips the dispatch breaker: monitoring must see it
        is "$kind: /health is 503 with dispatch paused while the operator refuses" \
            "$(curl -s -o "$WORK/h.json" -w '%{http_code}' "$BASE/health") $(jq -r \
                '"\(.status) \(.dispatch.paused)"' "$WORK/h.json")" "503 degraded true"
    fi
    states "$ids" >"$WORK/$kind.during"
    is "$kind: after $OUTAGE s down every message is still queued or sending" \
        "$(awk '$2 != "queued" && $2 != "sending" { print $1, $2, $3 }' "$WORK/$kind.during" |
            head -n 3 | tr '\n' ';')" ""
    is "$kind: nothing reached the handset while the operator was down" \
        "$(wc -l <"$HLOG")" "$seen"

    if [ "$kind" = frozen ]; then
        kamailio_signal CONT
    else
        operator_restart || bail "the operator did not come back: $(tail -n 3 "$WORK/provider.out")"
        handset_reregister || bail "the handset did not register again"
    fi
    up_at=$SECONDS
    echo "# $kind: operator back after $((up_at - down_at)) s"
    end=$((SECONDS + SETTLE))
    while [ $SECONDS -lt $end ]; do
        states "$ids" >"$WORK/$kind.after"
        awk '$2 == "queued" || $2 == "sending" { n++ } END { exit n > 0 }' "$WORK/$kind.after" &&
            break
        sleep 1
    done
    echo "# $kind: settled $((SECONDS - up_at)) s after the operator came back:" \
        "$(awk '{ print $2, $3 }' "$WORK/$kind.after" | sort | uniq -c | tr -s ' ' | tr '\n' ';')"
    is "$kind: every message ends sent after the operator is back" \
        "$(awk '$2 != "sent" { print $1, $2, $3 }' "$WORK/$kind.after" | head -n 3 |
            tr '\n' ';')" ""
    if [ "$kind" = restarted ]; then
        check "$kind: smsgw registered again with the restarted operator" \
            grep -q "op: REGISTER of 'smsgw' from" "$(provider_log "$WORK")"
    fi
    { for i in $(seq "$COUNT"); do echo "body=$kind-$i"; done; echo "body=$kind-validity"; } |
        sort >"$WORK/$kind.want"
    is "$kind: the handset received every message" \
        "$(grep -oE "body=$kind-[a-z0-9]+\$" "$HLOG" | sort -u | comm -13 - "$WORK/$kind.want" |
            head -n 3 | tr '\n' ' ')" ""
    is "$kind: the message with validity 60 s is sent (the outage was shorter)" \
        "$(awk -v id="$valid_id" '$1 == id { print $2 }' "$WORK/$kind.after")" sent
    is "$kind: no message was sent after its validity" \
        "$(awk '$4 != "-" && $4 > $5 { print $1 }' "$WORK/$kind.after" | head -n 3 |
            tr '\n' ' ')" ""
}

start_operator
start_gateway
wait_ready 10 || bail "not registered"
post '{"to":"+15550100","text":"before the outage"}'
check "a message before the outage is sent" wait_status "$(jq -r .id <<<"$BODY")" sent 10
HLOG=$(handset_log "$WORK")

outage frozen
outage restarted

plan "$T_N"
done_testing
