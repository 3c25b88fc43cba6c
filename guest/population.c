#define _GNU_SOURCE
#include "population.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>
#include <numaif.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>

#include "pageinfo.h"
#include "stamp.h"

void pop_hold(struct population *p, const char *kind, unsigned refs)
{
	p->hold.kind = kind;
	p->hold.refs = refs;
}

void pop_dropped(struct population *p, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->dropped, sizeof(p->dropped), fmt, ap);
	va_end(ap);
	p->hold.kind = NULL;
	p->hold.refs = 0;
}

const struct population_type *population_type_find(const char *name)
{
	for (int i = 0; population_types[i]; i++)
		if (name && strcmp(population_types[i]->spec->name, name) == 0)
			return population_types[i];
	return NULL;
}

int pop_bind(void *addr, size_t len, const struct pop_env *env, struct err *e)
{
	if (env->node < 0)
		return 0;
	unsigned long mask[4] = { 0 };
	if (env->node >= (int)(sizeof(mask) * 8))
		return err_set(e, "NUMA node %d out of range", env->node);
	mask[env->node / (8 * sizeof(long))] = 1ul << (env->node % (8 * sizeof(long)));
	if (mbind(addr, len, MPOL_BIND, mask, sizeof(mask) * 8, 0) < 0)
		return err_sys(e, "mbind %zu bytes to node %d", len, env->node);
	return 0;
}

int pop_task_bind(const struct pop_env *env, struct err *e)
{
	if (env->node < 0)
		return 0;
	unsigned long mask[4] = { 0 };
	mask[env->node / (8 * sizeof(long))] = 1ul << (env->node % (8 * sizeof(long)));
	if (set_mempolicy(MPOL_BIND, mask, sizeof(mask) * 8) < 0)
		return err_sys(e, "set_mempolicy(MPOL_BIND, node %d)", env->node);
	return 0;
}

void pop_task_unbind(const struct pop_env *env)
{
	if (env->node >= 0)
		set_mempolicy(MPOL_DEFAULT, NULL, 0);
}

void *pop_alloc(size_t len, size_t align, const struct pop_env *env, struct err *e)
{
	/* Over-allocate and trim so the range starts on `align` (a THP needs a
	 * 2 MiB aligned virtual address to be PMD-mapped). */
	size_t span = len + align;
	char *raw = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (raw == MAP_FAILED) {
		err_sys(e, "mmap %zu bytes", span);
		return NULL;
	}
	char *start = (char *)(((uintptr_t)raw + align - 1) & ~(uintptr_t)(align - 1));
	if (start > raw)
		munmap(raw, start - raw);
	if (raw + span > start + len)
		munmap(start + len, raw + span - (start + len));
	if (pop_bind(start, len, env, e) < 0) {
		munmap(start, len);
		return NULL;
	}
	return start;
}

struct mapping *pop_base_pages(struct population *p, const struct pop_env *env, struct err *e)
{
	size_t npages = (p->size + PAGE_SIZE_4K - 1) / PAGE_SIZE_4K, len = npages * PAGE_SIZE_4K;
	char *addr = pop_alloc(len, PAGE_SIZE_4K, env, e);
	if (!addr)
		return NULL;
	madvise(addr, len, MADV_NOHUGEPAGE);  /* base pages: THPs are thp-cow's business */
	struct mapping *m = pop_track(p, 0, addr, npages, 0, "self", e);
	if (m)
		pop_stamp(p, m, 1);
	return m;
}

struct mapping *pop_track(struct population *p, pid_t pid, void *addr, size_t npages,
			  uint16_t buffer, const char *role, struct err *e)
{
	if (p->nmaps == POP_MAX_MAPPINGS) {
		err_set(e, "population %s: more than %d mappings", p->name, POP_MAX_MAPPINGS);
		return NULL;
	}
	struct mapping *m = &p->maps[p->nmaps];
	*m = (struct mapping){ .pid = pid, .addr = (uintptr_t)addr, .npages = npages,
			       .buffer = buffer, .role = role };
	m->gen = calloc(npages, sizeof(*m->gen));
	m->pfn_setup = calloc(npages, sizeof(*m->pfn_setup));
	m->pfn_now = calloc(npages, sizeof(*m->pfn_now));
	if (!m->gen || !m->pfn_setup || !m->pfn_now) {
		free(m->gen);
		free(m->pfn_setup);
		free(m->pfn_now);
		err_set(e, "population %s: out of memory tracking %zu pages", p->name, npages);
		return NULL;
	}
	p->nmaps++;
	return m;
}

struct stamp_key pop_key(const struct population *p, const struct mapping *m, size_t i)
{
	return (struct stamp_key){ .pop = p->id, .buffer = m->buffer, .gen = m->gen[i], .page = i };
}

void pop_stamp(struct population *p, struct mapping *m, uint32_t gen)
{
	for (size_t i = 0; i < m->npages; i++) {
		m->gen[i] = gen;
		stamp_fill((char *)m->addr + i * PAGE_SIZE_4K, pop_key(p, m, i));
	}
}

int pop_locate(struct population *p, struct err *e)
{
	for (int i = 0; i < p->nmaps; i++) {
		struct mapping *m = &p->maps[i];
		if (pagemap_read(m->pid, m->addr, m->npages, m->pfn_now, e) < 0)
			return -1;
		if (!m->located)
			memcpy(m->pfn_setup, m->pfn_now, m->npages * sizeof(uint64_t));
		m->located = true;
	}
	return 0;
}

