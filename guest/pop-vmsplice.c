/* vmsplice: anonymous pages vmspliced into a pipe that nobody reads. The
 * pipe holds plain GUP references (not FOLL_PIN) on the pages until the
 * pipe buffers are consumed, even after munmap: migration fails and the
 * blocks stay, in any zone. Release reads the pipe, checking that what the
 * pipe held is what the pages hold. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "population.h"

const struct population_spec pop_spec_vmsplice = {
	.name = "vmsplice",
	.summary = "pages vmspliced into a pipe that is not read until release (GUP references)",
	.needs = VMS_NEEDS(SYSCTL),
	.holds = "one GUP reference a page, from the pipe; release reads the pipe",
};

#ifndef VMS_SPEC_ONLY
#include "stamp.h"

struct vsp {
	int rfd, wfd;
};

static int vmsplice_setup(struct population *p, const struct pop_env *env, struct err *e)
{
	struct mapping *m = pop_base_pages(p, env, e);
	if (!m)
		return -1;
	char *addr = (char *)m->addr;
	size_t len = m->npages * PAGE_SIZE_4K;

	int fds[2];
	if (pipe2(fds, O_CLOEXEC) < 0)
		return err_sys(e, "pipe");
	struct vsp *st = calloc(1, sizeof(*st));
	if (!st) {
		close(fds[0]);
		close(fds[1]);
		return err_set(e, "out of memory");
	}
	*st = (struct vsp){ .rfd = fds[0], .wfd = fds[1] };
	p->priv = st;
	/* The pipe must hold every page at once: raise the root-only limit
	 * and the pipe's size (a power of two number of pages). */
	char lim[32];
	size_t want = 1;
	while (want < len)
		want <<= 1;
	snprintf(lim, sizeof(lim), "%zu", want);
	if (write_small_file("/proc/sys/fs/pipe-max-size", lim) < 0)
		return err_sys(e, "raise /proc/sys/fs/pipe-max-size to %s", lim);
	if (want > INT_MAX || fcntl(st->wfd, F_SETPIPE_SZ, (int)want) < 0)
		return err_sys(e, "F_SETPIPE_SZ %zu", want);
	size_t done = 0;
	while (done < len) {
		struct iovec iov = { addr + done, len - done };
		ssize_t n = vmsplice(st->wfd, &iov, 1, SPLICE_F_NONBLOCK);
		if (n <= 0)
			return err_sys(e, "vmsplice after %zu of %zu bytes", done, len);
		done += (size_t)n;
	}
	pop_hold(p, "gup", 1);  /* the pipe holds one reference on every page */
	return 0;
}

static int vmsplice_release(struct population *p, struct err *e)
{
	struct vsp *st = p->priv;
	struct mapping *m = &p->maps[0];
	static char page[PAGE_SIZE_4K];
	uint64_t bad = 0;
	for (size_t i = 0; i < m->npages; i++) {
		size_t got = 0;
		while (got < PAGE_SIZE_4K) {
			ssize_t n = read(st->rfd, page + got, PAGE_SIZE_4K - got);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				return err_sys(e, "read the pipe back at page %zu of %zu", i, m->npages);
			got += (size_t)n;
		}
		/* the pipe referenced our pages: it must read what they hold */
		if (!stamp_check(page, pop_key(p, m, i)))
			bad++;
	}
	close(st->rfd);
	close(st->wfd);
	st->rfd = st->wfd = -1;
	/* the pipe must hand back what the pages held: anything else is
	 * data lost through a GUP reference, a failing finding */
	p->release_corrupted = bad;
	pop_dropped(p, "read all %zu pages back from the pipe", m->npages);
	return 0;
}

static void vmsplice_teardown(struct population *p)
{
	struct vsp *st = p->priv;
	if (!st)
		return;
	if (st->rfd >= 0)
		close(st->rfd);
	if (st->wfd >= 0)
		close(st->wfd);
	free(st);
	p->priv = NULL;
}

const struct population_type pop_vmsplice = {
	.spec = &pop_spec_vmsplice,
	.setup = vmsplice_setup,
	.release = vmsplice_release,
	.teardown = vmsplice_teardown,
};
#endif /* VMS_SPEC_ONLY */
