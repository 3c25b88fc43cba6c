#define _GNU_SOURCE
#include "scenario/scenario.h"

#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/population-spec.h"
#include "../common/reasons.h"
#include "util/units.h"

/* A [step] without requested-size: no size parse_size() gives within the
 * limits check() applies. */
#define STEP_NO_SIZE UINT64_MAX

/* Upper bounds: far beyond any test VM, low enough that QEMU's
 * arguments and every sum of sizes stay exact. */
#define MAX_BOOT_MEMORY (1ull << 40)   /* 1 TiB */
#define MAX_REGION_SIZE (1ull << 40)   /* 1 TiB */
#define MAX_BLOCK_SIZE (1ull << 30)    /* 1 GiB */

/* inih does not tell the handler the line number, so our reader counts lines
 * and remembers where the current section started. */
struct parse_ctx {
	struct scenario *s;
	const char *text;     /* remaining input */
	int line;             /* number of the line last handed to inih */
	int section_line;
	struct err *e;
	bool failed;
	/* which keys of the current section were seen, for duplicates */
	char cur_section[128];
	char seen[32][32];
	int nseen;
	/* pointers to the section being filled */
	struct scn_population *pop;
	struct scn_step *step;
	struct scn_expect *expect;    /* [expect] or an [expect WHEN]'s */
	unsigned *expect_set;         /* an [expect WHEN]'s EXPECT_SET_*; NULL for [expect] */
	bool have_expect, have_vm, have_scenario;
};

static int begin_section(struct parse_ctx *c, const char *section);

static char *reader(char *buf, int size, void *stream)
{
	struct parse_ctx *c = stream;
	bool too_long;
	if (!ini_next_line(&c->text, &c->line, buf, size, &too_long)) {
		if (too_long && !c->failed) {
			err_set(c->e, "%s:%d: line longer than %d characters (the INI reader's limit)", c->s->path,
				c->line, INI_LINE_MAX(size));
			c->failed = true;
		}
		return NULL;
	}
	char name[128];
	if (!c->failed && ini_section_header(buf, name, sizeof(name))) {
		/* Sections are opened here, not in the handler, so that an empty
		 * section and a repeated one are seen too. */
		c->section_line = c->line;
		if (begin_section(c, name) == 0)
			return NULL;  /* stop: c->failed says why */
	}
	return buf;
}

__attribute__((format(printf, 4, 5)))
static int fail(struct parse_ctx *c, const char *section, const char *key, const char *fmt, ...)
{
	char what[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (!c->failed) {
		if (key && !*section)
			err_set(c->e, "%s:%d: %s: %s", c->s->path, c->line, key, what);
		else if (key)
			err_set(c->e, "%s:%d: [%s] %s: %s", c->s->path, c->line, section, key, what);
		else
			err_set(c->e, "%s:%d: [%s]: %s", c->s->path, c->line, section, what);
	}
	c->failed = true;
	return 0;  /* inih: stop at the first error */
}

/* A key of the population's own type (its spec's options): 1 set, 0 bad
 * value (error set), -1 not an option of this type. */
static int set_pop_option(struct parse_ctx *c, const char *sec, const char *key, const char *value)
{
	struct scn_population *p = c->pop;
	const struct vms_pop_option *o = vms_pop_option_find(vms_population_spec(p->type), key);
	if (!o) {
		/* a key of another type, before `type`: say what is missing */
		for (size_t i = 0; !p->type[0] && vms_population_specs[i]; i++)
			if (vms_pop_option_find(vms_population_specs[i], key))
				return fail(c, sec, key, "put \"type\" before type-specific keys");
		return -1;
	}
	char why[200];
	if (vms_pop_option_check(o, value, why, sizeof(why)))
		return fail(c, sec, key, "%s", why);
	if (p->nopts == SCN_MAX_OPTIONS)
		return fail(c, sec, key, "too many options");
	if (strlen(value) >= sizeof(p->opts[0].value))
		return fail(c, sec, key, "value too long");
	snprintf(p->opts[p->nopts].key, sizeof(p->opts[0].key), "%s", key);
	snprintf(p->opts[p->nopts].value, sizeof(p->opts[0].value), "%s", value);
	p->nopts++;
	return 1;
}

/* "a:reason, unowned:*" */
static int set_rules(struct parse_ctx *c, const char *sec, const char *key, const char *value, struct stay_rule *rules,
		     int *n)
{
	char buf[512];
	if (strlen(value) >= sizeof(buf))
		return fail(c, sec, key, "value too long");
	snprintf(buf, sizeof(buf), "%s", value);
	*n = 0;
	for (char *save, *tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		char *colon = strchr(tok, ':');
		if (!colon)
			return fail(c, sec, key, "\"%s\" is not POPULATION:REASON[@KNOWN-BUG] (e.g. vmsplice:gup-reference, unowned:*)", tok);
		*colon = 0;
		char *reason = colon + 1, *at = strchr(reason, '@');
		if (at) {
			*at = 0;
			if (!at[1] || strlen(at + 1) >= sizeof(rules[0].bug))
				return fail(c, sec, key, "\"%s@%s\": a known bug's name must follow @", reason, at + 1);
		}
		int r = strcmp(reason, "*") == 0 ? -1 : vms_reason_from_name(reason);
		if (r < 0 && strcmp(reason, "*") != 0) {
			char list[300] = "";
			for (int i = 0; i < VMS_REASON_COUNT; i++)
				snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "",
					 vms_reason_name((enum vms_reason)i));
			return fail(c, sec, key, "\"%s\" is not a reason (known: %s, or *)", reason, list);
		}
		if (*n == SCN_MAX_RULES)
			return fail(c, sec, key, "more than %d rules", SCN_MAX_RULES);
		if (strlen(tok) > VMS_MAX_NAME || !*tok)
			return fail(c, sec, key, "bad population name \"%s\"", tok);
		snprintf(rules[*n].who, sizeof(rules[0].who), "%s", tok);
		rules[*n].reason = r;
		snprintf(rules[*n].bug, sizeof(rules[0].bug), "%s", at ? at + 1 : "");
		(*n)++;
	}
	return 1;
}

