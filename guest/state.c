#define _GNU_SOURCE
#include "state.h"

#include <stdlib.h>
#include <string.h>

#include <stdio.h>

#include "kpage.h"
#include "pageinfo.h"

/* (pfn << 8 | population) pairs, sorted and deduplicated, so a frame shared
 * by a CoW parent and child counts once. */
static uint64_t in_region(const struct region *r, const struct population *p)
{
	uint64_t first_pfn = r->addr / PAGE_SIZE_4K, end_pfn = (r->addr + r->size) / PAGE_SIZE_4K, n = 0;
	for (int m = 0; m < p->nmaps; m++)
		for (size_t i = 0; i < p->maps[m].npages; i++)
			if (p->maps[m].pfn_now[i] >= first_pfn && p->maps[m].pfn_now[i] < end_pfn)
				n++;
	return n;
}

/* Who owns a frame: population, mapping, page. Sorted by PFN. */
struct owner {
	uint64_t pfn;
	uint16_t pop, map;
	uint32_t page;
};

static int cmp_owner(const void *a, const void *b)
{
	const struct owner *x = a, *y = b;
	return x->pfn < y->pfn ? -1 : x->pfn > y->pfn;
}

static struct owner *owners_build(struct population *pops, int npops, size_t *n)
{
	size_t total = 0, k = 0;
	for (int p = 0; p < npops; p++)
		for (int m = 0; m < pops[p].nmaps; m++)
			total += pops[p].maps[m].npages;
	struct owner *o = malloc((total ? total : 1) * sizeof(*o));
	if (!o)
		return NULL;
	for (int p = 0; p < npops; p++)
		for (int m = 0; m < pops[p].nmaps; m++)
			for (size_t i = 0; i < pops[p].maps[m].npages; i++)
				if (pops[p].maps[m].pfn_now[i] != PFN_NONE)
					o[k++] = (struct owner){ pops[p].maps[m].pfn_now[i], (uint16_t)p, (uint16_t)m, (uint32_t)i };
	qsort(o, k, sizeof(*o), cmp_owner);
	*n = k;
	return o;
}

static const struct owner *owner_of(const struct owner *o, size_t n, uint64_t pfn)
{
	struct owner key = { .pfn = pfn };
	return bsearch(&key, o, n, sizeof(*o), cmp_owner);
}

static struct json_object *owner_json(const struct owner *w, struct population *pops)
{
	if (!w)
		return NULL;
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "population", json_object_new_string(pops[w->pop].name));
	json_object_object_add(o, "mapping", json_object_new_string(pops[w->pop].maps[w->map].role));
	json_object_object_add(o, "page", json_object_new_int64(w->page));
	return o;
}

/* The kernel's own counters of the page ("kernel"), or why they are not
 * there ("kernel_unmeasured"). */
static void add_counters(struct json_object *o, uint64_t pfn)
{
	struct kpage k;
	struct err e = { "" };
	if (kpage_read(pfn, &k, &e) == 0)
		json_object_object_add(o, "kernel", kpage_json(&k));
	else {
		char why[150];  /* the host takes at most 159 bytes */
		snprintf(why, sizeof(why), "%s", e.msg);
		json_object_object_add(o, "kernel_unmeasured", json_object_new_string(why));
	}
}

static struct json_object *page_json(uint64_t pfn, const struct owner *own, size_t nown, struct population *pops)
{
	uint64_t flags;
	struct err e;
	struct json_object *o = json_object_new_object();
	char hex[24];
	json_object_object_add(o, "pfn", json_object_new_int64((int64_t)pfn));
	if (kpageflags_read(pfn, 1, &flags, &e) == 0) {
		snprintf(hex, sizeof(hex), "%#llx", (unsigned long long)flags);
		json_object_object_add(o, "flags", json_object_new_string(hex));
	}
	json_object_object_add(o, "mapcount", json_object_new_int64(kpagecount_read(pfn)));
	struct json_object *w = owner_json(owner_of(own, nown, pfn), pops);
	if (w)
		json_object_object_add(o, "owner", w);
	add_counters(o, pfn);
	return o;
}

/* Evidence about one plugged block: what its pages are (kpageflags census),
 * which PFNs the kernel found busy, and which it dumped. */
