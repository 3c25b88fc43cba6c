#!/bin/sh
# Development fixture for the suite renderers and their check scripts: real
# runs of build/vmemstress on the cached Debian kernel (and on the
# thp-mapcount-bug kernel when it is already built), laid out like the suite
# runner's output (OUT/runs/KERNEL/SCENARIO/), then OUT/suite.json around
# them (tests/reports/assemble-suite.sh) and its renderings
# (tests/reports/render.sh). Not the runner: a dev tool.
#
#   tests/reports/make-fixture.sh OUT
#
# Needs `make` first. Each run takes 10-20 s on TCG.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
out=${1:?usage: make-fixture.sh OUT}
cd "$top"
[ -x build/vmemstress ] && [ -x build/vmemstress-guest ] || { echo "make-fixture: run make first" >&2; exit 1; }

kdir=$(images/debian-kernel.sh build)
initrd=$(images/build.sh build build/vmemstress-guest "$kdir")
mkdir -p "$out/runs"

# run KERNEL_NAME KDIR INITRD SCENARIO [OPTIONS...]: never stops on the verdict
run() {
	kname=$1 k=$2 i=$3 scn=$4
	shift 4
	name=$(basename "$scn" .ini)
	dir="$out/runs/$kname/$name"
	rm -rf "$dir"
	mkdir -p "$dir"
	rc=0
	timeout 600 build/vmemstress -q --kernel "$k/vmlinuz" --initrd "$i" --known-bugs known-bugs.ini \
		-o "$dir" "$@" "$scn" >/dev/null 2>"$dir/stderr.log" || rc=$?
	echo "$rc" >"$dir/exit_status"
	echo "make-fixture: $kname/$name: exit status $rc" >&2
}

run debian-6.1 "$kdir" "$initrd" scenarios/default.ini
run debian-6.1 "$kdir" "$initrd" scenarios/vmsplice-kernel.ini
run debian-6.1 "$kdir" "$initrd" tests/scenarios/vmsplice-unexpected.ini
run debian-6.1 "$kdir" "$initrd" scenarios/mixed.ini
# a skip run: the kernel's config without SECRETMEM, so the only population
# cannot be built and nothing is left to show (exit status 4)
grep -v '^CONFIG_SECRETMEM=' "$kdir/config" >"$out/config-no-secretmem"
run debian-6.1 "$kdir" "$initrd" scenarios/secretmem-kernel.ini --kernel-config "$out/config-no-secretmem"
# an error run: the guest cannot say hello within 1 s
run debian-6.1-timeout "$kdir" "$initrd" scenarios/default.ini --boot-timeout 1s

# the known bug, only when its kernel is already built (a cold build takes
# 10+ minutes: make check-thp-bug builds it)
bug=$(ls -d build/kernels/src-6.1.192-thp-mapcount-bug-* 2>/dev/null | head -1 || true)
if [ -n "$bug" ] && [ -f "$bug/vmlinuz" ]; then
	binitrd=$(images/build.sh build build/vmemstress-guest "$bug")
	run thp-bug "$bug" "$binitrd" scenarios/thp-mapcount.ini
fi

"$here/assemble-suite.sh" "$out" >"$out/suite.json"
echo "make-fixture: wrote $out/suite.json" >&2

# the renderings, with the suite writers built on their own (the
# runner is not needed for them)
"$here/render.sh" "$out/suite.json" "$out"
echo "make-fixture: wrote $out/junit.xml, $out/results.ktap, $out/report.html, $out/kcidb.json" >&2
