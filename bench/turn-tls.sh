#!/usr/bin/env bash
# TURN transports side by side, symmetric <-> symmetric (relay only), alternating back to back:
# turn: over UDP, turn:?transport=tcp, turns: (TLS through the agent's loopback bridge).
# Per round: seconds to the first ping through the tunnel, iperf3 TCP Mbit/s through the tunnel,
# and CPU seconds per Mbit moved (user+sys) of the sending agent, the receiving agent and coturn.
# Usage (root): bash bench/turn-tls.sh [BUILD]; env BENCH_T (iperf3 seconds, default 8),
# BENCH_ROUNDS (default 2). Prints a markdown table.
set -u
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$src/build}
T=${BENCH_T:-8}
ROUNDS=${BENCH_ROUNDS:-2}
. "$src/tests/lab/lab.sh"
. "$src/tests/lab/mesh.sh"
. "$src/tests/lab/nat.sh"

work=$(mktemp -d /tmp/rgtt-bench.XXXXXX)
mesh_setup "$build" "$work" rgtt- rgt
lab_on_cleanup "rm -rf '$work'"
NAT_DIR="$work/nat"
nat_init
pki() { openssl "$@" 2>>"$work/openssl.log"; }
(
	umask 077
	pki req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=benchca \
		-addext basicConstraints=critical,CA:TRUE -keyout "$work/ca-key.pem" -out "$work/ca.pem" &&
		pki req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=turn \
			-keyout "$work/turn-key.pem" -out "$work/turn.csr" &&
		printf 'subjectAltName=IP:%s\n' "$NAT_SRV_IP" >"$work/turn.ext" &&
		pki x509 -req -in "$work/turn.csr" -CA "$work/ca.pem" -CAkey "$work/ca-key.pem" \
			-CAcreateserial -days 1 -extfile "$work/turn.ext" -out "$work/turn-cert.pem"
) || lab_die "certificates"
chmod 644 "$work/ca.pem"
NAT_TURN_SECRET=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
NAT_TURN_CERT="$work/turn-cert.pem"
NAT_TURN_PKEY="$work/turn-key.pem"
nat_turn_start "$NAT_TURN_SECRET" || lab_die "coturn"
nat_site 1 symmetric
nat_site 2 symmetric

cpu_s() { awk '{ printf "%.2f", ($14 + $15) / 100 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
port=8300
rows=""
run()	# KIND LABEL
{
	local kind=$1 label=$2 t0 t1 fp mbps c1 c2 ct s1 s2 st e1 e2 et
	port=$((port + 1))
	nat_hub_start "$port" || lab_die "hub"
	nat_write_config 1 "$port" "$kind"
	nat_write_config 2 "$port" "$kind"
	if [ "$kind" = rest-tls ]; then
		sed -i "/^url = \"turns:/a ca_file = \"$work/ca.pem\"" "$MESH_DIR/p1.toml" "$MESH_DIR/p2.toml"
	fi
	t0=$(date +%s.%N)
	mesh_peer_start 1
	mesh_peer_start 2
	fp=fail mbps=fail c1=- c2=- ct=-
	if lab_wait 90 "first ping" lab_exec p1 ping -c 1 -W 0.2 -q "$(nat_tun_ip 2)"; then
		t1=$(date +%s.%N)
		fp=$(awk -v a="$t1" -v b="$t0" 'BEGIN {printf "%.2f", a - b}')
		lab_bg p2 "$work/iperf-s.log" iperf3 -s -B "$(nat_tun_ip 2)" -1
		lab_wait 10 "iperf3 server" lab_tcp_listening p2 5201
		s1=$(cpu_s "${MESH_PID[1]}") s2=$(cpu_s "${MESH_PID[2]}") st=$(cpu_s "$NAT_TURN_PID")
		if lab_exec p1 timeout $((T + 30)) iperf3 -c "$(nat_tun_ip 2)" -t "$T" -J >"$work/iperf.json" 2>/dev/null; then
			e1=$(cpu_s "${MESH_PID[1]}") e2=$(cpu_s "${MESH_PID[2]}") et=$(cpu_s "$NAT_TURN_PID")
			mbps=$(jq -r '.end.sum_received.bits_per_second / 1e6 | . * 10 | floor / 10' "$work/iperf.json")
			# CPU ms per Mbit moved
			per() { awk -v a="$1" -v b="$2" -v m="$mbps" -v t="$T" 'BEGIN { printf "%.2f", (b - a) * 1000 / (m * t) }'; }
			c1=$(per "$s1" "$e1") c2=$(per "$s2" "$e2") ct=$(per "$st" "$et")
		fi
	fi
	echo "$label: first ping ${fp} s, ${mbps} Mbit/s, CPU ms/Mbit sender $c1, receiver $c2, coturn $ct"
	rows+="| $label | $fp | $mbps | $c1 | $c2 | $ct |"$'\n'
	mesh_peer_stop 1
	mesh_peer_stop 2
	nat_hub_stop "$port"
}

for r in $(seq "$ROUNDS"); do
	run rest "turn: UDP"
	run rest-tcp "turn: TCP"
	run rest-tls "turns: TLS"
done
echo
echo "symmetric <-> symmetric through coturn, iperf3 TCP $T s through the tunnel, $ROUNDS rounds alternating;"
echo "build: $build; $(nproc) CPUs shared with whatever else runs."
echo
echo "| TURN | first ping (s) | Mbit/s | sender agent CPU ms/Mbit | receiver agent CPU ms/Mbit | coturn CPU ms/Mbit |"
echo "|---|---|---|---|---|---|"
printf '%s' "$rows"
