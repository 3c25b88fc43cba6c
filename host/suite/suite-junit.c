/* The suite result as JUnit XML, for Jenkins and GitLab: one <testsuite>
 * per kernel (both show suites as groups), one <testcase> per run.
 *
 * classname is "vmemstress." plus the kernel name with its dots made
 * underscores: Jenkins splits a classname at its last dot into package and
 * class, and "debian-6.1" would become class "1". The <testsuite> name
 * keeps the kernel's name as it is. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "suite/suite-report.h"

struct counts {
	size_t tests, failures, errors, skipped;
	int64_t ms;
};

static int64_t run_ms(struct json_object *run)
{
	/* at most a year, so sums over many runs cannot overflow */
	int64_t ms = sr_int(run, "elapsed_ms", 0);
	return ms < 0 ? 0 : ms > 31536000000 ? 31536000000 : ms;
}

static void count(struct json_object *run, struct counts *c)
{
	const char *v = sr_run_verdict(run);
	c->tests++;
	c->failures += strcmp(v, "fail") == 0;
	c->errors += strcmp(v, "error") == 0;
	c->skipped += strcmp(v, "skip") == 0;
	c->ms += run_ms(run);
}

/* seconds with millisecond precision, from integer ms so sums add up */
static void put_time(FILE *out, int64_t ms)
{
	fprintf(out, "%" PRId64 ".%03d", ms / 1000, (int)(ms % 1000));
}

static void put_attr(FILE *out, const char *name, const char *value)
{
	fprintf(out, " %s=\"", name);
	sr_put_markup(out, value, SR_ATTR);
	fputc('"', out);
}

static void put_counts(FILE *out, const struct counts *c)
{
	fprintf(out, " tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"%zu\" time=\"", c->tests, c->failures,
		c->errors, c->skipped);
	put_time(out, c->ms);
	fputc('"', out);
}

static void put_list(FILE *f, const char *title, struct json_object *o, const char *key)
{
	size_t n = sr_len(o, key);
	if (!n)
		return;
	fprintf(f, "%s:\n", title);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "  - %s\n", sr_strv(sr_at(o, key, i, json_type_string), "?"));
}

/* The blocks that stayed in each step, judged (expected or not), with
 * their known bugs and evidence. */
static void put_stays(FILE *f, struct json_object *report, bool want_expected)
{
	int64_t bs = sr_int(sr_get(report, "region", json_type_object), "block_size", 0);
	bool any = false;
	for (size_t s = 0; s < sr_len(report, "steps"); s++) {
		struct json_object *step = sr_at(report, "steps", s, json_type_object);
		struct sr_stay_run r;
		for (size_t i = 0; sr_stay_run(step, i, bs, &r); i = r.next) {
			if (r.expected != want_expected)
				continue;
			if (!any)
				fprintf(f, "%s:\n", want_expected ? "blocks that stayed as the scenario allows"
								  : "blocks that stayed, not expected");
			any = true;
			fputs("  ", f);
			sr_stay_text(f, step, &r);
			fputc('\n', f);
			const char *ev = sr_str(r.first, "evidence", NULL);
			if (ev && *ev)
				fprintf(f, "    evidence: %s\n", ev);
			const char *after = sr_str(r.first, "after_release", NULL);
			if (after)
				fprintf(f, "    after release: %s\n", after);
			struct json_object *kb = sr_get(r.first, "known_bug", json_type_object);
			if (kb)
				fprintf(f, "    KNOWN BUG %s \"%s\": fixed by %s (\"%s\")\n", sr_str(kb, "name", "?"),
					sr_str(kb, "title", "?"), sr_str(kb, "fixed_by", "?"), sr_str(kb, "fix_title", "?"));
		}
	}
}

static void put_header(FILE *f, struct json_object *run, const char *what)
{
	struct json_object *report = sr_get(run, "report", json_type_object);
	struct json_object *scn = sr_get(run, "scenario", json_type_object);
	struct json_object *kern = sr_get(run, "kernel", json_type_object);
	fprintf(f, "%s %s: scenario %s, kernel %s\n", what, sr_str(run, "id", "?"), sr_str(scn, "path", "?"),
		sr_text(kern, "release", sr_text(sr_get(report, "vm", json_type_object), "kernel_release", "?")));
	const char *change = sr_str(run, "change", NULL);
	if (change)
		fprintf(f, "against the baseline: %s\n", change);
}

