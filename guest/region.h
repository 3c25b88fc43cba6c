/* The virtio-mem region as the guest sees it: which device blocks are
 * plugged, which memory blocks exist and in which zone. */
#ifndef GUEST_REGION_H
#define GUEST_REGION_H

#include <json-c/json.h>
#include <stdint.h>
#include "util.h"

struct region {
	uint64_t addr, size, block_size;  /* from the host (QMP) */
	int node;
	uint64_t nblocks;
	uint64_t memory_block_size;       /* /sys/devices/system/memory */
};

int region_init(struct region *r, uint64_t addr, uint64_t size, uint64_t block_size, int node,
		struct err *e);
/* map[i] = 'P' or 'U' for each device block; map has nblocks + 1 bytes. A
 * block is unplugged when none of its pages is usable memory: every page
 * is PG_offline (fake-offlined by virtio-mem) or has no memmap (its memory
 * block was removed, or never added). */
int region_block_map(const struct region *r, char *map, struct err *e);
/* [{"index":N,"state":"online","zone":"Movable"}] for the memory blocks of
 * the region that exist. */
struct json_object *region_memory_blocks(const struct region *r);

struct population;
/* Which populations' pages sit in which block, from each page's last PFN:
 * [{"block":N,"pages":{"name":COUNT,...}},...] in block order, only the
 * blocks holding any (a frame two mappings share is counted once). */
struct json_object *region_held_blocks(const struct region *r, const struct population *pops, int npops,
				       struct err *e);
/* Bytes of free memory on the region's node, 0 if the node is gone. */
uint64_t region_node_free(const struct region *r);

#endif
