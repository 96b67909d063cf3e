#!/usr/bin/env bash
# Self-test of the netns lab library: a bridge with two nodes that ping each other, a background
# process that is reaped, and nothing left behind after cleanup (also when the script fails).
set -u
src=${RG_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$src/tests/lab/lab.sh"
prefix="rgag-lab$$-"
fail=0
check() { if "$@"; then echo "ok: $*"; else echo "FAIL: $*"; fail=1; fi; }

(
	lab_init "$prefix"
	lab_bridge
	lab_node a 10.98.200.1/24
	lab_node b 10.98.200.2/24
	check lab_wait 10 "a pings b" lab_ping a 10.98.200.2
	check lab_wait 10 "b pings a" lab_ping b 10.98.200.1
	# isolation: the node has no route anywhere but its own subnet
	check test "$(lab_exec a ip -4 route show default | wc -l)" -eq 0
	lab_bg a /dev/null sleep 300
	echo "$LAB_LAST_PID" >"/tmp/$prefix.pid"
	lab_bg b /dev/null sleep 300
	# a process we stop ourselves
	lab_stop "$LAB_LAST_PID" TERM 5
	check test $? -eq 143
	lab_link a b 10.98.201.1/30 10.98.201.2/30
	check lab_wait 10 "direct link" lab_ping a 10.98.201.2
	! lab_wait 1 "expected timeout" false
	check test $? -eq 0
	exit $fail
)
fail=$?
pid=$(cat "/tmp/$prefix.pid" 2>/dev/null); rm -f "/tmp/$prefix.pid"
check test -n "$pid"
check test ! -e "/proc/$pid"
check test "$(ip netns list | grep -c "^$prefix")" -eq 0

# cleanup also runs when the script dies by a signal
(
	lab_init "$prefix"
	lab_bridge
	lab_node c 10.98.202.1/24
	kill -TERM $BASHPID
	sleep 5
)
check test "$(ip netns list | grep -c "^$prefix")" -eq 0
exit $fail
