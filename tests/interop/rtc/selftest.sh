#!/usr/bin/env bash
# Self-test of the interop harness: relay.py must FAIL when it should, within its timeouts,
# and leave no namespace or process behind. Uses the pion peer (fast) and trivial commands.
set -euo pipefail
shopt -s inherit_errexit
here=$(cd "$(dirname "$0")" && pwd)
build=${RG_BUILD_ROOT:?RG_BUILD_ROOT must point at the build directory}
py=/usr/bin/python3
pion=$(bash "$here/build-pion.sh" "$build")
fails=0
# A unique duration, so that only our own silent peers are looked for afterwards.
silent="61.$$"
ns_base="rgri-self-$$"

check() { # NAME WANT_RC MAX_SECONDS -- relay args...
	local name=$1 want=$2 max=$3 t0 t1 rc out
	shift 4
	t0=$(date +%s)
	set +e
	out=$("$py" "$here/relay.py" --netns "$ns_base-$name" --make-netns "$@" 2>"$tmpd/$name.log")
	rc=$?
	set -e
	t1=$(date +%s)
	if [ "$rc" != "$want" ] || [ $((t1 - t0)) -gt "$max" ]; then
		echo "not ok - $name: rc=$rc (want $want) in $((t1 - t0)) s (max $max): $out"
		sed 's/^/    /' "$tmpd/$name.log" | tail -15
		fails=$((fails + 1))
	else
		echo "ok - $name: rc=$rc in $((t1 - t0)) s: $out"
	fi
	if ip netns list | grep -q "^$ns_base-$name\b"; then
		echo "not ok - $name: netns $ns_base-$name left behind"
		fails=$((fails + 1))
	fi
}
tmpd=$(mktemp -d)
trap 'rm -rf "$tmpd"; for n in $(ip netns list | awk "{print \$1}" | grep "^$ns_base" || true); do ip netns del "$n"; done' EXIT

check pass 0 40 -- --timeout 30 --a "$pion --role offer" --b "$pion --role answer"
check no-result 1 40 -- --timeout 30 --a "$pion --role offer" --b "false"
check silent-peer 1 25 -- --timeout 8 --a "$pion --role offer --timeout 30" --b "sleep $silent"
check peer-fails 1 40 -- --timeout 30 --a "$pion --role offer --timeout 3" --b "sleep $silent"
check wrong-pair 1 40 -- --timeout 30 --expect-pair b=relay --a "$pion --role offer" --b "$pion --role answer"
check mismatched-count 1 40 -- --timeout 30 --a "$pion --role offer --count 5 --timeout 6" \
	--b "$pion --role answer --count 6 --timeout 6"
# The drop variant still connects (pion learns the other side as peer-reflexive).
check drop-prflx 0 40 -- --timeout 30 --drop-candidates-to a --expect-pair a=prflx \
	--a "$pion --role offer" --b "$pion --role answer"
# Nothing of ours may survive: the silent peers must have been killed.
if pgrep -fx "sleep $silent" >/dev/null; then
	echo "not ok - leftover 'sleep $silent' processes:"
	ps -o pid,ppid,pgid,stat,etime,args -p "$(pgrep -fx "sleep $silent" | paste -sd,)"
	fails=$((fails + 1))
fi
echo "harness self-test: $fails failure(s)"
[ "$fails" -eq 0 ]
