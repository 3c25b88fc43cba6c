#!/bin/sh
# Check the man page against the program: it renders without a warning
# (groff -ww, and man -l), its version is the program's, and every option
# of `BINARY --help` (its short form and its argument's name), every
# population type and every exit status is in the man page, and nothing
# more: the two cannot drift.
#
#   tests/man/check-man.sh BINARY MANPAGE
#
# The man page documents an option as a .TP whose tag line is
# \fB\-x\fR, \fB\-\-long\fR \fIARG\fR (vmemstress.1 says so at its top);
# --help lists it as "  -x, --long ARG  text". tests/man/selftest.sh shows
# that this check fails on broken copies of either.
set -eu
bin=${1:?usage: check-man.sh BINARY MANPAGE}
man=${2:?usage: check-man.sh BINARY MANPAGE}
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
fail() { echo "check-man: FAIL: $*" >&2; exit 1; }
[ -s "$man" ] || fail "$man is missing or empty"
tmp=$(mktemp -d /tmp/vms-check-man.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

errors=0
bad() { echo "check-man: FAIL: $*" >&2; errors=$((errors + 1)); }

# it renders, with no warning from troff (undefined macros, characters)
LC_ALL=C.UTF-8 groff -t -man -ww -z -Tutf8 "$man" >"$tmp/groff.out" 2>&1 || bad "groff failed on $man"
[ -s "$tmp/groff.out" ] && { sed 's/^/    /' "$tmp/groff.out" >&2; bad "groff -ww warns about $man"; }
LC_ALL=C.UTF-8 MANWIDTH=80 timeout 60 man -l "$man" >"$tmp/man.txt" 2>"$tmp/man.err" </dev/null || bad "man -l $man failed: $(head -3 "$tmp/man.err")"
grep -q '^NAME' "$tmp/man.txt" && grep -q '^OPTIONS' "$tmp/man.txt" ||
	bad "man -l $man rendered no NAME and OPTIONS sections"

timeout 10 "$bin" --help >"$tmp/help" 2>&1 || fail "$bin --help failed"
timeout 10 "$bin" --version >"$tmp/version" 2>&1 || fail "$bin --version failed"

"$PY" - "$tmp/help" "$man" "$tmp/version" >"$tmp/problems" <<'PYEOF' || bad "the comparison itself failed"
import re, sys

help_text = open(sys.argv[1]).read()
man = open(sys.argv[2]).read().splitlines()
version = open(sys.argv[3]).read().split()

# one option line: "-k, --kernel FILE", the short form and ARG optional
OPT = re.compile(r"^(?:(-[A-Za-z0-9]), )?(--[a-z][a-z0-9-]*)(?: ([^ ]+))?$")

def help_options():
    opts, inside = {}, False
    for line in help_text.splitlines():
        if line.startswith("Options:"):
            inside = True
            continue
        if line.startswith("Population types:"):
            break
        if not inside or not re.match(r"^ {2,}-", line):
            continue
        head = re.split(r" {2,}", line.strip(), maxsplit=1)[0]
        m = OPT.match(head)
        if not m:
            print(f"--help: cannot read the option line {line.strip()!r}")
            continue
        opts[m.group(2)] = (m.group(1), m.group(3))
    return opts

def plain(roff):
    # a roff line as text: font changes dropped, \- as -, \e as \
    s = re.sub(r"\\f(?:\[[^]]*\]|\(..|.)", "", roff)
    s = s.replace("\\-", "-").replace("\\e", "\\").replace("\\&", "").replace("\\ ", " ")
    if s.startswith("."):  # a font macro (.B, .BR, ...): its arguments
        s = s.split(None, 1)[1].replace('"', "") if " " in s else ""
    return s.strip()

def section(name):
    out, inside = [], False
    for i, line in enumerate(man):
        if line.startswith(".SH "):
            inside = line[4:].strip().strip('"') == name
            continue
        if inside:
            out.append((i + 1, line))
    return out

def tags(name):
    # the tag line of every .TP in the section
    lines = section(name)
    return [(n, lines[k + 1][1]) for k, (n, l) in enumerate(lines) if l.startswith(".TP") and k + 1 < len(lines)]

def man_options():
    opts = {}
    for n, tag in tags("OPTIONS"):
        m = OPT.match(plain(tag))
        if not m:
            print(f"man page line {n + 1}: an option's tag is not '-x, --long ARG': {plain(tag)!r}")
            continue
        if m.group(2) in opts:
            print(f"man page line {n + 1}: {m.group(2)} documented twice")
        opts[m.group(2)] = (m.group(1), m.group(3))
    return opts

h, m = help_options(), man_options()
if len(h) < 10:
    print(f"--help lists only {len(h)} options: not the help text this check knows")
for o in sorted(set(h) - set(m)):
    print(f"{o}: in --help, not in the man page's OPTIONS")
for o in sorted(set(m) - set(h)):
    print(f"{o}: in the man page, not in --help")
for o in sorted(set(h) & set(m)):
    if h[o][0] != m[o][0]:
        print(f"{o}: short form {h[o][0]} in --help, {m[o][0]} in the man page")
    if h[o][1] != m[o][1]:
        print(f"{o}: argument {h[o][1]} in --help, {m[o][1]} in the man page")

# population types: --help's list and the man page's section
hp = re.findall(r"^  ([a-z][a-z0-9-]*) ", help_text.split("Population types:", 1)[-1].split("\n\n", 1)[0], re.M)
mp = [plain(t).split()[0] for _, t in tags("POPULATION TYPES") if plain(t)]
if not hp:
    print("--help lists no population types")
if hp != mp:
    print(f"population types: --help has {hp}, the man page {mp}")

# exit statuses: "Exit status: 0 pass, 1 ..., 4 skipped" and the .TP tags
exit_para = help_text.split("Exit status:", 1)[-1].split("\n\n", 1)[0] if "Exit status:" in help_text else ""
he = sorted(set(re.findall(r"(?:^|, )(\d) ", " ".join(exit_para.split()))))
me = sorted(plain(t) for _, t in tags("EXIT STATUS"))
if not he or he != me:
    print(f"exit statuses: --help has {he}, the man page {me}")

# the version in .TH
th = [l for l in man if l.startswith(".TH ")]
if not th or (len(version) < 2 or version[1] not in th[0]):
    print(f"the man page's .TH does not name version {version[1] if len(version) > 1 else '?'}: {th[:1]}")
print(f"#ok {len(h)} options, {len(hp)} population types, {len(he)} exit statuses")
PYEOF
while IFS= read -r line; do
	case $line in
	'#ok '*) summary=${line#\#ok } ;;
	*) bad "$line" ;;
	esac
done <"$tmp/problems"

[ "$errors" = 0 ] || fail "$errors problems: $man and $bin --help disagree"
echo "check-man: ok: $man renders; ${summary:-?} agree with --help"
