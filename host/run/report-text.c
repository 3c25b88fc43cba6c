/* The human-readable report: a header, tables, one verdict line last. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <string.h>

#include "run/report.h"
#include "util/units.h"

static void held_text(const struct report *r, const struct guest_state *st, uint64_t block, char *buf, size_t len)
{
	size_t o = 0;
	buf[0] = 0;
	size_t nh, h0 = held_find(st, block, &nh);
	for (size_t i = h0; i < h0 + nh && o + 1 < len; i++) {
		int n = snprintf(buf + o, len - o, "%s%s:%" PRIu64, o ? " " : "", r->scn->pops[st->held[i].pop].name,
				 st->held[i].pages);
		if (n < 0)
			break;
		o += (size_t)n;
	}
}

/* Zone of the memory block holding device block `block`, from the guest. */
static const char *block_zone(const struct report *r, const struct guest_state *st, uint64_t block,
			      uint64_t mblock_size, uint64_t *mblock)
{
	if (!mblock_size) {
		*mblock = 0;
		return "-";
	}
	*mblock = (r->region.addr + block * r->region.block_size) / mblock_size;
	const struct mem_block *m = mblock_find(st, *mblock);
	return m ? m->zone : "-";
}

/* The blocks still plugged after a step that did not reach its size: one
 * row per block holding population pages, runs of other blocks folded. */
static void plugged_table(const struct report *r, const struct step_report *st, uint64_t mblock_size, FILE *out)
{
	const struct guest_state *gs = &st->state;
	fprintf(out, "\nblocks still plugged after step %s: %" PRIu64 " of %" PRIu64 "\n", st->name, gs->plugged,
		gs->nblocks);
	if (!gs->plugged)
		return;
	fprintf(out, "  %-13s %-20s %-8s %-10s %s\n", "blocks", "address", "memblk", "zone", "population pages held");
	uint64_t i = 0;
	while (i < gs->nblocks) {
		if (gs->map[i] != VMS_BLOCK_PLUGGED_C) {
			i++;
			continue;
		}
		char held[200], range[32], addr[24];
		uint64_t mb;
		held_text(r, gs, i, held, sizeof(held));
		const char *zone = block_zone(r, gs, i, mblock_size, &mb);
		uint64_t j = i + 1;
		if (!held[0]) {
			/* fold a run of plugged blocks without our pages in one memory block */
			char h2[8];
			uint64_t mb2;
			while (j < gs->nblocks && gs->map[j] == VMS_BLOCK_PLUGGED_C &&
			       (held_text(r, gs, j, h2, sizeof(h2)), !h2[0]) &&
			       (block_zone(r, gs, j, mblock_size, &mb2), mb2 == mb))
				j++;
		}
		if (j - i > 1)
			snprintf(range, sizeof(range), "%" PRIu64 "-%" PRIu64, i, j - 1);
		else
			snprintf(range, sizeof(range), "%" PRIu64, i);
		snprintf(addr, sizeof(addr), "%#" PRIx64, r->region.addr + i * r->region.block_size);
		fprintf(out, "  %-13s %-20s %-8" PRIu64 " %-10s %s\n", range, addr, mb, zone,
			held[0] ? held : "(none of ours)");
		i = j;
	}
}

static void confirmation_text(const struct report *r, const struct block_verdict *v, char *buf, size_t len)
{
	if (v->released_by >= 0)
		snprintf(buf, len, "went when %s was released", r->scn->pops[v->released_by].name);
	else if (v->stayed_after_release)
		snprintf(buf, len, "stayed after release%s%s", v->sysfs[0] ? "; sysfs offline: " : "", v->sysfs);
	else if (v->sysfs[0])
		snprintf(buf, len, "sysfs offline: %s", v->sysfs);
	else
		/* went after a release that dropped nothing: not a confirmation */
		snprintf(buf, len, "%s", v->confirm_tried ? "went, no hold dropped" : "not tried");
}

/* Why each block stayed: one row per run of blocks with the same owner,
 * reason, confirmation and verdict, with the evidence of its first block. */
