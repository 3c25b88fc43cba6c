/* anon: plain anonymous base pages in the region. The baseline: they must
 * always migrate away. */
#define _GNU_SOURCE
#include <sys/mman.h>

#include "population.h"

static int anon_setup(struct population *p, const struct pop_env *env, struct err *e)
{
	size_t npages = (p->size + PAGE_SIZE_4K - 1) / PAGE_SIZE_4K;
	void *addr = pop_alloc(npages * PAGE_SIZE_4K, PAGE_SIZE_4K, env, e);
	if (!addr)
		return -1;
	/* base pages only: THPs are another population's business */
	madvise(addr, npages * PAGE_SIZE_4K, MADV_NOHUGEPAGE);
	struct mapping *m = pop_track(p, 0, addr, npages, 0, "self", e);
	if (!m)
		return -1;
	pop_stamp(p, m, 1);
	return 0;
}

const struct population_type pop_anon = {
	.name = "anon",
	.setup = anon_setup,
};
