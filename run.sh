#!/bin/sh
# ./run.sh [OPTIONS] [SCENARIO.ini]
#
# The user's entry point: installs the Debian packages vmemstress needs
# (when root), builds the host and guest programs, builds or reuses the
# default guest image (Debian's cloud kernel), then runs the scenario
# (scenarios/default.ini when none is given) and prints the report. Options
# other than the ones below go to the host program: see ./run.sh --help.
# Exit status: the host program's (0 pass, 1 fail, 2 run error, 3 usage).
set -eu
top=$(cd "$(dirname "$0")" && pwd)
build="$top/build"

deps=1
scenario=""
for a in "$@"; do
	case "$a" in
	-h|--help)
		cat <<'USAGE'
Usage: ./run.sh [--no-deps] [KERNEL SOURCE] [vmemstress options] [SCENARIO.ini]
       ./run.sh [--no-deps] [KERNEL SOURCE] --suite FILE|DIR [-j N] [--baseline OLD.json] [--kcidb FILE] [options]

  --no-deps                 do not check or install Debian packages
  --no-snapshots            boot every VM (default: restore a VM saved at the
                            guest's hello by an earlier run of the same VM,
                            from build/snapshots; --snapshot-dir DIR elsewhere)
  SCENARIO                  a scenario file (default: scenarios/default.ini)
  --suite FILE|DIR          a suite file (e.g. scenarios/nightly.suite: its
                            scenarios against its [kernel] sections) or a
                            directory of scenarios; a kernel source option
                            replaces the suite's kernels

