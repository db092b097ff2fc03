#!/usr/bin/env bash
# Transports. TCP: REGISTER and MESSAGE to Kamailio over TCP, and a 1400-byte text, which
# must not go over UDP (RFC 3261 18.1.1: refused at submit with 413 too_large_for_udp), goes
# out whole over TCP. TLS (a Python TLS peer that answers 200): with tls_verify = yes a
# certificate from a CA not in ca_file is refused (nothing sent, the attempt times out), the
# right ca_file (a PEM file) lets the MESSAGE through; a missing ca_file stops the start.
. "$(dirname "$0")/lib.sh"
plan 29

LONG=$(python3 -c 'print(("Long text over TCP, number %d. " * 60 % tuple(range(60)))[:1400])')

# 1. TCP to Kamailio.
start_operator
KLOG=$(provider_log "$WORK")
HLOG=$(handset_log "$WORK")
SMSGW_SIP_TRANSPORT=tcp start_gateway
check "TCP: registered" wait_ready 10
check "TCP: Kamailio saved the REGISTER as received over TCP" \
    grep -q "op: REGISTER of 'smsgw' from 127.0.0.1:[0-9]* (tcp) saved, contact <sip:smsgw@127.0.0.1:[0-9]*;transport=tcp>" "$KLOG"
post '{"to":"+15550100","text":"over tcp"}'
ID=$(printf '%s' "$BODY" | jq -r .id)
check "TCP: message sent" wait_status "$ID" sent 10
check "TCP: the handset received it" wait_for_line "$HLOG" 'body=over tcp$' 5
check "TCP: the gateway holds a TCP connection to the operator" \
    test -n "$(ss -Htn state established "dport = :$OP_PORT" 2>/dev/null)"
check "TCP: no UDP datagram of ours reached Kamailio (no udp REGISTER)" \
    bash -c "! grep -q \"op: REGISTER of 'smsgw' .*(udp)\" '$KLOG'"

post "{\"to\":\"+15550100\",\"text\":\"$LONG\"}"
is "TCP: a 1400-byte text is accepted (202)" "$HTTP_CODE" 202
ID=$(printf '%s' "$BODY" | jq -r .id)
check "TCP: the 1400-byte text is sent" wait_status "$ID" sent 10
check "TCP: the handset received all 1400 bytes" wait_for_line "$HLOG" "body=${LONG}\$" 5
check "SIGTERM: clean exit" stop_gateway

# 2. The same text over UDP is refused at submit.
before=$(stored_count)
SMSGW_SIP_TRANSPORT=udp start_gateway
check "UDP: registered" wait_ready 10
post "{\"to\":\"+15550100\",\"text\":\"$LONG\"}"
is "UDP: a 1400-byte text is refused with 413" "$HTTP_CODE" 413
is "UDP: problem code too_large_for_udp" "$(printf '%s' "$BODY" | jq -r .code 2>/dev/null)" \
    too_large_for_udp
is "UDP: nothing was stored" "$(stored_count)" "$before"
post '{"to":"+15550100","text":"short over udp"}'
ID=$(printf '%s' "$BODY" | jq -r .id)
check "UDP: a short text still goes out" wait_status "$ID" sent 10
check "SIGTERM: clean exit" stop_gateway
provider_stop_all "$WORK"

# 3. TLS.
TLS_PORT=$(free_port "$WORK")
mkcert()
{
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$1" \
        -addext "subjectAltName=IP:127.0.0.1,DNS:operator.test" \
        -keyout "$WORK/$1.key" -out "$WORK/$1.pem" >/dev/null 2>&1
}
{ mkcert operator && mkcert stranger; } || bail "openssl cannot make certificates"
cat >"$WORK/tls_peer.py" <<'PY'
# A SIP-over-TLS peer: logs each handshake and request, answers every request 200 OK.
import socket, ssl, sys, threading
port, cert, key, log = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
lock = threading.Lock()
def note(line):
    with lock, open(log, "a") as f:
        f.write(line + "\n")
def reply(conn, lines):
    hdr = {}
    for l in lines[1:]:
        k, _, v = l.partition(":")
        hdr.setdefault(k.strip().lower(), []).append(v.strip())
    out = ["SIP/2.0 200 OK"] + ["Via: " + v for v in hdr.get("via", [])]
    for k in ("from", "call-id", "cseq"):
        out += ["%s: %s" % (k.title(), v) for v in hdr.get(k, [])]
    out += ["To: %s;tag=tls1" % hdr.get("to", [""])[0], "Content-Length: 0", "", ""]
    conn.sendall("\r\n".join(out).encode())
    return int(hdr.get("content-length", ["0"])[0])
