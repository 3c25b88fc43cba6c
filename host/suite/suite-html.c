/* The suite result as one self-contained HTML page: inline CSS, no script,
 * nothing fetched. A header with the summary and the changes against the
 * baseline, a kernel x scenario matrix, one legend, then per run its
 * verdict, findings, the virtio-mem region as a grid of device blocks per
 * step (one cell per device block, coloured by outcome and reason, rows of
 * one memory block) and the device's plugged size against the requested
 * size over time as inline SVG. Errored runs show the error and the console
 * tail.
 *
 * Every cell carries data-block, data-outcome and data-reason; its colour
 * comes from the class the legend's swatch for the same outcome and reason
 * uses (tests/reports/check-html.sh compares them in a real browser). */
#define _GNU_SOURCE
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/reasons.h"
#include "suite/suite-report.h"

/* A region larger than this many device blocks is not drawn (1 TiB of
 * 2 MiB blocks); garbage sizes must not make a page of gigabytes. */
#define MAX_CELLS (1u << 19)

static const char *const reason_names[] = {
#define NAME(id, name, text) name,
	VMS_REASONS(NAME)
#undef NAME
};
static const char *const reason_texts[] = {
#define TEXT(id, name, text) text,
	VMS_REASONS(TEXT)
#undef TEXT
};

/* Per reason: muted when the scenario allows the stay, a strong colour of
 * the red family when it does not (hue within 25 degrees of red, so a
 * failure reads as a failure whatever its reason). */
static const struct {
	const char *expected, *unexpected;
} reason_colors[VMS_REASON_COUNT] = {
	[VMS_REASON_GUP_REFERENCE] = { "#f3c98b", "#e4572e" },
	[VMS_REASON_LONGTERM_PIN] = { "#d8b4a0", "#b3261e" },
	[VMS_REASON_ISOLATION_FALSE_POSITIVE] = { "#e6b8d8", "#d81b60" },
	[VMS_REASON_MIGRATION_REFUSED] = { "#d9c2a7", "#c62828" },
	[VMS_REASON_UNACCOUNTED_REFERENCE] = { "#e8a9a0", "#ff1744" },
	[VMS_REASON_UNMOVABLE_ALLOCATION] = { "#a8c8cc", "#7f0000" },
	[VMS_REASON_UNMOVABLE_IN_MOVABLE] = { "#b9a3c9", "#9e1b32" },
	[VMS_REASON_TRANSIENT_REFERENCE] = { "#eee09a", "#ff6f59" },
	[VMS_REASON_OFFLINING_STUCK] = { "#c9d3a3", "#e53935" },
	[VMS_REASON_NOT_RETRIED] = { "#c5c9e0", "#c2185b" },
	[VMS_REASON_MEMORY_BLOCK_NOT_REMOVED] = { "#bcaaa4", "#bf360c" },
	[VMS_REASON_OFFLINING_REFUSED] = { "#d7ccc8", "#ff5252" },
	[VMS_REASON_DRIVER_GAVE_UP] = { "#b0bec5", "#d50000" },
	[VMS_REASON_HUGETLB_UNMIGRATABLE] = { "#c5e1a5", "#ef5350" },
	[VMS_REASON_NO_MIGRATION_TARGET] = { "#e0cda9", "#f4511e" },
	[VMS_REASON_UNKNOWN] = { "#cfcfcf", "#5d0a14" },
};

/* Outcomes without a reason. */
static const struct {
	const char *outcome, *cls, *color, *label;
} plain_outcomes[] = {
	{ "went", "o-went", "#bfe3c6", "unplugged in this step (went)" },
	{ "off", "o-off", "#eef0f3", "not plugged before nor after this step" },
	{ "kept", "o-kept", "#6f9fd8", "plugged and still requested (kept)" },
	{ "known-bug", "o-kb", "#6a1b9a", "stayed: a known kernel bug (any reason)" },
	{ "unknown", "o-unknown", "#3c3c3c", "plugged, not attributed (no reason recorded)" },
};

static const struct {
	const char *verdict, *color;
} verdict_colors[] = {
	{ "pass", "#2e7d32" }, { "fail", "#c62828" }, { "error", "#e65100" }, { "skip", "#757575" },
};

static int reason_index(const char *name)
{
	int r = name ? vms_reason_from_name(name) : -1;
	return r >= 0 ? r : VMS_REASON_UNKNOWN;
}

static void put(FILE *f, const char *s)
{
	sr_put_markup(f, s, SR_TEXT);
}

static void put_attr(FILE *f, const char *name, const char *value)
{
	fprintf(f, " %s=\"", name);
	sr_put_markup(f, value, SR_ATTR);
	fputc('"', f);
}

/* A relative path into the suite's output directory: only then a link
 * (no scheme, no "..", no absolute path: "javascript:" never becomes an
 * href). */
static bool safe_rel_path(const char *p)
{
	if (!p || !*p || *p == '/' || strstr(p, ".."))
		return false;
	for (const char *c = p; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || strchr("._-/", *c)))
			return false;
	return true;
}

static void put_file_links(FILE *f, struct json_object *run)
{
	static const char *const files[] = { "report.txt", "report.json", "console.log", "kernel.log",
					     "qmp.log",    "guest.log",   "run.log" };
	const char *dir = sr_str(run, "dir", NULL);
	fputs("<p class=\"files\">files: ", f);
	if (!safe_rel_path(dir)) {
		fputs("<code>", f);
		put(f, dir ? dir : "(no directory)");
		fputs("</code></p>\n", f);
		return;
	}
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		fprintf(f, "<a href=\"%s/%s\">%s</a> ", dir, files[i], files[i]);
	}
	fputs("<code>", f);
	put(f, dir);
	fputs("</code></p>\n", f);
}

