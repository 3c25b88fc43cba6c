#!/bin/sh
# Check a suite's KCIDB I/O JSON (vmemstress --kcidb FILE) against the
# vendored KCIDB schema (third_party/kcidb-io/, version 5.3) with
# jsonschema's Draft7Validator, as kcidb-io validates, then against the
# suite's own suite.json.
#
#   tests/reports/check-kcidb.sh OUT [KCIDB.json]    (default OUT/kcidb.json)
#
# Asserts: valid against the schema, with date-time formats checked (and
# every URL an RFC 3986 file:// URI: the "uri" format needs a module Debian's
# jsonschema lacks); version 5.3; ids unique per type and every one of
# origin vmemstress; every test's build and every build's checkout exist;
# one build per kernel, its release as suite.json says; one test per run
# (misc.run), with the status its verdict gives (pass PASS, fail FAIL,
# skip SKIP, error ERROR, not run MISS), path vmemstress.SCENARIO, the
# run's duration and start time (the suite's start plus started_ms);
# misc's verdict and failures are the run's; misc.stuck_blocks covers every
# block that stayed in the run's report once (same step, owner, reason and
# known bug, block counts adding up), misc.known_bugs names exactly the
# report's; output_files are files of the run's directory that exist,
# report.json among them when the run has a report, log_url its report.txt.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
schema=$top/third_party/kcidb-io/kcidb-io.schema.v5.3.json
out=${1:?usage: check-kcidb.sh OUT [KCIDB.json]}
kcidb=${2:-$out/kcidb.json}
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
fail() { echo "check-kcidb: FAIL: $*" >&2; exit 1; }
[ -s "$out/suite.json" ] || fail "$out/suite.json is missing or empty"
[ -s "$kcidb" ] || fail "$kcidb is missing or empty"
[ -s "$schema" ] || fail "the vendored schema $schema is missing"

"$PY" - "$schema" "$kcidb" "$out/suite.json" <<'PYEOF'
import datetime, json, os, re, sys, urllib.parse
try:
    import jsonschema
except ImportError:
    print("check-kcidb: FAIL: python3-jsonschema is not installed", file=sys.stderr)
    sys.exit(1)

schema = json.load(open(sys.argv[1]))
try:
    data = json.load(open(sys.argv[2], encoding="utf-8"))
except ValueError as e:
    print(f"check-kcidb: FAIL: {sys.argv[2]} is not JSON: {e}", file=sys.stderr)
    sys.exit(1)
suite = json.load(open(sys.argv[3]))
errors = []
err = errors.append

v = jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
for e in sorted(v.iter_errors(data), key=lambda e: list(e.absolute_path))[:20]:
    err(f"schema: at {'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message[:300]}")
if errors:
    for e in errors:
        print("check-kcidb: FAIL:", e, file=sys.stderr)
    sys.exit(1)

# RFC 3986 characters only, a file URL with an absolute path
URI = re.compile(r"^file://(/[A-Za-z0-9\-._~!$&'()*+,;=:@/%]*)$")
def url_path(u, where):
    m = URI.match(u or "")
    if not m or re.search(r"%(?![0-9A-Fa-f]{2})", u):
        err(f"{where}: {u!r} is not a file:// URI")
        return None
    return urllib.parse.unquote(m.group(1))

if data.get("version") != {"major": 5, "minor": 3}:
    err(f"version {data.get('version')}, expected 5.3")
objs = {k: data.get(k, []) for k in ("checkouts", "builds", "tests")}
for kind, items in objs.items():
    ids = [o["id"] for o in items]
    for d in sorted({i for i in ids if ids.count(i) > 1}):
        err(f"{kind}: id {d} is not unique")
    for o in items:
        if o.get("origin") != "vmemstress" or not o["id"].startswith("vmemstress:"):
            err(f"{kind}: {o['id']}: origin {o.get('origin')}, not vmemstress")
checkout_ids = {o["id"] for o in objs["checkouts"]}
build_ids = {o["id"]: o for o in objs["builds"]}
for b in objs["builds"]:
    if b.get("checkout_id") not in checkout_ids:
        err(f"build {b['id']}: its checkout {b.get('checkout_id')} is not in the file")

runs = [r for r in suite.get("runs", [])]
kernels = []
for r in runs:
    if r["kernel"]["name"] not in kernels:
        kernels.append(r["kernel"]["name"])
if len(objs["builds"]) != len(kernels):
    err(f"{len(objs['builds'])} builds, suite.json has {len(kernels)} kernels")
for b in objs["builds"]:
    k = (b.get("misc") or {}).get("kernel")
    rel = [r["kernel"]["release"] for r in runs if r["kernel"]["name"] == k]
    if not rel:
        err(f"build {b['id']}: kernel {k} is not in suite.json")
    elif (b.get("misc") or {}).get("release") != rel[0]:
        err(f"build {b['id']}: release {(b.get('misc') or {}).get('release')}, suite.json says {rel[0]}")

tests = {}
for t in objs["tests"]:
    rid = (t.get("misc") or {}).get("run")
    if rid in tests:
        err(f"run {rid} has two tests")
    tests[rid] = t
    if t.get("build_id") not in build_ids:
        err(f"test {t['id']}: its build {t.get('build_id')} is not in the file")
