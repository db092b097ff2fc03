#!/usr/bin/env bash
# The bad-input catalogue of reliability.md section 5.1, row by row, against a running smsgw
# (POST /messages and GET /messages/{id}). Each check names its row (#N). Where smsgw answers,
# the status and the problem+json code are checked; where libmicrohttpd answers (malformed
# HTTP), the status and the closed connection. Every refused request must leave the messages
# table as it was. 030-bad-input.sh holds the rows it already covers (13, 16, 22, 25, 27, 36
# for a declared length, 49 for a random id); this script adds the rest. Slow clients and
# too many connections run against a 2 s idle timeout and 8 connections; API keys run in a
# second phase with [api] keys set (and SIP over TCP, for the largest texts).
. "$(dirname "$0")/lib.sh"
shopt -s lastpipe # rawtry runs at the end of pipelines and must count in this shell

J='{"to":"+15550100","text":"catalogue"}'
CT='Content-Type: application/json'
SENDER=+15550111
KEY=catalogue-key-$RANDOM$RANDOM
KEY_HASH=$(printf %s "$KEY" | sha256sum | cut -d' ' -f1)

# try ROW DESCRIPTION STATUS CODE CURL_ARGS...: one request by curl. ok when the answer has
# STATUS, a problem+json body with code CODE (CODE "-": not checked), and no row was added.
# With EARLY=1 the answer must also close the connection (errors decided from the headers).
try()
{
    local row=$1 d=$2 st=$3 code=$4 before after got gotcode why=""
    shift 4
    before=$(stored_count)
    got=$(curl -s -m 15 -o "$WORK/body" -D "$WORK/headers" -w '%{http_code}' "$@")
    after=$(stored_count)
    gotcode=$(jq -r .code "$WORK/body" 2>/dev/null)
    [ "$got" = "$st" ] || why="$why status $got;"
    if [ "$code" != - ]; then
        [ "$gotcode" = "$code" ] || why="$why code '$gotcode';"
        grep -qi '^Content-Type: application/problem+json' "$WORK/headers" ||
            why="$why not problem+json;"
    fi
    if [ "${EARLY:-0}" = 1 ] && ! grep -qi '^Connection: close' "$WORK/headers"; then
        why="$why no Connection: close;"
    fi
    [ "$before" = "$after" ] || why="$why rows $before -> $after;"
    if [ -z "$why" ]; then
        ok "#$row $d -> $st $code, nothing stored"
    else
        not_ok "#$row $d -> want $st $code, nothing stored; got:$why"
    fi
}

# bad ROW DESCRIPTION STATUS CODE JSON [CURL_ARGS...]: try a POST /messages of JSON.
bad()
{
    local row=$1 d=$2 st=$3 code=$4 json=$5
    shift 5
    try "$row" "$d" "$st" "$code" -X POST "$BASE/messages" -H 'Content-Type: application/json' \
        "$@" --data-binary "$json"
}

# badf ROW DESCRIPTION STATUS CODE FILE: try a POST /messages of the bytes in FILE.
badf()
{
    try "$1" "$2" "$3" "$4" -X POST "$BASE/messages" -H 'Content-Type: application/json' \
        --data-binary "@$5"
}

# rawtry ROW DESCRIPTION STATUS CODE [SECONDS]: sends standard input as a raw request. ok when
# the answer has STATUS (and, unless CODE is "-", a problem body with code CODE), the server
# closed the connection, and no row was added.
rawtry()
{
    local row=$1 d=$2 st=$3 code=$4 before after out line gotcode why="" shown=" $4"
    [ "$code" = - ] && shown=""
    before=$(stored_count)
    out=$(raw_http "$HTTP_PORT" "${5:-5}")
    after=$(stored_count)
    line=$(head -n 1 <<<"$out")
    [ "${line% *}" = "$st" ] || why="$why status ${line% *};"
    [ "${line#* }" = closed ] || why="$why connection left open;"
    if [ "$code" != - ]; then
        gotcode=$(tail -n +2 <<<"$out" | awk 'b { print } /^\r$/ { b = 1 }' |
            jq -r .code 2>/dev/null)
        [ "$gotcode" = "$code" ] || why="$why code '$gotcode';"
    fi
    [ "$before" = "$after" ] || why="$why rows $before -> $after;"
    if [ -z "$why" ]; then
        ok "#$row $d -> $st$shown, closed, nothing stored"
    else
        not_ok "#$row $d -> want $st$shown, closed, nothing stored; got:$why"
    fi
}

