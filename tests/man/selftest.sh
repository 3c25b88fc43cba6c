#!/bin/sh
# check-man.sh must be able to fail: it passes the real program and man
# page, then must fail each copy broken in one way (an option gone from
# the man page, one it has that --help has not, an argument or short form
# renamed, a population type or exit status missing, a troff warning, a
# --help with an option the man page lacks, another version).
#
#   tests/man/selftest.sh BINARY MANPAGE
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bin=$(cd "$(dirname "${1:?usage: selftest.sh BINARY MANPAGE}")" && pwd)/$(basename "$1")
man=${2:?usage: selftest.sh BINARY MANPAGE}
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
tmp=$(mktemp -d /tmp/vms-man-selftest.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
failed=0 n=0

# case_ NAME WHY MAN_MUTATION [HELP_SED [VERSION]]: the man page copied
# and changed by a Python snippet with sub(old_regex, new) (or "-":
# unchanged); with HELP_SED, a stand-in program whose --help is the real
# one through sed; with VERSION, its --version says that. check-man.sh must
# fail saying WHY ("-" alone: it must pass).
case_() {
	name=$1 want=$2 mut=$3 hsed=${4:-} ver=${5:-}
	n=$((n + 1))
	d=$tmp/$n
	mkdir -p "$d"
	cp "$man" "$d/vmemstress.1"
	if [ "$mut" != - ]; then
		(cd "$d" && "$PY" -c '
import re, sys
def sub(old, new, count=1):
    t = open("vmemstress.1").read()
    u, k = re.subn(old, new, t, count=count, flags=re.S | re.M)
    if not k:
        sys.exit(f"mutation found no {old!r}")
    open("vmemstress.1", "w").write(u)
'"$mut") || { echo "selftest: $name: the mutation did not apply" >&2; failed=$((failed + 1)); return; }
	fi
	prog=$bin
	if [ -n "$hsed" ] || [ -n "$ver" ]; then
		prog=$d/stand-in
		cat >"$prog" <<STANDIN
#!/bin/sh
if [ "\$1" = --help ] && [ -n '$hsed' ]; then "$bin" --help | sed '$hsed'; exit 0; fi
if [ "\$1" = --version ] && [ -n '$ver' ]; then echo 'vmemstress $ver'; exit 0; fi
exec "$bin" "\$@"
STANDIN
		chmod +x "$prog"
	fi
	rc=0
	"$here/check-man.sh" "$prog" "$d/vmemstress.1" >"$d.log" 2>&1 || rc=$?
	broken=true
	[ "$mut" = - ] && [ -z "$hsed" ] && [ -z "$ver" ] && broken=false
	if ! $broken && [ $rc != 0 ]; then
		echo "selftest: FAIL: $name: check-man.sh failed on the good copy:" >&2
		cat "$d.log" >&2
		failed=$((failed + 1))
	elif $broken && [ $rc = 0 ]; then
		echo "selftest: FAIL: $name: check-man.sh passed a broken copy" >&2
		failed=$((failed + 1))
	elif $broken && ! grep -qF -- "$want" "$d.log"; then
		echo "selftest: FAIL: $name: check-man.sh failed, but not saying \"$want\":" >&2
		cat "$d.log" >&2
		failed=$((failed + 1))
	else
		if [ $rc = 0 ]; then why=passed; else why=$(grep -m1 -o 'FAIL: .*' "$d.log" | cut -c1-110); fi
		echo "selftest: ok: $name ($why)"
	fi
}

case_ "good" - -
case_ "an option missing from the man page" "--baseline: in --help, not in the man page" '
sub(r"^\.TP\n\\fB\\-\\-baseline\\fR \\fIFILE\\fR\n", "")'
case_ "an option only in the man page" "--frobnicate: in the man page, not in --help" '
sub(r"^\.SS Other\n", lambda m: ".TP\n\\fB\\-\\-frobnicate\\fR\nFrob.\n.SS Other\n")'
case_ "an argument renamed" "--kernel: argument FILE in --help, PATH in the man page" '
sub(r"\\fB\\-\\-kernel\\fR \\fIFILE\\fR", r"\\fB\\-\\-kernel\\fR \\fIPATH\\fR")'
case_ "a short form dropped" "--jobs: short form -j in --help, None in the man page" '
sub(r"\\fB\\-j\\fR, \\fB\\-\\-jobs\\fR", r"\\fB\\-\\-jobs\\fR")'
case_ "a population type missing" "population types: --help has" '
sub(r"^\.TP\n\.B lazyfree\n[^.]*", "")'
case_ "an exit status missing" "exit statuses: --help has" '
sub(r"^\.TP\n\.B 4\n", ".PP\n")'
case_ "a troff warning (an undefined macro)" "groff -ww warns about" '
sub(r"^\.SH SEE ALSO\n", ".SH SEE ALSO\n.XQ nothing\n")'
case_ "--help with an option the man page lacks" "--frobnicate: in --help, not in the man page" - '/^      --check /i\      --frobnicate N      frob N times'
case_ "--help with an argument renamed" "--json: argument PATH in --help, FILE in the man page" - 's/^      --json FILE /      --json PATH /'
case_ "another version" "does not name version 9.9.9" - '' 9.9.9

echo "selftest: $n cases, $failed wrong"
[ "$failed" = 0 ]
