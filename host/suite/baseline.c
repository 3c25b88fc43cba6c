#define _GNU_SOURCE
#include "suite/baseline.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *str_of(struct json_object *o, const char *key)
{
	struct json_object *v;
	if (o && json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return NULL;
}

static struct json_object *arr_of(struct json_object *o, const char *key)
{
	struct json_object *v;
	if (o && json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_array))
		return v;
	return NULL;
}

static bool has(struct json_object *arr, const char *s)
{
	size_t n = arr ? json_object_array_length(arr) : 0;
	for (size_t i = 0; i < n; i++) {
		const char *t = json_object_get_string(json_object_array_get_idx(arr, i));
		if (t && strcmp(t, s) == 0)
			return true;
	}
	return false;
}

static void add_unique(struct json_object *arr, const char *s)
{
	if (!has(arr, s))
		json_object_array_add(arr, json_object_new_string(s));
}

/* Corrupted or lost pages in one guest state. */
static void state_losses(struct json_object *state, struct json_object *out)
{
	struct json_object *pops = arr_of(state, "populations");
	size_t n = pops ? json_object_array_length(pops) : 0;
	for (size_t i = 0; i < n; i++) {
		struct json_object *p = json_object_array_get_idx(pops, i), *v;
		const char *name = str_of(p, "name");
		if (!name)
			continue;
		char sig[200];
		if (json_object_object_get_ex(p, "corrupted", &v) && json_object_get_int64(v) > 0) {
			snprintf(sig, sizeof(sig), "population %s: corrupted pages", name);
			add_unique(out, sig);
		}
		if (json_object_object_get_ex(p, "absent", &v) && json_object_get_int64(v) > 0) {
			snprintf(sig, sizeof(sig), "population %s: lost pages", name);
			add_unique(out, sig);
		}
	}
}

/* A finding in words without its numbers and its parenthesis, so that the
 * same failure on another night has the same signature. */
static void normalize(const char *in, char *out, size_t len)
{
	size_t o = 0;
	for (const char *p = in; *p && o + 2 < len; p++) {
		if (*p == '(' || *p == '\n')
			break;
		if (isdigit((unsigned char)*p)) {
			if (p[0] == '0' && p[1] == 'x')
				p++;
			while (isxdigit((unsigned char)p[1]) || p[1] == '.')
				p++;
			out[o++] = '#';
			continue;
		}
		out[o++] = (char)((unsigned char)*p < 0x20 ? ' ' : *p);
	}
	while (o && out[o - 1] == ' ')
		o--;
	out[o] = 0;
}

struct json_object *failure_signatures(struct json_object *report)
{
	struct json_object *out = json_object_new_array();
	const char *verdict = str_of(report, "verdict");
	if (!verdict || strcmp(verdict, "fail") != 0)
		return out;
	struct json_object *steps = arr_of(report, "steps"), *v;
	size_t ns = steps ? json_object_array_length(steps) : 0;
	for (size_t i = 0; i < ns; i++) {
		struct json_object *st = json_object_array_get_idx(steps, i);
		const char *sname = str_of(st, "name");
		struct json_object *stayed = arr_of(st, "stayed");
		size_t nb = stayed ? json_object_array_length(stayed) : 0;
		for (size_t k = 0; k < nb; k++) {
			struct json_object *b = json_object_array_get_idx(stayed, k);
			if (json_object_object_get_ex(b, "expected", &v) && json_object_get_boolean(v))
				continue;
			const char *owner = str_of(b, "owner"), *reason = str_of(b, "reason");
			struct json_object *kb = NULL;
			json_object_object_get_ex(b, "known_bug", &kb);
			const char *bug = str_of(kb, "name");
			char sig[300];
			snprintf(sig, sizeof(sig), "step %s: %s stayed: %s%s%s%s", sname ? sname : "?",
				 owner ? owner : "unowned", reason ? reason : "unknown", bug ? " (known bug " : "",
				 bug ? bug : "", bug ? ")" : "");
			add_unique(out, sig);
		}
		if (json_object_object_get_ex(st, "state", &v))
			state_losses(v, out);
		if (json_object_object_get_ex(st, "final_state", &v))
			state_losses(v, out);
	}
	if (json_object_object_get_ex(report, "populate", &v))
		state_losses(v, out);
	/* findings the structured signatures above do not cover */
	struct json_object *findings = arr_of(report, "findings");
	size_t nf = findings ? json_object_array_length(findings) : 0;
	for (size_t i = 0; i < nf; i++) {
		const char *f = json_object_get_string(json_object_array_get_idx(findings, i));
		if (!f || strstr(f, " stayed: ") || strstr(f, "still stayed after releasing") ||
		    strstr(f, "corrupted pages") || strstr(f, " lost "))
			continue;
		char sig[300];
		normalize(f, sig, sizeof(sig));
		add_unique(out, sig);
	}
	return out;
}

