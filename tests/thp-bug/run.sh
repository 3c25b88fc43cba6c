#!/bin/bash
# make check-thp-bug: build (or reuse from build/kernels) a kernel from
# Debian's linux-source-6.1 with images/kconfig/guest.config, once plain and
# once with images/patches/thp-mapcount-bug, and run scenarios/thp-mapcount
# RUNS times (default 5) on each. On the bug kernel every run must fail with
# the blocks of both THP populations staying (16 each: their 32 MiB), every
# block a population owns named isolation-false-positive from the THP's own
# counters (refcount = its mappings: no extra reference) and the known bug
# from known-bugs.ini, thp-fork's freed when its CoW child ends, thp-mprotect's
# freed by its release or taken by sysfs offline (then with the signature
# "compaction's isolation check refused a movable page"), and the device at
# 0 in the end. Once more without the bug's entry in known-bugs.ini: the same
# measured reason, counters and signature, only the bug's name gone. On the
# plain kernel every run must pass.
# Prints "N passed, N failed".
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
runs=${RUNS:-5}
work=$(mktemp -d /tmp/vmemstress-thp.XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT

start=$(date +%s)
plain=$(nice -n 10 images/source-kernel.sh build) || { echo "building the plain kernel failed"; exit 1; }
bug=$(nice -n 10 images/source-kernel.sh build --patches thp-mapcount-bug) || { echo "building the bug kernel failed"; exit 1; }
echo "kernels ready in $(( $(date +%s) - start )) s: $plain, $bug"

passed=0 failed=0
result() {  # result OK DESCRIPTION
	if [ "$1" = 0 ]; then passed=$((passed + 1)); echo "ok   $2"; else failed=$((failed + 1)); echo "FAIL $2"; fi
}
run_on() {  # run_on KERNEL_DIR OUT [KNOWN_BUGS]: status in $rc
	local initrd
	initrd=$(images/build.sh build build/vmemstress-guest "$1") || return 1
	timeout 900 build/vmemstress --kernel "$1/vmlinuz" --initrd "$initrd" --kernel-config "$1/config" \
		--known-bugs "${3:-known-bugs.ini}" -o "$2" --json "$2.json" scenarios/thp-mapcount.ini >"$2.stdout" 2>"$2.stderr"
	rc=$?
}
# what the kernel shows, with or without the bug's entry
measured='all(.steps[0].stayed[] | select(.owner != null);
		.reason == "isolation-false-positive" and .basis == "measured"
		and .counters.refcount == 512 and .counters.extra == 0
		and (.evidence | test("refcount 512, mapcount (1\\+511 \\(PMD 1, PTE-mapped 511|0\\+512 \\(PMD 0, PTE-mapped 512) of 512\\)")))
	and all(.steps[0].stayed[] | select(.owner == "thp-fork"); .released_by == "thp-fork")
	and all(.steps[0].stayed[] | select(.owner == "thp-mprotect");
		.released_by == "thp-mprotect"
		or (.sysfs_offline == "offlined" and (.signature | test("compaction.s isolation check refused a movable page"))))
	and .steps[0].reached_final'
# a copy of known-bugs.ini without the THP mapcount bug's section
awk '/^\[bug /{skip = ($2 == "thp-mapcount-on-isolation]")} !skip' known-bugs.ini >"$work/no-thp-bug.ini"
grep -q thp-mapcount-on-isolation "$work/no-thp-bug.ini" && { echo "could not drop the entry"; exit 1; }

for i in $(seq 1 "$runs"); do
	out=$work/bug-$i
	run_on "$bug" "$out"
	ok=0
	[ "$rc" = 1 ] || ok=1
	jq -e '([.steps[0].stayed[] | select(.owner == "thp-fork")] | length) == 16
		and ([.steps[0].stayed[] | select(.owner == "thp-mprotect")] | length) == 16
		and all(.steps[0].stayed[] | select(.owner != null);
			.known_bug.name == "thp-mapcount-on-isolation" and .known_bug.fixed_by == "829ae0f81ce0")
		and '"$measured" "$out.json" >/dev/null 2>&1 || ok=1
	grep -q 'known bug "THP mapcount on isolation" (fixed by 829ae0f81ce0)' "$out.stdout" || ok=1
	result $ok "bug kernel, run $i: exit $rc, the THP blocks stay and the report names the bug ($(jq -r '"\(.steps[0].stayed | length) blocks stayed, verdict in \(.timings.total_ms) ms"' "$out.json" 2>/dev/null))"
	[ $ok = 0 ] || tail -n 20 "$out.stdout" | sed 's/^/      | /'

	out=$work/plain-$i
	run_on "$plain" "$out"
	ok=0
	[ "$rc" = 0 ] || ok=1
	jq -e '.steps[0].reached and (.steps[0].stayed | length == 0)' "$out.json" >/dev/null 2>&1 || ok=1
	result $ok "plain kernel, run $i: exit $rc, every block unplugged ($(jq -r '"unplug in \(.steps[0].elapsed_ms) ms, verdict in \(.timings.total_ms) ms"' "$out.json" 2>/dev/null))"
	[ $ok = 0 ] || tail -n 20 "$out.stdout" | sed 's/^/      | /'
done

out=$work/bug-no-entry
run_on "$bug" "$out" "$work/no-thp-bug.ini"
ok=0
[ "$rc" = 1 ] || ok=1
jq -e '([.steps[0].stayed[] | select(.owner != null)] | length) == 32
	and all(.steps[0].stayed[]; .known_bug == null) and '"$measured" "$out.json" >/dev/null 2>&1 || ok=1
result $ok "bug kernel without the bug's entry: exit $rc, the same measured reason, counters and signature, no bug named"
[ $ok = 0 ] || tail -n 20 "$out.stdout" | sed 's/^/      | /'
echo "check-thp-bug: $passed passed, $failed failed"
[ "$failed" = 0 ]