static struct json_object *stuck_block(const struct region *r, uint64_t b, const struct evidence *ev,
				       const struct owner *own, size_t nown, struct population *pops,
				       uint64_t *flags, struct err *e)
{
	uint64_t ppb = r->block_size / PAGE_SIZE_4K, pfn0 = (r->addr + b * r->block_size) / PAGE_SIZE_4K;
	if (kpageflags_read(pfn0, ppb, flags, e) < 0)
		return NULL;
	uint64_t ours = 0, lru = 0, tail = 0, slab = 0, pgtable = 0, buddy = 0, noflags = 0, other = 0, thp = 0;
	for (uint64_t i = 0; i < ppb; i++) {
		uint64_t f = flags[i];
		if (f & (1ull << KPF_THP))
			thp++;
		if (owner_of(own, nown, pfn0 + i))
			ours++;
		else if (f & (1ull << KPF_SLAB))
			slab++;
		else if (f & (1ull << KPF_PGTABLE))
			pgtable++;
		else if (f & (1ull << KPF_BUDDY))
			buddy++;
		else if (f & (1ull << KPF_LRU))
			lru++;
		else if (f & (1ull << KPF_COMPOUND_TAIL))
			tail++;
		else if (f == 0)
			noflags++;  /* a free buddy's tail page, or a raw kernel allocation */
		else
			other++;
	}
	struct json_object *o = json_object_new_object(), *c = json_object_new_object();
	json_object_object_add(o, "block", json_object_new_int64((int64_t)b));
	json_object_object_add(c, "ours", json_object_new_int64((int64_t)ours));
	json_object_object_add(c, "lru", json_object_new_int64((int64_t)lru));
	json_object_object_add(c, "compound_tail", json_object_new_int64((int64_t)tail));
	json_object_object_add(c, "slab", json_object_new_int64((int64_t)slab));
	json_object_object_add(c, "pgtable", json_object_new_int64((int64_t)pgtable));
	json_object_object_add(c, "buddy", json_object_new_int64((int64_t)buddy));
	json_object_object_add(c, "noflags", json_object_new_int64((int64_t)noflags));
	json_object_object_add(c, "other", json_object_new_int64((int64_t)other));
	json_object_object_add(c, "thp", json_object_new_int64((int64_t)thp));
	json_object_object_add(o, "census", c);
	/* the migratetype of each of its pageblocks: isolated ones mean an
	 * offlining attempt is under way or never finished */
	struct json_object *pb = json_object_new_object();
	char type[24];
	uint64_t per = 0;
	for (uint64_t pfn = pfn0; pfn < pfn0 + ppb; pfn += per ? per : ppb) {
		if (kpage_pageblock(pfn, type, sizeof(type), &per) < 0)
			break;
		struct json_object *n;
		int64_t was = json_object_object_get_ex(pb, type, &n) ? json_object_get_int64(n) : 0;
		json_object_object_add(pb, type, json_object_new_int64(was + 1));
	}
	if (json_object_object_length(pb))
		json_object_object_add(o, "pageblocks", pb);
	else
		json_object_put(pb);

	/* isolation failures whose first busy PFN lies in this block */
	struct json_object *busy = json_object_new_array();
	uint64_t nfail = 0, seen[4];
	size_t nseen = 0;
	for (size_t i = 0; i < ev->nfails; i++) {
		uint64_t fin = ev->fails[i].fin_pfn;
		if (fin < pfn0 || fin >= pfn0 + ppb)
			continue;
		nfail++;
		bool dup = false;
		for (size_t k = 0; k < nseen; k++)
			dup |= seen[k] == fin;
		if (!dup && nseen < 4) {
			seen[nseen++] = fin;
			json_object_array_add(busy, page_json(fin, own, nown, pops));
		}
	}
	json_object_object_add(o, "isolation_failures", json_object_new_int64((int64_t)nfail));
	/* start_isolate_page_range() refused a range overlapping it (our kprobes) */
	const struct isolate_refusal *ref;
	uint64_t nref = ev->probe_ok ? evidence_isolation_refusals(ev, pfn0, ppb, &ref) : 0;
	if (ev->probe_ok)
		json_object_object_add(o, "isolation_refusals", json_object_new_int64((int64_t)nref));
	if (nref) {
		json_object_object_add(o, "isolation_refusal_error", json_object_new_int(ref->err));
		json_object_object_add(o, "isolation_refusal_caller", json_object_new_string(ref->caller));
	}
	json_object_object_add(o, "busy", busy);
	/* Isolation itself can refuse a block before anything is traced
	 * (has_unmovable_pages()): then look for the page it would name, an
	 * in-use page that is neither on the LRU nor movable_ops. */
	if (nfail == 0 && !kpage_unavailable()) {
		struct json_object *um = json_object_new_array();
		for (uint64_t i = 0; i < ppb && json_object_array_length(um) < 1; i++) {
			uint64_t f = flags[i];
			struct kpage k;
			struct err ke;
			if (f & ((1ull << KPF_BUDDY) | (1ull << KPF_LRU) | (1ull << KPF_OFFLINE) | (1ull << KPF_NOPAGE) |
				 (1ull << KPF_COMPOUND_TAIL)))
				continue;
			if (kpage_read(pfn0 + i, &k, &ke) == 0 && k.refcount > 0 && !k.lru &&
			    strcmp(k.mapping, "movable_ops") != 0)
				json_object_array_add(um, page_json(pfn0 + i, own, nown, pops));
		}
		json_object_object_add(o, "unmovable", um);
	}
	struct json_object *dumped = json_object_new_array();
	size_t ndump = 0;
	for (size_t i = 0; i < ev->ndumps && ndump < 4; i++) {
		const struct dumped_page *d = &ev->dumps[i];
		if (d->pfn < pfn0 || d->pfn >= pfn0 + ppb)
			continue;
		struct json_object *j = json_object_new_object(), *w;
		json_object_object_add(j, "pfn", json_object_new_int64((int64_t)d->pfn));
		json_object_object_add(j, "refcount", json_object_new_int64(d->refcount));
		json_object_object_add(j, "mapcount", json_object_new_int64(d->mapcount));
		json_object_object_add(j, "reason", json_object_new_string(d->reason));
		if ((w = owner_json(owner_of(own, nown, d->pfn), pops)))
			json_object_object_add(j, "owner", w);
		add_counters(j, d->pfn);
		json_object_array_add(dumped, j);
		ndump++;
	}
	json_object_object_add(o, "dumped", dumped);
	return o;
}