int baseline_load(const char *path, struct json_object **suite, struct err *e)
{
	char *text;
	if (read_text_file(path, 256u << 20, "baseline", &text, e) < 0)
		return -1;
	struct json_tokener *tok = json_tokener_new_ex(64);
	struct json_object *o = json_tokener_parse_ex(tok, text, (int)strlen(text));
	enum json_tokener_error je = json_tokener_get_error(tok);
	json_tokener_free(tok);
	free(text);
	if (!o || je != json_tokener_success) {
		json_object_put(o);
		return err_set(e, "baseline %s: not JSON (%s)", path, json_tokener_error_desc(je));
	}
	const char *schema = str_of(o, "schema");
	if (!schema || strcmp(schema, "vmemstress-suite/1") != 0 || !arr_of(o, "runs")) {
		json_object_put(o);
		return err_set(e, "baseline %s: not a suite result (expected \"schema\": \"vmemstress-suite/1\" "
			       "and \"runs\", as in a suite's suite.json)", path);
	}
	*suite = o;
	return 0;
}

static struct json_object *baseline_run(struct json_object *baseline, const char *id)
{
	struct json_object *runs = arr_of(baseline, "runs");
	size_t n = runs ? json_object_array_length(runs) : 0;
	for (size_t i = 0; i < n; i++) {
		struct json_object *r = json_object_array_get_idx(runs, i);
		const char *rid = str_of(r, "id");
		if (rid && id && strcmp(rid, id) == 0)
			return r;
	}
	return NULL;
}

bool baseline_compare(struct json_object *run, struct json_object *baseline)
{
	struct json_object *now = arr_of(run, "failures");
	struct json_object *newf = json_object_new_array(), *fixed = json_object_new_array(),
			   *known = json_object_new_array();
	size_t nn = now ? json_object_array_length(now) : 0;
	const char *verdict = str_of(run, "verdict");
	bool failed = verdict && strcmp(verdict, "fail") == 0;
	const char *change = NULL;
	bool regression = failed;
	if (baseline) {
		struct json_object *old_run = baseline_run(baseline, str_of(run, "id"));
		struct json_object *old = arr_of(old_run, "failures");
		size_t no = old ? json_object_array_length(old) : 0;
		for (size_t i = 0; i < nn; i++) {
			const char *s = json_object_get_string(json_object_array_get_idx(now, i));
			add_unique(old_run && has(old, s) ? known : newf, s);
		}
		/* a run that could not finish tells nothing about what was fixed */
		bool complete = verdict && (strcmp(verdict, "pass") == 0 || strcmp(verdict, "fail") == 0);
		for (size_t i = 0; i < no && complete; i++) {
			const char *s = json_object_get_string(json_object_array_get_idx(old, i));
			if (s && !has(now, s))
				add_unique(fixed, s);
		}
		if (!complete)
			change = "not-compared";
		else if (json_object_array_length(newf))
			change = "new-failure";
		else if (json_object_array_length(fixed) && !json_object_array_length(known))
			change = "fixed";
		else if (json_object_array_length(known))
			change = "known-failure";
		else if (!old_run)
			change = "new-run";
		else
			change = "unchanged";
		/* regressions: new signatures, a run the baseline lacks, or a
		 * failure without signatures where the baseline passed */
		const char *ov = str_of(old_run, "verdict");
		regression = failed && (json_object_array_length(newf) > 0 || !old_run ||
					(!nn && !(ov && strcmp(ov, "fail") == 0)));
	}
	json_object_object_add(run, "change", change ? json_object_new_string(change) : NULL);
	json_object_object_add(run, "new_failures", newf);
	json_object_object_add(run, "fixed_failures", fixed);
	json_object_object_add(run, "known_failures", known);
	return regression;
}
