# Suite tests, sourced by tests/integration/run.sh (its helpers, $host,
# $KDIR, $INITRD, $work). Real VMs: a passing and a failing scenario on
# Debian's kernel, two VMs at once; every output format is checked with a
# real parser (tests/reports/check-*.sh); baselines; Ctrl-C.

suite_dir=$work/suite-scenarios
mkdir -p "$suite_dir"
cp scenarios/default.ini tests/scenarios/vmsplice-unexpected.ini "$suite_dir/"

run_suite() {  # run_suite OUTDIR [options...]: status in $rc
	local out=$1
	shift
	timeout 900 "$host" --suite "$suite_dir" --suite-kernel "deb:$KDIR:$INITRD" --known-bugs known-bugs.ini \
		-o "$out" "$@" >"$out.stdout" 2>"$out.stderr"
	rc=$?
}
# no QEMU of any run under OUT is left
no_qemu_left_under() { ! pgrep -f -- "$1/runs/" >/dev/null; }

begin "suite: two scenarios, -j 2, two VMs at once, every format in one directory"
out=$work/suite1
run_suite "$out" -j 2 --kcidb "$work/suite1/kcidb.json"
s=$out/suite.json
check "exit status 1: a failure and no baseline (got $rc)" test "$rc" = 1
check "suite verdict fail, 2 runs: 1 pass, 1 fail" jqt "$s" '.verdict == "fail" and .exit_status == 1 and .summary.runs == 2 and .summary.pass == 1 and .summary.fail == 1'
check "both reports complete" jqt "$s" 'all(.runs[]; .report.run.status == "complete")'
check "default passed" jqt "$s" '.runs[] | select(.id == "deb/default") | .verdict == "pass" and .report.steps[0].reached'
check "vmsplice-unexpected failed on its pipe's blocks" jqt "$s" '.runs[] | select(.id == "deb/vmsplice-unexpected") | .verdict == "fail" and (.failures | index("step unplug-all: vmsplice stayed: gup-reference") != null)'
check "the two VMs ran at the same time" jqt "$s" '[.runs[] | {a: .started_ms, b: (.started_ms + .elapsed_ms)}] | .[0].a < .[1].b and .[1].a < .[0].b'
check "each run keeps its artifacts" test -s "$out/runs/deb/default/console.log" -a -s "$out/runs/deb/default/qmp.log" \
	-a -s "$out/runs/deb/default/guest.log" -a -s "$out/runs/deb/default/run.log" -a -s "$out/runs/deb/vmsplice-unexpected/report.json"
check "all formats written" test -s "$out/suite.json" -a -s "$out/junit.xml" -a -s "$out/results.ktap" -a -s "$out/report.html" -a -s "$out/report.txt"
check "text summary printed" contains "$out.stdout" "Verdict: FAIL (exit 1)"
check "JSON valid against its schema" tests/reports/check-json.sh "$out"
check "JUnit XML parses and matches" tests/reports/check-junit.sh "$out"
check "KTAP parses with the kernel's parser and matches" tests/reports/check-ktap.sh "$out"
check "HTML renders in Chromium: one cell per block, failure colours" tests/reports/check-html.sh "$out" deb/vmsplice-unexpected
check "KCIDB JSON valid against the kcidb-io schema and matches" tests/reports/check-kcidb.sh "$out"
check "KCIDB: the pipe's 16 blocks in misc, gup-reference, not expected" jqt "$out/kcidb.json" \
	'.tests[] | select(.misc.run == "deb/vmsplice-unexpected") | .status == "FAIL" and .misc.reasons == ["gup-reference"] and ([.misc.stuck_blocks[] | select(.owner == "vmsplice" and .reason == "gup-reference" and .expected == false) | .count] | add) == 16'
check "no QEMU left" no_qemu_left_under "$out"
end

