#!/bin/bash
# Hostile input without a VM (issue 16): the host program against
# tests/hostile/fake-qemu.py, a stand-in QEMU (--qemu) whose scripted guest
# floods, lies or sends terminal control bytes, and ./run.sh's argument
# order. Each check fails on the code before the fix. Writes KTAP
# (tests/lib.sh); KEEP=1 keeps the files.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
host=${VMS_HOST:-$top/build/vmemstress}
fake=$top/tests/hostile/fake-qemu.py
work=$(mktemp -d /tmp/vmemstress-hostile.XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
touch "$work/kernel" "$work/initrd"  # never booted: the fake QEMU reads nothing

. "$top/tests/lib.sh"
ktap_start "vmemstress hostile input" tests/hostile/run.sh
# no byte a terminal obeys: ESC, CR, BEL, or the C1 CSI (U+009B) in UTF-8
no_control_bytes() { ! LC_ALL=C grep -qP '[\x00-\x08\x0b-\x1f\x7f]|\xc2[\x80-\x9f]' "$1"; }
nothing_left() { ! pgrep -f -- "$1/console.log" >/dev/null; }

# a scenario for the fake: a 64 GiB region of 2 MiB blocks (32768 blocks)
scn=$work/big.ini
printf '[vm]\nregion-size = 64G\n[population a]\ntype = anon\nsize = 16M\n[step all]\nrequested-size = 0\ntimeout = 20s\n' >"$scn"

# fake MODE OUTDIR [SCENARIO] [host options]: run the host against the fake
# QEMU, bounded; $rc
fake() {
	local mode=$1
	out=$2
	shift 2
	FAKE_QEMU_MODE=$mode FAKE_QEMU_ARGV=$out.argv timeout 120 "$host" --qemu "$fake" \
		--kernel "$work/kernel" --initrd "$work/initrd" -o "$out" "$@" >"$out.stdout" 2>"$out.stderr"
	rc=$?
}

begin "3: commas in --outdir and the scenario's name are doubled in QEMU's options"
cp "$scn" "$work/a,logfile=.ini"
fake argv "$work/out,logfile=x" "$work/a,logfile=.ini"
check "the console path is the output directory's, commas doubled" \
	grep -qxF -- "file,id=console,path=$work/out,,logfile=x/console.log" "$out.argv"
# shellcheck disable=SC2016 # the inner script expands $1
check "no chardev option but the escaped ones" \
	bash -c '! grep -- "logfile=" "$1" | grep -vq ",,logfile="' _ "$out.argv"
check "exit 2 (QEMU exited)" test "$rc" = 2
end

begin "4: a hello claiming 1-byte memory blocks ends the run at once, bounded"
fake flood-hello "$work/flood-hello" "$scn"
check "exit 2" test "$rc" = 2
check "the error names the claim" contains "$out/report.txt" "memory_block_size 1 is not a power of two of at least 16 MiB"
check "report.json is small (< 64 KiB)" test "$(stat -c %s "$out/report.json")" -lt 65536
check "the host used under 2 s of CPU" jqt "$out/report.json" '.timings.host_cpu_ms < 2000'
check "no QEMU left" nothing_left "$out"
end

begin "4: every block of a 64 GiB region held by 8 populations: the report stays linear"
scn8=$work/big8.ini
{
	printf '[vm]\nregion-size = 64G\n'
	for p in a b c d e f g h; do printf '[population %s]\ntype = anon\nsize = 16M\n' "$p"; done
	printf '[step all]\nrequested-size = 0\ntimeout = 20s\n'
} >"$scn8"
# CPU time of the host and the fake together, the report's writing
# included (report.json's timings stop before it): 1.6 s here, 9.8 s when
# report-json scanned every held entry for every block
TIMEFORMAT=%U
{ time fake flood-held "$work/flood-held" "$scn8"; } 2>"$work/flood-held.cpu"
check "exit 0 (the claims are possible)" test "$rc" = 0
# shellcheck disable=SC2016 # awk's $1
check "under 5 s of CPU (measured: $(cat "$work/flood-held.cpu") s)" \
	awk '{ exit !($1 < 5) }' "$work/flood-held.cpu"
check "every held block is in report.json" \
	jqt "$out/report.json" '[.steps[0].state.blocks[] | select(.held.h == 1)] | length == 32768'
check "no QEMU left" nothing_left "$out"
end

begin "4: a held list naming a block twice is refused"
fake bad-held "$work/bad-held" "$scn"
check "exit 2" test "$rc" = 2
check "the error names the entry" contains "$out/report.txt" "held[1]: block 3 does not follow block 3"
end

begin "5: terminal control bytes from the guest reach no file and no terminal"
fake terminal "$work/terminal" "$scn"
check "exit 0" test "$rc" = 0
for f in guest.log kernel.log report.txt report.json; do
	check "$f has no control bytes" no_control_bytes "$out/$f"
done
check "stdout has none" no_control_bytes "$out.stdout"
check "stderr has none" no_control_bytes "$out.stderr"
check "kernel.log shows them escaped" contains "$out/kernel.log" '\x1b[31mred'
end

# a small region: 4 memory blocks of 128 MiB
scn4=$work/left.ini
printf '[vm]\nregion-size = 512M\n[population a]\ntype = anon\nsize = 16M\n[step all]\nrequested-size = 0\ntimeout = 20s\n[expect]\nmay-stay = unowned:memory-block-not-removed\n' >"$scn4"
left_verdicts='.steps[0].reached and ([.steps[0].stayed[]] | length) == 4
	and ([.steps[0].stayed[].memory_block] == [32, 33, 34, 35]) and ([.steps[0].stayed[].block] == [0, 64, 128, 192])
	and all(.steps[0].stayed[]; .left_behind and .reason == "memory-block-not-removed" and .owner == null)
	and .steps[0].released == ["a"]'

begin "7: memory blocks left behind with nothing plugged are named, released for, and the known bug matched when they stay"
fake left-behind "$work/left-behind" "$scn4" --known-bugs "$top/known-bugs.ini" --json "$work/left-behind.json"
check "exit 1" test "$rc" = 1
check "four memory blocks left behind, still there after the release" jqt "$work/left-behind.json" "$left_verdicts"'
	and all(.steps[0].stayed[]; .stayed_after_release and .released_by == null
		and .known_bug.name == "virtio-mem-sbm-unplugged-block-stays"
		and (.evidence | test("^memory block 3[2-5] \\(online, Movable\\) is still added to Linux with every device block in it unplugged.*; still added after the release of a dropped a hold and the driver ran again$")))'
check "the report names the bug" contains "$out.stdout" 'known bug "virtio-mem (SBM) never retries removing a memory block whose offlining failed" (fixed by a31648fd4f96)'
end

begin "7: memory blocks left behind that go on a release: expected, no bug named"
fake left-behind-released "$work/left-released" "$scn4" --known-bugs "$top/known-bugs.ini" --json "$work/left-released.json"
check "exit 0" test "$rc" = 0
check "four memory blocks left behind, gone after the release" jqt "$work/left-released.json" "$left_verdicts"'
	and all(.steps[0].stayed[]; (.stayed_after_release | not) and .released_by == "a" and .known_bug == null
		and (.evidence | test("still added after") | not))
	and (.steps[0].final_state.memory_blocks | length) == 0'
end

begin "7: a run whose memory blocks all go is unchanged: no verdict"
fake terminal "$work/no-left" "$scn4" --json "$work/no-left.json"
check "exit 0" test "$rc" = 0
check "nothing stayed" jqt "$work/no-left.json" '.steps[0].reached and (.steps[0].stayed | length) == 0 and (.steps[0].state.memory_blocks | length) == 0'
end

begin "5: a host killed with SIGKILL leaves no socket directory in /tmp"
out=$work/killed
FAKE_QEMU_MODE=sleep FAKE_QEMU_ARGV=$out.argv "$host" --qemu "$fake" --kernel "$work/kernel" \
	--initrd "$work/initrd" -o "$out" --boot-timeout 60s "$scn" >"$out.stdout" 2>"$out.stderr" &
pid=$!
sockdir=""
for _ in $(seq 1 100); do  # at most 10 s for QEMU to be up and connected
	sockdir=$(sed -n 's/.*unix:\(\/tmp\/vmemstress\.[^/]*\)\/qmp.sock.*/\1/p' "$out/qmp.log" 2>/dev/null | head -n 1)
	[ -n "$sockdir" ] && grep -q qmp_capabilities "$out/qmp.log" 2>/dev/null && sleep 0.5 && break
	sleep 0.1
done
kill -KILL "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
for _ in $(seq 1 50); do nothing_left "$out" && break; sleep 0.1; done  # PR_SET_PDEATHSIG
check "the fake QEMU was started" test -n "$sockdir"
check "it found the socket directory private (0700)" grep -qx 700 "$out.argv.sockdir"
check "its socket directory is gone" test ! -e "${sockdir:-/nonexistent}"
check "no QEMU left" nothing_left "$out"
end

begin "6: ./run.sh takes options after the scenario"
out=$work/runsh
./run.sh --no-deps scenarios/default.ini --check -q >"$out.stdout" 2>"$out.stderr"
rc=$?
check "exit 0" test "$rc" = 0
check "the given scenario was checked" contains "$out.stdout" "scenarios/default.ini: ok"
./run.sh --no-deps tests/hostile/step-no-size.ini --json "$work/x.json" --check >"$out.stdout" 2>"$out.stderr"
rc=$?
check "an option with a value after it: the scenario is still the one given (exit 3)" test "$rc" = 3
check "and its error is shown" contains "$out.stderr" 'step-no-size.ini:6: [step all]: missing key "requested-size"'
end

ktap_finish hostile
