#!/usr/bin/env bash
# Inbound: a handset's MESSAGE to the gateway's user goes through Kamailio (which relays it to
# the gateway's registered Contact) and is answered 200 only once it is stored; the same
# MESSAGE sent straight to the gateway's SIP port from another address (127.0.0.2) gets 403
# and is not stored; OPTIONS is answered 200 with the methods we accept.
. "$(dirname "$0")/lib.sh"
plan 17

start_operator
GW_SIP_PORT=$(free_port "$WORK")
SMSGW_SIP_LOCAL=127.0.0.1:$GW_SIP_PORT start_gateway
check "registered" wait_ready 10
inbound() { sqlite3 "$WORK/smsgw.db" "SELECT count(*) FROM messages WHERE inbound = 1"; }

# 1. Handset -> Kamailio -> gateway.
text='Reply from the handset: ok, 5 €'
sipp_uac from-handset 127.0.0.1 "127.0.0.1:$OP_PORT" message.xml -au +15550100 \
    -ap handset-secret -key domain operator.test -key from_user +15550100 \
    -key ruri sip:smsgw@operator.test -key body "$text"
check "handset's MESSAGE answered 200 through Kamailio" \
    grep -q '^final=200 ' "$WORK/from-handset/log"
check "Kamailio relayed it to the gateway's Contact" \
    grep -q "op: MESSAGE from <sip:+15550100@operator.test> to <sip:smsgw@operator.test> relayed to <sip:smsgw@127.0.0.1:$GW_SIP_PORT" \
    "$(provider_log "$WORK")"
is "one inbound message stored" "$(inbound)" 1
# The scenario ends its body with CRLF ("$text\r\n", Content-Length 35); $(...) drops the \n.
is "its text is intact, byte for byte" \
    "$(sqlite3 "$WORK/smsgw.db" "SELECT text FROM messages WHERE inbound = 1")" "$text"$'\r'
id=$(sed -n 's/.*inbound MESSAGE stored id=\([0-9A-Z]*\).*/\1/p' "$WORK/smsgw.log" | head -n 1)
check "the gateway logged the stored id" test -n "$id"
BODY=$(curl -s "$BASE/messages/$id")
is "GET /messages/{id}: inbound, received" \
    "$(printf '%s' "$BODY" | jq -r '"\(.direction) \(.status)"')" "inbound received"
is "GET /messages/{id}: from the handset" "$(printf '%s' "$BODY" | jq -r .from)" \
    "sip:+15550100@operator.test"
is "GET /messages/{id}: the text" "$(printf '%s' "$BODY" | jq -r .text)" "$text"$'\r'

# 2. A stranger (127.0.0.2) sends straight to the gateway's SIP port.
sipp_uac stranger 127.0.0.2 "127.0.0.1:$GW_SIP_PORT" message.xml -au +15550100 \
    -ap handset-secret -key domain operator.test -key from_user +15550100 \
    -key ruri "sip:smsgw@127.0.0.1:$GW_SIP_PORT" -key body "spoofed"
check "stranger: the MESSAGE reached the gateway" \
    grep -aq '^MESSAGE sip:smsgw@127.0.0.1' "$WORK/stranger/messages.raw"
check "stranger: answered 403 without a challenge" \
    grep -q '^final=403 .*challenged=no' "$WORK/stranger/log"
is "stranger: nothing more stored" "$(inbound)" 1
check "stranger: the gateway logged why" \
    grep -q 'inbound MESSAGE from an address that is not the operator: 403' "$WORK/smsgw.log"

# 3. OPTIONS to the gateway.
answer=$(timeout 5 python3 - "$GW_SIP_PORT" <<'PY'
import socket, sys
port = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
s.settimeout(2)
me = s.getsockname()[1]
s.sendto(("OPTIONS sip:smsgw@127.0.0.1:%d SIP/2.0\r\n"
          "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bKopt1;rport\r\n"
          "Max-Forwards: 70\r\nFrom: <sip:probe@127.0.0.1>;tag=p1\r\n"
          "To: <sip:smsgw@127.0.0.1:%d>\r\nCall-ID: opt1@127.0.0.1\r\nCSeq: 1 OPTIONS\r\n"
          "Content-Length: 0\r\n\r\n" % (port, me, port)).encode(), ("127.0.0.1", port))
replies = []
try:
    while True:
        replies.append(s.recv(65535).decode("utf-8", "replace"))
        s.settimeout(0.5)
except socket.timeout:
    pass
for r in replies:
    print(r.split("\r\n")[0])
    for l in r.split("\r\n"):
        if l.lower().startswith("allow:"):
            print(l)
PY
)
is "OPTIONS: one final answer, 200 OK" "$(grep -c '^SIP/2.0 ' <<<"$answer") $(grep -m1 '^SIP/2.0' <<<"$answer")" \
    "1 SIP/2.0 200 OK"
check "OPTIONS: Allow names MESSAGE and OPTIONS ($(grep -i '^allow' <<<"$answer"))" \
    grep -qiE '^Allow: *MESSAGE, *OPTIONS$' <<<"$answer"
check "SIGTERM: clean exit" stop_gateway
check "an inbound message survives the restart" test "$(inbound)" -eq 1
done_testing
