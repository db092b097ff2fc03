#!/usr/bin/env bash
# Contract tests (tests/contract, Node.js): openapi.yaml passes `redocly lint`, and the answers
# of a running smsgw match openapi.yaml (status, Content-Type, documented headers, body against
# the document's JSON Schemas): first a keyless gateway registered with the local operator,
# then one with [api] keys whose operator is unreachable (401s, degraded health).
. "$(dirname "$0")/lib.sh"
shopt -s lastpipe # run's reader must count in this shell

CONTRACT=$REPO/tests/contract
KEY=contract-key-$RANDOM$RANDOM
export REDOCLY_SUPPRESS_UPDATE_NOTICE=true REDOCLY_TELEMETRY=off

if ! command -v node >/dev/null || [ ! -x "$CONTRACT/node_modules/.bin/redocly" ]; then
    not_ok "node and tests/contract/node_modules are installed (run deploy/install-deps.sh)"
    plan "$T_N"
    exit 1
fi
echo "# node $(node --version)"

out=$(cd "$CONTRACT" && timeout 120 node_modules/.bin/redocly lint --format=stylish \
    "$REPO/openapi.yaml" 2>&1)
rc=$?
grep -E '^ +[0-9]+:[0-9]+ +(error|warning)' <<<"$out" | sed 's/^ */# /'
is "openapi.yaml passes redocly lint" "$rc" 0

# run PHASE [ARGS...]: the contract script's checks, one TAP line each.
run()
{
    local line
    timeout 120 node "$CONTRACT/contract.mjs" --spec "$REPO/openapi.yaml" --base "$BASE" \
        --phase "$@" 2>&1 | while IFS= read -r line; do
        case $line in
            'ok - '*) ok "${line#ok - }" ;;
            'not ok - '*) not_ok "${line#not ok - }" ;;
            *) echo "# $line" ;;
        esac
    done
    is "the $1 phase ran to the end" "${PIPESTATUS[0]}" 0
}

start_operator
SMSGW_LIMITS_SEND_RATE=2 start_gateway
wait_ready 10 || bail "not registered"
run open
check "SIGTERM: clean exit" stop_gateway

SMSGW_API_KEYS=$(printf %s "$KEY" | sha256sum | cut -d' ' -f1) \
    SMSGW_SIP_PROXY=sip:127.0.0.1:$(free_port "$WORK") start_gateway
run auth --key "$KEY"

plan "$T_N"
done_testing
