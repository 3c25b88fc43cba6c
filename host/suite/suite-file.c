#define _GNU_SOURCE
#include "suite/suite-file.h"

#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/units.h"

/* inih does not pass line numbers to the handler: the reader counts them
 * (as in scenario/scenario.c). */
struct parse_ctx {
	struct suite *s;
	const char *text;
	int line;
	char dir[512];            /* the suite file's directory: paths are relative to it */
	struct err *e;
	bool failed, have_suite;
	struct suite_kernel *k;   /* the [kernel] section being read */
	struct suite_host *h;     /* the [host] section being read */
	char seen[8][16];         /* keys of the current section given so far */
	int nseen;
};

bool suite_name_ok(const char *name)
{
	if (!*name || strlen(name) > SUITE_MAX_NAME || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return false;
	for (const char *p = name; *p; p++)
		if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') && !(*p >= '0' && *p <= '9') &&
		    *p != '-' && *p != '_' && *p != '.')
			return false;
	return true;
}

__attribute__((format(printf, 2, 3))) static int fail(struct parse_ctx *c, const char *fmt, ...)
{
	char what[700];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (!c->failed)
		err_set(c->e, "%s:%d: %s", c->s->path, c->line, what);
	c->failed = true;
	return 0;
}

static void resolve(const struct parse_ctx *c, const char *value, char *out, size_t len)
{
	if (value[0] == '/' || !c->dir[0])
		snprintf(out, len, "%s", value);
	else
		snprintf(out, len, "%s/%s", c->dir, value);
}

/* A section header: [suite], [kernel NAME] or [host NAME]. */
static int begin_section(struct parse_ctx *c, const char *name)
{
	struct suite *s = c->s;
	c->k = NULL;
	c->h = NULL;
	c->nseen = 0;
	if (strcmp(name, "suite") == 0) {
		if (c->have_suite)
			return fail(c, "[suite] given twice");
		c->have_suite = true;
		return 1;
	}
	if (strncmp(name, "kernel ", 7) == 0) {
		const char *kn = name + 7;
		while (*kn == ' ')
			kn++;
		if (!suite_name_ok(kn))
			return fail(c, "[kernel %s]: a kernel name is 1-%d letters, digits, '-', '_' or '.'", kn,
				    SUITE_MAX_NAME);
		for (int i = 0; i < s->nkernels; i++)
			if (strcmp(s->kernels[i].name, kn) == 0)
				return fail(c, "[kernel %s] given twice (first at line %d)", kn, s->kernels[i].line);
		if (s->nkernels == SUITE_MAX_KERNELS)
			return fail(c, "more than %d kernels", SUITE_MAX_KERNELS);
		c->k = &s->kernels[s->nkernels++];
		snprintf(c->k->name, sizeof(c->k->name), "%s", kn);
		c->k->line = c->line;
		return 1;
	}
	if (strncmp(name, "host ", 5) == 0) {
		const char *hn = name + 5;
		while (*hn == ' ')
			hn++;
		if (!suite_name_ok(hn))
			return fail(c, "[host %s]: a host name is 1-%d letters, digits, '-', '_' or '.'", hn,
				    SUITE_MAX_NAME);
		for (int i = 0; i < s->nhosts; i++)
			if (strcmp(s->hosts[i].name, hn) == 0)
				return fail(c, "[host %s] given twice (first at line %d)", hn, s->hosts[i].line);
		if (s->nhosts == SUITE_MAX_HOSTS)
			return fail(c, "more than %d hosts", SUITE_MAX_HOSTS);
		c->h = &s->hosts[s->nhosts++];
		snprintf(c->h->name, sizeof(c->h->name), "%s", hn);
		c->h->line = c->line;
		return 1;
	}
	return fail(c, "[%s]: unknown section (expected [suite], [kernel NAME] or [host NAME])", name);
}

static char *reader(char *buf, int size, void *stream)
{
	struct parse_ctx *c = stream;
	bool too_long;
	if (c->failed)
		return NULL;
	if (!ini_next_line(&c->text, &c->line, buf, size, &too_long)) {
		if (too_long)
			fail(c, "line longer than %d characters (the INI reader's limit)", INI_LINE_MAX(size));
		return NULL;
	}
	char name[128];
	if (ini_section_header(buf, name, sizeof(name)) && !begin_section(c, name))
		return NULL;
	return buf;
}

static int add_scenario(struct parse_ctx *c, const char *path)
{
	struct suite *s = c->s;
	struct stat st;
	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return fail(c, "scenarios: %s: no such scenario file", path);
	/* a run is named by its scenario, and its directory too */
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	if (*base == '.')
		return fail(c, "scenarios: %s: the file name gives no scenario name (the name is what comes before the first '.')",
			    path);
	if (s->nscenarios == SUITE_MAX_SCENARIOS)
		return fail(c, "scenarios: more than %d", SUITE_MAX_SCENARIOS);
	for (int i = 0; i < s->nscenarios; i++)
		if (strcmp(s->scenarios[i], path) == 0)
			return fail(c, "scenarios: %s listed twice", path);
	snprintf(s->scenarios[s->nscenarios++], sizeof(s->scenarios[0]), "%s", path);
	return 1;
}

