#!/bin/sh
# Print a suite result (schema vmemstress-suite/1) for the runs already under
# OUT/runs/KERNEL/SCENARIO/ (report.json, and exit_status when the fixture
# wrote one), compared with an optional baseline suite.json. A dev tool for
# the renderers and check scripts; the suite runner (host/suite/suite.c) writes the
# real one.
#
#   tests/reports/assemble-suite.sh OUT [BASELINE_SUITE_JSON] > OUT/suite.json
set -eu
out=${1:?usage: assemble-suite.sh OUT [BASELINE]}
base=${2:-}

# one JSON object per run, from its directory
runs_json() {
	for d in "$out"/runs/*/*/; do
		d=${d%/}
		[ -d "$d" ] || continue
		rel=${d#"$out"/}
		kernel=$(basename "$(dirname "$d")")
		scn=$(basename "$d")
		st=$(cat "$d/exit_status" 2>/dev/null || echo 2)
		if [ -s "$d/report.json" ] && jq -e . "$d/report.json" >/dev/null 2>&1; then
			jq -c --arg id "$kernel/$scn" --arg k "$kernel" --arg s "$scn" --arg dir "$rel" --argjson st "$st" '
			. as $r |
			# stable signatures: owner, reason and known bug of unexpected stays,
			# other findings with numbers blanked
			([.steps[]? | .name as $step | .stayed[]? | select(.expected == false) |
			  "step \($step): \(.owner // "unowned"):\(.reason) unexpected" +
			  (if .known_bug then " (known bug \(.known_bug.name))" else "" end)] | unique) as $stays |
			([.findings[]? | select(test("stayed") | not) | gsub("0x[0-9a-f]+"; "ADDR") | gsub("[0-9]+"; "N")] | unique) as $other |
			{id: $id,
			 kernel: {name: $k, release: ($r.vm.kernel_release // ""), image: ($r.vm.kernel // "")},
			 scenario: {name: $s, path: ($r.scenario.path // "")},
			 dir: $dir, verdict: $r.verdict, exit_status: $r.exit_status,
			 elapsed_ms: ($r.timings.total_ms // 0),
			 failures: (if $r.verdict == "fail" then $stays + $other else [] end),
			 error: (if $r.verdict == "error" then ($r.run.error // "run did not finish") else null end),
			 report: $r}' "$d/report.json"
		else
			jq -nc --arg id "$kernel/$scn" --arg k "$kernel" --arg s "$scn" --arg dir "$rel" --argjson st "$st" '
			{id: $id, kernel: {name: $k, release: "", image: ""}, scenario: {name: $s, path: ""},
			 dir: $dir, verdict: (if $st == 4 then "skip" else "error" end), exit_status: $st, elapsed_ms: 0,
			 failures: [], error: "no report.json", report: null}'
		fi
	done
}

# the baseline as a file (a whole suite is too long for an argument)
basefile=$base
if [ -z "$base" ]; then
	basefile=$(mktemp /tmp/vms-nobase.XXXXXX)
	echo null >"$basefile"
	trap 'rm -f "$basefile"' EXIT
fi
runs_json | jq -s --slurpfile b "$basefile" --arg basepath "$base" --arg host "$(hostname)" \
	--arg started "$(date -u +%Y-%m-%dT%H:%M:%SZ)" '
$b[0] as $base |
def worst: if any(.[]; . == "fail") then "fail" elif any(.[]; . == "error") then "error"
	elif length > 0 and all(.[]; . == "skip") then "skip" else "pass" end;
def status($v): {"pass": 0, "fail": 1, "error": 2, "skip": 4}[$v];
(if $base == null then {} else ($base.runs | map({key: .id, value: .}) | from_entries) end) as $old |
[.[] | . as $r | ($old[$r.id]) as $o |
 if $base == null then . + {change: null, new_failures: [], fixed_failures: [], known_failures: []}
 elif $o == null then . + {change: "new-run", new_failures: $r.failures, fixed_failures: [], known_failures: []}
 else
   ($r.failures - $o.failures) as $new | ($o.failures - $r.failures) as $fixed |
   ($r.failures - $new) as $known |
   . + {new_failures: $new, fixed_failures: $fixed, known_failures: $known,
	change: (if ($new | length) > 0 then "new-failure" elif ($fixed | length) > 0 then "fixed"
		 elif ($known | length) > 0 then "known-failure" else "unchanged" end)}
 end] as $runs |
($runs | map(.verdict) | worst) as $v |
{schema: "vmemstress-suite/1",
 suite: {name: "fixture", path: "tests/reports/make-fixture.sh", started: $started,
	 elapsed_ms: ($runs | map(.elapsed_ms) | add // 0), jobs: 1, host: $host},
 verdict: $v, exit_status: status($v),
 baseline: (if $base == null then null else {path: $basepath, started: $base.suite.started} end),
 summary: {runs: ($runs | length),
	   pass: ($runs | map(select(.verdict == "pass")) | length),
	   fail: ($runs | map(select(.verdict == "fail")) | length),
	   error: ($runs | map(select(.verdict == "error")) | length),
	   skip: ($runs | map(select(.verdict == "skip")) | length),
	   regressions: ($runs | map(select(.verdict == "fail" and ($base == null or (.new_failures | length) > 0 or .change == "new-run"))) | length),
	   new_failures: ($runs | map(.new_failures | length) | add // 0),
	   fixed: ($runs | map(.fixed_failures | length) | add // 0),
	   known_failures: ($runs | map(.known_failures | length) | add // 0)},
 runs: $runs}'
