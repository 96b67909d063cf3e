# riftgate netns lab: a reusable bash library for tests, the demo and benchmarks.
#
#   source tests/lab/lab.sh
#   lab_init rgag-x-            # prefix for every namespace this lab creates; installs cleanup trap
#   lab_bridge                  # one namespace holding bridge br0 (a switch between nodes)
#   lab_node hub 10.98.0.1/24   # namespace "${prefix}hub", eth0 on the bridge, lo up
#   lab_exec hub ping -c1 10.98.0.2
#   lab_bg hub /tmp/hub.log riftgate-hub --listen 10.98.0.1:8080
#   lab_wait 20 "hub listens" lab_exec hub ss -ltn 'sport = :8080' '|' ...
#
# Everything the lab starts is recorded (namespaces, background pids) and torn down by lab_cleanup,
# which the trap runs on EXIT, INT and TERM. Nothing here touches the host's own namespace except
# creating/deleting the namespaces named with the prefix. Later labs (NAT) extend it with routers:
# lab_router adds a namespace with two legs; lab_link joins two namespaces with a veth pair.

LAB_PREFIX=
LAB_NS=()
LAB_PIDS=()
LAB_BRIDGE_NS=
LAB_CLEANED=0
LAB_OWNER=
LAB_VERBOSE=${LAB_VERBOSE:-0}
LAB_CLEANUP_HOOKS=()	# commands lab_cleanup runs first (e.g. print logs on failure)

lab_log() { echo "lab: $*" >&2; }
lab_die() { echo "lab: error: $*" >&2; exit 1; }

# lab_on_cleanup CMD: run CMD (a string, eval'd) at the start of lab_cleanup. Scripts must use this
# instead of their own EXIT trap, which would replace the lab's.
lab_on_cleanup() { LAB_CLEANUP_HOOKS+=("$1"); }

# lab_init PREFIX: checks privileges, removes leftovers of a previous run with the same prefix.
lab_init()
{
	LAB_PREFIX=${1:?lab_init needs a prefix}
	LAB_OWNER=$BASHPID
	[ "$(id -u)" -eq 0 ] || lab_die "needs root (network namespaces)"
	command -v ip >/dev/null || lab_die "iproute2 (ip) not installed"
	local ns
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
		case "$ns" in "$LAB_PREFIX"*) lab_kill_ns "$ns"; ip netns del "$ns" 2>/dev/null ;; esac
	done
	trap 'lab_cleanup' EXIT
	trap 'lab_cleanup; exit 130' INT
	trap 'lab_cleanup; exit 143' TERM
}

lab_ns() { echo "${LAB_PREFIX}$1"; }

lab_add_ns()
{
	local ns
	ns=$(lab_ns "$1")
	ip netns add "$ns" || lab_die "ip netns add $ns failed"
	LAB_NS+=("$ns")
	ip -n "$ns" link set lo up
}

# lab_bridge: the switch. Nodes plug into it with lab_node.
lab_bridge()
{
	lab_add_ns br
	LAB_BRIDGE_NS=$(lab_ns br)
	ip -n "$LAB_BRIDGE_NS" link add br0 type bridge || lab_die "bridge: cannot create br0"
	ip -n "$LAB_BRIDGE_NS" link set br0 up
}

# lab_node NAME [ADDR/PLEN ...]: a namespace with eth0 plugged into the bridge.
lab_node()
{
	local name=$1; shift
	local ns
	[ -n "$LAB_BRIDGE_NS" ] || lab_die "lab_node before lab_bridge"
	lab_add_ns "$name"
	ns=$(lab_ns "$name")
	ip -n "$LAB_BRIDGE_NS" link add "p-$name" type veth peer name eth0 netns "$ns" ||
		lab_die "node $name: veth failed (name too long? max 13 chars)"
	ip -n "$LAB_BRIDGE_NS" link set "p-$name" master br0 up
	ip -n "$ns" link set eth0 up
	local a
	for a in "$@"; do
		ip -n "$ns" addr add "$a" dev eth0 || lab_die "node $name: cannot add $a"
	done
}

# lab_link A B ADDR_A/PLEN ADDR_B/PLEN: a direct veth between two lab namespaces (ifnames to-B, to-A).
lab_link()
{
	local a=$1 b=$2 aa=$3 ab=$4
	ip -n "$(lab_ns "$a")" link add "to-$b" type veth peer name "to-$a" netns "$(lab_ns "$b")" ||
		lab_die "link $a-$b failed"
	ip -n "$(lab_ns "$a")" addr add "$aa" dev "to-$b"
	ip -n "$(lab_ns "$b")" addr add "$ab" dev "to-$a"
	ip -n "$(lab_ns "$a")" link set "to-$b" up
	ip -n "$(lab_ns "$b")" link set "to-$a" up
}