static int suite_key(struct parse_ctx *c, const char *key, const char *value)
{
	struct suite *s = c->s;
	if (strcmp(key, "name") == 0) {
		if (!suite_name_ok(value))
			return fail(c, "name = %s: 1-%d letters, digits, '-', '_' or '.'", value, SUITE_MAX_NAME);
		snprintf(s->name, sizeof(s->name), "%s", value);
		return 1;
	}
	if (strcmp(key, "scenarios") == 0) {
		/* whitespace-separated, each a path or a glob pattern relative to
		 * the suite file; the key may be repeated */
		char *copy = xstrdup(value), *save = NULL;
		for (char *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
			char path[1024];
			resolve(c, w, path, sizeof(path));
			if (strpbrk(w, "*?[")) {
				glob_t g;
				if (glob(path, 0, NULL, &g) != 0) {
					fail(c, "scenarios: %s matches no file", w);
					break;
				}
				for (size_t i = 0; i < g.gl_pathc && !c->failed; i++)
					add_scenario(c, g.gl_pathv[i]);
				globfree(&g);
			} else {
				add_scenario(c, path);
			}
			if (c->failed)
				break;
		}
		free(copy);
		return !c->failed;
	}
	if (strcmp(key, "jobs") == 0) {
		char *end;
		errno = 0;
		long j = strtol(value, &end, 10);
		if (errno || *end || j < 1 || j > 64)
			return fail(c, "jobs = %s: a number from 1 to 64", value);
		s->jobs = (int)j;
		return 1;
	}
	if (strcmp(key, "run-timeout") == 0) {
		if (parse_duration_ms(value, &s->run_timeout_ms) < 0 || !s->run_timeout_ms)
			return fail(c, "run-timeout = %s: not a duration of at most 7 days (e.g. 20m)", value);
		return 1;
	}
	return fail(c, "[suite] %s: unknown key (expected name, scenarios, jobs, run-timeout)", key);
}

static int kernel_key(struct parse_ctx *c, const char *key, const char *value)
{
	struct suite_kernel *k = c->k;
	static const char *const sources[] = { "debian-kernel", "kernel-deb", "kernel", "kernel-src" };
	for (size_t i = 0; i < ARRAY_SIZE(sources); i++) {
		if (strcmp(key, sources[i]) != 0)
			continue;
		if (k->option[0])
			return fail(c, "[kernel %s] %s: this kernel already comes from %s (give one source)", k->name,
				    key, k->option);
		if (!*value)
			return fail(c, "[kernel %s] %s: empty", k->name, key);
		snprintf(k->option, sizeof(k->option), "%s", key);
		/* package names and "debian" stay as they are; files are
		 * relative to the suite file */
		if (strcmp(key, "debian-kernel") == 0 || (strcmp(key, "kernel-src") == 0 && strcmp(value, "debian") == 0))
			snprintf(k->value, sizeof(k->value), "%s", value);
		else
			resolve(c, value, k->value, sizeof(k->value));
		return 1;
	}
	if (strcmp(key, "modules") == 0) {
		resolve(c, value, k->modules, sizeof(k->modules));
		return 1;
	}
	if (strcmp(key, "patches") == 0) {
		if (!suite_name_ok(value))
			return fail(c, "[kernel %s] patches = %s: the name of a directory in images/patches/", k->name,
				    value);
		snprintf(k->patches, sizeof(k->patches), "%s", value);
		return 1;
	}
	return fail(c, "[kernel %s] %s: unknown key (expected debian-kernel, kernel-deb, kernel, kernel-src, "
		       "modules, patches)", k->name, key);
}

static int host_key(struct parse_ctx *c, const char *key, const char *value)
{
	struct suite_host *h = c->h;
	if (strcmp(key, "connect") == 0) {
		if (!*value || strlen(value) >= sizeof(h->connect))
			return fail(c, "[host %s] connect = %.60s: a libvirt URI of 1-%zu characters", h->name, value,
				    sizeof(h->connect) - 1);
		snprintf(h->connect, sizeof(h->connect), "%s", value);
		return 1;
	}
	if (strcmp(key, "jobs") == 0) {
		char *end;
		errno = 0;
		long j = strtol(value, &end, 10);
		if (errno || *end || j < 1 || j > 64)
			return fail(c, "[host %s] jobs = %s: a number from 1 to 64", h->name, value);
		h->jobs = (int)j;
		return 1;
	}
	return fail(c, "[host %s] %s: unknown key (expected connect, jobs)", h->name, key);
}

