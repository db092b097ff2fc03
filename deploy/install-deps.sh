#!/bin/sh
# Installs the Debian 12 packages smsgw needs to build, run and test; only what is missing.
# Used by `make run`, `make test` and CI. Needs root (or sudo) when something is missing.
set -eu

PKGS="build-essential pkg-config libmicrohttpd-dev libjansson-dev libsofia-sip-ua-dev
libssl-dev libsqlite3-dev libinih-dev libcmocka-dev libcurl4-openssl-dev
kamailio sip-tester curl jq sqlite3 perl python3 openssl procps iproute2"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

echo "install-deps: installing:$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
