/* secretmem: memfd_secret() pages. They are allocated without
 * __GFP_MOVABLE and removed from the direct map; migration returns -EBUSY,
 * so they can never go into ZONE_MOVABLE and block unplug of a kernel-zone
 * region until freed. 6.1 needs secretmem.enable=1 on the command line.
 * Release unmaps and closes them (their data goes with them). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "population.h"

const struct population_spec pop_spec_secretmem = {
	.name = "secretmem",
	.summary = "memfd_secret pages (needs secretmem.enable=1 on 6.1): never movable; "
		   "zone=kernel only",
	.needs = VMS_NEEDS(SECRETMEM),
	.holds = "unmovable pages (no direct map); release unmaps and closes them",
};

#ifndef VMS_SPEC_ONLY

#ifndef SYS_memfd_secret
#define SYS_memfd_secret 447
#endif

struct sm {
	int fd;
	char *addr;
	size_t len;
};

/* x86 counts how often the kernel's direct map was split into smaller
 * pages; each split allocates a page-table page (-1: not counted). */
static long long direct_map_splits(void)
{
	char buf[16384];
	if (read_small_file("/proc/vmstat", buf, sizeof(buf)) < 0)
		return -1;
	long long n = -1;
	for (const char *k = buf; (k = strstr(k, "direct_map_level")); k++) {
		const char *v = strchr(k, ' ');
		if (v)
			n = (n < 0 ? 0 : n) + strtoll(v + 1, NULL, 10);
	}
	return n;
}

static int secretmem_setup(struct population *p, const struct pop_env *env, struct err *e)
{
	size_t npages = (p->size + PAGE_SIZE_4K - 1) / PAGE_SIZE_4K, len = npages * PAGE_SIZE_4K;
	struct sm *st = calloc(1, sizeof(*st));
	if (!st)
		return err_set(e, "out of memory");
	p->priv = st;
	st->len = len;
	st->fd = (int)syscall(SYS_memfd_secret, 0);
	if (st->fd < 0)
		return errno == ENOSYS ? err_set(e, "memfd_secret is disabled (6.1 needs secretmem.enable=1)")
				       : err_sys(e, "memfd_secret");
	if (ftruncate(st->fd, (off_t)len) < 0)
		return err_sys(e, "ftruncate secretmem to %zu", len);
	st->addr = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, st->fd, 0);
	if (st->addr == MAP_FAILED) {
		st->addr = NULL;
		return err_sys(e, "mmap secretmem (%zu bytes; locked memory limit?)", len);
	}
	/* secretmem faults allocate by the task's policy, not the VMA's */
	if (pop_task_bind(env, e) < 0)
		return -1;
	long long splits = direct_map_splits();
	struct mapping *m = pop_track(p, 0, st->addr, npages, 0, "self", e);
	if (m)
		pop_stamp(p, m, 1);
	pop_task_unbind(env);
	/* secretmem removes its pages from the direct map, splitting it; the
	 * page tables of the split are allocated under our binding, on the
	 * region's node, and stay after release */
	long long after = direct_map_splits();
	if (splits >= 0 && after > splits)
		snprintf(p->note, sizeof(p->note),
			 "faulting it split the kernel's direct map %lld times (/proc/vmstat direct_map_level*_splits): "
			 "each split allocated a page-table page under the binding to the region's node",
			 after - splits);
	pop_hold(p, "unmovable", 0);  /* secretmem pages can never migrate */
	return m ? 0 : -1;
}

static int secretmem_release(struct population *p, struct err *e)
{
	struct sm *st = p->priv;
	if (st && st->addr) {
		pop_untrack(p, &p->maps[0]);
		munmap(st->addr, st->len);
		close(st->fd);
		st->addr = NULL;
		st->fd = -1;
		pop_dropped(p, "unmapped and closed the secretmem file");
	}
	return 0;
}

static void secretmem_teardown(struct population *p)
{
	struct err e;
	secretmem_release(p, &e);
	free(p->priv);
	p->priv = NULL;
}

const struct population_type pop_secretmem = {
	.spec = &pop_spec_secretmem,
	.setup = secretmem_setup,
	.release = secretmem_release,
	.teardown = secretmem_teardown,
};
#endif /* VMS_SPEC_ONLY */
