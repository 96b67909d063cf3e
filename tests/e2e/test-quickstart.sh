#!/usr/bin/env bash
# The README's Quick start, run as written by a non-root user the test creates (issue 18):
#   riftgate init --name laptop --server ... --token "$TOKEN" --address ...
#   sudo riftgate up; riftgate status; riftgate netcheck; sudo wg show riftgate0;
#   sudo riftgate down
# The user's commands run in network namespace p1 and in a private mount namespace whose
# /run/riftgate, /run/wireguard and /usr/local/bin (where `riftgate` is, on sudo's secure_path)
# are its own tmpfs, so the default interface name riftgate0 collides with nothing. The hub
# listens in p1 (on loopback for the user, on the LAN for peer 2, a plain lab peer in p2).
# One line is added to what the user types: the lab's rule that no test contacts public STUN
# servers (DESIGN §Test lab) empties `[stun] servers` in the config init wrote.
# Also: a second user outside the status group is refused `status`; a group member may not
# `down`; `sudo riftgate up` without any config names the paths it tried and --config.
set -u
src=${RG_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${RG_BUILD_ROOT:-$src/build}
. "$src/tests/lab/lab.sh"
. "$src/tests/lab/mesh.sh"
work=$(mktemp -d /tmp/rgag-qs.XXXXXX)
. "$src/tests/lab/check.sh"
command -v sudo >/dev/null && command -v useradd >/dev/null ||
	{ echo "SKIP: sudo or useradd missing"; exit 77; }

mesh_setup "$build" "$work" rgag-qs rgqs
tag=${MESH_IFPREFIX#rgqs}
user=rgqs$tag other=rgqn$tag group=rgqsg$tag
homes=$(mktemp -d /tmp/rgqs-home.XXXXXX); chmod 755 "$homes"
sudoers=/etc/sudoers.d/rgqs$tag
cleanup_users()
{
	rm -f "$sudoers"
	userdel "$user" 2>/dev/null; userdel "$other" 2>/dev/null; groupdel "$group" 2>/dev/null
	rm -rf "$homes"
}
report()
{
	[ -s "$work/inner.txt" ] && cat "$work/inner.txt"
	read -r ip ifl 2>/dev/null <"$work/inner.counts" || { ip=0; ifl=1; }
	passes=$((passes + ip)); fails=$((fails + ifl))
	[ "$fails" -gt 0 ] && { mesh_dump_logs; echo "--- agent log:"; cat "$work/agent.log" 2>/dev/null; }
	echo "e2e quickstart: $passes passed, $fails failed"
	check_counts e2e-quickstart
	cleanup_users
	rm -rf "$work"
}
lab_on_cleanup report

groupadd "$group" || { bad "groupadd"; exit 1; }
useradd -M -d "$homes/$user" -s /bin/bash -G "$group" "$user" &&
	useradd -M -d "$homes/$other" -s /bin/bash "$other" || { bad "useradd"; exit 1; }
for u in "$user" "$other"; do mkdir -m 700 "$homes/$u" && chown "$u:" "$homes/$u"; done
# The users may sudo riftgate and wg; the agent started by sudo learns the test's group name.
cat >"$sudoers" <<EOT
Defaults:$user env_keep += "RIFTGATE_CTL_GROUP"
Defaults:$other env_keep += "RIFTGATE_CTL_GROUP"
$user, $other ALL=(root) NOPASSWD: /usr/local/bin/riftgate, /usr/bin/wg
EOT
chmod 440 "$sudoers"
visudo -cf "$sudoers" >/dev/null || { bad "sudoers file"; exit 1; }

mesh_build 2
port=$MESH_HUB_PORT
lab_bg p1 "$MESH_DIR/hub.log" "$MESH_HUB" --addr ":$port" --token "$MESH_TOKEN"
lab_wait 20 "hub listening" lab_tcp_listening p1 "$port" || { bad "hub starts"; exit 1; }
sed -i "s|^server_url = .*|server_url = \"ws://$(mesh_lan_ip 1):$port/connect\"|" "$MESH_DIR/p2.toml"
mesh_peer_start 2

# The user's session: everything below runs in p1's network namespace and a private mount
# namespace; it records its own checks and writes "PASSED FAILED" to inner.counts.
cat >"$work/inner.sh" <<'INNER'
set -u
. "$SRC/tests/lab/lab.sh"
. "$SRC/tests/lab/check.sh"
for d in /run/riftgate /run/wireguard /usr/local/bin; do
	mkdir -p "$d" && mount -t tmpfs -o mode=0755 tmpfs "$d" || { bad "mount $d"; exit 1; }
done
chmod 700 /run/wireguard
install -m 755 "$BUILD/src/cli/riftgate" /usr/local/bin/riftgate
as() { local u=$1; shift; runuser -u "$u" -- env -i HOME="$HOMES/$u" USER="$u" \
	PATH=/usr/local/bin:/usr/bin:/bin RIFTGATE_CTL_GROUP="$GROUP" "$@"; }
ran() { local u=$1; shift; as "$u" bash -c "$*" >"$OUT" 2>&1; }
OUT=$WORK/out

check "init as the user (Quick start line 1)" ran "$USER_A" "riftgate init --name laptop \
	--server ws://127.0.0.1:$PORT/connect --token '$TOKEN' --address 10.98.100.1/24"
check "init wrote ~/.config/riftgate/config.toml 0600" \
	test "$(stat -c %a "$HOMES/$USER_A/.config/riftgate/config.toml")" = 600
as "$USER_A" sed -i 's/^servers = .*/servers = []/' "$HOMES/$USER_A/.config/riftgate/config.toml"
check "sudo riftgate up (line 2)" ran "$USER_A" "sudo riftgate up"
cat "$OUT"
check "up said which config it used" grep -q "using $HOMES/$USER_A/.config/riftgate/config.toml" "$OUT"
check "riftgate0 exists" ip link show riftgate0
# Least privilege (issue 15 item 11): the agent sudo started keeps CAP_NET_ADMIN, plus
# CAP_DAC_READ_SEARCH to re-read the user's config at SIGHUP, and nothing else.
pid=$(ss -xlpn 2>/dev/null | sed -n 's|.*/run/riftgate/riftgate0.ctl .*pid=\([0-9]*\).*|\1|p' | head -1)
caps() { sed -n "s/^$1:\t//p" "/proc/$pid/status"; }
check "agent pid found ($pid)" test -n "$pid"
check "CapEff is CAP_NET_ADMIN + CAP_DAC_READ_SEARCH ($(caps CapEff))" test "$(caps CapEff)" = 0000000000001004
check "CapPrm the same ($(caps CapPrm))" test "$(caps CapPrm)" = 0000000000001004
check "CapBnd the same ($(caps CapBnd))" test "$(caps CapBnd)" = 0000000000001004
check "no inheritable or ambient capabilities" test "$(caps CapInh)$(caps CapAmb)" = 00000000000000000000000000000000
up_seen() { as "$USER_A" riftgate status 2>&1 | grep -A1 '^peer: peer2$' | grep -q '^  state: up'; }
check "riftgate status as the user (line 3): peer2 up" lab_wait 60 "peer2 up" up_seen
check "status without a name works for the group" ran "$USER_A" "riftgate status"
ran "$USER_A" "timeout 60 riftgate netcheck"; rc=$?
check "riftgate netcheck (line 4) runs as the user (exit $rc: 0, or 1 for a finding)" test "$rc" -le 1
check "sudo wg show riftgate0 (line 5)" ran "$USER_A" "sudo wg show riftgate0"
check "wg show lists peer2's key" grep -q "^peer: " "$OUT"
check "ping peer2 through the tunnel" lab_wait 20 ping ping -c 1 -W 2 -q 10.98.100.2
ran "$OTHER" "riftgate status"; rc=$?
check "a user outside the group: status refused (exit $rc)" test "$rc" = 1
check "... with a message naming the group" grep -q "permission denied.*member of the 'riftgate' group" "$OUT"
cat "$OUT"
ran "$OTHER" "riftgate status riftgate0"; rc=$?
check "a user outside the group: status riftgate0 refused (exit $rc)" test "$rc" = 1
ran "$USER_A" "riftgate down"; rc=$?
check "a group member may not take it down (exit $rc)" test "$rc" = 1
check "... told only root may" grep -q "only root may" "$OUT"
check "still up after the refused down" ip link show riftgate0
# The counterpart of `systemctl reload` for `sudo riftgate up`: the user edits the config and
# root reloads it; the agent re-reads the user's file (CAP_DAC_READ_SEARCH kept for it).
CONF=$HOMES/$USER_A/.config/riftgate/config.toml
ran "$USER_A" "riftgate reload"; rc=$?
check "a group member may not reload (exit $rc)" test "$rc" = 1
check "... told only root may" grep -q "only root may" "$OUT"
as "$USER_A" sh -c "printf '\n[log]\nlevel = \"debug\"\n' >>'$CONF'"
check "sudo riftgate reload: exit 0" ran "$USER_A" "sudo riftgate reload"
check "... says the config was reloaded" grep -q "riftgate0: config reloaded" "$OUT"
check "... and the new level is in force" sh -c "grep -q 'log level info -> debug' /run/riftgate/riftgate0.log"
as "$USER_A" cp "$CONF" "$HOMES/$USER_A/good.toml"
as "$USER_A" sh -c "printf '[devi' >>'$CONF'"
ran "$USER_A" "sudo riftgate reload"; rc=$?
check "a half-written config: reload refused (exit $rc)" test "$rc" = 1
check "... naming the file and place, the running config kept" \
	grep -q "riftgate0: $CONF:[0-9]*:[0-9]*: .*; the running config stays" "$OUT"
as "$USER_A" cp "$HOMES/$USER_A/good.toml" "$CONF"
check "still up after the refused reload" ip link show riftgate0
check "control socket is group-readable 0660" \
	test "$(stat -c '%a %G' /run/riftgate/riftgate0.ctl)" = "660 $GROUP"
ran "$OTHER" "sudo riftgate up"; rc=$?
check "sudo up without any config fails (exit $rc)" test "$rc" = 1
check "... naming the user's path and --config" grep -q "$HOMES/$OTHER/.config/riftgate/config.toml.*--config" "$OUT"
cp /run/riftgate/riftgate0.log "$WORK/agent.log" 2>/dev/null
check "sudo riftgate down (line 6)" ran "$USER_A" "sudo riftgate down"
check "riftgate0 is gone" sh -c '! ip link show riftgate0 2>/dev/null'
check "no socket and no log left in /run/riftgate" test -z "$(ls -A /run/riftgate)"
echo "$passes $fails" >"$WORK/inner.counts"
INNER
SRC=$src BUILD=$build WORK=$work HOMES=$homes USER_A=$user OTHER=$other GROUP=$group \
PORT=$port TOKEN=$MESH_TOKEN \
	ip netns exec "$(lab_ns p1)" unshare -m bash "$work/inner.sh" >"$work/inner.txt" 2>&1
read -r ip ifl <"$work/inner.counts" 2>/dev/null || bad "the user's session did not finish"
[ "$fails" -eq 0 ] && [ "${ifl:-1}" -eq 0 ]