begin "suite: a baseline turns known failures into a pass, and names new and fixed ones"
out=$work/suite2
run_suite "$out" -j 2 --baseline "$work/suite1/suite.json"
s=$out/suite.json
check "exit status 0: the same failure as the baseline (got $rc)" test "$rc" = 0
check "its failure is known, nothing new" jqt "$s" '.verdict == "pass" and .summary.new_failures == 0 and .summary.known_failures >= 1 and (.runs[] | select(.id == "deb/vmsplice-unexpected") | .change == "known-failure")'
# One new and one fixed: a baseline where the pipe's failure was not there
# (passed) and default had a failure that is gone now.
jq '(.runs[] | select(.id == "deb/vmsplice-unexpected")) |= (.verdict = "pass" | .failures = [])
  | (.runs[] | select(.id == "deb/default")) |= (.verdict = "fail" | .failures = ["step unplug-all: anon stayed: gup-reference"])' \
	"$work/suite1/suite.json" >"$work/edited-baseline.json"
out=$work/suite3
run_suite "$out" -j 2 --baseline "$work/edited-baseline.json"
s=$out/suite.json
check "exit status 1: a new failure (got $rc)" test "$rc" = 1
check "the pipe's failure is new" jqt "$s" '.runs[] | select(.id == "deb/vmsplice-unexpected") | .change == "new-failure" and (.new_failures | length) >= 1'
check "default's failure is fixed" jqt "$s" '.runs[] | select(.id == "deb/default") | .change == "fixed" and .fixed_failures == ["step unplug-all: anon stayed: gup-reference"]'
check "summary counts them" jqt "$s" '.summary.new_failures >= 1 and .summary.fixed == 1 and .summary.regressions == 1'
check "JUnit and KTAP still check" tests/reports/check-junit.sh "$out"
check "text names new and fixed" contains "$out.stdout" "[fixed]"
check "no QEMU left" no_qemu_left_under "$out"
end

begin "suite: Ctrl-C stops every VM and still writes every format"
out=$work/suite4
"$host" --suite "$suite_dir" --suite-kernel "deb:$KDIR:$INITRD" -j 2 -o "$out" --kcidb "$work/suite4-kcidb.json" \
	>"$out.stdout" 2>"$out.stderr" &
pid=$!
for _ in $(seq 1 1200); do
	kill -0 "$pid" 2>/dev/null || break
	[ "$(grep -c 'guest up' "$out"/runs/deb/*/run.log 2>/dev/null | awk -F: '{s += $2} END {print s + 0}')" -ge 2 ] && break
	sleep 0.1
done
kill -INT "$pid"
wait_host 120
s=$out/suite.json
check "exit status 2 (got $rc)" test "$rc" = 2
check "stopped within 90 s (took $waited s)" test "$waited" -le 90
check "suite marked interrupted, runs are errors" jqt "$s" '.suite.interrupted and .verdict == "error" and all(.runs[]; .verdict == "error")'
check "every run wrote its report" test -s "$out/runs/deb/default/report.json" -a -s "$out/runs/deb/vmsplice-unexpected/report.json"
check "all formats written" test -s "$out/junit.xml" -a -s "$out/results.ktap" -a -s "$out/report.html"
check "KCIDB written, valid, every test ERROR" sh -c 'tests/reports/check-kcidb.sh "$1" "$2" && jq -e "all(.tests[]; .status == \"ERROR\")" "$2" >/dev/null' - "$out" "$work/suite4-kcidb.json"
check "no QEMU left" no_qemu_left_under "$out"
end

begin "suite: a skipped run is SKIP in every format, and every report checker fails on broken copies"
skip_dir=$work/suite-skip-scenarios
mkdir -p "$skip_dir"
cp tests/scenarios/thp-never.ini tests/scenarios/vmsplice-unexpected.ini "$skip_dir/"
out=$work/suite-skip
timeout 300 "$host" --suite "$skip_dir" --suite-kernel "deb:$KDIR:$INITRD" --known-bugs known-bugs.ini -j 2 \
	-o "$out" --kcidb "$out/kcidb.json" >"$out.stdout" 2>"$out.stderr"