static void put_css(FILE *f)
{
	fputs("<style>\n"
	      ":root{--fg:#1d2330;--muted:#5b6475;--line:#d9dee7;--bg:#f6f7f9}\n"
	      "*{box-sizing:border-box}\n"
	      "body{margin:0;font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:var(--fg);background:var(--bg)}\n"
	      "main{max-width:1180px;margin:0 auto;padding:0 20px 40px}\n"
	      "header.top{background:#fff;border-bottom:1px solid var(--line);padding:18px 20px 14px;margin-bottom:18px}\n"
	      "header.top>div{max-width:1180px;margin:0 auto}\n"
	      "h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:0}h3{font-size:14px;margin:14px 0 6px}\n"
	      ".meta{color:var(--muted);font-size:13px}\n"
	      ".badge{display:inline-block;border-radius:4px;padding:1px 8px;color:#fff;font-weight:600;font-size:12px;"
	      "text-transform:uppercase;letter-spacing:.03em;vertical-align:middle}\n"
	      ".pills{display:flex;gap:8px;flex-wrap:wrap;margin:10px 0 4px}\n"
	      ".pill{background:#fff;border:1px solid var(--line);border-radius:6px;padding:4px 12px;font-size:13px}\n"
	      ".pill b{font-size:16px;margin-right:4px}\n"
	      ".card{background:#fff;border:1px solid var(--line);border-radius:8px;padding:14px 16px;margin:0 0 16px}\n"
	      ".changes ul{margin:4px 0 8px 18px;padding:0}.changes li{margin:1px 0}\n"
	      "table.matrix{border-collapse:collapse;font-size:13px}\n"
	      "table.matrix th,table.matrix td{border:1px solid var(--line);padding:4px 8px;text-align:center}\n"
	      "table.matrix th{background:#fafbfc;font-weight:600}\n"
	      "table.matrix a{text-decoration:none}\n"
	      ".legend{display:flex;flex-wrap:wrap;gap:4px 14px;font-size:12px}\n"
	      ".legend .item{display:flex;align-items:center;gap:6px}\n"
	      ".sw{display:inline-block;width:14px;height:14px;border-radius:2px;border:1px solid rgba(0,0,0,.15)}\n"
	      "section.run{background:#fff;border:1px solid var(--line);border-left:6px solid #999;border-radius:8px;"
	      "padding:12px 16px;margin:0 0 16px}\n"
	      "section.run .head{display:flex;align-items:baseline;gap:10px;flex-wrap:wrap}\n"
	      ".files a{margin-right:6px}\n"
	      ".findings li{margin:2px 0}\n"
	      ".sig{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px}\n"
	      ".tag{font-size:11px;border-radius:3px;padding:0 5px;margin-right:4px;color:#fff}\n"
	      ".tag.new{background:#c62828}.tag.known{background:#8d6e63}.tag.fixed{background:#2e7d32}.tag.newrun{background:#1565c0}"
	      ".tag.same{background:#9aa3b2}\n"
	      ".step{margin:10px 0 14px}\n"
	      ".grid{display:grid;gap:1px;align-items:center;justify-content:start;margin:6px 0}\n"
	      ".grid .rl{font:10px ui-monospace,monospace;color:var(--muted);padding-right:6px;text-align:right;white-space:nowrap}\n"
	      ".c{display:block;width:11px;height:11px;border-radius:1px;position:relative}\n"
	      ".c.rel::after{content:'';position:absolute;right:0;bottom:0;border-style:solid;border-width:0 0 5px 5px;"
	      "border-color:transparent transparent #fff transparent}\n"
	      ".c.sar{box-shadow:inset 0 0 0 2px #111}\n"
	      ".chips{display:flex;flex-wrap:wrap;gap:4px 12px;font-size:12px;color:var(--muted)}\n"
	      ".chips span.item{display:flex;align-items:center;gap:5px}\n"
	      "pre{background:#111827;color:#e5e7eb;padding:10px;border-radius:6px;overflow:auto;max-height:360px;font-size:12px}\n"
	      ".error{color:#b71c1c;font-weight:600}\n"
	      "svg.chart{width:100%;max-width:820px;height:auto;display:block;margin:4px 0}\n"
	      "svg.chart text{font:11px system-ui,sans-serif;fill:#5b6475}\n"
	      "details{margin:6px 0}summary{cursor:pointer;color:var(--muted)}\n",
	      f);
	for (size_t i = 0; i < sizeof(plain_outcomes) / sizeof(plain_outcomes[0]); i++)
		fprintf(f, ".%s{background-color:%s}\n", plain_outcomes[i].cls, plain_outcomes[i].color);
	for (int r = 0; r < VMS_REASON_COUNT; r++)
		fprintf(f, ".e-%s{background-color:%s}\n.u-%s{background-color:%s}\n", reason_names[r],
			reason_colors[r].expected, reason_names[r], reason_colors[r].unexpected);
	for (size_t i = 0; i < sizeof(verdict_colors) / sizeof(verdict_colors[0]); i++)
		fprintf(f, ".v-%s{background-color:%s}\nsection.run.v-border-%s{border-left-color:%s}\n",
			verdict_colors[i].verdict, verdict_colors[i].color, verdict_colors[i].verdict, verdict_colors[i].color);
	fputs("</style>\n", f);
}

static void badge(FILE *f, const char *verdict)
{
	fprintf(f, "<span class=\"badge v-%s\">%s</span>", verdict, verdict);
}

/* The class of a cell with this outcome and reason. */
static void cell_class(char *buf, size_t len, const char *outcome, int reason)
{
	if (strcmp(outcome, "stayed-expected") == 0)
		snprintf(buf, len, "e-%s", reason_names[reason]);
	else if (strcmp(outcome, "stayed-unexpected") == 0)
		snprintf(buf, len, "u-%s", reason_names[reason]);
	else
		for (size_t i = 0; i < sizeof(plain_outcomes) / sizeof(plain_outcomes[0]); i++)
			if (strcmp(outcome, plain_outcomes[i].outcome) == 0)
				snprintf(buf, len, "%s", plain_outcomes[i].cls);
}

