#!/usr/bin/env bash
# Refusals explained: sipp plays the operator (register = no). A 403 with Q.850 cause 55 ends
# "failed" as barred with the cause decoded; a 480 with cause 20 is retried, not failed; a
# 503 with Retry-After: 2 is retried no sooner than 2 s later (Sofia must not resend it by
# itself); an operator that never answers ends the attempt as "timeout" at the deadline.
. "$(dirname "$0")/lib.sh"
plan 29

PEER_PORT=$(free_port "$WORK")

# ms ISO-TIME: milliseconds since the epoch.
ms() { date -d "$1" +%s%3N; }

# event_at MESSAGE-JSON N: the time (ms) of the N-th event (0-based) of the message.
event_at() { ms "$(printf '%s' "$1" | jq -r ".events[$2].at")"; }

# received_ms FILE TEXT: the arrival time (ms) of each MESSAGE holding TEXT that sipp received.
received_ms()
{
    sipp_requests "$1" MESSAGE "$2" | while read -r t; do ms "$t"; done
}

# post_to NAME SCENARIO: (re)starts the sipp operator NAME and POSTs one message; sets ID.
post_to()
{
    sipp_peer "$1" "$PEER_PORT" "$2" || bail "sipp $1 did not start"
    post "{\"to\":\"+15550100\",\"text\":\"failure $1\",\"validity\":60}"
    ID=$(printf '%s' "$BODY" | jq -r .id)
}

SMSGW_SIP_PROXY=sip:127.0.0.1:$PEER_PORT SMSGW_SIP_REGISTER=no SMSGW_SIP_TIMEOUT=3 start_gateway

# 1. 403 + Reason: Q.850;cause=55: barred, permanent, the cause decoded.
post_to barred uas_403_cause55.xml
check "403 cause 55: message failed" wait_status "$ID" failed 5
is "403 cause 55: error.code barred, permanent" \
    "$(printf '%s' "$BODY" | jq -r '"\(.error.code) \(.error.permanent)"')" "barred true"
check "403 cause 55: advice present" \
    test "$(printf '%s' "$BODY" | jq -r '.error.advice | length')" -gt 20
is "403 cause 55: reason decoded (protocol, cause, name)" \
    "$(printf '%s' "$BODY" | jq -r '.error.reason | "\(.protocol) \(.cause) \(.name)"')" \
    "Q.850 55 Incoming calls barred within CUG"
is "403 cause 55: the operator's reason text is kept" \
    "$(printf '%s' "$BODY" | jq -r .sip.reason.text)" "Sender not registered"
is "403 cause 55: SIP status and phrase recorded" \
    "$(printf '%s' "$BODY" | jq -r '"\(.sip.status) \(.sip.phrase)"')" "403 Forbidden"
is "403 cause 55: one attempt, no retry" "$(printf '%s' "$BODY" | jq -r .attempts)" 1
is "403 cause 55: the operator got the Request-URI of the recipient" \
    "$(sed -n 's/^MESSAGE ruri=//p' "$WORK/barred/log" | head -n 1)" \
    'sip:+15550100@operator.test;user=phone'
peer_stop barred

# 2. 480 + cause 20: temporary, so queued again and retried.
post_to absent uas_480_cause20.xml
check "480 cause 20: a second attempt reaches the operator" \
    wait_count "$(peer_raw absent)" MESSAGE 2 6 "failure absent"
BODY=$(curl -s "$BASE/messages/$ID")
st=$(printf '%s' "$BODY" | jq -r .status)
check "480 cause 20: not failed (queued or sending, got $st)" \
    test "$st" = queued -o "$st" = sending
is "480 cause 20: error recipient_unavailable, not permanent" \
    "$(printf '%s' "$BODY" | jq -r '"\(.error.code) \(.error.permanent)"')" \
    "recipient_unavailable false"
is "480 cause 20: reason decoded" \
    "$(printf '%s' "$BODY" | jq -r '.sip.reason | "\(.cause) \(.name)"')" "20 Subscriber absent"
