/* Decoding what the guest says. Everything from the guest is untrusted:
 * lines are bounded (linebuf), every field is checked for type and range,
 * strings are length-limited and stripped of control characters. */
#ifndef HOST_PROTOCOL_H
#define HOST_PROTOCOL_H

#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include "../common/protocol.h"
#include "scenario/scenario.h"
#include "util/util.h"
#include "vm/vm.h"

struct guest_hello {
	int proto;
	char program[64];
	char kernel[128];
	char version[160];         /* uname -v: "#1 SMP ... Debian 6.1.192-3 (...)" */
	uint64_t memory_block_size;
	char thp[64];
	uint64_t uptime_ms;        /* guest uptime at hello: its kernel's boot */
	/* what the driver runs with, read back by the guest (guest/driver.c) */
	char driver_mode[8];       /* "sbm", "bbm"; "" not seen */
	uint64_t driver_unit;      /* its sub-block or big block size */
	char driver_params[400];   /* "virtio_mem.force_bbm=N memory_hotplug.online_policy=..." */
};

struct pop_state {
	char name[VMS_MAX_NAME + 1];
	char type[32];
	uint64_t pages, in_region, absent, moved, checked, verified, corrupted;
	uint64_t discarded;        /* of the verified: zeros where legal (clean MADV_FREE) */
	int64_t thp_pages;         /* -1: not a THP population */
	char note[256];
	char not_shown[200];       /* never built: what the guest's kernel lacks */
	bool has_first_bad;
	char first_bad_mapping[24];
	uint64_t first_bad_page;
	bool released;
	bool has_release;          /* the population type has a release at all */
	/* what it declared it holds on each page beyond its mappings (the
	 * expectation, never the reason): "" nothing, "gup", "pin",
	 * "transient", "unmovable"; refs per page */
	char hold[16];
	uint64_t hold_refs;
	char dropped[160];         /* what its release dropped; "" nothing */
};

struct mem_block {
	uint64_t index;
	char state[16];
	char zone[64];
};

/* The kernel's own counters of a page, read from struct page in the guest
 * (guest/kpage.c). measured false: unmeasured holds why. */
struct page_counters {
	bool measured;
	char unmeasured[160];
	int64_t refcount;          /* the folio's */
	int64_t mapcount;          /* small: mappings; large: PTE mappings of this subpage */
	bool large;
	uint64_t head_pfn, nr;     /* large: the folio's head and size in pages */
	int64_t entire;            /* large: PMD mappings */
	uint64_t pte_mapped;       /* large: subpages with a PTE mapping */
	int64_t pte_mappings;      /* large: PTE mappings over all subpages */
	int64_t pincount;          /* large: the folio's pincount; -1 not kept */
	char mapping[16];          /* anon, file, movable_ops, ksm, none; slab, pgtable (the kernel's) */
	char aops[48];             /* file: its address_space_operations symbol; "" unknown */
	bool lru, swapcache, private_;
	char migratetype[24];      /* of its pageblock; "" not measured */
	bool hugetlb;              /* a hugetlb folio (kpageflags KPF_HUGE) */
	int hugetlb_migratable;    /* its HPG_migratable flag: 1, 0, -1 not measured */
	char hugetlb_unmeasured[80];  /* why not, when -1 */
};

/* A page the kernel named: a busy PFN from an isolation failure, or a page
 * dump_page() showed. owner: population index, or -1 when not ours. */
struct named_page {
	uint64_t pfn;
	uint64_t flags;            /* kpageflags; 0 with has_flags false */
	bool has_flags;
	int64_t mapcount, refcount;  /* -1: unknown */
	int owner;
	char owner_mapping[16];
	uint64_t owner_page;
	char reason[48];           /* dumped pages: "migration failure" */
	struct page_counters kc;
};

#define STUCK_MAX_PAGES 4

/* Evidence about a block that stayed plugged. */
struct stuck_block {
	uint64_t block;
	/* kpageflags census of its pages */
	uint64_t ours, lru, compound_tail, slab, pgtable, buddy, noflags, other, thp;
	uint64_t isolation_failures;
	/* start_isolate_page_range() refused a range overlapping the block
	 * (the guest's kprobes): how often, the first one's -errno and caller */
	bool probed;
	uint64_t isolation_refusals;
	int64_t refusal_error;
	char refusal_caller[48];
	struct named_page busy[STUCK_MAX_PAGES];
	int nbusy;
	struct named_page dumped[STUCK_MAX_PAGES];
	int ndumped;
	/* found by scanning a block the kernel named no page of: an in-use page
	 * neither on the LRU nor movable_ops, what has_unmovable_pages() stops at */
	struct named_page unmovable[STUCK_MAX_PAGES];
	int nunmovable;
	/* migratetypes of its pageblocks, from struct page's section (0 0:
	 * not measured) */
	uint64_t pageblocks, pageblocks_isolated;
};

