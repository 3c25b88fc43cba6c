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
Usage: ./run.sh [--no-deps] [--debian-kernel PACKAGE] [vmemstress options] [SCENARIO.ini]

  --no-deps                 do not check or install Debian packages
  --debian-kernel PACKAGE   boot this Debian kernel package or meta-package
                            (default linux-image-cloud-amd64: Debian 12's 6.1
                            cloud kernel; e.g. linux-image-6.12-cloud-amd64)
  SCENARIO                  a scenario file (default: scenarios/default.ini)

What it does: installs missing Debian packages (scripts/debian-packages.txt),
runs make, fetches Debian's cloud kernel into build/kernels (cached by
package version), builds the initramfs (cached), boots the VM and prints the
report. Logs and report.json go to vmemstress-out/SCENARIO-TIME (or --outdir).

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

# Split off our own options (they come first); remember whether a scenario
# file was given (a last argument that is an existing file ending in .ini).
kpkg=""
while [ $# -gt 0 ]; do
	case "$1" in
	--no-deps) deps=0; shift ;;
	--debian-kernel)
		[ $# -ge 2 ] || { echo "vmemstress: --debian-kernel needs a package name" >&2; exit 3; }
		kpkg=$2; shift 2 ;;
	*) break ;;
	esac
done
for last in "$@"; do :; done
case "${last:-}" in
*.ini) [ -f "$last" ] && scenario=given ;;
esac

if [ "$deps" = 1 ]; then
	"$top/scripts/deps.sh" || exit 3
fi

echo "vmemstress: building" >&2
make -s -C "$top" all >&2 || { echo "vmemstress: error: the build failed" >&2; exit 2; }

image=$("$top/images/build.sh" "$build" "$build/vmemstress-guest" $kpkg) || exit 2
kernel=$(echo "$image" | sed -n 1p)
initrd=$(echo "$image" | sed -n 2p)

if [ -z "$scenario" ]; then
	set -- "$@" "$top/scenarios/default.ini"
fi
exec "$build/vmemstress" --kernel "$kernel" --initrd "$initrd" "$@"
