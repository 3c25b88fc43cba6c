/* hugetlb: 2 MiB hugetlbfs pages of one shared file, in the region. The
 * population reserves the huge pages itself on the region's node (that
 * node's nr_hugepages: 2 MiB hugetlb pages are allocated movable on x86,
 * so they can sit in ZONE_MOVABLE), mounts hugetlbfs on a directory of its
 * own and maps the file MAP_SHARED. `alloc` says who allocates the pages:
 *
 *   fault      the write faults on the mapping (hugetlb_no_page() marks the
 *              pages it allocates migratable);
 *   fallocate  fallocate() on the file before it is mapped; the mapping
 *              and its writes then find them in the page cache. Without
 *              upstream 585fc0d2871c (v5.11: hugetlbfs_fallocate() marks
 *              its pages migratable, SetHPageMigratable() today) such a
 *              page is never isolated for migration: alloc_contig_range()
 *              and offlining fail on its range for as long as it lives
 *              (known-bugs.ini, hugetlb-fallocate-unmigratable).
 *
 * Either way the pages must migrate: the population holds nothing beyond
 * its mapping and hugetlbfs's page cache. Every 4 KiB page is stamped and
 * verified like the others' (pagemap gives each subpage's frame). Release
 * unmaps, closes and unlinks the file and gives the huge pages back to the
 * kernel (nr_hugepages lowered by what setup added). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "population.h"

const struct population_spec pop_spec_hugetlb = {
	.name = "hugetlb",
	.summary = "2 MiB hugetlbfs pages of a shared file, allocated by the write fault or by fallocate()",
	.needs = VMS_NEEDS(HUGETLBFS),
	.holds = "nothing beyond its mapping and the page cache; release unmaps, closes and unlinks the file "
		 "and gives the huge pages back",
	.options = {
		{ "alloc", "who allocates the huge pages: the write fault on the shared mapping, or fallocate() "
			   "on the file before it is mapped", "fault", { "fault", "fallocate", NULL } },
	},
};

#ifndef VMS_SPEC_ONLY
#include "util.h"

#define MOUNTPOINT "/run/vmemstress-hugetlbfs"
#define HUGE_SIZE (2u << 20)
#define GLOBAL_NR "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"

struct ht {
	int fd;
	char *map;
	size_t len;
	char path[128];
	long added;            /* huge pages setup added to the pool; 0 once given back */
};

static long read_long(const char *path)
{
	char buf[32];
	if (read_small_file(path, buf, sizeof(buf)) < 0)
		return -1;
	return strtol(buf, NULL, 10);
}

static int write_long(const char *path, long v)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%ld", v);
	return write_small_file(path, buf);
}

/* Add n huge pages to the pool of the region's node (or of the system
 * when there is no such node) and check that the kernel found them. */
static int reserve(struct ht *st, int node, long n, struct err *e)
{
	char path[160];
	if (node >= 0)
		snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/hugepages/hugepages-2048kB/nr_hugepages",
			 node);
	else
		snprintf(path, sizeof(path), GLOBAL_NR);
	long before = read_long(path);
	if (before < 0)
		return err_sys(e, "read %s", path);
	if (write_long(path, before + n) < 0 && errno != ENOMEM)
		return err_sys(e, "write %ld to %s", before + n, path);
	long after = read_long(path);
	if (after > before)
		st->added = after - before;
	if (after < before + n)
		return err_set(e, "node %d gave %ld of the %ld huge pages asked for (%s: %ld)", node,
			       after < before ? 0 : after - before, n, path, after);
	return 0;
}

/* Lower the pool by what setup added: the system-wide count, as pages
 * that migrated may now be on another node. Only free huge pages go. */
static void give_back(struct ht *st)
{
	if (st->added <= 0)
		return;
	long now = read_long(GLOBAL_NR);
	if (now >= 0)
		write_long(GLOBAL_NR, now > st->added ? now - st->added : 0);
	st->added = 0;
}