static void reasons_table(const struct report *r, const struct step_report *st, FILE *out)
{
	char a[32];
	size_t nleft = 0;
	for (size_t i = 0; i < st->nverdicts; i++)
		nleft += st->verdicts[i].left_behind;
	fprintf(out, "\nblocks that stayed after step %s: %zu of %" PRIu64 " (%s)", st->name, st->nverdicts - nleft,
		st->state.nblocks, format_size((st->nverdicts - nleft) * r->region.block_size, a, sizeof(a)));
	if (nleft)
		fprintf(out, "; %zu memory block%s left behind with nothing plugged (one row each, at its first block)",
			nleft, nleft == 1 ? "" : "s");
	fputc('\n', out);
	if (st->nreleased) {
		fprintf(out, "  released in turn:");
		for (int i = 0; i < st->nreleased; i++)
			fprintf(out, " %s", st->released[i]);
		fprintf(out, "; afterwards%s the device was at %s\n",
			st->noffline ? " (each release followed by sysfs offline again)"
			: st->nverdicts && st->verdicts[0].sysfs[0] ? " (and after the sysfs second opinion)" : "",
			format_size(st->size_final, a, sizeof(a)));
	}
	fprintf(out, "  %-11s %-13s %-6s %-8s %-16s %-24s %-34s %s\n", "blocks", "address", "memblk", "zone", "owner",
		"reason", "confirmation", "verdict");
	size_t i = 0;
	while (i < st->nverdicts) {
		const struct block_verdict *v = &st->verdicts[i];
		char conf[128], conf2[128], range[32], addr[24], held[200];
		confirmation_text(r, v, conf, sizeof(conf));
		uint64_t mb = 0;
		const char *zone = block_zone(r, &st->state, v->block, r->memory_block_size, &mb);
		size_t j = i + 1;
		while (j < st->nverdicts && st->verdicts[j].block == st->verdicts[j - 1].block + 1 &&
		       st->verdicts[j].owner == v->owner && st->verdicts[j].reason == v->reason &&
		       st->verdicts[j].expected == v->expected && st->verdicts[j].expected_after_release == v->expected_after_release &&
		       (confirmation_text(r, &st->verdicts[j], conf2, sizeof(conf2)), strcmp(conf, conf2) == 0))
			j++;
		if (j - i > 1)
			snprintf(range, sizeof(range), "%" PRIu64 "-%" PRIu64, v->block, st->verdicts[j - 1].block);
		else
			snprintf(range, sizeof(range), "%" PRIu64, v->block);
		snprintf(addr, sizeof(addr), "%#" PRIx64, r->region.addr + v->block * r->region.block_size);
		const char *verdict = !v->expected ? "UNEXPECTED" : !v->expected_after_release ? "UNEXPECTED after release"
											: "expected";
		fprintf(out, "  %-11s %-13s %-6" PRIu64 " %-8s %-16s %-24s %-34s %s\n", range, addr, mb, zone, verdict_who(r, v),
			vms_reason_name(v->reason), conf, verdict);
		held_text(r, &st->state, v->block, held, sizeof(held));
		fprintf(out, "  %11s %s%s%s\n", "", v->evidence, held[0] ? "; holds " : "", held);
		if (!v->has_counters && v->unmeasured[0])
			fprintf(out, "  %11s page counters NOT MEASURED: %s\n", "", v->unmeasured);
		if (v->confirm[0])
			fprintf(out, "  %11s %s\n", "", v->confirm);
		if (v->signature[0])
			fprintf(out, "  %11s SIGNATURE: %s\n", "", v->signature);
		if (v->after[0])
			fprintf(out, "  %11s after the releases it held: %s\n", "", v->after);
		if (v->known_bug >= 0 && r->known_bugs) {
			const struct known_bug *b = &r->known_bugs->bugs[v->known_bug];
			char inrange[300];
			fprintf(out, "  %11s KNOWN BUG \"%s\": fixed by %s (\"%s\"); affected: %s\n", "", b->title, b->fixed_by,
				b->fix_title, b->affected);
			if (known_bug_range_words(b, r->kernel_version, inrange, sizeof(inrange))[0])
				fprintf(out, "  %11s this kernel, %s\n", "", inrange);
		}
		i = j;
	}
}