static void legend(FILE *f)
{
	fputs("<div class=\"card\"><h3 style=\"margin-top:0\">Legend: one cell per virtio-mem device block, one row per "
	      "memory block</h3>\n<div class=\"legend\" id=\"legend\">\n",
	      f);
	for (size_t i = 0; i < sizeof(plain_outcomes) / sizeof(plain_outcomes[0]); i++) {
		fprintf(f, "<span class=\"item\"><span class=\"sw %s\" data-outcome=\"%s\" data-reason=\"\"></span>%s</span>\n",
			plain_outcomes[i].cls, plain_outcomes[i].outcome, plain_outcomes[i].label);
	}
	for (int pass = 0; pass < 2; pass++)
		for (int r = 0; r < VMS_REASON_COUNT; r++) {
			fprintf(f, "<span class=\"item\"><span class=\"sw %c-%s\" data-outcome=\"%s\" data-reason=\"%s\"></span>"
				   "stayed, %s: %s</span>\n",
				pass ? 'u' : 'e', reason_names[r], pass ? "stayed-unexpected" : "stayed-expected",
				reason_names[r], pass ? "NOT expected" : "expected", reason_names[r]);
		}
	fputs("<span class=\"item\"><span class=\"sw c rel u-gup-reference\" style=\"width:14px;height:14px\"></span>"
	      "corner: went when its owner was released</span>\n"
	      "<span class=\"item\"><span class=\"sw c sar e-unmovable-allocation\" style=\"width:14px;height:14px\"></span>"
	      "frame: stayed even after release</span>\n</div>\n<p class=\"meta\">Hover a cell for its address, memory "
	      "block, owner, reason and evidence. Reasons: ",
	      f);
	for (int r = 0; r < VMS_REASON_COUNT; r++) {
		fprintf(f, "%s<b>%s</b> %s", r ? "; " : "", reason_names[r], reason_texts[r]);
	}
	fputs(".</p></div>\n", f);
}

/* The map of a state, or NULL. */
static const char *state_map(struct json_object *state)
{
	return sr_str(state, "map", NULL);
}

/* What held a plugged block: "vmsplice 512 pages, ..." from state.blocks */
static void held_text(FILE *f, struct json_object *state, int64_t block)
{
	size_t n = sr_len(state, "blocks");
	for (size_t i = 0; i < n; i++) {
		struct json_object *b = sr_at(state, "blocks", i, json_type_object);
		if (sr_int(b, "index", -1) != block)
			continue;
		struct json_object *held = sr_get(b, "held", json_type_object);
		if (!held)
			return;
		bool first = true;
		json_object_object_foreach(held, k, v)
		{
			fprintf(f, "%s%s %" PRId64 " pages", first ? "\nholds: " : ", ", k,
				json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : (int64_t)-1);
			first = false;
		}
		return;
	}
}

struct region {
	int64_t addr, size, bs, mbs;
	size_t nblocks;
};

static bool get_region(struct json_object *report, struct region *g)
{
	struct json_object *reg = sr_get(report, "region", json_type_object);
	g->addr = sr_int(reg, "addr", -1);
	g->size = sr_int(reg, "size", 0);
	g->bs = sr_int(reg, "block_size", 0);
	g->mbs = sr_int(reg, "memory_block_size", 0);
	if (!reg || g->size <= 0 || g->bs <= 0 || g->size % g->bs)
		return false;
	int64_t n = g->size / g->bs;
	if (n <= 0 || n > (int64_t)MAX_CELLS)
		return false;
	g->nblocks = (size_t)n;
	if (g->addr > INT64_MAX - g->size)  /* the region's end would not fit: address unknown */
		g->addr = -1;
	return true;
}

struct tally {
	size_t n[sizeof(plain_outcomes) / sizeof(plain_outcomes[0]) + 2 * VMS_REASON_COUNT];
};

