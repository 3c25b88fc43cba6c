/* thp-cow: PMD-mapped anonymous THPs, shared with a forked child that then
 * writes one 4 KiB subpage of each. The write splits the child's PMD and
 * copies one page: the THP stays PMD-mapped in the parent and becomes
 * PTE-mapped in the child (page_mapcount(head) 2, total_mapcount 512). On a
 * kernel with the THP mapcount bug (fixed by 829ae0f81ce0) such a THP looks
 * pinned to isolate_migratepages_block() and its block never unplugs.
 * Option cow=mprotect: no child; mprotect() of 4 KiB of each THP PTE-maps it
 * in this process instead. Release ends the child (the THPs become plain
 * PMD-mapped THPs again); for cow=mprotect it undoes the mprotect and
 * collapses each range back into a PMD-mapped THP (MADV_COLLAPSE, 6.1+),
 * which replaces the PTE-mapped THPs. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "population.h"

const struct population_spec pop_spec_thp_cow = {
	.name = "thp-cow",
	.summary = "THPs shared with a forked child that writes one subpage of each (PMD-mapped in "
		   "the parent, PTE-mapped in the child)",
	.needs = VMS_NEEDS(THP) | VMS_NEEDS(MADVISE),
	.holds = "nothing beyond its mappings; release ends the child (cow=fork) or undoes the "
		 "mprotect and collapses the THPs again (cow=mprotect)",
	.options = {
		{ "cow", "how each THP gets PTE-mapped: a forked child writes a subpage, or mprotect() of one subpage", "fork", { "fork", "mprotect", NULL }, 0, 0 },
	},
};

#ifndef VMS_SPEC_ONLY
#include "stamp.h"

struct thp_cow {
	pid_t child;
	int hold_fd;  /* the child lives until this pipe closes */
	bool mprotected;
};

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif

/* Which subpage of each THP the child writes: not the head, so the copy is
 * of a tail page. */
#define CHILD_SUBPAGE 1

static void child_main(struct population *p, struct mapping *m, int ready_fd, int hold_fd)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (size_t t = 0; t + CHILD_SUBPAGE < m->npages; t += THP_PAGES) {
		struct stamp_key k = { .pop = p->id, .buffer = m->buffer, .gen = 2, .page = t + CHILD_SUBPAGE };
		stamp_fill((char *)m->addr + (t + CHILD_SUBPAGE) * PAGE_SIZE_4K, k);
	}
	char c = 'r';
	if (write(ready_fd, &c, 1) != 1)
		_exit(1);
	/* Hold the mapping until the parent closes the pipe (or dies). */
	while (read(hold_fd, &c, 1) < 0 && errno == EINTR)
		;
	_exit(0);
}

