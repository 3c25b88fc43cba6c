/* A population is a set of pages built to make memory hard (or easy, for
 * controls) to take away. Each kind lives in its own pop-<name>.c file and
 * exports one descriptor, registered in populations.c. The generic code here
 * records where every page lives and verifies its stamp; a population only
 * has to build its pages and say which mappings hold them. */
#ifndef GUEST_POPULATION_H
#define GUEST_POPULATION_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <json-c/json.h>

#include "../common/population-spec.h"
#include "../common/protocol.h"
#include "util.h"

#define POP_MAX_MAPPINGS 4
#define THP_SIZE (2u << 20)
#define THP_PAGES (THP_SIZE / PAGE_SIZE_4K)

/* One virtual range whose pages we track. A CoW child maps the same buffer
 * as its parent: same `buffer`, another pid, its own expected generations. */
struct mapping {
	pid_t pid;            /* 0: this process; else read through /proc/PID */
	uintptr_t addr;
	size_t npages;
	uint16_t buffer;      /* stamp identity, shared by parent and CoW child */
	const char *role;     /* "self", "parent", "child" ... for messages */
	uint32_t *gen;        /* expected stamp generation of each page */
	uint8_t *may_zero;    /* NULL, or per page: all zeros is legal (clean MADV_FREE) */
	uint64_t *pfn_setup;  /* PFN when first located (after setup) */
	uint64_t *pfn_now;    /* PFN at the last look */
	bool located;         /* pfn_setup holds something */
};

struct population {
	const struct population_type *type;
	char name[VMS_MAX_NAME + 1];
	uint16_t id;          /* index in the scenario, part of every stamp */
	uint64_t size;        /* bytes asked for */
	struct mapping maps[POP_MAX_MAPPINGS];
	int nmaps;
	void *priv;
	char note[256];       /* what the report should say about how it went */
	bool wants_thp;       /* count THPs and complain when there are none */
	bool released;        /* release() ran */
	char not_shown[200];  /* never built: what the kernel lacks (guest/probe.c) */
	/* What the population holds on each of its pages on purpose, beyond
	 * its mappings: the expectation the kernel's own counters are compared
	 * with (host/run/classify.c), never the reason itself. A release that
	 * drops it clears it and says what it dropped. */
	struct {
		const char *kind; /* "gup", "pin", "transient", "unmovable", "offline-refusal"
				   * (memory offlining refused, no page held); NULL: nothing */
		unsigned refs;    /* per page: GUP references (gup, transient) or pins (pin) */
	} hold;
	char dropped[160];    /* what the release dropped, in words; "": nothing */
	uint64_t release_corrupted;  /* pages a release read back wrong (e.g. from a pipe) */
	struct json_object *options;  /* the scenario's extra keys, checked by the host */
};

struct pop_env {
	int node;             /* NUMA node of the virtio-mem region, -1: none */
};

/* The guest side of a population: its spec (what both programs know of
 * it) and the code that builds and releases it. */
struct population_type {
	const struct population_spec *spec;
	int (*setup)(struct population *p, const struct pop_env *env, struct err *e);
	/* Drop the hold the population keeps on its pages (read the pipe,
	 * unregister the buffers, end the CoW child...), verifying what it
	 * can on the way; say what was dropped with pop_dropped(), or nothing
	 * when nothing was. Mappings that go away must be untracked. NULL: the
	 * population has no release. */
	int (*release)(struct population *p, struct err *e);
	void (*teardown)(struct population *p);
};

extern const struct population_type *const population_types[];
const struct population_type *population_type_find(const char *name);

/* Helpers for population files (population.c). */

/* Bind a range (before its pages are faulted) to env->node; for shmem the
 * policy sticks to the object. */
int pop_bind(void *addr, size_t len, const struct pop_env *env, struct err *e);
/* Bind this task's own allocations to env->node (for memory that ignores
 * VMA policies: page cache written with write(), secretmem), and undo it. */
int pop_task_bind(const struct pop_env *env, struct err *e);
void pop_task_unbind(const struct pop_env *env);
/* Anonymous private memory of len bytes aligned to align, bound to
 * env->node before any page is faulted in. */
void *pop_alloc(size_t len, size_t align, const struct pop_env *env, struct err *e);
/* The common start: p->size of anonymous base pages (no THP) bound to the
 * node, tracked as mapping "self" and stamped with generation 1. */
struct mapping *pop_base_pages(struct population *p, const struct pop_env *env, struct err *e);
/* Track npages from addr in process pid (0: self). Generations start at 0. */
struct mapping *pop_track(struct population *p, pid_t pid, void *addr, size_t npages,
			  uint16_t buffer, const char *role, struct err *e);
/* Declare the hold of every page (see struct population). */
void pop_hold(struct population *p, const char *kind, unsigned refs);
/* A release dropped something: say what; clears the declared hold. */
__attribute__((format(printf, 2, 3))) void pop_dropped(struct population *p, const char *fmt, ...);
/* Stop tracking mapping m (its pages went away with a release). */
void pop_untrack(struct population *p, struct mapping *m);
/* An option of the scenario's population section, or its spec's default
 * (setup checked every value against the spec). */
const char *pop_option(const struct population *p, const char *key);
/* Write generation gen's stamp into every page of m (which must be ours). */
void pop_stamp(struct population *p, struct mapping *m, uint32_t gen);
/* Stamp key of page i of mapping m at its expected generation. */
struct stamp_key pop_key(const struct population *p, const struct mapping *m, size_t i);

/* Generic machinery (population.c), used by the state reporter. */
struct pop_stats {
	uint64_t pages;       /* mapped pages over all mappings */
	uint64_t absent;      /* of those, not present in memory */
	uint64_t moved;       /* PFN differs from the one after setup */
	uint64_t checked;     /* pages whose stamp was read (all, or a sample) */
	uint64_t verified;    /* stamp intact */
	uint64_t corrupted;   /* stamp wrong */
	uint64_t discarded;   /* of the verified: zero where that is legal */
	uint64_t thp_pages;   /* frames with KPF_THP */
	int64_t first_bad_page;       /* -1: none */
	const char *first_bad_role;
};

/* Refresh pfn_now of every mapping (and pfn_setup the first time each
 * mapping is located; a population may locate early, e.g. before pinning). */
int pop_locate(struct population *p, struct err *e);
/* Check the stamp of every stride-th page (1: all; each mapping's last page
 * always) and count what locate found over all pages. */
int pop_verify(struct population *p, struct pop_stats *s, size_t stride, struct err *e);
void pop_free(struct population *p);

#endif
