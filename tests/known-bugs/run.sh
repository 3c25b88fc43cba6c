#!/bin/bash
# make check-known-bugs: every known bug of known-bugs.ini that has a
# reproducer, shown end to end on kernels built from Debian's
# linux-source-6.1 (images/source-kernel.sh, cached in build/kernels): RUNS
# runs (default 5) on the kernel with the bug, where every run must fail
# and name the bug, and RUNS on the kernel without it, where every run must
# pass. KTAP on stdout (tests/lib.sh).
#
#   thp-mapcount-on-isolation          tests/thp-bug/run.sh (check-thp-bug):
#                                      plain vs --patches thp-mapcount-bug
#   virtio-mem-sbm-unplugged-block-stays
#                                      scenarios/offline-nack.ini on
#                                      --patches mem-notifier-inject (6.1.192
#                                      as Debian ships it, which has the bug,
#                                      with the notifier error injection) vs
#                                      --patches virtio-mem-sbm-retry-fix
#                                      (the same plus a31648fd4f96)
#   virtio-mem-broken-on-offline-error scenarios/offline-nack-bbm.ini on
#                                      --patches mem-notifier-inject vs
#                                      --patches virtio-mem-ebusy-fix (the
#                                      same plus ddf409851461)
#   hugetlb-fallocate-unmigratable     scenarios/hugetlb.ini on --patches
#                                      hugetlb-fallocate-unmigratable (the
#                                      fix 585fc0d2871c taken out) vs plain
#   contig-range-isolated-livelock     scenarios/lazyfree.ini on Debian's
#                                      6.1 cloud kernel (has it; no fix
#                                      identified) vs Debian's 6.12 cloud
#                                      kernel (does not show it)
#
# ONLY=NAME runs one of them. Kernels missing from build/kernels are built
# (about 20 min each on 2 cores, under nice).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
. tests/lib.sh
runs=${RUNS:-5}
only=${ONLY:-}
work=$(mktemp -d /tmp/vmemstress-bugs.XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
want() { [ -z "$only" ] || [ "$only" = "$1" ]; }

ktap_start check-known-bugs "$0"

kernel() {  # kernel [SERIES]: the cached (or newly built) kernel directory
	nice -n 19 images/source-kernel.sh build ${1:+--patches "$1"} 2>"$work/build-${1:-plain}.log"
}
run_on() {  # run_on KERNEL_DIR OUT SCENARIO [KNOWN_BUGS]: status in $rc
	local initrd
	rc=99
	initrd=$(images/build.sh build build/vmemstress-guest "$1" 2>>"$work/initrd.log") || return 1
	timeout 900 build/vmemstress --kernel "$1/vmlinuz" --initrd "$initrd" --kernel-config "$1/config" \
		--known-bugs "${4:-known-bugs.ini}" -o "$2" --json "$2.json" "$3" >"$2.stdout" 2>"$2.stderr"
	rc=$?
}
failed_run() {  # failed_run OUT: show why a run went wrong, keep its files in build/known-bugs-failed/
	note "  $(basename "$1") went wrong; its report's last lines and stderr:"
	tail -n 12 "$1.stdout" 2>/dev/null | sed 's/^/    | /' | while IFS= read -r l; do note "$l"; done
	tail -n 5 "$1.stderr" 2>/dev/null | sed 's/^/    ! /' | while IFS= read -r l; do note "$l"; done
	mkdir -p build/known-bugs-failed && cp -r "$1" "$1".* build/known-bugs-failed/ 2>/dev/null
	note "  kept in build/known-bugs-failed/$(basename "$1")"
}
without_entry() {  # without_entry BUG KERNEL_DIR SCENARIO JQ [SUMMARY]: the bug kernel once more,
	# with BUG's section taken out of a copy of known-bugs.ini: the same
	# reason and evidence (JQ) must come, the run must fail, no bug named
	local bug=$1 kdir=$2 scn=$3 expr=$4 sum=${5:-summary} out=$work/$1-no-entry
	awk -v b="$bug]" '/^\[bug /{skip = ($2 == b)} !skip' known-bugs.ini >"$work/no-$bug.ini"
	check "the entry is gone from the copy" test "$(grep -c "^\[bug $bug\]" "$work/no-$bug.ini")" = 0
	run_on "$kdir" "$out" "$scn" "$work/no-$bug.ini"
	note "$($sum "$out")"
	[ "$rc" = 1 ] || failed_run "$out"
	check "exit 1" test "$rc" = 1
	check "the same verdicts, no bug named" jqt "$out.json" "$expr"' and all(.steps[0].stayed[]; .known_bug == null)'
}
summary() {  # the figures of one run, for the log
	jq -r '"exit '"$rc"': \(.verdict)\(if .run.error != "" and .run.error != null then " (\(.run.phase): \(.run.error))" else "" end), \([.steps[0].stayed[] | select(.left_behind)] | length) memory blocks left behind, \([.steps[0].stayed[] | select(.stayed_after_release)] | length) still there after release; verdict in \(.timings.total_ms) ms"' "$1.json" 2>/dev/null
}

# --- thp-mapcount-on-isolation ------------------------------------------------
begin "thp-mapcount-on-isolation: check-thp-bug (bug named on every run of the bug kernel, every run passes on the plain one)"
if want thp-mapcount-on-isolation; then
	check "tests/thp-bug/run.sh (RUNS=$runs)" env RUNS="$runs" tests/thp-bug/run.sh
else
	skip "ONLY=$only"
fi
end

# --- virtio-mem-sbm-unplugged-block-stays --------------------------------------
# What both kernels show before the release: the size was reached (every
# device block unplugged) yet the region's memory blocks are all still
# added, the reason measured from the guest's map and memory blocks.
sbm_shown='.steps[0].reached
	and ([.steps[0].stayed[] | select(.left_behind)] | length) == (.region.size / .region.memory_block_size)
	and all(.steps[0].stayed[]; .left_behind and .reason == "memory-block-not-removed" and .owner == null
		and (.evidence | test("^memory block [0-9]+ \\(online, Movable\\) is still added to Linux with every device block in it unplugged")))
	and .steps[0].released == ["nack"]'
sbm_bug='.verdict == "fail" and '"$sbm_shown"'
	and all(.steps[0].stayed[]; .stayed_after_release and .released_by == null
		and (.evidence | test("still added after the release of nack dropped a hold and the driver ran again")))
	and ([.steps[0].final_state.memory_blocks[]] | length) == (.region.size / .region.memory_block_size)'
sbm_title='known bug "virtio-mem (SBM) never retries removing a memory block whose offlining failed" (fixed by a31648fd4f96)'

begin "virtio-mem-sbm-unplugged-block-stays: bug kernel (mem-notifier-inject), $runs runs, each fails and names the bug"
if want virtio-mem-sbm-unplugged-block-stays; then
	if bugk=$(kernel mem-notifier-inject); then
		note "kernel $bugk"
		for i in $(seq 1 "$runs"); do
			out=$work/sbm-bug-$i
			run_on "$bugk" "$out" scenarios/offline-nack.ini
			note "run $i: $(summary "$out")"
			[ "$rc" = 1 ] || failed_run "$out"
			check "run $i: exit 1" test "$rc" = 1
			check "run $i: the memory blocks stay after the release, the bug named on each" \
				jqt "$out.json" "$sbm_bug"' and all(.steps[0].stayed[];
					.known_bug.name == "virtio-mem-sbm-unplugged-block-stays" and .known_bug.fixed_by == "a31648fd4f96")'
			check "run $i: the report's verdict names the bug" contains "$out.stdout" "$sbm_title"
			check "run $i: the kernel refused the offlining (the injection fired)" \
				contains "$out/kernel.log" "Injecting error (-12) to MEM_GOING_OFFLINE"
		done
	else
		check "building the bug kernel" false
		tail -n 5 "$work/build-mem-notifier-inject.log" | while IFS= read -r l; do note "$l"; done
	fi
