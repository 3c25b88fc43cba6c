#!/bin/bash
# make bench: how fast a verdict comes and where the time goes. Medians over
# RUNS runs (default 3) on Debian's kernel, printed as one table with the
# machine and accelerator named. Speed is measured here, never asserted in
# tests: the machines are shared, so compare figures within one run.
#
# Besides the medians: every shipped scenario's time to verdict against its
# floor (the same VM and steps with nothing of ours in them; FLOOR_RUNS runs
# each, default 1), the default scenario's time split between the kernel and
# us, a suite (SUITE, default scenarios/ on the bench's kernel;
# SUITE=scenarios/nightly.suite for the nightly matrix, about twice as long)
# at -j 1 and -j 2 with every VM booted and at -j 2 with boot snapshots
# (into an empty directory, then again), --settle patient against the
# default (evidence), and boot snapshots: a cold boot against a restore
# (ONLY=snapshot: that alone).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
runs=${RUNS:-3}
floor_runs=${FLOOR_RUNS:-1}
suite=${SUITE:-scenarios/}
host=$top/build/vmemstress
work=$(mktemp -d /tmp/vmemstress-bench.XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT

# Every VM (a host program, or ./run.sh --suite) runs under timeout in the
# background, so that Ctrl-C or SIGTERM reaches stop_all at once: timeout
# passes SIGTERM on to its process group (each host stops its VM and writes
# its report; QEMU dies with its host in any case), and what is left after
# 30 s is killed, group by group (timeout leads its own).
stop_all() {
	trap '' INT TERM
	echo "bench: interrupted, stopping the runs" >&2
	local p
	p=$(jobs -pr)
	if [ -n "$p" ]; then
		kill -TERM $p 2>/dev/null
		for _ in $(seq 1 60); do
			[ -z "$(jobs -pr)" ] && break
			sleep 0.5
		done
		for p in $(jobs -pr); do kill -KILL -- "-$p" 2>/dev/null; done
	fi
	wait
	exit 130
}
trap stop_all INT TERM

KDIR=$(images/debian-kernel.sh build) || exit 1
INITRD=$(images/build.sh build build/vmemstress-guest "$KDIR") || exit 1

# vm NAME SCENARIO [HOST OPTIONS...]: start one run in the background ($!),
# its JSON in $work/NAME.json; run: the same, waited for
vm() {
	local name=$1 scn=$2
	shift 2
	timeout -k 30 600 "$host" -q --kernel "$KDIR/vmlinuz" --initrd "$INITRD" -o "$work/$name" \
		--json "$work/$name.json" "$@" "$scn" >/dev/null 2>"$work/$name.err" &
}
waited() { wait "$2" || echo "  ($1 ended with status $?)" >&2; }
run() {
	vm "$@"
	waited "$1" $!
}
# median JQ_EXPR NAME...: the median of the expression over the runs' JSON
median() {
	local expr=$1
	shift
	for n in "$@"; do jq -r "$expr" "$work/$n.json" 2>/dev/null; done | grep -E '^-?[0-9.]+$' | sort -g |
		awk '{v[NR]=$1} END {if (NR == 0) print "-"; else if (NR % 2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'
}
calc() { awk "BEGIN { printf \"%s\", $1 }" | sed 's/\.0*$//'; }
# secs MS, ratio A B: figures, or "-" when one is missing
secs() { case "$1" in ''|-|null) echo - ;; *) awk "BEGIN { printf \"%.1f\", $1 / 1000 }" ;; esac; }
ratio() {
	case "$1$2" in *-*|*null*) echo - ; return ;; esac
	[ -n "$1" ] && [ -n "$2" ] && [ "$2" != 0 ] && awk "BEGIN { printf \"x%.2f\", $1 / $2 }" || echo -
}
row() { printf '  %-58s %12s %s\n' "$1" "$2" "${3:-}"; }
progress() { echo "bench: $(date -u +%H:%M:%S) $*" >&2; }

names_of() { for i in $(seq 1 "$runs"); do echo "$1-$i"; done; }
floors_of() { for i in $(seq 1 "$floor_runs"); do echo "floor-$1-$i"; done; }

