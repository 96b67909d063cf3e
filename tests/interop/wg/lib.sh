# Shared helpers for the riftgate-wg interop suite and bench/wg-udp.sh: two network namespaces
# joined by a veth pair, WireGuard daemons started in them, polling waits with timeouts, and one
# cleanup trap that kills what we started, removes our namespaces and our UAPI sockets.
#   source lib.sh; wgl_init PREFIX   (PREFIX must start with rgwg-)

WGL_PREFIX=
WGL_NS=()
WGL_PIDS=()
WGL_IFS=()
WGL_TMP=

wgl_log() { echo "wgl: $*" >&2; }

wgl_cleanup()
{
	local pid ns ifn
	for pid in "${WGL_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
	for pid in "${WGL_PIDS[@]}"; do
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$pid" 2>/dev/null
	done
	for ns in "${WGL_NS[@]}"; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
		ip netns del "$ns" 2>/dev/null
	done
	for ifn in "${WGL_IFS[@]}"; do rm -f "/var/run/wireguard/$ifn.sock"; done
	[ -n "$WGL_TMP" ] && rm -rf "$WGL_TMP"
	WGL_PIDS=(); WGL_NS=(); WGL_IFS=()
}

wgl_init()
{
	WGL_PREFIX=$1
	[ "$(id -u)" -eq 0 ] || { wgl_log "needs root"; exit 77; }
	WGL_TMP=$(mktemp -d /tmp/rgwg-XXXXXX)
	trap 'wgl_cleanup' EXIT
	trap 'wgl_cleanup; exit 130' INT
	trap 'wgl_cleanup; exit 143' TERM
}

# wgl_pair A B: namespaces ${PREFIX}A and ${PREFIX}B, veth "eth0" in each,
# 192.168.77.1/24 + fd77::1/64 on A, .2 / ::2 on B.
wgl_pair()
{
	local a=$WGL_PREFIX$1 b=$WGL_PREFIX$2
	ip netns add "$a" && WGL_NS+=("$a") || return 1
	ip netns add "$b" && WGL_NS+=("$b") || return 1
	ip -n "$a" link set lo up; ip -n "$b" link set lo up
	ip -n "$a" link add eth0 type veth peer name eth0 netns "$b" || return 1
	ip -n "$a" addr add 192.168.77.1/24 dev eth0
	ip -n "$b" addr add 192.168.77.2/24 dev eth0
	ip -n "$a" addr add fd77::1/64 dev eth0 nodad
	ip -n "$b" addr add fd77::2/64 dev eth0 nodad
	ip -n "$a" link set eth0 up; ip -n "$b" link set eth0 up
}

# wgl_wait SECS CMD...: polls CMD every 0.2 s until it succeeds; false on timeout.
wgl_wait()
{
	local secs=$1; shift
	local end=$((SECONDS + secs))
	while [ "$SECONDS" -lt "$end" ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	return 1
}

# wgl_start NS IFNAME LOG CMD...: starts a userspace WireGuard daemon in the foreground (in the
# background of this shell), waits for its UAPI socket, records it for cleanup.
wgl_start()
{
	local ns=$WGL_PREFIX$1 ifn=$2 log=$3; shift 3
	WGL_IFS+=("$ifn")
	ip netns exec "$ns" env WG_PROCESS_FOREGROUND=1 "$@" "$ifn" >"$log" 2>&1 &
	WGL_PIDS+=($!)
	WGL_LASTPID=$!
	wgl_wait 20 test -S "/var/run/wireguard/$ifn.sock" || { wgl_log "$ifn: no UAPI socket"; cat "$log" >&2; return 1; }
}

# wgl_conf NS IFNAME ADDR/PLEN PRIVKEYFILE PORT: key, port, address, MTU 1420, link up.
wgl_conf()
{
	local ns=$WGL_PREFIX$1 ifn=$2
	ip netns exec "$ns" wg set "$ifn" private-key "$4" listen-port "$5" || return 1
	ip -n "$ns" addr add "$3" dev "$ifn" || return 1
	ip -n "$ns" link set "$ifn" mtu 1420 up
}

wgl_ns() { echo "$WGL_PREFIX$1"; }