# head_post [HEADERS...]: the start of a raw POST /messages (header lines given as arguments).
head_post()
{
    printf 'POST /messages HTTP/1.1\r\nHost: 127.0.0.1\r\n'
    local h
    for h in "$@"; do printf '%s\r\n' "$h"; done
}

# ---- phase A: no API keys, small connection limits ----
export SMSGW_HTTP_CONNECTION_TIMEOUT=2 SMSGW_HTTP_CONNECTION_LIMIT=8 SMSGW_API_SENDERS=$SENDER
start_operator
start_gateway
wait_ready 10 || bail "not registered"

# #52: 12 idle connections against a limit of 8: smsgw holds at most 8 at once (the rest wait
# in the kernel or are closed), and a new request is served once the idle ones time out.
out=$(timeout 20 python3 - "$HTTP_PORT" "$GW_PID" <<'EOF'
import os, socket, sys, time
port, pid = int(sys.argv[1]), sys.argv[2]
def sockets():
    n = 0
    for fd in os.listdir("/proc/%s/fd" % pid):
        try:
            n += os.readlink("/proc/%s/fd/%s" % (pid, fd)).startswith("socket:")
        except OSError:
            pass
    return n
base = sockets()
conns = [socket.create_connection(("127.0.0.1", port)) for _ in range(12)]
time.sleep(0.7)
held = sockets() - base
t = time.monotonic()
c = socket.create_connection(("127.0.0.1", port), timeout=8)
c.sendall(b"GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
try:
    answer = c.recv(64)
except OSError:
    answer = b""
print(held, "%.1f" % (time.monotonic() - t), answer.split(b"\r\n")[0].decode("latin-1"))
EOF
)
read -r held waited line <<<"$out"
check "#52 12 idle connections, limit 8: smsgw holds at most 8 (held ${held:-?})" \
    test "${held:-99}" -le 8
check "#52 a new request is served after the idle ones time out (${waited:-?} s: ${line:-none})" \
    test "${line:-}" = "HTTP/1.1 200 OK"

# #50: slowloris: a header block that never ends is closed, unanswered, at the idle timeout.
out=$(printf 'POST /messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: applic' |
    raw_http "$HTTP_PORT" 6)
is "#50 unfinished headers: closed without an answer within 6 s" "$(head -n 1 <<<"$out")" \
    "000 closed"

# #51 runs in the background while the other rows go on: one body byte a second, each within
# the 2 s idle timeout, must be cut at the 30 s request deadline.
timeout 60 python3 - "$HTTP_PORT" >"$WORK/slowbody.out" 2>&1 <<'EOF' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"POST /messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
          b"Content-Length: 300\r\n\r\n")
body = b'{"to":"+15550100","text":"' + b"s" * 270 + b'"}'
t, got, how, i = time.monotonic(), b"", "open", 0
while time.monotonic() - t < 45 and i < len(body):
    try:
        s.sendall(body[i:i + 1])
    except OSError:
        how = "closed"
        break
    i += 1
    s.settimeout(1.0)
    try:
        chunk = s.recv(4096)
        if not chunk:
            how = "closed"
            break
        got += chunk
    except socket.timeout:
        pass
    except OSError:
        how = "closed"
        break
print(how, int(time.monotonic() - t), len(got))
EOF
SLOW_PID=$!

# #1 and #2, #3: a valid request is stored once; its replay and a changed body are not.
before=$(stored_count)
post "$J" -H 'Idempotency-Key: cat-1'
id=$(jq -r .id <<<"$BODY")
check "#1 valid body -> 202 queued with Location, one row" test "$HTTP_CODE" = 202 -a \
    "$(jq -r .status <<<"$BODY")" = queued -a "$(stored_count)" = $((before + 1)) -a \
    -n "$(grep -i "^Location: /messages/$id" "$WORK/headers")"
