/* pagecache: file pages of a tmpfs file in the region, written with
 * write() (the task's memory policy places them) and half of them
 * redirtied through a shared mapping, which is also how we track and
 * verify them. They must migrate. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "population.h"

const struct population_spec pop_spec_pagecache = {
	.name = "pagecache",
	.summary = "tmpfs file pages, written with write() and redirtied through a mapping",
	.needs = VMS_NEEDS(TMPFS),
};

#ifndef VMS_SPEC_ONLY
#include "stamp.h"

#define MOUNTPOINT "/run/vmemstress-tmpfs"

struct pc {
	int fd;
	char *map;
	size_t len;
};

static int pagecache_setup(struct population *p, const struct pop_env *env, struct err *e)
{
	size_t npages = (p->size + PAGE_SIZE_4K - 1) / PAGE_SIZE_4K, len = npages * PAGE_SIZE_4K;
	mkdir("/run", 0755);
	mkdir(MOUNTPOINT, 0755);
	if (mount("tmpfs", MOUNTPOINT, "tmpfs", MS_NOSUID | MS_NODEV, "huge=never") < 0 && errno != EBUSY)
		return err_sys(e, "mount tmpfs on %s", MOUNTPOINT);
	struct pc *st = calloc(1, sizeof(*st));
	if (!st)
		return err_set(e, "out of memory");
	p->priv = st;
	st->len = len;
	char path[128];
	snprintf(path, sizeof(path), MOUNTPOINT "/%s", p->name);
	st->fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (st->fd < 0)
		return err_sys(e, "create %s", path);
	/* write() allocates the page cache under the task's policy */
	if (pop_task_bind(env, e) < 0)
		return -1;
	static char page[PAGE_SIZE_4K];
	int rc = 0;
	for (size_t i = 0; i < npages && rc == 0; i++) {
		stamp_fill(page, (struct stamp_key){ .pop = p->id, .gen = 1, .page = i });
		if (pwrite(st->fd, page, PAGE_SIZE_4K, (off_t)(i * PAGE_SIZE_4K)) != PAGE_SIZE_4K)
			rc = err_sys(e, "write %s page %zu", path, i);
	}
	pop_task_unbind(env);
	if (rc < 0)
		return -1;
	st->map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, st->fd, 0);
	if (st->map == MAP_FAILED) {
		st->map = NULL;
		return err_sys(e, "mmap %s", path);
	}
	struct mapping *m = pop_track(p, 0, st->map, npages, 0, "file", e);
	if (!m)
		return -1;
	for (size_t i = 0; i < npages; i++)
		m->gen[i] = 1;
	/* redirty every other page through the mapping with a new generation */
	for (size_t i = 0; i < npages; i += 2) {
		m->gen[i] = 2;
		stamp_fill(st->map + i * PAGE_SIZE_4K, pop_key(p, m, i));
	}
	return 0;
}

static void pagecache_teardown(struct population *p)
{
	struct pc *st = p->priv;
	if (!st)
		return;
	if (st->map)
		munmap(st->map, st->len);
	if (st->fd >= 0)
		close(st->fd);
	free(st);
	p->priv = NULL;
}

const struct population_type pop_pagecache = {
	.spec = &pop_spec_pagecache,
	.setup = pagecache_setup,
	.teardown = pagecache_teardown,
};
#endif /* VMS_SPEC_ONLY */
