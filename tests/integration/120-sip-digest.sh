#!/usr/bin/env bash
# MESSAGE digest authentication against sipp operators (register = no) and Kamailio: a stale
# nonce is answered again (MD5 by Sofia, SHA-256 by our own digest), a challenge repeated
# without stale=true ends "failed auth_failed" after exactly one answer, a SHA-256-only and a
# SHA-256 + MD5 challenge are answered with SHA-256 and the response= checks out against the
# password, and a password with ':' in it works with Kamailio's MD5.
. "$(dirname "$0")/lib.sh"
plan 42

VERIFY=$BUILD/tools/digest_verify
[ -x "$VERIFY" ] || bail "missing $VERIFY (make all)"
PASS=smsgw-secret
PEER_PORT=$(free_port "$WORK")

# send_to NAME SCENARIO ALG: (re)starts the sipp operator NAME, POSTs one message; sets ID.
send_to()
{
    sipp_peer "$1" "$PEER_PORT" "$2" -key alg "$3" || bail "sipp $1 did not start"
    post "{\"to\":\"+15550100\",\"text\":\"digest $1\"}"
    ID=$(printf '%s' "$BODY" | jq -r .id)
}

# verify PASSWORD FILE: digest_verify of every MESSAGE answer in FILE (its report in $WORK).
verify()
{
    "$VERIFY" smsgw "$1" MESSAGE <"$2" >>"$WORK/digest_verify.out" 2>&1
}

# call_ids FILE: how many Call-IDs the MESSAGEs received in FILE used.
call_ids()
{
    grep -a '^Call-ID:' "$1" | sort -u | wc -l
}

# algs FILE: the algorithm= of every Proxy-Authorization sent, comma-separated.
# algs RAW: the algorithms of our answers to challenges, i.e. of every MESSAGE after the first
# (the first may carry credentials cached from an earlier challenge, sent before any 407).
algs()
{
    awk '/^MESSAGE /{n++} n > 1 && /^Proxy-Authorization:/{print}' "$1" \
        | sed -n 's/.*algorithm=\([A-Za-z0-9-]*\).*/\1/p' | paste -sd, -
}

SMSGW_SIP_PROXY=sip:127.0.0.1:$PEER_PORT SMSGW_SIP_REGISTER=no SMSGW_SIP_TIMEOUT=8 \
    SMSGW_SIP_P_ASSERTED_IDENTITY=sip:+15550123@operator.test start_gateway

# 1. MD5 with a stale nonce: Sofia re-answers the stale=true challenge.
send_to md5-stale uas_407_stale.xml MD5
check "MD5, 407 then 407 stale=true: message sent" wait_status "$ID" sent 10
RAW=$(peer_raw md5-stale)
is "MD5 stale: three MESSAGEs (first, answer, answer to the stale nonce)" \
    "$(count_requests "$RAW" MESSAGE)" 3
check "MD5 stale: the answer to the new nonce is there" grep -aq 'nonce="n2' "$RAW"
is "MD5 stale: one Call-ID for the three" "$(call_ids "$RAW")" 1
check "MD5 stale: every response= matches the password" verify "$PASS" "$RAW"
# RFC 3428 pager mode: no Contact; the configured identity header on every MESSAGE.
is "no MESSAGE carries a Contact" "$(awk '/^MESSAGE /{m=1} /^\r?$/{m=0} m && /^Contact:/' "$RAW")" ""
is "every MESSAGE carries the configured P-Asserted-Identity" \
    "$(grep -ac '^P-Asserted-Identity: <sip:+15550123@operator.test>' "$RAW")" 3
check "the first MESSAGE's Request-URI is the recipient" \
    grep -aq '^MESSAGE sip:+15550100@operator.test;user=phone SIP/2.0' "$RAW"
peer_stop md5-stale

# 2. SHA-256 with a stale nonce: our own digest answers it once more.
send_to sha-stale uas_407_stale.xml SHA-256
check "SHA-256, 407 then 407 stale=true: message sent" wait_status "$ID" sent 10
RAW=$(peer_raw sha-stale)
is "SHA-256 stale: three MESSAGEs" "$(count_requests "$RAW" MESSAGE)" 3
is "SHA-256 stale: both answers use SHA-256" "$(algs "$RAW")" SHA-256,SHA-256
is "SHA-256 stale: one Call-ID for the three (answers sent by us keep the call)" \
    "$(call_ids "$RAW")" 1
