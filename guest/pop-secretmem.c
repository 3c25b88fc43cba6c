/* secretmem: memfd_secret() pages. They are allocated without
 * __GFP_MOVABLE and removed from the direct map; migration returns -EBUSY,
 * so they can never go into ZONE_MOVABLE and block unplug of a kernel-zone
 * region until freed. 6.1 needs secretmem.enable=1 on the command line.
 * Release unmaps and closes them (their data goes with them). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "population.h"

#ifndef SYS_memfd_secret
#define SYS_memfd_secret 447
#endif

struct sm {
	int fd;
	char *addr;
	size_t len;
};

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
	struct mapping *m = pop_track(p, 0, st->addr, npages, 0, "self", e);
	if (m)
		pop_stamp(p, m, 1);
	pop_task_unbind(env);
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
	.name = "secretmem",
	.setup = secretmem_setup,
	.release = secretmem_release,
	.teardown = secretmem_teardown,
};