post "$J" -H 'Idempotency-Key: cat-1'
check "#2 same request, same Idempotency-Key -> 202, same id, Idempotent-Replayed, no row" \
    test "$HTTP_CODE" = 202 -a "$(jq -r .id <<<"$BODY")" = "$id" -a \
    "$(stored_count)" = $((before + 1)) -a \
    -n "$(grep -i '^Idempotent-Replayed: true' "$WORK/headers")"
bad 3 "same Idempotency-Key, other text" 422 idempotency_key_reused \
    '{"to":"+15550100","text":"other"}' -H 'Idempotency-Key: cat-1'
bad 3 "same Idempotency-Key, other recipient" 422 idempotency_key_reused \
    '{"to":"+15550101","text":"catalogue"}' -H 'Idempotency-Key: cat-1'

# #5: Idempotency-Key syntax, checked before the body is read.
EARLY=1 bad 5 "Idempotency-Key of 256 characters" 400 invalid_idempotency_key "$J" \
    -H "Idempotency-Key: $(printf 'k%.0s' $(seq 256))"
EARLY=1 bad 5 "empty Idempotency-Key" 400 invalid_idempotency_key "$J" -H 'Idempotency-Key;'
EARLY=1 bad 5 "non-ASCII Idempotency-Key" 400 invalid_idempotency_key "$J" \
    -H "Idempotency-Key: caf$(printf '\303\251')"
{ head_post "$CT" "Idempotency-Key: a$(printf '\001')b" \
    "Content-Length: ${#J}"; printf '\r\n%s' "$J"; } |
    rawtry 5 "control character in Idempotency-Key" 400 invalid_idempotency_key
{ head_post "$CT" "Idempotency-Key: a$(printf '\177')b" \
    "Content-Length: ${#J}"; printf '\r\n%s' "$J"; } |
    rawtry 5 "DEL in Idempotency-Key" 400 invalid_idempotency_key

# #9-#11: media type, checked before the body is read.
EARLY=1 try 9 "no Content-Type" 415 unsupported_media_type -X POST "$BASE/messages" \
    -H 'Content-Type:' --data-binary "$J"
EARLY=1 try 10 "form-urlencoded" 415 unsupported_media_type -X POST "$BASE/messages" \
    -H 'Content-Type: application/x-www-form-urlencoded' --data-binary "$J"
EARLY=1 try 10 "application/json-seq" 415 unsupported_media_type -X POST "$BASE/messages" \
    -H 'Content-Type: application/json-seq' --data-binary "$J"
EARLY=1 try 11 "application/json; charset=iso-8859-1" 415 unsupported_media_type \
    -X POST "$BASE/messages" -H 'Content-Type: application/json; charset=iso-8859-1' \
    --data-binary "$J"

# #12-#15: JSON syntax and shape.
bad 12 "empty body" 400 invalid_json ''
bad 12 "whitespace only" 400 invalid_json $' \r\n\t '
bad 14 "two JSON documents" 400 invalid_json "$J$J"
bad 15 "a string" 422 body_must_be_object '"+15550100"'
bad 15 "a number" 422 body_must_be_object '42'
bad 15 "null" 422 body_must_be_object 'null'

# #17-#19: fields.
bad 17 "admin:true" 422 unknown_field '{"to":"+15550100","text":"x","admin":true}'
is "#17 the error names the field" "$(jq -c .errors "$WORK/body")" \
    '[{"field":"admin","code":"unknown_field"}]'
bad 17 "a client-chosen id" 422 unknown_field \
    '{"id":"01ARZ3NDEKTSV4RRFFQ69G5FAV","to":"+15550100","text":"x"}'
bad 18 "missing to" 422 missing_field '{"text":"x"}'
is "#18 the error names to" "$(jq -c .errors "$WORK/body")" \
    '[{"field":"to","code":"missing_field"}]'
bad 18 "empty object" 422 missing_field '{}'
bad 19 "text as a number" 422 wrong_type '{"to":"+15550100","text":5}'
bad 19 "from as a number" 422 wrong_type \
    "{\"to\":\"+15550100\",\"text\":\"x\",\"from\":${SENDER#+}}"
