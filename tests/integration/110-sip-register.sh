#!/usr/bin/env bash
# REGISTER against sipp registrars: the 401 is answered (response= checked against the
# password), the expiry the registrar grants (10 s, though we ask 3600) is what we keep and
# refresh before it runs out; a 423 Interval Too Brief is answered with its Min-Expires; a
# SHA-256-only challenge is answered with our own digest; a Service-Route becomes the Route of
# our MESSAGEs; at
# SIGTERM our own Contact is unregistered with Expires: 0, never "*".
. "$(dirname "$0")/lib.sh"
plan 33

VERIFY=$BUILD/tools/digest_verify
[ -x "$VERIFY" ] || bail "missing $VERIFY (make all)"
REG_PORT=$(free_port "$WORK")
REG=$(peer_raw reg)

# reg_field JQ: a field of GET /registrations.
reg_field() { curl -s "$BASE/registrations" | jq -r "$1"; }

# 1. 401, then 200 granting 10 s; refreshes on the wire.
sipp_peer reg "$REG_PORT" reg_registrar.xml -key granted 10 -key alg MD5 || bail "registrar did not start"
SMSGW_SIP_PROXY=sip:127.0.0.1:$REG_PORT start_gateway
check "registered (GET /health/ready is 200)" wait_ready 5
is "GET /registrations: registered" "$(reg_field .state)" registered
is "the granted expiry is the registrar's 10 s, not the 3600 s asked" \
    "$(reg_field .granted_expires)" 10
check "the first REGISTER carried no credentials and got 401" \
    grep -aq '^SIP/2.0 401 Unauthorized' "$REG"
check "the REGISTER answering the 401 has a valid digest response" \
    bash -c "'$VERIFY' smsgw smsgw-secret REGISTER <'$REG' >/dev/null"
check "the digest check can fail (another password)" \
    bash -c "! '$VERIFY' smsgw other-secret REGISTER <'$REG' >/dev/null"
is "REGISTER asks for the configured 3600 s" \
    "$(grep -a -m1 '^Expires:' "$REG" | tr -d '\r')" "Expires: 3600"
contact=$(grep -a -m1 '^Contact:' "$REG" | tr -d '\r')
check "our Contact is sip:smsgw@127.0.0.1:<port> ($contact)" \
    grep -qE '^Contact: <sip:smsgw@127\.0\.0\.1:[0-9]+[;>]' <<<"$contact"
registered_at=$(reg_field .registered_at)
# Sofia refreshes 3..8 s into a 10 s binding: two refreshes take at most 16 s.
check "two refreshes within 17 s (4 REGISTERs with the first two)" wait_count "$REG" REGISTER 4 17
is "refreshes keep the Call-ID" "$(grep -a '^Call-ID:' "$REG" | sort -u | wc -l)" 1
check "refreshes carry credentials without a new challenge (one 401 in all)" \
    test "$(grep -ac '^SIP/2.0 401' "$REG")" -eq 1
check "all digest responses valid (nc counts up)" \
    bash -c "'$VERIFY' smsgw smsgw-secret REGISTER <'$REG' >/dev/null"
is "still registered after the refreshes" "$(reg_field .state)" registered
check "registered_at moved with the refreshes" test "$(reg_field .registered_at)" != "$registered_at"
check "no watchdog re-REGISTER was needed" \
    bash -c "! grep -q 'ran out without a successful refresh' '$WORK/smsgw.log'"

# 2. SIGTERM: un-REGISTER of our own Contact.
n_before=$(count_requests "$REG" REGISTER)
check "SIGTERM: clean exit" stop_gateway
check "an un-REGISTER was sent" wait_count "$REG" REGISTER $((n_before + 1)) 3
# The last REGISTER received, from its request line to the end of the trace.
unreg=$(tac "$REG" | awk '/^REGISTER /{print; exit} {print}' | tac | tr -d '\r')
check "the un-REGISTER has Expires: 0" grep -q '^Expires: 0$' <<<"$unreg"
check "the un-REGISTER names our Contact, not *" grep -qxF "$contact" <<<"$unreg"
check "no REGISTER ever had Contact: *" bash -c "! grep -aq '^Contact: *\*' '$REG'"
check "the registrar answered it (logged)" grep -q 'unregistered: 200' "$WORK/smsgw.log"
peer_stop reg

# 3. 423 Interval Too Brief: we ask 10 s, the registrar wants 30.
REG=$(peer_raw floor)
sipp_peer floor "$REG_PORT" reg_423.xml || bail "registrar did not start"
SMSGW_SIP_PROXY=sip:127.0.0.1:$REG_PORT SMSGW_SIP_EXPIRES=10 start_gateway
check "423: registered after all" wait_ready 5
check "423: the registrar said 423 with Min-Expires: 30" \
    grep -aq '^SIP/2.0 423 Interval Too Brief' "$REG"
is "423: the REGISTERs asked 10, 10 (after the 401), then 30" \
    "$(grep -a '^Expires:' "$REG" | tr -d '\r' | awk '{print $2}' | head -n 4 | paste -sd, -)" \
    10,10,30,30
is "423: granted 30 s" "$(reg_field .granted_expires)" 30
check "SIGTERM: clean exit" stop_gateway
peer_stop floor

# 4. A registrar that offers only SHA-256 (Sofia computes MD5 only): we answer it ourselves.
REG=$(peer_raw sha)
sipp_peer sha "$REG_PORT" reg_registrar.xml -key granted 3600 -key alg SHA-256 \
    || bail "registrar did not start"
SMSGW_SIP_PROXY=sip:127.0.0.1:$REG_PORT start_gateway
check "SHA-256: registered" wait_ready 5
check "SHA-256: the answer says algorithm=SHA-256" \
    grep -aqE '^Authorization: Digest .*algorithm=SHA-256' "$REG"
check "SHA-256: the response is valid for the password" \
    bash -c "'$VERIFY' smsgw smsgw-secret REGISTER <'$REG' >/dev/null"
check "SHA-256: SIGTERM: clean exit" stop_gateway
peer_stop sha

# 5. IMS: the Service-Route of the 200 becomes the Route of our MESSAGEs (RFC 3608), behind
#    the outbound proxy, which stays the next hop.
SR_PORT=$(free_port "$WORK")
REG=$(peer_raw sr)
sipp_peer sr "$REG_PORT" reg_service_route.xml -key granted 3600 -key alg MD5 \
    -key sroute "$SR_PORT" || bail "registrar did not start"
SMSGW_SIP_TIMEOUT=2 SMSGW_SIP_PROXY=sip:127.0.0.1:$REG_PORT start_gateway
check "Service-Route: registered" wait_ready 5
post '{"to":"+15550100","text":"routed"}'
check "Service-Route: the MESSAGE went to the outbound proxy" wait_count "$REG" MESSAGE 1 5
is "Service-Route: it carries exactly the learned route" \
    "$(awk '/^MESSAGE /{m=1} m && /^Route:/{print} m && /^\r?$/{exit}' "$REG" | tr -d '\r')" \
    "Route: <sip:127.0.0.1:$SR_PORT;lr>"
done_testing