check "480 cause 20: an event schedules the retry" \
    grep -q '480 Temporarily Unavailable; recipient_unavailable; retry in' \
    <<<"$(printf '%s' "$BODY" | jq -r '.events[].detail')"
check "480 cause 20: at least two attempts recorded" \
    test "$(printf '%s' "$BODY" | jq -r .attempts)" -ge 2
peer_stop absent

# 3. 503 + Retry-After: 2: the next attempt waits at least 2 s, and it is ours, not Sofia's.
post_to busy uas_503_retry_after.xml
check "503: a second attempt reaches the operator" \
    wait_count "$(peer_raw busy)" MESSAGE 2 6 "failure busy"
wait_events "$ID" 4 3
is "503: error operator_unavailable, not permanent" \
    "$(printf '%s' "$BODY" | jq -r '"\(.error.code) \(.error.permanent)"')" \
    "operator_unavailable false"
is "503: Retry-After recorded" "$(printf '%s' "$BODY" | jq -r .sip.retry_after)" 2
is "503: the first answer is reported at once (events: queued, sending, queued)" \
    "$(printf '%s' "$BODY" | jq -r '[.events[0:3][].status] | join(",")')" queued,sending,queued
answered=$(event_at "$BODY" 2)
again=$(event_at "$BODY" 3)
check "503: attempt 2 starts >= 2 s after the answer ($((again - answered)) ms)" \
    test $((again - answered)) -ge 2000
mapfile -t rx < <(received_ms "$(peer_raw busy)" "failure busy")
check "503: the operator saw the second MESSAGE >= 2 s after the first ($((rx[1] - rx[0])) ms)" \
    test $((rx[1] - rx[0])) -ge 2000
check "503: the first attempt's answer came within 1 s, not after a hidden resend" \
    test $((answered - $(event_at "$BODY" 1))) -lt 1000
peer_stop busy

# 4. No answer at all: a UDP port that swallows everything; the deadline (3 s) ends it.
SINK=$WORK/sink.raw
timeout 60 python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
while True:
    d = s.recv(65535)
    with open(sys.argv[2], "ab") as f:
        f.write(d + b"\n")
' "$PEER_PORT" "$SINK" &
provider_track_pid "$WORK" sink $!
for _ in $(seq 50); do ss -Hnlu "sport = :$PEER_PORT" | grep -q . && break; sleep 0.1; done
post '{"to":"+15550100","text":"into the void","validity":60}'
ID=$(printf '%s' "$BODY" | jq -r .id)
wait_events "$ID" 3 8
is "no answer: the attempt ends by the deadline (events: queued, sending, queued)" \
    "$(printf '%s' "$BODY" | jq -r '[.events[0:3][].status] | join(",")')" queued,sending,queued
took=$(($(event_at "$BODY" 2) - $(event_at "$BODY" 1)))
check "no answer: ended after 3 s, within 4.5 s ($took ms)" \
    test "$took" -ge 2900 -a "$took" -le 4500
check "no answer: the event says no final answer within the deadline" \
    grep -q 'no final answer within the deadline; timeout' \
    <<<"$(printf '%s' "$BODY" | jq -r '.events[2].detail')"
is "no answer: error.code timeout, not permanent" \
    "$(printf '%s' "$BODY" | jq -r '"\(.error.code) \(.error.permanent)"')" "timeout false"
check "no answer: the advice warns the operator may still have delivered it" \
    grep -q 'may still have delivered' <<<"$(printf '%s' "$BODY" | jq -r .error.advice)"
is "no answer: no operator answer recorded (sip is null)" "$(printf '%s' "$BODY" | jq -r .sip)" null
check "no answer: the MESSAGE did go out (and was retransmitted)" \
    test "$(grep -ac '^MESSAGE sip:' "$SINK")" -ge 2
check "SIGTERM: clean exit with a message in flight or queued" stop_gateway
done_testing
