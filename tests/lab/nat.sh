# riftgate NAT lab (on top of lab.sh, and mesh.sh for the agents): a shared "internet" bridge,
# NAT router namespaces made with nftables, a LAN namespace behind each, and a server namespace on
# the internet holding coturn and riftgate-hub.
#
#   source tests/lab/lab.sh; source tests/lab/mesh.sh; source tests/lab/nat.sh
#   lab_init rgnt-x-
#   nat_init                     # the internet bridge and the server namespace "srv" (198.18.0.1)
#   nat_site 1 full-cone         # router ns r1 (198.18.0.11) + LAN ns p1 (198.19.1.2 behind it)
#   nat_site 2 symmetric
#   nat_turn_start SECRET        # coturn on 198.18.0.1:3478, REST-API auth (use-auth-secret)
#
# Addresses (all inside the lab's namespaces, 198.18.0.0/15 only):
#   internet 198.18.0.0/24: srv 198.18.0.1 (hub, TURN/STUN), extra servers 198.18.0.2-9,
#            router i 198.18.0.(10+i)
#   LAN i    198.19.i.0/24: router 198.19.i.1, host p$i 198.19.i.2 (default route via the router)
#   tunnel   198.19.100.i/24 (inside riftgate's TUN)
# Routers forward between their LAN and the internet only; no route exists between LANs, so
# peers behind different routers meet only through their NAT mappings (or the TURN relay).
#
# NAT types (RFC 4787 terms: mapping / filtering):
#   full-cone     static 1:1 DNAT+SNAT: endpoint-independent mapping (port kept), no filtering
#   addr-restricted  1:1 SNAT/DNAT, forward filter admits inbound only from addresses the host
#                 contacted (an nft set with timeouts): endpoint-independent / address-dependent
#   port-restricted  masquerade + conntrack: endpoint-independent / address-and-port-dependent
#   symmetric     masquerade random,fully-random: a new random port per destination
#                 (address-and-port-dependent mapping), conntrack filtering

NAT_TYPES=(full-cone addr-restricted port-restricted symmetric)
NAT_SRV_IP=198.18.0.1
NAT_TURN_PORT=3478
NAT_TURN_TLS_PORT=5349
NAT_TURN_PID=
declare -A NAT_TYPE=() NAT_LANIF=() NAT_IMPAIR_PID=()
NAT_LAB_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

nat_pub_ip() { echo "198.18.0.$((10 + $1))"; }
nat_lan_ip() { echo "198.19.$1.2"; }
nat_tun_ip() { echo "198.19.100.$1"; }

# nat_init: bridge + server namespace (srv). NAT_DIR (a private directory) must be set or is made.
nat_init()
{
	if [ -z "${NAT_DIR:-}" ]; then
		NAT_DIR=$(mktemp -d /tmp/rgnt-lab.XXXXXX) || lab_die "mktemp failed"
	fi
	mkdir -p "$NAT_DIR" && chmod 700 "$NAT_DIR"
	command -v nft >/dev/null || lab_die "nftables (nft) not installed"
	lab_bridge
	lab_node srv "$NAT_SRV_IP/24"
}

# nat_rules TYPE LANIF PUB LAN: the nftables ruleset for a router (printed).
nat_rules()
{
	local type=$1 lanif=$2 pub=$3 lan=$4
	case "$type" in
	full-cone)
		cat <<-EOT
		table ip rgnat {
			chain natpre { type nat hook prerouting priority dstnat; iifname "eth0" ip daddr $pub dnat to $lan; }
			chain natpost { type nat hook postrouting priority srcnat; oifname "eth0" ip saddr $lan snat to $pub; }
		}
		EOT
		;;
	addr-restricted)
		cat <<-EOT
		table ip rgnat {
			set seen { type ipv4_addr; flags timeout; timeout 5m; }
			chain natpre { type nat hook prerouting priority dstnat; iifname "eth0" ip daddr $pub dnat to $lan; }
			chain natpost { type nat hook postrouting priority srcnat; oifname "eth0" ip saddr $lan snat to $pub; }
			chain filt {
				type filter hook forward priority filter; policy drop;
				iifname "$lanif" update @seen { ip daddr } accept
				ct state established,related accept
				iifname "eth0" ip saddr @seen accept
			}
		}
		EOT
		;;
	port-restricted)
		cat <<-EOT
		table ip rgnat {
			chain natpost { type nat hook postrouting priority srcnat; oifname "eth0" masquerade; }
			chain filt {
				type filter hook forward priority filter; policy drop;
				iifname "$lanif" accept
				ct state established,related accept
			}
		}
		EOT
		;;
	symmetric)
		cat <<-EOT
		table ip rgnat {
			chain natpost { type nat hook postrouting priority srcnat; oifname "eth0" masquerade random,fully-random; }
			chain filt {
				type filter hook forward priority filter; policy drop;
				iifname "$lanif" accept
				ct state established,related accept
			}
		}
		EOT
		;;
	none)
		;;
	*) lab_die "unknown NAT type '$type' (one of: ${NAT_TYPES[*]} none)" ;;
	esac
}