bad 19 "validity as a string" 422 wrong_type '{"to":"+15550100","text":"x","validity":"600"}'
bad 19 "reference as an object" 422 wrong_type '{"to":"+15550100","text":"x","reference":{}}'

# #20, #21: numbers that are not E.164, and SIP syntax in a number.
bad 20 "empty to" 422 invalid_number '{"to":"","text":"x"}'
bad 20 "a lone +" 422 invalid_number '{"to":"+","text":"x"}'
bad 20 "a leading +0" 422 invalid_number '{"to":"+0155501000","text":"x"}'
bad 20 "16 digits" 422 invalid_number '{"to":"+1555010012345678","text":"x"}'
bad 20 "digits without + or 00" 422 invalid_number '{"to":"15550100","text":"x"}'
bad 21 "<+15550100>" 422 invalid_number '{"to":"<+15550100>","text":"x"}'
bad 21 "+15550100;user=phone" 422 invalid_number '{"to":"+15550100;user=phone","text":"x"}'
bad 21 "+15550100@evil.example" 422 invalid_number '{"to":"+15550100@evil.example","text":"x"}'
bad 21 "tel:+15550100" 422 invalid_number '{"to":"tel:+15550100","text":"x"}'
bad 22 "CRLF in from" 422 invalid_number \
    "{\"to\":\"+15550100\",\"text\":\"x\",\"from\":\"$SENDER\\r\\nX-Evil: 1\"}"
before=$(stored_count)
post '{"to":"+1 555-0100","text":"separators"}'
check "#20 spaces and dashes are dropped, as documented -> 202 to +15550100, one row" \
    test "$HTTP_CODE" = 202 -a "$(jq -r .to <<<"$BODY")" = +15550100 -a \
    "$(stored_count)" = $((before + 1))

# #24: the sender allow-list.
bad 24 "from not in [api] senders" 403 sender_not_allowed \
    '{"to":"+15550100","text":"x","from":"+15550112"}'

# #25, #26: text content and size.
bad 25 "text with a C0 control character" 422 invalid_text '{"to":"+15550100","text":"a\u0001b"}'
bad 25 "text with DEL" 422 invalid_text '{"to":"+15550100","text":"a\u007fb"}'
python3 -c 'print("{\"to\":\"+15550100\",\"text\":\"" + "a" * 1683 + "\"}", end="")' \
    >"$WORK/gsm11"
badf 26 "11 x 153 GSM-7 characters" 422 text_too_long "$WORK/gsm11"
check "#26 detail counts 11 GSM-7 segments" grep -q '11 GSM-7 segments' "$WORK/body"
python3 -c 'print("{\"to\":\"+15550100\",\"text\":\"" + "\U0001F600" * 336 + "\"}", end="")' \
    >"$WORK/emoji"
badf 26 "336 emoji (UCS-2)" 422 text_too_long "$WORK/emoji"
check "#26 detail counts UCS-2 segments" grep -q 'UCS-2 segments' "$WORK/body"
# Over UDP (phase A) the SIP MESSAGE must stay under 1300 bytes: 10 segments do not fit; the
# detail names the most text bytes that do, and exactly that many are accepted. Phase B (TCP)
# takes the 10 segments.
python3 -c 'print("{\"to\":\"+15550100\",\"text\":\"" + "a" * 1530 + "\"}", end="")' \
    >"$WORK/gsm10"
badf 26 "10 segments over UDP" 413 too_large_for_udp "$WORK/gsm10"
fit=$(grep -o 'at most [0-9]* bytes' "$WORK/body" | tr -dc '0-9')
before=$(stored_count)
post "{\"to\":\"+15550100\",\"text\":\"$(printf "a%.0s" $(seq "${fit:-1}"))\"}"
check "#26 the most text that fits over UDP (${fit:-?} bytes, from the detail) -> 202" \
    test "$HTTP_CODE" = 202 -a "$(stored_count)" = $((before + 1))
bad 26 "one byte more over UDP" 413 too_large_for_udp \
    "{\"to\":\"+15550100\",\"text\":\"$(printf "a%.0s" $(seq "$((${fit:-1} + 1))"))\"}"

