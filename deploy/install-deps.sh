#!/bin/sh
# Installs what smsgw needs to build, run and test; only what is missing. First the Debian 12
# packages (root or sudo), then the npm packages of the contract tests (tests/contract, pinned
# by its package-lock.json) when they are absent or older than the lock file.
# Used by `make run`, `make test` and CI.
set -eu
cd "$(dirname "$0")/.."

PKGS="build-essential pkg-config libmicrohttpd-dev libjansson-dev libsofia-sip-ua-dev
libssl-dev libsqlite3-dev libinih-dev libcmocka-dev libcurl4-openssl-dev
kamailio sip-tester curl jq sqlite3 perl python3 openssl procps iproute2"
# Node.js 18 or later runs the contract tests: Debian's nodejs and npm, unless a node and an
# npm are already on the PATH (another build of Node.js brings its own npm, and Debian's npm
# package conflicts with it).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    PKGS="$PKGS nodejs npm"
fi

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing="$missing $p"
    fi
done
if [ -n "$missing" ]; then
    echo "install-deps: installing:$missing"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
fi

# npm ci leaves node_modules/.package-lock.json behind: newer than the lock file means done.
contract=tests/contract
stamp=$contract/node_modules/.package-lock.json
if [ ! -f "$stamp" ] || [ -n "$(find "$contract/package-lock.json" -newer "$stamp")" ]; then
    echo "install-deps: installing the npm packages of $contract"
    npm ci --prefix "$contract" --ignore-scripts --no-audit --no-fund --loglevel=error
fi
