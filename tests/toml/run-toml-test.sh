#!/usr/bin/env bash
# toml-test conformance (TOML 1.0, every valid and invalid case) against our decoder. Installs the
# official runner through the Go module proxy once (cached in $RG_BUILD_ROOT/toolbin) and writes
# "PASSED FAILED" case counts to $RG_COUNTS_DIR/toml-test. No runner means failure, never a pass.
set -u
decoder=$1
build=${RG_BUILD_ROOT:?}
counts=${RG_COUNTS_DIR:-$build/counts}
bin=$build/toolbin/toml-test
# The v1 module path's @latest needs a BurntSushi/toml pseudo-version the proxy no longer serves;
# v2 is the same runner, maintained.
module=github.com/toml-lang/toml-test/v2/cmd/toml-test@latest
export PATH=$PATH:/usr/local/go/bin
if [ ! -x "$bin" ]; then
	if ! command -v go >/dev/null; then
		echo "toml-test: FAIL: 'go' is not installed, cannot install the runner" >&2
		exit 1
	fi
	mkdir -p "$build/toolbin"
	if ! GOBIN=$build/toolbin GOFLAGS=-mod=mod go install "$module"; then
		echo "toml-test: FAIL: 'go install $module' failed (Go module proxy unreachable?)" >&2
		exit 1
	fi
fi
out=$("$bin" test -toml 1.0 -timeout 5s -decoder "$decoder" 2>&1)
rc=$?
printf '%s\n' "$out" | tail -n 400
# Summary lines look like "valid tests: 205 passed,  0 failed" / "invalid tests: ...".
read -r vp vf < <(printf '%s\n' "$out" | sed -nE 's/^ *valid tests: *([0-9]+) passed, *([0-9]+) failed.*/\1 \2/p' | tail -1)
read -r ip if_ < <(printf '%s\n' "$out" | sed -nE 's/^ *invalid tests: *([0-9]+) passed, *([0-9]+) failed.*/\1 \2/p' | tail -1)
if [ -z "${vp:-}" ] || [ -z "${ip:-}" ]; then
	echo "toml-test: FAIL: could not read the runner's summary" >&2
	exit 1
fi
mkdir -p "$counts"
echo "$((vp + ip)) $((vf + if_))" > "$counts/toml-test"
echo "toml-test: valid $vp passed $vf failed; invalid $ip passed $if_ failed"
[ "$rc" -eq 0 ] && [ $((vf + if_)) -eq 0 ]
