#!/usr/bin/env bash
# `make install` installs what runs and nothing else, and `make uninstall` removes it (issue 18):
# meson install of this build into a DESTDIR, the file list compared with the expected one, then
# meson's uninstall with the same DESTDIR leaves nothing. No root needed, the host untouched.
set -u
build=${RG_BUILD_ROOT:?}
src=${RG_SOURCE_ROOT:?}
. "$src/tests/lab/check.sh"
dest=$(mktemp -d /tmp/rg-install.XXXXXX); trap 'rm -rf "$dest"' EXIT
prefix=$(meson introspect --buildoptions "$build" | python3 -c \
	'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "prefix"))')

check "meson install into DESTDIR" sh -c \
	'DESTDIR="$1" meson install -C "$2" --no-rebuild --quiet >"$1.log" 2>&1' _ "$dest" "$build"
got=$(cd "$dest" && find . \( -type f -o -type l \) | sed "s|^\.$prefix/|PREFIX/|" | sort | tr '\n' ' ')
want="PREFIX/bin/riftgate PREFIX/bin/riftgate-hub PREFIX/bin/riftgate-wg"
want="$want PREFIX/lib/systemd/system/riftgate@.service"
want="$want PREFIX/share/bash-completion/completions/riftgate"
want="$want PREFIX/share/bash-completion/completions/riftgate-hub"
if command -v scdoc >/dev/null; then
	want="$want PREFIX/share/man/man5/riftgate.toml.5 PREFIX/share/man/man8/riftgate-hub.8"
	want="$want PREFIX/share/man/man8/riftgate-wg.8 PREFIX/share/man/man8/riftgate.8"
fi
want="$want PREFIX/share/zsh/vendor-completions/_riftgate"
want=$(echo $want | tr ' ' '\n' | sort | tr '\n' ' ')
check "installed exactly what runs" test "$got" = "$want"
[ "$got" = "$want" ] || { echo "got:  $got"; echo "want: $want"; }
check "/etc/riftgate created 0700" test "$(stat -c %a "$dest/etc/riftgate" 2>/dev/null)" = 700
check "the unit runs the installed binary" \
	grep -q "^ExecStart=$prefix/bin/riftgate up" "$dest$prefix/lib/systemd/system/riftgate@.service"
check "uninstall" sh -c 'DESTDIR="$1" ninja -C "$2" uninstall >>"$1.log" 2>&1' _ "$dest" "$build"
left=$( [ -d "$dest" ] && find "$dest" \( -type f -o -type l \) | wc -l || echo 0)
check "uninstall removed every file ($left left)" test "$left" = 0
rm -f "$dest.log"
echo "cli install: $passes passed, $fails failed"
check_counts cli-install
[ "$fails" -eq 0 ]
