#define _GNU_SOURCE
#include "region.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/protocol.h"
#include "pageinfo.h"
#include "population.h"

int region_init(struct region *r, uint64_t addr, uint64_t size, uint64_t block_size, int node,
		struct err *e)
{
	char buf[64];
	if (block_size < PAGE_SIZE_4K || (block_size & (block_size - 1)))
		return err_set(e, "region block size %" PRIu64 " is not a power of two >= 4096", block_size);
	if (size == 0 || size % block_size || addr % block_size)
		return err_set(e, "region %#" PRIx64 "+%#" PRIx64 " is not aligned to its block size %#" PRIx64,
			       addr, size, block_size);
	if (read_small_file("/sys/devices/system/memory/block_size_bytes", buf, sizeof(buf)) < 0)
		return err_sys(e, "read /sys/devices/system/memory/block_size_bytes");
	*r = (struct region){ .addr = addr, .size = size, .block_size = block_size, .node = node,
			      .nblocks = size / block_size,
			      .memory_block_size = strtoull(buf, NULL, 16) };
	if (r->memory_block_size == 0)
		return err_set(e, "bad memory block size '%s'", buf);
	return 0;
}

int region_block_map(const struct region *r, char *map, struct err *e)
{
	uint64_t ppb = r->block_size / PAGE_SIZE_4K;
	uint64_t *flags = malloc(ppb * sizeof(*flags));
	if (!flags)
		return err_set(e, "out of memory");
	const uint64_t gone = (1ull << KPF_OFFLINE) | (1ull << KPF_NOPAGE);
	for (uint64_t b = 0; b < r->nblocks; b++) {
		uint64_t pfn = (r->addr + b * r->block_size) / PAGE_SIZE_4K;
		if (kpageflags_read(pfn, ppb, flags, e) < 0) {
			free(flags);
			return -1;
		}
		char state = VMS_BLOCK_UNPLUGGED_C;
		for (uint64_t i = 0; i < ppb; i++)
			if (!(flags[i] & gone)) {
				state = VMS_BLOCK_PLUGGED_C;
				break;
			}
		map[b] = state;
	}
	map[r->nblocks] = 0;
	free(flags);
	return 0;
}

struct json_object *region_memory_blocks(const struct region *r)
{
	struct json_object *arr = json_object_new_array();
	uint64_t first = r->addr / r->memory_block_size;
	uint64_t last = (r->addr + r->size - 1) / r->memory_block_size;
	for (uint64_t mb = first; mb <= last; mb++) {
		char path[128], state[32], zones[128];
		snprintf(path, sizeof(path), "/sys/devices/system/memory/memory%" PRIu64 "/state", mb);
		if (read_small_file(path, state, sizeof(state)) < 0)
			continue;  /* removed, or never added */
		snprintf(path, sizeof(path), "/sys/devices/system/memory/memory%" PRIu64 "/valid_zones", mb);
		if (read_small_file(path, zones, sizeof(zones)) < 0)
			zones[0] = 0;
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "index", json_object_new_int64((int64_t)mb));
		json_object_object_add(o, "state", json_object_new_string(state));
		/* For an online block valid_zones names the zone it is in. */
		json_object_object_add(o, "zone", json_object_new_string(zones));
		json_object_array_add(arr, o);
	}
	return arr;
}

uint64_t region_node_free(const struct region *r)
{
	char path[96], buf[4096];
	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/meminfo", r->node);
	if (read_small_file(path, buf, sizeof(buf)) < 0)
		return 0;
	const char *p = strstr(buf, "MemFree:");
	return p ? strtoull(p + 8, NULL, 10) * 1024 : 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

struct json_object *region_held_blocks(const struct region *r, const struct population *pops, int npops,
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
