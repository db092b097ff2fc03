#!/usr/bin/env bash
# Bad requests get a clear application/problem+json error with a stable code, and nothing is
# stored: malformed JSON, a bad number, CR/LF smuggled into a field, wrong types, unknown
# fields, a wrong Content-Type, an oversized body, unknown ids and routes.
. "$(dirname "$0")/lib.sh"
plan 21

start_operator
start_gateway
wait_ready 10 || bail "not registered"
before=$(stored_count)

# expect DESCRIPTION STATUS CODE JSON [curl args...]
expect()
{
    local d=$1 st=$2 code=$3 json=$4
    shift 4
    post "$json" "$@"
    local got_code
    got_code=$(printf '%s' "$BODY" | jq -r .code 2>/dev/null)
    if [ "$HTTP_CODE" = "$st" ] && [ "$got_code" = "$code" ] &&
        grep -qi '^Content-Type: application/problem+json' "$WORK/headers"; then
        ok "$d -> $st $code"
    else
        not_ok "$d -> got $HTTP_CODE '$got_code', want $st $code"
    fi
}

expect "malformed JSON" 400 invalid_json '{"to":"+15550100","text":'
expect "trailing garbage" 400 invalid_json '{"to":"+15550100","text":"x"}x'
expect "duplicate keys" 400 invalid_json '{"to":"+15550100","to":"+15550101","text":"x"}'
expect "top-level array" 422 body_must_be_object '["+15550100","x"]'
expect "letters in the number" 422 invalid_number '{"to":"+1555abc0100","text":"x"}'
expect "too few digits" 422 invalid_number '{"to":"+1555010","text":"x"}'
expect "a SIP URI as number" 422 invalid_number '{"to":"sip:evil@host","text":"x"}'
expect "CRLF in the number" 422 invalid_number \
    '{"to":"+15550100\r\nX-Evil: 1","text":"x"}'
expect "CRLF in the reference" 422 invalid_reference \
    '{"to":"+15550100","text":"x","reference":"a\r\nb"}'
expect "number as a JSON number" 422 wrong_type '{"to":15550100,"text":"x"}'
expect "unknown field" 422 unknown_field '{"to":"+15550100","text":"x","status":"sent"}'
expect "missing text" 422 missing_field '{"to":"+15550100"}'
expect "empty text" 422 empty_text '{"to":"+15550100","text":""}'
expect "NUL escaped in text" 400 invalid_json '{"to":"+15550100","text":"a\u0000b"}'
code=$(curl -s -o "$WORK/b" -D "$WORK/h" -w '%{http_code}' -X POST "$BASE/messages" \
    -H 'Content-Type: text/plain' --data-binary '{"to":"+15550100","text":"x"}')
is "text/plain body -> 415" "$code $(jq -r .code "$WORK/b")" "415 unsupported_media_type"
big=$(head -c 20000 /dev/zero | tr '\0' 'a')
expect "20 KB body" 413 body_too_large "{\"to\":\"+15550100\",\"text\":\"$big\"}"

is "nothing was stored" "$(stored_count)" "$before"

code=$(curl -s -o "$WORK/b" -w '%{http_code}' "$BASE/messages/01ARZ3NDEKTSV4RRFFQ69G5FAV")
is "unknown id -> 404" "$code $(jq -r .code "$WORK/b")" "404 not_found"
code=$(curl -s -o "$WORK/b" -w '%{http_code}' "$BASE/messages/..%2Fadmin")
is "malformed id -> 404" "$code" 404
code=$(curl -s -o "$WORK/b" -w '%{http_code}' "$BASE/nowhere")
is "unknown route -> 404" "$code" 404
code=$(curl -s -o "$WORK/b" -D "$WORK/h" -w '%{http_code}' -X PUT "$BASE/messages")
check "wrong method -> 405 with Allow" test "$code" = 405 -a -n "$(grep -i '^Allow:' "$WORK/h")"
done_testing