/* The text inside <failure>: plain text, escaped as a whole. */
static char *failure_text(struct json_object *run)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	struct json_object *report = sr_get(run, "report", json_type_object);
	put_header(f, run, "FAIL");
	put_list(f, "new failures (not in the baseline)", run, "new_failures");
	put_list(f, "known failures (also in the baseline)", run, "known_failures");
	put_list(f, "failures", run, "failures");
	put_list(f, "findings", report, "findings");
	put_stays(f, report, false);
	put_stays(f, report, true);
	put_list(f, "warnings", report, "warnings");
	fprintf(f, "report: %s/report.txt\n", sr_str(run, "dir", "?"));
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* failure type: what kind of expectation failed first */
static const char *failure_type(struct json_object *report)
{
	bool unexpected = false;
	for (size_t s = 0; s < sr_len(report, "steps"); s++) {
		struct json_object *step = sr_at(report, "steps", s, json_type_object);
		for (size_t i = 0; i < sr_len(step, "stayed"); i++) {
			struct json_object *v = sr_at(step, "stayed", i, json_type_object);
			if (!v || sr_bool(v, "expected", false))
				continue;
			if (sr_get(v, "known_bug", json_type_object))
				return "known-bug";
			unexpected = true;
		}
	}
	return unexpected ? "unexpected-stay" : "expectation";
}

static const char *failure_message(struct json_object *run, char *buf, size_t len)
{
	struct json_object *report = sr_get(run, "report", json_type_object);
	size_t n = sr_len(run, "failures");
	const char *first = sr_strv(sr_at(run, "failures", 0, json_type_string), NULL);
	if (!first) {
		n = sr_len(report, "findings");
		first = sr_strv(sr_at(report, "findings", 0, json_type_string), NULL);
	}
	if (!first)
		return "the run failed (no finding recorded)";
	if (n > 1)
		snprintf(buf, len, "%s (and %zu more)", first, n - 1);
	else
		snprintf(buf, len, "%s", first);
	return buf;
}

static void put_error(FILE *out, struct json_object *run)
{
	struct json_object *report = sr_get(run, "report", json_type_object);
	struct json_object *rr = sr_get(report, "run", json_type_object);
	const char *why = sr_str(run, "error", sr_str(rr, "error", "the run could not finish"));
	fputs("      <error", out);
	put_attr(out, "message", why);
	put_attr(out, "type", sr_str(rr, "phase", "error"));
	fputs(">", out);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (f) {
		put_header(f, run, "ERROR");
		fprintf(f, "error: %s\n", why);
		if (sr_str(rr, "phase", NULL))
			fprintf(f, "phase: %s\n", sr_str(rr, "phase", ""));
		const char *tail = sr_str(rr, "console_tail", NULL);
		if (tail && *tail)
			fprintf(f, "console tail:\n%s\n", tail);
		fprintf(f, "console: %s/console.log\n", sr_str(run, "dir", "?"));
		if (fclose(f) == 0)
			sr_put_markup(out, buf, SR_TEXT);
		free(buf);
	}
	fputs("</error>\n", out);
}

static void put_skipped(FILE *out, struct json_object *run)
{
	struct json_object *report = sr_get(run, "report", json_type_object);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return;
	size_t n = sr_len(report, "not_shown");
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%snot shown: %s", i ? "; " : "", sr_strv(sr_at(report, "not_shown", i, json_type_string), "?"));
	if (!n)
		fprintf(f, "%s", sr_str(run, "error", "skipped"));
	if (fclose(f) == 0) {
		fputs("      <skipped", out);
		put_attr(out, "message", buf);
		fputs("/>\n", out);
	}
	free(buf);
}