rc=$?
s=$out/suite.json
check "exit status 1: the failing run decides (got $rc)" test "$rc" = 1
check "thp-never is skip, its case listed as not shown" jqt "$s" \
	'.runs[] | select(.id == "deb/thp-never") | .verdict == "skip" and .report.not_shown == ["population thp (thp-cow): the kernel gave base pages, no THPs"]'
check "KTAP: ok ... # SKIP" grep -q "^ *ok [0-9]* thp-never # SKIP" "$out/results.ktap"
check "JUnit: <skipped>" grep -q "<skipped" "$out/junit.xml"
check "JSON passes its schema" tests/reports/check-json.sh "$out"
check "JUnit parses and matches" tests/reports/check-junit.sh "$out"
check "KTAP parses with the kernel's parser" tests/reports/check-ktap.sh "$out"
check "KCIDB: thp-never is SKIP, valid and matching" sh -c 'tests/reports/check-kcidb.sh "$1" && jq -e ".tests[] | select(.misc.run == \"deb/thp-never\") | .status == \"SKIP\"" "$1/kcidb.json" >/dev/null' - "$out"
# the checks of the checkers: on this output (a failed run with unexpected
# gup-reference stays and a skipped run), each checker passes the good copy
# and fails every broken one
check "tests/reports/selftest.sh: every checker fails on its broken copies" tests/reports/selftest.sh "$out"
check "no QEMU left" no_qemu_left_under "$out"
end

begin "suite: ./run.sh prepares a suite file's kernels and runs it"
out=$work/suite-run-sh
timeout 600 ./run.sh --no-deps --suite tests/suites/run-sh.suite -o "$out" --kcidb "$out.kcidb.json" >"$out.stdout" 2>"$out.stderr"
rc=$?
s=$out/suite.json
check "exit status 0 (got $rc)" test "$rc" = 0
check "the kernel named by its section, Debian's 6.1" jqt "$s" '.runs[0].id == "debian-6.1/default" and (.runs[0].kernel.release | test("^6\\.1\\..*cloud-amd64$")) and .runs[0].verdict == "pass"'
check "said which kernel it prepared" contains "$out.stderr" "kernel 1 of 1: debian-6.1 (--debian-kernel linux-image-cloud-amd64)"
check "--kcidb passed through: valid, one PASS test" sh -c 'tests/reports/check-kcidb.sh "$1" "$1.kcidb.json" && jq -e "[.tests[].status] == [\"PASS\"]" "$1.kcidb.json" >/dev/null' - "$out"
check "no QEMU left" no_qemu_left_under "$out"
end

begin "suite: bad input is named before any VM starts"
out=$work/suite5
printf '[suite]\nscenarios = default.ini\nscenarios = nope.ini\n' >"$work/bad.suite"
cp scenarios/default.ini "$work/"
timeout 60 "$host" --suite "$work/bad.suite" --suite-kernel "deb:$KDIR:$INITRD" -o "$out" >"$out.stdout" 2>"$out.stderr"
rc=$?
check "exit status 3 (got $rc)" test "$rc" = 3
check "names file, line and value" contains "$out.stderr" "bad.suite:3: scenarios: $work/nope.ini: no such scenario file"
check "no run started" test ! -e "$out/runs"
timeout 60 "$host" --suite "$suite_dir" --suite-kernel "deb:$KDIR:$INITRD" --baseline "$work/bad.suite" -o "$out" >"$out.stdout" 2>"$out.stderr"
rc=$?
check "a baseline that is not a suite result: exit 3 (got $rc)" test "$rc" = 3
check "says so" contains "$out.stderr" "not JSON"
timeout 60 "$host" --kcidb "$work/k.json" --kernel "$KERNEL" --initrd "$INITRD" scenarios/default.ini >"$out.stdout" 2>"$out.stderr"
rc=$?
check "--kcidb without --suite: exit 3 (got $rc)" test "$rc" = 3
check "says it goes with --suite" contains "$out.stderr" "--kcidb go with --suite"
check "no KCIDB file written" test ! -e "$work/k.json"
end
