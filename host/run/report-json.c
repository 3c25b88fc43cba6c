/* The JSON report: the same model as the text, for machines. Schema
 * "vmemstress-report/1", described in docs/report-json.md. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "run/report.h"
#include "run/run.h"

#define J_INT(v) json_object_new_int64((int64_t)(v))
#define J_STR(v) json_object_new_string(v)

static struct json_object *state_json(const struct report *r, const struct guest_state *st)
{
	struct json_object *o = json_object_new_object(), *pops = json_object_new_array();
	for (int i = 0; i < st->npops; i++) {
		const struct pop_state *p = &st->pops[i];
		struct json_object *pj = json_object_new_object();
		json_object_object_add(pj, "name", J_STR(p->name));
		json_object_object_add(pj, "type", J_STR(p->type));
		json_object_object_add(pj, "pages", J_INT(p->pages));
		json_object_object_add(pj, "in_region", J_INT(p->in_region));
		json_object_object_add(pj, "absent", J_INT(p->absent));
		json_object_object_add(pj, "moved", J_INT(p->moved));
		json_object_object_add(pj, "checked", J_INT(p->checked));
		json_object_object_add(pj, "verified", J_INT(p->verified));
		json_object_object_add(pj, "corrupted", J_INT(p->corrupted));
		json_object_object_add(pj, "discarded", J_INT(p->discarded));
		json_object_object_add(pj, "thp_pages", p->thp_pages >= 0 ? J_INT(p->thp_pages) : NULL);
		json_object_object_add(pj, "released", json_object_new_boolean(p->released));
		if (p->has_first_bad) {
			struct json_object *b = json_object_new_object();
			json_object_object_add(b, "mapping", J_STR(p->first_bad_mapping));
			json_object_object_add(b, "page", J_INT(p->first_bad_page));
			json_object_object_add(pj, "first_corrupted", b);
		}
		if (p->note[0])
			json_object_object_add(pj, "note", J_STR(p->note));
		if (p->not_shown[0])
			json_object_object_add(pj, "not_shown", J_STR(p->not_shown));
		json_object_array_add(pops, pj);
	}
	json_object_object_add(o, "populations", pops);
	json_object_object_add(o, "plugged_blocks", J_INT(st->plugged));
	json_object_object_add(o, "map", J_STR(st->map ? st->map : ""));
	/* per block: only the plugged ones and those holding our pages */
	struct json_object *blocks = json_object_new_array();
	for (uint64_t b = 0; b < st->nblocks; b++) {
		bool plugged = st->map[b] == VMS_BLOCK_PLUGGED_C;
		struct json_object *held = NULL;
		size_t nh, h0 = held_find(st, b, &nh);
		for (size_t i = h0; i < h0 + nh; i++) {
			if (!held)
				held = json_object_new_object();
			json_object_object_add(held, r->scn->pops[st->held[i].pop].name, J_INT(st->held[i].pages));
		}
		if (!held && !plugged)
			continue;
		struct json_object *bj = json_object_new_object();
		json_object_object_add(bj, "index", J_INT(b));
		json_object_object_add(bj, "addr", J_INT(r->region.addr + b * r->region.block_size));
		json_object_object_add(bj, "state", J_STR(plugged ? "plugged" : "unplugged"));
		if (r->memory_block_size)
			json_object_object_add(bj, "memory_block",
					       J_INT((r->region.addr + b * r->region.block_size) / r->memory_block_size));
		json_object_object_add(bj, "held", held ? held : json_object_new_object());
		json_object_array_add(blocks, bj);
	}
	json_object_object_add(o, "blocks", blocks);
	struct json_object *mbs = json_object_new_array();
	for (size_t i = 0; i < st->nmblocks; i++) {
		struct json_object *m = json_object_new_object();
		json_object_object_add(m, "index", J_INT(st->mblocks[i].index));
		json_object_object_add(m, "state", J_STR(st->mblocks[i].state));
		json_object_object_add(m, "zone", J_STR(st->mblocks[i].zone));
		json_object_array_add(mbs, m);
	}
	json_object_object_add(o, "memory_blocks", mbs);
	json_object_object_add(o, "guest_ms", J_INT(st->elapsed_ms));
	if (st->guest_rss_kb)
		json_object_object_add(o, "guest_rss_kb", J_INT(st->guest_rss_kb));
	if (st->evidence.present) {
		struct json_object *ev = json_object_new_object();
		json_object_object_add(ev, "trace", json_object_new_boolean(st->evidence.trace));
		json_object_object_add(ev, "dump_page", json_object_new_boolean(st->evidence.dump_page));
		json_object_object_add(ev, "isolation_events", J_INT(st->evidence.isolation_events));
		json_object_object_add(ev, "isolation_failures", J_INT(st->evidence.isolation_failures));
		json_object_object_add(ev, "dumped_pages", J_INT(st->evidence.dumped_pages));
		json_object_object_add(ev, "migrate_succeeded", J_INT(st->evidence.migrate_succeeded));
		json_object_object_add(ev, "migrate_failed", J_INT(st->evidence.migrate_failed));
		json_object_object_add(ev, "thp_migrate_succeeded", J_INT(st->evidence.thp_succeeded));
		json_object_object_add(ev, "thp_migrate_failed", J_INT(st->evidence.thp_failed));
		json_object_object_add(ev, "isolate_probe", json_object_new_boolean(st->evidence.isolate_probe));
		json_object_object_add(ev, "isolate_calls", J_INT(st->evidence.isolate_calls));
		json_object_object_add(ev, "isolation_refusals", J_INT(st->evidence.isolation_refusals));
		json_object_object_add(ev, "target_probe", json_object_new_boolean(st->evidence.target_probe));
		json_object_object_add(ev, "target_calls", J_INT(st->evidence.target_calls));
		json_object_object_add(ev, "target_failures", J_INT(st->evidence.target_failures));
		json_object_object_add(ev, "offline_pages", json_object_new_boolean(st->evidence.offline_pages));
		struct json_object *off = json_object_new_array();
		for (size_t i = 0; i < st->evidence.noffline; i++) {
			const struct offline_failure_seen *f = &st->evidence.offline[i];
			struct json_object *j = json_object_new_object();
			json_object_object_add(j, "start", J_INT(f->start));
			json_object_object_add(j, "end", J_INT(f->end));
			json_object_object_add(j, "reason", json_object_new_string(f->reason));
			json_object_object_add(j, "count", J_INT(f->count));
			json_object_array_add(off, j);
		}
		json_object_object_add(ev, "offline_failures", off);
		json_object_object_add(ev, "driver_broken", st->evidence.driver_broken[0] ?
				       json_object_new_string(st->evidence.driver_broken) : NULL);
		json_object_object_add(o, "evidence", ev);
	}
	return o;
}

