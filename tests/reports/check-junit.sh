#!/bin/sh
# Check OUT/junit.xml with xmllint (libxml2) against OUT/suite.json.
#
#   tests/reports/check-junit.sh OUT
#
# Asserts: the file is well-formed XML; one <testcase> per run, in the
# <testsuite> named after its kernel, named after its scenario; the
# <testsuites> and each <testsuite> counts (tests, failures, errors,
# skipped) equal the number of such elements and suite.json's verdicts, and
# time equals the sum of its test cases'; a failed run has exactly one
# <failure> (an errored one <error>, a skipped one <skipped>, a passed one
# none of them); a <failure>'s text names, for every block that stayed
# unexpectedly, its step, its device block (in a "device block N" or
# "device blocks A-B" range), its owner and reason, and for a known bug its
# name and fixing commit.
set -eu
out=${1:?usage: check-junit.sh OUT}
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
fail() { echo "check-junit: FAIL: $*" >&2; exit 1; }
x=$out/junit.xml
for f in suite.json junit.xml; do
	[ -s "$out/$f" ] || fail "$out/$f is missing or empty"
done
command -v xmllint >/dev/null || fail "xmllint is not installed (Debian: libxml2-utils)"
xmllint --noout "$x" || fail "$x is not well-formed XML"

tmp=$(mktemp -d /tmp/vms-check-junit.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

xp() { xmllint --xpath "$1" "$x" 2>/dev/null || true; }
errors=0
bad() { echo "check-junit: FAIL: $*" >&2; errors=$((errors + 1)); }

# the totals
nruns=$(jq '[.runs[] | objects] | length' "$out/suite.json")
for kind in tests:testcase failures:failure errors:error skipped:skipped; do
	attr=${kind%%:*} elem=${kind#*:}
	case $attr in
	tests) want=$nruns ;;
	failures) want=$(jq '[.runs[] | objects | select(.verdict == "fail")] | length' "$out/suite.json") ;;
	errors) want=$(jq '[.runs[] | objects | select(.verdict != "pass" and .verdict != "fail" and .verdict != "skip")] | length' "$out/suite.json") ;;
	skipped) want=$(jq '[.runs[] | objects | select(.verdict == "skip")] | length' "$out/suite.json") ;;
	esac
	got=$(xp "string(/testsuites/@$attr)")
	[ "$got" = "$want" ] || bad "<testsuites $attr=\"$got\">, suite.json says $want"
	if [ "$elem" = testcase ]; then n=$(xp "count(//testcase)"); else n=$(xp "count(//testcase/$elem)"); fi
	[ "$n" = "$want" ] || bad "$n <$elem> elements, suite.json says $want"
done

# per <testsuite>: its counts are its elements, its time their sum
nsuites=$(xp "count(/testsuites/testsuite)")
i=1
while [ "$i" -le "$nsuites" ]; do
	s="/testsuites/testsuite[$i]"
	name=$(xp "string($s/@name)")
	for kind in tests:testcase failures:testcase/failure errors:testcase/error skipped:testcase/skipped; do
		attr=${kind%%:*} path=${kind#*:}
		[ "$(xp "string($s/@$attr)")" = "$(xp "count($s/$path)")" ] ||
			bad "testsuite $name: $attr=\"$(xp "string($s/@$attr)")\" but $(xp "count($s/$path)") <${path#testcase/}>"
	done
	t=$(xp "string($s/@time)") sum=$(xp "sum($s/testcase/@time)")
	awk -v a="$t" -v b="$sum" 'BEGIN { d = a - b; exit !(d < 0.0005 && d > -0.0005) }' ||
		bad "testsuite $name: time=\"$t\", its test cases add up to $sum"
	i=$((i + 1))
done
t=$(xp "string(/testsuites/@time)") sum=$(xp "sum(//testcase/@time)")
awk -v a="$t" -v b="$sum" 'BEGIN { d = a - b; exit !(d < 0.0005 && d > -0.0005) }' ||
	bad "testsuites time=\"$t\", the test cases add up to $sum"

# per run: where it is and what it says (ids are [A-Za-z0-9._/-]: safe in
# an XPath string literal)
jq -r '.runs[] | objects | [(.kernel.name // (.id | split("/")[0])), (.scenario.name // (.id | split("/")[-1])),
	(if .verdict == "pass" or .verdict == "fail" or .verdict == "skip" then .verdict else "error" end), .id] | @tsv' \
	"$out/suite.json" >"$tmp/runs.tsv"
