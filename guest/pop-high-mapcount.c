/* high-mapcount: memfd pages each mapped `maps` times (default 1100, more
 * than 1024) with MAP_SHARED. refcount - mapcount stays small, so 6.1 must
 * migrate them: a negative control. Checks proposed with
 * folio_maybe_dma_pinned() (refcount >= 1024 looks pinned) would be fooled.
 * Release unmaps all but one mapping of each page. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "population.h"

const struct population_spec pop_spec_high_mapcount = {
	.name = "high-mapcount",
	.summary = "memfd pages each mapped more than 1024 times: a control that must not block",
	.needs = VMS_NEEDS(MEMFD),
	.holds = "nothing beyond its mappings; release unmaps all but one mapping of each page",
	.options = {
		{ "maps", "mappings of each page (more than 1024 makes refcount look pinned)", "1100", { NULL }, 2, 60000 },
	},
};

#ifndef VMS_SPEC_ONLY

struct hmc {
	int fd;
	char **maps;
	size_t nmaps, len;
};

static int hmc_setup(struct population *p, const struct pop_env *env, struct err *e)
{
	size_t npages = (p->size + PAGE_SIZE_4K - 1) / PAGE_SIZE_4K, len = npages * PAGE_SIZE_4K;
	long maps = strtol(pop_option(p, "maps"), NULL, 10);  /* checked against the spec */
	struct hmc *st = calloc(1, sizeof(*st));
	if (!st)
		return err_set(e, "out of memory");
	p->priv = st;
	st->len = len;
	st->fd = memfd_create("vmemstress-high-mapcount", MFD_CLOEXEC);
	if (st->fd < 0)
		return err_sys(e, "memfd_create");
	if (ftruncate(st->fd, (off_t)len) < 0)
		return err_sys(e, "ftruncate memfd to %zu", len);
	st->maps = calloc((size_t)maps, sizeof(*st->maps));
	if (!st->maps)
		return err_set(e, "out of memory");
	for (long i = 0; i < maps; i++) {
		char *a = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, st->fd, 0);
		if (a == MAP_FAILED)
			return err_sys(e, "mapping %ld of %ld", i + 1, maps);
		st->maps[st->nmaps++] = a;
		if (i == 0) {
			/* a shmem object takes the policy of the VMA that binds it */
			if (pop_bind(a, len, env, e) < 0)
				return -1;
			struct mapping *m = pop_track(p, 0, a, npages, 0, "first", e);
			if (!m)
				return -1;
			pop_stamp(p, m, 1);
		}
		/* fault every page in, so each mapping adds to its mapcount */
		if (madvise(a, len, MADV_POPULATE_WRITE) < 0)
			for (size_t k = 0; k < len; k += PAGE_SIZE_4K)
				(void)*(volatile char *)(a + k);
	}
	snprintf(p->note, sizeof(p->note), "each page mapped %zu times", st->nmaps);
	return 0;
}

/* Unmap all but the first (tracked) mapping: the pages keep one mapping
 * and their data, and their mapcount falls back to 1. */
static int hmc_release(struct population *p, struct err *e)
{
	struct hmc *st = p->priv;
	if (!st || st->nmaps < 2)
		return 0;
	size_t had = st->nmaps;
	for (size_t i = 1; i < st->nmaps; i++)
		if (munmap(st->maps[i], st->len) < 0)
			return err_sys(e, "munmap mapping %zu of %zu", i + 1, st->nmaps);
	st->nmaps = 1;
	pop_dropped(p, "unmapped %zu of the %zu mappings of every page", had - 1, had);
	return 0;
}

static void hmc_teardown(struct population *p)
{
	struct hmc *st = p->priv;
	if (!st)
		return;
	for (size_t i = 0; i < st->nmaps; i++)
		munmap(st->maps[i], st->len);
	free(st->maps);
	if (st->fd >= 0)
		close(st->fd);
	free(st);
	p->priv = NULL;
}

const struct population_type pop_high_mapcount = {
	.spec = &pop_spec_high_mapcount,
	.setup = hmc_setup,
	.release = hmc_release,
	.teardown = hmc_teardown,
};
#endif /* VMS_SPEC_ONLY */