bool stay_allowed(const struct stay_rule *rules, int n, const char *who, int reason, const char *bug)
{
	for (int i = 0; i < n; i++)
		if ((strcmp(rules[i].who, "*") == 0 || strcmp(rules[i].who, who) == 0) &&
		    (rules[i].reason < 0 || rules[i].reason == reason) &&
		    (!rules[i].bug[0] || strcmp(rules[i].bug, bug) == 0))
			return true;
	return false;
}

static int set_size(struct parse_ctx *c, const char *sec, const char *key, const char *v, uint64_t *out)
{
	if (parse_size(v, out) < 0)
		return fail(c, sec, key, "\"%s\" is not a size (examples: 4096, 64K, 512M, 2MiB, 1G)", v);
	if (*out > MAX_REGION_SIZE)
		return fail(c, sec, key, "\"%s\" is more than 1 TiB", v);
	return 1;
}

static int set_duration(struct parse_ctx *c, const char *sec, const char *key, const char *v, uint64_t *out)
{
	if (parse_duration_ms(v, out) < 0 || *out == 0)
		return fail(c, sec, key, "\"%s\" is not a duration from 1 ms to 7 days (examples: 90, 90s, 500ms, 2m)", v);
	return 1;
}

static int set_string(struct parse_ctx *c, const char *sec, const char *key, const char *v, char *out, size_t len)
{
	if (strlen(v) >= len)
		return fail(c, sec, key, "value longer than %zu characters", len - 1);
	snprintf(out, len, "%s", v);
	return 1;
}

static int set_choice(struct parse_ctx *c, const char *sec, const char *key, const char *v,
		      const char *const *choices, int *out)
{
	char list[200] = "";
	for (int i = 0; choices[i]; i++) {
		if (strcmp(v, choices[i]) == 0) {
			*out = i;
			return 1;
		}
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "", choices[i]);
	}
	return fail(c, sec, key, "\"%s\" is not one of: %s", v, list);
}

static int set_bool(struct parse_ctx *c, const char *sec, const char *key, const char *v, int *out)
{
	static const char *const yn[] = { "no", "yes", NULL };
	return set_choice(c, sec, key, v, yn, out);
}