# #28-#32: bytes jansson must refuse.
printf '{"to":"+15550100","text":"a\0b"}' >"$WORK/nul"
badf 28 "raw NUL byte in a string" 400 invalid_json "$WORK/nul"
printf '{"to":"+15550100","text":"a\377b"}' >"$WORK/ff"
badf 29 "invalid UTF-8 0xFF" 400 invalid_json "$WORK/ff"
printf '{"to":"+15550100","text":"a\300\257b"}' >"$WORK/overlong"
badf 29 "overlong UTF-8 C0 AF" 400 invalid_json "$WORK/overlong"
printf '{"to":"+15550100","text":"a\355\240\200b"}' >"$WORK/surrogate"
badf 29 "encoded surrogate ED A0 80" 400 invalid_json "$WORK/surrogate"
bad 30 'lone surrogate escape \ud800' 400 invalid_json '{"to":"+15550100","text":"a\ud800b"}'
printf '\357\273\277%s' "$J" >"$WORK/bom"
badf 31 "UTF-8 byte order mark" 400 invalid_json "$WORK/bom"
bad 32 "raw CR in a string" 400 invalid_json $'{"to":"+15550100","text":"a\rb"}'
bad 32 "raw LF in a string" 400 invalid_json $'{"to":"+15550100","text":"a\nb"}'
bad 32 "raw TAB in a string" 400 invalid_json $'{"to":"+15550100","text":"a\tb"}'

# #33-#35: numbers and nesting.
bad 33 "integer above int64" 400 invalid_json \
    '{"to":"+15550100","text":"x","validity":92233720368547758070}'
bad 33 "1e999" 400 invalid_json '{"to":"+15550100","text":"x","validity":1e999}'
bad 34 "NaN" 400 invalid_json '{"to":"+15550100","text":"x","validity":NaN}'
bad 34 "Infinity" 400 invalid_json '{"to":"+15550100","text":"x","validity":Infinity}'
bad 34 "leading zero 012" 400 invalid_json '{"to":"+15550100","text":"x","validity":012}'
bad 34 "validity 1.0" 422 wrong_type '{"to":"+15550100","text":"x","validity":1.0}'
bad 34 "validity -5" 422 out_of_range '{"to":"+15550100","text":"x","validity":-5}'
bad 34 "validity 0" 422 out_of_range '{"to":"+15550100","text":"x","validity":0}'
bad 34 "validity 59" 422 out_of_range '{"to":"+15550100","text":"x","validity":59}'
bad 34 "validity above validity_max" 422 out_of_range \
    '{"to":"+15550100","text":"x","validity":259201}'
python3 -c 'print("{\"to\":" + "[" * 3000 + "]" * 3000 + ",\"text\":\"x\"}", end="")' \
    >"$WORK/deep"
badf 35 "3000-deep nested arrays" 400 invalid_json "$WORK/deep"

# #36: the cap counts chunked uploads too.
head -c 20480 /dev/zero | tr '\0' a | sed 's/^/{"to":"+15550100","text":"/; s/$/"}/' \
    >"$WORK/big"
try 36 "20 KiB chunked body" 413 body_too_large -X POST "$BASE/messages" \
    -H 'Content-Type: application/json' -H 'Transfer-Encoding: chunked' --data-binary "@$WORK/big"

# #37-#45, #55: HTTP framing; 37 and 55 are smsgw's answers, the others libmicrohttpd's.
start=$SECONDS
{ head_post "$CT" 'Content-Length: 100000000000'; printf '\r\n{"to":'; } |
    rawtry 37 "Content-Length 10^11 with a short body" 413 body_too_large 8
check "#37 answered at once, not after a timeout" test $((SECONDS - start)) -le 2
{ head_post "$CT" 'Expect: 100-continue' 'Content-Length: 100000'; printf '\r\n'; } |
    rawtry 55 "Expect: 100-continue with 100000 bytes declared" 413 body_too_large
out=$({ head_post "$CT" 'Expect: 100-continue' \
    'Content-Length: 100000'; printf '\r\n'; } | raw_http "$HTTP_PORT" 5)
