# The libvirt backend against a real libvirtd. Sourced by
# tests/integration/run.sh (its helpers, counters, kernel and QEMU-backend
# results): not run alone.
#
# A private daemon is started with scripts/libvirtd-private.sh and stopped
# by its PID at the end; ./run.sh --backend libvirt starts and stops its own.
# The default scenario and the pinned vmsplice-kernel must give the same
# per-block results as with the QEMU backend. Every test checks that no
# domain and no QEMU of ours is left.

lv_priv=$top/scripts/libvirtd-private.sh
# libvirt's state is machine-wide (/run/libvirt): one libvirtd at a time, so
# the libvirt tests of runs on the same machine take turns
exec 8>/tmp/vmemstress-libvirt-tests.lock
lv_locked=""
flock -w 1800 8 && lv_locked=1

# What a run shows per block that does not depend on the backend: the
# region, where the pages went, each step's outcome, and for every
# population that kept blocks: why, what released them, and whether the
# blocks that stayed are exactly those that held its pages. Which blocks
# those are shifts from boot to boot in the kernel zone (kernel allocations
# land first), and so do blocks of kernel allocations (no owner): of those
# only the reason is compared.
lv_digest() {
	jq -S '[.populate.blocks[] | {index, held: (.held | keys)}] as $held
	| {verdict, exit_status,
		region: (.region | {addr, size, block_size, blocks, node, plugged_at_start}),
		populations: [.populate.populations[] | {name, type, pages, in_region}],
		steps: [.steps[] | [.stayed[] | select(.owner != null)] as $owned | {name, requested, reached,
			owned: [$owned | group_by(.owner)[] | {owner: .[0].owner,
				why: ([.[] | {reason, released_by, expected}] | unique),
				exactly_its_blocks: (([.[].block] | unique) as $b | .[0].owner as $o
					| $b == [$held[] | select(any(.held[]; . == $o)) | .index])}],
			unowned_unmovable: all(.stayed[] | select(.owner == null); .reason == "unmovable-allocation"),
			reached_final, pages: [.state.populations[] | {name, verified, corrupted, absent}]}]}' "$1"
}
lv_same() {  # lv_same QEMU.json LIBVIRT.json; shows the difference
	local a b
	a=$(lv_digest "$1") && b=$(lv_digest "$2") || return 1
	[ "$a" = "$b" ] && return 0
	diff <(echo "$a") <(echo "$b") | head -n 20 | sed 's/^/      diff /'
	return 1
}
# the domain's name, from the run's libvirt.log
lv_domain() { grep -o -m1 '<name>vmemstress-[A-Za-z0-9]*</name>' "$1/libvirt.log" 2>/dev/null | sed 's/<[^>]*>//g'; }
lv_no_domains() { [ -z "$(virsh -c "$1" list --all --name 2>/dev/null | tr -d '[:space:]')" ]; }
lv_no_qemu() { ! pgrep -f -- "guest=${1:-vmemstress-}" >/dev/null; }
# the resize passed the device's whole live element: <size> and its PCI
# address kept, a new <requested>
lv_update_whole() {
	awk '/ update:$/ { u = 1; next }
	     u && /<size unit=/ { s = 1 } u && /<address type=.pci./ { a = 1 } u && /<requested unit=/ { r = 1 }
	     u && /<\/memory>/ { u = 0; if (s && a && r) ok = 1 }
	     END { exit !ok }' "$1/libvirt.log"
}

begin "libvirt: an unreachable daemon is a clear error naming the URI, exit 2"
check "the libvirt tests got their turn (lock /tmp/vmemstress-libvirt-tests.lock)" test -n "$lv_locked"
nouri="qemu+unix:///system?socket=$work/nodaemon/libvirt-sock"
out=$work/lv-nodaemon
run_host "$out" --backend libvirt --connect "$nouri" scenarios/default.ini
check "exit status 2 (got $rc)" test "$rc" = 2
check "names the URI and what failed" contains "$out.stdout" \
	"libvirt $nouri: cannot connect: Failed to connect socket to '$work/nodaemon/libvirt-sock'"
