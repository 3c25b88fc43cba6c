#!/bin/sh
# Build a small guest kernel from source (tinyconfig plus the fragment
# images/kconfig/guest.config, everything built in), optionally with a patch
# series applied, into a cache directory keyed by its inputs, and print that
# directory. A second call with the same inputs does nothing but print it.
#
#   images/source-kernel.sh CACHE_ROOT [--src DIR] [--patches NAME]
#
# Source: by default Debian's linux-source-6.1 package as installed
# (apt-get install when missing; needs root), whose tarball under /usr/src
# is unpacked once into CACHE_ROOT/sources/linux-source-6.1_VERSION/. With
# --src DIR, the kernel tree at DIR; it is built out of tree (make O=...)
# and never written to, so it must be clean (no in-tree .config: make
# mrproper).
# --patches NAME: apply every images/patches/NAME/*.patch, in name order,
# with patch -p1 --fuzz=0 to a private copy of the source (hard links, with
# the files the patches name copied for real first; never the cached tree
# or DIR). The kernel release gets the suffix -vms-NAME
# (-vms without patches), so uname -r tells the kernels apart.
#
# Cache key: a checksum (cksum) of
#   - the source identity: "debian linux-source-6.1 PACKAGE_VERSION", or for
#     --src "tree KERNELVERSION MAKEFILE_CKSUM GIT_HEAD" (`make kernelversion`,
#     the cksum of DIR/Makefile, `git rev-parse HEAD` or "-" without git).
#     Uncommitted edits in DIR are NOT part of the key: after editing a tree,
#     commit, or remove the cached directory;
#   - the content of images/kconfig/guest.config;
#   - the names and content of the patch files;
#   - this script.
# The directory CACHE_ROOT/kernels/src-KERNELVERSION-NAME-KEY/ (NAME is
# "plain" without --patches) holds: vmlinuz (arch/x86/boot/bzImage), config,
# System.map (to check what went in: a patched function, symbols), release
# (make kernelrelease), source (one line: source and patches), an empty
# modules/ (everything is built in) and .complete, written last. The
# build runs in a temporary directory that is renamed into place at the end,
# so an interrupted build leaves nothing half-made; a failed build leaves
# its log in CACHE_ROOT/kernels/.failed-*.log.
#
# stdout: the directory (only that line). Progress on stderr. The build takes
# several minutes on 2 cores: run the script under nice on a shared machine.
# Build tools (gcc make flex bison bc perl xz-utils libelf-dev, and pahole
# from dwarves for the BTF of CONFIG_DEBUG_INFO_BTF) are installed when
# missing (root) or named.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
self="$here/$(basename "$0")"
usage="usage: source-kernel.sh CACHE_ROOT [--src DIR] [--patches NAME]"
say() { echo "vmemstress: $*" >&2; }
die() { say "error: $*"; exit 1; }

root=${1:?$usage}
shift
src_dir=""
patches=""
while [ $# -gt 0 ]; do
	case "$1" in
	--src) [ $# -ge 2 ] || die "--src needs a directory; $usage"; src_dir=$2; shift 2 ;;
	--src=*) src_dir=${1#--src=}; shift ;;
	--patches) [ $# -ge 2 ] || die "--patches needs a name; $usage"; patches=$2; shift 2 ;;
	--patches=*) patches=${1#--patches=}; shift ;;
	*) die "unknown argument '$1'; $usage" ;;
	esac
done
[ -n "$root" ] || die "$usage"
fragment="$here/kconfig/guest.config"
[ -f "$fragment" ] || die "the kernel configuration fragment $fragment is missing"
other=$(grep -E '^CONFIG_' "$fragment" | grep -v '=y$' || true)
[ -z "$other" ] || die "$fragment may only hold CONFIG_X=y lines (everything built in), not: $(echo "$other" | tr '\n' ' ')"
export LC_ALL=C  # name order of the patches, messages of the tools