check "#55 no 100 Continue before the 413" test -z "$(grep -a '100 Continue' <<<"$out")"
{ head_post "$CT" 'Content-Length: 1234567890123456789012345'; printf '\r\n{}'; } |
    rawtry 38 "Content-Length of 25 digits" 413 -
{ head_post "$CT" 'Content-Length: -1'; printf '\r\n{}'; } |
    rawtry 39 "Content-Length -1" 400 -
{ head_post "$CT" 'Content-Length: abc'; printf '\r\n{}'; } |
    rawtry 39 "Content-Length abc" 400 -
{ head_post "$CT" 'Connection: close' "Content-Length: ${#J}" \
    'Content-Length: 5'; printf '\r\n%s' "$J"; } |
    rawtry 40 "two different Content-Lengths (RFC 9112 6.3)" 400 -
{ head_post "$CT" 'Connection: close' "Content-Length: ${#J}" \
    'Transfer-Encoding: chunked'; printf '\r\n%x\r\n%s\r\n0\r\n\r\n' "${#J}" "$J"; } |
    rawtry 40 "Content-Length with Transfer-Encoding: chunked (RFC 9112 6.3)" 400 -
{ head_post "$CT" 'Transfer-Encoding: chunked'; printf '\r\nzz\r\n{}\r\n0\r\n\r\n'; } |
    rawtry 41 "malformed chunk size zz" 400 -
{ printf 'GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: '
    head -c 40960 /dev/zero | tr '\0' a
    printf '\r\n\r\n'; } |
    rawtry 42 "40 KiB header block" 431 -
{ printf 'GET /messages/'
    head -c 40960 /dev/zero | tr '\0' A
    printf ' HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'; } |
    rawtry 42 "40 KiB URI" 414 -
printf 'POST /messages HTTP/1.1\r\n%s\r\nContent-Length: %s\r\n\r\n%s' "$CT" "${#J}" "$J" |
    rawtry 43 "HTTP/1.1 without Host" 400 -
printf 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n' | rawtry 44 "HTTP/2 prior-knowledge preface" 505 -
printf 'GET /health/live HTTP/3.0\r\nHost: 127.0.0.1\r\n\r\n' | rawtry 44 "HTTP/3.0" 505 -
python3 -c '
import ssl, sys
ctx = ssl.create_default_context()
ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
out = ssl.MemoryBIO()
tls = ctx.wrap_bio(ssl.MemoryBIO(), out, server_hostname="localhost")
try:
    tls.do_handshake()
except ssl.SSLWantReadError:
    pass
hello = bytearray(out.read())
hello[11:43] = b" " * 32  # a fixed "random": where a LF comes first, the close is silent
sys.stdout.buffer.write(hello)' | rawtry 45 "TLS ClientHello on the plain port" 400 -

# #46: lenient framing. A bare-LF request may be served (RFC 9112 allows it) but must then store
# exactly what was sent; obs-fold and a space before the colon must not be accepted.
before=$(stored_count)
lf='{"to":"+15550100","text":"bare-lf"}'
out=$(printf 'POST /messages HTTP/1.1\nHost: 127.0.0.1\n%s\nConnection: close\n' "$CT" |
    cat - <(printf 'Content-Length: %s\n\n%s' "${#lf}" "$lf") | raw_http "$HTTP_PORT" 5)
st=$(head -n 1 <<<"$out")
st=${st% *}
lfrows=$(sqlite3 "$WORK/smsgw.db" "SELECT count(*) FROM messages WHERE text = 'bare-lf'")
check "#46 bare LF line ends: 400, or 202 storing exactly the message sent (got $st)" \
    test "$st" = 400 -a "$(stored_count)" = "$before" -o "$st" = 202 -a "$lfrows" = 1 -a \
    "$(stored_count)" = $((before + 1))
{ head_post 'Content-Type:' ' application/json' 'Connection: close' "Content-Length: ${#J}"
    printf '\r\n%s' "$J"; } >"$WORK/fold"