is "SHA-256 stale: CSeq goes up by one per answer" \
    "$(grep -a '^CSeq:' "$RAW" | awk '{print $2}' | uniq | awk 'NR>1 {print $1-p} {p=$1}' | paste -sd, -)" 1,1
check "SHA-256 stale: every response= matches the password" verify "$PASS" "$RAW"
peer_stop sha-stale

# 3. 407 again without stale=true: credentials refused, one answer only, no loop.
for alg in MD5 SHA-256; do
    send_to "always-$alg" uas_407_always.xml "$alg"
    check "$alg, 407 twice without stale: message failed" wait_status "$ID" failed 10
    is "$alg refused: error auth_failed, permanent" \
        "$(printf '%s' "$BODY" | jq -r '"\(.error.code) \(.error.permanent)"')" "auth_failed true"
    is "$alg refused: the final answer recorded is the 407" \
        "$(printf '%s' "$BODY" | jq -r .sip.status)" 407
    is "$alg refused: one attempt" "$(printf '%s' "$BODY" | jq -r .attempts)" 1
    sleep 1 # a looping sender would have sent its third MESSAGE by now
    is "$alg refused: exactly two MESSAGEs reached the operator" \
        "$(count_requests "$(peer_raw "always-$alg")" MESSAGE)" 2
    peer_stop "always-$alg"
done

# 4. SHA-256 only: answered by our digest; response= recomputed from the password.
send_to sha-only uas_407.xml SHA-256
check "SHA-256-only challenge: message sent" wait_status "$ID" sent 10
RAW=$(peer_raw sha-only)
is "SHA-256-only: the answer says algorithm=SHA-256" "$(algs "$RAW")" SHA-256
check "SHA-256-only: the answer carries qop=auth, nc and cnonce" \
    grep -aqE '^Proxy-Authorization:.*qop=("auth"|auth).*nc=00000001.*cnonce=|^Proxy-Authorization:.*cnonce=.*qop=("auth"|auth)' "$RAW"
check "SHA-256-only: the opaque is echoed" grep -aq '^Proxy-Authorization:.*opaque="0p4que"' "$RAW"
check "SHA-256-only: response= matches the password" verify "$PASS" "$RAW"
check "SHA-256-only: response= does not match another password" \
    bash -c "! '$VERIFY' smsgw wrong-secret MESSAGE <'$RAW' >/dev/null"
is "SHA-256-only: Request-URI is the recipient" \
    "$(grep -a -m1 '^MESSAGE ' "$RAW" | awk '{print $2}')" 'sip:+15550100@operator.test;user=phone'
peer_stop sha-only

# 5. SHA-256 and MD5 offered: SHA-256 is chosen.
send_to dual uas_407_dual.xml MD5
check "SHA-256 + MD5 challenge: message sent" wait_status "$ID" sent 10
RAW=$(peer_raw dual)
is "dual: the answer uses SHA-256" "$(algs "$RAW")" SHA-256
check "dual: the answer uses the SHA-256 challenge's nonce" \
    grep -aq '^Proxy-Authorization:.*nonce="d[0-9]*s256' "$RAW"
check "dual: response= matches the password" verify "$PASS" "$RAW"
peer_stop dual
check "SIGTERM: clean exit" stop_gateway

# 6. A password with ':' against Kamailio (MD5 on REGISTER and MESSAGE).
export SMSGW_OP_GW_PASSWORD='s3cr:et'
start_operator
SMSGW_SIP_PASSWORD='s3cr:et' start_gateway
check "password with ':': registered with Kamailio" wait_ready 10
post '{"to":"+15550100","text":"colon password"}'
ID=$(printf '%s' "$BODY" | jq -r .id)
check "password with ':': message sent" wait_status "$ID" sent 10
check "password with ':': Kamailio accepted the REGISTER credentials" \
    grep -q "op: REGISTER of 'smsgw' from" "$(provider_log "$WORK")"
check "password with ':': no credentials were refused" \
    bash -c "! grep -q 'bad credentials' '$(provider_log "$WORK")'"
check "password with ':': the handset got the text" \
    wait_for_line "$(handset_log "$WORK")" 'body=colon password' 5
check "SIGTERM: clean exit" stop_gateway
done_testing