static int hugetlb_setup(struct population *p, const struct pop_env *env, struct err *e)
{
	bool by_fallocate = strcmp(pop_option(p, "alloc"), "fallocate") == 0;
	size_t huge = (p->size + HUGE_SIZE - 1) / HUGE_SIZE, len = huge * HUGE_SIZE, npages = len / PAGE_SIZE_4K;
	mkdir("/run", 0755);
	mkdir(MOUNTPOINT, 0755);
	if (mount("hugetlbfs", MOUNTPOINT, "hugetlbfs", MS_NOSUID | MS_NODEV, "pagesize=2M,mode=0700") < 0 &&
	    errno != EBUSY)
		return err_sys(e, "mount hugetlbfs on %s", MOUNTPOINT);
	struct ht *st = calloc(1, sizeof(*st));
	if (!st)
		return err_set(e, "out of memory");
	st->fd = -1;
	p->priv = st;
	st->len = len;
	if (reserve(st, env->node, (long)huge, e) < 0)
		return -1;
	snprintf(st->path, sizeof(st->path), MOUNTPOINT "/%s", p->name);
	st->fd = open(st->path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (st->fd < 0)
		return err_sys(e, "create %s", st->path);
	/* the file has no policy of its own: fallocate() and the faults
	 * allocate by this task's (pseudo-VMA and VMA without one) */
	if (pop_task_bind(env, e) < 0)
		return -1;
	int rc = 0;
	if (by_fallocate) {
		if (fallocate(st->fd, 0, 0, (off_t)len) < 0)
			rc = err_sys(e, "fallocate %zu bytes of %s", len, st->path);
	} else if (ftruncate(st->fd, (off_t)len) < 0) {
		rc = err_sys(e, "ftruncate %s to %zu", st->path, len);
	}
	if (rc == 0) {
		st->map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, st->fd, 0);
		if (st->map == MAP_FAILED) {
			st->map = NULL;
			rc = err_sys(e, "mmap %zu bytes of %s (huge pages free: %ld)", len, st->path, read_long(GLOBAL_NR));
		}
	}
	struct mapping *m = NULL;
	if (rc == 0 && (m = pop_track(p, 0, st->map, npages, 0, "file", e)))
		pop_stamp(p, m, 1);  /* fault: allocates each huge page; fallocate: finds it */
	pop_task_unbind(env);
	if (rc < 0 || !m)
		return -1;
	snprintf(p->note, sizeof(p->note), "%zu huge pages of 2 MiB reserved on node %d, allocated by %s", huge,
		 env->node, by_fallocate ? "fallocate() before mapping" : "the write faults on the shared mapping");
	return 0;
}

static int hugetlb_release(struct population *p, struct err *e)
{
	(void)e;
	struct ht *st = p->priv;
	if (!st || (!st->map && st->fd < 0))
		return 0;
	if (st->map) {
		if (p->nmaps > 0)
			pop_untrack(p, &p->maps[0]);
		munmap(st->map, st->len);
		st->map = NULL;
	}
	if (st->fd >= 0) {
		close(st->fd);
		st->fd = -1;
	}
	unlink(st->path);
	long had = st->added;
	give_back(st);
	pop_dropped(p, "unmapped, closed and unlinked the hugetlbfs file; gave its %ld huge pages back", had);
	return 0;
}

static void hugetlb_teardown(struct population *p)
{
	struct err e;
	struct ht *st = p->priv;
	if (!st)
		return;
	hugetlb_release(p, &e);
	give_back(st);  /* a setup that failed half-way */
	free(st);
	p->priv = NULL;
}

const struct population_type pop_hugetlb = {
	.spec = &pop_spec_hugetlb,
	.setup = hugetlb_setup,
	.release = hugetlb_release,
	.teardown = hugetlb_teardown,
};
#endif /* VMS_SPEC_ONLY */
