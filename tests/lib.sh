# Helpers of the shell test runners (tests/integration/run.sh,
# tests/hostile/run.sh), sourced: a test is begin, checks, end; each prints
# "ok" or "FAIL" with what failed, and the runner's last line is
# "N passed, N failed". $out, when a test sets it, names the run whose
# report and progress are shown on failure.

passed=0 failed=0 current="" problems="" out=""
check() {  # check DESCRIPTION COMMAND...: COMMAND must succeed
	if ! "${@:2}"; then
		problems="$problems
    - $1"
	fi
}
begin() { current=$1; problems=""; echo "--- $current"; }
end() {
	if [ -z "$problems" ]; then
		passed=$((passed + 1)); echo "ok   $current"
	else
		failed=$((failed + 1)); echo "FAIL $current:$problems"
		# show why, so a CI log alone explains the failure
		if [ -n "${out:-}" ] && [ -f "$out.stdout" ]; then
			echo "    last lines of the report ($out.stdout):"
			tail -n 15 "$out.stdout" | sed 's/^/      | /'
		fi
		[ -n "${out:-}" ] && [ -f "$out.stderr" ] && tail -n 5 "$out.stderr" | sed 's/^/      ! /'
	fi
	out=""
}
# jq expression must be true for the file
jqt() { jq -e "$2" "$1" >/dev/null 2>&1; }
contains() { grep -qF -- "$2" "$1"; }