if len(objs["tests"]) != len(runs):
    err(f"{len(objs['tests'])} tests, suite.json has {len(runs)} runs")

started = datetime.datetime.strptime(suite["suite"]["started"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
for r in runs:
    t = tests.get(r["id"])
    if t is None:
        err(f"run {r['id']}: no test")
        continue
    m = t.get("misc") or {}
    where = f"run {r['id']}"
    notrun = r["verdict"] == "error" and (r.get("error") or "").startswith("not run")
    want = "MISS" if notrun else {"pass": "PASS", "fail": "FAIL", "skip": "SKIP", "error": "ERROR"}[r["verdict"]]
    if t["status"] != want:
        err(f"{where}: status {t['status']}, its verdict {r['verdict']} gives {want}")
    path = "vmemstress." + re.sub(r"[^A-Za-z0-9_-]", "_", r["scenario"]["name"])
    if t.get("path") != path:
        err(f"{where}: path {t.get('path')}, expected {path}")
    if (t.get("build_id") or "").split("/")[-1] != r["kernel"]["name"] or build_ids.get(t.get("build_id"), {}).get("misc", {}).get("kernel") != r["kernel"]["name"]:
        err(f"{where}: build {t.get('build_id')} is not kernel {r['kernel']['name']}'s")
    if m.get("verdict") != r["verdict"] or m.get("failures") != r["failures"]:
        err(f"{where}: misc says {m.get('verdict')} {m.get('failures')}, suite.json {r['verdict']} {r['failures']}")
    if not notrun:
        if abs(t.get("duration", -1) - r["elapsed_ms"] / 1000) > 0.0015:
            err(f"{where}: duration {t.get('duration')}, elapsed_ms {r['elapsed_ms']}")
        st = t.get("start_time")
        want_st = started + datetime.timedelta(milliseconds=r["started_ms"])
        if not st or datetime.datetime.fromisoformat(st) != want_st:
            err(f"{where}: start_time {st}, expected {want_st.isoformat()}")
    # the stuck blocks: every stayed entry of every step, once
    rep = r.get("report") or {}
    want_blocks = {}
    for s in rep.get("steps") or []:
        for b in s.get("stayed") or []:
            key = (s["name"], b.get("owner"), b["reason"], (b.get("known_bug") or {}).get("name"))
            want_blocks[key] = want_blocks.get(key, 0) + 1
    got_blocks = {}
    for b in m.get("stuck_blocks") or []:
        key = (b.get("step"), b.get("owner"), b.get("reason"), (b.get("known_bug") or {}).get("name"))
        got_blocks[key] = got_blocks.get(key, 0) + b.get("count", 0)
        n = b.get("blocks", "")
        lo, _, hi = n.partition("-")
        if not lo.isdigit() or (hi and not hi.isdigit()) or int(hi or lo) - int(lo) + 1 != b.get("count"):
            err(f"{where}: stuck blocks {n!r} but count {b.get('count')}")
    if got_blocks != want_blocks:
        err(f"{where}: misc.stuck_blocks has {got_blocks}, the report's stayed blocks are {want_blocks}")
    want_bugs = sorted({k[3] for k in want_blocks if k[3]})
    if sorted(m.get("known_bugs") or []) != want_bugs:
        err(f"{where}: misc.known_bugs {m.get('known_bugs')}, the report matched {want_bugs}")
    if sorted(m.get("reasons") or []) != sorted({k[2] for k in want_blocks}):
        err(f"{where}: misc.reasons {m.get('reasons')}, the report's {sorted({k[2] for k in want_blocks})}")
    # the run's files
    names = []
    for f in t.get("output_files") or []:
        p = url_path(f["url"], where)
        names.append(f["name"])
        if p is None:
            continue
        if not p.endswith("/" + r["dir"] + "/" + f["name"]):
            err(f"{where}: output file {f['name']} at {p}, not in the run's directory {r['dir']}")
        elif not os.path.isfile(p):
            err(f"{where}: output file {p} does not exist")
    if r.get("report") is not None and "report.json" not in names:
        err(f"{where}: has a report, but report.json is not among its output files {names}")
    if "report.txt" in names:
        lu = url_path(t.get("log_url"), where + " log_url")
        if lu is not None and not lu.endswith("/" + r["dir"] + "/report.txt"):
            err(f"{where}: log_url {t.get('log_url')} is not its report.txt")
    for f in t.get("input_files") or []:
        p = url_path(f["url"], where)
        if p is not None and not os.path.isfile(p):
            err(f"{where}: input file {p} does not exist")

if errors:
    for e in errors:
        print("check-kcidb: FAIL:", e, file=sys.stderr)
    sys.exit(1)
n = {s: sum(1 for t in objs["tests"] if t["status"] == s) for s in ("PASS", "FAIL", "ERROR", "MISS", "SKIP")}
print(f"check-kcidb: ok: valid KCIDB 5.3; {len(objs['tests'])} tests ("
      + ", ".join(f"{v} {k}" for k, v in n.items() if v) + f") on {len(objs['builds'])} builds match suite.json")
PYEOF
