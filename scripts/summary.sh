#!/usr/bin/env bash
# Sums every suite into the one closing line CI reads: "N passed, N failed".
#  - meson tests from BUILD/meson-logs/testlog.json (one result each);
#  - a suite that counts sub-cases (toml-test, fuzz smoke) writes "PASSED FAILED" to
#    BUILD/counts/NAME; a meson test of the same NAME is then replaced by its sub-counts.
set -u
build=${1:-build}
log="$build/meson-logs/testlog.json"
pass=0; fail=0; skip=0
declare -A sub=()
for f in "$build"/counts/*; do
	[ -f "$f" ] || continue
	sub[$(basename "$f")]=1
	read -r p q < "$f"
	pass=$((pass + ${p:-0})); fail=$((fail + ${q:-0}))
	echo "summary: $(basename "$f"): ${p:-0} passed, ${q:-0} failed"
done
if [ -f "$log" ]; then
	while IFS=$'\t' read -r name result; do
		[ -n "${sub[$name]:-}" ] && { [ "$result" = OK ] || fail=$((fail + 1)); continue; }
		case "$result" in
		OK|EXPECTEDFAIL) pass=$((pass + 1)) ;;
		SKIP) skip=$((skip + 1)) ;;
		*) fail=$((fail + 1)); echo "summary: FAILED $name ($result)" ;;
		esac
	done < <(python3 -c 'import json,sys
for l in open(sys.argv[1]):
    l=l.strip()
    if l:
        d=json.loads(l); print(d["name"]+"\t"+d["result"])' "$log")
else
	echo "summary: no meson test log at $log"; fail=$((fail + 1))
fi
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