/* [vm] keys of the driver's and QEMU's modes: 1 set, 0 bad, -1 not one */
static int set_mode(struct parse_ctx *c, const char *sec, const char *key, const char *v, struct scn_modes *m)
{
	int i;
	if (strcmp(key, "driver-mode") == 0) {
		static const char *const modes[] = { "auto", "sbm", "bbm", NULL };
		if (!set_choice(c, sec, key, v, modes, &i))
			return 0;
		m->driver = (enum driver_mode)i;
		return 1;
	}
	if (strcmp(key, "bbm-block-size") == 0)
		return set_size(c, sec, key, v, &m->bbm_block_size);
	if (strcmp(key, "bbm-safe-unplug") == 0)
		return set_bool(c, sec, key, v, &m->bbm_safe_unplug);
	if (strcmp(key, "online-policy") == 0) {
		static const char *const policies[] = { "zone", "auto-movable", "guest", NULL };
		if (!set_choice(c, sec, key, v, policies, &i))
			return 0;
		m->online = (enum online_policy)i;
		return 1;
	}
	if (strcmp(key, "auto-movable-ratio") == 0) {
		char *end;
		errno = 0;
		long n = strtol(v, &end, 10);
		if (errno || *end || !*v || n < 0 || n > 100000)
			return fail(c, sec, key, "\"%s\" is not a percentage from 0 to 100000", v);
		m->auto_movable_ratio = (int)n;
		return 1;
	}
	if (strcmp(key, "memmap-on-memory") == 0)
		return set_bool(c, sec, key, v, &m->memmap_on_memory);
	if (strcmp(key, "memory-backend") == 0) {
		static const char *const backends[] = { "ram", "memfd", "file", NULL };
		if (!set_choice(c, sec, key, v, backends, &i))
			return 0;
		snprintf(m->backend, sizeof(m->backend), "%s", backends[i]);
		return 1;
	}
	if (strcmp(key, "prealloc") == 0)
		return set_bool(c, sec, key, v, &m->prealloc);
	if (strcmp(key, "unplugged-inaccessible") == 0) {
		static const char *const ui[] = { "on", "off", "auto", NULL };
		if (!set_choice(c, sec, key, v, ui, &i))
			return 0;
		snprintf(m->unplugged_inaccessible, sizeof(m->unplugged_inaccessible), "%s", ui[i]);
		return 1;
	}
	return -1;
}

static bool valid_name(const char *n)
{
	if (!*n || strlen(n) > VMS_MAX_NAME)
		return false;
	for (const char *p = n; *p; p++)
		if (!(('a' <= *p && *p <= 'z') || ('A' <= *p && *p <= 'Z') || ('0' <= *p && *p <= '9') ||
		      *p == '-' || *p == '_' || *p == '.'))
			return false;
	return true;
}

/* "release < 6.5", "release >= 6.12", "flavour rt", "config PREEMPT_RT" */
static int begin_expect_when(struct parse_ctx *c, const char *section, const char *when)
{
	struct scenario *s = c->s;
	if (s->nwhen == SCN_MAX_WHEN)
		return fail(c, section, NULL, "more than %d [expect WHEN] sections", SCN_MAX_WHEN);
	struct scn_expect_when *w = &s->when[s->nwhen];
	memset(w, 0, sizeof(*w));
	char what[16], op[64], arg[64], extra[8];
	int n = sscanf(when, "%15s %63s %63s %7s", what, op, arg, extra);
	bool ok = false;
	if (n == 3 && strcmp(what, "release") == 0 && (strcmp(op, "<") == 0 || strcmp(op, ">=") == 0)) {
		w->kind = op[0] == '<' ? WHEN_RELEASE_BELOW : WHEN_RELEASE_FROM;
		ok = strspn(arg, "0123456789.") == strlen(arg) && arg[0] >= '0' && arg[0] <= '9';
		snprintf(w->arg, sizeof(w->arg), "%s", arg);
	} else if (n == 2 && (strcmp(what, "flavour") == 0 || strcmp(what, "config") == 0)) {
		w->kind = what[0] == 'f' ? WHEN_FLAVOUR : WHEN_CONFIG;
		const char *a = strncmp(op, "CONFIG_", 7) == 0 ? op + 7 : op;
		ok = a[0] && strspn(a, w->kind == WHEN_CONFIG ? "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"
							       : "abcdefghijklmnopqrstuvwxyz0123456789_") == strlen(a);
		snprintf(w->arg, sizeof(w->arg), "%s", a);
	}
	if (!ok)
		return fail(c, section, NULL, "\"%s\" is not a kernel condition (release < 6.5, release >= 6.12, "
			    "flavour rt, config PREEMPT_RT)", when);
	for (int i = 0; i < s->nwhen; i++)
		if (s->when[i].kind == w->kind && strcmp(s->when[i].arg, w->arg) == 0)
			return fail(c, section, NULL, "the same condition as line %d", s->when[i].line);
	snprintf(w->text, sizeof(w->text), "%s", when);
	w->line = c->section_line;
	w->add.unplug = w->add.after_release = UNPLUG_COMPLETE;
	w->config = '?';  /* until a kernel config is read */
	c->expect = &w->add;
	c->expect_set = &w->set;
	s->nwhen++;
	return 1;
}

