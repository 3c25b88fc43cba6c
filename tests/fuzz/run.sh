#!/bin/sh
# make fuzz: run each libFuzzer harness for SECONDS (default 60) from the
# seed corpus in tests/fuzz/corpus/NAME (copied to build/fuzz: what the
# fuzzer finds stays out of the tree). A crash, leak or sanitizer report
# fails; the executions per harness are printed.
set -u
secs=${1:-60}
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
passed=0 failed=0
for pair in scenario:fuzz-scenario guest:fuzz-guest-message suite-report:fuzz-suite-report; do
	corpus=${pair%%:*}
	bin=build/fuzz/${pair#*:}
	work=build/fuzz/corpus-$corpus
	mkdir -p "$work" build/fuzz/artifacts
	cp -n tests/fuzz/corpus/"$corpus"/* "$work"/ 2>/dev/null
	log=build/fuzz/${pair#*:}.log
	if "$bin" -max_total_time="$secs" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix=build/fuzz/artifacts/ "$work" >"$log" 2>&1; then
		passed=$((passed + 1))
		echo "ok   ${pair#*:}: $(sed -n 's/^stat::number_of_executed_units: *//p' "$log") executions in ${secs} s, corpus $(ls "$work" | wc -l) inputs"
	else
		failed=$((failed + 1))
		echo "FAIL ${pair#*:}: see $log"
		grep -E "ERROR|SUMMARY|Test unit written" "$log" | head -5 | sed 's/^/      | /'
	fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" = 0 ]
