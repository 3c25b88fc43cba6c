#!/bin/sh
# Fetch and unpack a Debian kernel package into a cache directory keyed by
# package name and version, and print that directory. A second call with the
# same package version does nothing but print it.
#
#   images/debian-kernel.sh CACHE_ROOT [PACKAGE]
#   images/debian-kernel.sh CACHE_ROOT --deb FILE.deb
#
# PACKAGE defaults to linux-image-cloud-amd64, the meta-package that depends
# on the newest cloud kernel of this Debian release's kernel series (6.1 on
# Debian 12); any kernel package or meta-package can be named instead.
# The directory holds: vmlinuz, config, release, modules/*.ko (only the
# modules in images/guest-modules.txt that are not built in).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=${1:?usage: debian-kernel.sh CACHE_ROOT [PACKAGE | --deb FILE.deb]}
pkg=${2:-}
say() { echo "vmemstress: $*" >&2; }
die() { say "error: $*"; exit 1; }
here_deb=""
if [ "$pkg" = "--deb" ]; then
	here_deb=${3:?usage: debian-kernel.sh CACHE_ROOT --deb FILE.deb}
	[ -f "$here_deb" ] || die "kernel package $here_deb does not exist"
	dpkg-deb --info "$here_deb" >/dev/null 2>&1 || die "$here_deb is not a valid .deb (corrupt or truncated?)"
	pkg=$(dpkg-deb -f "$here_deb" Package)
	version=$(dpkg-deb -f "$here_deb" Version)-$(cksum < "$here_deb" | cut -d' ' -f1)
fi

resolve() {
	# A meta-package (linux-image-cloud-amd64, linux-image-6.12-cloud-amd64)
	# depends on the real kernel package: follow it. A kernel package
	# depends on no linux-image-* and stays as it is.
	want=${pkg:-linux-image-cloud-amd64}
	real=$(apt-cache depends "$want" 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[^ <]*\)$/\1/p' | head -n 1)
	pkg=${real:-$want}
	[ -n "$pkg" ] && version=$(apt-cache policy "$pkg" 2>/dev/null | sed -n 's/^ *Candidate: //p')
	[ -n "$pkg" ] && [ -n "${version:-}" ] && [ "$version" != "(none)" ]
}

# Resolving the package through apt-cache takes over a second; remember the
# answer for as long as the package lists stay the same.
lists_key=$(stat -c '%n %Y %s' /var/lib/apt/lists/*_Packages 2>/dev/null | cksum | cut -d' ' -f1)
memo="$root/kernels/.resolved-${pkg:-linux-image-cloud-amd64}"
if [ -n "$here_deb" ]; then
	:  # a local package: nothing to resolve
elif [ -f "$memo" ] && [ "$(sed -n 1p "$memo")" = "$lists_key" ]; then
	pkg=$(sed -n 2p "$memo")
	version=$(sed -n 3p "$memo")
elif ! resolve; then
	# Empty or stale package lists: refresh once (needs root), then retry.
	if [ "$(id -u)" = 0 ]; then
		say "refreshing the package lists to find the kernel package"
		apt-get update -qq >&2 || true
	fi
	if ! resolve; then
		[ "$(id -u)" = 0 ] && die "no Debian package ${pkg:-linux-image-cloud-amd64} with a version to download (apt-cache policy has no candidate)"
		die "cannot find the Debian package ${pkg:-linux-image-cloud-amd64}: the package lists may be stale (as root: apt-get update)"
	fi
fi

mkdir -p "$root/kernels"
if [ -z "$here_deb" ]; then
	lists_key=$(stat -c '%n %Y %s' /var/lib/apt/lists/*_Packages 2>/dev/null | cksum | cut -d' ' -f1)
	printf '%s\n%s\n%s\n' "$lists_key" "$pkg" "$version" > "$memo"
fi

dir="$root/kernels/$pkg-$version"
if [ -f "$dir/.complete" ]; then
	echo "$dir"
	exit 0
fi

mkdir -p "$root/kernels"
tmp=$(mktemp -d "$root/kernels/.fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
if [ -n "$here_deb" ]; then
	cp "$here_deb" "$tmp/"
else
	say "downloading $pkg $version"
	sandbox=""
	[ "$(id -u)" = 0 ] && sandbox="-o APT::Sandbox::User=root"
	# shellcheck disable=SC2086
	(cd "$tmp" && apt-get download -q $sandbox "$pkg=$version" >&2) ||
		die "apt-get download $pkg=$version failed"
fi
deb=$(ls "$tmp"/*.deb 2>/dev/null | head -n 1)
[ -n "$deb" ] || die "apt-get download $pkg=$version produced no .deb"
say "unpacking $(basename "$deb")"
dpkg -x "$deb" "$tmp/x" || die "dpkg -x $deb failed (corrupt package?)"

vmlinuz=$(ls "$tmp"/x/boot/vmlinuz-* 2>/dev/null | head -n 1)
[ -n "$vmlinuz" ] || die "$pkg has no /boot/vmlinuz-*"
release=${vmlinuz##*/vmlinuz-}
mkdir -p "$tmp/out/modules"
cp "$vmlinuz" "$tmp/out/vmlinuz"
cp "$tmp/x/boot/config-$release" "$tmp/out/config" 2>/dev/null || true
echo "$release" > "$tmp/out/release"
printf '%s %s\n' "$pkg" "$version" > "$tmp/out/package"
echo "Debian package $pkg $version${here_deb:+ from $here_deb}" > "$tmp/out/source"
"$here/collect-modules.sh" "$tmp/x/lib/modules/$release" "$tmp/out/modules"

rm -rf "$dir"
touch "$tmp/out/.complete"
mv "$tmp/out" "$dir"
say "kernel $release cached in $dir"
echo "$dir"
