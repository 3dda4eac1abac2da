#!/bin/sh
# Installs the Debian packages koban needs to build, test and benchmark,
# only when some are missing. Usage: scripts/deps.sh [build|check|bench]
set -eu
want="build-essential cmake ninja-build pkg-config libsqlite3-dev libyaml-dev
      libmicrohttpd-dev zlib1g-dev libxxhash-dev libpcre2-dev libcurl4-openssl-dev libmaxminddb-dev
      libssl-dev libxml2-dev libzip-dev libzstd-dev
      python3 sqlite3 curl"
case "${1:-build}" in
  check) want="$want clang libclang-rt-14-dev" ;;
  bench) want="$want clang libjson-c-dev wrk prometheus-alertmanager curl" ;;
esac
missing=""
for p in $want; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "koban: installing missing packages:$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
