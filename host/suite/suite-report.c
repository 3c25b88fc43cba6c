/* What the suite renderers share: defensive readers of the suite object,
 * escaping for markup and line formats, and the folding of stayed blocks
 * into runs. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "suite/suite-report.h"

struct json_object *sr_get(struct json_object *o, const char *key, json_type type)
{
	struct json_object *v;
	if (!o || !json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v))
		return NULL;
	return json_object_is_type(v, type) ? v : NULL;
}

const char *sr_strv(struct json_object *v, const char *dflt)
{
	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : dflt;
}

const char *sr_str(struct json_object *o, const char *key, const char *dflt)
{
	return sr_strv(sr_get(o, key, json_type_string), dflt);
}

const char *sr_text(struct json_object *o, const char *key, const char *dflt)
{
	const char *s = sr_str(o, key, NULL);
	return s && *s ? s : dflt;
}

int64_t sr_int(struct json_object *o, const char *key, int64_t dflt)
{
	struct json_object *v = sr_get(o, key, json_type_int);
	if (v)
		return json_object_get_int64(v);
	v = sr_get(o, key, json_type_double);
	if (!v)
		return dflt;
	double d = json_object_get_double(v);
	if (!isfinite(d))
		return dflt;
	/* 9.2e18: beyond it the cast is undefined */
	if (d >= 9.2e18)
		return INT64_MAX;
	if (d <= -9.2e18)
		return INT64_MIN;
	return (int64_t)d;
}

bool sr_bool(struct json_object *o, const char *key, bool dflt)
{
	struct json_object *v = sr_get(o, key, json_type_boolean);
	return v ? json_object_get_boolean(v) : dflt;
}

size_t sr_len(struct json_object *o, const char *key)
{
	struct json_object *a = sr_get(o, key, json_type_array);
	return a ? json_object_array_length(a) : 0;
}

struct json_object *sr_at(struct json_object *o, const char *key, size_t i, json_type type)
{
	struct json_object *a = sr_get(o, key, json_type_array);
	if (!a || i >= json_object_array_length(a))
		return NULL;
	struct json_object *v = json_object_array_get_idx(a, i);
	return v && json_object_is_type(v, type) ? v : NULL;
}

/* Length of the valid UTF-8 sequence at s and its code point in *cp; 0
 * when s does not start one (overlong forms and surrogates included). */
static int utf8_decode(const unsigned char *s, uint32_t *cp)
{
	unsigned char c = s[0];
	int n;
	uint32_t v, min;
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if ((c & 0xE0) == 0xC0) {
		n = 2, v = c & 0x1F, min = 0x80;
	} else if ((c & 0xF0) == 0xE0) {
		n = 3, v = c & 0x0F, min = 0x800;
	} else if ((c & 0xF8) == 0xF0) {
		n = 4, v = c & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	for (int i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)  /* also stops at the terminating NUL */
			return 0;
		v = (v << 6) | (s[i] & 0x3F);
	}
	if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
		return 0;
	*cp = v;
	return n;
}

void sr_put_markup(FILE *f, const char *s, int mode)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	while (*p) {
		uint32_t cp;
		int n = utf8_decode(p, &cp);
		if (!n) {
			fprintf(f, "\\x%02X", *p++);
			continue;
		}
		switch (cp) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		case '\n': fputs(mode == SR_ATTR ? "&#10;" : "\n", f); break;
		case '\r': fputs(mode == SR_ATTR ? "&#13;" : "\r", f); break;
		case '\t': fputs(mode == SR_ATTR ? "&#9;" : "\t", f); break;
		default:
			/* XML 1.0 cannot carry these even as references; C1
			 * controls and DEL are HTML parse errors */
			if (cp < 0x20 || cp == 0x7F)
				fprintf(f, "\\x%02X", (unsigned)cp);
			else if ((cp >= 0x80 && cp <= 0x9F) || cp == 0xFFFE || cp == 0xFFFF)
				fprintf(f, "\\u%04X", (unsigned)cp);
			else
				fwrite(p, 1, (size_t)n, f);
		}
		p += n;
	}
}

void sr_put_line(FILE *f, const char *s, bool no_hash)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	while (*p) {
		uint32_t cp;
		int n = utf8_decode(p, &cp);
		if (!n) {
			fputc('?', f);
			p++;
			continue;
		}
		if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F))
			fputc(' ', f);
		else if (cp == '#' && no_hash)
			fputc('_', f);
		else
			fwrite(p, 1, (size_t)n, f);
		p += n;
	}
}

void sr_put_utf8(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	while (*p) {
		uint32_t cp;
		int n = utf8_decode(p, &cp);
		if (!n) {
			fputc('?', f);
			p++;
			continue;
		}
		fwrite(p, 1, (size_t)n, f);
		p += n;
	}
}

void sr_run_kernel(struct json_object *run, char *buf, size_t len)
{
	const char *k = sr_str(sr_get(run, "kernel", json_type_object), "name", NULL);
	if (k && *k) {
		snprintf(buf, len, "%s", k);
		return;
	}
	const char *id = sr_str(run, "id", "");
	const char *slash = strchr(id, '/');
	if (slash && slash > id)
		snprintf(buf, len, "%.*s", (int)(slash - id), id);
	else
		snprintf(buf, len, "unknown-kernel");
}