else
	skip "ONLY=$only"
fi
end

begin "virtio-mem-sbm-unplugged-block-stays: fixed kernel (virtio-mem-sbm-retry-fix), $runs runs, each passes"
if want virtio-mem-sbm-unplugged-block-stays; then
	if fixk=$(kernel virtio-mem-sbm-retry-fix); then
		note "kernel $fixk"
		for i in $(seq 1 "$runs"); do
			out=$work/sbm-fix-$i
			run_on "$fixk" "$out" scenarios/offline-nack.ini
			note "run $i: $(summary "$out")"
			[ "$rc" = 0 ] || failed_run "$out"
			check "run $i: exit 0" test "$rc" = 0
			check "run $i: the memory blocks stayed while offlining was refused and went on the release" \
				jqt "$out.json" '.verdict == "pass" and '"$sbm_shown"'
					and all(.steps[0].stayed[]; (.stayed_after_release | not) and .released_by == "nack"
						and .known_bug == null)
					and ([.steps[0].final_state.memory_blocks[]] | length) == 0'
		done
	else
		check "building the fixed kernel" false
		tail -n 5 "$work/build-virtio-mem-sbm-retry-fix.log" | while IFS= read -r l; do note "$l"; done
	fi
else
	skip "ONLY=$only"
fi
end