# Install Debian packages when missing (root), else say what to run.
need_packages() {
	[ $# -gt 0 ] || return 0
	if [ "$(id -u)" != 0 ]; then
		die "missing Debian packages: run as root: apt-get install $*"
	fi
	say "installing $*"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >&2 ||
		{ apt-get update -qq >&2 || true
		  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >&2; } ||
		die "apt-get install $* failed"
}

# --- the source and its identity ------------------------------------------
patch_dir=""
if [ -n "$patches" ]; then
	case "$patches" in
	*/* | .* | *[!A-Za-z0-9._-]*) die "bad patch series name '$patches' (a directory name under images/patches)" ;;
	esac
	patch_dir="$here/patches/$patches"
	[ -d "$patch_dir" ] || die "no patch series $patch_dir"
	ls "$patch_dir"/*.patch >/dev/null 2>&1 || die "no *.patch files in $patch_dir"
fi
name=${patches:-plain}

if [ -n "$src_dir" ]; then
	[ -f "$src_dir/Makefile" ] && [ -f "$src_dir/Kconfig" ] ||
		die "--src $src_dir is not a kernel source tree (no Makefile and Kconfig)"
	src_dir=$(cd "$src_dir" && pwd)
	if [ -f "$src_dir/.config" ] || [ -d "$src_dir/include/config" ]; then
		die "the kernel tree $src_dir has an in-tree configuration or build; out-of-tree builds (make O=) need a clean tree: run make mrproper in it"
	fi
	kver=$(make -s -C "$src_dir" kernelversion 2>/dev/null) && [ -n "$kver" ] ||
		die "make kernelversion failed in $src_dir"
	mk_sum=$(cksum < "$src_dir/Makefile" | cut -d' ' -f1)
	head="-"
	if [ -e "$src_dir/.git" ]; then
		head=$(git -C "$src_dir" rev-parse HEAD 2>/dev/null) ||
			head=$(cat "$src_dir/.git/HEAD" 2>/dev/null) || head="-"
	fi
	identity="tree $kver $mk_sum $head"
	describe="kernel tree $src_dir ($kver, git HEAD $head)"
else
	pkg=linux-source-6.1
	version=$(dpkg-query -W -f '${Version}' "$pkg" 2>/dev/null || true)
	if [ -z "$version" ] || ! ls /usr/src/$pkg.tar.* >/dev/null 2>&1; then
		need_packages "$pkg"
		version=$(dpkg-query -W -f '${Version}' "$pkg" 2>/dev/null || true)
	fi
	[ -n "$version" ] || die "the Debian package $pkg is not installed"
	tarball=$(ls /usr/src/$pkg.tar.* 2>/dev/null | head -n 1)
	[ -n "$tarball" ] || die "$pkg $version has no /usr/src/$pkg.tar.*"
	identity="debian $pkg $version"
	describe="Debian $pkg $version"
	kver=""  # read from the unpacked tree, when we build
fi

key=$( {
	printf 'source %s\n' "$identity"
	printf 'fragment\n'; cat "$fragment"
	if [ -n "$patch_dir" ]; then
		for p in "$patch_dir"/*.patch; do
			printf 'patch %s %s\n' "$(basename "$p")" "$(wc -c < "$p")"
			cat "$p"
		done
	fi
	printf 'script\n'; cat "$self"
} | cksum | cut -d' ' -f1)

mkdir -p "$root/kernels"
root=$(cd "$root" && pwd)

# The key does not depend on the kernel version (the source identity decides
# it), so a cached kernel is found without unpacking anything.
find_cached() {
	for d in "$root/kernels"/src-*-"$name-$key"; do
		[ -f "$d/.complete" ] && { echo "$d"; return 0; }
	done
	return 1
}
if find_cached; then
	exit 0
fi

start=$(date +%s)
elapsed() {
	s=$(( $(date +%s) - start ))
	echo "$((s / 60))m$((s % 60))s"
}

# Build tools. objtool (x86_64) needs libelf's headers.
missing=""
for t in gcc:gcc make:make flex:flex bison:bison bc:bc perl:perl xz:xz-utils patch:patch; do
	command -v "${t%%:*}" >/dev/null 2>&1 || missing="$missing ${t#*:}"
done
[ -f /usr/include/gelf.h ] || missing="$missing libelf-dev"
# CONFIG_DEBUG_INFO_BTF: pahole converts the DWARF of vmlinux to BTF. Debian
# 12's dwarves is a transitional package that pulls in pahole (1.24); on
# older releases it holds pahole itself.
btf=""
grep -qx 'CONFIG_DEBUG_INFO_BTF=y' "$fragment" && btf=y
if [ -n "$btf" ] && ! command -v pahole >/dev/null 2>&1; then
	missing="$missing dwarves"
fi
# shellcheck disable=SC2086
need_packages $missing
if [ -n "$btf" ]; then
	# 6.1's scripts/link-vmlinux.sh refuses pahole older than 1.16; say so
	# now rather than after the whole compile.
	pv=$(pahole --version 2>/dev/null | sed -n 's/^v\{0,1\}\([0-9][0-9]*\)\.\([0-9][0-9]*\).*/\1 \2/p' | head -n 1)
	[ -n "$pv" ] || die "cannot tell the version of pahole ($(command -v pahole)): 'pahole --version' said '$(pahole --version 2>&1 | head -n 1)'"
	# shellcheck disable=SC2086
	set -- $pv
	[ $(( $1 * 1000 + $2 )) -ge 1016 ] ||
		die "pahole $1.$2 ($(command -v pahole)) is too old for CONFIG_DEBUG_INFO_BTF on 6.1: it needs 1.16 or later (Debian 12's dwarves/pahole has 1.24)"
fi

tmp=$(mktemp -d "$root/kernels/.build.XXXXXX")
cleanup() { rm -rf "$tmp"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The pristine Debian tree, unpacked once per package version.
if [ -z "$src_dir" ]; then
	tree="$root/sources/${pkg}_$version"
	if [ ! -f "$tree/.complete" ]; then
		say "unpacking $tarball into $tree"
		mkdir -p "$root/sources"
		utmp=$(mktemp -d "$root/sources/.unpack.XXXXXX")
		# shellcheck disable=SC2064
		trap "rm -rf '$tmp' '$utmp'" EXIT
		tar -xaf "$tarball" -C "$utmp" || die "tar could not unpack $tarball"
		top=$(ls "$utmp")
		[ -f "$utmp/$top/Makefile" ] || die "$tarball does not hold one kernel tree"
		touch "$utmp/$top/.complete"
		rm -rf "$tree"
		mv -T "$utmp/$top" "$tree" || [ -f "$tree/.complete" ] || die "cannot move the unpacked tree to $tree"
		rm -rf "$utmp"
		trap cleanup EXIT
		say "unpacked in $(elapsed)"
	fi
	src_dir=$tree
	kver=$(make -s -C "$src_dir" kernelversion 2>/dev/null) && [ -n "$kver" ] ||
		die "make kernelversion failed in $src_dir"
fi

dir="$root/kernels/src-$kver-$name-$key"
log="$tmp/build.log"
fail() {
	keep="$root/kernels/.failed-src-$kver-$name-$key.log"
	cp "$log" "$keep" 2>/dev/null || true
	say "error: $*"
	tail -n 25 "$log" >&2 2>/dev/null || true
	say "the full log is in $keep"
	exit 1
}

# A private copy of the source when there are patches to apply.
build_src=$src_dir
if [ -n "$patch_dir" ]; then
	# Hard links (seconds; a real copy of the 1.3 GB tree takes minutes on a
	# busy machine), then every file a patch names is replaced by a real
	# copy before patching, so the pristine tree or DIR is never written.
	say "copying the source to apply the patch series $patches"
	build_src="$tmp/src"
	if ! cp -al "$src_dir" "$build_src" 2>/dev/null; then
		rm -rf "$build_src"
		mkdir -p "$build_src"
		(cd "$src_dir" && tar --exclude=./.git -cf - .) | tar -xf - -C "$build_src" ||
			die "cannot copy $src_dir to $build_src"
	fi
	rm -f "$build_src/.complete"
	for p in "$patch_dir"/*.patch; do
		say "applying $(basename "$p")"
		# The files named on ---/+++ lines, with -p1 (the first component
		# stripped), timestamps after a tab dropped.
		sed -n 's/^\(---\|+++\) [^/]*\/\([^	]*\).*/\2/p' "$p" | sort -u | while IFS= read -r f; do
			if [ -f "$build_src/$f" ]; then
				cp -p "$build_src/$f" "$build_src/$f.vms-unlink" &&
					mv -f "$build_src/$f.vms-unlink" "$build_src/$f"
			fi
		done
		patch -p1 --batch --forward --fuzz=0 --no-backup-if-mismatch -d "$build_src" -i "$p" >> "$log" 2>&1 ||
			fail "patch $p does not apply to $describe"
	done
fi

# The configuration: tinyconfig, the fragment, olddefconfig, then a check
# that every option of the fragment survived.
obj="$tmp/obj"
mkdir -p "$obj"
mk() { make -C "$build_src" O="$obj" "$@" >> "$log" 2>&1; }
say "configuring (tinyconfig + $(basename "$fragment"))"
mk tinyconfig || fail "make tinyconfig failed"
(cd "$obj" && "$build_src/scripts/kconfig/merge_config.sh" -m -O "$obj" "$obj/.config" "$fragment") >> "$log" 2>&1 ||
	fail "merge_config.sh failed"
mk olddefconfig || fail "make olddefconfig failed"
bad=""
for o in $(sed -n 's/^\(CONFIG_[A-Za-z0-9_]*\)=y$/\1/p' "$fragment"); do
	grep -qx "$o=y" "$obj/.config" || bad="$bad $o($(sed -n "s/^$o=//p; s/^# $o is not set/n/p" "$obj/.config" | head -n 1))"
done
for o in $(sed -n 's/^# \(CONFIG_[A-Za-z0-9_]*\) is not set$/\1/p' "$fragment"); do
	if grep -q "^$o=" "$obj/.config"; then
		bad="$bad $o($(sed -n "s/^$o=//p" "$obj/.config"))"
	fi
done
if [ -n "$bad" ]; then
	fail "options of $fragment that did not end up as asked in .config (an unmet dependency, or a 'select' that did not fire; '()' means absent):$bad"
fi

suffix=-vms${patches:+-$patches}
jobs=$(nproc 2>/dev/null || echo 2)
say "building bzImage of $kver$suffix with $jobs jobs (several minutes)"
mk -j"$jobs" LOCALVERSION="$suffix" bzImage || fail "the kernel build failed"
release=$(make -s -C "$build_src" O="$obj" LOCALVERSION="$suffix" kernelrelease 2>>"$log") ||
	fail "make kernelrelease failed"

# The BTF really went in: vmlinux has a .BTF section (the build already
# failed if pahole failed; this catches a pahole that wrote nothing).
if grep -qx 'CONFIG_DEBUG_INFO_BTF=y' "$obj/.config"; then
	readelf -S -W "$obj/vmlinux" 2>>"$log" | grep -q ' \.BTF ' ||
		fail "vmlinux has no .BTF section although CONFIG_DEBUG_INFO_BTF=y"
fi
vmlinux_size=$(wc -c < "$obj/vmlinux")

out="$tmp/out"
mkdir -p "$out/modules"
cp "$obj/arch/x86/boot/bzImage" "$out/vmlinuz"
cp "$obj/.config" "$out/config"
cp "$obj/System.map" "$out/System.map"
echo "$release" > "$out/release"
if [ -n "$patch_dir" ]; then
	list=""
	for p in "$patch_dir"/*.patch; do
		list="$list${list:+ }$(basename "$p")"
	done
	echo "$describe + patches $patches: $list" > "$out/source"
else
	echo "$describe, no patches" > "$out/source"
fi
touch "$out/.complete"
rm -rf "$dir"
mv -T "$out" "$dir" || [ -f "$dir/.complete" ] || die "cannot move the kernel to $dir"
say "kernel $release (bzImage $(wc -c < "$dir/vmlinuz") bytes, vmlinux $vmlinux_size bytes uncompressed) cached in $dir"
say "built in $(elapsed)"
echo "$dir"
