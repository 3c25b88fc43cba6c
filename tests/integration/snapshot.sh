# Boot snapshots (--snapshot-dir), sourced by tests/integration/run.sh (its
# helpers, $host, $KDIR, $INITRD, $work). One scenario with blocks that stay
# (vmsplice-kernel: the pipe's blocks, confirmed by their release) run cold,
# then restored from the snapshot the cold run saved: the findings must be
# the same. Then a corrupt vm.mig (rejected by its SHA-256) and a stream
# QEMU cannot load (truncated, its checksum recorded anew) must each fall
# back to a cold boot with the same findings, the report saying so.

snapdir=$work/snapshots
snap_scn=scenarios/vmsplice-kernel.ini
# what must not depend on how the VM came up: the verdict, each step's
# outcome and the blocks our populations kept, with owner, reason and
# release. Blocks the kernel's own allocations kept (no owner; in
# ZONE_NORMAL) vary between any two boots, cold or not: they must be
# unmovable-allocation, not the same blocks.
snap_findings() {
	jq -c '[.verdict, .exit_status, [.steps[] | {name,
		stayed: [.stayed[]? | select(.owner != null) | {block, owner, reason, released_by}],
		kernel: all(.stayed[]? | select(.owner == null); .reason == "unmovable-allocation")}]]' "$1"
}
snap_run() {  # snap_run NAME: $out, $r, $rc
	out=$work/snap-$1
	r=$out.json
	run_host "$out" --snapshot-dir "$snapdir" --json "$r" "$snap_scn"
}

begin "snapshot: a cold run saves the VM at the guest's hello, the next run restores it with the same findings"
snap_run cold
cold_rc=$rc
cold=$(snap_findings "$r" 2>/dev/null)
key=$(jq -r '.vm.boot.snapshot.key' "$r" 2>/dev/null)
check "cold run: exit status 0 (got $rc)" test "$rc" = 0
check "cold run: the report says cold, no snapshot yet, one saved" jqt "$r" \
	'.vm.boot.kind == "cold" and .vm.boot.snapshot.outcome == "none" and .vm.boot.snapshot.saved
	 and (.vm.boot.snapshot.key | test("^[0-9a-f]{64}$"))'
check "the snapshot is DIR/KEY/vm.mig with its meta.json" test -s "$snapdir/$key/vm.mig" -a -s "$snapdir/$key/meta.json"
check "the text report says so" contains "$out.stdout" "saved as $snapdir/$key/vm.mig"
snap_run restored
check "restored run: exit status $cold_rc (got $rc)" test "$rc" = "$cold_rc"
check "restored run: the report says restored, from that key and file" jqt "$r" \
	".vm.boot.kind == \"restored\" and .vm.boot.snapshot.outcome == \"restored\" and .vm.boot.snapshot.key == \"$key\"
	 and .vm.boot.snapshot.file == \"$snapdir/$key/vm.mig\" and (.vm.boot.snapshot.saved | not)"
check "the text report says restored" contains "$out.stdout" "boot     restored in"
check "same verdict, the same blocks kept by the pipe with the same reasons and releases as the cold run" \
	test "$(snap_findings "$r" 2>/dev/null)" = "$cold"
check "the pipe's blocks stayed and went on release (the findings are not empty)" jqt "$r" \
	'(.steps[0].stayed | length) > 0 and all(.steps[0].stayed[]; .owner == "vmsplice" and .released_by == "vmsplice")'
check "no QEMU left" no_qemu_left "$out"
end

begin "snapshot: a corrupt snapshot, or one QEMU cannot load, falls back to a cold boot that says so"
# one byte changed in the middle of the stream: its SHA-256 no longer matches
size=$(stat -c %s "$snapdir/$key/vm.mig" 2>/dev/null || echo 0)
printf '\125' | dd of="$snapdir/$key/vm.mig" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
snap_run corrupt
check "corrupt: exit status $cold_rc (got $rc)" test "$rc" = "$cold_rc"
check "corrupt: booted cold, the snapshot rejected for its checksum, a new one saved" jqt "$r" \
	'.vm.boot.kind == "cold" and .vm.boot.snapshot.outcome == "rejected" and (.vm.boot.snapshot.detail | test("SHA-256"))
	 and .vm.boot.snapshot.saved'
check "corrupt: the text report says rejected" contains "$out.stdout" "rejected (vm.mig's SHA-256 does not match"
check "corrupt: same findings as the cold run" test "$(snap_findings "$r" 2>/dev/null)" = "$cold"
# a stream QEMU cannot load: cut in half, with its size and checksum
# recorded anew, so only QEMU can tell
m=$snapdir/$key
head -c $((size / 2)) "$m/vm.mig" >"$work/half.mig" && mv "$work/half.mig" "$m/vm.mig"
jq --arg s "$(sha256sum "$m/vm.mig" | cut -d' ' -f1)" --argjson n $((size / 2)) \
	'.mig_sha256 = $s | .mig_bytes = $n' "$m/meta.json" >"$work/meta.json" && mv "$work/meta.json" "$m/meta.json"
snap_run unloadable
check "unloadable: exit status $cold_rc (got $rc)" test "$rc" = "$cold_rc"
check "unloadable: booted cold after QEMU failed to restore, saying QEMU's reason" jqt "$r" \
	'.vm.boot.kind == "cold" and .vm.boot.snapshot.outcome == "restore-failed"
	 and (.vm.boot.snapshot.detail | test("QEMU exited")) and .vm.boot.snapshot.saved'
check "unloadable: the failed restore's QEMU log kept" test -s "$out/qemu-restore.log"
check "unloadable: same findings as the cold run" test "$(snap_findings "$r" 2>/dev/null)" = "$cold"
check "no QEMU left" no_qemu_left "$out"
check "no partial snapshot left behind" test -z "$(ls -A "$snapdir" | grep -v "^$key\$")"
end
