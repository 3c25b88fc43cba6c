#define _GNU_SOURCE
#include "run/known-bugs.h"

#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/kpageflags.h"

struct kb_ctx {
	struct known_bugs *kb;
	const char *path, *text;
	int line;
	struct known_bug *cur;
	struct err *e;
	bool failed;
	char seen[12][16];   /* keys of the current [bug] given so far */
	int nseen;
};

static char *kb_reader(char *buf, int size, void *stream)
{
	struct kb_ctx *c = stream;
	bool too_long;
	if (c->failed)
		return NULL;
	char *line = ini_next_line(&c->text, &c->line, buf, size, &too_long);
	if (too_long) {
		err_set(c->e, "%s:%d: line longer than %d characters (the INI reader's limit)", c->path, c->line,
			INI_LINE_MAX(size));
		c->failed = true;
	}
	return line;
}

__attribute__((format(printf, 3, 4))) static int kb_fail(struct kb_ctx *c, const char *key, const char *fmt, ...)
{
	char what[300];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (!c->failed)
		err_set(c->e, "%s:%d: %s: %s", c->path, c->line, key, what);
	c->failed = true;
	return 0;
}

static const struct {
	const char *name;
	int bit;
} flag_names[] = { { "lru", KPF_LRU },		 { "slab", KPF_SLAB },	   { "buddy", KPF_BUDDY },
		   { "mmap", KPF_MMAP },	 { "anon", KPF_ANON },	   { "head", KPF_COMPOUND_HEAD },
		   { "tail", KPF_COMPOUND_TAIL }, { "huge", KPF_HUGE },	   { "thp", KPF_THP },
		   { "offline", KPF_OFFLINE },	 { "pgtable", KPF_PGTABLE } };

/* 6.1 or 6.1.129: two or three numbers */
static bool version_ok(const char *v)
{
	int dots = 0;
	for (const char *p = v; *p; p++) {
		if (*p == '.') {
			if (p == v || p[1] == '.' || p[1] == 0)
				return false;
			dots++;
		} else if (*p < '0' || *p > '9') {
			return false;
		}
	}
	return *v && (dots == 1 || dots == 2);
}

/* "6.1.129" -> series "6.1" */
static void series_of(const char *v, char *buf, size_t len)
{
	const char *dot = strchr(v, '.');
	size_t n = dot ? strcspn(dot + 1, ".") + (size_t)(dot + 1 - v) : strlen(v);
	snprintf(buf, len, "%.*s", (int)n, v);
}

static int kb_handler(void *user, const char *section, const char *key, const char *value)
{
	struct kb_ctx *c = user;
	if (c->failed)
		return 0;
	if (strncmp(section, "bug ", 4) != 0 || !section[4])
		return kb_fail(c, key, "outside a [bug NAME] section");
	if (!c->cur || strncmp(c->cur->name, section + 4, sizeof(c->cur->name) - 1) != 0) {
		for (int i = 0; i < c->kb->n; i++)
			if (strncmp(c->kb->bugs[i].name, section + 4, sizeof(c->kb->bugs[i].name) - 1) == 0)
				return kb_fail(c, key, "[%s] given twice (first at line %d)", section,
					       c->kb->bugs[i].line);
		if (c->kb->n == KB_MAX)
			return kb_fail(c, key, "more than %d bugs", KB_MAX);
		c->nseen = 0;
		c->cur = &c->kb->bugs[c->kb->n++];
		memset(c->cur, 0, sizeof(*c->cur));
		snprintf(c->cur->name, sizeof(c->cur->name), "%s", section + 4);
		c->cur->reason = -1;
		c->cur->line = c->line;
	}
	for (int i = 0; i < c->nseen; i++)
		if (strcmp(c->seen[i], key) == 0)
			return kb_fail(c, key, "given twice in [%s]", section);
	if (c->nseen < (int)(sizeof(c->seen) / sizeof(c->seen[0])))
		snprintf(c->seen[c->nseen++], sizeof(c->seen[0]), "%s", key);
	struct known_bug *b = c->cur;
	char buf[300];
	snprintf(buf, sizeof(buf), "%s", value);
	if (strcmp(key, "title") == 0)
		snprintf(b->title, sizeof(b->title), "%s", value);
	else if (strcmp(key, "fixed-by") == 0)
		snprintf(b->fixed_by, sizeof(b->fixed_by), "%s", value);
	else if (strcmp(key, "fix-title") == 0)
		snprintf(b->fix_title, sizeof(b->fix_title), "%s", value);
	else if (strcmp(key, "affected") == 0)
		snprintf(b->affected, sizeof(b->affected), "%s", value);
	else if (strcmp(key, "owner-type") == 0)
		snprintf(b->owner_type, sizeof(b->owner_type), "%s", value);
	else if (strcmp(key, "evidence") == 0) {
		if (strlen(value) >= sizeof(b->evidence))
			return kb_fail(c, key, "longer than %zu bytes", sizeof(b->evidence) - 1);
		snprintf(b->evidence, sizeof(b->evidence), "%s", value);
	}
	else if (strcmp(key, "reason") == 0) {
		if ((b->reason = vms_reason_from_name(value)) < 0)
			return kb_fail(c, key, "\"%s\" is not a reason", value);
	} else if (strcmp(key, "page-flags") == 0) {
		for (char *save, *t = strtok_r(buf, " ,", &save); t; t = strtok_r(NULL, " ,", &save)) {
			size_t i;
			for (i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++)
				if (strcmp(flag_names[i].name, t) == 0)
					break;
			if (i == sizeof(flag_names) / sizeof(flag_names[0]))
				return kb_fail(c, key, "unknown page flag \"%s\"", t);
			b->page_flags |= UINT64_C(1) << flag_names[i].bit;
		}
	} else if (strcmp(key, "confirmed-by") == 0) {
		for (char *save, *t = strtok_r(buf, " ,", &save); t; t = strtok_r(NULL, " ,", &save)) {
			if (strcmp(t, "release") == 0)
				b->by_release = true;
			else if (strcmp(t, "sysfs-offline") == 0)
				b->by_sysfs = true;
			else
				return kb_fail(c, key, "\"%s\" is neither release nor sysfs-offline", t);
		}
	} else if (strcmp(key, "introduced-in") == 0) {
		if (!version_ok(value) || strlen(value) >= sizeof(b->introduced_in))
			return kb_fail(c, key, "\"%s\" is not a kernel version (6.1 or 6.1.129)", value);
		snprintf(b->introduced_in, sizeof(b->introduced_in), "%s", value);
	} else if (strcmp(key, "fixed-in") == 0) {
		for (char *save, *t = strtok_r(buf, " ,", &save); t; t = strtok_r(NULL, " ,", &save)) {
			if (!version_ok(t) || strlen(t) >= sizeof(b->fixed_in[0]))
				return kb_fail(c, key, "\"%s\" is not a kernel version (6.5 or 6.4.16)", t);
			if (b->nfixed_in == (int)(sizeof(b->fixed_in) / sizeof(b->fixed_in[0])))
				return kb_fail(c, key, "more than %zu versions", sizeof(b->fixed_in) / sizeof(b->fixed_in[0]));
			snprintf(b->fixed_in[b->nfixed_in++], sizeof(b->fixed_in[0]), "%s", t);
		}
	} else {
		return kb_fail(c, key, "unknown key");
	}
	return 1;
}

