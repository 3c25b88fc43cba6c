#!/bin/sh
# Check OUT/results.ktap with the kernel's own KTAP parser,
# tools/testing/kunit/kunit.py from Debian's linux-source-6.1, against
# OUT/suite.json.
#
#   tests/reports/check-ktap.sh OUT
#
# The parser comes from tests/reports/kunit-path.sh.
#
# Asserts: kunit.py parse reports no parse error and its exit status is 0
# exactly when no run failed or errored and not every run was skipped; its totals (ran, passed, failed,
# skipped, crashed) match suite.json (an error is "not ok ... # ERROR", so
# it counts as failed); its JSON has one group per kernel in order with one
# test case per run, named as the scenario, with PASS, FAIL or SKIP as the
# run's verdict says.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${BUILD:-$top/build}
out=${1:?usage: check-ktap.sh OUT}
[ -d "$out" ] || { echo "check-ktap: FAIL: no directory $out" >&2; exit 1; }
out=$(cd "$out" && pwd)  # kunit.py changes into the kernel tree
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
fail() { echo "check-ktap: FAIL: $*" >&2; exit 1; }
for f in suite.json results.ktap; do
	[ -s "$out/$f" ] || fail "$out/$f is missing or empty"
done

tmp=$(mktemp -d /tmp/vms-check-ktap.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

kunit=$("$here/kunit-path.sh") || fail "cannot get kunit.py (tests/reports/kunit-path.sh)"

rc=0
(cd "$tmp" && timeout 120 "$PY" "$kunit/kunit.py" parse --json="$tmp/kunit.json" "$out/results.ktap") \
	>"$tmp/parse.log" 2>&1 || rc=$?
"$PY" - "$out/suite.json" "$tmp/parse.log" "$tmp/kunit.json" "$rc" <<'EOF'
import json, re, sys

suite = json.load(open(sys.argv[1]))
log = open(sys.argv[2], errors="replace").read()
rc = int(sys.argv[4])
errors = []
def err(m):
    errors.append(m)

runs = [r for r in suite.get("runs") or [] if isinstance(r, dict)]
def verdict(r):
    v = r.get("verdict")
    return v if v in ("pass", "fail", "error", "skip") else "error"
def kernel(r):
    k = (r.get("kernel") or {}).get("name") if isinstance(r.get("kernel"), dict) else None
    return k or (r.get("id", "").split("/")[0] or "unknown-kernel")
def scenario(r):
    s = (r.get("scenario") or {}).get("name") if isinstance(r.get("scenario"), dict) else None
    return s or (r.get("id", "").split("/")[-1] or "unknown-scenario")
def ktap_name(s):
    # what host/suite/suite-ktap.c makes of a name: one line, no '#', trimmed
    s = "".join(" " if ord(c) < 0x20 or c == "\x7f" or 0x80 <= ord(c) <= 0x9f else "_" if c == "#" else c for c in s)
    s = s.strip(" ")
    if s.startswith("-"):
        s = "_" + s[1:]
    return s or "unnamed"

n = {v: sum(1 for r in runs if verdict(r) == v) for v in ("pass", "fail", "error", "skip")}
if "[ERROR]" in log:
    err("kunit.py reports parse errors:\n" + "\n".join(l for l in log.splitlines() if "[ERROR]" in l))
# kunit.py parse exits 1 unless the whole tree is SUCCESS: a failed or
# errored run, and also a tree whose every test was skipped (SKIPPED)
want_rc = 1 if n["fail"] + n["error"] or (runs and n["skip"] == len(runs)) else 0
if rc != want_rc:
    err(f"kunit.py parse exited {rc}, expected {want_rc} ({n['fail']} failed, {n['error']} errored runs)")
m = re.search(r"Testing complete\. Ran (\d+) tests:?(.*)", log)
if not m:
    err("kunit.py printed no 'Testing complete' summary")
else:
    got = {k: int(v) for k, v in re.findall(r"(\w+): (\d+)", m.group(2))}
    want = {"passed": n["pass"], "failed": n["fail"] + n["error"], "skipped": n["skip"], "crashed": 0, "errors": 0}
    if int(m.group(1)) != len(runs):
        err(f"kunit.py ran {m.group(1)} tests, suite.json has {len(runs)} runs")
    for k, v in want.items():
        if got.get(k, 0) != v:
            err(f"kunit.py counts {got.get(k, 0)} {k}, suite.json says {v}")
try:
    tree = json.load(open(sys.argv[3]))
except (OSError, ValueError) as e:
    tree = None
    err(f"kunit.py wrote no JSON: {e}")
if tree is not None:
    kernels = []
    for r in runs:
        if kernel(r) not in kernels:
            kernels.append(kernel(r))
    groups = tree.get("sub_groups", [])
    if [g["name"] for g in groups] != [ktap_name(k) for k in kernels]:
        err(f"kernels parsed {[g['name'] for g in groups]}, suite.json has {kernels}")
    status = {"pass": "PASS", "fail": "FAIL", "error": "FAIL", "skip": "SKIP"}
    for g, k in zip(groups, kernels):
        want = [(ktap_name(scenario(r)), status[verdict(r)]) for r in runs if kernel(r) == k]
        got = [(t["name"], t["status"]) for t in g.get("test_cases", [])]
        if got != want:
            err(f"kernel {k}: parsed {got}, suite.json says {want}")
if errors:
    for e in errors:
        print("check-ktap: FAIL:", e, file=sys.stderr)
    print("check-ktap: kunit.py output:\n" + log, file=sys.stderr)
    sys.exit(1)
print(f"check-ktap: ok: kunit.py parsed {len(runs)} tests ({n['pass']} passed, {n['fail'] + n['error']} failed, "
      f"{n['skip']} skipped) as suite.json says")
EOF
