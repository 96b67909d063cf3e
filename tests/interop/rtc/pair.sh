#!/usr/bin/env bash
# One interop test: pair two test peers (tests/interop/PROTOCOL.md) in a fresh loopback-only
# network namespace and let relay.py judge them.
#   pair.sh NAME OFFERER ANSWERER [peer flags...]
# NAME is a short test name (the netns is rgri-NAME-PID); OFFERER/ANSWERER are one of
#   ours | pion | aiortc | chromium | chromium-nc (Chromium without candidates: peer-reflexive)
# Peer flags (e.g. --ordered 1 --max-retransmits -1 --size 60000) go to both peers, except
# --drop-candidates-to a|b and --expect-pair a|b=TYPE, which go to relay.py
# (a = offerer, b = answerer).
# Exit 77 (skip) only when `ours` is requested and <build>/tests/rtc/rtc-peer is absent.
set -euo pipefail
shopt -s inherit_errexit
here=$(cd "$(dirname "$0")" && pwd)
src=${RG_SOURCE_ROOT:-$(cd "$here/../../.." && pwd)}
build=${RG_BUILD_ROOT:?RG_BUILD_ROOT must point at the build directory}
name=$1 offerer=$2 answerer=$3
shift 3
py=/usr/bin/python3
peer_timeout=${RG_PEER_TIMEOUT:-40}
relay_timeout=${RG_RELAY_TIMEOUT:-75}

peer_cmd() { # KIND ROLE
	local kind=$1 role=$2 base
	case $kind in
	ours)
		base=$build/tests/rtc/rtc-peer
		if [ ! -x "$base" ]; then
			echo "SKIP: $base (tests/rtc/rtc-peer.c, our test peer) is not built" >&2
			exit 77
		fi ;;
	pion)        base=$(bash "$here/build-pion.sh" "$build") ;;
	aiortc)      base="$py $here/aiortc_peer.py" ;;
	chromium)    base="$py $here/chromium_peer.py" ;;
	chromium-nc) base="$py $here/chromium_peer.py --no-candidates" ;;
	*) echo "pair.sh: unknown peer kind '$kind'" >&2; exit 2 ;;
	esac
	printf '%s --role %s --timeout %s' "$base" "$role" "$peer_timeout"
}

for k in "$offerer" "$answerer"; do
	if [ "$k" = ours ] && [ ! -x "$build/tests/rtc/rtc-peer" ]; then
		echo "SKIP: $build/tests/rtc/rtc-peer (our test peer) is not built" >&2
		exit 77
	fi
done
a=$(peer_cmd "$offerer" offer)
b=$(peer_cmd "$answerer" answer)
relay_extra=()
while [ $# -gt 0 ]; do
	case $1 in
	--drop-candidates-to|--expect-pair) relay_extra+=("$1" "$2"); shift 2; continue ;;
	esac
	a+=" $(printf '%q' "$1")"
	b+=" $(printf '%q' "$1")"
	shift
done
if [ "$(id -u)" -ne 0 ]; then
	echo "pair.sh: needs root for ip netns" >&2
	exit 1
fi
ns="rgri-$name-$$"
exec "$py" "$here/relay.py" --netns "$ns" --make-netns --timeout "$relay_timeout" \
	--name-a "$offerer" --name-b "$answerer" --a "$a" --b "$b" ${relay_extra[@]+"${relay_extra[@]}"}
