#!/usr/bin/env bash
# NAT lab self-test: each router type behaves as its name says (mapping and filtering, probed with
# a UDP echo server on three internet addresses), LANs cannot reach each other directly, and
# coturn starts on the lab address with REST-API auth and answers an authenticated allocation.
set -u
src=${RG_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$src/tests/lab/lab.sh"
. "$src/tests/lab/nat.sh"
PY=/usr/bin/python3
probe="$src/tests/lab/nat-probe.py"
pass=0 fail=0
check() { if "$@"; then echo "ok: $*"; pass=$((pass + 1)); else echo "FAIL: $*"; fail=$((fail + 1)); fi; }
counts() { [ -n "${RG_COUNTS_DIR:-}" ] && mkdir -p "$RG_COUNTS_DIR" && echo "$pass $fail" >"$RG_COUNTS_DIR/nat-lab"; }

lab_init "rgnt-lab$$-"
NAT_DIR=$(mktemp -d /tmp/rgnt-lab.XXXXXX)
lab_on_cleanup '[ "$fail" -eq 0 ] || tail -n 30 "$NAT_DIR"/turnserver.log "$NAT_DIR"/uclient.log 2>/dev/null; rm -rf "$NAT_DIR"'
nat_init
lab_exec srv ip addr add 198.18.0.2/24 dev eth0
lab_exec srv ip addr add 198.18.0.3/24 dev eth0
lab_exec srv ip addr add 198.18.0.4/24 dev eth0
lab_bg srv "$NAT_DIR/probe.log" "$PY" "$probe" serve 198.18.0.2:3000 198.18.0.2:3001 \
	198.18.0.3:3000 198.18.0.4:3000
lab_wait 10 "probe server" nat_udp_listening srv 3001 || { cat "$NAT_DIR/probe.log"; exit 1; }

i=0
for t in "${NAT_TYPES[@]}"; do
	i=$((i + 1))
	nat_site "$i" "$t"
done

# expected: mapping, port kept, other_port, other_addr
declare -A want=(
	[full-cone]="endpoint-independent true open open"
	[addr-restricted]="endpoint-independent true open filtered"
	[port-restricted]="endpoint-independent true filtered filtered"
	[symmetric]="endpoint-dependent - filtered filtered"
)
for ((i = 1; i <= ${#NAT_TYPES[@]}; i++)); do
	t=${NAT_TYPE[$i]}
	j=$(lab_exec "p$i" timeout 30 "$PY" "$probe" classify 198.18.0.2 198.18.0.3 198.18.0.4 3000 3001)
	echo "$t: $j"
	got=$(echo "$j" | jq -r '[.mapping, (if .mapping == "endpoint-dependent" then "-" else (.port_kept|tostring) end), .other_port, .other_addr] | join(" ")')
	check test "$t: $got" = "$t: ${want[$t]}"
	# the mapped address is the router's public one
	check test "$(echo "$j" | jq -r '.mapped_1 | split(":")[0]')" = "$(nat_pub_ip "$i")"
done

# an impaired site: 25 ms each way through impair.py link -> ping RTT >= 50 ms, 20% loss each way
nat_site 5 port-restricted --delay 25 --loss 20 --seed 11
out=$(lab_exec p5 ping -c 40 -i 0.05 -W 2 -q "$NAT_SRV_IP" 2>&1)
echo "$out" | tail -2
minrtt=$(echo "$out" | awk -F'= ' '/^rtt/ {split($2, a, "/"); print int(a[1])}')
recv=$(echo "$out" | awk '/received/ {print $4}')
check test "${minrtt:-0}" -ge 50
check test "${recv:-0}" -ge 10 -a "${recv:-0}" -le 36

# no direct route between sites: p1 cannot reach p2's LAN address, or the routers' LAN side
check bash -c "! ip netns exec $(lab_ns p1) ping -c1 -W1 -q $(nat_lan_ip 2) >/dev/null 2>&1"
check lab_ping p1 "$NAT_SRV_IP"

# coturn: REST-API credentials accepted, wrong ones refused (turnutils_uclient does one allocation)
secret=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
if nat_turn_start "$secret"; then
	check lab_wait 10 "coturn log" grep -qi "198.18.0.1" "$NAT_DIR/turnserver.log"
	check bash -c "! ss -Huln 'sport = :$NAT_TURN_PORT' | grep -q ." # not in the host namespace
	if command -v turnutils_uclient >/dev/null; then
		read -r u pw < <(nat_turn_rest_creds "$secret" peer1 600)
		uclient() { lab_exec p1 timeout 20 turnutils_uclient -y -n 1 -m 1 -l 100 -u "$1" -w "$2" "$NAT_SRV_IP" >>"$NAT_DIR/uclient.log" 2>&1; }
		check uclient "$u" "$pw"
		check bash -c "! ip netns exec $(lab_ns p1) timeout 20 turnutils_uclient -y -n 1 -m 1 -l 100 -u '$u' -w wrong $NAT_SRV_IP >/dev/null 2>&1"
		# an expired username is refused even with the right HMAC
		read -r u pw < <(nat_turn_rest_creds "$secret" peer1 -60)
		check bash -c "! ip netns exec $(lab_ns p1) timeout 20 turnutils_uclient -y -n 1 -m 1 -l 100 -u '$u' -w '$pw' $NAT_SRV_IP >/dev/null 2>&1"
	fi
else
	check false "coturn starts"
fi

echo "nat-lab: $pass passed, $fail failed"
counts
[ "$fail" -eq 0 ]