#define VMS_MAX_OFFLINE_FAILURES 64

struct offline_failure_seen {  /* offline_pages() said: [start, end] failed due to reason, count times */
	uint64_t start, end, count;
	char reason[48];
};

struct evidence_summary {
	bool present, trace, dump_page;
	uint64_t isolation_events, isolation_failures, dumped_pages;
	uint64_t migrate_succeeded, migrate_failed, thp_succeeded, thp_failed;
	bool isolate_probe;      /* the guest's kprobes on start_isolate_page_range() */
	uint64_t isolate_calls, isolation_refusals;  /* its calls, and the ones that failed */
	bool target_probe;       /* the guest's kretprobe on alloc_migration_target() */
	uint64_t target_calls, target_failures;     /* its calls, and the ones that found no page */
	bool offline_pages;      /* offline_pages()'s failures could be read */
	struct offline_failure_seen offline[VMS_MAX_OFFLINE_FAILURES];
	size_t noffline;
	char driver_broken[200]; /* the driver's "marking device broken" line; "" */
};

struct held {                  /* `pages` of population `pop` sit in `block` */
	uint64_t block;
	int pop;
	uint64_t pages;
};

struct guest_state {
	char step[VMS_MAX_NAME + 1];
	char *map;                 /* 'P'/'U' per device block */
	uint64_t nblocks, plugged;
	struct pop_state *pops;
	int npops;
	struct mem_block *mblocks;
	size_t nmblocks;
	struct held *held;
	size_t nheld;
	uint64_t elapsed_ms, setup_ms;
	uint64_t guest_rss_kb;       /* the guest program's peak RSS; 0 unknown */
	struct evidence_summary evidence;
	struct stuck_block *stuck;   /* when attribution was asked */
	size_t nstuck;
	bool attributed;
	char counters[200];          /* "measured", or why page counters were not */
	char worker_stack[400];      /* the virtio-mem worker's stack when it runs; "" */
	bool have_worker_stack;      /* a backtrace was taken */
};

/* What the host knows that a state message must agree with. */
struct state_expect {
	uint64_t nblocks;
	uint64_t first_mblock, last_mblock;   /* memory blocks of the region */
	int npops;
	const char *const *pop_names;         /* in scenario order */
};

/* Commands to the guest (docs/protocol.md). */
struct json_object *proto_cmd_setup(const struct scenario *s, const struct vm_region *r);
struct json_object *proto_cmd_state(const char *step, bool attribute);
struct json_object *proto_cmd_release(const char *step, const char *const *pops, int n);
struct json_object *proto_cmd_activity(void);
/* The guest's kernel log: written to out, control bytes replaced. */
struct json_object *proto_cmd_kernel_log(void);
int proto_kernel_log(struct json_object *msg, FILE *out, struct err *e);
/* The answer to "activity": a counter of kernel offlining events, -1 when
 * the guest cannot see them; *broken: the guest saw the driver mark its
 * device broken; *stalled_ms: how long an offlining attempt has been under
 * way without the counter moving (-1: none under way, or not followed). */
int proto_activity(struct json_object *msg, int64_t *events, bool *broken, int64_t *stalled_ms, struct err *e);
struct json_object *proto_cmd_offline(const uint64_t *memory_blocks, int n, unsigned timeout_ms);

/* The answer to "offline": results[i] for memory_blocks[i]. */
struct offline_result {
	uint64_t index;
	char result[64];
};
int proto_offline(struct json_object *msg, const uint64_t *asked, int n, struct offline_result *out, struct err *e);
struct json_object *proto_cmd_poweroff(void);

/* Parse one line into a JSON object with a string "type". */
int proto_parse_line(const char *line, struct json_object **msg, const char **type, struct err *e);
int proto_hello(struct json_object *msg, struct guest_hello *h, struct err *e);
int proto_state(struct json_object *msg, const struct state_expect *x, struct guest_state *s, struct err *e);
/* An "error" message's text, sanitised, into buf. */
void proto_error_text(struct json_object *msg, char *buf, size_t len);
void guest_state_free(struct guest_state *s);
/* proto_state() accepts held[] and mblocks[] only in order (each block
 * once), so a block's entries are found in O(log n): held_find() returns
 * the first of its *n entries (*n 0: none); mblock_find() NULL: none. */
size_t held_find(const struct guest_state *s, uint64_t block, size_t *n);
const struct mem_block *mblock_find(const struct guest_state *s, uint64_t index);
/* The smallest memory block a guest may claim (a section, 16 MiB on ppc64,
 * 128 MiB on x86-64). */
#define VMS_MIN_MEMORY_BLOCK (16u << 20)

/* Copy s into buf (len bytes), replacing control and non-ASCII bytes. */
void sanitize(const char *s, char *buf, size_t len);

#endif