/* One grid: the step's device blocks. prev: the map before the step. */
static void grid(FILE *f, struct json_object *report, const struct region *g, struct json_object *step, size_t si,
		 const char *prev, size_t run_index)
{
	struct json_object *state = sr_get(step, "state", json_type_object);
	const char *map = state_map(state);
	size_t maplen = map ? strlen(map) : 0, prevlen = prev ? strlen(prev) : 0;
	bool reached = sr_bool(step, "reached", false);
	size_t nstayed = sr_len(step, "stayed");
	/* block -> its stayed entry (the first one for a block) */
	struct json_object **stayed = calloc(g->nblocks, sizeof(*stayed));
	if (!stayed)
		return;
	for (size_t i = 0; i < nstayed; i++) {
		struct json_object *v = sr_at(step, "stayed", i, json_type_object);
		int64_t b = sr_int(v, "block", -1);
		if (v && b >= 0 && (uint64_t)b < g->nblocks && !stayed[b])
			stayed[b] = v;
	}
	/* one row per memory block when it holds a sensible number of device
	 * blocks and the region starts on a memory block */
	int64_t cols = 64;
	bool rows_are_mblocks = false;
	if (g->mbs > 0 && g->mbs % g->bs == 0 && g->mbs / g->bs >= 4 && g->mbs / g->bs <= 128 && g->addr >= 0 &&
	    g->addr % g->mbs == 0) {
		cols = g->mbs / g->bs;
		rows_are_mblocks = true;
	}
	if ((int64_t)g->nblocks < cols)
		cols = (int64_t)g->nblocks;
	struct tally t = { 0 };
	fprintf(f, "<div class=\"grid\" data-run=\"%zu\" data-step=\"%zu\" data-blocks=\"%zu\"", run_index, si, g->nblocks);
	put_attr(f, "data-step-name", sr_str(step, "name", ""));
	fprintf(f, " style=\"grid-template-columns:auto repeat(%" PRId64 ",11px)\">\n", cols);
	for (size_t b = 0; b < g->nblocks; b++) {
		int64_t addr = g->addr >= 0 ? g->addr + (int64_t)b * g->bs : -1;
		int64_t mb = addr >= 0 && g->mbs > 0 ? addr / g->mbs : -1;
		if (b % (size_t)cols == 0) {
			if (rows_are_mblocks)
				fprintf(f, "<b class=\"rl\">mem %" PRId64 "</b>", mb);
			else
				fprintf(f, "<b class=\"rl\">#%zu</b>", b);
		}
		char c = b < maplen ? map[b] : '?';
		char p = b < prevlen ? prev[b] : '?';
		struct json_object *v = stayed[b];
		const char *outcome, *reason = "";
		int r = VMS_REASON_UNKNOWN;
		if (v) {
			r = reason_index(sr_str(v, "reason", NULL));
			reason = reason_names[r];
			outcome = sr_get(v, "known_bug", json_type_object) ? "known-bug"
				  : sr_bool(v, "expected", false)       ? "stayed-expected"
									: "stayed-unexpected";
		} else if (c == 'P') {
			/* plugged with nothing recorded: kept when the step reached its
			 * size or the others were attributed, else not attributed */
			outcome = reached || nstayed ? "kept" : "unknown";
		} else if (c == 'U') {
			outcome = p == 'U' ? "off" : "went";
		} else {
			outcome = "unknown";
		}
		char cls[64] = "o-unknown";
		cell_class(cls, sizeof(cls), outcome, r);
		for (size_t i = 0; i < sizeof(plain_outcomes) / sizeof(plain_outcomes[0]); i++)
			if (strcmp(outcome, plain_outcomes[i].outcome) == 0)
				t.n[i]++;
		if (strcmp(outcome, "stayed-expected") == 0)
			t.n[sizeof(plain_outcomes) / sizeof(plain_outcomes[0]) + (size_t)r]++;
		if (strcmp(outcome, "stayed-unexpected") == 0)
			t.n[sizeof(plain_outcomes) / sizeof(plain_outcomes[0]) + VMS_REASON_COUNT + (size_t)r]++;
		const char *released = v ? sr_str(v, "released_by", NULL) : NULL;
		bool sar = v && sr_bool(v, "stayed_after_release", false);
		fprintf(f, "<span class=\"c %s%s%s\" data-block=\"%zu\" data-outcome=\"%s\" data-reason=\"%s\"", cls,
			released ? " rel" : "", sar ? " sar" : "", b, outcome, reason);
		if (released)
			put_attr(f, "data-released", released);
		/* the tooltip */
		char *tip = NULL;
		size_t tiplen = 0;
		FILE *tf = open_memstream(&tip, &tiplen);
		if (tf) {
			fprintf(tf, "block %zu", b);
			if (addr >= 0)
				fprintf(tf, " at %#" PRIx64, (uint64_t)addr);
			if (mb >= 0)
				fprintf(tf, ", memory block %" PRId64, mb);
			fputc('\n', tf);
			if (v) {
				fprintf(tf, "stayed (%s): %s\nowner: %s\nevidence: %s",
					strcmp(outcome, "stayed-expected") == 0 ? "expected" : "NOT expected", reason,
					sr_str(v, "owner", "unowned"), sr_str(v, "evidence", "none recorded"));
				if (released)
					fprintf(tf, "\nwent when %s was released", released);
				else if (sar)
					fputs("\nstayed even after release", tf);
				if (sr_str(v, "after_release", NULL))
					fprintf(tf, "\nafter release: %s", sr_str(v, "after_release", ""));
				if (sr_str(v, "sysfs_offline", NULL))
					fprintf(tf, "\nsysfs offline: %s", sr_str(v, "sysfs_offline", ""));
				struct json_object *kb = sr_get(v, "known_bug", json_type_object);
				if (kb)
					fprintf(tf, "\nKNOWN BUG \"%s\": fixed by %s (%s)", sr_str(kb, "title", "?"),
						sr_str(kb, "fixed_by", "?"), sr_str(kb, "fix_title", "?"));
			} else if (strcmp(outcome, "went") == 0) {
				fputs("unplugged in this step", tf);
			} else if (strcmp(outcome, "off") == 0) {
				fputs("not plugged", tf);
			} else if (strcmp(outcome, "kept") == 0) {
				fputs("plugged, still requested", tf);
			} else {
				fputs(map ? "plugged, no reason recorded" : "no state recorded for this step", tf);
			}
			if (c == 'P')
				held_text(tf, state, (int64_t)b);
			if (fclose(tf) == 0)
				put_attr(f, "title", tip);
			free(tip);
		}
		fputs("></span>", f);
		if ((b + 1) % (size_t)cols == 0)
			fputc('\n', f);
	}
	fputs("</div>\n<div class=\"chips\">", f);
	/* what this grid shows, with counts */
	size_t np = sizeof(plain_outcomes) / sizeof(plain_outcomes[0]);
	for (size_t i = 0; i < np + 2 * VMS_REASON_COUNT; i++) {
		if (!t.n[i])
			continue;
		char cls[64];
		const char *label;
		char lbuf[96];
		if (i < np) {
			snprintf(cls, sizeof(cls), "%s", plain_outcomes[i].cls);
			label = plain_outcomes[i].outcome;
		} else {
			size_t r = (i - np) % VMS_REASON_COUNT;
			bool unexp = i - np >= VMS_REASON_COUNT;
			snprintf(cls, sizeof(cls), "%c-%s", unexp ? 'u' : 'e', reason_names[r]);
			snprintf(lbuf, sizeof(lbuf), "%s %s", unexp ? "NOT expected:" : "expected:", reason_names[r]);
			label = lbuf;
		}
		fprintf(f, "<span class=\"item\"><span class=\"sw %s\"></span>%s %zu</span>", cls, label, t.n[i]);
	}
	fputs("</div>\n", f);
	free(stayed);
	(void)report;
}