static int begin_section(struct parse_ctx *c, const char *section)
{
	struct scenario *s = c->s;
	snprintf(c->cur_section, sizeof(c->cur_section), "%s", section);
	c->nseen = 0;
	c->pop = NULL;
	c->step = NULL;
	c->expect = NULL;
	c->expect_set = NULL;
	const char *name = NULL;
	if (strncmp(section, "population ", 11) == 0)
		name = section + 11;
	else if (strncmp(section, "step ", 5) == 0)
		name = section + 5;
	if (name && !valid_name(name))
		return fail(c, section, NULL, "name \"%s\" must be 1-%d letters, digits, '-', '_' or '.'", name,
			    VMS_MAX_NAME);
	if (strncmp(section, "population ", 11) == 0) {
		for (int i = 0; i < s->npops; i++)
			if (strcmp(s->pops[i].name, name) == 0)
				return fail(c, section, NULL, "population %s is defined twice (first at line %d)",
					    name, s->pops[i].line);
		if (s->npops == VMS_MAX_POPULATIONS)
			return fail(c, section, NULL, "more than %d populations", VMS_MAX_POPULATIONS);
		c->pop = &s->pops[s->npops++];
		snprintf(c->pop->name, sizeof(c->pop->name), "%s", name);
		c->pop->line = c->section_line;
	} else if (strncmp(section, "step ", 5) == 0) {
		for (int i = 0; i < s->nsteps; i++)
			if (strcmp(s->steps[i].name, name) == 0)
				return fail(c, section, NULL, "step %s is defined twice (first at line %d)", name,
					    s->steps[i].line);
		if (s->nsteps == SCN_MAX_STEPS)
			return fail(c, section, NULL, "more than %d steps", SCN_MAX_STEPS);
		c->step = &s->steps[s->nsteps++];
		snprintf(c->step->name, sizeof(c->step->name), "%s", name);
		c->step->line = c->section_line;
		c->step->timeout_ms = 120000;
		c->step->requested = STEP_NO_SIZE;  /* required: check() says when missing */
	} else if (strncmp(section, "expect ", 7) == 0) {
		return begin_expect_when(c, section, section + 7);
	} else if (strcmp(section, "vm") == 0 || strcmp(section, "expect") == 0 ||
		   strcmp(section, "scenario") == 0) {
		bool *seen = section[0] == 'v' ? &c->have_vm : section[0] == 'e' ? &c->have_expect : &c->have_scenario;
		if (*seen)
			return fail(c, section, NULL, "section appears twice");
		*seen = true;
		if (section[0] == 'e') {
			s->expect_line = c->section_line;
			c->expect = &s->expect;
		}
	} else {
		return fail(c, section, NULL,
			    "unknown section (known: [scenario], [vm], [population NAME], [step NAME], [expect], "
			    "[expect WHEN])");
	}
	return 1;
}