static int thp_cow_setup(struct population *p, const struct pop_env *env, struct err *e)
{
	size_t len = (p->size + THP_SIZE - 1) / THP_SIZE * THP_SIZE;
	size_t npages = len / PAGE_SIZE_4K;
	void *addr = pop_alloc(len, THP_SIZE, env, e);
	if (!addr)
		return -1;
	if (madvise(addr, len, MADV_HUGEPAGE) < 0)
		return err_sys(e, "madvise(MADV_HUGEPAGE) on %zu bytes", len);
	p->wants_thp = true;
	const char *cow = pop_option(p, "cow");
	bool by_mprotect = strcmp(cow, "mprotect") == 0;
	if (!by_mprotect && strcmp(cow, "fork") != 0)
		return err_set(e, "cow=%s: expected fork or mprotect", cow);
	struct mapping *parent = pop_track(p, 0, addr, npages, 0, by_mprotect ? "self" : "parent", e);
	if (!parent)
		return -1;
	pop_stamp(p, parent, 1);  /* faults the THPs in */
	if (by_mprotect) {
		/* a different protection on one subpage splits the PMD mapping */
		for (size_t t = 0; t < npages; t += THP_PAGES)
			if (mprotect((char *)addr + (t + CHILD_SUBPAGE) * PAGE_SIZE_4K, PAGE_SIZE_4K, PROT_READ) < 0)
				return err_sys(e, "mprotect subpage of THP %zu", t / THP_PAGES);
		struct thp_cow *st = calloc(1, sizeof(*st));
		if (!st)
			return err_set(e, "out of memory");
		st->mprotected = true;
		st->hold_fd = -1;
		p->priv = st;
		return 0;
	}

	int ready[2], hold[2];
	if (pipe2(ready, O_CLOEXEC) < 0)
		return err_sys(e, "pipe");
	if (pipe2(hold, O_CLOEXEC) < 0) {
		close(ready[0]);
		close(ready[1]);
		return err_sys(e, "pipe");
	}
	pid_t pid = fork();
	if (pid < 0)
		return err_sys(e, "fork");
	if (pid == 0) {
		close(ready[0]);
		close(hold[1]);
		child_main(p, parent, ready[1], hold[0]);
	}
	close(ready[1]);
	close(hold[0]);
	struct thp_cow *st = malloc(sizeof(*st));
	if (!st) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		close(ready[0]);
		close(hold[1]);
		return err_set(e, "out of memory");
	}
	*st = (struct thp_cow){ .child = pid, .hold_fd = hold[1] };
	p->priv = st;

	struct pollfd pfd = { ready[0], POLLIN, 0 };
	char c;
	int ok = poll(&pfd, 1, 60000) == 1 && read(ready[0], &c, 1) == 1;
	close(ready[0]);
	if (!ok)
		return err_set(e, "thp-cow child %d did not write its subpages within 60 s", (int)pid);

	struct mapping *child = pop_track(p, pid, addr, npages, 0, "child", e);
	if (!child)
		return -1;
	for (size_t i = 0; i < npages; i++)
		child->gen[i] = i % THP_PAGES == CHILD_SUBPAGE ? 2 : 1;
	return 0;
}

static void end_child(struct thp_cow *st)
{
	close(st->hold_fd);  /* the child's read returns EOF and it exits */
	for (int i = 0; i < 100; i++) {
		if (waitpid(st->child, NULL, WNOHANG) == st->child)
			goto done;
		usleep(10000);
	}
	kill(st->child, SIGKILL);
	waitpid(st->child, NULL, 0);
done:
	st->child = 0;
}

/* Undo the mprotect and collapse the PTE-mapped THPs into new PMD-mapped
 * ones: the old frames are freed. Without MADV_COLLAPSE nothing about the
 * frames changes, and the release says it dropped nothing. */
static int unprotect(struct population *p, struct thp_cow *st, struct err *e)
{
	struct mapping *m = &p->maps[0];
	size_t len = m->npages * PAGE_SIZE_4K;
	if (mprotect((void *)m->addr, len, PROT_READ | PROT_WRITE) < 0)
		return err_sys(e, "mprotect the THPs back to read-write");
	st->mprotected = false;
	if (madvise((void *)m->addr, len, MADV_COLLAPSE) < 0) {
		snprintf(p->note, sizeof(p->note),
			 "release undid the mprotect but MADV_COLLAPSE failed (%s): the THPs stay PTE-mapped",
			 strerror(errno));
		return 0;
	}
	pop_dropped(p, "undid the mprotect and collapsed %zu PTE-mapped THPs (MADV_COLLAPSE)",
		    m->npages / THP_PAGES);
	return 0;
}

static int thp_cow_release(struct population *p, struct err *e)
{
	struct thp_cow *st = p->priv;
	if (st && st->mprotected)
		return unprotect(p, st, e);
	if (!st || !st->child)
		return 0;
	/* the child's view is checked one last time by the state before; its
	 * mapping goes away with it */
	for (int i = 0; i < p->nmaps; i++)
		if (p->maps[i].pid == st->child)
			pop_untrack(p, &p->maps[i--]);
	end_child(st);
	pop_dropped(p, "ended the CoW child (its PTE mappings of the THPs)");
	return 0;
}

static void thp_cow_teardown(struct population *p)
{
	struct thp_cow *st = p->priv;
	if (!st)
		return;
	if (st->child)
		end_child(st);
	free(st);
	p->priv = NULL;
}

const struct population_type pop_thp_cow = {
	.spec = &pop_spec_thp_cow,
	.setup = thp_cow_setup,
	.release = thp_cow_release,
	.teardown = thp_cow_teardown,
};
#endif /* VMS_SPEC_ONLY */
