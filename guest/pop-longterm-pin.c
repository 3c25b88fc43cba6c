/* longterm-pin: io_uring registered buffers (liburing). Registering pins
 * the pages with FOLL_LONGTERM; since v5.13 pages in ZONE_MOVABLE (or CMA)
 * are migrated out first, so a movable region loses them at register time
 * and unplugs; in ZONE_NORMAL they stay pinned until unregistered. */
#define _GNU_SOURCE
#include <errno.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>

#include "population.h"

const struct population_spec pop_spec_longterm_pin = {
	.name = "longterm-pin",
	.summary = "io_uring registered buffers (liburing): FOLL_LONGTERM pins until unregistered",
	.needs = VMS_NEEDS(IO_URING),
	.holds = "one FOLL_LONGTERM pin a page; release unregisters the buffers",
};

#ifndef VMS_SPEC_ONLY

/* io_uring takes up to 1 GiB per buffer and UIO_MAXIOV buffers: register in
 * 2 MiB pieces */
#define PIECE (2u << 20)

struct pin {
	struct io_uring ring;
	bool registered;
};

static int longterm_setup(struct population *p, const struct pop_env *env, struct err *e)
{
	struct mapping *m = pop_base_pages(p, env, e);
	if (!m)
		return -1;
	char *addr = (char *)m->addr;
	size_t len = m->npages * PAGE_SIZE_4K;
	/* where the pages were before pinning: a move at pin time shows up as
	 * "moved" in the first report */
	if (pop_locate(p, e) < 0)
		return -1;

	struct pin *st = calloc(1, sizeof(*st));
	if (!st)
		return err_set(e, "out of memory");
	p->priv = st;
	int r = io_uring_queue_init(8, &st->ring, 0);
	if (r < 0) {
		free(st);
		p->priv = NULL;
		errno = -r;
		return err_sys(e, "io_uring_queue_init");
	}
	size_t n = (len + PIECE - 1) / PIECE;
	struct iovec *iov = calloc(n, sizeof(*iov));
	if (!iov)
		return err_set(e, "out of memory");
	for (size_t i = 0; i < n; i++) {
		iov[i].iov_base = addr + i * PIECE;
		iov[i].iov_len = len - i * PIECE < PIECE ? len - i * PIECE : PIECE;
	}
	r = io_uring_register_buffers(&st->ring, iov, (unsigned)n);
	free(iov);
	if (r < 0) {
		errno = -r;
		return err_sys(e, "io_uring_register_buffers of %zu bytes in %zu buffers", len, n);
	}
	st->registered = true;
	pop_hold(p, "pin", 1);  /* one FOLL_LONGTERM pin on every page */
	return 0;
}

static int longterm_release(struct population *p, struct err *e)
{
	struct pin *st = p->priv;
	if (st && st->registered) {
		int r = io_uring_unregister_buffers(&st->ring);
		if (r < 0) {
			errno = -r;
			return err_sys(e, "io_uring_unregister_buffers");
		}
		st->registered = false;
		pop_dropped(p, "unregistered the io_uring buffers (%zu pages)", p->maps[0].npages);
	}
	return 0;
}

static void longterm_teardown(struct population *p)
{
	struct pin *st = p->priv;
	if (!st)
		return;
	io_uring_queue_exit(&st->ring);  /* unpins what is still registered */
	free(st);
	p->priv = NULL;
}

const struct population_type pop_longterm_pin = {
	.spec = &pop_spec_longterm_pin,
	.setup = longterm_setup,
	.release = longterm_release,
	.teardown = longterm_teardown,
};
#endif /* VMS_SPEC_ONLY */