check "report.json: error at boot, backend libvirt" jqt "$out/report.json" \
	'.run.status == "error" and .run.phase == "boot" and .vm.backend == "libvirt"'
"$host" --backend libvirt --connect "$nouri" --probe-libvirt >"$work/lv-probe.out" 2>&1
rc=$?
check "--probe-libvirt: exit status 2 (got $rc)" test "$rc" = 2
check "--probe-libvirt: names the URI" contains "$work/lv-probe.out" "libvirt $nouri: cannot connect"
"$host" --connect "$nouri" --kernel "$KERNEL" --initrd "$INITRD" scenarios/default.ini >"$work/lv-usage.out" 2>&1
rc=$?
check "--connect without --backend libvirt: exit status 3 (got $rc)" test "$rc" = 3
check "--connect without --backend libvirt: says so" contains "$work/lv-usage.out" "--connect goes with --backend libvirt"
end

# As a user runs it: with no daemon at qemu:///system, ./run.sh starts a
# private one in build/libvirtd and stops it at the end.
begin "libvirt: ./run.sh --backend libvirt passes the default scenario, block by block as the QEMU backend"
"$host" --probe-libvirt >/dev/null 2>&1 && lv_system=1 || lv_system=""
"$lv_priv" status "$top/build/libvirtd" && lv_had_private=1 || lv_had_private=""
out=$work/lv-default
timeout 400 ./run.sh --no-deps --backend libvirt -o "$out" --json "$out.json" >"$out.stdout" 2>"$out.stderr"
rc=$?
r=$out.json
check "exit status 0 (got $rc)" test "$rc" = 0
check "the report says backend libvirt and names QEMU and libvirt" jqt "$r" \
	'.vm.backend == "libvirt" and (.vm.hypervisor | test("^QEMU [0-9.]+, libvirt [0-9.]+$")) and .vm.accel != ""'
check "every block unplugged, every page verified" jqt "$r" \
	'.verdict == "pass" and (.steps[0].state.map | test("^U{512}$")) and all(.steps[0].state.populations[]; .verified == .pages and .corrupted == 0)'
check "the same per-block results as the QEMU backend" lv_same "$work/default.json" "$r"
check "console, guest and libvirt logs kept" test -s "$out/console.log" -a -s "$out/guest.log" -a -s "$out/libvirt.log"
check "the serial console file has the guest's start and power-off" \
	grep -qzE 'vmemstress-guest [^ ]+ starting.*reboot: Power down' "$out/console.log"
check "resized with the device's whole live XML (<size>, PCI address)" lv_update_whole "$out"
check "MEMORY_DEVICE_SIZE_CHANGE events followed" contains "$out/libvirt.log" "event memory-device-size-change virtiomem0"
check "the domain was destroyed" contains "$out/libvirt.log" "destroyed"
if [ -z "$lv_system$lv_had_private" ]; then
	check "it said it used a private libvirtd" contains "$out.stderr" "using a private libvirtd for this run"
	check "that daemon is stopped at the end" test ! -s "$top/build/libvirtd/libvirtd.pid"
fi
check "no QEMU of its domain left" lv_no_qemu "$(lv_domain "$out")"
end

begin "libvirt: a private libvirtd; vmsplice-kernel (pinned by a pipe), block by block as the QEMU backend"
lvdir=$work/libvirtd
lvuri=$("$lv_priv" start "$lvdir" 2>"$work/lv-start.err")
lvpid=$(cat "$lvdir/libvirtd.pid" 2>/dev/null)
check "the daemon started: $lvuri (PID $lvpid; $(tail -n 1 "$work/lv-start.err"))" test -n "$lvuri" -a -n "$lvpid"
ref=$work/scn-vmsplice-kernel.json
if [ ! -s "$ref" ]; then  # the scenario tests above make it; alone, make it here
	run_host "$work/lv-ref" --json "$work/lv-ref.json" scenarios/vmsplice-kernel.ini
	ref=$work/lv-ref.json
