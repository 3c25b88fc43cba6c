/* lazyfree: anonymous pages given back with MADV_FREE, half of them
 * written again afterwards. The kernel may discard a clean lazy-free page
 * instead of migrating it (alloc_contig_range does): such a page reads as
 * zeros, which is legal; a redirtied page must keep its data. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/mman.h>

#include "population.h"

const struct population_spec pop_spec_lazyfree = {
	.name = "lazyfree",
	.summary = "MADV_FREE pages, half redirtied: clean ones may be discarded (zeros legal), "
		   "dirty ones not",
	.needs = VMS_NEEDS(MADVISE),
};

#ifndef VMS_SPEC_ONLY
#include "stamp.h"

static int lazyfree_setup(struct population *p, const struct pop_env *env, struct err *e)
{
	struct mapping *m = pop_base_pages(p, env, e);
	if (!m)
		return -1;
	char *addr = (char *)m->addr;
	size_t npages = m->npages, len = npages * PAGE_SIZE_4K;
	if (madvise(addr, len, MADV_FREE) < 0)
		return err_sys(e, "madvise(MADV_FREE) on %zu bytes", len);
	m->may_zero = calloc(npages, 1);
	if (!m->may_zero)
		return err_set(e, "out of memory");
	/* odd pages stay clean (may become zero); even pages are redirtied
	 * with a new generation and must keep it */
	for (size_t i = 0; i < npages; i++) {
		if (i % 2) {
			m->may_zero[i] = 1;
			continue;
		}
		m->gen[i] = 2;
		stamp_fill(addr + i * PAGE_SIZE_4K, pop_key(p, m, i));
	}
	return 0;
}

const struct population_type pop_lazyfree = {
	.spec = &pop_spec_lazyfree,
	.setup = lazyfree_setup,
};
#endif /* VMS_SPEC_ONLY */
