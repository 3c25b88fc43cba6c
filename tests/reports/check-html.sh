#!/bin/sh
# Check OUT/report.html in a real browser against OUT/suite.json: headless
# Chromium driven over WebDriver (chromedriver, curl), the page's DOM and
# computed colours read by a script, compared in Python with what
# suite.json says each device block did.
#
#   tests/reports/check-html.sh OUT [EXPECT]
#
# Asserts: one run section per run with its verdict; per run with a region,
# one grid per step with one cell per device block (region.size /
# block_size), in block order, each visible; each cell's data-outcome and
# data-reason as derived independently here from steps[].state.map, the
# state before the step, steps[].stayed[] and reached; each cell's computed
# background colour equal to the legend swatch's for its outcome and
# reason; legend colours distinct; the colours of unexpected stays in the
# red family, those of expected stays not. EXPECT, a run id
# (KERNEL/SCENARIO), must show at least one unexpected stay. Writes
# OUT/report.png (the whole page) for humans. Exit status 0 when all hold.
set -eu
out=${1:?usage: check-html.sh OUT [EXPECT]}
expect=${2:-}
out=$(cd "$out" && pwd)
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
fail() { echo "check-html: FAIL: $*" >&2; exit 1; }
for f in suite.json report.html; do
	[ -s "$out/$f" ] || fail "$out/$f is missing or empty"
done
command -v chromedriver >/dev/null || fail "chromedriver is not installed (Debian: chromium-driver)"
chrome=$(command -v chromium || true)
[ -n "$chrome" ] || fail "chromium is not installed"

tmp=$(mktemp -d /tmp/vms-check-html.XXXXXX)
drv_pid="" session="" port=""
cleanup() {
	if [ -n "$session" ]; then
		curl -s --max-time 10 -X DELETE "http://127.0.0.1:$port/session/$session" >/dev/null 2>&1 || true
	fi
	if [ -n "$drv_pid" ]; then
		# chromedriver runs in its own process group (setsid): end it and
		# whatever it started, by that id
		kill -TERM -- "-$drv_pid" 2>/dev/null || kill -TERM "$drv_pid" 2>/dev/null || true
		i=0
		while kill -0 "$drv_pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
		kill -KILL -- "-$drv_pid" 2>/dev/null || true
	fi
	# any browser process still using our private profile is ours: end it by pid
	for p in $(pgrep -f "$tmp/profile" 2>/dev/null || true); do kill -KILL "$p" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
setsid chromedriver --port="$port" --allowed-ips=127.0.0.1 >"$tmp/chromedriver.log" 2>&1 &
drv_pid=$!
i=0
until curl -s --max-time 2 "http://127.0.0.1:$port/status" 2>/dev/null | grep -q '"ready": *true'; do
	i=$((i + 1))
	[ $i -lt 100 ] || { cat "$tmp/chromedriver.log" >&2; fail "chromedriver did not get ready on port $port within 20 s"; }
	kill -0 "$drv_pid" 2>/dev/null || { cat "$tmp/chromedriver.log" >&2; fail "chromedriver exited"; }
	sleep 0.2
done

# wd METHOD PATH [JSON]: one WebDriver call, its "value" on stdout
wd() {
	if [ $# -ge 3 ]; then
		printf '%s' "$3" >"$tmp/req.json"
		curl -s --max-time 120 -X "$1" -H 'Content-Type: application/json' --data-binary @"$tmp/req.json" \
			"http://127.0.0.1:$port$2" >"$tmp/resp.json" || fail "WebDriver $1 $2: no answer"
	else
		curl -s --max-time 120 -X "$1" "http://127.0.0.1:$port$2" >"$tmp/resp.json" || fail "WebDriver $1 $2: no answer"
	fi
	if jq -e '.value.error? // empty' "$tmp/resp.json" >/dev/null 2>&1; then
		fail "WebDriver $1 $2: $(jq -r '.value.error + ": " + (.value.message | split("\n")[0])' "$tmp/resp.json")"
	fi
	jq -c '.value' "$tmp/resp.json"
}

caps=$(jq -nc --arg bin "$chrome" --arg prof "$tmp/profile" '{capabilities: {alwaysMatch: {browserName: "chrome",
	"goog:chromeOptions": {binary: $bin, args: ["--headless=new", "--no-sandbox", "--disable-gpu",
	"--disable-dev-shm-usage", "--user-data-dir=\($prof)", "--window-size=1300,1000", "--hide-scrollbars"]}}}}')
session=$(wd POST /session "$caps" | jq -r '.sessionId')
[ -n "$session" ] && [ "$session" != null ] || fail "no WebDriver session"
S=/session/$session
wd POST "$S/timeouts" '{"script": 60000, "pageLoad": 60000}' >/dev/null
wd POST "$S/url" "$(jq -nc --arg u "file://$out/report.html" '{url: $u}')" >/dev/null