before=$(stored_count)
out=$(raw_http "$HTTP_PORT" 5 <"$WORK/fold")
st=$(head -n 1 <<<"$out")
check "#46 obs-fold header: refused, nothing stored (got ${st% *})" \
    test "${st:0:1}" = 4 -a "$(stored_count)" = "$before"
{ head_post 'Content-Type : application/json' 'Connection: close' "Content-Length: ${#J}"
    printf '\r\n%s' "$J"; } >"$WORK/colon"
out=$(raw_http "$HTTP_PORT" 5 <"$WORK/colon")
st=$(head -n 1 <<<"$out")
check "#46 space before the colon: refused, nothing stored (got ${st% *})" \
    test "${st:0:1}" = 4 -a "$(stored_count)" = "$before"

# #47: other methods on known paths (GET and DELETE are left out: they are list and cancel).
EARLY=1 try 47 "PATCH /messages" 405 method_not_allowed -X PATCH "$BASE/messages" \
    -H 'Content-Type: application/json' --data-binary "$J"
check "#47 Allow lists POST" grep -qi '^Allow:.*POST' "$WORK/headers"
EARLY=1 try 47 "PUT /messages/{id}" 405 method_not_allowed -X PUT "$BASE/messages/$id" \
    -H 'Content-Type: application/json' --data-binary "$J"
check "#47 Allow lists GET" grep -qi '^Allow:.*GET' "$WORK/headers"
EARLY=1 try 47 "POST /messages/{id}" 405 method_not_allowed -X POST "$BASE/messages/$id" \
    -H 'Content-Type: application/json' --data-binary "$J"

# #48, #49: paths that are not ours, and ids that cannot exist.
for path in /messages/../admin //messages /messages/ /Messages /v1/messages; do
    EARLY=1 try 48 "POST $path" 404 not_found --path-as-is -X POST "$BASE$path" \
        -H 'Content-Type: application/json' --data-binary "$J"
done
try 49 "GET of a lower-case id" 404 not_found \
    "$BASE/messages/$(tr '[:upper:]' '[:lower:]' <<<"$id")"
try 49 "GET of a 27-character id" 404 not_found "$BASE/messages/${id}0"
try 49 "GET of an id with a U (not Crockford)" 404 not_found "$BASE/messages/${id:0:25}U"

# #54: the database locked from outside past the writer's busy timeout: 503 with Retry-After and
# no row, /health degraded meanwhile, and 202 again once the lock is gone.
timeout 30 python3 - "$WORK/smsgw.db" <<'EOF' >"$WORK/lock.out" 2>&1 &
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
db.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(14)
db.execute("ROLLBACK")
print("released", flush=True)
EOF
LOCK_PID=$!
wait_for_line "$WORK/lock.out" '^locked' 10 ||
    echo "# the lock was not taken: $(cat "$WORK/lock.out")"
before=$(stored_count)
got=$(curl -s -m 14 -o "$WORK/body" -D "$WORK/headers" -w '%{http_code}' -X POST "$BASE/messages" \
    -H 'Content-Type: application/json' --data-binary '{"to":"+15550100","text":"while locked"}')
health=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$BASE/health")
code=$(jq -r .code "$WORK/body" 2>/dev/null)
check "#54 store locked -> 503 store_unavailable with Retry-After (got $got $code)" \
    test "$got" = 503 -a "$(jq -r .code "$WORK/body" 2>/dev/null)" = store_unavailable -a \
    -n "$(grep -i '^Retry-After: [1-9]' "$WORK/headers")"
is "#54 /health says 503 while the store cannot commit" "$health" 503
wait "$LOCK_PID"
is "#54 nothing stored while locked" \
    "$(sqlite3 "$WORK/smsgw.db" "SELECT count(*) FROM messages WHERE text = 'while locked'")" 0
post '{"to":"+15550100","text":"after the lock"}'
is "#54 after the lock is gone: 202 again" "$HTTP_CODE" 202

# #51: the slow body started above.
wait "$SLOW_PID"
read -r how secs got <<<"$(cat "$WORK/slowbody.out")"
echo "# slow body: ${how:-?} after ${secs:-?} s, ${got:-?} bytes back"
check "#51 slow body (1 byte/s): closed unanswered at the 30 s deadline" \
    test "${how:-}" = closed -a "${secs:-0}" -ge 28 -a "${secs:-99}" -le 35 -a "${got:-1}" = 0
