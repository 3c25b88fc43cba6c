#define _GNU_SOURCE
#include "run/invariants.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "run/report.h"

static const struct { const char *name, *rule; } defs[VMS_NINVARIANTS] = {
#define VMS_INV_DEF(id, name, rule) [VMS_INV_##id] = { name, rule },
	VMS_INVARIANTS(VMS_INV_DEF)
#undef VMS_INV_DEF
};

const char *inv_status_name(enum inv_status s)
{
	return s == INV_VIOLATED ? "VIOLATED" : s == INV_NOT_SHOWN ? "not shown" : "held";
}

__attribute__((format(printf, 3, 4))) static void set(struct invariant *v, enum inv_status s, const char *fmt, ...)
{
	va_list ap;
	v->status = s;
	va_start(ap, fmt);
	vsnprintf(v->detail, sizeof(v->detail), fmt, ap);
	va_end(ap);
}

/* Pages of a population that declared long-term pins, in Movable blocks
 * after setup: the kernel must have migrated them out at pin time. */
static void pin_not_movable(const struct report *r, struct invariant *v)
{
	const struct guest_state *st = &r->populate;
	bool pins = false;
	for (int p = 0; p < st->npops; p++)
		pins |= strcmp(st->pops[p].hold, "pin") == 0;
	if (!r->have_populate || !pins || !r->memory_block_size) {
		set(v, INV_NOT_SHOWN, "%s", !r->have_populate ? "the run ended before its populations were built"
					    : !pins ? "no population of this scenario holds long-term pins"
						    : "the memory block size is unknown");
		return;
	}
	uint64_t pages = 0, first = UINT64_MAX;
	int who = -1;
	for (size_t i = 0; i < st->nheld; i++) {
		const struct held *h = &st->held[i];
		if (h->pop < 0 || h->pop >= st->npops || strcmp(st->pops[h->pop].hold, "pin") != 0)
			continue;
		const struct mem_block *m =
			mblock_find(st, (r->region.addr + h->block * r->region.block_size) / r->memory_block_size);
		if (m && strcmp(m->zone, "Movable") == 0) {
			pages += h->pages;
			if (first == UINT64_MAX)
				first = h->block, who = h->pop;
		}
	}
	if (pages)
		set(v, INV_VIOLATED, "%" PRIu64 " pinned pages of %s in ZONE_MOVABLE after setup (first in block %" PRIu64 ")",
		    pages, st->pops[who].name, first);
	else
		set(v, INV_HELD, "no pinned page in a Movable block after setup");
}

/* Over every step's verdicts: the first that breaks a rule, and whether
 * any block was judged by measurement at all. */
static void verdict_rules(const struct report *r, struct invariant *kernel, struct invariant *refusal)
{
	bool measured = false, stays = false;
	set(kernel, INV_HELD, "no block stayed for a kernel allocation in ZONE_MOVABLE");
	set(refusal, INV_HELD, "every refused page measured held a reference beyond its mappings");
	for (int i = 0; i < r->nsteps; i++)
		for (size_t k = 0; k < r->steps[i].nverdicts; k++) {
			const struct block_verdict *v = &r->steps[i].verdicts[k];
			stays = true;
			measured |= v->has_counters;
			if (v->reason == VMS_REASON_UNMOVABLE_IN_MOVABLE && kernel->status == INV_HELD)
				set(kernel, INV_VIOLATED, "step %s, block %" PRIu64 ": %.200s", r->steps[i].name, v->block,
				    v->evidence);
			if (v->has_counters && v->unit_of < 0 && v->extra <= 0 &&
			    (v->reason == VMS_REASON_ISOLATION_FALSE_POSITIVE || v->reason == VMS_REASON_MIGRATION_REFUSED) &&
			    refusal->status == INV_HELD)
				set(refusal, INV_VIOLATED, "step %s, block %" PRIu64 " (%s): refcount %" PRId64 ", expected %" PRId64
				    ", no extra reference", r->steps[i].name, v->block, vms_reason_name(v->reason), v->refcount,
				    v->expected_refs);
		}
	if (stays && !measured && refusal->status == INV_HELD)
		set(refusal, INV_NOT_SHOWN, "no refused page's counters could be read (%s)",
		    r->nsteps && r->steps[0].nverdicts && r->steps[0].verdicts[0].unmeasured[0]
			    ? r->steps[0].verdicts[0].unmeasured : "none named by the kernel");
}

static void data_rules(const struct report *r, struct invariant *stamps, struct invariant *sizes)
{
	const struct guest_state *states[1 + 2 * SCN_MAX_STEPS];
	const char *when[1 + 2 * SCN_MAX_STEPS];
	int n = 0;
	if (r->have_populate)
		states[n] = &r->populate, when[n++] = "after populate";
	for (int i = 0; i < r->nsteps; i++) {
		if (r->steps[i].have_state)
			states[n] = &r->steps[i].state, when[n++] = r->steps[i].name;
		if (r->steps[i].have_final)
			states[n] = &r->steps[i].final, when[n++] = r->steps[i].name;
	}
	if (!n) {
		set(stamps, INV_NOT_SHOWN, "no page was read back: the run ended before its populations were built");
		set(sizes, INV_NOT_SHOWN, "no step ran");
		return;
	}
	set(stamps, INV_HELD, "every page checked read back its stamp");
	for (int s = 0; s < n && stamps->status == INV_HELD; s++)
		for (int p = 0; p < states[s]->npops; p++)
			if (states[s]->pops[p].corrupted)
				set(stamps, INV_VIOLATED, "%s: %" PRIu64 " corrupted pages of %s", when[s],
				    states[s]->pops[p].corrupted, states[s]->pops[p].name);
	set(sizes, r->nsteps ? INV_HELD : INV_NOT_SHOWN, "%s",
	    r->nsteps ? "the guest's plugged blocks matched the device's size after every step" : "no step ran");
	for (int i = 0; i < r->nsteps && r->have_region; i++) {
		const struct step_report *st = &r->steps[i];
		uint64_t guest = st->state.plugged * r->region.block_size;
		if (st->have_state && guest != st->size_after) {
			set(sizes, INV_VIOLATED, "step %s: the guest sees %" PRIu64 " bytes plugged, the device reports %" PRIu64,
			    st->name, guest, st->size_after);
			break;
		}
	}
}

void invariants_check(const struct report *r, struct invariant out[VMS_NINVARIANTS])
{
	for (int i = 0; i < VMS_NINVARIANTS; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		out[i].name = defs[i].name;
		out[i].rule = defs[i].rule;
	}
	pin_not_movable(r, &out[VMS_INV_PIN_NOT_MOVABLE]);
	verdict_rules(r, &out[VMS_INV_NO_KERNEL_IN_MOVABLE], &out[VMS_INV_REFUSAL_HAS_REFERENCE]);
	data_rules(r, &out[VMS_INV_STAMPS_VERIFY], &out[VMS_INV_SIZES_AGREE]);
}