begin "virtio-mem-sbm-unplugged-block-stays: bug kernel without the bug's entry: the same reason and evidence, no bug named"
if want virtio-mem-sbm-unplugged-block-stays && [ -n "${bugk:-}" ]; then
	without_entry virtio-mem-sbm-unplugged-block-stays "$bugk" scenarios/offline-nack.ini "$sbm_bug"
elif want virtio-mem-sbm-unplugged-block-stays; then
	skip "no bug kernel"
else
	skip "ONLY=$only"
fi
end

# virtio-mem-broken-on-offline-error: offline-nack refusing with -EIO in
# Big Block Mode. The bug kernel is the same as the SBM bug's
# (mem-notifier-inject: 6.1.192 as shipped); the fixed one adds ddf409851461.
bbm_all='([.steps[0].stayed[]] | length) == .region.blocks and .steps[0].released == ["nack"]'
bbm_bug='.verdict == "fail" and '"$bbm_all"' and (.steps[0].reached | not) and (.steps[0].reached_final | not)
	and all(.steps[0].stayed[]; .reason == "driver-gave-up" and .basis == "kernel-log" and .stayed_after_release
		and (.evidence | test("^the kernel log says \"virtio_mem virtio[0-9]+: unknown error, marking device broken: -5\"")))'
bbm_title='known bug "virtio-mem marks its device broken when offlining fails with an error other than -EBUSY or -ENOMEM" (fixed by ddf409851461)'

begin "virtio-mem-broken-on-offline-error: bug kernel (mem-notifier-inject), $runs runs, each fails and names the bug"
if want virtio-mem-broken-on-offline-error; then
	if bbmbugk=$(kernel mem-notifier-inject); then
		note "kernel $bbmbugk"
		for i in $(seq 1 "$runs"); do
			out=$work/bbm-bug-$i
			run_on "$bbmbugk" "$out" scenarios/offline-nack-bbm.ini
			note "run $i: $(summary "$out")"
			[ "$rc" = 1 ] || failed_run "$out"
			check "run $i: exit 1" test "$rc" = 1
			check "run $i: every block stays, also after the release, for the driver that gave up; the bug named on each" \
				jqt "$out.json" "$bbm_bug"' and all(.steps[0].stayed[];
					.known_bug.name == "virtio-mem-broken-on-offline-error" and .known_bug.fixed_by == "ddf409851461"
					and .known_bug.in_range)'
			check "run $i: the report's verdict names the bug" contains "$out.stdout" "$bbm_title"
			check "run $i: the kernel refused the offlining with -EIO (the injection fired)" \
				contains "$out/kernel.log" "Injecting error (-5) to MEM_GOING_OFFLINE"
		done
	else
		check "building the bug kernel" false
		tail -n 5 "$work/build-mem-notifier-inject.log" | while IFS= read -r l; do note "$l"; done
	fi
else
	skip "ONLY=$only"
fi
end

begin "virtio-mem-broken-on-offline-error: fixed kernel (virtio-mem-ebusy-fix), $runs runs, each passes"
if want virtio-mem-broken-on-offline-error; then
	if bbmfixk=$(kernel virtio-mem-ebusy-fix); then
		note "kernel $bbmfixk"
		for i in $(seq 1 "$runs"); do
			out=$work/bbm-fix-$i
			run_on "$bbmfixk" "$out" scenarios/offline-nack-bbm.ini
			note "run $i: $(summary "$out")"
			[ "$rc" = 0 ] || failed_run "$out"
			check "run $i: exit 0" test "$rc" = 0
			check "run $i: every block stayed while offlining was refused, in offline_pages()'s words, and went on the release" \
				jqt "$out.json" '.verdict == "pass" and '"$bbm_all"' and .steps[0].reached_final
					and all(.steps[0].stayed[]; .reason == "offlining-refused" and .known_bug == null
						and (.stayed_after_release | not) and .released_by == "nack")
					and any(.steps[0].stayed[]; .evidence | test("due to notifier failure"))'
			check "run $i: the driver did not give up" sh -c '! grep -qF "marking device broken" "$1"' - "$out/kernel.log"
		done
	else
		check "building the fixed kernel" false
		tail -n 5 "$work/build-virtio-mem-ebusy-fix.log" | while IFS= read -r l; do note "$l"; done
	fi
