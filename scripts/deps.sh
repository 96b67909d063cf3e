#!/usr/bin/env bash
# Install the Debian packages riftgate needs to build and test.
# Idempotent: only missing packages are installed, and `apt-get update` runs at most once.
# Package lists live in scripts/deps/*.txt (one name per line, '#' comments); `deps.sh build`
# installs build.txt alone.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# `deps.sh build`: only build.txt (make install, make deb); no argument: every list (make test).
lists=("$here"/deps/*.txt)
[ "${1:-}" = build ] && lists=("$here"/deps/build.txt)
want=$(cat "${lists[@]}" | sed 's/#.*//' | tr -s ' \t' '\n' | sed '/^$/d' | sort -u)
missing=()
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all $(echo "$want" | wc -l) packages present"
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages: ${missing[*]}" >&2
	echo "deps: run as root (or: sudo $0)" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# coturn's package enables a system service on some setups; the tests start their own.
if [ "${1:-}" != build ]; then
	systemctl disable --now coturn >/dev/null 2>&1 || true
fi
echo "deps: done"
