#!/bin/sh
# Bring a user's own kernel into the cache, in the layout every kernel here
# has, and print its directory:
#
#   images/user-kernel.sh CACHE_ROOT BZIMAGE [MODULE_TREE]
#
# BZIMAGE: the kernel image. MODULE_TREE: its lib/modules/RELEASE directory
# (needed when virtio modules are not built in). The kernel's config is
# looked for, in order: a file "config" or ".config" beside BZIMAGE,
# config-RELEASE or config-* beside it (as in /boot), MODULE_TREE/build/.config,
# MODULE_TREE/../../../boot/config-RELEASE. None found: the directory has no
# config file and the run says the options were not checked.
# Cache key: a checksum of the image, the module files and the config.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=${1:?usage: user-kernel.sh CACHE_ROOT BZIMAGE [MODULE_TREE]}
image=${2:?usage: user-kernel.sh CACHE_ROOT BZIMAGE [MODULE_TREE]}
mods=${3:-}
say() { echo "vmemstress: $*" >&2; }
die() { say "error: $*"; exit 1; }

[ -f "$image" ] && [ -r "$image" ] || die "kernel image $image does not exist or cannot be read"
# A bzImage carries "HdrS" at offset 0x202 (the x86 boot protocol header).
magic=$(dd if="$image" bs=1 skip=514 count=4 2>/dev/null || true)
[ "$magic" = "HdrS" ] || die "$image is not an x86 bzImage (no boot header): a corrupt or wrong file?"
if [ -n "$mods" ]; then
	[ -d "$mods" ] || die "module directory $mods does not exist"
fi

dir_of=$(cd "$(dirname "$image")" && pwd)
# the release, from the image's version string ("Linux version 6.1.0 ...")
release=$(strings -n 8 "$image" 2>/dev/null | sed -n 's/^\([0-9][^ ]*\) (.*@.*) #.*/\1/p' | head -n 1)
[ -n "$release" ] || release=$(basename "${mods:-unknown}")
config=""
for c in "$dir_of/config" "$dir_of/.config" "$dir_of/config-$release" ${mods:+"$mods/build/.config"} \
	${mods:+"$mods/../../../boot/config-$release"}; do
	if [ -f "$c" ]; then config=$c; break; fi
done
if [ -z "$config" ]; then
	for c in "$dir_of"/config-*; do
		if [ -f "$c" ]; then config=$c; break; fi
	done
fi

key=$( { cat "$image"; [ -n "$config" ] && cat "$config"; [ -n "$mods" ] && find "$mods" -name '*.ko*' -type f | LC_ALL=C sort | xargs cat 2>/dev/null; } | cksum | cut -d' ' -f1)
dir="$root/kernels/user-$release-$key"
if [ -f "$dir/.complete" ]; then
	echo "$dir"
	exit 0
fi
mkdir -p "$root/kernels"
tmp=$(mktemp -d "$root/kernels/.user.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/modules"
cp "$image" "$tmp/vmlinuz"
echo "$release" > "$tmp/release"
echo "user kernel $image${mods:+ with modules from $mods}" > "$tmp/source"
if [ -n "$config" ]; then
	cp "$config" "$tmp/config"
	say "kernel config: $config"
else
	say "no kernel config found beside $image: the needed options cannot be checked before boot"
fi
if [ -n "$mods" ]; then
	"$here/collect-modules.sh" "$mods" "$tmp/modules"
elif [ -n "$config" ] && grep -qE '^CONFIG_VIRTIO_(MEM|PCI|CONSOLE)=m' "$config"; then
	die "$config builds virtio modules as modules (=m) but no module directory was given: add --modules DIR (its lib/modules/RELEASE)"
fi
touch "$tmp/.complete"
rm -rf "$dir"
mv "$tmp" "$dir"
trap - EXIT
echo "$dir"