else
	skip "ONLY=$only"
fi
end

begin "virtio-mem-broken-on-offline-error: bug kernel without the bug's entry: the same reason and evidence, no bug named"
if want virtio-mem-broken-on-offline-error && [ -n "${bbmbugk:-}" ]; then
	without_entry virtio-mem-broken-on-offline-error "$bbmbugk" scenarios/offline-nack-bbm.ini "$bbm_bug"
elif want virtio-mem-broken-on-offline-error; then
	skip "no bug kernel"
else
	skip "ONLY=$only"
fi
end

# --- hugetlb-fallocate-unmigratable --------------------------------------------
# The fallocate population's huge pages never migrate: each block holding
# one stays, hugetlb-unmigratable measured from the page's own flag (no
# extra reference: refcount 2 = its mapping and the page cache), and goes
# when the release frees the page; the fault population's blocks go.
ht_shown='([.populate.blocks[] | select(.held["huge-fallocate"] > 0)] | length) as $fb
	| (.steps[0].stayed | length) == $fb and $fb > 0
	and all(.steps[0].stayed[]; .owner == "huge-fallocate" and .reason == "hugetlb-unmigratable"
		and .basis == "measured" and .counters.refcount == 2 and .counters.extra == 0
		and (.evidence | test("hugetlb \\(512 pages\\), mapcount 1, file \\(hugetlbfs_aops\\), migratable no \\(HPG_migratable clear\\)"))
		and .released_by == "huge-fallocate" and (.stayed_after_release | not))
	and .steps[0].released == ["huge-fallocate"]
	and ([.steps[0].state.populations[] | select(.name == "huge-fault")][0] | .in_region == 0 and .moved == .pages)
	and all(.steps[0].final_state.populations[]; .corrupted == 0)
	and all(.steps[0].state.populations[]; .corrupted == 0 and .verified == .checked)'
ht_bug='.verdict == "fail" and '"$ht_shown"
ht_title='known bug "fallocated hugetlbfs pages cannot be migrated" (fixed by 585fc0d2871c)'
ht_summary() {  # the figures of one run, for the log
	jq -r '"exit '"$rc"': \(.verdict), \(.steps[0].stayed | length) blocks stayed (\([.steps[0].stayed[].reason] | unique | join(", "))), \([.steps[0].stayed[] | select(.released_by != null)] | length) went on release; verdict in \(.timings.total_ms) ms"' "$1.json" 2>/dev/null
}

begin "hugetlb-fallocate-unmigratable: bug kernel (hugetlb-fallocate-unmigratable), $runs runs, each fails and names the bug"
if want hugetlb-fallocate-unmigratable; then
	if htbugk=$(kernel hugetlb-fallocate-unmigratable); then
		note "kernel $htbugk"
		for i in $(seq 1 "$runs"); do
			out=$work/ht-bug-$i
			run_on "$htbugk" "$out" scenarios/hugetlb.ini
			note "run $i: $(ht_summary "$out")"
			[ "$rc" = 1 ] || failed_run "$out"
			check "run $i: exit 1" test "$rc" = 1
			check "run $i: the fallocate population's blocks stay, the bug named on each; the fault population's go" \
				jqt "$out.json" "$ht_bug"' and all(.steps[0].stayed[];
					.known_bug.name == "hugetlb-fallocate-unmigratable" and .known_bug.fixed_by == "585fc0d2871c"
					and .known_bug.in_range == false)'
			check "run $i: the report's verdict names the bug" contains "$out.stdout" "$ht_title"
		done
	else
		check "building the bug kernel" false
		tail -n 5 "$work/build-hugetlb-fallocate-unmigratable.log" | while IFS= read -r l; do note "$l"; done
	fi
else
	skip "ONLY=$only"
fi
end

begin "hugetlb-fallocate-unmigratable: fixed kernel (plain), $runs runs, each passes"
if want hugetlb-fallocate-unmigratable; then
	if htfixk=$(kernel); then
		note "kernel $htfixk"
		for i in $(seq 1 "$runs"); do
			out=$work/ht-fix-$i
			run_on "$htfixk" "$out" scenarios/hugetlb.ini
			note "run $i: $(ht_summary "$out")"
			[ "$rc" = 0 ] || failed_run "$out"
			check "run $i: exit 0" test "$rc" = 0
			check "run $i: every block went, every page of both populations moved and verified" \
				jqt "$out.json" '.verdict == "pass" and .steps[0].reached and (.steps[0].stayed | length) == 0
					and all(.steps[0].state.populations[]; .in_region == 0 and .moved == .pages
						and .verified == .pages and .corrupted == 0)'
		done
	else
		check "building the fixed kernel" false
		tail -n 5 "$work/build-plain.log" | while IFS= read -r l; do note "$l"; done
	fi
