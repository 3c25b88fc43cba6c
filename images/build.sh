#!/bin/sh
# Build (or find in the cache) the default guest image: Debian's newest cloud
# kernel and an initramfs holding the guest program and that kernel's virtio
# modules. Prints two lines: the kernel image and the initramfs.
#
#   images/build.sh BUILD_DIR GUEST_PROGRAM [KERNEL_PACKAGE]
#
# KERNEL_PACKAGE: a Debian kernel package or meta-package (default
# linux-image-cloud-amd64).
# The initramfs is cached under BUILD_DIR/initramfs keyed by the kernel
# package and a checksum of the guest program and the module files.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:?usage: build.sh BUILD_DIR GUEST_PROGRAM}
guest=${2:?usage: build.sh BUILD_DIR GUEST_PROGRAM}
[ -x "$guest" ] || { echo "vmemstress: error: guest program $guest is missing (run make)" >&2; exit 1; }

kdir=${3:?usage: build.sh BUILD_DIR GUEST_PROGRAM KERNEL_DIR}
[ -f "$kdir/vmlinuz" ] || { echo "vmemstress: error: $kdir has no vmlinuz" >&2; exit 1; }
key=$(cat "$guest" "$kdir"/modules/*.ko 2>/dev/null | cksum | cut -d' ' -f1)
initrd="$build/initramfs/$(basename "$kdir")-$key.cpio"
if [ ! -f "$initrd" ]; then
	echo "vmemstress: building initramfs $initrd" >&2
	"$here/mkinitramfs.sh" "$guest" "$kdir/modules" "$initrd"
fi
echo "$initrd"
