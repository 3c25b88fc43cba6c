#define _GNU_SOURCE
#include "run/report.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "util/units.h"

void report_init(struct report *r, const struct scenario *s)
{
	memset(r, 0, sizeof(*r));
	r->scn = s;
	r->expect = s->expect;
	r->status = RUN_COMPLETE;
	r->verdict = VERDICT_ERROR;
	r->t0_ms = now_ms();
}

void report_sample(struct report *r, uint64_t requested, uint64_t size)
{
	if (r->ntimeline) {
		const struct size_sample *l = &r->timeline[r->ntimeline - 1];
		if (l->requested == requested && l->size == size)
			return;
	}
	if (r->ntimeline == REPORT_MAX_SAMPLES)
		return;  /* bounded: a run has a few dozen changes, not thousands */
	if (!r->timeline)
		r->timeline = xcalloc(REPORT_MAX_SAMPLES, sizeof(*r->timeline));
	r->timeline[r->ntimeline++] = (struct size_sample){ now_ms() - r->t0_ms, requested, size };
}

void report_free(struct report *r)
{
	guest_state_free(&r->populate);
	for (int i = 0; i < r->nsteps; i++)
	{
		guest_state_free(&r->steps[i].state);
		guest_state_free(&r->steps[i].final);
		free(r->steps[i].verdicts);
	}
	free(r->timeline);
}

__attribute__((format(printf, 2, 3))) static void finding(struct report *r, const char *fmt, ...)
{
	if (r->nfindings == REPORT_MAX_FINDINGS)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->findings[r->nfindings++], sizeof(r->findings[0]), fmt, ap);
	va_end(ap);
}

__attribute__((format(printf, 2, 3))) static void warning(struct report *r, const char *fmt, ...)
{
	if (r->nwarnings == REPORT_MAX_FINDINGS)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->warnings[r->nwarnings++], sizeof(r->warnings[0]), fmt, ap);
	va_end(ap);
}

/* Data checks that hold after every state: nothing corrupted or lost. */
static void check_data(struct report *r, const struct guest_state *st, const char *when)
{
	for (int i = 0; i < st->npops; i++) {
		const struct pop_state *p = &st->pops[i];
		if (p->corrupted > r->expect.max_corrupted) {
			if (p->has_first_bad)
				finding(r, "%s: population %s has %" PRIu64 " corrupted pages (first: %s mapping, page %" PRIu64 ")",
					when, p->name, p->corrupted, p->first_bad_mapping, p->first_bad_page);
			else
				finding(r, "%s: population %s has %" PRIu64 " corrupted pages", when, p->name, p->corrupted);
		}
		if (p->absent)
			finding(r, "%s: population %s lost %" PRIu64 " pages (no longer present)", when, p->name, p->absent);
	}
}

const char *verdict_who(const struct report *r, const struct block_verdict *v)
{
	return v->owner >= 0 ? r->scn->pops[v->owner].name : "unowned";
}

/* "block 5" or "blocks 5-9" */
static void block_range(uint64_t first, uint64_t last, char *buf, size_t len)
{
	if (first == last)
		snprintf(buf, len, "block %" PRIu64, first);
	else
		snprintf(buf, len, "blocks %" PRIu64 "-%" PRIu64, first, last);
}

/* The blocks that stayed, against [expect] (with the [expect WHEN]s that
 * hold for this kernel): may-stay, after-release, may-stay-after-release.
 * One finding per run of adjacent blocks that stayed for the same owner,
 * reason and known bug. */
