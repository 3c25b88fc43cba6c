#define _GNU_SOURCE
#include "state.h"

#include <stdlib.h>
#include <string.h>

#include "pageinfo.h"

/* (pfn << 8 | population) pairs, sorted and deduplicated, so a frame shared
 * by a CoW parent and child counts once. */
static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static struct json_object *held_blocks(const struct region *r, struct population *pops, int npops,
				       struct err *e)
{
	size_t total = 0;
	for (int p = 0; p < npops; p++)
		for (int m = 0; m < pops[p].nmaps; m++)
			total += pops[p].maps[m].npages;
	uint64_t *keys = malloc((total ? total : 1) * sizeof(*keys));
	if (!keys) {
		err_set(e, "out of memory");
		return NULL;
	}
	size_t n = 0;
	uint64_t first_pfn = r->addr / PAGE_SIZE_4K, end_pfn = (r->addr + r->size) / PAGE_SIZE_4K;
	for (int p = 0; p < npops; p++)
		for (int m = 0; m < pops[p].nmaps; m++)
			for (size_t i = 0; i < pops[p].maps[m].npages; i++) {
				uint64_t pfn = pops[p].maps[m].pfn_now[i];
				if (pfn != PFN_NONE && pfn >= first_pfn && pfn < end_pfn)
					keys[n++] = pfn << 8 | (uint64_t)p;
			}
	qsort(keys, n, sizeof(*keys), cmp_u64);

	struct json_object *arr = json_object_new_array();
	uint64_t ppb = r->block_size / PAGE_SIZE_4K;
	size_t i = 0;
	while (i < n) {
		uint64_t block = ((keys[i] >> 8) - first_pfn) / ppb;
		uint64_t counts[VMS_MAX_POPULATIONS] = { 0 };
		uint64_t prev = UINT64_MAX;
		for (; i < n && ((keys[i] >> 8) - first_pfn) / ppb == block; i++) {
			if (keys[i] != prev)
				counts[keys[i] & 0xff]++;
			prev = keys[i];
		}
		struct json_object *o = json_object_new_object(), *pages = json_object_new_object();
		json_object_object_add(o, "block", json_object_new_int64((int64_t)block));
		for (int p = 0; p < npops; p++)
			if (counts[p])
				json_object_object_add(pages, pops[p].name, json_object_new_int64((int64_t)counts[p]));
		json_object_object_add(o, "pages", pages);
		json_object_array_add(arr, o);
	}
	free(keys);
	return arr;
}

static uint64_t in_region(const struct region *r, const struct population *p)
{
	uint64_t first_pfn = r->addr / PAGE_SIZE_4K, end_pfn = (r->addr + r->size) / PAGE_SIZE_4K, n = 0;
	for (int m = 0; m < p->nmaps; m++)
		for (size_t i = 0; i < p->maps[m].npages; i++)
			if (p->maps[m].pfn_now[i] >= first_pfn && p->maps[m].pfn_now[i] < end_pfn)
				n++;
	return n;
}

struct json_object *state_build(const char *step, const struct region *r, struct population *pops,
				int npops, bool first, struct err *e)
{
	uint64_t t0 = now_ms();
	struct json_object *msg = json_object_new_object(), *popsj = json_object_new_array();
	json_object_object_add(msg, "type", json_object_new_string("state"));
	json_object_object_add(msg, "step", json_object_new_string(step));

	for (int p = 0; p < npops; p++) {
		struct pop_stats s;
		if (pop_locate(&pops[p], first, e) < 0 || pop_verify(&pops[p], &s, e) < 0)
			goto fail;
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "name", json_object_new_string(pops[p].name));
		json_object_object_add(o, "type", json_object_new_string(pops[p].type->name));
		json_object_object_add(o, "pages", json_object_new_int64((int64_t)s.pages));
		json_object_object_add(o, "in_region", json_object_new_int64((int64_t)in_region(r, &pops[p])));
		json_object_object_add(o, "absent", json_object_new_int64((int64_t)s.absent));
		json_object_object_add(o, "moved", json_object_new_int64((int64_t)s.moved));
		json_object_object_add(o, "verified", json_object_new_int64((int64_t)s.verified));
		json_object_object_add(o, "corrupted", json_object_new_int64((int64_t)s.corrupted));
		if (pops[p].wants_thp)
			json_object_object_add(o, "thp_pages", json_object_new_int64((int64_t)s.thp_pages));
		if (s.first_bad_page >= 0) {
			struct json_object *bad = json_object_new_object();
			json_object_object_add(bad, "mapping", json_object_new_string(s.first_bad_role));
			json_object_object_add(bad, "page", json_object_new_int64(s.first_bad_page));
			json_object_object_add(o, "first_corrupted", bad);
		}
		if (pops[p].note[0])
			json_object_object_add(o, "note", json_object_new_string(pops[p].note));
		json_object_array_add(popsj, o);
	}
	json_object_object_add(msg, "populations", popsj);

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
	free(map);
	json_object_object_add(msg, "memory_blocks", region_memory_blocks(r));
	struct json_object *held = held_blocks(r, pops, npops, e);
	if (!held)
		goto fail;
	json_object_object_add(msg, "held", held);
	json_object_object_add(msg, "elapsed_ms", json_object_new_int64((int64_t)(now_ms() - t0)));
	return msg;
fail:
	json_object_put(msg);
	return NULL;
}
