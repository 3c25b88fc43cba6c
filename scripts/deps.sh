#!/bin/sh
# Install the Debian packages listed in scripts/debian-packages.txt that are
# missing. Does nothing when all are present. Needs root to install; without
# it, prints the exact apt-get line to run and fails.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
list="$here/debian-packages.txt"

wanted=$(sed -e 's/#.*//' "$list" | tr -s ' \t' '\n' | grep -v '^$')
missing=""
for p in $wanted; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = installed ] || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

line="apt-get install -y --no-install-recommends$missing"
if [ "$(id -u)" != 0 ]; then
	echo "vmemstress: missing Debian packages:$missing" >&2
	echo "vmemstress: as root, run: apt-get update && $line" >&2
	exit 1
fi
echo "vmemstress: installing missing Debian packages:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >&2
