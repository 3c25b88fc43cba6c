# Helpers of the shell test runners (tests/integration/run.sh,
# tests/hostile/run.sh), sourced. They write KTAP (the kernel's test
# format, as kselftest does: Documentation/dev-tools/ktap.rst) so CI
# systems that read kernel test results read ours:
#
#   ktap_start NAME FILE...   the header and the plan: one test per
#                             top-level `begin` line in the FILEs
#   begin DESCRIPTION         a test; then checks, then end
#   check DESCRIPTION CMD...  CMD must succeed (its output becomes "# " lines)
#   skip REASON               the test cannot be shown here: "# SKIP REASON"
#   note TEXT                 a diagnostic line
#   end                       "ok N DESCRIPTION" or "not ok N DESCRIPTION"
#                             with what failed and, when $out names a run,
#                             the tail of its report
#   ktap_finish NAME          totals; the status: 0 when nothing failed
#
# Everything else a test prints must go through note, or KTAP readers see
# garbage. $out, when a test sets it, names the run shown on failure.

passed=0 failed=0 skipped=0 current="" problems="" skip_reason="" out="" ktap_n=0 ktap_plan=0
ktap_check_out=$(mktemp /tmp/vms-ktap.XXXXXX)
note() { printf '%s\n' "$*" | sed 's/^/# /'; }
ktap_start() {  # ktap_start NAME FILE...: every test is a `begin` at the start of a line
	local name=$1
	shift
	ktap_plan=$(cat "$@" | grep -c '^begin ')
	echo "KTAP version 1"
	echo "# $name"
	echo "1..$ktap_plan"
}
check() {  # check DESCRIPTION COMMAND...: COMMAND must succeed
	# run in this shell (a check may set variables), output kept in order
	if ! "${@:2}" >"$ktap_check_out" 2>&1; then
		problems="$problems
    - $1"
	fi
	[ -s "$ktap_check_out" ] && sed 's/^/# /' "$ktap_check_out"
	: >"$ktap_check_out"
}
skip() { skip_reason=$*; }
begin() { current=$1; problems=""; skip_reason=""; note "--- $current"; }
end() {
	ktap_n=$((ktap_n + 1))
	if [ -n "$problems" ]; then
		failed=$((failed + 1)); echo "not ok $ktap_n $current"
		note "FAIL:$problems"
		# show why, so a CI log alone explains the failure
		if [ -n "${out:-}" ] && [ -f "$out.stdout" ]; then
			note "    last lines of the report ($out.stdout):"
			tail -n 15 "$out.stdout" | sed 's/^/#       | /'
		fi
		[ -n "${out:-}" ] && [ -f "$out.stderr" ] && tail -n 5 "$out.stderr" | sed 's/^/#       ! /'
	elif [ -n "$skip_reason" ]; then
		skipped=$((skipped + 1)); echo "ok $ktap_n $current # SKIP $skip_reason"
	else
		passed=$((passed + 1)); echo "ok $ktap_n $current"
	fi
	out=""
}
ktap_finish() {  # ktap_finish NAME: the totals; fails when a test failed or the plan was not kept
	rm -f "$ktap_check_out"
	if [ "$ktap_n" != "$ktap_plan" ]; then
		note "the plan said $ktap_plan tests, $ktap_n ran"
		failed=$((failed + 1))
	fi
	echo "# Totals: pass:$passed fail:$failed xfail:0 xpass:0 skip:$skipped error:0"
	echo "# $1: $passed passed, $failed failed, $skipped skipped"
	[ "$failed" = 0 ]
}
# jq expression must be true for the file
jqt() { jq -e "$2" "$1" >/dev/null 2>&1; }
contains() { grep -qF -- "$2" "$1"; }
