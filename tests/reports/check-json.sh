#!/bin/sh
# Check OUT/suite.json and every OUT/runs/*/*/report.json against the JSON
# Schemas in docs/schema/ with jsonschema (Debian's python3-jsonschema),
# then cross-check the suite's numbers with jq.
#
#   tests/reports/check-json.sh OUT
#
# Asserts: suite.json is valid vmemstress-suite/1 (with each run's report
# valid vmemstress-report/1 where it is not null), each report.json file
# is valid vmemstress-report/1; run ids unique; summary.runs/pass/fail/
# error/skip count the runs' verdicts, new_failures/fixed/known_failures
# the runs' lists; every run's directory exists and its report.json, when
# the run has a report, has the run's verdict and scenario; without a
# baseline no run has a change or baseline lists; with one, new and known
# failures are among the run's failures; without a baseline the suite's
# verdict is the worst of its runs (fail, error, pass; skip when all
# skipped; README.md "Exit status") and its exit status that verdict's.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
schemas=$top/docs/schema
out=${1:?usage: check-json.sh OUT}
fail() { echo "check-json: FAIL: $*" >&2; exit 1; }
[ -s "$out/suite.json" ] || fail "$out/suite.json is missing or empty"
# Debian's jsonschema, not one a Python environment may put first on PATH
JS=/usr/bin/jsonschema
[ -x "$JS" ] || JS=$(command -v jsonschema || true)
[ -n "$JS" ] || fail "jsonschema is not installed (Debian: python3-jsonschema)"
jq -e . "$out/suite.json" >/dev/null 2>&1 || fail "$out/suite.json is not JSON"

errors=0
bad() { echo "check-json: FAIL: $*" >&2; errors=$((errors + 1)); }
# validate INSTANCE SCHEMA: the CLI prints one line per error; exit status
# non-zero when invalid (the CLI's deprecation warning filtered out)
validate() {
	if ! "$JS" --base-uri "file://$schemas/" -i "$1" "$schemas/$2" >"$tmp/js.out" 2>&1; then
		grep -v -i 'deprecat\|from jsonschema.cli import' "$tmp/js.out" | cut -c1-400 | head -20 >&2
		bad "$1 is not valid against $2"
	fi
}
tmp=$(mktemp -d /tmp/vms-check-json.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

validate "$out/suite.json" vmemstress-suite-1.schema.json
nreports=0
for r in "$out"/runs/*/*/report.json; do
	[ -f "$r" ] || continue
	nreports=$((nreports + 1))
	validate "$r" vmemstress-report-1.schema.json
done

# the numbers, with jq: one line per problem
jq -r '
def count(v): [.runs[] | select(.verdict == v)] | length;
# README.md, "Exit status": a failure first, then a run that could not
# finish, then all skipped
def worst: [.runs[].verdict] as $v |
	if ($v | index("fail")) then "fail" elif ($v | index("error")) then "error"
	elif ($v | length) > 0 and all($v[]; . == "skip") then "skip" else "pass" end;
{"pass": 0, "fail": 1, "error": 2, "skip": 4} as $status |
(.runs | length) as $n |
(if .summary.runs != $n then "summary.runs is \(.summary.runs), there are \($n) runs" else empty end),
(["pass", "fail", "error", "skip"][] as $v | count($v) as $c |
	if .summary[$v] != $c then "summary.\($v) is \(.summary[$v]), \($c) runs have verdict \($v)" else empty end),
(["new_failures", "fixed_failures", "known_failures"][] as $k |
	({"new_failures": "new_failures", "fixed_failures": "fixed", "known_failures": "known_failures"}[$k]) as $s |
	([.runs[][$k] | length] | add // 0) as $c |
	if .summary[$s] != $c then "summary.\($s) is \(.summary[$s]), the runs list \($c) \($k)" else empty end),
([.runs[].id] | group_by(.) | map(select(length > 1) | .[0]) | .[] | "run id \(.) is not unique"),
(.runs[] | select(.report != null and .report.verdict != .verdict) |
	"run \(.id): verdict \(.verdict), its report says \(.report.verdict)"),
(.runs[] | select(.verdict == "fail" and (.failures | length) == 0) | "run \(.id) failed without a failure signature"),
(if .baseline == null then
	(.runs[] | select(.change != null or (.new_failures + .fixed_failures + .known_failures | length) > 0) |
		"run \(.id): a baseline change without a baseline"),
	(worst as $w | if .verdict != $w and (.suite.interrupted != true) then "suite verdict \(.verdict), its runs make it \($w)" else empty end),
	(if .summary.regressions != null and .summary.regressions != .summary.fail then
		"summary.regressions is \(.summary.regressions) without a baseline, \(.summary.fail) runs failed" else empty end)
 else
	(.runs[] | . as $r | (.new_failures + .known_failures)[] | select(. as $f | $r.failures | index($f) | not) |
		"run \($r.id): \(.) is listed against the baseline but not among its failures"),
	(.runs[] | select(.change == null) | "run \(.id): no change against the baseline")
 end),
(if (.verdict == "error" and (.exit_status == 2 or .exit_status == 3)) or .exit_status == $status[.verdict] then empty
	else "suite exit status \(.exit_status) for verdict \(.verdict)" end)
' "$out/suite.json" >"$tmp/problems" 2>"$tmp/jq.err" || bad "jq could not read suite.json: $(cat "$tmp/jq.err")"
while IFS= read -r line; do bad "$line"; done <"$tmp/problems"

# each run's directory and report file
jq -r '.runs[] | [.id, .dir, (.report != null), .verdict, (.scenario.name)] | @tsv' "$out/suite.json" >"$tmp/runs.tsv"
while IFS="$(printf '\t')" read -r id dir has verdict scn; do
	[ -d "$out/$dir" ] || { bad "run $id: no directory $out/$dir"; continue; }
	[ "$has" = true ] || continue
	f=$out/$dir/report.json
	[ -f "$f" ] || { bad "run $id: has a report but $f is missing"; continue; }
	got=$(jq -r '[.verdict, .scenario.name] | @tsv' "$f")
	[ "$got" = "$(printf '%s\t%s' "$verdict" "$scn")" ] ||
		bad "run $id: $f says $(echo "$got" | tr '\t' ' '), suite.json $verdict $scn"
done <"$tmp/runs.tsv"

[ "$errors" = 0 ] || fail "$errors problems in $out"
echo "check-json: ok: suite.json and $nreports report.json files valid, counts consistent"