static void judge_blocks(struct report *r, struct step_report *st)
{
	const struct scenario *s = r->scn;
	const struct scn_expect *x = &r->expect;
	for (size_t i = 0; i < st->nverdicts; i++) {
		struct block_verdict *v = &st->verdicts[i];
		const char *who = verdict_who(r, v);
		v->known_bug = r->known_bugs ? known_bugs_match(r->known_bugs, s, v) : -1;
		const char *bug = v->known_bug >= 0 ? r->known_bugs->bugs[v->known_bug].name : "";
		v->expected = x->unplug == UNPLUG_ANY || stay_allowed(x->may_stay, x->n_may_stay, who, (int)v->reason, bug);
		v->expected_after_release = true;
		if (v->stayed_after_release)
			v->expected_after_release =
				x->after_release == UNPLUG_ANY ||
				stay_allowed(x->may_stay_after_release, x->n_may_stay_after_release, who, (int)v->reason, bug);
	}
	for (size_t i = 0; i < st->nverdicts;) {
		const struct block_verdict *v = &st->verdicts[i];
		size_t j = i + 1;
		/* memory blocks left behind group by memory block */
		while (j < st->nverdicts && st->verdicts[j].left_behind == v->left_behind &&
		       (v->left_behind ? st->verdicts[j].mblock == st->verdicts[j - 1].mblock + 1
				       : st->verdicts[j].block == st->verdicts[j - 1].block + 1) &&
		       st->verdicts[j].owner == v->owner && st->verdicts[j].reason == v->reason &&
		       st->verdicts[j].known_bug == v->known_bug && st->verdicts[j].expected == v->expected &&
		       st->verdicts[j].expected_after_release == v->expected_after_release)
			j++;
		char range[48];
		if (v->left_behind) {
			char mbs[40];
			block_range(v->mblock, st->verdicts[j - 1].mblock, mbs, sizeof(mbs));
			snprintf(range, sizeof(range), "memory %s", mbs);
		} else {
			block_range(v->block, st->verdicts[j - 1].block, range, sizeof(range));
		}
		const char *who = verdict_who(r, v);
		if (!v->expected && v->known_bug >= 0) {
			const struct known_bug *b = &r->known_bugs->bugs[v->known_bug];
			finding(r, "step %s: %s stayed: %s, %s: known bug \"%s\", fixed by %s (%s)", st->name, range, who,
				vms_reason_name(v->reason), b->title, b->fixed_by, v->evidence);
		} else if (!v->expected) {
			finding(r, "step %s: %s stayed: %s, %s, not expected (%s)", st->name, range, who,
				vms_reason_name(v->reason), v->evidence);
		} else if (!v->expected_after_release && v->known_bug >= 0) {
			const struct known_bug *b = &r->known_bugs->bugs[v->known_bug];
			finding(r, "step %s: %s (%s, %s) still stayed after releasing its holders: known bug \"%s\", fixed by %s (%s)",
				st->name, range, who, vms_reason_name(v->reason), b->title, b->fixed_by, v->evidence);
		} else if (!v->expected_after_release) {
			finding(r, "step %s: %s (%s, %s) still stayed after releasing its holders", st->name, range, who,
				vms_reason_name(v->reason));
		}
		i = j;
	}
}

/* A [vm] mode the scenario asked for and the kernel did not take: the run
 * did not show what the scenario is about. */