static int handler(void *user, const char *section, const char *key, const char *value)
{
	struct parse_ctx *c = user;
	struct scenario *s = c->s;
	if (c->failed)
		return 0;
	if (!*section)
		return fail(c, "", key, "key outside any section");
	for (int i = 0; i < c->nseen; i++)
		if (strcmp(c->seen[i], key) == 0)
			return fail(c, section, key, "given twice in this section");
	if (c->nseen < (int)ARRAY_SIZE(c->seen))
		snprintf(c->seen[c->nseen++], sizeof(c->seen[0]), "%s", key);
	/* values reach terminals (the description), reports and QEMU */
	for (const char *p = value; *p; p++)
		if (((unsigned char)*p < 0x20 && *p != '\t') || *p == 0x7f)
			return fail(c, section, key, "the value has a control character (byte %#x)", (unsigned char)*p);

	if (strcmp(section, "scenario") == 0) {
		if (strcmp(key, "description") == 0)
			return set_string(c, section, key, value, s->description, sizeof(s->description));
	} else if (strcmp(section, "vm") == 0) {
		if (strcmp(key, "cpus") == 0) {
			char *end;
			errno = 0;
			long n = strtol(value, &end, 10);
			if (errno || *end || n < 1 || n > 64)
				return fail(c, section, key, "\"%s\" is not a CPU count from 1 to 64", value);
			s->cpus = (int)n;
			return 1;
		}
		if (strcmp(key, "boot-memory") == 0)
			return set_size(c, section, key, value, &s->boot_memory);
		if (strcmp(key, "region-size") == 0)
			return set_size(c, section, key, value, &s->region_size);
		if (strcmp(key, "initial-size") == 0)
			return set_size(c, section, key, value, &s->initial_size);
		if (strcmp(key, "block-size") == 0)
			return set_size(c, section, key, value, &s->block_size);
		if (strcmp(key, "zone") == 0) {
			static const char *const zones[] = { "movable", "kernel", NULL };
			int z;
			if (!set_choice(c, section, key, value, zones, &z))
				return 0;
			s->zone = (enum zone)z;
			s->zone_given = true;
			return 1;
		}
		if (strcmp(key, "thp") == 0) {
			static const char *const modes[] = { "always", "madvise", "never", NULL };
			int m;
			if (!set_choice(c, section, key, value, modes, &m))
				return 0;
			snprintf(s->thp, sizeof(s->thp), "%s", modes[m]);
			return 1;
		}
		int r = set_mode(c, section, key, value, &s->modes);
		if (r >= 0)
			return r;
		if (strcmp(key, "boot-timeout") == 0)
			return set_duration(c, section, key, value, &s->boot_timeout_ms);
		if (strcmp(key, "kernel-cmdline") == 0)
			return set_string(c, section, key, value, s->kernel_cmdline, sizeof(s->kernel_cmdline));
	} else if (c->pop) {
		if (strcmp(key, "type") == 0) {
			if (!vms_population_spec(value)) {
				char list[300] = "";
				for (size_t i = 0; vms_population_specs[i]; i++)
					snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "",
						 vms_population_specs[i]->name);
				return fail(c, section, key, "unknown population type \"%s\" (known: %s)", value, list);
			}
			return set_string(c, section, key, value, c->pop->type, sizeof(c->pop->type));
		}
		if (strcmp(key, "size") == 0)
			return set_size(c, section, key, value, &c->pop->size);
		int r = set_pop_option(c, section, key, value);
		if (r >= 0)
			return r;
	} else if (c->step) {
		if (strcmp(key, "requested-size") == 0)
			return set_size(c, section, key, value, &c->step->requested);
		if (strcmp(key, "timeout") == 0)
			return set_duration(c, section, key, value, &c->step->timeout_ms);
		if (strcmp(key, "driver") == 0) {
			static const char *const drivers[] = { "virtio-mem", "sysfs", NULL };
			int d;
			if (!set_choice(c, section, key, value, drivers, &d))
				return 0;
			c->step->driver = (enum step_driver)d;
			return 1;
		}
	} else if (c->expect) {
		struct scn_expect *x = c->expect;
		unsigned dummy, *set = c->expect_set ? c->expect_set : &dummy;
		if (strcmp(key, "unplug") == 0) {
			static const char *const modes[] = { "complete", "any", NULL };
			int m;
			if (!set_choice(c, section, key, value, modes, &m))
				return 0;
			x->unplug = (enum unplug_expect)m;
			*set |= EXPECT_SET_UNPLUG;
			return 1;
		}
		if (strcmp(key, "may-stay") == 0)
			return set_rules(c, section, key, value, x->may_stay, &x->n_may_stay);
		if (strcmp(key, "may-stay-after-release") == 0)
			return set_rules(c, section, key, value, x->may_stay_after_release, &x->n_may_stay_after_release);
		if (strcmp(key, "after-release") == 0) {
			static const char *const modes[] = { "complete", "any", NULL };
			int m;
			if (!set_choice(c, section, key, value, modes, &m))
				return 0;
			x->after_release = (enum unplug_expect)m;
			*set |= EXPECT_SET_AFTER_RELEASE;
			return 1;
		}
		if (strcmp(key, "must-stay") == 0) {
			char buf[512];
			snprintf(buf, sizeof(buf), "%s", value);
			x->n_must_stay = 0;
			*set |= EXPECT_SET_MUST_STAY;
			for (char *save, *tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
				if (x->n_must_stay == VMS_MAX_POPULATIONS || strlen(tok) > VMS_MAX_NAME)
					return fail(c, section, key, "bad list");
				snprintf(x->must_stay[x->n_must_stay++], sizeof(x->must_stay[0]), "%s", tok);
			}
			return 1;
		}
		if (strcmp(key, "max-corrupted") == 0) {
			char *end;
			errno = 0;
			unsigned long long n = strtoull(value, &end, 10);
			if (errno || *end || !*value || value[0] == '-')
				return fail(c, section, key, "\"%s\" is not a page count", value);
			x->max_corrupted = n;
			*set |= EXPECT_SET_MAX_CORRUPTED;
			return 1;
		}
	}
	return fail(c, section, key, "unknown key (README.md, \"Scenario format\", lists the keys)");
}