# nat_site I TYPE [IMPAIR ARGS...]: router namespace r$I on the internet, LAN namespace p$I behind
# it. With impairment arguments (impair.py's: --loss 5 --delay 50 ...), a namespace x$I sits
# between router and LAN and tests/lab/impair.py bridges its two ports, impairing every frame.
nat_site()
{
	local i=$1 type=$2 r="r$1" p="p$1" lanif
	shift 2
	lab_node "$r" "$(nat_pub_ip "$i")/24"
	lab_add_ns "$p"
	if [ $# -eq 0 ]; then
		lab_link "$r" "$p" "198.19.$i.1/24" "$(nat_lan_ip "$i")/24"
		lanif="to-$p"
	else
		nat_impair_link "$i" "$@"
		lanif="to-x$i"
	fi
	lab_exec "$p" ip route add default via "198.19.$i.1" || lab_die "site $i: default route"
	lab_exec "$r" sysctl -qw net.ipv4.ip_forward=1 || lab_die "site $i: ip_forward"
	NAT_LANIF[$i]=$lanif
	nat_rules "$type" "$lanif" "$(nat_pub_ip "$i")" "$(nat_lan_ip "$i")" >"$NAT_DIR/$r.nft"
	lab_exec "$r" nft -f "$NAT_DIR/$r.nft" || lab_die "site $i: nft ruleset for $type rejected"
	NAT_TYPE[$i]=$type
}

# nat_impair_link I ARGS...: r$I <-> x$I <-> p$I with impair.py link in x$I (stats in
# $NAT_DIR/x$I.stats on exit). Offloads are off so no frame exceeds the MTU.
nat_impair_link()
{
	local i=$1 r="r$1" p="p$1" x="x$1" dev ns
	shift
	command -v ethtool >/dev/null || lab_die "ethtool not installed (needed to impair a link)"
	lab_add_ns "$x"
	ip -n "$(lab_ns "$r")" link add "to-x$i" type veth peer name "to-r$i" netns "$(lab_ns "$x")" ||
		lab_die "impair link $i: veth"
	ip -n "$(lab_ns "$x")" link add "to-p$i" type veth peer name "to-x$i" netns "$(lab_ns "$p")" ||
		lab_die "impair link $i: veth"
	ip -n "$(lab_ns "$r")" addr add "198.19.$i.1/24" dev "to-x$i"
	ip -n "$(lab_ns "$p")" addr add "$(nat_lan_ip "$i")/24" dev "to-x$i"
	for dev in "$r:to-x$i" "$x:to-r$i" "$x:to-p$i" "$p:to-x$i"; do
		ns=$(lab_ns "${dev%%:*}")
		ip netns exec "$ns" ethtool -K "${dev#*:}" tso off gso off gro off tx off rx off >/dev/null 2>&1
		ip -n "$ns" link set "${dev#*:}" up
	done
	ip -n "$(lab_ns "$x")" link set "to-r$i" promisc on
	ip -n "$(lab_ns "$x")" link set "to-p$i" promisc on
	lab_bg "$x" "$NAT_DIR/x$i.log" /usr/bin/python3 "$NAT_LAB_SRC/impair.py" link \
		--a "to-r$i" --b "to-p$i" --stats "$NAT_DIR/x$i.stats" "$@"
	NAT_IMPAIR_PID[$i]=$LAB_LAST_PID
	lab_wait 10 "impairment relay $i" grep -q ready "$NAT_DIR/x$i.log" ||
		lab_die "impairment relay $i did not start: $(cat "$NAT_DIR/x$i.log")"
}

# nat_set_type I TYPE: replace a router's ruleset (and forget its conntrack state).
nat_set_type()
{
	local i=$1 type=$2 r="r$1"
	lab_exec "$r" nft flush ruleset
	nat_rules "$type" "${NAT_LANIF[$i]}" "$(nat_pub_ip "$i")" "$(nat_lan_ip "$i")" >"$NAT_DIR/$r.nft"
	lab_exec "$r" nft -f "$NAT_DIR/$r.nft" || lab_die "site $i: nft ruleset for $type rejected"
	nat_flush_conntrack "$i"
	NAT_TYPE[$i]=$type
}

# nat_flush_conntrack I: drop the router's NAT mappings (like a router reboot).
nat_flush_conntrack()
{
	if command -v conntrack >/dev/null; then
		lab_exec "r$1" conntrack -F >/dev/null 2>&1
	else
		# no conntrack tool: let the UDP entries age out quickly
		lab_exec "r$1" sysctl -qw net.netfilter.nf_conntrack_udp_timeout=1 2>/dev/null
		lab_exec "r$1" sysctl -qw net.netfilter.nf_conntrack_udp_timeout_stream=1 2>/dev/null
		sleep 2.5
		lab_exec "r$1" sysctl -qw net.netfilter.nf_conntrack_udp_timeout=30 2>/dev/null
		lab_exec "r$1" sysctl -qw net.netfilter.nf_conntrack_udp_timeout_stream=120 2>/dev/null
	fi
	return 0
}

# nat_change_public_ip I NEWHOST: the router's public address moves to 198.18.0.NEWHOST (like an
# ISP renumbering): the old address goes away, mappings are flushed, rules follow.
nat_change_public_ip()
{
	local i=$1 new="198.18.0.$2" r="r$1" old
	old=$(nat_pub_ip "$i")
	# delete first: in one subnet the new address would be a secondary, deleted with the old
	lab_exec "$r" ip addr del "$old/24" dev eth0
	lab_exec "$r" ip addr add "$new/24" dev eth0 || return 1
	lab_exec "$r" nft flush ruleset
	nat_rules "${NAT_TYPE[$i]}" "${NAT_LANIF[$i]}" "$new" "$(nat_lan_ip "$i")" >"$NAT_DIR/$r.nft"
	lab_exec "$r" nft -f "$NAT_DIR/$r.nft" || return 1
	nat_flush_conntrack "$i"
}

# nat_turn_start SECRET [EXTRA turnserver ARGS]: coturn in srv with REST-API credentials
# (use-auth-secret), listening only on the lab address, its own log, userdb and pid files.
# With NAT_TURN_CERT and NAT_TURN_PKEY set (PEM files) it also serves TLS on NAT_TURN_TLS_PORT.
nat_turn_start()
{
	local secret=$1 tls="no-tls"; shift
	command -v turnserver >/dev/null || lab_die "coturn (turnserver) not installed"
	[ -n "${NAT_TURN_CERT:-}" ] &&
		tls=$(printf 'tls-listening-port=%s\ncert=%s\npkey=%s' "$NAT_TURN_TLS_PORT" \
			"$NAT_TURN_CERT" "$NAT_TURN_PKEY")
	(
		umask 077
		cat >"$NAT_DIR/turnserver.conf" <<-EOT
		listening-ip=$NAT_SRV_IP
		relay-ip=$NAT_SRV_IP
		listening-port=$NAT_TURN_PORT
		min-port=49152
		max-port=49999
		realm=riftgate.lab
		use-auth-secret
		static-auth-secret=$secret
		fingerprint
		no-cli
		$tls
		no-dtls
		no-multicast-peers
		# only lab internet addresses: a relayed send to a LAN address (a host candidate) fails
		# with ENETUNREACH, and coturn then closes the whole allocation
		denied-peer-ip=0.0.0.0-255.255.255.255
		allowed-peer-ip=198.18.0.0-198.18.255.255
		log-file=$NAT_DIR/turnserver.log
		simple-log
		verbose
		userdb=$NAT_DIR/turndb.sqlite
		pidfile=$NAT_DIR/turnserver.pid
		EOT
	)
	lab_bg srv "$NAT_DIR/turnserver.out" turnserver -c "$NAT_DIR/turnserver.conf" "$@"
	NAT_TURN_PID=$LAB_LAST_PID
	lab_wait 20 "coturn listening" nat_udp_listening srv "$NAT_TURN_PORT" || {
		cat "$NAT_DIR/turnserver.out" "$NAT_DIR/turnserver.log" >&2 2>/dev/null
		return 1
	}
}

nat_turn_stop() { [ -n "$NAT_TURN_PID" ] && lab_stop "$NAT_TURN_PID" TERM 10; NAT_TURN_PID=; }

nat_udp_listening() { lab_exec "$1" ss -Huln "sport = :$2" 2>/dev/null | grep -q .; }

# nat_turn_rest_creds SECRET PEERID TTL: "username password" as coturn's REST API expects them
# (the agent computes its own; tests compare the two).
nat_turn_rest_creds()
{
	local user
	user="$(($(date +%s) + $3)):$2"
	printf '%s %s\n' "$user" "$(printf '%s' "$user" | openssl dgst -sha1 -hmac "$1" -binary | base64)"
}

# ---- riftgate agents behind the NATs (uses mesh.sh: mesh_init first) ----

# nat_hub_start PORT: a riftgate-hub in srv on 198.18.0.1:PORT with the mesh token.
declare -A NAT_HUB_PID=()
nat_hub_start()
{
	local port=$1
	lab_bg srv "$MESH_DIR/hub$port.log" "$MESH_HUB" --addr "$NAT_SRV_IP:$port" --token "$MESH_TOKEN"
	NAT_HUB_PID[$port]=$LAB_LAST_PID
	lab_wait 20 "hub on $port" lab_tcp_listening srv "$port" || { cat "$MESH_DIR/hub$port.log" >&2; return 1; }
}
nat_hub_stop() { local p=${NAT_HUB_PID[$1]:-}; NAT_HUB_PID[$1]=; [ -n "$p" ] && lab_stop "$p" TERM 10; }

# nat_write_config I HUBPORT TURN: config for the agent in p$I (peerId peer$I, tunnel 198.19.100.I).
# TURN: "rest" ([[turn]] without a username + network.turn_secret=$NAT_TURN_SECRET), "rest-tcp"
# (the same over TCP to the TURN server), "rest-tls" (turns: on NAT_TURN_TLS_PORT), "static"
# (username/credential written out), "none". STUN is the lab's coturn, never a public server.
nat_write_config()
{
	local i=$1 port=$2 turn=$3 key u pw f
	f="$MESH_DIR/p$i.toml"
	[ -f "$MESH_DIR/p$i.key" ] || (umask 077; mesh_genkey >"$MESH_DIR/p$i.key") || lab_die "no key"
	key=$(cat "$MESH_DIR/p$i.key")
	(
		umask 077
		{
			echo "# riftgate NAT lab peer $i behind ${NAT_TYPE[$i]:-?} (tests/lab/nat.sh)"
			echo "[network]"
			echo "name = \"natlab\""
			echo "server_url = \"ws://$NAT_SRV_IP:$port/connect\""
			echo "auth_token = \"$MESH_TOKEN\""
			echo "allow_insecure_transport = true   # the lab hub speaks ws:// only"
			case "$turn" in rest*) echo "turn_secret = \"$NAT_TURN_SECRET\"" ;; esac
			echo
			echo "[device]"
			echo "name = \"peer$i\""
			echo "private_key = \"$key\""
			echo "address = \"$(nat_tun_ip "$i")/24\""
			echo "interface = \"$(mesh_ifname "$i")\""
			echo
			echo "[stun]"
			echo "servers = [\"stun:$NAT_SRV_IP:$NAT_TURN_PORT\"]"
			case "$turn" in
			rest)
				printf '\n[[turn]]\nurl = "turn:%s:%s"\n' "$NAT_SRV_IP" "$NAT_TURN_PORT" ;;
			rest-tcp)
				printf '\n[[turn]]\nurl = "turn:%s:%s?transport=tcp"\n' "$NAT_SRV_IP" "$NAT_TURN_PORT" ;;
			rest-tls)
				printf '\n[[turn]]\nurl = "turns:%s:%s"\n' "$NAT_SRV_IP" "$NAT_TURN_TLS_PORT" ;;
			static)
				read -r u pw < <(nat_turn_rest_creds "$NAT_TURN_SECRET" "peer$i" 86400)
				printf '\n[[turn]]\nurl = "turn:%s:%s?transport=udp"\nusername = "%s"\ncredential = "%s"\n' \
					"$NAT_SRV_IP" "$NAT_TURN_PORT" "$u" "$pw" ;;
			esac
			echo
			echo "[webrtc]"
			echo "ordered = false"
			echo "max_retransmits = 0"
		} >"$f"
	)
	chmod 600 "$f"
}

nat_peer_type() { mesh_status "$1" --json 2>/dev/null | jq -r --arg id "peer$2" '.peers[] | select(.peerId == $id) | .candidateType // ""' 2>/dev/null; }
nat_peer_error() { mesh_status "$1" --json 2>/dev/null | jq -r --arg id "peer$2" '.peers[] | select(.peerId == $id) | .lastError // ""' 2>/dev/null; }

# nat_wait_up I J TIMEOUT: peer I reports peer J up and pings it through the tunnel.
nat_wait_up()
{
	lab_wait "$3" "peer$1 sees peer$2 up" mesh_is_up "$1" "$2" &&
		lab_wait 20 "peer$1 pings peer$2 over the tunnel" lab_ping "p$1" "$(nat_tun_ip "$2")"
}
