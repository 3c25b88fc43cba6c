/* The suite result as KTAP version 1 (Documentation/dev-tools/ktap.rst),
 * the way KUnit nests it: one subtest per kernel, one test per scenario,
 * diagnostics ("# ...") before each result line. It must parse cleanly with
 * the kernel's tools/testing/kunit/kunit.py parse (tests/reports/
 * check-ktap.sh runs it). An error is "not ok ... # ERROR why", a skip
 * "ok ... # SKIP why". */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "suite/suite-report.h"

/* A description: one line, no '#', not empty, without the "- " a parser
 * would take for the optional separator, no edge spaces (kunit.py compares
 * the "# Subtest:" name with the result line's). */
static void ktap_name(const char *in, char *out, size_t len)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	if (!f) {
		snprintf(out, len, "unnamed");
		return;
	}
	sr_put_line(f, in, true);
	if (fclose(f) != 0) {
		free(buf);
		snprintf(out, len, "unnamed");
		return;
	}
	const char *p = buf;
	while (*p == ' ')
		p++;
	size_t l = strlen(p);
	while (l && p[l - 1] == ' ')
		l--;
	if (!l)
		snprintf(out, len, "unnamed");
	else
		snprintf(out, len, "%s%.*s", p[0] == '-' ? "_" : "", (int)l, p[0] == '-' ? p + 1 : p);
	free(buf);
}

/* kunit.py stops reading at these wherever they appear in a line (it takes
 * them for the end of the kernel's test output): break them up. */
static const char *const end_markers[] = { "List of all partitions:", "Kernel panic - not syncing: VFS:",
					   "reboot: System halted" };

static void put_safe(FILE *f, const char *s, bool no_hash)
{
	char *copy = strdup(s ? s : "");
	if (!copy) {
		fputs("?", f);
		return;
	}
	for (size_t m = 0; m < sizeof(end_markers) / sizeof(end_markers[0]); m++)
		for (char *p = copy; (p = strstr(p, end_markers[m])); p++)
			*strchr(p, ' ') = '_';
	sr_put_line(f, copy, no_hash);
	free(copy);
}

