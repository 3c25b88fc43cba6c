#!/bin/bash
# make bench: how fast a verdict comes and where the time goes. Medians over
# RUNS runs (default 3) on Debian's kernel, printed as one table with the
# machine and accelerator named. Speed is measured here, never asserted in
# tests: the machines are shared, so compare figures within one run.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
runs=${RUNS:-3}
host=$top/build/vmemstress
work=$(mktemp -d /tmp/vmemstress-bench.XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
KDIR=$(images/debian-kernel.sh build) || exit 1
INITRD=$(images/build.sh build build/vmemstress-guest "$KDIR") || exit 1

# run NAME SCENARIO: one run, its JSON in $work/NAME.json
run() {
	timeout 600 "$host" -q --kernel "$KDIR/vmlinuz" --initrd "$INITRD" -o "$work/$1" --json "$work/$1.json" "$2" \
		>/dev/null 2>"$work/$1.err" || echo "  ($1 ended with status $?)" >&2
}
# median JQ_EXPR NAME...: the median of the expression over the runs' JSON
median() {
	local expr=$1
	shift
	for n in "$@"; do jq -r "$expr" "$work/$n.json" 2>/dev/null; done | grep -E '^[0-9.]+$' | sort -g |
		awk '{v[NR]=$1} END {if (NR == 0) print "-"; else if (NR % 2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'
}
calc() { awk "BEGIN { printf \"%s\", $1 }" | sed 's/\.0*$//'; }
row() { printf '  %-58s %12s %s\n' "$1" "$2" "${3:-}"; }
progress() { echo "bench: $*" >&2; }

names_of() { for i in $(seq 1 "$runs"); do echo "$1-$i"; done; }

progress "default scenario x $runs"
for i in $(seq 1 "$runs"); do run default-$i scenarios/default.ini; done
D=$(names_of default)

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
run par-1 scenarios/default.ini & run par-2 scenarios/default.ini & wait
run par-3 scenarios/default.ini & run par-4 scenarios/default.ini & wait
t2=$(date +%s.%N)

thp_bug=""
bugk=$(ls -d build/kernels/src-*-thp-mapcount-bug-* 2>/dev/null | head -n 1)
if [ -n "$bugk" ]; then
	progress "THP mapcount reproduction on $bugk"
	bi=$(images/build.sh build build/vmemstress-guest "$bugk")
	s=$(date +%s.%N)
	timeout 600 "$host" -q --kernel "$bugk/vmlinuz" --initrd "$bi" --kernel-config "$bugk/config" \
		--known-bugs known-bugs.ini -o "$work/thpbug" scenarios/thp-mapcount.ini >/dev/null 2>&1
	thp_bug=$(calc "$(date +%s.%N) - $s")
fi

accel=$(jq -r '.vm.accel' "$work/default-1.json")
cpu=$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)
echo
echo "vmemstress bench, $(date -u +%Y-%m-%d), $(nproc) cores ($cpu), $(free -g | awk '/^Mem:/ {print $2}') GiB,"
echo "accelerator $accel, kernel $(jq -r '.vm.kernel_release' "$work/default-1.json"), medians of $runs runs"
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
row "unplug time per GiB, by population (ZONE_MOVABLE)" "ms/GiB"
per_gib='.steps[0].elapsed_ms / ((.steps[0].size_before - .steps[0].size_after) / 1073741824) | floor'
row "  anon + thp-cow (default)" "$(median "$per_gib" $D)"
for s in thp-cow pagecache high-mapcount longterm-pin-movable transient-refs; do
	row "  $s" "$(median "$per_gib" $(names_of $s))"
done
row "attribution (guest) per GiB of region, vmsplice-movable" \
	"$(median '.steps[0].state.guest_ms / (.region.size / 1073741824) | floor' $(names_of vmsplice-movable))" "ms/GiB"
echo
row "region scale (1 GiB plugged, anon 32 MiB + vmsplice 8 MiB)" "1 / 8 / 64 GiB"
sc() { echo "$(median "$1" $(names_of scale-1)) / $(median "$1" $(names_of scale-8)) / $(median "$1" $(names_of scale-64))"; }
row "  time to verdict (ms)" "$(sc .timings.total_ms)"
row "  guest state with attribution (ms)" "$(sc '.steps[0].state.guest_ms')"
row "  guest program peak RSS (KiB)" "$(sc '.steps[0].state.guest_rss_kb')"
row "  host program peak RSS (KiB)" "$(sc .timings.host_max_rss_kb)"
echo
seq_s=$(calc "$t1 - $t0")
par_s=$(calc "$t2 - $t1")
row "parallel: default scenario, scenarios per hour" "$(calc "int(4 * 3600 / $seq_s)") -j1" "$(calc "int(4 * 3600 / $par_s)") -j2 (throughput x$(calc "int(100 * $seq_s / $par_s) / 100"))"
row "targets (TCG): one verdict under 20 s" "$(median '.timings.total_ms / 1000' $D) s"
if [ -n "$thp_bug" ]; then
	row "              THP mapcount reproduction under 30 s" "$(printf '%.1f' "$thp_bug") s"
else
	row "              THP mapcount reproduction under 30 s" "not measured" "(bug kernel not cached: make check-thp-bug)"
fi