void sr_run_scenario(struct json_object *run, char *buf, size_t len)
{
	const char *s = sr_str(sr_get(run, "scenario", json_type_object), "name", NULL);
	if (s && *s) {
		snprintf(buf, len, "%s", s);
		return;
	}
	const char *id = sr_str(run, "id", "");
	const char *slash = strrchr(id, '/');
	snprintf(buf, len, "%s", slash && slash[1] ? slash + 1 : *id ? id : "unknown-scenario");
}

struct json_object *sr_kernels(struct json_object *suite)
{
	struct json_object *names = json_object_new_array();
	size_t n = sr_len(suite, "runs");
	for (size_t i = 0; i < n; i++) {
		struct json_object *run = sr_at(suite, "runs", i, json_type_object);
		if (!run)
			continue;
		char k[SR_NAME_MAX];
		sr_run_kernel(run, k, sizeof(k));
		bool seen = false;
		for (size_t j = 0; j < json_object_array_length(names) && !seen; j++)
			seen = strcmp(json_object_get_string(json_object_array_get_idx(names, j)), k) == 0;
		if (!seen)
			json_object_array_add(names, json_object_new_string(k));
	}
	return names;
}

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Two stayed entries fold into one run: same owner, reason, known bug,
 * judgement and confirmation. */
static bool alike(struct json_object *a, struct json_object *b)
{
	return same_str(sr_str(a, "owner", NULL), sr_str(b, "owner", NULL)) &&
	       same_str(sr_str(a, "reason", NULL), sr_str(b, "reason", NULL)) &&
	       same_str(sr_str(sr_get(a, "known_bug", json_type_object), "name", NULL),
			sr_str(sr_get(b, "known_bug", json_type_object), "name", NULL)) &&
	       sr_bool(a, "expected", false) == sr_bool(b, "expected", false) &&
	       same_str(sr_str(a, "released_by", NULL), sr_str(b, "released_by", NULL)) &&
	       sr_bool(a, "stayed_after_release", false) == sr_bool(b, "stayed_after_release", false);
}

bool sr_stay_run(struct json_object *step, size_t i, int64_t block_size, struct sr_stay_run *r)
{
	size_t n = sr_len(step, "stayed");
	struct json_object *v = NULL;
	while (i < n && !(v = sr_at(step, "stayed", i, json_type_object)))
		i++;
	if (!v)
		return false;
	memset(r, 0, sizeof(*r));
	r->first = v;
	r->block_first = r->block_last = sr_int(v, "block", -1);
	r->mblock_first = r->mblock_last = sr_int(v, "memory_block", -1);
	r->addr_first = sr_int(v, "addr", -1);
	r->expected = sr_bool(v, "expected", false);  /* unknown: shown as not expected */
	struct json_object *last = v;
	size_t j = i + 1;
	for (; j < n; j++) {
		struct json_object *w = sr_at(step, "stayed", j, json_type_object);
		if (!w || r->block_last < 0 || r->block_last == INT64_MAX || sr_int(w, "block", -1) != r->block_last + 1 ||
		    !alike(v, w))
			break;
		r->block_last++;
		r->mblock_last = sr_int(w, "memory_block", -1);
		last = w;
	}
	int64_t last_addr = sr_int(last, "addr", -1);
	r->addr_end = last_addr >= 0 && block_size > 0 && last_addr <= INT64_MAX - block_size ? last_addr + block_size : -1;
	r->next = j;
	return true;
}

void sr_stay_text(FILE *f, struct json_object *step, const struct sr_stay_run *r)
{
	struct json_object *v = r->first;
	fprintf(f, "step %s: ", sr_str(step, "name", "?"));
	if (r->block_last > r->block_first)
		fprintf(f, "device blocks %" PRId64 "-%" PRId64, r->block_first, r->block_last);
	else
		fprintf(f, "device block %" PRId64, r->block_first);
	if (r->addr_first >= 0 && r->addr_end > r->addr_first)
		fprintf(f, " (%#" PRIx64 "-%#" PRIx64, (uint64_t)r->addr_first, (uint64_t)r->addr_end);
	else
		fputs(" (address unknown", f);
	if (r->mblock_first >= 0 && r->mblock_last > r->mblock_first)
		fprintf(f, ", memory blocks %" PRId64 "-%" PRId64 ")", r->mblock_first, r->mblock_last);
	else if (r->mblock_first >= 0)
		fprintf(f, ", memory block %" PRId64 ")", r->mblock_first);
	else
		fputs(")", f);
	fprintf(f, ": owner %s, reason %s, %s", sr_str(v, "owner", "unowned"), sr_str(v, "reason", "unknown"),
		r->expected ? "expected" : "not expected");
	const char *rel = sr_str(v, "released_by", NULL);
	if (rel)
		fprintf(f, "; went when %s was released", rel);
	else if (sr_bool(v, "stayed_after_release", false))
		fputs("; stayed after release", f);
	const char *sysfs = sr_str(v, "sysfs_offline", NULL);
	if (sysfs)
		fprintf(f, "; sysfs offline: %s", sysfs);
}

const char *sr_run_verdict(struct json_object *run)
{
	static const char *const known[] = { "pass", "fail", "error", "skip" };
	const char *v = sr_str(run, "verdict", "");
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(v, known[i]) == 0)
			return known[i];
	return "error";
}

void sr_size(int64_t bytes, char *buf, size_t len)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	if (bytes < 0) {
		snprintf(buf, len, "?");
		return;
	}
	double v = (double)bytes;
	int u = 0;
	while (v >= 1024 && u < 6)
		v /= 1024, u++;
	if (v == floor(v))
		snprintf(buf, len, "%.0f %s", v, units[u]);
	else
		snprintf(buf, len, "%.1f %s", v, units[u]);
}
