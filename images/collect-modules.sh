#!/bin/sh
# Copy the modules listed in images/guest-modules.txt from a kernel's module
# tree (lib/modules/RELEASE) into OUT as plain NAME.ko files, decompressing
# .ko.xz/.ko.zst/.ko.gz. A module that is built in (modules.builtin) is
# skipped; one that is neither is an error.
#
#   images/collect-modules.sh MODULE_TREE OUT
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tree=${1:?usage: collect-modules.sh MODULE_TREE OUT}
out=${2:?usage: collect-modules.sh MODULE_TREE OUT}
die() { echo "vmemstress: error: $*" >&2; exit 1; }

mkdir -p "$out"
for m in $(sed -e 's/#.*//' "$here/guest-modules.txt"); do
	alt=$(echo "$m" | tr _ -)
	f=$(find "$tree" \( -name "$m.ko*" -o -name "$alt.ko*" \) 2>/dev/null | head -n 1)
	if [ -z "$f" ]; then
		if grep -qE "/($m|$alt)\.ko\$" "$tree/modules.builtin" 2>/dev/null; then
			continue
		fi
		die "module $m is neither in $tree nor listed in its modules.builtin"
	fi
	case "$f" in
	*.ko) cp "$f" "$out/$m.ko" ;;
	*.ko.xz) xz -dc "$f" > "$out/$m.ko" ;;
	*.ko.gz) gzip -dc "$f" > "$out/$m.ko" ;;
	*.ko.zst) command -v zstd >/dev/null || die "$f is zstd-compressed: install zstd"
		zstd -qdc "$f" > "$out/$m.ko" ;;
	*) die "unknown module file $f" ;;
	esac
done
