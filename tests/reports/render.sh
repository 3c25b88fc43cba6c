#!/bin/sh
# Render a suite.json into DIR/junit.xml, DIR/results.ktap, DIR/report.html,
# DIR/kcidb.json with the suite writers (host/suite/suite-report.c,
# host/suite/suite-{junit,ktap,html,kcidb}.c)
# built alone into build/tests/render-suite: a dev tool, the suite runner
# calls the same functions.
#
#   tests/reports/render.sh SUITE.json DIR
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${BUILD:-$top/build}
bin=$build/tests/render-suite
srcs="$here/render-suite.c $top/host/suite/suite-report.c $top/host/suite/suite-junit.c
	$top/host/suite/suite-ktap.c $top/host/suite/suite-html.c $top/host/suite/suite-kcidb.c $top/common/err.c
	$top/common/reasons.c"
# rebuild when any source is newer than the binary
stale=1
if [ -x "$bin" ]; then
	stale=0
	for s in $srcs "$top/host/suite/suite-report.h" "$top/common/reasons.h"; do
		[ -n "$(find "$s" -newer "$bin")" ] && stale=1
	done
fi
if [ $stale = 1 ]; then
	mkdir -p "$(dirname "$bin")"
	# shellcheck disable=SC2046,SC2086
	${CC:-gcc} -O2 -g -Wall -Wextra -Wshadow -Wformat=2 -Wno-unused-parameter -Wno-format-truncation -Werror \
		-std=gnu11 $(pkg-config --cflags json-c) -I"$top/host" -o "$bin" $srcs $(pkg-config --libs json-c) -lm
fi
exec "$bin" "$@"