static void defaults(struct scenario *s, const char *path)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->path, sizeof(s->path), "%s", path);
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	snprintf(s->name, sizeof(s->name), "%.*s", (int)strcspn(base, "."), base);
	s->cpus = 2;
	s->boot_memory = 512ull << 20;
	s->region_size = 1ull << 30;
	s->block_size = 2ull << 20;
	s->zone = ZONE_MOVABLE;
	snprintf(s->thp, sizeof(s->thp), "madvise");
	s->modes = (struct scn_modes){ .bbm_safe_unplug = -1, .auto_movable_ratio = -1, .memmap_on_memory = -1,
				       .prealloc = -1, .backend = "ram" };
	s->boot_timeout_ms = 180000;
	s->expect.unplug = UNPLUG_COMPLETE;
	s->expect.after_release = UNPLUG_COMPLETE;
}

/* Whole-file checks, after every key was read. */
static int check(struct scenario *s, struct err *e)
{
	char a[32], b[32];
	const uint64_t bs = s->block_size;
	if (bs < (1u << 20) || bs > MAX_BLOCK_SIZE || (bs & (bs - 1)))
		return err_set(e, "%s: [vm] block-size: %s is not a power of two from 1 MiB to 1 GiB", s->path,
			       format_size(bs, a, sizeof(a)));
	if (s->boot_memory < (128u << 20) || s->boot_memory > MAX_BOOT_MEMORY || s->boot_memory % (2u << 20))
		return err_set(e, "%s: [vm] boot-memory: %s must be from 128 MiB to 1 TiB and a multiple of 2 MiB",
			       s->path, format_size(s->boot_memory, a, sizeof(a)));
	if (s->region_size == 0 || s->region_size > MAX_REGION_SIZE || s->region_size % bs)
		return err_set(e, "%s: [vm] region-size: %s is not a non-zero multiple of block-size %s of at most 1 TiB",
			       s->path, format_size(s->region_size, a, sizeof(a)), format_size(bs, b, sizeof(b)));
	if (s->initial_size == 0)
		s->initial_size = s->region_size;
	if (s->modes.online == ONLINE_AUTO_MOVABLE && s->zone_given)
		return err_set(e, "%s: [vm] zone: the kernel picks the zone of each block under online-policy = auto-movable; "
			       "leave zone out", s->path);
	if (s->modes.online != ONLINE_AUTO_MOVABLE && s->modes.auto_movable_ratio >= 0)
		return err_set(e, "%s: [vm] auto-movable-ratio: only with online-policy = auto-movable", s->path);
	if (s->modes.driver == DRIVER_SBM && (s->modes.bbm_block_size || s->modes.bbm_safe_unplug >= 0))
		return err_set(e, "%s: [vm] bbm-block-size and bbm-safe-unplug are Big Block Mode's: not with driver-mode = sbm",
			       s->path);
	if (s->modes.bbm_block_size && (s->modes.bbm_block_size & (s->modes.bbm_block_size - 1)))
		return err_set(e, "%s: [vm] bbm-block-size: %s is not a power of two", s->path,
			       format_size(s->modes.bbm_block_size, a, sizeof(a)));
	if (s->initial_size > s->region_size || s->initial_size % bs)
		return err_set(e, "%s: [vm] initial-size: %s must be a multiple of block-size and at most region-size",
			       s->path, format_size(s->initial_size, a, sizeof(a)));
	uint64_t total = 0;
	for (int i = 0; i < s->npops; i++) {
		struct scn_population *p = &s->pops[i];
		if (!p->type[0])
			return err_set(e, "%s:%d: [population %s]: missing key \"type\"", s->path, p->line, p->name);
		if (p->size == 0)
			return err_set(e, "%s:%d: [population %s]: missing or zero \"size\"", s->path, p->line, p->name);
		/* each at most initial-size (1 TiB): the sum of 32 cannot wrap */
		if (p->size > s->initial_size)
			return err_set(e, "%s:%d: [population %s] size: %s is more than initial-size %s", s->path,
				       p->line, p->name, format_size(p->size, a, sizeof(a)),
				       format_size(s->initial_size, b, sizeof(b)));
		total += p->size;
	}
	/* Leave the guest's node room for page tables, CoW copies and slack. */
	if (total > s->initial_size / 10 * 9)
		return err_set(e, "%s: the populations need %s, more than 90%% of initial-size %s", s->path,
			       format_size(total, a, sizeof(a)), format_size(s->initial_size, b, sizeof(b)));
	if (total > s->boot_memory / 10 * 9)
		return err_set(e, "%s: the populations need %s, which boot memory (%s) could not take when the region is unplugged",
			       s->path, format_size(total, a, sizeof(a)), format_size(s->boot_memory, b, sizeof(b)));
	for (int i = 0; i < s->npops; i++)
		if (strcmp(s->pops[i].type, "secretmem") == 0 && s->zone != ZONE_KERNEL)
			return err_set(e, "%s:%d: [population %s]: secretmem needs [vm] zone = kernel (its pages can never go into ZONE_MOVABLE)",
				       s->path, s->pops[i].line, s->pops[i].name);
	/* names in [expect] must be populations */
	for (int w = -1; w < s->nwhen; w++) {
		const struct scn_expect *x = w < 0 ? &s->expect : &s->when[w].add;
		char sec[120];
		snprintf(sec, sizeof(sec), "%s%s", w < 0 ? "expect" : "expect ", w < 0 ? "" : s->when[w].text);
		int line = w < 0 ? s->expect_line : s->when[w].line;
		const struct { const struct stay_rule *r; int n; const char *key; } lists[] = {
			{ x->may_stay, x->n_may_stay, "may-stay" },
			{ x->may_stay_after_release, x->n_may_stay_after_release, "may-stay-after-release" },
		};
		for (size_t l = 0; l < 2; l++)
			for (int i = 0; i < lists[l].n; i++) {
				const char *who = lists[l].r[i].who;
				bool ok = strcmp(who, "*") == 0 || strcmp(who, "unowned") == 0;
				for (int p = 0; p < s->npops && !ok; p++)
					ok = strcmp(s->pops[p].name, who) == 0;
				if (!ok)
					return err_set(e, "%s:%d: [%s] %s: \"%s\" is not a population of this scenario (nor unowned or *)",
						       s->path, line, sec, lists[l].key, who);
			}
		for (int i = 0; i < x->n_must_stay; i++) {
			bool ok = false;
			for (int p = 0; p < s->npops && !ok; p++)
				ok = strcmp(s->pops[p].name, x->must_stay[i]) == 0;
			if (!ok)
				return err_set(e, "%s:%d: [%s] must-stay: \"%s\" is not a population of this scenario", s->path,
					       line, sec, x->must_stay[i]);
		}
	}
	if (s->nsteps == 0)
		return err_set(e, "%s: no [step NAME] section: nothing would be unplugged", s->path);
	for (int i = 0; i < s->nsteps; i++) {
		struct scn_step *st = &s->steps[i];
		if (st->requested == STEP_NO_SIZE)
			return err_set(e, "%s:%d: [step %s]: missing key \"requested-size\"", s->path, st->line, st->name);
		if (st->requested > s->region_size || st->requested % bs)
			return err_set(e, "%s:%d: [step %s] requested-size: %s must be a multiple of block-size and at most region-size",
				       s->path, st->line, st->name, format_size(st->requested, a, sizeof(a)));
	}
	return 0;
}