/* a tick step of 1, 2 or 5 times a power of ten, for about n ticks */
static double nice_step(double range, int n)
{
	double raw = range / n, p = 1;
	while (p * 10 <= raw)
		p *= 10;
	while (p > raw && p > 1e-3)
		p /= 10;
	return raw <= p ? p : raw <= 2 * p ? 2 * p : raw <= 5 * p ? 5 * p : 10 * p;
}

/* Plugged size against requested size over the run, as two step lines. */
static void chart(FILE *f, struct json_object *report, const struct region *g)
{
	size_t n = sr_len(report, "timeline");
	int64_t tmax = 0, ymax = g ? g->size : 0;
	size_t valid = 0;
	for (size_t i = 0; i < n; i++) {
		struct json_object *s = sr_at(report, "timeline", i, json_type_object);
		int64_t t = sr_int(s, "t_ms", -1), rq = sr_int(s, "requested", -1), sz = sr_int(s, "size", -1);
		if (t < 0 || rq < 0 || sz < 0)
			continue;
		valid++;
		tmax = t > tmax ? t : tmax;
		ymax = rq > ymax ? rq : ymax;
		ymax = sz > ymax ? sz : ymax;
	}
	if (valid < 1) {
		fputs("<p class=\"meta\">No size timeline in this report.</p>\n", f);
		return;
	}
	const double W = 820, H = 240, L = 72, R = 16, T = 26, B = 34;
	const double MiB = 1048576.0;
	double ymib = (double)ymax / MiB;
	if (ymib <= 0)
		ymib = 1;
	/* y: power-of-two MiB ticks, at most 6 */
	double ystep = 1;
	while (ymib / ystep > 5)
		ystep *= 2;
	double ytop = ystep;
	while (ytop < ymib)
		ytop += ystep;
	double tsec = (double)tmax / 1000.0;
	if (tsec <= 0)
		tsec = 1;
	double xstep = nice_step(tsec, 8);
	double xtop = xstep;
	while (xtop < tsec)
		xtop += xstep;
#define X(t) (L + (W - L - R) * ((t) / 1000.0) / xtop)
#define Y(b) (T + (H - T - B) * (1.0 - ((double)(b) / MiB) / ytop))
	fprintf(f, "<svg class=\"chart\" viewBox=\"0 0 %.0f %.0f\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" "
		   "aria-label=\"device size and requested size over time\">\n",
		W, H);
	fprintf(f, "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"#fbfcfd\" stroke=\"#d9dee7\"/>\n", L, T,
		W - L - R, H - T - B);
	for (double y = 0; y <= ytop + 1e-9; y += ystep) {
		double py = T + (H - T - B) * (1.0 - y / ytop);
		fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#e6e9ef\"/>", L, W - R, py, py);
		if (y >= 1024 && fmod(y, 1024) == 0)
			fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.0f GiB</text>\n", L - 6, py + 4, y / 1024);
		else
			fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%g MiB</text>\n", L - 6, py + 4, y);
	}
	for (double x = 0; x <= xtop + 1e-9; x += xstep) {
		double px = L + (W - L - R) * x / xtop;
		fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#eef0f4\"/>", px, px, T, H - B);
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%g s</text>\n", px, H - B + 16, x);
	}
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">time since the run started</text>\n", W - R, H - 4);
	/* where each step began: the requested size changes; named when
	 * there are as many changes as steps */
	size_t nchanges = 0, nsteps = sr_len(report, "steps");
	int64_t last_rq = -1;
	for (int pass = 0; pass < 2; pass++) {
		size_t k = 0;
		last_rq = -1;
		for (size_t i = 0; i < n; i++) {
			struct json_object *s = sr_at(report, "timeline", i, json_type_object);
			int64_t t = sr_int(s, "t_ms", -1), rq = sr_int(s, "requested", -1);
			if (t < 0 || rq < 0 || sr_int(s, "size", -1) < 0)
				continue;
			if (last_rq >= 0 && rq != last_rq) {
				if (pass) {
					double px = X((double)t);
					fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.0f\" y2=\"%.0f\" stroke=\"#9aa3b2\" "
						   "stroke-dasharray=\"2 3\"/>",
						px, px, T, H - B);
					if (nchanges == nsteps) {
						fprintf(f, "<text x=\"%.1f\" y=\"%.0f\">", px + 3, T + 11 + 12.0 * (double)(k % 2));
						put(f, sr_str(sr_at(report, "steps", k, json_type_object), "name", "?"));
						fputs("</text>", f);
					}
					fputc('\n', f);
				}
				k++;
			}
			last_rq = rq;
		}
		nchanges = k;
	}
	/* the two series as step paths; the plugged one also filled */
	for (int series = 0; series < 2; series++) {
		const char *key = series ? "size" : "requested";
		char *d = NULL;
		size_t dlen = 0;
		FILE *df = open_memstream(&d, &dlen);
		if (!df)
			return;
		bool first = true;
		double lastx = L, lasty = 0, firstx = L;
		for (size_t i = 0; i < n; i++) {
			struct json_object *s = sr_at(report, "timeline", i, json_type_object);
			int64_t t = sr_int(s, "t_ms", -1), v = sr_int(s, key, -1);
			if (t < 0 || v < 0 || sr_int(s, series ? "requested" : "size", -1) < 0)
				continue;
			double px = X((double)t), py = Y(v);
			if (first)
				fprintf(df, "M%.1f %.1f", px, py), firstx = px;
			else
				fprintf(df, "H%.1f V%.1f", px, py);
			first = false;
			lastx = px, lasty = py;
		}
		(void)lasty;
		/* hold the last value to the right edge of the data */
		fprintf(df, "H%.1f", lastx > X((double)tmax) ? lastx : X((double)tmax));
		if (fclose(df) != 0) {
			free(d);
			return;
		}
		if (series) {
			fprintf(f, "<path d=\"%s V%.1f H%.1f Z\" fill=\"#2a9d8f\" fill-opacity=\".14\" stroke=\"none\"/>\n", d,
				H - B, firstx);
			fprintf(f, "<path class=\"plugged\" d=\"%s\" fill=\"none\" stroke=\"#2a9d8f\" stroke-width=\"2.5\"/>\n", d);
		} else {
			fprintf(f, "<path class=\"requested\" d=\"%s\" fill=\"none\" stroke=\"#1f3b73\" stroke-width=\"1.8\" "
				   "stroke-dasharray=\"6 4\"/>\n",
				d);
		}
		free(d);
	}
	fprintf(f, "<line x1=\"%.0f\" x2=\"%.0f\" y1=\"12\" y2=\"12\" stroke=\"#1f3b73\" stroke-width=\"1.8\" "
		   "stroke-dasharray=\"6 4\"/><text x=\"%.0f\" y=\"16\">requested-size</text>\n",
		L, L + 26, L + 32);
	fprintf(f, "<line x1=\"%.0f\" x2=\"%.0f\" y1=\"12\" y2=\"12\" stroke=\"#2a9d8f\" stroke-width=\"2.5\"/>"
		   "<text x=\"%.0f\" y=\"16\">plugged (device size)</text>\n",
		L + 140, L + 166, L + 172);
	fputs("</svg>\n", f);