struct json_object *report_to_json(const struct report *r)
{
	const struct scenario *s = r->scn;
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "schema", J_STR("vmemstress-report/1"));
	json_object_object_add(o, "verdict", J_STR(verdict_name(r->verdict)));
	json_object_object_add(o, "exit_status", J_INT(report_exit_status(r)));

	struct json_object *sc = json_object_new_object();
	json_object_object_add(sc, "name", J_STR(s->name));
	json_object_object_add(sc, "path", J_STR(s->path));
	json_object_object_add(sc, "zone", J_STR(zone_name(s->zone)));
	struct json_object *m = json_object_new_object();
	json_object_object_add(m, "driver", J_STR(driver_mode_name(s->modes.driver)));
	json_object_object_add(m, "online_policy", J_STR(online_policy_name(s->modes.online)));
	json_object_object_add(m, "memory_backend", J_STR(s->modes.backend));
	char params[400];
	run_mode_params(s, params, sizeof(params));
	json_object_object_add(m, "kernel_params", J_STR(params[0] == ' ' ? params + 1 : params));
	json_object_object_add(sc, "modes", m);
	json_object_object_add(sc, "expect_applied", J_STR(r->expect_applied));
	json_object_object_add(o, "scenario", sc);

	struct json_object *vm = json_object_new_object();
	json_object_object_add(vm, "backend", J_STR(r->backend));
	json_object_object_add(vm, "hypervisor", J_STR(r->hypervisor));
	json_object_object_add(vm, "accel", J_STR(r->accel));
	json_object_object_add(vm, "cpus", J_INT(s->cpus));
	json_object_object_add(vm, "boot_memory", J_INT(s->boot_memory));
	json_object_object_add(vm, "kernel", J_STR(r->kernel));
	json_object_object_add(vm, "kernel_release", J_STR(r->kernel_release));
	json_object_object_add(vm, "kernel_version", J_STR(r->kernel_version));
	json_object_object_add(vm, "guest_program", J_STR(r->guest_program));
	if (r->have_driver) {
		struct json_object *d = json_object_new_object();
		json_object_object_add(d, "mode", J_STR(r->driver_mode));
		json_object_object_add(d, "unit", J_INT(r->driver_unit));
		json_object_object_add(d, "params", J_STR(r->driver_params));
		json_object_object_add(vm, "driver", d);
	}
	if (r->boot_kind[0]) {
		struct json_object *b = json_object_new_object();
		json_object_object_add(b, "kind", J_STR(r->boot_kind));
		if (r->snapshot_on) {
			struct json_object *sn = json_object_new_object();
			json_object_object_add(sn, "outcome", J_STR(r->snapshot_outcome));
			json_object_object_add(sn, "key", J_STR(r->snapshot_key));
			json_object_object_add(sn, "file", J_STR(r->snapshot_file));
			json_object_object_add(sn, "detail", J_STR(r->snapshot_detail));
			json_object_object_add(sn, "saved", json_object_new_boolean(r->snapshot_saved));
			json_object_object_add(sn, "save_error", J_STR(r->snapshot_save_error));
			json_object_object_add(sn, "save_ms", J_INT(r->snapshot_save_ms));
			json_object_object_add(sn, "restore_ms", J_INT(r->snapshot_restore_ms));
			json_object_object_add(b, "snapshot", sn);
		} else {
			json_object_object_add(b, "snapshot", NULL);
		}
		json_object_object_add(vm, "boot", b);
	}
	json_object_object_add(o, "vm", vm);

	if (r->have_region) {
		struct json_object *reg = json_object_new_object();
		json_object_object_add(reg, "addr", J_INT(r->region.addr));
		json_object_object_add(reg, "size", J_INT(r->region.size));
		json_object_object_add(reg, "block_size", J_INT(r->region.block_size));
		json_object_object_add(reg, "blocks", J_INT(r->region.size / r->region.block_size));
		json_object_object_add(reg, "node", J_INT(r->region.node));
		json_object_object_add(reg, "memory_block_size", J_INT(r->memory_block_size));
		json_object_object_add(reg, "plugged_at_start", J_INT(r->plugged_at_start));
		json_object_object_add(o, "region", reg);
	}
	if (r->have_populate)
		json_object_object_add(o, "populate", state_json(r, &r->populate));

	struct json_object *steps = json_object_new_array();
	for (int i = 0; i < r->nsteps; i++) {
		const struct step_report *st = &r->steps[i];
		struct json_object *sj = json_object_new_object();
		json_object_object_add(sj, "name", J_STR(st->name));
		json_object_object_add(sj, "requested", J_INT(st->requested));
		json_object_object_add(sj, "size_before", J_INT(st->size_before));
		json_object_object_add(sj, "size_after", J_INT(st->size_after));
		json_object_object_add(sj, "reached", json_object_new_boolean(st->reached));
		json_object_object_add(sj, "elapsed_ms", J_INT(st->elapsed_ms));
		json_object_object_add(sj, "kicks", J_INT(st->kicks));
		json_object_object_add(sj, "driver", J_STR(r->scn->steps[i].driver == STEP_SYSFS ? "sysfs" : "virtio-mem"));
		if (r->scn->steps[i].driver == STEP_SYSFS) {
			struct json_object *off = json_object_new_array();
			for (int k = 0; k < st->noffline; k++) {
				struct json_object *oj = json_object_new_object();
				json_object_object_add(oj, "memory_block", J_INT(st->offlined[k].index));
				json_object_object_add(oj, "result", J_STR(st->offlined[k].result));
				json_object_array_add(off, oj);
			}
			json_object_object_add(sj, "sysfs_offline", off);
		}
		json_object_object_add(sj, "state", st->have_state ? state_json(r, &st->state) : NULL);
		struct json_object *stayed = json_object_new_array();
		for (size_t k = 0; k < st->nverdicts; k++) {
			const struct block_verdict *v = &st->verdicts[k];
			struct json_object *vj = json_object_new_object();
			json_object_object_add(vj, "block", J_INT(v->block));
			if (v->unit_of >= 0)
				json_object_object_add(vj, "unit_of", J_INT(v->unit_of));
			json_object_object_add(vj, "addr", J_INT(r->region.addr + v->block * r->region.block_size));
			if (r->memory_block_size)
				json_object_object_add(vj, "memory_block",
						       J_INT((r->region.addr + v->block * r->region.block_size) / r->memory_block_size));
			json_object_object_add(vj, "owner", v->owner >= 0 ? J_STR(r->scn->pops[v->owner].name) : NULL);
			json_object_object_add(vj, "reason", J_STR(vms_reason_name(v->reason)));
			json_object_object_add(vj, "left_behind", json_object_new_boolean(v->left_behind));
			json_object_object_add(vj, "evidence", J_STR(v->evidence));
			json_object_object_add(vj, "basis", J_STR(v->basis));
			if (v->has_counters) {
				struct json_object *kc = json_object_new_object();
				json_object_object_add(kc, "refcount", json_object_new_int64(v->refcount));
				json_object_object_add(kc, "expected", json_object_new_int64(v->expected_refs));
				json_object_object_add(kc, "extra", json_object_new_int64(v->extra));
				json_object_object_add(kc, "words", J_STR(v->counters));
				json_object_object_add(vj, "counters", kc);
			} else {
				json_object_object_add(vj, "counters", NULL);
			}
			json_object_object_add(vj, "not_measured", v->unmeasured[0] ? J_STR(v->unmeasured) : NULL);
			json_object_object_add(vj, "declared", J_STR(v->declared));
			json_object_object_add(vj, "confirmation", v->confirm[0] ? J_STR(v->confirm) : NULL);
			json_object_object_add(vj, "signature", v->signature[0] ? J_STR(v->signature) : NULL);
			json_object_object_add(vj, "released_by", v->released_by >= 0 ? J_STR(r->scn->pops[v->released_by].name) : NULL);
			json_object_object_add(vj, "stayed_after_release", json_object_new_boolean(v->stayed_after_release));
			json_object_object_add(vj, "sysfs_offline", v->sysfs[0] ? J_STR(v->sysfs) : NULL);
			json_object_object_add(vj, "after_release", v->after[0] ? J_STR(v->after) : NULL);
			json_object_object_add(vj, "expected", json_object_new_boolean(v->expected && v->expected_after_release));
			if (v->known_bug >= 0 && r->known_bugs) {
				const struct known_bug *b = &r->known_bugs->bugs[v->known_bug];
				struct json_object *kb = json_object_new_object();
				json_object_object_add(kb, "name", J_STR(b->name));
				json_object_object_add(kb, "title", J_STR(b->title));
				json_object_object_add(kb, "fixed_by", J_STR(b->fixed_by));
				json_object_object_add(kb, "fix_title", J_STR(b->fix_title));
				int in = known_bug_in_range(b, r->kernel_version);
				json_object_object_add(kb, "in_range", in < 0 ? NULL : json_object_new_boolean(in));
				json_object_object_add(vj, "known_bug", kb);
			} else {
				json_object_object_add(vj, "known_bug", NULL);
			}
			json_object_array_add(stayed, vj);
		}
		json_object_object_add(sj, "stayed", stayed);
		if (st->have_final) {
			struct json_object *rel = json_object_new_array();
			for (int k = 0; k < st->nreleased; k++)
				json_object_array_add(rel, J_STR(st->released[k]));
			json_object_object_add(sj, "released", rel);
			json_object_object_add(sj, "size_final", J_INT(st->size_final));
			json_object_object_add(sj, "reached_final", json_object_new_boolean(st->reached_final));
			json_object_object_add(sj, "final_state", state_json(r, &st->final));
		}
		json_object_array_add(steps, sj);
	}
	json_object_object_add(o, "steps", steps);

	struct json_object *tl = json_object_new_array();
	for (size_t i = 0; i < r->ntimeline; i++) {
		struct json_object *sj = json_object_new_object();
		json_object_object_add(sj, "t_ms", J_INT(r->timeline[i].t_ms));
		json_object_object_add(sj, "requested", J_INT(r->timeline[i].requested));
		json_object_object_add(sj, "size", J_INT(r->timeline[i].size));
		json_object_array_add(tl, sj);
	}
	json_object_object_add(o, "timeline", tl);

	struct json_object *tm = json_object_new_object();
	json_object_object_add(tm, "boot_ms", J_INT(r->boot_ms));
	json_object_object_add(tm, "plug_ms", J_INT(r->plug_ms));
	json_object_object_add(tm, "populate_ms", J_INT(r->populate_ms));
	json_object_object_add(tm, "total_ms", J_INT(r->total_ms));
	json_object_object_add(tm, "guest_boot_ms", J_INT(r->guest_boot_ms));
	json_object_object_add(tm, "host_cpu_ms", J_INT(r->host_cpu_ms));
	json_object_object_add(tm, "host_max_rss_kb", J_INT(r->host_max_rss_kb));
	json_object_object_add(o, "timings", tm);

	struct json_object *run = json_object_new_object();
	json_object_object_add(run, "status", J_STR(r->status == RUN_COMPLETE ? "complete"
						    : r->status == RUN_INTERRUPTED ? "interrupted" : "error"));
	if (r->status != RUN_COMPLETE) {
		json_object_object_add(run, "phase", J_STR(r->phase));
		json_object_object_add(run, "error", J_STR(r->error));
		json_object_object_add(run, "console_tail", J_STR(r->console_tail));
	}
	json_object_object_add(run, "outdir", J_STR(r->outdir));
	json_object_object_add(o, "run", run);

	struct json_object *cfg = json_object_new_object(), *ns = json_object_new_array(), *notes = json_object_new_array();
	json_object_object_add(cfg, "checked", json_object_new_boolean(r->config.checked));
	for (int i = 0; i < r->n_not_shown; i++)
		json_object_array_add(ns, J_STR(r->not_shown[i]));
	for (int i = 0; i < r->config.nnotes; i++)
		json_object_array_add(notes, J_STR(r->config.notes[i]));
	json_object_object_add(cfg, "notes", notes);
	json_object_object_add(o, "kernel_config", cfg);
	json_object_object_add(o, "not_shown", ns);
	struct json_object *inv = json_object_new_array();
	for (int i = 0; i < VMS_NINVARIANTS; i++) {
		struct json_object *ij = json_object_new_object();
		json_object_object_add(ij, "name", J_STR(r->inv[i].name ? r->inv[i].name : ""));
		json_object_object_add(ij, "rule", J_STR(r->inv[i].rule ? r->inv[i].rule : ""));
		json_object_object_add(ij, "status", J_STR(r->inv[i].status == INV_VIOLATED ? "violated"
							   : r->inv[i].status == INV_NOT_SHOWN ? "not-shown" : "held"));
		json_object_object_add(ij, "detail", J_STR(r->inv[i].detail));
		json_object_array_add(inv, ij);
	}
	json_object_object_add(o, "invariants", inv);
	struct json_object *f = json_object_new_array(), *w = json_object_new_array();
	for (int i = 0; i < r->nfindings; i++)
		json_object_array_add(f, J_STR(r->findings[i]));
	for (int i = 0; i < r->nwarnings; i++)
		json_object_array_add(w, J_STR(r->warnings[i]));
	json_object_object_add(o, "findings", f);
	json_object_object_add(o, "warnings", w);
	return o;
}

int report_write_json(const struct report *r, const char *path, struct err *e)
{
	struct json_object *o = report_to_json(r);
	char tmp[4200];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen_output(tmp);
	if (!f) {
		json_object_put(o);
		return err_sys(e, "cannot write %s", tmp);
	}
	fputs(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE), f);
	fputc('\n', f);
	json_object_put(o);
	if (fclose(f) != 0) {
		unlink(tmp);
		return err_sys(e, "cannot write %s", tmp);
	}
	if (rename(tmp, path) < 0)
		return err_sys(e, "cannot rename %s to %s", tmp, path);
	return 0;
}
