#!/usr/bin/env bash
# The Debian package end to end (issue 18): `make deb` builds it (debhelper + meson, lintian
# without errors), `apt-get install ./riftgate_*.deb` installs it, the installed riftgate,
# riftgate-hub and riftgate-wg answer --version, the unit, man pages, completions, /etc/riftgate
# and the riftgate group are in place, two peers in network namespaces mesh with the installed
# binaries, and `apt-get purge` leaves nothing behind. The install/purge part holds a lock so
# two trees never run it at once; a riftgate package installed by someone else is left alone.
set -u
src=${RG_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${RG_BUILD_ROOT:-$src/build}
. "$src/tests/lab/lab.sh"
. "$src/tests/lab/mesh.sh"
work=$(mktemp -d /tmp/rgag-deb.XXXXXX)
. "$src/tests/lab/check.sh"
for t in dpkg-buildpackage lintian apt-get scdoc; do
	command -v "$t" >/dev/null || { echo "SKIP: $t missing (scripts/deps/build.txt)"; exit 77; }
done
exec 8>/run/lock/riftgate-deb-test.lock
flock 8
if dpkg-query -W -f='${Status}' riftgate 2>/dev/null | grep -q 'install ok installed'; then
	echo "SKIP: a riftgate package is already installed on this machine; not touching it"
	exit 77
fi
group_before=$(getent group riftgate || true)
debdir=$build/deb-test
installed=
report()
{
	[ -n "$installed" ] && apt-get purge -y -q riftgate >/dev/null 2>&1
	[ "$fails" -gt 0 ] && { mesh_dump_logs; tail -40 "$work/deb.log" 2>/dev/null; }
	echo "e2e deb: $passes passed, $fails failed"
	check_counts e2e-deb
	rm -rf "$work"
}

mesh_setup "$build" "$work" rgag-db rgdb
lab_on_cleanup report

start=$SECONDS
check "make deb builds the package (lintian: no errors)" \
	sh -c 'make -s -C "$1" deb DEBDIR="$2" >"$3" 2>&1' _ "$src" "$debdir" "$work/deb.log"
echo "make deb: $((SECONDS - start)) s"
deb=$(ls "$debdir"/riftgate_*.deb 2>/dev/null | head -1)
check "one .deb ($deb)" test -f "$deb"
[ -f "$deb" ] || exit 1
check "lintian reported no error" sh -c "! grep -q '^E: ' '$work/deb.log'"
check "lintian reported no warning either" sh -c "! grep -q '^W: ' '$work/deb.log'"
dpkg-deb -c "$deb" >"$work/contents"
for f in ./usr/bin/riftgate ./usr/bin/riftgate-hub ./usr/bin/riftgate-wg \
	./usr/lib/systemd/system/riftgate@.service ./usr/share/man/man8/riftgate.8.gz \
	./usr/share/man/man8/riftgate-hub.8.gz ./usr/share/man/man8/riftgate-wg.8.gz \
	./usr/share/man/man5/riftgate.toml.5.gz \
	./usr/share/bash-completion/completions/riftgate ./usr/share/zsh/vendor-completions/_riftgate \
	./usr/lib/sysusers.d/riftgate.conf ./etc/riftgate/; do
	check "package ships $f" grep -q " $f\( \|$\)" "$work/contents"
done
check "no test programs in the package" sh -c "! grep -qE 'tests/|test-|bench' '$work/contents'"
check "runtime dependencies only (no -dev, no test tools)" sh -c \
	"! dpkg-deb -f '$deb' Depends | grep -qE -- '-dev|coturn|chromium|clang|iperf'"

installed=1
check "apt-get install ./riftgate_*.deb" sh -c 'apt-get install -y -q "$1" >"$2" 2>&1' _ "$deb" "$work/apt.log"
desc=$(cat "$debdir/src/.git-describe")
for b in riftgate riftgate-hub riftgate-wg; do
	check "installed $b --version ($(/usr/bin/$b --version 2>&1))" \
		sh -c "/usr/bin/$b --version | grep -qxF '$b 0.1.0 ($desc)'"
done
check "the unit runs /usr/bin/riftgate" grep -q '^ExecStart=/usr/bin/riftgate up --foreground' \
	/usr/lib/systemd/system/riftgate@.service
check "man riftgate finds the page" sh -c 'man -w riftgate | grep -q /usr/share/man/man8/riftgate.8.gz'
check "/etc/riftgate is 0700" test "$(stat -c %a /etc/riftgate)" = 700
check "the riftgate group exists" getent group riftgate

# Two peers from the installed binaries.
MESH_RIFTGATE=/usr/bin/riftgate MESH_HUB=/usr/bin/riftgate-hub
mesh_build 2
mesh_hub_start || bad "installed hub starts"
mesh_peer_start 1; mesh_peer_start 2
check "installed agents: tunnel up" lab_wait 60 "peer1 sees peer2 up" mesh_is_up 1 2
check "ping over the installed agents' tunnel" lab_wait 20 ping lab_ping p1 "$(mesh_tun_ip 2)"
check "installed riftgate status" mesh_status 1
mesh_peer_stop 1; mesh_peer_stop 2; mesh_hub_stop

check "apt-get purge riftgate" sh -c 'apt-get purge -y -q riftgate >>"$1" 2>&1' _ "$work/apt.log"
installed=
check "package gone" sh -c "! dpkg-query -W -f='\${Status}' riftgate 2>/dev/null | grep -q installed"
for f in /usr/bin/riftgate /usr/bin/riftgate-hub /usr/bin/riftgate-wg /etc/riftgate \
	/usr/lib/systemd/system/riftgate@.service /usr/share/man/man8/riftgate.8.gz \
	/usr/share/bash-completion/completions/riftgate /usr/lib/sysusers.d/riftgate.conf; do
	check "purge removed $f" test ! -e "$f"
done
[ -z "$group_before" ] && check "purge removed the (empty) riftgate group" sh -c '! getent group riftgate'
[ "$fails" -eq 0 ]
