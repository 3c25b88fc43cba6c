#!/bin/sh
# Print the directory of the kernel's KTAP parser, tools/testing/kunit/
# (kunit.py), from Debian's linux-source-6.1: from build/sources/ when a
# kernel source tree was unpacked there (--kernel-src), else cached under
# build/kunit/VERSION/ (VERSION: the package's) by `apt-get download
# linux-source-6.1`, extracting only tools/testing/kunit.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${BUILD:-$top/build}
fail() { echo "kunit-path: $*" >&2; exit 1; }
for d in "$build"/sources/linux-source-6.1_*/tools/testing/kunit; do
	[ -f "$d/kunit.py" ] && echo "$d" && exit 0
done
ver=$(apt-cache show --no-all-versions linux-source-6.1 2>/dev/null | sed -n 's/^Version: //p' | head -1)
[ -n "$ver" ] || fail "linux-source-6.1 is not known to apt (apt-get update?)"
cache=$build/kunit/$ver
if [ ! -f "$cache/tools/testing/kunit/kunit.py" ]; then
	tmp=$(mktemp -d /tmp/vms-kunit.XXXXXX)
	trap 'rm -rf "$tmp"' EXIT
	trap 'exit 130' INT TERM
	echo "kunit-path: fetching kunit.py from linux-source-6.1 $ver into $cache" >&2
	rm -rf "$cache.new"
	mkdir -p "$tmp/dl" "$tmp/deb" "$tmp/src"
	(cd "$tmp/dl" && timeout 900 apt-get download -q "linux-source-6.1=$ver" >&2) ||
		fail "apt-get download linux-source-6.1=$ver failed"
	dpkg -x "$tmp"/dl/linux-source-6.1_*.deb "$tmp/deb"
	tarball=$(ls "$tmp"/deb/usr/src/linux-source-6.1.tar.* 2>/dev/null | head -1)
	[ -n "$tarball" ] || fail "no kernel tarball in the linux-source-6.1 package"
	timeout 900 tar -xJf "$tarball" -C "$tmp/src" --wildcards '*/tools/testing/kunit/*' ||
		fail "cannot extract tools/testing/kunit from $tarball"
	# kunit.py finds its tree by the "tools/testing/kunit" in its own
	# path (and exits 1 silently without it): keep that layout
	mkdir -p "$cache.new/tools/testing"
	mv "$tmp"/src/*/tools/testing/kunit "$cache.new/tools/testing/kunit"
	rm -rf "$cache"
	mv "$cache.new" "$cache"
fi
[ -f "$cache/tools/testing/kunit/kunit.py" ] || fail "no kunit.py in $cache/tools/testing/kunit"
echo "$cache/tools/testing/kunit"