# lab_exec NAME CMD...: run in the node's namespace (foreground).
lab_exec()
{
	local name=$1; shift
	ip netns exec "$(lab_ns "$name")" "$@"
}

# lab_bg NAME LOGFILE CMD...: start CMD in the background inside NAME, output to LOGFILE.
# Sets LAB_LAST_PID; the process is killed by lab_cleanup (or lab_stop PID).
lab_bg()
{
	local name=$1 log=$2; shift 2
	ip netns exec "$(lab_ns "$name")" "$@" >"$log" 2>&1 &
	LAB_LAST_PID=$!
	LAB_PIDS+=("$LAB_LAST_PID")
}

# lab_stop PID [SIGNAL] [TIMEOUT_S]: signal one process we started and wait for it to go.
# Returns the process's exit status (or 124 when it had to be SIGKILLed).
lab_stop()
{
	local pid=$1 sig=${2:-TERM} t=${3:-10} i rc=0
	kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return $?; }
	kill -s "$sig" "$pid" 2>/dev/null
	for ((i = 0; i < t * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		return 124
	fi
	wait "$pid" 2>/dev/null || rc=$?
	return $rc
}

# lab_wait_exit PID TIMEOUT_S: wait (bounded) for a process we started to exit by itself; returns
# its exit status, or 124 after killing it when it did not exit in time.
lab_wait_exit()
{
	local pid=$1 t=$2 i rc=0
	for ((i = 0; i < t * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		lab_log "pid $pid did not exit within ${t}s; killing it"
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		return 124
	fi
	wait "$pid" 2>/dev/null || rc=$?
	return $rc
}

# lab_wait TIMEOUT_S WHAT CMD...: poll CMD every 0.2 s until it succeeds; fail after TIMEOUT_S.
lab_wait()
{
	local t=$1 what=$2; shift 2
	local deadline=$((SECONDS + t))
	while ! "$@" >/dev/null 2>&1; do
		if [ "$SECONDS" -ge "$deadline" ]; then
			lab_log "timeout after ${t}s waiting for: $what"
			return 1
		fi
		sleep 0.2
	done
	[ "$LAB_VERBOSE" = 1 ] && lab_log "ok: $what"
	return 0
}

# lab_ping NAME ADDR: one ping with a 2 s deadline (for lab_wait and matrices).
lab_ping() { lab_exec "$1" ping -c 1 -W 2 -q "$2" >/dev/null 2>&1; }

# lab_tcp_listening NAME PORT: something listens on TCP PORT inside NAME.
lab_tcp_listening() { lab_exec "$1" ss -Htln "sport = :$2" 2>/dev/null | grep -q .; }

# lab_kill_ns NS: kill every process still living in a namespace (only ours: called on our names).
lab_kill_ns()
{
	local ns=$1 pids
	pids=$(ip netns pids "$ns" 2>/dev/null) || return 0
	[ -n "$pids" ] || return 0
	kill -TERM $pids 2>/dev/null
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		pids=$(ip netns pids "$ns" 2>/dev/null)
		[ -n "$pids" ] || return 0
		sleep 0.2
	done
	kill -KILL $pids 2>/dev/null
}

lab_cleanup()
{
	local pid ns
	[ "$LAB_CLEANED" = 1 ] && return 0
	# A forked child (a background job hit by a signal before its exec) inherits the traps: only
	# the shell that built the lab tears it down.
	[ "$BASHPID" = "$LAB_OWNER" ] || return 0
	LAB_CLEANED=1
	trap - EXIT INT TERM
	local h
	for h in "${LAB_CLEANUP_HOOKS[@]}"; do
		eval "$h"
	done
	for pid in "${LAB_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${LAB_PIDS[@]}"; do
		lab_stop "$pid" TERM 5 >/dev/null 2>&1
	done
	for ((i = ${#LAB_NS[@]} - 1; i >= 0; i--)); do
		ns=${LAB_NS[$i]}
		lab_kill_ns "$ns"
		ip netns del "$ns" 2>/dev/null
	done
	LAB_NS=()
	LAB_PIDS=()
	return 0
}
