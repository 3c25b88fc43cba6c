#!/bin/sh
# The check scripts must be able to fail: run each on a copy of a good
# suite output (must pass), then on copies broken in one way each (must
# fail). OUT must hold a failed run with blocks that stayed unexpectedly
# for gup-reference (tests/scenarios/vmsplice-unexpected.ini) and a skipped
# run, as tests/reports/make-fixture.sh's does, and the suite's KCIDB JSON
# as OUT/kcidb.json (--kcidb).
#
#   tests/reports/selftest.sh OUT
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=${1:?usage: selftest.sh OUT}
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
tmp=$(mktemp -d /tmp/vms-selftest.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
failed=0 n=0

# case NAME CHECK MUTATION...: copy, mutate (a Python snippet run in the
# copy with `sub(file, old_regex, new)` available), expect CHECK to fail
# (MUTATION "-": expect it to pass)
case_() {
	name=$1 check=$2 mut=$3
	n=$((n + 1))
	d=$tmp/$n
	rm -rf "$d"
	mkdir -p "$d"
	cp -r "$src"/suite.json "$src"/junit.xml "$src"/results.ktap "$src"/report.html "$src"/kcidb.json "$src"/runs "$d"/
	if [ "$mut" != - ]; then
		(cd "$d" && "$PY" -c '
import re, sys
def sub(f, old, new, count=1):
    t = open(f).read()
    u, k = re.subn(old, new, t, count=count, flags=re.S)
    if not k:
        sys.exit(f"mutation found no {old!r} in {f}")
    open(f, "w").write(u)
'"$mut") || { echo "selftest: $name: the mutation did not apply" >&2; failed=$((failed + 1)); return; }
	fi
	rc=0
	"$here/$check" "$d" >"$d.log" 2>&1 || rc=$?
	if [ "$mut" = - ] && [ $rc != 0 ]; then
		echo "selftest: FAIL: $name: $check failed on the good copy:" >&2
		cat "$d.log" >&2
		failed=$((failed + 1))
	elif [ "$mut" != - ] && [ $rc = 0 ]; then
		echo "selftest: FAIL: $name: $check passed a broken copy" >&2
		failed=$((failed + 1))
	else
		if [ $rc = 0 ]; then why=passed; else why=$(grep -m1 -o 'FAIL: .*' "$d.log" | cut -c1-110); fi
		echo "selftest: ok: $name ($check: $why)"
	fi
}

case_ "json: good" check-json.sh -
case_ "json: summary miscounts" check-json.sh '
sub("suite.json", r"(\"summary\": \{.*?\"fail\": )(\d+)", lambda m: m.group(1) + str(int(m.group(2)) + 1))'
case_ "json: a report without steps" check-json.sh '
import json
s = json.load(open("suite.json"))
next(r for r in s["runs"] if r["report"])["report"].pop("steps")
json.dump(s, open("suite.json", "w"))'
case_ "json: a report.json with an unknown reason" check-json.sh '
import glob
f = [f for f in glob.glob("runs/*/*/report.json") if "\"reason\": \"gup-reference\"" in open(f).read()][0]
sub(f, r"\"reason\": \"gup-reference\"", "\"reason\": \"gremlins\"")'

case_ "junit: good" check-junit.sh -
case_ "junit: not well-formed" check-junit.sh '
sub("junit.xml", r"</testsuites>\s*$", "")'
case_ "junit: a failure element missing" check-junit.sh '
sub("junit.xml", r"<failure .*?</failure>\n", "")'
case_ "junit: the wrong reason named" check-junit.sh '
sub("junit.xml", r"reason gup-reference, not expected", "reason longterm-pin, not expected", count=0)'
case_ "junit: testsuites miscounts" check-junit.sh '
sub("junit.xml", r"(<testsuites [^>]*failures=\")(\d+)", lambda m: m.group(1) + str(int(m.group(2)) + 1))'

case_ "ktap: good" check-ktap.sh -
case_ "ktap: a failure reported ok" check-ktap.sh '
sub("results.ktap", r"not ok (\d+) vmsplice-unexpected", r"ok \1 vmsplice-unexpected")'
case_ "ktap: a test line missing" check-ktap.sh '
sub("results.ktap", r"\n  ok \d+ [^\n]*", "")'
case_ "ktap: a skip without its directive" check-ktap.sh '
sub("results.ktap", r"(\n  ok \d+ [^\n#]*) # SKIP[^\n]*", r"\1")'

case_ "html: good" check-html.sh -
case_ "html: an unexpected stay coloured as expected" check-html.sh '
sub("report.html", r"class=\"c u-gup-reference", "class=\"c e-gup-reference")'
case_ "html: a cell missing" check-html.sh '
sub("report.html", r"<span class=\"c o-went\"[^>]*></span>", "")'
case_ "html: an outcome misnamed" check-html.sh '
q = chr(34)
sub("report.html", r"(<span class=\"c o-went\"[^>]*)data-outcome=\"went\"", r"\1data-outcome=" + q + "kept" + q)'
case_ "html: unexpected stays painted green" check-html.sh '
sub("report.html", r"\.u-gup-reference\{background-color:#[0-9a-f]+\}", ".u-gup-reference{background-color:#22aa22}")'

case_ "kcidb: good" check-kcidb.sh -
case_ "kcidb: not valid against the KCIDB schema (an origin in capitals)" check-kcidb.sh '
sub("kcidb.json", r"\"origin\": \"vmemstress\"", "\"origin\": \"VMemStress\"")'
case_ "kcidb: another schema version" check-kcidb.sh '
sub("kcidb.json", r"\"major\": 5", "\"major\": 4")'
case_ "kcidb: a failure reported as a pass" check-kcidb.sh '
sub("kcidb.json", r"\"status\": \"FAIL\"", "\"status\": \"PASS\"")'
case_ "kcidb: a test missing" check-kcidb.sh '
import json
k = json.load(open("kcidb.json"))
k["tests"].pop()
json.dump(k, open("kcidb.json", "w"))'
case_ "kcidb: a test on a build that is not there" check-kcidb.sh '
import json
k = json.load(open("kcidb.json"))
k["tests"][0]["build_id"] += "-gone"
json.dump(k, open("kcidb.json", "w"))'
case_ "kcidb: a stuck block with the wrong reason" check-kcidb.sh '
sub("kcidb.json", r"(\"stuck_blocks\": \[.*?\"reason\": )\"gup-reference\"", lambda m: m.group(1) + "\"longterm-pin\"")'
case_ "kcidb: stuck blocks miscounted" check-kcidb.sh '
sub("kcidb.json", r"(\"stuck_blocks\": \[.*?\"count\": )(\d+)", lambda m: m.group(1) + str(int(m.group(2)) + 1))'
case_ "kcidb: an output file that does not exist" check-kcidb.sh '
import json
k = json.load(open("kcidb.json"))
f = k["tests"][0]["output_files"][-1]
f["url"] = f["url"].rsplit("/", 1)[0] + "/missing.log"
f["name"] = "missing.log"
json.dump(k, open("kcidb.json", "w"))'
case_ "kcidb: a start time an hour off" check-kcidb.sh '
import json, datetime
k = json.load(open("kcidb.json"))
t = next(t for t in k["tests"] if "start_time" in t)
t["start_time"] = (datetime.datetime.fromisoformat(t["start_time"]) + datetime.timedelta(hours=1)).isoformat()
json.dump(k, open("kcidb.json", "w"))'

echo "selftest: $n cases, $failed wrong"
[ "$failed" = 0 ]