void pop_untrack(struct population *p, struct mapping *m)
{
	free(m->may_zero);
	free(m->gen);
	free(m->pfn_setup);
	free(m->pfn_now);
	int i = (int)(m - p->maps);
	memmove(&p->maps[i], &p->maps[i + 1], (size_t)(p->nmaps - i - 1) * sizeof(*m));
	p->nmaps--;
}

const char *pop_option(const struct population *p, const char *key)
{
	struct json_object *v;
	if (p->options && json_object_object_get_ex(p->options, key, &v))
		return json_object_get_string(v);
	const struct vms_pop_option *o = vms_pop_option_find(p->type->spec, key);
	return o ? o->def : "";
}

/* Read pages of another process (the CoW child) through /proc/PID/mem. Not
 * process_vm_readv: that pins the pages (FOLL_PIN), and since 6.0 a pin of
 * a shared anonymous page makes the kernel give the reader's target its own
 * copy ("unshare"), which would undo the very PTE-mapped THP sharing the
 * population built (and allocate the copies in the region). */
static int read_remote(pid_t pid, struct iovec *local, struct iovec *remote, size_t n, struct err *e)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_sys(e, "open %s", path);
	for (size_t i = 0; i < n; i++) {
		ssize_t got = pread(fd, local[i].iov_base, local[i].iov_len, (off_t)(uintptr_t)remote[i].iov_base);
		if (got != (ssize_t)local[i].iov_len) {
			err_sys(e, "read %s at %p", path, remote[i].iov_base);
			close(fd);
			return -1;
		}
	}
	close(fd);
	return 0;
}

static bool page_is_zero(const void *page)
{
	const uint64_t *w = page;
	for (unsigned i = 0; i < PAGE_SIZE_4K / 8; i++)
		if (w[i])
			return false;
	return true;
}

int pop_verify(struct population *p, struct pop_stats *s, size_t stride, struct err *e)
{
	enum { CHUNK = 64 };
	static char buf[CHUNK * PAGE_SIZE_4K];
	memset(s, 0, sizeof(*s));
	s->first_bad_page = -1;
	for (int mi = 0; mi < p->nmaps; mi++) {
		struct mapping *m = &p->maps[mi];
		for (size_t i = 0; i < m->npages; i += CHUNK) {
			size_t n = m->npages - i < CHUNK ? m->npages - i : CHUNK;
			for (size_t j = 0; j < n; j++) {
				size_t pg = i + j;
				s->pages++;
				/* a discarded clean lazy-free page is legally gone */
				if (m->pfn_now[pg] == PFN_NONE && !(m->may_zero && m->may_zero[pg]))
					s->absent++;
				else if (m->pfn_now[pg] != m->pfn_setup[pg])
					s->moved++;
			}
			/* the stamps: this chunk's sampled pages, read in one go */
			bool any = false;
			for (size_t j = 0; j < n && !any; j++)
				any = (i + j) % stride == 0 || i + j == m->npages - 1;
			if (!any)
				continue;
			/* the sampled pages of this chunk, read from another
			 * process in one scatter-gather call */
			const char *page_at[CHUNK];
			struct iovec local[CHUNK], remote[CHUNK];
			size_t nio = 0;
			for (size_t j = 0; j < n; j++) {
				size_t pg = i + j;
				if (pg % stride != 0 && pg != m->npages - 1)
					continue;
				const char *addr = (const char *)m->addr + pg * PAGE_SIZE_4K;
				page_at[nio] = m->pid ? buf + nio * PAGE_SIZE_4K : addr;
				local[nio] = (struct iovec){ buf + nio * PAGE_SIZE_4K, PAGE_SIZE_4K };
				remote[nio] = (struct iovec){ (void *)addr, PAGE_SIZE_4K };
				nio++;
			}
			if (m->pid && read_remote(m->pid, local, remote, nio, e) < 0)
				return -1;
			for (size_t j = 0, k = 0; j < n; j++) {
				size_t pg = i + j;
				if (pg % stride != 0 && pg != m->npages - 1)
					continue;
				const char *page = page_at[k++];
				s->checked++;
				if (stamp_check(page, pop_key(p, m, pg))) {
					s->verified++;
				} else if (m->may_zero && m->may_zero[pg] && page_is_zero(page)) {
					s->verified++;
					s->discarded++;
				} else {
					s->corrupted++;
					if (s->first_bad_page < 0) {
						s->first_bad_page = (int64_t)pg;
						s->first_bad_role = m->role;
					}
				}
			}
		}
		/* THP frames: only of the first (owning) mapping, to count each
		 * frame once. */
		if (mi == 0 && p->wants_thp) {
			static uint64_t flags[THP_PAGES];
			for (size_t i = 0; i < m->npages;) {
				if (m->pfn_now[i] == PFN_NONE) {
					i++;
					continue;
				}
				/* one read per run of physically contiguous pages */
				size_t run = 1;
				while (i + run < m->npages && run < THP_PAGES &&
				       m->pfn_now[i + run] == m->pfn_now[i] + run)
					run++;
				if (kpageflags_read(m->pfn_now[i], run, flags, e) < 0)
					return -1;
				for (size_t k = 0; k < run; k++)
					if (flags[k] & (1ull << KPF_THP))
						s->thp_pages++;
				i += run;
			}
		}
	}
	/* what a release read back wrong is lost data like any other */
	s->corrupted += p->release_corrupted;
	if (p->release_corrupted && s->first_bad_page < 0) {
		s->first_bad_page = 0;
		s->first_bad_role = "read back at release";
	}
	return 0;
}

void pop_free(struct population *p)
{
	if (p->type && p->type->teardown && !p->not_shown[0])
		p->type->teardown(p);
	while (p->nmaps > 0)
		pop_untrack(p, &p->maps[0]);
	json_object_put(p->options);
	p->options = NULL;
}