Kernel source (one of; default: Debian's cloud kernel package):
  --debian-kernel PACKAGE   a Debian kernel package or meta-package (default
                            linux-image-cloud-amd64: Debian 12's 6.1 cloud
                            kernel; e.g. linux-image-6.12-cloud-amd64)
  --kernel-deb FILE.deb     a kernel package file (a vendor's)
  --kernel BZIMAGE          your own kernel image, with
    [--modules DIR]         its lib/modules/RELEASE tree when the virtio
                            drivers are modules
  --kernel-src DIR|debian   build from a kernel tree, or from Debian's
                            linux-source-6.1 ("debian"), with a small config
                            (images/kconfig/guest.config), cached by inputs
    [--patches NAME]        applying images/patches/NAME/*.patch first (e.g.
                            thp-mapcount-bug); implies --kernel-src debian

What it does: installs missing Debian packages (scripts/debian-packages.txt),
runs make, fetches Debian's cloud kernel into build/kernels (cached by
package version), builds the initramfs (cached), boots the VM and prints the
report. Logs and report.json go to vmemstress-out/SCENARIO-TIME (or --outdir).
With --backend libvirt and no --connect, when no libvirt daemon answers at
qemu:///system, it starts a private libvirtd in build/libvirtd for the run
and stops it at the end (as root).

The host program's options:
USAGE
		if [ -x "$build/vmemstress" ]; then
			"$build/vmemstress" --help | sed -n '/^Options:/,$p'
		else
			echo "  (run make first to see them)"
		fi
		exit 0 ;;
	esac
done

# The libvirt backend without --connect: when the default daemon
# ($LIBVIRT_DEFAULT_URI, else qemu:///system) does not answer, run this
# script again against a private libvirtd in build/libvirtd
# (scripts/libvirtd-private.sh; root only), found by the host program
# through LIBVIRT_DEFAULT_URI, and stop that daemon at the end.
lv_backend="" lv_connect="" prev=""
for a in "$@"; do
	[ "$prev" = --backend ] && [ "$a" = libvirt ] && lv_backend=1
	case "$a" in
	--backend=libvirt) lv_backend=1 ;;
	--connect|--connect=*) lv_connect=1 ;;
	esac
	prev=$a
done
if [ -n "$lv_backend" ] && [ -z "$lv_connect" ] && [ -z "${VMS_LIBVIRT_PRIVATE:-}" ]; then
	case " $* " in
	*" --no-deps "*) ;;
	*) "$top/scripts/deps.sh" || exit 3 ;;
	esac
	make -s -C "$top" host >&2 || { echo "vmemstress: error: the build failed" >&2; exit 2; }
	if ! probe=$("$build/vmemstress" --probe-libvirt 2>&1); then
		echo "$probe" >&2
		if [ "$(id -u)" != 0 ]; then
			echo "vmemstress: as root, ./run.sh starts a private libvirtd for the run; or start one" \
				"(scripts/libvirtd-private.sh start DIR, as root) and pass --connect with the URI it prints" >&2
			exit 2
		fi
		lvdir="$build/libvirtd" started=""
		"$top/scripts/libvirtd-private.sh" status "$lvdir" || started=1
		uri=$("$top/scripts/libvirtd-private.sh" start "$lvdir") || exit 2
		if [ -n "$started" ]; then
			echo "vmemstress: using a private libvirtd for this run ($uri), stopped at the end" >&2
		else
			echo "vmemstress: using the private libvirtd already running in $lvdir ($uri)" >&2
		fi
		LIBVIRT_DEFAULT_URI=$uri VMS_LIBVIRT_PRIVATE=1 "$top/run.sh" "$@" &
		child=$!
		trap 'kill -TERM "$child" 2>/dev/null || true' INT TERM
		status=0
		while :; do
			wait "$child" && status=0 || status=$?
			kill -0 "$child" 2>/dev/null || break
		done
		[ -z "$started" ] || "$top/scripts/libvirtd-private.sh" stop "$lvdir" || true
		exit "$status"
	fi
fi

# Split off our own options, wherever they are, keeping the others (the
# host program's) in their order; remember whether a scenario file was
# given: an argument that is no option nor an option's value (the host
# program takes options and the scenario in any order, as getopt does).
kpkg="" kdeb="" kimage="" kmods="" ksrc="" kpatches="" suite=""
need() { [ "$2" -ge 1 ] || { echo "vmemstress: $1 needs a value (see ./run.sh --help)" >&2; exit 3; }; }
# host_takes_value ARG: is the next argument ARG's value (the host
# program's options with a required argument, long or short, clustered)?
host_takes_value() {
	case "$1" in
	--*=*) return 1 ;;
	--initrd|--outdir|--json|--suite-kernel|--jobs|--baseline|--run-timeout|--accel|--qemu|\
	--boot-timeout|--cmdline|--kernel-config|--known-bugs|--backend|--connect|--kcidb|\
	--kernel-on-host|--initrd-on-host|--settle|--snapshot-dir) return 0 ;;
	--*) return 1 ;;
	-?*)
		rest=${1#-}
		while [ -n "$rest" ]; do
			c=${rest%"${rest#?}"}
			rest=${rest#?}
			case "$c" in
			k|i|o|j|a) [ -z "$rest" ]; return ;;
			esac
		done
		return 1 ;;
	esac
	return 1
}
n=$# positional="" dashdash="" nosnap=""
while [ "$n" -gt 0 ]; do
	a=$1
	shift
	n=$((n - 1))
	if [ -n "$dashdash" ]; then
		set -- "$@" "$a"
		positional=1
		continue
	fi
	case "$a" in
	--no-deps) deps=0 ;;
	--debian-kernel) need "$a" "$n"; kpkg=$1; shift; n=$((n - 1)) ;;
	--kernel-deb) need "$a" "$n"; kdeb=$1; shift; n=$((n - 1)) ;;
	--kernel) need "$a" "$n"; kimage=$1; shift; n=$((n - 1)) ;;
	--modules) need "$a" "$n"; kmods=$1; shift; n=$((n - 1)) ;;
	--kernel-src) need "$a" "$n"; ksrc=$1; shift; n=$((n - 1)) ;;
	--patches) need "$a" "$n"; kpatches=$1; shift; n=$((n - 1)) ;;
	--suite) need "$a" "$n"; suite=$1; shift; n=$((n - 1)) ;;
	--suite=*) suite=${a#--suite=} ;;
	--no-snapshots) nosnap=1 ;;
	--snapshot-dir|--snapshot-dir=*) nosnap=1; set -- "$@" "$a"
		if [ "$a" = --snapshot-dir ] && [ "$n" -gt 0 ]; then
			set -- "$@" "$1"
			shift
			n=$((n - 1))
		fi ;;
	--) dashdash=1; set -- "$@" "$a" ;;
	-?*)
		set -- "$@" "$a"
		if host_takes_value "$a" && [ "$n" -gt 0 ]; then
			set -- "$@" "$1"
			shift
			n=$((n - 1))
		fi ;;
	*) set -- "$@" "$a"; positional=1 ;;
	esac
done
# Boot snapshots (README "Speed"): on by default, in build/snapshots;
# --snapshot-dir DIR elsewhere, --no-snapshots never (every run boots).
# The libvirt backend cannot save a VM.
if [ -z "$nosnap" ] && [ -z "$lv_backend" ]; then
	set -- --snapshot-dir "$build/snapshots" "$@"
fi
[ -n "$kpatches" ] && [ -z "$ksrc" ] && ksrc=debian
nsrc=0
for v in "$kpkg" "$kdeb" "$kimage" "$ksrc"; do [ -n "$v" ] && nsrc=$((nsrc + 1)); done
if [ "$nsrc" -gt 1 ]; then
	echo "vmemstress: give one kernel source: --debian-kernel, --kernel-deb, --kernel or --kernel-src" >&2
	exit 3
fi
if [ -n "$kmods" ] && [ -z "$kimage" ]; then
	echo "vmemstress: --modules goes with --kernel" >&2
	exit 3
fi
[ -n "$positional" ] && scenario=given

if [ "$deps" = 1 ]; then
	"$top/scripts/deps.sh" || exit 3
fi

echo "vmemstress: building" >&2
make -s -C "$top" all >&2 || { echo "vmemstress: error: the build failed" >&2; exit 2; }

# prepare_kernel OPTION VALUE [--modules|--patches VALUE]: a cached
# directory with vmlinuz, config (when known), release and modules/,
# whatever the kernel's source; sets $kdir and $initrd.
prepare_kernel() {
	case "$1" in
	--kernel)
		kdir=$("$top/images/user-kernel.sh" "$build" "$2" ${4:-}) || exit 3 ;;
	--kernel-deb)
		kdir=$("$top/images/debian-kernel.sh" "$build" --deb "$2") || exit 3 ;;
	--kernel-src)
		if [ "$2" = debian ]; then
			kdir=$(nice -n 10 "$top/images/source-kernel.sh" "$build" ${4:+--patches "$4"}) || exit 2
		else
			kdir=$(nice -n 10 "$top/images/source-kernel.sh" "$build" --src "$2" ${4:+--patches "$4"}) || exit 2
		fi ;;
	--debian-kernel)
		kdir=$("$top/images/debian-kernel.sh" "$build" ${2:+"$2"}) || exit 2 ;;
	*)
		echo "vmemstress: unknown kernel source $1" >&2; exit 3 ;;
	esac
	initrd=$("$top/images/build.sh" "$build" "$build/vmemstress-guest" "$kdir") || exit 2
}

# The command line's kernel (prepare_kernel's arguments) and its name in a
# suite.
if [ -n "$kimage" ]; then
	set_k() { prepare_kernel --kernel "$kimage" ${kmods:+--modules "$kmods"}; }
	kname="user-$(basename "$kimage")"
elif [ -n "$kdeb" ]; then
	set_k() { prepare_kernel --kernel-deb "$kdeb"; }
	kname=$(basename "$kdeb" .deb)
elif [ -n "$ksrc" ]; then
	set_k() { prepare_kernel --kernel-src "$ksrc" ${kpatches:+--patches "$kpatches"}; }
	kname="src${kpatches:+-$kpatches}"
else
	set_k() { prepare_kernel --debian-kernel "$kpkg"; }
	kname=${kpkg:-linux-image-cloud-amd64}
	kname=${kname#linux-image-}
fi

if [ -n "$suite" ]; then
	# Every kernel of the suite (or the command line's one), prepared in
	# turn; the host program runs the matrix.
	list=$("$build/vmemstress" --list-kernels --suite "$suite") || exit 3
	[ "$nsrc" -gt 0 ] && list=""
	set -- --suite "$suite" "$@"
	if [ -z "$list" ]; then
		set_k
		set -- --suite-kernel "$kname:$kdir:$initrd" "$@"
	else
		tab=$(printf '\t')
		n=$(printf '%s\n' "$list" | wc -l)
		i=0
		while IFS=$tab read -r name opt val xopt xval; do
			i=$((i + 1))
			echo "vmemstress: kernel $i of $n: $name ($opt $val${xopt:+ $xopt $xval})" >&2
			prepare_kernel "$opt" "$val" ${xopt:+"$xopt"} ${xval:+"$xval"} </dev/null
			set -- --suite-kernel "$name:$kdir:$initrd" "$@"
		done <<EOF
$list
EOF
	fi
	exec "$build/vmemstress" --known-bugs "$top/known-bugs.ini" "$@"
fi

set_k
kernel="$kdir/vmlinuz"
config_opt=""
[ -f "$kdir/config" ] && config_opt="--kernel-config=$kdir/config"

if [ -z "$scenario" ]; then
	set -- "$@" "$top/scenarios/default.ini"
fi
exec "$build/vmemstress" --kernel "$kernel" --initrd "$initrd" $config_opt \
	--known-bugs "$top/known-bugs.ini" "$@"
