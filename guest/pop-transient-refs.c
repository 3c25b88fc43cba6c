/* transient-refs: a child process reads the buffer in a loop with
 * process_vm_readv, so its pages keep getting short-lived extra references
 * (GUP). Unplug may be delayed or need retries, never blocked for good.
 * Release ends the child. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "population.h"

const struct population_spec pop_spec_transient_refs = {
	.name = "transient-refs",
	.summary = "a child loops process_vm_readv over the buffer: short-lived extra references",
	.needs = VMS_NEEDS(PROCESS_VM),
	.holds = "short-lived GUP references from the reading child; release ends the child",
};

#ifndef VMS_SPEC_ONLY

struct tr {
	pid_t child;
};

static void reader(pid_t parent, char *addr, size_t len)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	static char buf[64 << 10];
	for (;;)
		for (size_t off = 0; off < len; off += sizeof(buf)) {
			size_t n = len - off < sizeof(buf) ? len - off : sizeof(buf);
			struct iovec local = { buf, n }, remote = { addr + off, n };
			if (process_vm_readv(parent, &local, 1, &remote, 1, 0) < 0 && errno == ESRCH)
				_exit(0);
		}
}

static int transient_setup(struct population *p, const struct pop_env *env, struct err *e)
{
	struct mapping *m = pop_base_pages(p, env, e);
	if (!m)
		return -1;
	char *addr = (char *)m->addr;
	size_t len = m->npages * PAGE_SIZE_4K;
	struct tr *st = calloc(1, sizeof(*st));
	if (!st)
		return err_set(e, "out of memory");
	p->priv = st;
	pid_t parent = getpid();
	st->child = fork();
	if (st->child < 0)
		return err_sys(e, "fork");
	if (st->child == 0)
		reader(parent, addr, len);
	pop_hold(p, "transient", 1);  /* at most one short-lived reference at a time */
	return 0;
}

static int transient_release(struct population *p, struct err *e)
{
	struct tr *st = p->priv;
	if (st && st->child > 0) {
		kill(st->child, SIGKILL);
		while (waitpid(st->child, NULL, 0) < 0 && errno == EINTR)
			;
		st->child = 0;
		pop_dropped(p, "ended the process_vm_readv reader");
	}
	return 0;
}

static void transient_teardown(struct population *p)
{
	struct err e;
	transient_release(p, &e);
	free(p->priv);
	p->priv = NULL;
}

const struct population_type pop_transient_refs = {
	.spec = &pop_spec_transient_refs,
	.setup = transient_setup,
	.release = transient_release,
	.teardown = transient_teardown,
};
#endif /* VMS_SPEC_ONLY */