static int handler(void *user, const char *section, const char *key, const char *value)
{
	struct parse_ctx *c = user;
	if (c->failed)
		return 0;
	if (!*section)
		return fail(c, "%s: key outside any section", key);
	/* every key once per section, but for the list of scenarios */
	if (strcmp(key, "scenarios") != 0) {
		for (int i = 0; i < c->nseen; i++)
			if (strcmp(c->seen[i], key) == 0)
				return fail(c, "[%s] %s: given twice in this section", section, key);
		if (c->nseen < (int)ARRAY_SIZE(c->seen))
			snprintf(c->seen[c->nseen++], sizeof(c->seen[0]), "%s", key);
	}
	if (strcmp(section, "suite") == 0)
		return suite_key(c, key, value);
	if (c->k)
		return kernel_key(c, key, value);
	if (c->h)
		return host_key(c, key, value);
	return fail(c, "%s: in an unknown section", key);
}

static int check(struct parse_ctx *c)
{
	struct suite *s = c->s;
	if (!c->have_suite)
		return err_set(c->e, "%s: no [suite] section", s->path);
	if (!s->nscenarios)
		return err_set(c->e, "%s: [suite] lists no scenarios", s->path);
	for (int i = 0; i < s->nkernels; i++) {
		struct suite_kernel *k = &s->kernels[i];
		if (!k->option[0])
			return err_set(c->e, "%s:%d: [kernel %s] says nowhere where the kernel comes from "
				       "(debian-kernel, kernel-deb, kernel or kernel-src)", s->path, k->line, k->name);
		if (k->modules[0] && strcmp(k->option, "kernel") != 0)
			return err_set(c->e, "%s:%d: [kernel %s] modules goes with kernel", s->path, k->line, k->name);
		if (k->patches[0] && strcmp(k->option, "kernel-src") != 0)
			return err_set(c->e, "%s:%d: [kernel %s] patches goes with kernel-src", s->path, k->line,
				       k->name);
	}
	for (int i = 0; i < s->nhosts; i++) {
		struct suite_host *h = &s->hosts[i];
		if (!h->connect[0])
			return err_set(c->e, "%s:%d: [host %s] has no connect (the libvirt URI of its daemon)", s->path,
				       h->line, h->name);
		for (int j = 0; j < i; j++)
			if (strcmp(s->hosts[j].connect, h->connect) == 0)
				return err_set(c->e, "%s:%d: [host %s] connect = %s: the same daemon as [host %s]",
					       s->path, h->line, h->name, h->connect, s->hosts[j].name);
	}
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A directory: every *.ini in it, sorted, against the command line's kernel. */
static int load_dir(const char *path, struct suite *s, struct err *e)
{
	DIR *d = opendir(path);
	if (!d)
		return err_sys(e, "suite %s", path);
	char *names[SUITE_MAX_SCENARIOS];
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (l < 5 || strcmp(de->d_name + l - 4, ".ini") != 0 || de->d_name[0] == '.')
			continue;
		if (n == SUITE_MAX_SCENARIOS) {
			closedir(d);
			for (int i = 0; i < n; i++)
				free(names[i]);
			return err_set(e, "suite %s: more than %d scenarios", path, SUITE_MAX_SCENARIOS);
		}
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmp_str);
	for (int i = 0; i < n; i++) {
		snprintf(s->scenarios[i], sizeof(s->scenarios[i]), "%s/%s", path, names[i]);
		free(names[i]);
	}
	s->nscenarios = n;
	if (!n)
		return err_set(e, "suite %s: a directory with no *.ini scenario files", path);
	const char *base = strrchr(path, '/');
	base = base && base[1] ? base + 1 : path;
	snprintf(s->name, sizeof(s->name), "%s", suite_name_ok(base) ? base : "suite");
	return 0;
}

int suite_load(const char *path, struct suite *s, struct err *e)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->path, sizeof(s->path), "%s", path);
	struct stat st;
	if (stat(path, &st) < 0)
		return err_sys(e, "suite %s", path);
	if (S_ISDIR(st.st_mode))
		return load_dir(path, s, e);
	char *text;
	if (read_text_file(path, 1 << 20, "suite", &text, e) < 0)
		return -1;
	struct parse_ctx c = { .s = s, .text = text, .e = e };
	const char *slash = strrchr(path, '/');
	if (slash)
		snprintf(c.dir, sizeof(c.dir), "%.*s", (int)(slash - path), path);
	/* the default name: the file's, without directory and extension */
	const char *base = slash ? slash + 1 : path;
	snprintf(s->name, sizeof(s->name), "%.*s", (int)strcspn(base, "."), base);
	if (!suite_name_ok(s->name))
		snprintf(s->name, sizeof(s->name), "suite");
	int r = ini_parse_stream(reader, &c, handler, &c);
	free(text);
	if (c.failed)
		return -1;
	if (ini_result(r, path, e) < 0)
		return -1;
	return check(&c);
}