def serve(raw):
    try:
        conn = ctx.wrap_socket(raw, server_side=True)
    except (ssl.SSLError, OSError) as e:
        note("handshake failed: %s" % e)
        return
    note("handshake ok %s" % conn.version())
    buf, got = b"", 0
    try:
        while True:
            data = conn.recv(65535)
            if not data:
                break
            buf += data
            while b"\r\n\r\n" in buf:
                head, rest = buf.split(b"\r\n\r\n", 1)
                lines = head.decode("utf-8", "replace").split("\r\n")
                n = [int(l.split(":", 1)[1]) for l in lines if l.lower().startswith("content-length:")]
                n = n[0] if n else 0
                if len(rest) < n:
                    break
                body, buf = rest[:n], rest[n:]
                if not lines[0].startswith("SIP/2.0"):
                    got += 1
                    note("request %s body=%s" % (lines[0], body.decode("utf-8", "replace")))
                    reply(conn, lines)
    except (ssl.SSLError, OSError) as e:
        note("error: %s" % e)
    note("closed after %d requests" % got)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port))
srv.listen(8)
note("listening")
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
TLOG=$WORK/tls_peer.log
timeout 120 python3 "$WORK/tls_peer.py" "$TLS_PORT" "$WORK/operator.pem" "$WORK/operator.key" \
    "$TLOG" 2>"$WORK/tls_peer.err" &
provider_track_pid "$WORK" tls-peer $!
wait_for_line "$TLOG" '^listening' 5 || bail "TLS peer did not start: $(cat "$WORK/tls_peer.err")"

# Sofia 1.12.11 leaks each TLS connection's SSL object and the certificate's subjectAltName
# stack (tls_init_secondary, tls_post_connection_check); under ASan, only OpenSSL allocations
# are excused, so the gateway's exit status still means something.
printf 'leak:libssl.so\nleak:libcrypto.so\n' >"$WORK/lsan.supp"
export LSAN_OPTIONS=suppressions=$WORK/lsan.supp:print_suppressions=0
export SMSGW_SIP_PROXY=sip:127.0.0.1:$TLS_PORT SMSGW_SIP_REGISTER=no SMSGW_SIP_TIMEOUT=3 \
    SMSGW_SIP_TRANSPORT=tls SMSGW_SIP_TLS_VERIFY=yes

SMSGW_SIP_CA_FILE=$WORK/stranger.pem start_gateway
post '{"to":"+15550100","text":"tls untrusted","validity":60}'
ID=$(printf '%s' "$BODY" | jq -r .id)
check "TLS, CA not in ca_file: the peer saw a TLS connection" wait_for_line "$TLOG" '^handshake' 5
check "TLS, CA not in ca_file: the first attempt ends" wait_events "$ID" 3 6
is "TLS, CA not in ca_file: by the deadline, as a timeout" \
    "$(printf '%s' "$BODY" | jq -r '.events[2] | "\(.status) \(.detail)"' | cut -d';' -f1,2)" \
    "queued no final answer within the deadline; timeout"
check "TLS, CA not in ca_file: the peer got no request at all" \
    bash -c "! grep -q '^request' '$TLOG'"
check "TLS, CA not in ca_file: the gateway closed the connection unused" \
    grep -q '^closed after 0 requests' "$TLOG"
check "SIGTERM: clean exit" stop_gateway

mkdir -p "$WORK/tmp"
TMPDIR=$WORK/tmp SMSGW_SIP_CA_FILE=$WORK/operator.pem start_gateway
post '{"to":"+15550100","text":"tls trusted","validity":60}'
ID=$(printf '%s' "$BODY" | jq -r .id)
check "TLS, the peer's CA in ca_file: message sent" wait_status "$ID" sent 8
check "TLS, the peer's CA in ca_file: the peer got the MESSAGE for the recipient" \
    grep -q '^request MESSAGE sip:+15550100@operator.test;user=phone SIP/2.0 body=tls trusted$' "$TLOG"
check "TLS: ca_file is the trust anchor Sofia was given" \
    grep -q "TLS peers are checked against $WORK/operator.pem" "$WORK/smsgw.log"
is "TLS: the private trust directory is gone after the start" "$(ls -A "$WORK/tmp")" ""
check "SIGTERM: clean exit" stop_gateway

SMSGW_HTTP_LISTEN=127.0.0.1:$(free_port "$WORK") SMSGW_STORE_PATH=$WORK/bad.db \
    SMSGW_SIP_CA_FILE=$WORK/no-such-ca.pem timeout 10 "$SMSGW_BIN" --config "$REPO/deploy/smsgw.conf" \
    >"$WORK/bad-ca.log" 2>&1
rc=$?
check "TLS, ca_file missing: smsgw does not start (exit $rc)" test "$rc" -ne 0 -a "$rc" -ne 124
check "TLS, ca_file missing: the log names the file" \
    grep -q "TLS CA file $WORK/no-such-ca.pem" "$WORK/bad-ca.log"
done_testing