#undef X
#undef Y
}

static void step_line(FILE *f, struct json_object *step)
{
	char rq[32], before[32], after[32], fin[32];
	sr_size(sr_int(step, "requested", -1), rq, sizeof(rq));
	sr_size(sr_int(step, "size_before", -1), before, sizeof(before));
	sr_size(sr_int(step, "size_after", -1), after, sizeof(after));
	int64_t ms = sr_int(step, "elapsed_ms", 0);
	fputs("<h3>step <code>", f);
	put(f, sr_str(step, "name", "?"));
	fprintf(f, "</code>: requested %s; %s &rarr; %s %s, %.1f s, %" PRId64 " kicks", rq, before, after,
		sr_bool(step, "reached", false) ? "(reached)" : "<span class=\"error\">(not reached)</span>",
		ms > 0 ? (double)ms / 1000 : 0.0, sr_int(step, "kicks", 0));
	size_t nrel = sr_len(step, "released");
	if (nrel) {
		fputs("; released", f);
		for (size_t i = 0; i < nrel; i++) {
			fputs(i ? ", " : " ", f);
			put(f, sr_strv(sr_at(step, "released", i, json_type_string), "?"));
		}
		sr_size(sr_int(step, "size_final", -1), fin, sizeof(fin));
		fprintf(f, " &rarr; %s %s", fin, sr_bool(step, "reached_final", false) ? "(reached)" : "(not reached)");
	}
	fputs("</h3>\n", f);
}

static void put_list(FILE *f, const char *cls, struct json_object *o, const char *key, const char *tag)
{
	size_t n = sr_len(o, key);
	if (!n)
		return;
	fprintf(f, "<ul class=\"%s\">\n", cls);
	for (size_t i = 0; i < n; i++) {
		fputs("<li>", f);
		if (tag)
			fputs(tag, f);
		fputs("<span class=\"sig\">", f);
		put(f, sr_strv(sr_at(o, key, i, json_type_string), "?"));
		fputs("</span></li>\n", f);
	}
	fputs("</ul>\n", f);
}