int scenario_parse(const char *text, const char *path, struct scenario *s, struct err *e)
{
	defaults(s, path);
	/* the name names the run's directory and goes into reports and terminals */
	if (!s->name[0])
		return err_set(e, "%s: the file name gives no scenario name (the name is what comes before the first '.')",
			       path);
	for (const char *p = s->name; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return err_set(e, "%s: the scenario name has control characters", path);
	struct parse_ctx c = { .s = s, .text = text, .e = e };
	int r = ini_parse_stream(reader, &c, handler, &c);
	if (c.failed)
		return -1;
	if (ini_result(r, path, e) < 0)
		return -1;
	return check(s, e);
}

int scenario_load(const char *path, struct scenario *s, struct err *e)
{
	char *text;
	if (read_text_file(path, 1u << 20, "scenario", &text, e) < 0)
		return -1;
	int r = scenario_parse(text, path, s, e);
	free(text);
	return r;
}

const char *zone_name(enum zone z)
{
	return z == ZONE_KERNEL ? "kernel" : "movable";
}

const char *driver_mode_name(enum driver_mode m)
{
	return m == DRIVER_SBM ? "sbm" : m == DRIVER_BBM ? "bbm" : "auto";
}

const char *online_policy_name(enum online_policy p)
{
	return p == ONLINE_AUTO_MOVABLE ? "auto-movable" : p == ONLINE_GUEST ? "guest" : "zone";
}

int version_cmp(const char *a, const char *b)
{
	for (int part = 0; part < 3; part++) {
		char *ea, *eb;
		unsigned long x = strtoul(a, &ea, 10), y = strtoul(b, &eb, 10);
		if (x != y)
			return x < y ? -1 : 1;
		if (*ea != '.' || *eb != '.')
			return 0;
		a = ea + 1;
		b = eb + 1;
	}
	return 0;
}

/* Does WHEN hold? 1 yes, 0 no, -1 cannot be told (no config read). */
static int when_holds(const struct scn_expect_when *w, const char *version, const char *release)
{
	if (w->kind != WHEN_CONFIG && !(w->kind == WHEN_FLAVOUR ? release : version)[0])
		return -1;  /* the kernel never said (the run ended before its hello) */
	switch (w->kind) {
	case WHEN_RELEASE_BELOW:
		return version_cmp(version, w->arg) < 0;
	case WHEN_RELEASE_FROM:
		return version_cmp(version, w->arg) >= 0;
	case WHEN_FLAVOUR: {  /* a whole word of uname -r: 6.1.0-57-rt-amd64 */
		size_t n = strlen(w->arg);
		for (const char *p = strstr(release, w->arg); p; p = strstr(p + 1, w->arg))
			if ((p == release || p[-1] == '-' || p[-1] == '+') && (p[n] == 0 || p[n] == '-'))
				return 1;
		return 0;
	}
	case WHEN_CONFIG:
		return w->config == '?' ? -1 : w->config != 0;
	}
	return 0;
}

void scenario_expect_for(const struct scenario *s, const char *version, const char *release, struct scn_expect *out,
			 char *applied, size_t len)
{
	*out = s->expect;
	size_t n = 0;
	if (len)
		applied[0] = 0;
	for (int i = 0; i < s->nwhen; i++) {
		const struct scn_expect_when *w = &s->when[i];
		int holds = when_holds(w, version, release);
		if (holds && n < len)
			n += (size_t)snprintf(applied + n, len - n, "%s%s%s", n ? "; " : "", w->text,
					      holds > 0 ? ""
					      : w->kind == WHEN_CONFIG ? " (not decided: no kernel config)"
								       : " (not decided: the kernel is unknown)");
		if (holds <= 0)
			continue;
		const struct scn_expect *a = &w->add;
		for (int k = 0; k < a->n_may_stay && out->n_may_stay < SCN_MAX_RULES; k++)
			out->may_stay[out->n_may_stay++] = a->may_stay[k];
		for (int k = 0; k < a->n_may_stay_after_release && out->n_may_stay_after_release < SCN_MAX_RULES; k++)
			out->may_stay_after_release[out->n_may_stay_after_release++] = a->may_stay_after_release[k];
		if (w->set & EXPECT_SET_UNPLUG)
			out->unplug = a->unplug;
		if (w->set & EXPECT_SET_AFTER_RELEASE)
			out->after_release = a->after_release;
		if (w->set & EXPECT_SET_MAX_CORRUPTED)
			out->max_corrupted = a->max_corrupted;
		if (w->set & EXPECT_SET_MUST_STAY) {
			memcpy(out->must_stay, a->must_stay, sizeof(out->must_stay));
			out->n_must_stay = a->n_must_stay;
		}
	}
}
