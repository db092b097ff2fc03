#!/usr/bin/env bash
# The command line: --check-config on the example config, a typo named by file:line with
# exit status 2, environment overrides, --help and --version.
. "$(dirname "$0")/lib.sh"
plan 9

out=$("$SMSGW_BIN" --check-config --config "$REPO/deploy/smsgw.conf" 2>&1)
is "--check-config deploy/smsgw.conf exits 0" "$?" 0

sed 's/^expires *=/exprires =/' "$REPO/deploy/smsgw.conf" >"$WORK/typo.conf"
line=$(grep -n '^exprires' "$WORK/typo.conf" | cut -d: -f1)
out=$("$SMSGW_BIN" --check-config --config "$WORK/typo.conf" 2>&1)
is "a typo exits 2" "$?" 2
check "the error names file:line and the key" \
    grep -qF "$WORK/typo.conf:$line: [sip] unknown key 'exprires'" <<<"$out"

out=$(SMSGW_SIP_EXPIRES=abc "$SMSGW_BIN" --check-config --config "$REPO/deploy/smsgw.conf" 2>&1)
is "a bad environment override exits 2" "$?" 2
check "the error names the variable" grep -q '^smsgw: SMSGW_SIP_EXPIRES: ' <<<"$out"

out=$(SMSGW_SIP_PASSWORD='s3cr:et' "$SMSGW_BIN" --check-config --config "$REPO/deploy/smsgw.conf")
is "a good environment override passes" "$?" 0

out=$("$SMSGW_BIN" --version)
check "--version prints the version" grep -qx "smsgw $(cat "$REPO/VERSION")" <<<"$out"
out=$("$SMSGW_BIN" --help)
check "--help shows the options" grep -q -- '--check-config' <<<"$out"
"$SMSGW_BIN" --no-such-option >/dev/null 2>&1
is "an unknown option exits 2" "$?" 2
done_testing