# Boot snapshots (--snapshot-dir): per round, a cold run into an empty
# snapshot directory (it boots and saves the VM at the guest's hello) and
# then a run restored from it, one after the other so that both see the
# same load; the rounds' medians and the ratio. The findings (verdict,
# steps, stayed blocks with owner, reason and release) of each pair are
# compared. ONLY=snapshot runs this part alone; SNAP_SCENARIOS="a b" (or
# "all", every shipped scenario) adds one cold and one restored run of each.
# (blocks the kernel's own allocations kept, with no owner, vary between
# any two boots: they must all be unmovable-allocation, in both)
snap_findings() {
	jq -c '[.verdict, [.steps[] | {name,
		stayed: [.stayed[]? | select(.owner != null) | {block, owner, reason, released_by}],
		kernel: all(.stayed[]? | select(.owner == null); .reason == "unmovable-allocation")}]]' "$1" 2>/dev/null
}
snapshot_bench() {
	progress "boot snapshots: default scenario cold (saving) then restored, x $runs"
	for i in $(seq 1 "$runs"); do
		rm -rf "$work/snap-$i"
		run snapcold-$i scenarios/default.ini --snapshot-dir "$work/snap-$i"
		run snaprest-$i scenarios/default.ini --snapshot-dir "$work/snap-$i"
	done
	local C R same=0 restored=0 i
	C=$(names_of snapcold)
	R=$(names_of snaprest)
	for i in $(seq 1 "$runs"); do
		[ "$(jq -r .vm.boot.kind "$work/snaprest-$i.json" 2>/dev/null)" = restored ] && restored=$((restored + 1))
		a=$(snap_findings "$work/snapcold-$i.json")
		[ -n "$a" ] && [ "$a" = "$(snap_findings "$work/snaprest-$i.json")" ] && same=$((same + 1))
	done
	local cb rb ct rt
	cb=$(median .timings.boot_ms $C)
	rb=$(median .timings.boot_ms $R)
	ct=$(median '.timings.total_ms - .vm.boot.snapshot.save_ms' $C)
	rt=$(median .timings.total_ms $R)
	row "boot snapshots: default scenario, cold then restored (medians of $runs)" "ms"
	row "  cold: QEMU start to the guest's hello" "$cb"
	row "  restored: key, checks, QEMU -incoming to running" "$rb" "(QEMU's load: $(median .vm.boot.snapshot.restore_ms $R))"
	row "  cold over restored (boot)" "$(ratio "$cb" "$rb")"
	row "  time to verdict, cold (its snapshot's save left out)" "$ct"
	row "  time to verdict, restored" "$rt" "$(ratio "$ct" "$rt") faster"
	row "  saving the snapshot (once per VM, in the cold run)" "$(median .vm.boot.snapshot.save_ms $C)" \
		"($(du -m "$work/snap-1"/*/vm.mig 2>/dev/null | cut -f1) MiB on disk)"
	row "  restored runs that were restored" "$restored of $runs"
	row "  pairs with the same findings (verdict, blocks, reasons)" "$same of $runs"
	echo
	# SNAP_SCENARIOS="a b" or "all": one pair each, findings compared
	local list=${SNAP_SCENARIOS:-}
	[ "$list" = all ] && list=$(ls scenarios/*.ini | sed 's|.*/||; s|\.ini$||')
	[ -z "$list" ] && return 0
	progress "boot snapshots: one cold and one restored run of: $(echo $list)" >&2
	printf '  %-22s %7s %7s %8s %8s %7s  %s\n' "scenario (1 pair)" "cold" "rest." "cold" "rest." "" "findings"
	printf '  %-22s %7s %7s %8s %8s %7s  %s\n' "" "boot s" "boot s" "verdict" "verdict" "" ""
	for sc in $list; do
		rm -rf "$work/snapsc-$sc"
		run snapsc-cold-$sc "scenarios/$sc.ini" --snapshot-dir "$work/snapsc-$sc"
		run snapsc-rest-$sc "scenarios/$sc.ini" --snapshot-dir "$work/snapsc-$sc"
		local a b k
		a=$(snap_findings "$work/snapsc-cold-$sc.json")
		b=$(snap_findings "$work/snapsc-rest-$sc.json")
		k=$(jq -r .vm.boot.kind "$work/snapsc-rest-$sc.json" 2>/dev/null)
		printf '  %-22s %7s %7s %8s %8s %7s  %s\n' "$sc" \
			"$(secs "$(jq -r .timings.boot_ms "$work/snapsc-cold-$sc.json" 2>/dev/null)")" \
			"$(secs "$(jq -r .timings.boot_ms "$work/snapsc-rest-$sc.json" 2>/dev/null)")" \
			"$(jq -r '.verdict // "-"' "$work/snapsc-cold-$sc.json" 2>/dev/null)" \
			"$(jq -r '.verdict // "-"' "$work/snapsc-rest-$sc.json" 2>/dev/null)" "${k:--}" \
			"$([ -n "$a" ] && [ "$a" = "$b" ] && echo same || echo DIFFER)"
	done
	echo
}
if [ "${ONLY:-}" = snapshot ]; then
	snapshot_bench >"$work/snapshot.table"
	echo
	echo "vmemstress bench (ONLY=snapshot), $(date -u +%Y-%m-%d), $(nproc) cores, load average $(cut -d ' ' -f 1-3 /proc/loadavg) at the end"
	echo
	cat "$work/snapshot.table"
	exit 0
fi

progress "default scenario x $runs"
for i in $(seq 1 "$runs"); do run default-$i scenarios/default.ini; done
D=$(names_of default)
snapshot_bench >"$work/snapshot.table"

progress "unplug per population (movable) and attribution, x $runs each"
for s in thp-cow pagecache high-mapcount longterm-pin-movable transient-refs vmsplice-movable; do
	for i in $(seq 1 "$runs"); do run $s-$i scenarios/$s.ini; done
done

progress "region scale: 1, 8 and 64 GiB regions with the same 1 GiB plugged"
for g in 1 8 64; do
	printf '[vm]\nregion-size = %sG\ninitial-size = 1G\n[population anon]\ntype = anon\nsize = 32M\n[population pipe]\ntype = vmsplice\nsize = 8M\n[step all]\nrequested-size = 0\n[expect]\nmay-stay = pipe:gup-reference\n' "$g" >"$work/scale-$g.ini"
	for i in $(seq 1 "$runs"); do run scale-$g-$i "$work/scale-$g.ini"; done
done

progress "parallel: 4 runs one after the other, then 2 at a time"
t0=$(date +%s.%N)
for i in 1 2 3 4; do run seq-$i scenarios/default.ini; done
t1=$(date +%s.%N)
for i in 1 3; do
	vm par-$i scenarios/default.ini
	p1=$!
	vm par-$((i + 1)) scenarios/default.ini
	p2=$!
	waited par-$i $p1
	waited par-$((i + 1)) $p2
done
t2=$(date +%s.%N)

thp_bug=""
bugk=$(ls -d build/kernels/src-*-thp-mapcount-bug-* 2>/dev/null | head -n 1)
if [ -n "$bugk" ]; then
	progress "THP mapcount reproduction on $bugk"
	bi=$(images/build.sh build build/vmemstress-guest "$bugk")
	s=$(date +%s.%N)
	timeout -k 30 600 "$host" -q --kernel "$bugk/vmlinuz" --initrd "$bi" --kernel-config "$bugk/config" \
		--known-bugs known-bugs.ini -o "$work/thpbug" scenarios/thp-mapcount.ini >/dev/null 2>&1 &
	wait $!
	thp_bug=$(calc "$(date +%s.%N) - $s")
fi

# The floor of a scenario: its [vm] and [step] sections as they are, one
# 4 MiB anon population (a scenario needs one) and no judgement of what
# stays. What it takes to boot that VM, plug, and have the kernel unplug
# the same requested sizes with (almost) nothing of ours in the way.
floor_of() {
	awk -v name="$(basename "$1" .ini)" '
		/^[ \t]*\[/ { sec = $0; sub(/^[ \t]*\[/, "", sec); sub(/\].*$/, "", sec)
			keep = sec == "vm" || sec ~ /^step[ \t]/ }
		keep { print }
		END { printf "[scenario]\ndescription = floor of %s: its VM and steps, 4 MiB of anon\n", name
			printf "[population floor]\ntype = anon\nsize = 4M\n[expect]\nunplug = any\n" }' "$1"
}
scns=$(ls scenarios/*.ini | sed 's|.*/||; s|\.ini$||')
nscn=$(echo "$scns" | wc -l)
mkdir -p "$work/floor"
progress "floors: $nscn scenarios' VMs and steps without our work, x $floor_runs each"
for s in $scns; do
	floor_of "scenarios/$s.ini" >"$work/floor/$s.ini"
	if ! "$host" --check "$work/floor/$s.ini" >"$work/floor/$s.check" 2>&1; then
		echo "  (floor of $s does not check: $(tail -n 1 "$work/floor/$s.check"))" >&2
		continue
	fi
	for i in $(seq 1 "$floor_runs"); do run floor-$s-$i "$work/floor/$s.ini"; done
done

# suite J NAME: the suite at -j J through ./run.sh as a user runs it, into
# $work/suite-NAME; its wall time around it (kernel preparation, cached,
# included) in $work/suite-NAME.wall. NAME jJ: every VM booted
# (--no-snapshots: comparable with earlier benches); first: into an empty
# snapshot directory (a first night: each VM shape boots once and is
# saved); again: with that directory (every later night: restored).
suite_run() {
	local s snap=(--no-snapshots)
	case $2 in first|again) snap=(--snapshot-dir "$work/snapshots") ;; esac
	s=$(date +%s.%N)
	timeout -k 60 7200 ./run.sh --no-deps "${snap[@]}" --suite "$suite" -j "$1" -o "$work/suite-$2" \
		>"$work/suite-$2.out" 2>"$work/suite-$2.err" &
	wait $! || echo "  (suite at -j $1 ($2) ended with status $?)" >&2
	calc "$(date +%s.%N) - $s" >"$work/suite-$2.wall"
}
progress "suite $suite at -j 1, every VM booted (its runs are the scenarios' times to verdict below)"
suite_run 1 j1
progress "suite $suite at -j 2, every VM booted"
suite_run 2 j2
progress "suite $suite at -j 2 with boot snapshots: an empty snapshot directory, then again"
rm -rf "$work/snapshots"
suite_run 2 first
suite_run 2 again

settle=""
if "$host" --help 2>&1 | grep -q -- '--settle'; then
	settle=1
	progress "settling: longterm-pin-kernel and secretmem-kernel, --settle evidence and patient"
	for s in longterm-pin-kernel secretmem-kernel; do
		run settle-$s-evidence scenarios/$s.ini
		run settle-$s-patient scenarios/$s.ini --settle patient
	done
fi

accel=$(jq -r '.vm.accel' "$work/default-1.json")
release=$(jq -r '.vm.kernel_release' "$work/default-1.json")
cpu=$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)
echo
echo "vmemstress bench, $(date -u +%Y-%m-%d), $(nproc) cores ($cpu), $(free -g | awk '/^Mem:/ {print $2}') GiB,"
echo "accelerator $accel, kernel $release, medians of $runs runs, load average $(cut -d ' ' -f 1-3 /proc/loadavg) at the end"
echo
row "default scenario (1 GiB region, 96 MiB of pages)" "ms"
row "  boot to ready (host: QEMU start to the guest's hello)" "$(median .timings.boot_ms $D)"
row "    of which the guest kernel's own boot (its uptime)" "$(median .timings.guest_boot_ms $D)"
row "  plug 1 GiB" "$(median .timings.plug_ms $D)"
row "  populate 96 MiB" "$(median .timings.populate_ms $D)"
row "  unplug 1 GiB" "$(median '.steps[0].elapsed_ms' $D)"
row "  time to verdict (total)" "$(median .timings.total_ms $D)"
over=$(median '(.timings.total_ms / (.timings.guest_boot_ms + .steps[0].elapsed_ms) - 1) * 100 | floor' $D)
row "  harness overhead: total over (guest boot + unplug) - 1" "$over %" "(aim: under 10 %)"
row "  host program CPU time" "$(median .timings.host_cpu_ms $D)"
row "  host program peak RSS (KiB)" "$(median .timings.host_max_rss_kb $D)"
row "  guest program peak RSS (KiB, with its 96 MiB of pages)" "$(median '.steps[0].state.guest_rss_kb' $D)"
echo

# Where the default scenario's time goes. Medians of each part over the
# runs; "the rest" is per run what the others leave of the total.
steps='([.steps[].elapsed_ms] | add)'
checks='((.populate.guest_ms // 0) + ([.steps[] | (.state.guest_ms // 0) + (.final_state.guest_ms // 0)] | add))'
F=$(floors_of default)
floor_steps=$(median "$steps" $F)
def_steps=$(median "$steps" $D)
waits=-
[ "$floor_steps" != - ] && [ "$def_steps" != - ] && waits=$(calc "$def_steps - $floor_steps")
row "default scenario: where the time goes (medians)" "ms"
row "  QEMU start, firmware, loading the kernel" "$(median '.timings.boot_ms - .timings.guest_boot_ms' $D)"
row "  guest kernel boot (its uptime at hello)" "$(median .timings.guest_boot_ms $D)"
row "  plug 1 GiB" "$(median .timings.plug_ms $D)"
row "  kernel unplug (the floor's step time)" "$floor_steps"
row "  ours: populate (build and stamp 96 MiB)" "$(median '.timings.populate_ms - (.populate.guest_ms // 0)' $D)"
row "  ours: checks (guest state, attribution, stamps; guest_ms)" "$(median "$checks" $D)"
row "  ours: waits (step time beyond the floor's)" "$waits"
row "  the rest (shutdown, host side of the checks, report)" \
	"$(median ".timings.total_ms - .timings.boot_ms - .timings.plug_ms - .timings.populate_ms - $steps - $checks + (.populate.guest_ms // 0)" $D)"
row "  time to verdict (total)" "$(median .timings.total_ms $D)"
echo

# Per scenario: the time to verdict of its run in the -j 1 suite (when the
# suite ran it on this kernel) against its floor: boot + plug + steps.
sj=$work/suite-j1/suite.json
# $1 suite.json, $2 scenario, $3 jq of the run: its value on this kernel
of_run() {
	jq -r --arg n "$2" --arg r "$release" \
		"[.runs[] | select(.scenario.name == \$n and .kernel.release == \$r)][0] | $3 // \"-\"" "$1" 2>/dev/null
}
printf '  %-22s %8s %-8s %9s %8s %8s %9s\n' "scenario (1 run)" "verdict" "" "floor" "unplug" "ratio" "restored"
printf '  %-22s %8s %-8s %9s %8s %8s %9s\n' "" "s" "" "s" "s" "v/floor" "s"
: >"$work/booted.times"
: >"$work/restored.times"
for s in $scns; do
	v=$(of_run "$sj" "$s" .report.timings.total_ms)
	verdict=$(of_run "$sj" "$s" .verdict)
	rv=$(of_run "$work/suite-again/suite.json" "$s" .report.timings.total_ms)
	fl=$(median ".timings.boot_ms + .timings.plug_ms + $steps" $(floors_of "$s"))
	fs=$(median "$steps" $(floors_of "$s"))
	printf '  %-22s %8s %-8s %9s %8s %8s %9s\n' "$s" "$(secs "${v:--}")" "${verdict:--}" "$(secs "$fl")" "$(secs "$fs")" \
		"$(ratio "${v:--}" "$fl")" "$(secs "${rv:--}")"
	echo "$s ${v:--}" >>"$work/booted.times"
	echo "$s ${rv:--}" >>"$work/restored.times"
done
# $1: lines "scenario ms" ("-" when not run): "at-or-over-20-s counted slowest its-ms"
over20() {
	awk '$2 ~ /^[0-9]+$/ { n++; if ($2 >= 20000) o++; if ($2 > m) { m = $2; s = $1 } }
		END { printf "%d %d %s %d\n", o, n, s == "" ? "-" : s, m }' "$1"
}
read -r over20 counted slow slow_ms < <(over20 "$work/booted.times")
read -r rover20 rcounted rslow rslow_ms < <(over20 "$work/restored.times")
echo "  (verdict: the scenario's run in the -j 1 suite below, its VM booted; floor: boot + plug + the"
echo "   steps of the same [vm] and [step]s with 4 MiB of anon and nothing judged; unplug: the floor's"
echo "   step time; restored: its run in the second -j 2 suite with boot snapshots, its VM restored)"
echo

sdesc=$suite
[ -d "$suite" ] && sdesc="$suite (a directory: every scenario on $release only)"
nruns=$(jq -r '.summary.runs // "-"' "$sj" 2>/dev/null)
row "suite $sdesc" ""
elapsed() { jq -r '.suite.elapsed_ms // "-"' "$work/suite-$1/suite.json" 2>/dev/null; }
for n in j1 j2 first again; do
	case $n in
	j1) what="-j 1, booted" ;;
	j2) what="-j 2, booted" ;;
	first) what="-j 2, snapshots: first" ;;
	again) what="-j 2, snapshots: again" ;;
	esac
	row "  $what: runs / wall with ./run.sh (s)" \
		"$(secs "$(elapsed $n)") / $(printf '%.1f' "$(cat "$work/suite-$n.wall")")" \
		"$(jq -r '"\(.summary.runs) runs: \(.summary.pass) pass, \(.summary.fail) fail, \(.summary.error) error, \(.summary.skip) skip"' "$work/suite-$n/suite.json" 2>/dev/null)"