/* "# label: text", each line of a multi-line text on its own "#" line */
static void diag(FILE *f, const char *indent, const char *label, const char *text)
{
	char *copy = strdup(text ? text : "");
	if (!copy)
		return;
	char *save = NULL;
	bool first = true;
	for (char *line = strtok_r(copy, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
		fprintf(f, "%s# %s%s", indent, first ? label : "  ", first && *label ? ": " : "");
		put_safe(f, line, false);
		fputc('\n', f);
		first = false;
	}
	if (first)
		fprintf(f, "%s# %s\n", indent, label);
	free(copy);
}

static void diag_list(FILE *f, const char *indent, const char *label, struct json_object *o, const char *key)
{
	for (size_t i = 0; i < sr_len(o, key); i++)
		diag(f, indent, label, sr_strv(sr_at(o, key, i, json_type_string), "?"));
}

static void put_run(FILE *out, struct json_object *run, size_t num)
{
	const char *in = "  ";
	struct json_object *report = sr_get(run, "report", json_type_object);
	struct json_object *rr = sr_get(report, "run", json_type_object);
	char scn[SR_NAME_MAX], name[SR_NAME_MAX], line[1024];
	sr_run_scenario(run, scn, sizeof(scn));
	ktap_name(scn, name, sizeof(name));
	int64_t ms = sr_int(run, "elapsed_ms", 0);
	snprintf(line, sizeof(line), "%s (%s), %" PRId64 ".%03d s, in %s", sr_str(run, "id", "?"),
		 sr_str(sr_get(run, "scenario", json_type_object), "path", "?"), ms > 0 ? ms / 1000 : 0,
		 ms > 0 ? (int)(ms % 1000) : 0, sr_str(run, "dir", "?"));
	diag(out, in, "run", line);
	if (sr_text(run, "host", NULL))
		diag(out, in, "host", sr_text(run, "host", NULL));
	for (size_t i = 0; i < sr_len(run, "moved_from"); i++) {
		struct json_object *m = sr_at(run, "moved_from", i, json_type_object);
		snprintf(line, sizeof(line), "from host %s, which dropped out: %s", sr_str(m, "host", "?"), sr_str(m, "error", "?"));
		diag(out, in, "moved", line);
	}
	const char *change = sr_str(run, "change", NULL);
	if (change)
		diag(out, in, "against the baseline", change);
	diag_list(out, in, "new failure", run, "new_failures");
	diag_list(out, in, "known failure", run, "known_failures");
	diag_list(out, in, "fixed", run, "fixed_failures");
	diag_list(out, in, "failure", run, "failures");
	diag_list(out, in, "finding", report, "findings");
	const char *verdict = sr_run_verdict(run);
	if (strcmp(verdict, "error") == 0) {
		const char *why = sr_str(run, "error", sr_str(rr, "error", "the run could not finish"));
		if (sr_str(rr, "phase", NULL))
			diag(out, in, "phase", sr_str(rr, "phase", ""));
		fprintf(out, "%snot ok %zu %s # ERROR ", in, num, name);
		put_safe(out, why, false);
		fputc('\n', out);
	} else if (strcmp(verdict, "skip") == 0) {
		fprintf(out, "%sok %zu %s # SKIP ", in, num, name);
		size_t n = sr_len(report, "not_shown");
		for (size_t i = 0; i < n; i++) {
			fputs(i ? "; " : "", out);
			put_safe(out, sr_strv(sr_at(report, "not_shown", i, json_type_string), "?"), false);
		}
		if (!n)
			put_safe(out, sr_str(run, "error", "skipped"), false);
		fputc('\n', out);
	} else {
		fprintf(out, "%s%s %zu %s\n", in, strcmp(verdict, "pass") == 0 ? "ok" : "not ok", num, name);
	}
}

int suite_write_ktap(struct json_object *suite, FILE *out, struct err *e)
{
	struct json_object *info = sr_get(suite, "suite", json_type_object);
	struct json_object *sum = sr_get(suite, "summary", json_type_object);
	struct json_object *base = sr_get(suite, "baseline", json_type_object);
	struct json_object *kernels = sr_kernels(suite);
	size_t nruns = sr_len(suite, "runs"), nk = json_object_array_length(kernels);
	char line[1024];

	fputs("KTAP version 1\n", out);
	snprintf(line, sizeof(line), "%s (%s), started %s on %s", sr_str(info, "name", "?"), sr_str(info, "path", "?"),
		 sr_str(info, "started", "?"), sr_str(info, "host", "?"));
	diag(out, "", "vmemstress suite", line);
	struct json_object *hosts = sr_get(info, "hosts", json_type_array);
	for (size_t i = 0; hosts && i < json_object_array_length(hosts); i++) {
		struct json_object *h = sr_at(info, "hosts", i, json_type_object);
		snprintf(line, sizeof(line), "%s (%s): %" PRId64 " runs%s%s", sr_str(h, "name", "?"), sr_str(h, "connect", "?"),
			 sr_int(h, "runs", 0), sr_bool(h, "dropped_out", false) ? "; dropped out: " : "",
			 sr_bool(h, "dropped_out", false) ? sr_str(h, "error", "?") : "");
		diag(out, "", "host", line);
	}
	if (base) {
		snprintf(line, sizeof(line), "%s (started %s): %" PRId64 " new failures, %" PRId64 " fixed, %" PRId64
			 " known failures", sr_str(base, "path", "?"), sr_str(base, "started", "?"),
			 sr_int(sum, "new_failures", 0), sr_int(sum, "fixed", 0), sr_int(sum, "known_failures", 0));
		diag(out, "", "baseline", line);
	}
	fprintf(out, "1..%zu\n", nk);
	char kn[SR_NAME_MAX], name[SR_NAME_MAX];
	for (size_t k = 0; k < nk; k++) {
		const char *kernel = json_object_get_string(json_object_array_get_idx(kernels, k));
		ktap_name(kernel, name, sizeof(name));
		size_t n = 0, bad = 0, skipped = 0;
		struct json_object *first = NULL;
		for (size_t i = 0; i < nruns; i++) {
			struct json_object *run = sr_at(suite, "runs", i, json_type_object);
			if (!run)
				continue;
			sr_run_kernel(run, kn, sizeof(kn));
			if (strcmp(kn, kernel) != 0)
				continue;
			const char *v = sr_run_verdict(run);
			n++;
			bad += strcmp(v, "fail") == 0 || strcmp(v, "error") == 0;
			skipped += strcmp(v, "skip") == 0;
			first = first ? first : run;
		}
		fprintf(out, "  KTAP version 1\n  # Subtest: %s\n", name);
		struct json_object *kobj = sr_get(first, "kernel", json_type_object);
		snprintf(line, sizeof(line), "%s (%s)", sr_text(kobj, "release", "?"), sr_text(kobj, "image", "?"));
		diag(out, "  ", "kernel", line);
		fprintf(out, "  1..%zu\n", n);
		size_t num = 0;
		for (size_t i = 0; i < nruns; i++) {
			struct json_object *run = sr_at(suite, "runs", i, json_type_object);
			if (!run)
				continue;
			sr_run_kernel(run, kn, sizeof(kn));
			if (strcmp(kn, kernel) == 0)
				put_run(out, run, ++num);
		}
		if (bad)
			fprintf(out, "not ok %zu %s\n", k + 1, name);
		else if (skipped == n)
			fprintf(out, "ok %zu %s # SKIP every scenario skipped\n", k + 1, name);
		else
			fprintf(out, "ok %zu %s\n", k + 1, name);
	}
	json_object_put(kernels);
	if (fflush(out) != 0 || ferror(out))
		return err_sys(e, "cannot write the KTAP report");
	return 0;
}
