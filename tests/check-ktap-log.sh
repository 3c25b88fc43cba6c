#!/bin/sh
# Check a test runner's KTAP log (tests/lib.sh: the integration and hostile
# runners) with the kernel's own parser, kunit.py: no parse error, its
# totals equal the runner's "# Totals:" line, and its exit status is 1
# exactly when a test failed (or every test was skipped), as for any KTAP.
#
#   tests/check-ktap-log.sh LOG
set -eu
here=$(cd "$(dirname "$0")" && pwd)
log=${1:?usage: check-ktap-log.sh LOG}
fail() { echo "check-ktap-log: FAIL: $*" >&2; exit 1; }
[ -s "$log" ] || fail "$log is missing or empty"
log=$(cd "$(dirname "$log")" && pwd)/$(basename "$log")
kunit=$("$here/reports/kunit-path.sh") || fail "cannot get kunit.py (tests/reports/kunit-path.sh)"
tmp=$(mktemp -d /tmp/vms-ktap-log.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
rc=0
(cd "$tmp" && timeout 120 python3 "$kunit/kunit.py" parse "$log") >"$tmp/parse.log" 2>&1 || rc=$?
totals=$(grep -m1 '^# Totals: ' "$log") || fail "$log has no '# Totals:' line"
pass=$(echo "$totals" | sed -n 's/.* pass:\([0-9]*\).*/\1/p')
failn=$(echo "$totals" | sed -n 's/.* fail:\([0-9]*\).*/\1/p')
skip=$(echo "$totals" | sed -n 's/.* skip:\([0-9]*\).*/\1/p')
! grep -q '\[ERROR\]' "$tmp/parse.log" || fail "kunit.py reports parse errors: $(grep '\[ERROR\]' "$tmp/parse.log" | head -3)"
summary=$(grep -m1 'Testing complete' "$tmp/parse.log") || fail "kunit.py printed no summary: $(tail -3 "$tmp/parse.log")"
# kunit.py names only the counts that are not zero
count() { echo "$summary" | sed -n "s/.*[ :]$1: \([0-9]*\).*/\1/p" | grep . || echo 0; }
[ "$(count passed)" = "$pass" ] && [ "$(count failed)" = "$failn" ] && [ "$(count skipped)" = "$skip" ] ||
	fail "kunit.py: '$summary'; the runner says pass:$pass fail:$failn skip:$skip"
want_rc=0
{ [ "$failn" != 0 ] || [ "$pass" = 0 ]; } && want_rc=1
[ "$rc" = "$want_rc" ] || fail "kunit.py parse exited $rc, expected $want_rc"
echo "check-ktap-log: ok: kunit.py reads $(basename "$log") as the runner counted it ($summary)"