# What the browser shows: the legend's colours, every grid's cells with
# their attributes, computed colour and size, the run sections.
cat >"$tmp/probe.js" <<'EOF'
const legend = {};
for (const s of document.querySelectorAll('#legend .sw[data-outcome]'))
	legend[s.dataset.outcome + '|' + s.dataset.reason] = getComputedStyle(s).backgroundColor;
const grids = [];
for (const g of document.querySelectorAll('.grid')) {
	const cells = [];
	for (const c of g.querySelectorAll('[data-block]')) {
		const r = c.getBoundingClientRect();
		cells.push([c.dataset.block, c.dataset.outcome, c.dataset.reason, getComputedStyle(c).backgroundColor,
			    Math.round(r.width), Math.round(r.height)]);
	}
	const sec = g.closest('section.run');
	grids.push({run: sec ? sec.dataset.run : null, step: g.dataset.step, blocks: g.dataset.blocks, cells});
}
const runs = [...document.querySelectorAll('section.run')].map(s => ({id: s.dataset.run, verdict: s.dataset.verdict}));
return {legend, grids, runs, scripts: document.scripts.length,
	height: Math.ceil(document.documentElement.scrollHeight)};
EOF
wd POST "$S/execute/sync" "$(jq -nc --rawfile s "$tmp/probe.js" '{script: $s, args: []}')" >"$tmp/page.json"

# the whole page as one PNG, for people
height=$(jq -r '.height' "$tmp/page.json")
[ "$height" -gt 16000 ] 2>/dev/null && height=16000
wd POST "$S/window/rect" "{\"width\": 1300, \"height\": $height}" >/dev/null
wd GET "$S/screenshot" >"$tmp/shot.json"
jq -r . "$tmp/shot.json" | base64 -d >"$out/report.png" && [ -s "$out/report.png" ] || fail "screenshot failed"
echo "check-html: screenshot $out/report.png"

"$PY" - "$out/suite.json" "$tmp/page.json" "$expect" <<'EOF'
import colorsys, json, re, sys

suite = json.load(open(sys.argv[1]))
page = json.load(open(sys.argv[2]))
expect = sys.argv[3]
errors = []
def err(msg):
    if len(errors) < 40:
        errors.append(msg)

def obj(v):
    return v if isinstance(v, dict) else {}
def arr(v):
    return v if isinstance(v, list) else []
def num(v):
    return v if isinstance(v, (int, float)) and not isinstance(v, bool) else None

def rgb(css):
    m = re.match(r'rgba?\((\d+),\s*(\d+),\s*(\d+)(?:,\s*([\d.]+))?\)', css or '')
    if not m:
        return None
    if m.group(4) is not None and float(m.group(4)) == 0:
        return None  # transparent: no colour at all
    return tuple(int(m.group(i)) for i in (1, 2, 3))

def red_family(c):
    h, s, v = colorsys.rgb_to_hsv(*(x / 255 for x in c))
    return (h * 360 >= 335 or h * 360 <= 25) and s >= 0.55 and v >= 0.3

VERDICTS = ("pass", "fail", "error", "skip")
def verdict(run):
    v = obj(run).get("verdict")
    return v if v in VERDICTS else "error"

# the page's sections against the runs
runs = [r for r in arr(suite.get("runs")) if isinstance(r, dict)]
secs = page["runs"]
if [s["id"] for s in secs] != [r.get("id", "") for r in runs]:
    err(f"run sections {[s['id'] for s in secs]} != runs in suite.json {[r.get('id') for r in runs]}")
for s, r in zip(secs, runs):
    if s["verdict"] != verdict(r):
        err(f"run {r.get('id')}: section shows verdict {s['verdict']}, suite.json says {verdict(r)}")
if page["scripts"]:
    err(f"the page has {page['scripts']} scripts: it must be complete without them")

# the legend: every outcome and reason, distinct colours, failures red
legend = {k: rgb(v) for k, v in page["legend"].items()}
reasons = ["gup-reference", "longterm-pin", "isolation-false-positive", "migration-refused",
           "unaccounted-reference", "unmovable-allocation", "unmovable-in-movable-zone", "transient-reference",
           "offlining-stuck", "not-retried", "memory-block-not-removed", "offlining-refused", "driver-gave-up",
           "hugetlb-unmigratable", "no-migration-target", "unknown"]
wanted = [f"{o}|" for o in ("went", "off", "kept", "known-bug", "unknown")] + \
         [f"stayed-expected|{r}" for r in reasons] + [f"stayed-unexpected|{r}" for r in reasons]
for k in wanted:
    if legend.get(k) is None:
        err(f"legend: no colour for {k}")
seen = {}
for k, c in legend.items():
    if c is not None and c in seen:
        err(f"legend: {k} and {seen[c]} have the same colour {c}")
    seen.setdefault(c, k)