static struct json_object *stuck_blocks(const struct region *r, const char *map, const struct evidence *ev,
					struct population *pops, int npops, struct json_object **worker, struct err *e)
{
	size_t nown;
	struct owner *own = owners_build(pops, npops, &nown);
	uint64_t *flags = malloc(r->block_size / PAGE_SIZE_4K * sizeof(*flags));
	if (!own || !flags) {
		free(own);
		free(flags);
		err_set(e, "out of memory");
		return NULL;
	}
	struct json_object *arr = json_object_new_array();
	kpage_begin();
	bool untried = false;
	for (uint64_t b = 0; b < r->nblocks; b++) {
		if (map[b] != VMS_BLOCK_PLUGGED_C)
			continue;
		struct json_object *o = stuck_block(r, b, ev, own, nown, pops, flags, e), *n;
		if (!o) {
			json_object_put(arr);
			arr = NULL;
			break;
		}
		struct json_object *nr;
		untried |= json_object_object_get_ex(o, "isolation_failures", &n) && json_object_get_int64(n) == 0 &&
			   !(json_object_object_get_ex(o, "isolation_refusals", &nr) && json_object_get_int64(nr) > 0);
		json_object_array_add(arr, o);
	}
	/* blocks the kernel did not even try: where is the driver's worker? */
	char stack[400];
	if (arr && untried && ev->trace_ok && evidence_worker_stack(stack, sizeof(stack)) == 0)
		*worker = json_object_new_string(stack);
	free(own);
	free(flags);
	return arr;
}