is "#51 nothing stored from the slow body" \
    "$(sqlite3 "$WORK/smsgw.db" "SELECT count(*) FROM messages WHERE text LIKE 'sss%'")" 0

# ---- phase B: [api] keys ----
stop_gateway || not_ok "smsgw stopped cleanly before the API key phase"
SMSGW_API_KEYS=$KEY_HASH SMSGW_SIP_TRANSPORT=tcp start_gateway
wait_ready_key "$KEY" 10 || bail "not ready with API keys"

try 6 "no Authorization" 401 unauthorized -X POST "$BASE/messages" \
    -H 'Content-Type: application/json' --data-binary "$J"
check "#6 WWW-Authenticate: Bearer" grep -qi '^WWW-Authenticate: Bearer realm="smsgw"' \
    "$WORK/headers"
cp "$WORK/body" "$WORK/401.body"
grep -vi '^Date:' "$WORK/headers" >"$WORK/401.headers"
try 7 "unknown key" 401 unauthorized -X POST "$BASE/messages" -H "Authorization: Bearer x$KEY" \
    -H 'Content-Type: application/json' --data-binary "$J"
check "#7 body byte-identical to #6" cmp -s "$WORK/body" "$WORK/401.body"
check "#7 headers identical to #6 (but Date)" \
    test "$(grep -vi '^Date:' "$WORK/headers")" = "$(cat "$WORK/401.headers")"
try 7 "the key's SHA-256 instead of the key" 401 unauthorized -X POST "$BASE/messages" \
    -H "Authorization: Bearer $KEY_HASH" -H 'Content-Type: application/json' --data-binary "$J"
try 8 "Basic credentials" 401 unauthorized -X POST "$BASE/messages" \
    -H "Authorization: Basic $(printf 'x:%s' "$KEY" | base64 -w0)" \
    -H 'Content-Type: application/json' --data-binary "$J"
try 8 "Bearer with an empty token" 401 unauthorized -X POST "$BASE/messages" \
    -H 'Authorization: Bearer ' -H 'Content-Type: application/json' --data-binary "$J"
try 8 "the key without a scheme" 401 unauthorized -X POST "$BASE/messages" \
    -H "Authorization: $KEY" -H 'Content-Type: application/json' --data-binary "$J"
try 6 "bad JSON without a key: 401 comes first" 401 unauthorized -X POST "$BASE/messages" \
    -H 'Content-Type: application/json' --data-binary '{"to":'
try 48 "unknown path without a key: 401 comes first" 401 unauthorized "$BASE/nowhere"
try 49 "GET /messages/{id} without a key" 401 unauthorized "$BASE/messages/$id"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $KEY" "$BASE/messages/$id")
is "#49 GET /messages/{id} with the key -> 200" "$code" 200
code=$(curl -s -o /dev/null -w '%{http_code}' "$BASE/health/live")
is "#6 /health/live needs no key" "$code" 200
before=$(stored_count)
post "$J" -H "Authorization: bearer $KEY"
check "#8 lower-case bearer is accepted -> 202, one row" test "$HTTP_CODE" = 202 -a \
    "$(stored_count)" = $((before + 1))
post '{"to":"+15550100","text":"with key"}' -H "Authorization: Bearer $KEY"
check "#1 valid body and key -> 202 queued" test "$HTTP_CODE" = 202 -a \
    "$(jq -r .status <<<"$BODY")" = queued
before=$(stored_count)
post "$(cat "$WORK/gsm10")" -H "Authorization: Bearer $KEY"
check "#26 exactly 10 segments (1530 GSM-7 characters) over TCP -> 202, 10 segments" \
    test "$HTTP_CODE" = 202 -a "$(jq -r .segments <<<"$BODY")" = 10 -a \
    "$(stored_count)" = $((before + 1))
id=$(jq -r .id <<<"$BODY")
for _ in $(seq 100); do
    st=$(curl -s -H "Authorization: Bearer $KEY" "$BASE/messages/$id" | jq -r .status)
    [ "$st" = sent ] && break
    sleep 0.1
done
is "#26 and it is sent" "$st" sent

plan "$T_N"
done_testing