static void put_testcase(FILE *out, struct json_object *run, const char *kernel)
{
	char scn[SR_NAME_MAX], cls[SR_NAME_MAX + 16];
	sr_run_scenario(run, scn, sizeof(scn));
	snprintf(cls, sizeof(cls), "vmemstress.%s", kernel);
	for (char *p = cls + strlen("vmemstress."); *p; p++)
		if (*p == '.')
			*p = '_';
	const char *verdict = sr_run_verdict(run);
	fputs("    <testcase", out);
	put_attr(out, "classname", cls);
	put_attr(out, "name", scn);
	fputs(" time=\"", out);
	put_time(out, run_ms(run));
	fputc('"', out);
	const char *path = sr_str(sr_get(run, "scenario", json_type_object), "path", NULL);
	if (path)
		put_attr(out, "file", path);
	fputs(">\n", out);
	if (strcmp(verdict, "fail") == 0) {
		char msg[1024];
		struct json_object *report = sr_get(run, "report", json_type_object);
		fputs("      <failure", out);
		put_attr(out, "message", failure_message(run, msg, sizeof(msg)));
		put_attr(out, "type", failure_type(report));
		fputs(">", out);
		char *text = failure_text(run);
		sr_put_markup(out, text ? text : "(no memory for the failure text)", SR_TEXT);
		free(text);
		fputs("</failure>\n", out);
	} else if (strcmp(verdict, "error") == 0) {
		put_error(out, run);
	} else if (strcmp(verdict, "skip") == 0) {
		put_skipped(out, run);
	}
	const char *dir = sr_str(run, "dir", "?");
	fputs("      <system-out>", out);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (f) {
		fprintf(f, "verdict: %s\nrun directory (in the suite's output directory): %s\n", verdict, dir);
		const char *host = sr_text(run, "host", NULL);
		if (host)
			fprintf(f, "host: %s\n", host);
		for (size_t i = 0; i < sr_len(run, "moved_from"); i++) {
			struct json_object *m = sr_at(run, "moved_from", i, json_type_object);
			fprintf(f, "moved from host %s, which dropped out: %s\n", sr_str(m, "host", "?"), sr_str(m, "error", "?"));
		}
		fprintf(f, "report: %s/report.txt\njson report: %s/report.json\nconsole: %s/console.log\n", dir, dir, dir);
		if (fclose(f) == 0)
			sr_put_markup(out, buf, SR_TEXT);
		free(buf);
	}
	fputs("</system-out>\n", out);
	fputs("    </testcase>\n", out);
}

int suite_write_junit(struct json_object *suite, FILE *out, struct err *e)
{
	struct json_object *info = sr_get(suite, "suite", json_type_object);
	struct json_object *kernels = sr_kernels(suite);
	size_t nruns = sr_len(suite, "runs");
	struct counts all = { 0 };
	for (size_t i = 0; i < nruns; i++) {
		struct json_object *run = sr_at(suite, "runs", i, json_type_object);
		if (run)
			count(run, &all);
	}
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites", out);
	char name[SR_NAME_MAX + 16];
	snprintf(name, sizeof(name), "vmemstress %s", sr_str(info, "name", "suite"));
	put_attr(out, "name", name);
	put_counts(out, &all);
	const char *started = sr_str(info, "started", NULL);
	if (started)
		put_attr(out, "timestamp", started);
	fputs(">\n", out);
	for (size_t k = 0; k < json_object_array_length(kernels); k++) {
		const char *kernel = json_object_get_string(json_object_array_get_idx(kernels, k));
		struct counts c = { 0 };
		struct json_object *any = NULL;
		char kn[SR_NAME_MAX];
		for (size_t i = 0; i < nruns; i++) {
			struct json_object *run = sr_at(suite, "runs", i, json_type_object);
			if (!run)
				continue;
			sr_run_kernel(run, kn, sizeof(kn));
			if (strcmp(kn, kernel) == 0) {
				count(run, &c);
				any = any ? any : run;
			}
		}
		fputs("  <testsuite", out);
		put_attr(out, "name", kernel);
		put_counts(out, &c);
		if (started)
			put_attr(out, "timestamp", started);
		const char *host = sr_str(info, "host", NULL);
		if (host)
			put_attr(out, "hostname", host);
		fputs(">\n    <properties>\n", out);
		struct json_object *kobj = sr_get(any, "kernel", json_type_object);
		static const char *const props[][2] = { { "kernel.release", "release" }, { "kernel.image", "image" } };
		for (size_t p = 0; p < 2; p++) {
			const char *v = sr_str(kobj, props[p][1], NULL);
			if (!v)
				continue;
			fputs("      <property", out);
			put_attr(out, "name", props[p][0]);
			put_attr(out, "value", v);
			fputs("/>\n", out);
		}
		fputs("      <property name=\"suite\"", out);
		put_attr(out, "value", sr_str(info, "path", sr_str(info, "name", "?")));
		fputs("/>\n", out);
		const char *base = sr_str(sr_get(suite, "baseline", json_type_object), "path", NULL);
		if (base) {
			fputs("      <property name=\"baseline\"", out);
			put_attr(out, "value", base);
			fputs("/>\n", out);
		}
		fputs("    </properties>\n", out);
		for (size_t i = 0; i < nruns; i++) {
			struct json_object *run = sr_at(suite, "runs", i, json_type_object);
			if (!run)
				continue;
			sr_run_kernel(run, kn, sizeof(kn));
			if (strcmp(kn, kernel) == 0)
				put_testcase(out, run, kernel);
		}
		fputs("  </testsuite>\n", out);
	}
	fputs("</testsuites>\n", out);
	json_object_put(kernels);
	if (fflush(out) != 0 || ferror(out))
		return err_sys(e, "cannot write the JUnit report");
	return 0;
}