struct json_object *state_build(const char *step, const struct region *r, struct population *pops,
				int npops, struct evidence *ev, bool attribute, size_t stride, struct err *e)
{
	uint64_t t0 = now_ms(), t_locate = 0, t_verify = 0, t;
	struct json_object *msg = json_object_new_object(), *popsj = json_object_new_array();
	json_object_object_add(msg, "type", json_object_new_string("state"));
	json_object_object_add(msg, "step", json_object_new_string(step));

	for (int p = 0; p < npops; p++) {
		struct pop_stats s;
		t = now_ms();
		if (pop_locate(&pops[p], e) < 0)
			goto fail;
		t_locate += now_ms() - t;
		t = now_ms();
		if (pop_verify(&pops[p], &s, stride, e) < 0)
			goto fail;
		t_verify += now_ms() - t;
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "name", json_object_new_string(pops[p].name));
		json_object_object_add(o, "type", json_object_new_string(pops[p].type->spec->name));
		json_object_object_add(o, "pages", json_object_new_int64((int64_t)s.pages));
		json_object_object_add(o, "in_region", json_object_new_int64((int64_t)in_region(r, &pops[p])));
		json_object_object_add(o, "absent", json_object_new_int64((int64_t)s.absent));
		json_object_object_add(o, "moved", json_object_new_int64((int64_t)s.moved));
		json_object_object_add(o, "checked", json_object_new_int64((int64_t)s.checked));
		json_object_object_add(o, "verified", json_object_new_int64((int64_t)s.verified));
		json_object_object_add(o, "corrupted", json_object_new_int64((int64_t)s.corrupted));
		json_object_object_add(o, "discarded", json_object_new_int64((int64_t)s.discarded));
		if (pops[p].wants_thp)
			json_object_object_add(o, "thp_pages", json_object_new_int64((int64_t)s.thp_pages));
		if (s.first_bad_page >= 0) {
			struct json_object *bad = json_object_new_object();
			json_object_object_add(bad, "mapping", json_object_new_string(s.first_bad_role));
			json_object_object_add(bad, "page", json_object_new_int64(s.first_bad_page));
			json_object_object_add(o, "first_corrupted", bad);
		}
		json_object_object_add(o, "released", json_object_new_boolean(pops[p].released));
		json_object_object_add(o, "has_release", json_object_new_boolean(pops[p].type->release != NULL));
		if (pops[p].hold.kind) {
			struct json_object *h = json_object_new_object();
			json_object_object_add(h, "kind", json_object_new_string(pops[p].hold.kind));
			json_object_object_add(h, "refs", json_object_new_int64(pops[p].hold.refs));
			json_object_object_add(o, "hold", h);
		}
		if (pops[p].dropped[0])
			json_object_object_add(o, "dropped", json_object_new_string(pops[p].dropped));
		if (pops[p].note[0])
			json_object_object_add(o, "note", json_object_new_string(pops[p].note));
		if (pops[p].not_shown[0])
			json_object_object_add(o, "not_shown", json_object_new_string(pops[p].not_shown));
		json_object_array_add(popsj, o);
	}
	json_object_object_add(msg, "populations", popsj);

	uint64_t t_map = now_ms();
	char *map = malloc(r->nblocks + 1);
	if (!map) {
		err_set(e, "out of memory");
		goto fail;
	}
	if (region_block_map(r, map, e) < 0) {
		free(map);
		goto fail;
	}
	json_object_object_add(msg, "map", json_object_new_string(map));
	t_map = now_ms() - t_map;
	uint64_t t_evidence = now_ms();
	evidence_collect(ev);
	json_object_object_add(msg, "evidence", evidence_summary(ev));
	if (attribute) {
		struct json_object *worker = NULL;
		struct json_object *stuck = stuck_blocks(r, map, ev, pops, npops, &worker, e);
		if (!stuck) {
			free(map);
			goto fail;
		}
		json_object_object_add(msg, "stuck", stuck);
		if (worker)
			json_object_object_add(msg, "worker_stack", worker);
		const char *why = kpage_unavailable();
		json_object_object_add(msg, "counters",
				       json_object_new_string(why ? why : "measured"));
	}
	free(map);
	t_evidence = now_ms() - t_evidence;
	json_object_object_add(msg, "memory_blocks", region_memory_blocks(r));
	struct json_object *held = region_held_blocks(r, pops, npops, e);
	if (!held)
		goto fail;
	json_object_object_add(msg, "held", held);
	json_object_object_add(msg, "elapsed_ms", json_object_new_int64((int64_t)(now_ms() - t0)));
	/* where the guest's time went, for make bench */
	struct json_object *tm = json_object_new_object();
	json_object_object_add(tm, "locate", json_object_new_int64((int64_t)t_locate));
	json_object_object_add(tm, "verify", json_object_new_int64((int64_t)t_verify));
	json_object_object_add(tm, "map", json_object_new_int64((int64_t)t_map));
	json_object_object_add(tm, "evidence", json_object_new_int64((int64_t)t_evidence));
	json_object_object_add(msg, "timing_ms", tm);
	/* the guest program's own peak memory: it must stay flat as regions grow */
	char status[4096];
	const char *hwm;
	if (read_small_file("/proc/self/status", status, sizeof(status)) > 0 && (hwm = strstr(status, "VmHWM:")))
		json_object_object_add(msg, "guest_rss_kb", json_object_new_int64(strtoll(hwm + 6, NULL, 10)));
	evidence_reset(ev);  /* the next answer covers what happens from now on */
	return msg;
fail:
	json_object_put(msg);
	return NULL;
}