static void pops_table(const struct guest_state *st, FILE *out)
{
	fprintf(out, "  %-16s %-14s %9s %9s %9s %9s %9s %9s %9s\n", "population", "type", "pages", "in-region", "THP",
		"moved", "verified", "discarded", "corrupted");
	for (int i = 0; i < st->npops; i++) {
		const struct pop_state *p = &st->pops[i];
		char thp[24] = "-";
		if (p->thp_pages >= 0)
			snprintf(thp, sizeof(thp), "%" PRId64, p->thp_pages);
		fprintf(out, "  %-16s %-14s %9" PRIu64 " %9" PRIu64 " %9s %9" PRIu64 " %9" PRIu64 " %9" PRIu64 " %9" PRIu64 "\n",
			p->name, p->type, p->pages, p->in_region, thp, p->moved, p->verified, p->discarded, p->corrupted);
	}
}

static const char *secs(uint64_t ms, char *buf, size_t len)
{
	snprintf(buf, len, "%.1f s", (double)ms / 1000.0);
	return buf;
}

void report_write_text(const struct report *r, FILE *out)
{
	const struct scenario *s = r->scn;
	char a[32], b[32], c[32], t[4][24];
	fprintf(out, "vmemstress report: scenario %s (%s)\n", s->name, s->path);
	if (s->description[0])
		fprintf(out, "  %s\n", s->description);
	fprintf(out, "  kernel   %s (%s); config %s\n", r->kernel_release[0] ? r->kernel_release : "?", r->kernel,
		r->config.checked ? "checked" : "not checked (no config file)");
	fprintf(out, "  vm       %s backend, %s, accel %s, %d cpus, boot memory %s\n", r->backend,
		r->hypervisor[0] ? r->hypervisor : "?", r->accel[0] ? r->accel : "?", s->cpus,
		format_size(s->boot_memory, a, sizeof(a)));
	if (r->boot_kind[0]) {
		fprintf(out, "  boot     %s in %.1f s", strcmp(r->boot_kind, "restored") == 0 ? "restored" : "cold boot",
			(double)r->boot_ms / 1000);
		if (!r->snapshot_on)
			fprintf(out, " (no --snapshot-dir)");
		else if (strcmp(r->snapshot_outcome, "restored") == 0)
			fprintf(out, " from snapshot %.16s (%s; QEMU loaded it in %.1f s)", r->snapshot_key, r->snapshot_file,
				(double)r->snapshot_restore_ms / 1000);
		else if (strcmp(r->snapshot_outcome, "none") == 0)
			fprintf(out, ": no snapshot %.16s yet", r->snapshot_key);
		else if (strcmp(r->snapshot_outcome, "rejected") == 0)
			fprintf(out, ": snapshot %.16s rejected (%s)", r->snapshot_key, r->snapshot_detail);
		else if (strcmp(r->snapshot_outcome, "restore-failed") == 0)
			fprintf(out, ": restoring snapshot %.16s failed (%s)", r->snapshot_key, r->snapshot_detail);
		else
			fprintf(out, ": no snapshot (%s)", r->snapshot_detail);
		if (r->snapshot_saved)
			fprintf(out, "; saved as %s (%.1f s)", r->snapshot_file, (double)r->snapshot_save_ms / 1000);
		else if (r->snapshot_save_error[0])
			fprintf(out, "; not saved: %s", r->snapshot_save_error);
		fprintf(out, "\n");
	}
	if (r->expect_applied[0])
		fprintf(out, "  expect   [expect] and, for this kernel (%s): [expect %s]\n",
			r->kernel_version[0] ? r->kernel_version : "?", r->expect_applied);
	if (r->have_driver) {
		const struct scn_modes *m = &s->modes;
		fprintf(out, "  driver   %s%s%s (asked %s); online policy %s; memory backend %s\n",
			strcmp(r->driver_mode, "bbm") == 0 ? "Big Block Mode, blocks of "
			: strcmp(r->driver_mode, "sbm") == 0 ? "Sub Block Mode, sub-blocks of " : "mode not shown",
			r->driver_mode[0] ? format_size(r->driver_unit, a, sizeof(a)) : "", "",
			driver_mode_name(m->driver), online_policy_name(m->online), m->backend);
		fprintf(out, "           read back: %s\n", r->driver_params[0] ? r->driver_params : "no parameters");
	}
	if (r->have_region) {
		const char *zone = "";
		if (r->have_populate && r->populate.nmblocks)
			zone = r->populate.mblocks[0].zone;
		fprintf(out, "  region   %#" PRIx64 ", %s in %" PRIu64 " blocks of %s on node %d; zone asked %s, guest has %s\n",
			r->region.addr, format_size(r->region.size, a, sizeof(a)), r->region.size / r->region.block_size,
			format_size(r->region.block_size, b, sizeof(b)), r->region.node, zone_name(s->zone),
			zone[0] ? zone : "?");
	}
	fprintf(out, "  output   %s\n", r->outdir);

	if (r->have_populate) {
		fprintf(out, "\npopulations after setup (%s, %s plugged; stamps of a sample of pages checked)\n",
			secs(r->populate.setup_ms, t[0], sizeof(t[0])), format_size(r->plugged_at_start, a, sizeof(a)));
		pops_table(&r->populate, out);
	}
	if (r->nsteps) {
		fprintf(out, "\n  %-16s %10s %10s %10s %8s %6s  %s\n", "step", "requested", "before", "after", "time",
			"kicks", "result");
		for (int i = 0; i < r->nsteps; i++) {
			const struct step_report *st = &r->steps[i];
			fprintf(out, "  %-16s %10s %10s %10s %8s %6u  %s\n", st->name, format_size(st->requested, a, sizeof(a)),
				format_size(st->size_before, b, sizeof(b)), format_size(st->size_after, c, sizeof(c)),
				secs(st->elapsed_ms, t[0], sizeof(t[0])), st->kicks,
				st->reached ? "reached" : "NOT reached");
			if (r->scn->steps[i].driver == STEP_SYSFS) {
				fprintf(out, "  %-16s sysfs offline first:", "");
				for (int k = 0; k < st->noffline; k++)
					fprintf(out, " memory%" PRIu64 " %s%s", st->offlined[k].index, st->offlined[k].result,
						k + 1 < st->noffline ? "," : "");
				fprintf(out, "%s\n", st->noffline ? "" : " none online");
			}
		}
	}
	for (int i = 0; i < r->nsteps; i++) {
		const struct step_report *st = &r->steps[i];
		if (!st->have_state)
			continue;
		fprintf(out, "\npopulations after step %s\n", st->name);
		pops_table(&st->state, out);
		if (st->nverdicts)
			reasons_table(r, st, out);
		else if (!st->reached || st->state.plugged * r->region.block_size != st->size_after)
			plugged_table(r, st, r->memory_block_size, out);
		if (st->have_final) {
			fprintf(out, "\npopulations after step %s and release\n", st->name);
			pops_table(&st->final, out);
		}
	}
	/* only the phases that finished */
	fprintf(out, "\ntimings:");
	if (r->kernel_release[0])
		fprintf(out, " boot %s,", secs(r->boot_ms, t[0], sizeof(t[0])));
	if (r->plugged_at_start)
		fprintf(out, " plug %s,", secs(r->plug_ms, t[1], sizeof(t[1])));
	if (r->have_populate)
		fprintf(out, " populate %s,", secs(r->populate_ms, t[2], sizeof(t[2])));
	for (int i = 0; i < r->nsteps; i++)
		fprintf(out, " %s %s,", r->steps[i].name, secs(r->steps[i].elapsed_ms, t[3], sizeof(t[3])));
	fprintf(out, " total %s\n", secs(r->total_ms, t[0], sizeof(t[0])));

	fprintf(out, "\ninvariants (kept by every kernel, whatever the scenario expects):\n");
	for (int i = 0; i < VMS_NINVARIANTS; i++)
		if (r->inv[i].name)
			fprintf(out, "  %-9s %s: %s\n", inv_status_name(r->inv[i].status), r->inv[i].name, r->inv[i].detail);
	if (r->n_not_shown) {
		fprintf(out, "\nNOT SHOWN (neither passed nor failed):\n");
		for (int i = 0; i < r->n_not_shown; i++)
			fprintf(out, "  - %s\n", r->not_shown[i]);
	}
	if (r->nwarnings) {
		fprintf(out, "\nwarnings:\n");
		for (int i = 0; i < r->nwarnings; i++)
			fprintf(out, "  - %s\n", r->warnings[i]);
	}
	if (r->status != RUN_COMPLETE) {
		fprintf(out, "\nrun %s during %s: %s\n", r->status == RUN_INTERRUPTED ? "interrupted" : "failed", r->phase,
			r->error);
		if (r->console_tail[0])
			fprintf(out, "last lines of the guest console (%s/console.log):\n%s\n", r->outdir, r->console_tail);
	}
	if (r->nfindings) {
		fprintf(out, "\nfindings:\n");
		for (int i = 0; i < r->nfindings; i++)
			fprintf(out, "  - %s\n", r->findings[i]);
	}
	uint64_t verified = 0, corrupted = 0;
	const struct step_report *ls = r->nsteps ? &r->steps[r->nsteps - 1] : NULL;
	const struct guest_state *last = ls && ls->have_final ? &ls->final
				       : ls && ls->have_state ? &ls->state
				       : r->have_populate ? &r->populate : NULL;
	for (int i = 0; last && i < last->npops; i++) {
		verified += last->pops[i].verified;
		corrupted += last->pops[i].corrupted;
	}
	fprintf(out, "\n%s: ", r->verdict == VERDICT_PASS ? "PASS" : r->verdict == VERDICT_FAIL ? "FAIL"
				  : r->verdict == VERDICT_SKIP ? "SKIP" : "ERROR");
	if (r->verdict == VERDICT_SKIP) {
		fprintf(out, "nothing this scenario asks for can be shown on this kernel\n");
		return;
	}
	size_t stayed = 0;
	for (int i = 0; i < r->nsteps; i++)
		stayed += r->steps[i].nverdicts;
	char partial[64] = "";
	if (r->n_not_shown)
		snprintf(partial, sizeof(partial), "; %d population%s NOT SHOWN", r->n_not_shown,
			 r->n_not_shown == 1 ? "" : "s");
	if (r->verdict == VERDICT_PASS && !stayed)
		fprintf(out, "every step reached its requested size; %" PRIu64 " pages verified, %" PRIu64 " corrupted%s\n",
			verified, corrupted, partial);
	else if (r->verdict == VERDICT_PASS)
		fprintf(out, "%zu block%s stayed, each for an expected reason; %" PRIu64 " pages verified, %" PRIu64 " corrupted%s\n",
			stayed, stayed == 1 ? "" : "s", verified, corrupted, partial);
	else if (r->verdict == VERDICT_FAIL && r->known_bugs) {
		int bug = -1;
		for (int i = 0; i < r->nsteps && bug < 0; i++)
			for (size_t k = 0; k < r->steps[i].nverdicts && bug < 0; k++)
				bug = r->steps[i].verdicts[k].known_bug;
		if (bug >= 0)
			fprintf(out, "known bug \"%s\" (fixed by %s); %d expectation%s failed (see findings)\n",
				r->known_bugs->bugs[bug].title, r->known_bugs->bugs[bug].fixed_by, r->nfindings,
				r->nfindings == 1 ? "" : "s");
		else
			fprintf(out, "%d expectation%s failed (see findings)\n", r->nfindings, r->nfindings == 1 ? "" : "s");
	}
	else if (r->verdict == VERDICT_FAIL)
		fprintf(out, "%d expectation%s failed (see findings)\n", r->nfindings, r->nfindings == 1 ? "" : "s");
	else
		fprintf(out, "the run did not complete: %s\n", r->error);
}
