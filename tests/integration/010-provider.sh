#!/usr/bin/env bash
# TAP test of the local operator alone (deploy/local-provider.sh): Kamailio as the operator's
# SMS edge, the sipp handset, and sipp clients from tests/integration/sipp/ playing the gateway.
# Checks digest challenges (401/407 with qop=auth), relaying to registered contacts, and the
# 403/404 answers a gateway has to explain. Run by `prove --exec ''`.
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SCEN="$ROOT/tests/integration/sipp"
# shellcheck source=../../deploy/local-provider.sh
. "$ROOT/deploy/local-provider.sh"

if ! command -v sipp >/dev/null 2>&1 || ! lp_kamailio_bin >/dev/null 2>&1; then
    echo "1..0 # SKIP kamailio or sipp (sip-tester) not installed"
    exit 0
fi

DOMAIN=${SMSGW_OP_DOMAIN:-operator.test}
GW_USER=${SMSGW_OP_GW_USER:-smsgw}
GW_PASS=${SMSGW_OP_GW_PASSWORD:-smsgw-secret}
HS_USER=${SMSGW_OP_HANDSET_USER:-+15550100}
HS_PASS=${SMSGW_OP_HANDSET_PASSWORD:-handset-secret}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/smsgw-010.XXXXXX")
FAILED=0
N=0

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup()
{
    provider_stop_all "$WORK"
    if [ "$FAILED" -eq 0 ]; then
        rm -rf "$WORK"
    else
        echo "# logs kept in $WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ok()
{
    N=$((N + 1))
    echo "ok $N - $1"
}

not_ok()
{
    N=$((N + 1))
    FAILED=1
    echo "not ok $N - $1"
    shift
    for line in "$@"; do
        echo "#   $line"
    done
}

# check NAME COMMAND...: one TAP line for the outcome of COMMAND.
check()
{
    local name=$1
    shift
    if "$@"; then
        ok "$name"
    else
        not_ok "$name" "failed: $*"
    fi
}

# uac NAME SCENARIO SIPP-ARGS...: runs one sipp client call against the operator and prints
# its log (the "challenge=" and "final=" lines). Output and traces stay in WORK/NAME.*.
# UAC_TRANSPORT picks sipp's transport (u1 = UDP, t1 = TCP).
uac()
{
    local name=$1 scen=$2 port
    shift 2
    port=$(free_port "$WORK") || return 1
    (cd "$WORK" && timeout 20 sipp -sf "$SCEN/$scen" -i 127.0.0.1 -p "$port" \
        -t "${UAC_TRANSPORT:-u1}" -m 1 -nostdin -recv_timeout 5000 -key domain "$DOMAIN" "$@" \
        -trace_msg -message_file "$WORK/$name.raw" -trace_logs -log_file "$WORK/$name.log" \
        "127.0.0.1:$OP_PORT" </dev/null >/dev/null 2>"$WORK/$name.err")
    cat "$WORK/$name.log" 2>/dev/null
}

# message NAME AUTH-USER PASSWORD FROM-USER REQUEST-URI BODY
message()
{
    uac "$1" message.xml -au "$2" -ap "$3" -key from_user "$4" -key ruri "$5" -key body "$6"
}

# register NAME USER PASSWORD CONTACT-PORT EXPIRES
register()
{
    uac "$1" register.xml -s "$2" -au "$2" -ap "$3" -key contact_port "$4" -key expires "$5"
}

# expect NAME OUTPUT ERE...: ok when OUTPUT has a line matching each ERE.
expect()
{
    local name=$1 out=$2 re
    shift 2
    for re in "$@"; do
        if ! grep -Eq -- "$re" <<<"$out"; then
            not_ok "$name" "no line matches: $re" "got: $(tr '\n' '|' <<<"$out")"
            return
        fi
    done
    ok "$name"
}

echo "1..16"

OP_PORT=$(free_port "$WORK")
HS_UAS_PORT=$(free_port "$WORK")
HS_REG_PORT=$(free_port "$WORK")
GW_UAS_PORT=$(free_port "$WORK")
TOKEN="t$$-$RANDOM"

if ! provider_start "$WORK" "$OP_PORT"; then
    not_ok "operator starts on udp+tcp 127.0.0.1:$OP_PORT"
    exit 1
fi
ok "operator starts on udp+tcp 127.0.0.1:$OP_PORT"

check "OPTIONS answered 200 over UDP and TCP" provider_ping "$OP_PORT" 2

if handset_start "$WORK" "$OP_PORT" "$HS_UAS_PORT" "$HS_REG_PORT"; then
    ok "handset $HS_USER registers (401, then 200)"
else
    not_ok "handset $HS_USER registers (401, then 200)"
    exit 1
fi
HS_LOG=$(handset_log "$WORK")

# Authenticated, but the gateway has not registered yet: the operator's classic refusal.
out=$(message unreg "$GW_USER" "$GW_PASS" "$GW_USER" "sip:$HS_USER@$DOMAIN;user=phone" "early")
expect "unregistered sender: 407 (qop=auth), then 403 with Reason cause=55" "$out" \
    '^challenge=407 qop="auth"' '^final=403 phrase=Forbidden' \
    'reason=Q.850;cause=55;text="Sender not registered"'

# The gateway stand-in answers 202, to show that the contact's own answer is what comes back.
if ! uas_start "$WORK" gw "$GW_UAS_PORT" "202 Accepted"; then
    not_ok "gateway stand-in UAS starts on 127.0.0.1:$GW_UAS_PORT"
    exit 1
fi
out=$(register reg-gw "$GW_USER" "$GW_PASS" "$GW_UAS_PORT" 3600)
expect "gateway REGISTER: 401 (qop=auth), then 200" "$out" \
    '^challenge=401 qop="auth"' '^final=200 '

out=$(message to-hs "$GW_USER" "$GW_PASS" "$GW_USER" "sip:$HS_USER@$DOMAIN;user=phone" \
    "hello $TOKEN")
expect "MESSAGE to the handset: 407 (qop=auth), then the handset's 200" "$out" \
    '^challenge=407 qop="auth"' '^final=200 phrase=OK'

esc_hs=${HS_USER//+/\\+}
if wait_for_line "$HS_LOG" "body=hello $TOKEN" 5; then
    line=$(grep -E "body=hello $TOKEN" "$HS_LOG")
    expect "handset got it: Request-URI = its contact, P-Called-Party-ID = the number" "$line" \
        "ruri=sip:$esc_hs@127\.0\.0\.1:$HS_UAS_PORT " \
        "called=<sip:$esc_hs@$DOMAIN;user=phone>" \
        "from=<sip:$GW_USER@$DOMAIN>;tag=" "to=<sip:$esc_hs@$DOMAIN;user=phone>"
else
    not_ok "handset got it: Request-URI = its contact, P-Called-Party-ID = the number" \
        "nothing in $HS_LOG"
fi

# Over TCP, with the operator's address in the Request-URI: relayed as is, the handset still on
# UDP, and P-Called-Party-ID carries the Request-URI exactly as sent.
ruri="sip:$HS_USER@127.0.0.1:$OP_PORT;user=phone"
out=$(UAC_TRANSPORT=t1 message tcp "$GW_USER" "$GW_PASS" "$GW_USER" "$ruri" "tcp $TOKEN")
if grep -Eq '^final=200 ' <<<"$out" && wait_for_line "$HS_LOG" "body=tcp $TOKEN" 5; then
    line=$(grep -E "body=tcp $TOKEN" "$HS_LOG")
    expect "MESSAGE over TCP to sip:NUMBER@127.0.0.1:PORT reaches the handset unchanged" "$line" \
        "called=<sip:$esc_hs@127\.0\.0\.1:$OP_PORT;user=phone>"
else
    not_ok "MESSAGE over TCP to sip:NUMBER@127.0.0.1:PORT reaches the handset unchanged" \
        "got: $out"
fi

out=$(message unknown "$GW_USER" "$GW_PASS" "$GW_USER" "sip:+15550199@$DOMAIN;user=phone" "x")
expect "MESSAGE to an unknown number: 404 (Reason cause=1)" "$out" '^challenge=407 ' \
    '^final=404 phrase=Not Found reason=Q.850;cause=1;'

out=$(message badpw "$GW_USER" "wrong-$GW_PASS" "$GW_USER" "sip:$HS_USER@$DOMAIN" "x")
if grep -q 'cause=55' <<<"$out"; then
    not_ok "wrong password: 407, then 403 without cause 55" "got: $out"
else
    expect "wrong password: 407, then 403 without cause 55" "$out" '^challenge=407 ' \
        '^final=403 phrase=Forbidden reason= status'
fi

out=$(message spoof "$GW_USER" "$GW_PASS" "$HS_USER" "sip:$GW_USER@$DOMAIN" "x")
expect "From user other than the digest user: 403" "$out" '^final=403 phrase=Forbidden'

# Inbound: the handset writes to the gateway's own user; it lands on the gateway's contact.
out=$(message to-gw "$HS_USER" "$HS_PASS" "$HS_USER" "sip:$GW_USER@$DOMAIN" "reply $TOKEN")
if grep -Eq '^final=202 ' <<<"$out" && wait_for_line "$(uas_log "$WORK" gw)" "body=reply $TOKEN" 5
then
    line=$(grep -E "body=reply $TOKEN" "$(uas_log "$WORK" gw)")
    expect "MESSAGE from the handset reaches the gateway's contact, its 202 comes back" "$line" \
        "ruri=sip:$GW_USER@127\.0\.0\.1:$GW_UAS_PORT " "from=<sip:$esc_hs@$DOMAIN>;tag="
else
    not_ok "MESSAGE from the handset reaches the gateway's contact, its 202 comes back" \
        "got: $out"
fi

out=$(message tel "$GW_USER" "$GW_PASS" "$GW_USER" "tel:$HS_USER" "tel $TOKEN")
if grep -Eq '^final=200 ' <<<"$out" && wait_for_line "$HS_LOG" "body=tel $TOKEN" 5; then
    ok "tel: Request-URI reaches the handset too"
else
    not_ok "tel: Request-URI reaches the handset too" "got: $out"
fi

out=$(register reg-badpw "$GW_USER" "wrong-$GW_PASS" "$GW_UAS_PORT" 3600)
expect "REGISTER with a wrong password: 403" "$out" '^challenge=401 ' '^final=403 '

out=$(register unreg-gw "$GW_USER" "$GW_PASS" "$GW_UAS_PORT" 0)
out2=$(message after-unreg "$GW_USER" "$GW_PASS" "$GW_USER" "sip:$HS_USER@$DOMAIN" "late")
expect "after REGISTER Expires: 0 the sender is refused again (cause 55)" "$out
$out2" '^final=200 ' '^final=403 .*cause=55'

pids=$(cat "$WORK"/pids/*.pid)
provider_stop_all "$WORK"
left=""
for p in $pids; do
    kill -0 "$p" 2>/dev/null && left="$left $p"
done
if [ -z "$left" ]; then
    ok "provider_stop_all leaves none of the $(wc -w <<<"$pids") processes running"
else
    not_ok "provider_stop_all leaves none of the processes running" "still running:$left"
fi

exit "$FAILED"