int known_bug_in_range(const struct known_bug *b, const char *version)
{
	if (!version || !version[0] || (!b->introduced_in[0] && !b->nfixed_in))
		return -1;
	if (b->introduced_in[0] && version_cmp(version, b->introduced_in) < 0)
		return 0;
	char series[24], fs[24];
	series_of(version, series, sizeof(series));
	for (int i = 0; i < b->nfixed_in; i++) {
		const char *f = b->fixed_in[i];
		bool mainline = strchr(f, '.') == strrchr(f, '.');  /* "6.5" */
		series_of(f, fs, sizeof(fs));
		if (mainline ? version_cmp(series, f) >= 0 : strcmp(series, fs) == 0 && version_cmp(version, f) >= 0)
			return 0;  /* this series has the fix, and this kernel is past it */
	}
	return 1;
}

const char *known_bug_range_words(const struct known_bug *b, const char *version, char *buf, size_t len)
{
	int in = known_bug_in_range(b, version);
	char range[240] = "";
	if (b->introduced_in[0])
		snprintf(range, sizeof(range), "introduced in %s", b->introduced_in);
	for (int i = 0; i < b->nfixed_in; i++)
		snprintf(range + strlen(range), sizeof(range) - strlen(range), "%s%s", i ? ", " : range[0] ? "; fixed in " : "fixed in ",
			 b->fixed_in[i]);
	if (in < 0)
		snprintf(buf, len, "%s", "");
	else
		snprintf(buf, len, "%s is %s its affected range (%s)%s", version, in ? "inside" : "OUTSIDE", range,
			 in ? "" : ": a regression, a backport gap or a vendor patch");
	return buf;
}

int known_bugs_parse(const char *text, const char *path, struct known_bugs *kb, struct err *e)
{
	memset(kb, 0, sizeof(*kb));
	struct kb_ctx c = { .kb = kb, .path = path, .text = text, .e = e };
	int r = ini_parse_stream(kb_reader, &c, kb_handler, &c);
	if (c.failed)
		return -1;
	if (ini_result(r, path, e) < 0)
		return -1;
	for (int i = 0; i < kb->n; i++)
		if (!kb->bugs[i].title[0] || !kb->bugs[i].fixed_by[0] || kb->bugs[i].reason < 0)
			return err_set(e, "%s:%d: [bug %s] needs title, fixed-by and reason", path, kb->bugs[i].line,
				       kb->bugs[i].name);
	return 0;
}

int known_bugs_load(const char *path, struct known_bugs *kb, struct err *e)
{
	char *text;
	if (read_text_file(path, 256u << 10, "known bugs", &text, e) < 0)
		return -1;
	int r = known_bugs_parse(text, path, kb, e);
	free(text);
	return r;
}

int known_bugs_match(const struct known_bugs *kb, const struct scenario *s, const struct block_verdict *v)
{
	for (int i = 0; i < kb->n; i++) {
		const struct known_bug *b = &kb->bugs[i];
		if (b->reason >= 0 && b->reason != (int)v->reason)
			continue;
		if (b->owner_type[0] && (v->owner < 0 || strcmp(s->pops[v->owner].type, b->owner_type) != 0))
			continue;
		if (b->page_flags && (!v->has_busy_flags || (v->busy_flags & b->page_flags) != b->page_flags))
			continue;
		if (b->evidence[0] && !strstr(v->evidence, b->evidence))
			continue;
		if (b->by_release || b->by_sysfs) {
			bool released = b->by_release && v->released_by >= 0 && v->released_by == v->owner;
			bool offlined = b->by_sysfs && strcmp(v->sysfs, "offlined") == 0;
			if (!released && !offlined)
				continue;
		}
		return i;
	}
	return -1;
}