static void put_run(FILE *f, struct json_object *run, size_t index)
{
	const char *verdict = sr_run_verdict(run);
	struct json_object *report = sr_get(run, "report", json_type_object);
	struct json_object *kern = sr_get(run, "kernel", json_type_object);
	struct json_object *scn = sr_get(run, "scenario", json_type_object);
	struct json_object *rr = sr_get(report, "run", json_type_object);
	char kn[SR_NAME_MAX], sn[SR_NAME_MAX];
	sr_run_kernel(run, kn, sizeof(kn));
	sr_run_scenario(run, sn, sizeof(sn));
	fprintf(f, "<section class=\"run v-border-%s\" id=\"run-%zu\" data-verdict=\"%s\"", verdict, index, verdict);
	put_attr(f, "data-run", sr_str(run, "id", ""));
	fputs(">\n<div class=\"head\">", f);
	badge(f, verdict);
	fputs("<h2>", f);
	put(f, sn);
	fputs(" <span class=\"meta\">on</span> ", f);
	put(f, kn);
	fputs("</h2>", f);
	const char *change = sr_str(run, "change", NULL);
	if (change) {
		fputs("<span class=\"tag ", f);
		fputs(strcmp(change, "new-failure") == 0     ? "new"
		      : strcmp(change, "fixed") == 0         ? "fixed"
		      : strcmp(change, "known-failure") == 0 ? "known"
		      : strcmp(change, "new-run") == 0       ? "newrun"
							     : "same",
		      f);
		fputs("\">", f);
		put(f, change);
		fputs("</span>", f);
	}
	fputs("</div>\n<p class=\"meta\">kernel ", f);
	put(f, sr_text(kern, "release", sr_text(sr_get(report, "vm", json_type_object), "kernel_release", "?")));
	fputs(" (<code>", f);
	put(f, sr_str(kern, "image", "?"));
	fputs("</code>); scenario <code>", f);
	put(f, sr_str(scn, "path", "?"));
	int64_t ms = sr_int(run, "elapsed_ms", 0);
	fprintf(f, "</code>; %.1f s; exit status %" PRId64, ms > 0 ? (double)ms / 1000 : 0.0, sr_int(run, "exit_status", -1));
	if (sr_text(run, "host", NULL)) {
		fputs("; on host <code class=\"host\">", f);
		put(f, sr_text(run, "host", NULL));
		fputs("</code>", f);
	}
	for (size_t i = 0; i < sr_len(run, "moved_from"); i++) {
		struct json_object *m = sr_at(run, "moved_from", i, json_type_object);
		fputs("; moved from host <code class=\"moved\">", f);
		put(f, sr_str(m, "host", "?"));
		fputs("</code>, which dropped out (", f);
		put(f, sr_str(m, "error", "?"));
		fputs(")", f);
	}
	fputs("</p>\n", f);
	put_file_links(f, run);

	put_list(f, "findings", run, "new_failures", "<span class=\"tag new\">new</span>");
	put_list(f, "findings", run, "known_failures", "<span class=\"tag known\">known</span>");
	put_list(f, "findings", run, "fixed_failures", "<span class=\"tag fixed\">fixed</span>");
	if (sr_len(report, "findings")) {
		fputs("<h3>findings</h3>\n", f);
		put_list(f, "findings", report, "findings", NULL);
	} else if (sr_len(run, "failures")) {
		fputs("<h3>failures</h3>\n", f);
		put_list(f, "findings", run, "failures", NULL);
	}
	if (strcmp(verdict, "error") == 0) {
		fputs("<p class=\"error\">", f);
		put(f, sr_str(run, "error", sr_str(rr, "error", "the run could not finish")));
		if (sr_str(rr, "phase", NULL)) {
			fputs(" (phase ", f);
			put(f, sr_str(rr, "phase", ""));
			fputs(")", f);
		}
		fputs("</p>\n", f);
		const char *tail = sr_str(rr, "console_tail", NULL);
		if (tail && *tail) {
			fputs("<h3>console tail</h3>\n<pre>", f);
			put(f, tail);
			fputs("</pre>\n", f);
		} else {
			fputs("<p class=\"meta\">No console output recorded; see console.log.</p>\n", f);
		}
	}
	if (strcmp(verdict, "skip") == 0 && sr_len(report, "not_shown")) {
		fputs("<h3>not shown</h3>\n", f);
		put_list(f, "findings", report, "not_shown", NULL);
	}
	struct region g;
	bool have_region = get_region(report, &g);
	size_t nsteps = sr_len(report, "steps");
	if (have_region && nsteps) {
		const char *prev = state_map(sr_get(report, "populate", json_type_object));
		char rs[32], bs[32];
		sr_size(g.size, rs, sizeof(rs));
		sr_size(g.bs, bs, sizeof(bs));
		fprintf(f, "<p class=\"meta\">region %s at %#" PRIx64 " in %zu device blocks of %s</p>\n", rs,
			(uint64_t)(g.addr >= 0 ? g.addr : 0), g.nblocks, bs);
		for (size_t s = 0; s < nsteps; s++) {
			struct json_object *step = sr_at(report, "steps", s, json_type_object);
			if (!step)
				continue;
			fputs("<div class=\"step\">\n", f);
			step_line(f, step);
			grid(f, report, &g, step, s, prev, index);
			fputs("</div>\n", f);
			/* the next step starts from the state after this one's releases */
			struct json_object *after = sr_get(step, "final_state", json_type_object);
			const char *m = state_map(after ? after : sr_get(step, "state", json_type_object));
			prev = m ? m : prev;
		}
	} else if (report && strcmp(verdict, "skip") != 0 && strcmp(verdict, "error") != 0) {
		fputs("<p class=\"meta\">No region or steps in this report: nothing to draw.</p>\n", f);
	}
	if (report && (have_region || sr_len(report, "timeline"))) {
		fputs("<h3>device size over time</h3>\n", f);
		chart(f, report, have_region ? &g : NULL);
	}
	if (sr_len(report, "warnings")) {
		fprintf(f, "<details><summary>%zu warnings</summary>\n", sr_len(report, "warnings"));
		put_list(f, "findings", report, "warnings", NULL);
		fputs("</details>\n", f);
	}
	fputs("</section>\n", f);
}