idx=0
while IFS="$(printf '\t')" read -r kernel scn verdict id; do
	idx=$((idx + 1))
	tc="/testsuites/testsuite[@name='$kernel']/testcase[@name='$scn']"
	n=$(xp "count($tc)")
	[ "$n" = 1 ] || { bad "run $id: $n test cases named $scn in testsuite $kernel"; continue; }
	f=$(xp "count($tc/failure)") e=$(xp "count($tc/error)") k=$(xp "count($tc/skipped)")
	case $verdict in
	pass) want="0 0 0" ;;
	fail) want="1 0 0" ;;
	error) want="0 1 0" ;;
	skip) want="0 0 1" ;;
	esac
	[ "$f $e $k" = "$want" ] || bad "run $id ($verdict): failure/error/skipped elements $f $e $k, expected $want"
	[ "$(xp "string($tc/@time)")" != "" ] || bad "run $id: no time"
	if [ "$verdict" = fail ]; then
		xp "string($tc/failure)" >"$tmp/failure.$idx.txt"
		jq --arg id "$id" '.runs[] | objects | select(.id == $id)' "$out/suite.json" >"$tmp/run.$idx.json"
		"$PY" - "$tmp/run.$idx.json" "$tmp/failure.$idx.txt" <<'EOF' || errors=$((errors + 1))
import json, re, sys
run = json.load(open(sys.argv[1]))
text = open(sys.argv[2]).read()
rep = run.get("report") if isinstance(run.get("report"), dict) else {}
bad = []
if not text.strip():
    bad.append("the failure has no text")
# the ranges the text names per step, with the owner and reason after them
lines = [l for l in text.splitlines() if re.match(r"\s*step .*: device blocks? \d+", l)]
def covered(step, block, owner, reason):
    for l in lines:
        m = re.match(r"\s*step (.*?): device blocks? (\d+)(?:-(\d+))? .*: owner (\S+), reason (\S+), not expected", l)
        if not m or m.group(1) != step:
            continue
        lo, hi = int(m.group(2)), int(m.group(3) or m.group(2))
        if lo <= block <= hi and m.group(4).rstrip(",") == owner and m.group(5).rstrip(",;") == reason:
            return True
    return False
for step in rep.get("steps") or []:
    if not isinstance(step, dict):
        continue
    for v in step.get("stayed") or []:
        if not isinstance(v, dict) or v.get("expected") is True:
            continue
        owner = v.get("owner") or "unowned"
        if not covered(step.get("name"), v.get("block"), owner, v.get("reason")):
            bad.append(f"step {step.get('name')}: block {v.get('block')} ({owner}, {v.get('reason')}) is not named")
        kb = v.get("known_bug")
        if isinstance(kb, dict) and (kb.get("name") not in text or kb.get("fixed_by") not in text):
            bad.append(f"known bug {kb.get('name')} (fixed by {kb.get('fixed_by')}) is not named")
for f in run.get("failures") or []:
    if isinstance(f, str) and f not in text:
        bad.append(f"failure signature not in the text: {f}")
for b in dict.fromkeys(bad):
    print(f"check-junit: FAIL: run {run.get('id')}: {b}", file=sys.stderr)
sys.exit(1 if bad else 0)
EOF
	fi
done <"$tmp/runs.tsv"

[ "$idx" = "$nruns" ] || bad "read $idx runs of $nruns"
[ "$errors" = 0 ] || fail "$errors problems in $x"
echo "check-junit: ok: $nruns test cases in $nsuites testsuites, counts, times and failure texts match suite.json"