done
row "  -j 1 over -j 2, booted (runs)" "$(ratio "$(elapsed j1)" "$(elapsed j2)")"
row "  booted over restored, -j 2 (runs)" "$(ratio "$(elapsed j2)" "$(elapsed again)")"
echo

cat "$work/snapshot.table"

if [ -n "$settle" ]; then
	row "settling: time to verdict, --settle patient over evidence" "s" "(1 run each)"
	for s in longterm-pin-kernel secretmem-kernel; do
		e=$(median .timings.total_ms settle-$s-evidence)
		p=$(median .timings.total_ms settle-$s-patient)
		row "  $s: patient / evidence" "$(secs "$p") / $(secs "$e")" "$(ratio "$p" "$e")"
	done
else
	row "settling: --settle patient over evidence" "not measured" "(this build has no --settle)"
fi
echo

seq_s=$(calc "$t1 - $t0")
par_s=$(calc "$t2 - $t1")
row "parallel: default scenario, scenarios per hour" "$(calc "int(4 * 3600 / $seq_s)") -j1" "$(calc "int(4 * 3600 / $par_s)") -j2 (throughput x$(calc "int(100 * $seq_s / $par_s) / 100"))"
row "targets (TCG): one verdict under 20 s" "$(median '.timings.total_ms / 1000' $D) s"
row "              shipped scenarios at 20 s or more, booted" "$over20 of $counted" "(slowest: $slow, $(secs "$slow_ms") s)"
row "              shipped scenarios at 20 s or more, restored" "$rover20 of $rcounted" "(slowest: $rslow, $(secs "$rslow_ms") s)"
row "              suite at -j 2 under 3 min, restored (wall)" "$(printf '%.1f' "$(cat "$work/suite-again.wall")") s" "(${nruns} runs)"
row "              suite at -j 2 under 3 min, first night (wall)" "$(printf '%.1f' "$(cat "$work/suite-first.wall")") s" "(${nruns} runs)"
if [ -n "$thp_bug" ]; then
	row "              THP mapcount reproduction under 30 s" "$(printf '%.1f' "$thp_bug") s"
else
	row "              THP mapcount reproduction under 30 s" "not measured" "(bug kernel not cached: make check-thp-bug)"
fi