static bool mode_missing(struct report *r, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static bool mode_missing(struct report *r, const char *key, const char *fmt, ...)
{
	char why[160];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (r->n_not_shown < (int)(sizeof(r->not_shown) / sizeof(r->not_shown[0])))
		snprintf(r->not_shown[r->n_not_shown++], sizeof(r->not_shown[0]), "[vm] %s: %s", key, why);
	return true;
}

/* "NAME=VALUE" of the guest's read-back, or NULL */
static const char *param_value(const struct report *r, const char *name, char *buf, size_t len)
{
	char key[80];
	snprintf(key, sizeof(key), "%s=", name);
	for (const char *p = r->driver_params; (p = strstr(p, key)); p++)
		if (p == r->driver_params || p[-1] == ' ') {
			snprintf(buf, len, "%.*s", (int)strcspn(p + strlen(key), " "), p + strlen(key));
			return buf;
		}
	return NULL;
}

/* Every mode asked for, against what the guest read back. */
static bool modes_missing(struct report *r)
{
	const struct scn_modes *m = &r->scn->modes;
	bool missing = false;
	char v[64];
	if (!r->have_driver)
		return false;  /* never got that far: the run's error says why */
	if (m->driver != DRIVER_AUTO && strcmp(r->driver_mode, driver_mode_name(m->driver)) != 0)
		missing |= mode_missing(r, "driver-mode", "%s asked, the driver runs %s", driver_mode_name(m->driver),
					r->driver_mode[0] ? r->driver_mode : "in a mode it did not log");
	if (m->online == ONLINE_AUTO_MOVABLE &&
	    !(param_value(r, "memory_hotplug.online_policy", v, sizeof(v)) && strcmp(v, "auto-movable") == 0))
		missing |= mode_missing(r, "online-policy", "auto-movable asked, the kernel's policy is %s",
					param_value(r, "memory_hotplug.online_policy", v, sizeof(v)) ? v : "not shown");
	if (m->memmap_on_memory >= 0 && !(param_value(r, "memory_hotplug.memmap_on_memory", v, sizeof(v)) &&
					  (v[0] == 'Y') == (m->memmap_on_memory == 1)))
		missing |= mode_missing(r, "memmap-on-memory", "%s asked, the kernel has %s",
					m->memmap_on_memory ? "yes" : "no",
					param_value(r, "memory_hotplug.memmap_on_memory", v, sizeof(v)) ? v : "no such parameter");
	if (m->bbm_safe_unplug >= 0 && !(param_value(r, "virtio_mem.bbm_safe_unplug", v, sizeof(v)) &&
					 (v[0] == 'Y') == (m->bbm_safe_unplug == 1)))
		missing |= mode_missing(r, "bbm-safe-unplug", "%s asked, the driver has %s",
					m->bbm_safe_unplug ? "yes" : "no",
					param_value(r, "virtio_mem.bbm_safe_unplug", v, sizeof(v)) ? v : "no such parameter");
	if (m->bbm_block_size && r->driver_unit != m->bbm_block_size)
		missing |= mode_missing(r, "bbm-block-size", "%" PRIu64 " bytes asked, the driver's unit is %" PRIu64,
					m->bbm_block_size, r->driver_unit);
	return missing;
}

void report_evaluate(struct report *r)
{
	const struct scenario *s = r->scn;
	char a[32], b[32], c[32];
	r->nfindings = r->nwarnings = 0;
	r->n_not_shown = 0;
	scenario_expect_for(s, r->kernel_version, r->kernel_release, &r->expect, r->expect_applied,
			    sizeof(r->expect_applied));
	memset(r->pop_not_shown, 0, sizeof(r->pop_not_shown));
	for (int i = 0; i < r->config.n_not_shown; i++)
		snprintf(r->not_shown[r->n_not_shown++], sizeof(r->not_shown[0]), "%s", r->config.not_shown[i]);
	if (r->have_populate) {
		for (int i = 0; i < r->populate.npops && i < VMS_MAX_POPULATIONS; i++) {
			const struct pop_state *p = &r->populate.pops[i];
			/* a case that was never built is not shown, never passed */
			/* none in the region and none moved: they never got there
			 * (pages the kernel moved out, as at pin time, did) */
			const char *why = p->not_shown[0] ? p->not_shown
					  : p->pages && p->in_region == 0 && p->moved == 0
						  ? "none of its pages landed in the virtio-mem region"
					  : p->thp_pages == 0 ? "the kernel gave base pages, no THPs"
							       : NULL;
			if (why) {
				r->pop_not_shown[i] = true;
				snprintf(r->not_shown[r->n_not_shown++], sizeof(r->not_shown[0]), "population %s (%s): %s",
					 p->name, p->type, why);
			} else if (p->in_region < p->pages) {
				warning(r, "population %s: only %" PRIu64 " of %" PRIu64 " pages landed in the virtio-mem region",
					p->name, p->in_region, p->pages);
			}
			if (p->note[0])
				warning(r, "population %s: %s", p->name, p->note);
		}
		check_data(r, &r->populate, "after populate");
	}
	for (int i = 0; i < r->nsteps; i++) {
		struct step_report *st = &r->steps[i];
		char when[96];
		snprintf(when, sizeof(when), "after step %s", st->name);
		if (!st->reached && !st->state.attributed && r->expect.unplug == UNPLUG_COMPLETE)
			finding(r, "step %s: the device stayed at %s, %s was requested (%s could not be unplugged)", st->name,
				format_size(st->size_after, a, sizeof(a)), format_size(st->requested, b, sizeof(b)),
				format_size(st->size_after - (st->size_after > st->requested ? st->requested : st->size_after),
					    c, sizeof(c)));
		judge_blocks(r, st);
		if (!st->have_state)
			continue;
		uint64_t guest_bytes = st->state.plugged * (r->have_region ? r->region.block_size : 0);
		if (r->have_region && guest_bytes != st->size_after)
			finding(r, "step %s: the guest sees %s plugged, the device reports %s", st->name,
				format_size(guest_bytes, a, sizeof(a)), format_size(st->size_after, b, sizeof(b)));
		check_data(r, &st->state, when);
		if (st->have_final) {
			snprintf(when, sizeof(when), "after step %s and release", st->name);
			check_data(r, &st->final, when);
		}
	}
	for (int i = 0; i < r->config.nnotes; i++)
		warning(r, "%s", r->config.notes[i]);
	/* must-stay: over the whole run, a case that never showed is a failure,
	 * unless the kernel could not build it (then it is reported not shown) */
	for (int m = 0; m < r->expect.n_must_stay && r->status == RUN_COMPLETE; m++) {
		bool dropped = true;
		for (int p = 0; p < s->npops; p++)
			dropped &= strcmp(s->pops[p].name, r->expect.must_stay[m]) != 0 || r->pop_not_shown[p];
		if (dropped)
			continue;
		bool shown = false;
		for (int i = 0; i < r->nsteps; i++)
			for (size_t k = 0; k < r->steps[i].nverdicts; k++)
				shown |= r->steps[i].verdicts[k].owner >= 0 &&
					 strcmp(s->pops[r->steps[i].verdicts[k].owner].name, r->expect.must_stay[m]) == 0;
		if (!shown)
			finding(r, "population %s was expected to keep blocks plugged and none stayed: its case was not shown",
				r->expect.must_stay[m]);
	}
	invariants_check(r, r->inv);
	for (int i = 0; i < VMS_NINVARIANTS; i++)  /* data and sizes: findings of their own above */
		if (r->inv[i].status == INV_VIOLATED && i != VMS_INV_STAMPS_VERIFY && i != VMS_INV_SIZES_AGREE)
			finding(r, "invariant %s violated: %s", r->inv[i].name, r->inv[i].detail);
	if (r->verdict == VERDICT_SKIP && !r->have_populate)
		return;  /* decided before the run: the kernel can build nothing */
	bool none_shown = s->npops > 0 && r->have_populate;
	for (int p = 0; p < s->npops && p < VMS_MAX_POPULATIONS; p++)
		none_shown &= r->pop_not_shown[p];
	if (modes_missing(r))
		none_shown = true;  /* whatever happened, it was not in the mode asked */
	if (r->status != RUN_COMPLETE)
		r->verdict = VERDICT_ERROR;
	else if (r->nfindings)
		r->verdict = VERDICT_FAIL;  /* lost data is a failure whatever else */
	else
		r->verdict = none_shown ? VERDICT_SKIP : VERDICT_PASS;
}

int report_exit_status(const struct report *r)
{
	switch (r->verdict) {
	case VERDICT_PASS:
		return EXIT_PASS;
	case VERDICT_FAIL:
		return EXIT_FAIL;
	case VERDICT_SKIP:
		return EXIT_SKIP;
	default:
		return EXIT_INFRA;
	}
}

const char *verdict_name(enum verdict v)
{
	return v == VERDICT_PASS ? "pass" : v == VERDICT_FAIL ? "fail" : v == VERDICT_SKIP ? "skip" : "error";
}
