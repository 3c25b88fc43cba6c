/* A suite result in words: one line per run, what failed under it, what
 * changed since the baseline, the verdict last. */
#define _GNU_SOURCE
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "suite/suite.h"

static const char *s_of(struct json_object *o, const char *key, const char *dflt)
{
	struct json_object *v;
	if (o && json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return dflt;
}

static int64_t i_of(struct json_object *o, const char *key)
{
	struct json_object *v;
	return o && json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : 0;
}

static struct json_object *a_of(struct json_object *o, const char *key)
{
	struct json_object *v;
	if (o && json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_array))
		return v;
	return NULL;
}

static void list(FILE *out, struct json_object *arr, const char *mark)
{
	size_t n = arr ? json_object_array_length(arr) : 0;
	for (size_t i = 0; i < n; i++)
		fprintf(out, "        - %s%s\n", json_object_get_string(json_object_array_get_idx(arr, i)), mark);
}

static void upper(const char *s, char *buf, size_t len)
{
	size_t i = 0;
	for (; s[i] && i + 1 < len; i++)
		buf[i] = (char)(s[i] >= 'a' && s[i] <= 'z' ? s[i] - 32 : s[i]);
	buf[i] = 0;
}

void suite_write_text(struct json_object *suite, FILE *out)
{
	struct json_object *info = NULL, *summary = NULL, *baseline = NULL;
	json_object_object_get_ex(suite, "suite", &info);
	json_object_object_get_ex(suite, "summary", &summary);
	json_object_object_get_ex(suite, "baseline", &baseline);
	int64_t ms = i_of(info, "elapsed_ms");
	fprintf(out, "vmemstress suite %s: %lld runs, %lld at a time, %lldm%02llds%s\n", s_of(info, "name", "?"),
		(long long)i_of(summary, "runs"), (long long)i_of(info, "jobs"), (long long)(ms / 60000),
		(long long)(ms / 1000 % 60), json_object_get_boolean(json_object_object_get(info, "interrupted"))
		? " (interrupted)" : "");
	if (baseline)
		fprintf(out, "  compared with %s (%s)\n", s_of(baseline, "path", "?"), s_of(baseline, "started", "?"));
	/* the hosts the runs were dealt to, and any that dropped out */
	struct json_object *hosts = a_of(info, "hosts");
	for (size_t i = 0; hosts && i < json_object_array_length(hosts); i++) {
		struct json_object *h = json_object_array_get_idx(hosts, i);
		fprintf(out, "  host %-12s %lld run%s, %lld at a time  %s\n", s_of(h, "name", "?"), (long long)i_of(h, "runs"),
			i_of(h, "runs") == 1 ? "" : "s", (long long)i_of(h, "jobs"), s_of(h, "connect", "?"));
		const char *err = s_of(h, "error", NULL);
		if (err && !i_of(h, "dropped_out_ms") && !i_of(h, "moved_runs"))
			fprintf(out, "        NOT USABLE: %s\n", err);
		else if (err)
			fprintf(out, "        DROPPED OUT at %.1f s: %s; %lld unfinished run%s moved to the other hosts\n",
				(double)i_of(h, "dropped_out_ms") / 1000, err, (long long)i_of(h, "moved_runs"),
				i_of(h, "moved_runs") == 1 ? "" : "s");
	}
	struct json_object *runs = a_of(suite, "runs");
	size_t n = runs ? json_object_array_length(runs) : 0;
	for (size_t i = 0; i < n; i++) {
		struct json_object *run = json_object_array_get_idx(runs, i);
		char v[16];
		upper(s_of(run, "verdict", "error"), v, sizeof(v));
		const char *change = s_of(run, "change", NULL);
		const char *host = s_of(run, "host", NULL);
		fprintf(out, "  %-5s %-44s %6.1f s%s%s%s%s\n", v, s_of(run, "id", "?"), (double)i_of(run, "elapsed_ms") / 1000,
			host ? "  on " : "", host ? host : "", change ? "  " : "", change ? change : "");
		struct json_object *moved = a_of(run, "moved_from");
		for (size_t m = 0; moved && m < json_object_array_length(moved); m++) {
			struct json_object *mv = json_object_array_get_idx(moved, m);
			fprintf(out, "        moved from %s (dropped out): %s\n", s_of(mv, "host", "?"), s_of(mv, "error", "?"));
		}
		const char *error = s_of(run, "error", NULL);
		if (error)
			fprintf(out, "        %s\n", error);
		if (baseline) {
			list(out, a_of(run, "new_failures"), "   [new]");
			list(out, a_of(run, "known_failures"), "   [known]");
			list(out, a_of(run, "fixed_failures"), "   [fixed]");
		} else {
			list(out, a_of(run, "failures"), "");
		}
	}
	fprintf(out, "  %lld pass, %lld fail, %lld error, %lld skip", (long long)i_of(summary, "pass"),
		(long long)i_of(summary, "fail"), (long long)i_of(summary, "error"), (long long)i_of(summary, "skip"));
	if (baseline)
		fprintf(out, "; since the baseline: %lld new failure%s, %lld fixed, %lld known",
			(long long)i_of(summary, "new_failures"), i_of(summary, "new_failures") == 1 ? "" : "s",
			(long long)i_of(summary, "fixed"), (long long)i_of(summary, "known_failures"));
	fprintf(out, "\n  each run's console.log, qmp.log, guest.log and report are in runs/KERNEL/SCENARIO/\n");
	char v[16];
	upper(s_of(suite, "verdict", "error"), v, sizeof(v));
	fprintf(out, "Verdict: %s (exit %lld)", v, (long long)i_of(suite, "exit_status"));
	if (i_of(summary, "regressions"))
		fprintf(out, ": %lld run%s failed%s", (long long)i_of(summary, "regressions"),
			i_of(summary, "regressions") == 1 ? "" : "s", baseline ? " with failures the baseline did not have" : "");
	else if (baseline && i_of(summary, "fail"))
		fprintf(out, ": nothing new; %lld known failure%s", (long long)i_of(summary, "known_failures"),
			i_of(summary, "known_failures") == 1 ? "" : "s");
	fprintf(out, "\n");
}