else
	skip "ONLY=$only"
fi
end

begin "hugetlb-fallocate-unmigratable: bug kernel without the bug's entry: the same reason and evidence, no bug named"
if want hugetlb-fallocate-unmigratable && [ -n "${htbugk:-}" ]; then
	without_entry hugetlb-fallocate-unmigratable "$htbugk" scenarios/hugetlb.ini "$ht_bug" ht_summary
elif want hugetlb-fallocate-unmigratable; then
	skip "no bug kernel"
else
	skip "ONLY=$only"
fi
end

# contig-range-isolated-livelock: lazyfree on Debian's own kernels. Its fix
# is not identified, so the kernel without it is Debian's 6.12, which does
# not show it; on 6.1 the scenario allows the stay only when the bug is
# named ([expect release < 6.12]): a run passes with the bug named.
debian_kernel() {  # debian_kernel PACKAGE: the cached (or fetched) kernel directory
	images/debian-kernel.sh build "$1" 2>"$work/fetch-$1.log"
}
lf_stays='([.steps[0].stayed[]] | length) > 0 and all(.steps[0].stayed[]; .reason == "offlining-stuck"
	and (.evidence | test("virtio-mem worker: .*isolate_migratepages_(block|range)")))'

begin "contig-range-isolated-livelock: Debian's 6.1 cloud kernel, $runs runs, each names the bug on what stays"
if want contig-range-isolated-livelock; then
	if lfbugk=$(debian_kernel linux-image-cloud-amd64); then
		note "kernel $lfbugk"
		for i in $(seq 1 "$runs"); do
			out=$work/lf-bug-$i
			run_on "$lfbugk" "$out" scenarios/lazyfree.ini
			note "run $i: $(summary "$out")"
			[ "$rc" = 0 ] || failed_run "$out"
			check "run $i: exit 0 (the stay is allowed on 6.1 only with the bug named)" test "$rc" = 0
			check "run $i: what stays is offlining-stuck with the worker in compaction's isolation, the bug named on each" \
				jqt "$out.json" '.scenario.expect_applied == "release < 6.12" and '"$lf_stays"' and all(.steps[0].stayed[];
					.known_bug.name == "contig-range-isolated-livelock")'
		done
	else
		check "fetching Debian's 6.1 cloud kernel" false
	fi
else
	skip "ONLY=$only"
fi
end

begin "contig-range-isolated-livelock: Debian's 6.12 cloud kernel, $runs runs, each passes with nothing left"
if want contig-range-isolated-livelock; then
	if lffixk=$(debian_kernel linux-image-6.12-cloud-amd64); then
		note "kernel $lffixk"
		for i in $(seq 1 "$runs"); do
			out=$work/lf-fix-$i
			# 6.12 under TCG rarely oopses at boot while patching its text
			# (as in tests/integration/run.sh): such a run is retried once
			for attempt in 1 2; do
				run_on "$lffixk" "$out" scenarios/lazyfree.ini
				jqt "$out.json" '.run.status == "error" and .run.phase == "boot"' || break
				note "run $i: the 6.12 guest died at boot, attempt $attempt: $(jq -r .run.error "$out.json")"
			done
			note "run $i: $(summary "$out")"
			[ "$rc" = 0 ] || failed_run "$out"
			check "run $i: exit 0" test "$rc" = 0
			check "run $i: every block went, no bug named" jqt "$out.json" \
				'.verdict == "pass" and .steps[0].reached and ([.steps[0].stayed[]] | length) == 0'
		done
	else
		check "fetching Debian's 6.12 cloud kernel" false
	fi
else
	skip "ONLY=$only"
fi
end

begin "contig-range-isolated-livelock: 6.1 without the bug's entry: the same reason and evidence, no bug named, the run fails"
if want contig-range-isolated-livelock && [ -n "${lfbugk:-}" ]; then
	without_entry contig-range-isolated-livelock "$lfbugk" scenarios/lazyfree.ini '.verdict == "fail" and '"$lf_stays"
elif want contig-range-isolated-livelock; then
	skip "no 6.1 kernel"
else
	skip "ONLY=$only"
fi
end

ktap_finish check-known-bugs
