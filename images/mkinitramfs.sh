#!/bin/sh
# Build the guest's initramfs: the guest program as /init and the kernel
# modules it loads, as an uncompressed newc cpio (fastest to unpack).
#
#   images/mkinitramfs.sh GUEST_PROGRAM MODULE_DIR OUT.cpio
set -eu
guest=${1:?usage: mkinitramfs.sh GUEST_PROGRAM MODULE_DIR OUT.cpio}
mods=${2:?usage: mkinitramfs.sh GUEST_PROGRAM MODULE_DIR OUT.cpio}
out=${3:?usage: mkinitramfs.sh GUEST_PROGRAM MODULE_DIR OUT.cpio}

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/lib/modules/vmemstress" "$stage/proc" "$stage/sys" "$stage/dev"
install -m 0755 "$guest" "$stage/init"
for m in "$mods"/*.ko; do
	[ -e "$m" ] && cp "$m" "$stage/lib/modules/vmemstress/"
done
mkdir -p "$(dirname "$out")"
(cd "$stage" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) > "$out.tmp"
mv "$out.tmp" "$out"