static void matrix(FILE *f, struct json_object *suite)
{
	struct json_object *kernels = sr_kernels(suite);
	struct json_object *scenarios = json_object_new_array();
	size_t nruns = sr_len(suite, "runs");
	char kn[SR_NAME_MAX], sn[SR_NAME_MAX];
	for (size_t i = 0; i < nruns; i++) {
		struct json_object *run = sr_at(suite, "runs", i, json_type_object);
		if (!run)
			continue;
		sr_run_scenario(run, sn, sizeof(sn));
		bool seen = false;
		for (size_t j = 0; j < json_object_array_length(scenarios) && !seen; j++)
			seen = strcmp(json_object_get_string(json_object_array_get_idx(scenarios, j)), sn) == 0;
		if (!seen)
			json_object_array_add(scenarios, json_object_new_string(sn));
	}
	fputs("<div class=\"card\"><table class=\"matrix\"><tr><th>kernel \\ scenario</th>", f);
	for (size_t j = 0; j < json_object_array_length(scenarios); j++) {
		fputs("<th>", f);
		put(f, json_object_get_string(json_object_array_get_idx(scenarios, j)));
		fputs("</th>", f);
	}
	fputs("</tr>\n", f);
	for (size_t k = 0; k < json_object_array_length(kernels); k++) {
		const char *kernel = json_object_get_string(json_object_array_get_idx(kernels, k));
		fputs("<tr><th>", f);
		put(f, kernel);
		fputs("</th>", f);
		for (size_t j = 0; j < json_object_array_length(scenarios); j++) {
			const char *scn = json_object_get_string(json_object_array_get_idx(scenarios, j));
			fputs("<td>", f);
			for (size_t i = 0; i < nruns; i++) {
				struct json_object *run = sr_at(suite, "runs", i, json_type_object);
				if (!run)
					continue;
				sr_run_kernel(run, kn, sizeof(kn));
				sr_run_scenario(run, sn, sizeof(sn));
				if (strcmp(kn, kernel) || strcmp(sn, scn))
					continue;
				fprintf(f, "<a href=\"#run-%zu\">", i);
				badge(f, sr_run_verdict(run));
				fputs("</a> ", f);
				const char *change = sr_str(run, "change", NULL);
				if (change && strcmp(change, "unchanged") != 0) {
					fputs("<span class=\"meta\">", f);
					put(f, change);
					fputs("</span>", f);
				}
			}
			fputs("</td>", f);
		}
		fputs("</tr>\n", f);
	}
	fputs("</table></div>\n", f);
	json_object_put(kernels);
	json_object_put(scenarios);
}

/* The changes against the baseline, run by run. */
static void changes(FILE *f, struct json_object *suite)
{
	struct json_object *base = sr_get(suite, "baseline", json_type_object);
	fputs("<div class=\"card changes\">", f);
	if (!base) {
		fputs("<p class=\"meta\" style=\"margin:0\">No baseline: nothing compared.</p></div>\n", f);
		return;
	}
	fputs("<p style=\"margin:0\">Compared with <code>", f);
	put(f, sr_str(base, "path", "?"));
	fputs("</code> (started ", f);
	put(f, sr_str(base, "started", "?"));
	fputs(")</p>\n", f);
	static const struct {
		const char *key, *title, *tag;
	} lists[] = {
		{ "new_failures", "New failures", "new" },
		{ "fixed_failures", "Fixed", "fixed" },
		{ "known_failures", "Known failures (also in the baseline)", "known" },
	};
	size_t nruns = sr_len(suite, "runs");
	for (size_t l = 0; l < 3; l++) {
		size_t total = 0;
		for (size_t i = 0; i < nruns; i++)
			total += sr_len(sr_at(suite, "runs", i, json_type_object), lists[l].key);
		fprintf(f, "<h3>%s: %zu</h3>\n", lists[l].title, total);
		if (!total)
			continue;
		fputs("<ul>\n", f);
		for (size_t i = 0; i < nruns; i++) {
			struct json_object *run = sr_at(suite, "runs", i, json_type_object);
			for (size_t j = 0; j < sr_len(run, lists[l].key); j++) {
				fprintf(f, "<li><span class=\"tag %s\">%s</span><a href=\"#run-%zu\">", lists[l].tag, lists[l].tag, i);
				put(f, sr_str(run, "id", "?"));
				fputs("</a>: <span class=\"sig\">", f);
				put(f, sr_strv(sr_at(run, lists[l].key, j, json_type_string), "?"));
				fputs("</span></li>\n", f);
			}
		}
		fputs("</ul>\n", f);
	}
	fputs("</div>\n", f);
}

int suite_write_html(struct json_object *suite, FILE *out, struct err *e)
{
	struct json_object *info = sr_get(suite, "suite", json_type_object);
	struct json_object *sum = sr_get(suite, "summary", json_type_object);
	const char *verdict = sr_run_verdict(suite);
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>vmemstress suite ",
	      out);
	put(out, sr_str(info, "name", "?"));
	fprintf(out, ": %s</title>\n", verdict);
	put_css(out);
	fputs("</head>\n<body>\n<header class=\"top\"><div>\n<h1>vmemstress suite ", out);
	put(out, sr_str(info, "name", "?"));
	fputs(" ", out);
	badge(out, verdict);
	fputs("</h1>\n<div class=\"meta\"><code>", out);
	put(out, sr_str(info, "path", "?"));
	fputs("</code>, started ", out);
	put(out, sr_str(info, "started", "?"));
	int64_t ms = sr_int(info, "elapsed_ms", 0);
	fprintf(out, ", %.1f s, %" PRId64 " jobs at once, on ", ms > 0 ? (double)ms / 1000 : 0.0, sr_int(info, "jobs", 0));
	put(out, sr_str(info, "host", "?"));
	fprintf(out, "; exit status %" PRId64 "</div>\n<div class=\"pills\">", sr_int(suite, "exit_status", -1));
	static const char *const keys[][2] = { { "runs", "runs" },	    { "pass", "pass" },
					       { "fail", "fail" },	    { "error", "error" },
					       { "skip", "skip" },	    { "new_failures", "new failures" },
					       { "fixed", "fixed" },	    { "known_failures", "known failures" } };
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		fprintf(out, "<span class=\"pill\" data-count=\"%s\"><b>%" PRId64 "</b>%s</span>", keys[i][0],
			sr_int(sum, keys[i][0], 0), keys[i][1]);
	}
	fputs("</div>\n</div></header>\n<main>\n", out);
	changes(out, suite);
	matrix(out, suite);
	legend(out);
	size_t nruns = sr_len(suite, "runs");
	for (size_t i = 0; i < nruns; i++) {
		struct json_object *run = sr_at(suite, "runs", i, json_type_object);
		if (run)
			put_run(out, run, i);
	}
	fputs("</main>\n</body>\n</html>\n", out);
	if (fflush(out) != 0 || ferror(out))
		return err_sys(e, "cannot write the HTML report");
	return 0;
}
