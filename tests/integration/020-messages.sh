#!/usr/bin/env bash
# The walking skeleton end to end: smsgw registers with the Kamailio operator (401 answered),
# a POST /messages goes out as a MESSAGE whose Request-URI is the recipient (407 answered),
# the handset receives it intact and the message ends "sent" with the operator's answer.
# The operator is configured as sip:localhost:<port>.
. "$(dirname "$0")/lib.sh"
plan 24

start_operator
# A host name for the operator: Sofia's resolver ignores /etc/hosts, smsgw resolves it itself.
SMSGW_SIP_PROXY=sip:localhost:$OP_PORT start_gateway
check "registered with the operator (proxy given as localhost)" wait_ready 10
KLOG=$(provider_log "$WORK")
check "REGISTER was challenged (401)" \
    grep -q 'op: REGISTER from <sip:smsgw@operator.test>: no credentials, challenging' "$KLOG"
check "REGISTER with credentials accepted" grep -q "op: REGISTER of 'smsgw' from" "$KLOG"
is "GET /registrations says registered" \
    "$(curl -s "$BASE/registrations" | jq -r .state)" registered

text='Grüße, 5 € — ok'
post "{\"to\":\"+15550100\",\"text\":\"$text\",\"reference\":\"r-1\"}"
is "POST /messages answers 202" "$HTTP_CODE" 202
id=$(printf '%s' "$BODY" | jq -r .id)
is "202 body says queued" "$(printf '%s' "$BODY" | jq -r .status)" queued
check "Location header names the message" grep -qi "^Location: /messages/$id" "$WORK/headers"
is "the text is analysed as UCS-2 (the em dash)" "$(printf '%s' "$BODY" | jq -r .encoding)" UCS-2

check "message reaches sent" wait_status "$id" sent 10
is "SIP final status recorded" "$(printf '%s' "$BODY" | jq -r .sip.status)" 200
check "Call-ID recorded" test -n "$(printf '%s' "$BODY" | jq -r '.sip.call_id // empty')"
is "events: queued, sending, sent" "$(printf '%s' "$BODY" | jq -r '[.events[].status] | join(",")')" \
    queued,sending,sent
check "MESSAGE was challenged (407) and answered" \
    grep -q 'op: MESSAGE from <sip:smsgw@operator.test>: no credentials, challenging' "$KLOG"

HLOG=$(handset_log "$WORK")
check "handset received the MESSAGE" wait_for_line "$HLOG" 'body=' 5
line=$(grep -F "body=$text" "$HLOG" | head -n 1)
check "the body arrived intact" test -n "$line"
check "Request-URI was the recipient (P-Called-Party-ID kept by the operator)" \
    grep -qF 'called=<sip:+15550100@operator.test;user=phone>' <<<"$line"
check "From is our identity" grep -qF 'from=<sip:smsgw@operator.test>' <<<"$line"

# The operator's nonce lives on: the next MESSAGE carries credentials at once (nc=2) and is
# not challenged again, which spares a round trip per SMS.
post '{"to":"+15550100","text":"second"}'
check "a second message is sent" wait_status "$(printf '%s' "$BODY" | jq -r .id)" sent 10
is "only the first MESSAGE was challenged" \
    "$(grep -c 'op: MESSAGE from <sip:smsgw@operator.test>: no credentials, challenging' "$KLOG")" 1

post '{"to":"+15550199","text":"anyone there?"}'
id2=$(printf '%s' "$BODY" | jq -r .id)
check "a message to an unknown number ends failed" wait_status "$id2" failed 10
is "with the operator's 404" "$(printf '%s' "$BODY" | jq -r .sip.status)" 404
is "explained as unknown_number, permanent" \
    "$(printf '%s' "$BODY" | jq -r '"\(.error.code) \(.error.permanent)"')" "unknown_number true"

check "SIGTERM: clean exit" stop_gateway
check "unREGISTER sent and answered" grep -q 'unregistered: 200' "$WORK/smsgw.log"
done_testing
