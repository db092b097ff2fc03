#!/usr/bin/env bash
# Registration when things go wrong: a registrar that exits (ICMP port unreachable) and one
# that stops answering (SIGSTOP) turn the state to "retrying" and /health/ready to 503, and
# once the registrar is back we register again (200). A registrar that restarted and forgot
# our binding refuses a MESSAGE with 403 cause 55: we register again at once and the message
# still goes out in the same attempt. Wrong credentials (Kamailio with
# another password) end in "failed" after the second refusal, with a clear detail, and no
# REGISTER after that.
. "$(dirname "$0")/lib.sh"
plan 28

REG_PORT=$(free_port "$WORK")

reg_field() { curl -s "$BASE/registrations" | jq -r "$1"; }
ready_code() { curl -s -o /dev/null -w '%{http_code}' "$BASE/health/ready"; }

# wait_state STATE SECONDS: until GET /registrations says STATE.
wait_state()
{
    local end=$((SECONDS + $2)) st=""
    while [ $SECONDS -le $end ]; do
        st=$(reg_field .state)
        [ "$st" = "$1" ] && return 0
        sleep 0.2
    done
    echo "# registration is '$st', wanted '$1'"
    return 1
}

# 1. The registrar exits, then comes back on the same port.
sipp_peer reg1 "$REG_PORT" reg_registrar.xml -key granted 10 -key alg MD5 || bail "registrar did not start"
SMSGW_SIP_PROXY=sip:127.0.0.1:$REG_PORT start_gateway
check "registered" wait_ready 5
peer_stop reg1
# The next refresh (3..8 s into the binding) finds the port closed.
check "registrar gone: state retrying" wait_state retrying 12
is "registrar gone: /health/ready is 503" "$(ready_code)" 503
check "registrar gone: the detail names the failure and the retry" \
    grep -qE '^503 .*; retrying in [0-9.]+ s$' <<<"$(reg_field .detail)"
check "registrar gone: a next attempt is scheduled" test "$(reg_field .next_attempt_at)" != null
sipp_peer reg2 "$REG_PORT" reg_registrar.xml -key granted 10 -key alg MD5 || bail "registrar did not restart"
check "registrar back: registered again" wait_state registered 12
is "registrar back: /health/ready is 200" "$(ready_code)" 200
check "registrar back: the new registration went through 401 and 200" \
    grep -aq '^SIP/2.0 200 OK' "$(peer_raw reg2)"
is "registrar back: failures reset" "$(reg_field .failures)" 0

# 2. The registrar stops answering (SIGSTOP): the binding runs out, we say so.
kill -STOP "$PEER_PID"
check "registrar silent: state retrying once the 10 s binding ran out" wait_state retrying 12
is "registrar silent: /health/ready is 503" "$(ready_code)" 503
check "registrar silent: the detail says the registration ran out" \
    grep -q 'ran out without a successful refresh' <<<"$(reg_field .detail)"
kill -CONT "$PEER_PID"
check "registrar answering again: registered" wait_state registered 12
is "registrar answering again: /health/ready is 200" "$(ready_code)" 200
check "SIGTERM: clean exit" stop_gateway
peer_stop reg2

# 3. The registrar restarts and forgets us: its 403 cause 55 to our next MESSAGE makes us
#    register again, and the message goes out once more (the same attempt) and is sent.
start_operator
start_gateway
check "registrar restarted: registered first" wait_ready 10
operator_stop
operator_restart || bail "Kamailio did not come back"
handset_reregister || bail "the handset did not register again"
KLOG=$(provider_log "$WORK")
post '{"to":"+15550100","text":"after the registrar forgot us"}'
ID=$(printf '%s' "$BODY" | jq -r .id)
check "registrar restarted: the message is sent" wait_status "$ID" sent 10
check "registrar restarted: the operator had refused it as not registered (cause 55)" \
    grep -q 'op: MESSAGE from <sip:smsgw@operator.test>: sender not registered -> 403 cause 55' \
    "$KLOG"
check "registrar restarted: we registered again with it" grep -q "op: REGISTER of 'smsgw'" "$KLOG"
is "registrar restarted: within one attempt, never failed" \
    "$(printf '%s' "$BODY" | jq -r '"\(.attempts) \([.events[].status] | join(","))"')" \
    "1 queued,sending,sent"
check "registrar restarted: the handset got it" \
    wait_for_line "$(handset_log "$WORK")" 'body=after the registrar forgot us$' 5
is "registrar restarted: registered" "$(reg_field .state)" registered
check "SIGTERM: clean exit" stop_gateway
provider_stop_all "$WORK"

# 4. Wrong password: Kamailio knows another one.
SMSGW_OP_GW_PASSWORD=not-the-gateways start_operator
start_gateway
check "wrong password: state failed" wait_state failed 10
is "wrong password: /health/ready is 503" "$(ready_code)" 503
detail=$(reg_field .detail)
check "wrong password: the detail says the credentials were refused ($detail)" \
    grep -q 'credentials refused twice (403 Forbidden): check \[sip\] username, auth_username and password' <<<"$detail"
n=$(grep -c "op: REGISTER from <sip:smsgw@operator.test>: bad credentials" "$(provider_log "$WORK")")
is "wrong password: Kamailio refused two answers" "$n" 2
sleep 3
is "wrong password: no REGISTER after failing (two refusals in all)" \
    "$(grep -c "op: REGISTER from <sip:smsgw@operator.test>: bad credentials" "$(provider_log "$WORK")")" "$n"
done_testing