for r in reasons:
    c = legend.get(f"stayed-unexpected|{r}")
    if c and not red_family(c):
        err(f"legend: unexpected stays for {r} are {c}, not in the red family")
    c = legend.get(f"stayed-expected|{r}")
    if c and red_family(c):
        err(f"legend: expected stays for {r} are {c}, a failure red")

# the grids: recompute every cell's outcome from the report
def outcome(step, prev_map, b):
    state = obj(step.get("state"))
    m = state.get("map") if isinstance(state.get("map"), str) else ""
    p = prev_map[b] if prev_map and b < len(prev_map) else "?"
    c = m[b] if b < len(m) else "?"
    stayed = {}
    for v in arr(step.get("stayed")):
        if isinstance(v, dict) and isinstance(v.get("block"), int) and not isinstance(v.get("block"), bool):
            stayed.setdefault(v["block"], v)
    v = stayed.get(b)
    if v is not None:
        reason = v.get("reason") if v.get("reason") in reasons else "unknown"
        if isinstance(v.get("known_bug"), dict):
            return "known-bug", reason
        return ("stayed-expected" if v.get("expected") is True else "stayed-unexpected"), reason
    if c == "P":
        return ("kept" if step.get("reached") is True or stayed else "unknown"), ""
    if c == "U":
        return ("off" if p == "U" else "went"), ""
    return "unknown", ""

grids = {}
for g in page["grids"]:
    grids.setdefault(g["run"], []).append(g)
unexpected_seen = {}
for r in runs:
    rid = r.get("id", "")
    rep = obj(r.get("report"))
    reg = obj(rep.get("region"))
    size, bs = num(reg.get("size")), num(reg.get("block_size"))
    steps = [s for s in arr(rep.get("steps")) if isinstance(s, dict)]
    have = rid in grids
    if not (size and bs and size > 0 and bs > 0 and size % bs == 0) or not steps:
        if have:
            err(f"run {rid}: grids drawn without a region and steps")
        continue
    n = int(size // bs)
    got = grids.get(rid, [])
    if len(got) != len(steps):
        err(f"run {rid}: {len(got)} grids for {len(steps)} steps")
        continue
    m = obj(rep.get("populate")).get("map")
    prev = m if isinstance(m, str) else None
    for si, (step, g) in enumerate(zip(steps, got)):
        where = f"run {rid} step {step.get('name')}"
        cells = g["cells"]
        if len(cells) != n:
            err(f"{where}: {len(cells)} cells, the region has {n} device blocks")
        for b, cell in enumerate(cells[:n]):
            blk, oc, rs, col, w, h = cell
            if blk != str(b):
                err(f"{where}: cell {b} has data-block {blk}")
                break
            want = outcome(step, prev, b)
            if (oc, rs) != want:
                err(f"{where}: block {b} is {oc}/{rs}, suite.json says {want[0]}/{want[1]}")
            # a known bug has one colour whatever its reason
            c, lc = rgb(col), legend.get(f"{oc}|" if oc == "known-bug" else f"{oc}|{rs}")
            if c is None or c != lc:
                err(f"{where}: block {b} ({oc}/{rs}) is coloured {col}, the legend says {lc}")
            if w < 4 or h < 4:
                err(f"{where}: block {b} is {w}x{h} px: not visible")
            if oc == "stayed-unexpected":
                unexpected_seen[rid] = unexpected_seen.get(rid, 0) + 1
                if c and not red_family(c):
                    err(f"{where}: unexpected stay of block {b} is {col}, not a failure colour")
        after = obj(step.get("final_state")) or obj(step.get("state"))
        prev = after.get("map") if isinstance(after.get("map"), str) else prev
    # a failed run's unexpected stays: as many red cells as stayed entries
    want_red = sum(1 for s in steps for v in arr(s.get("stayed"))
                   if isinstance(v, dict) and v.get("expected") is not True and not isinstance(v.get("known_bug"), dict))
    if unexpected_seen.get(rid, 0) != want_red:
        err(f"run {rid}: {unexpected_seen.get(rid, 0)} cells show unexpected stays, its report has {want_red}")
for rid in grids:
    if rid not in [r.get("id", "") for r in runs]:
        err(f"grid for a run not in suite.json: {rid}")
if expect:
    if expect not in [r.get("id") for r in runs]:
        err(f"EXPECT {expect}: no such run in suite.json")
    elif not unexpected_seen.get(expect):
        err(f"EXPECT {expect}: no cell shows an unexpected stay")

ncells = sum(len(g["cells"]) for g in page["grids"])
if errors:
    for e in errors:
        print("check-html: FAIL:", e, file=sys.stderr)
    sys.exit(1)
print(f"check-html: ok: {len(runs)} runs, {len(page['grids'])} grids, {ncells} cells match suite.json and the legend"
      + (f"; {expect} shows {unexpected_seen[expect]} unexpected stays" if expect else ""))
EOF