fi
out=$work/lv-vmsplice
run_host "$out" --json "$out.json" --backend libvirt --connect "$lvuri" scenarios/vmsplice-kernel.ini
r=$out.json
check "exit status 0 (got $rc)" test "$rc" = 0
check "backend libvirt" jqt "$r" '.vm.backend == "libvirt"'
check "memory onlined in the Normal zone" jqt "$r" 'all(.populate.memory_blocks[]; .zone == "Normal")'
check "every block holding the pipe's pages stayed, gup-reference, freed by reading it" jqt "$r" \
	'([.populate.blocks[] | select(.held.vmsplice)] | length) as $n | $n >= 16 and ([.steps[0].stayed[] | select(.owner == "vmsplice" and .reason == "gup-reference" and .released_by == "vmsplice")] | length == $n)'
check "the same per-block results as the QEMU backend" lv_same "$ref" "$r"
check "no domain left" lv_no_domains "$lvuri"
end

begin "libvirt: a refused domain, a guest panic, the host killed: clear, bounded, nothing left"
out=$work/lv-refused
run_host "$out" --backend libvirt --connect "$lvuri" --qemu /bin/true scenarios/default.ini
check "refused: exit status 2 (got $rc)" test "$rc" = 2
check "refused: names the URI and libvirt's reason" contains "$out.stdout" "libvirt $lvuri: the domain was refused: "
[ -s "$work/empty.cpio" ] || { mkdir -p "$work/empty/dev" && (cd "$work/empty" && find . | cpio -o -H newc --quiet) >"$work/empty.cpio"; }
out=$work/lv-panic
timeout 400 "$host" --backend libvirt --connect "$lvuri" --kernel "$KERNEL" --initrd "$work/empty.cpio" -o "$out" \
	scenarios/default.ini >"$out.stdout" 2>"$out.stderr"
rc=$?
check "panic: exit status 2 (got $rc)" test "$rc" = 2
check "panic: says the guest went down on its own" contains "$out.stdout" "the guest rebooted or powered off (kernel panic?)"
check "panic: shows the panic from the console" contains "$out.stdout" "Kernel panic - not syncing"
# SIGKILL: no cleanup code of ours runs; the daemon destroys the domain
# when the connection drops (VIR_DOMAIN_START_AUTODESTROY)
out=$work/lv-killed
"$host" --backend libvirt --connect "$lvuri" --kernel "$KERNEL" --initrd "$INITRD" -o "$out" scenarios/default.ini \
	>"$out.stdout" 2>"$out.stderr" &
pid=$!
for _ in $(seq 1 1200); do grep -q "populating" "$out.stderr" 2>/dev/null && break; sleep 0.05; done
name=$(lv_domain "$out")
check "killed: the domain ${name:-?} was running" test "$(virsh -c "$lvuri" domstate "$name" 2>/dev/null | head -n 1)" = running
kill -KILL "$pid"
{ wait "$pid"; } 2>/dev/null
for _ in $(seq 1 300); do lv_no_domains "$lvuri" && lv_no_qemu "$name" && break; sleep 0.1; done
check "killed: the daemon destroyed the domain within 30 s" lv_no_domains "$lvuri"
check "killed: no QEMU of it left" lv_no_qemu "$name"
end

begin "libvirt: the tests' daemon stopped by its PID; no domain, no QEMU left"
check "no domain defined or running" lv_no_domains "$lvuri"
"$lv_priv" stop "$lvdir" 2>"$work/lv-stop.err"
check "stop succeeded" test $? = 0
check "the daemon (PID ${lvpid:-?}) is gone" test -n "$lvpid" -a ! -d "/proc/${lvpid:-0}"
check "no QEMU of our domains left" lv_no_qemu
end
exec 8>&-
