/* Naming why a block stayed plugged. The reason follows from what the
 * kernel itself shows: the busy page's own counters (refcount, mapcounts,
 * pincount, mapping, LRU state) read from struct page in the guest, the
 * isolation trace and dump_page(). What the owning population declared it
 * holds is the expectation those numbers are compared with, never the
 * reason itself. Only when the counters could not be read does the reason
 * rest on the declaration, and the verdict says so (basis "declared").
 * common/reasons.h is the taxonomy. Pure: unit-tested on recorded inputs. */
#ifndef HOST_CLASSIFY_H
#define HOST_CLASSIFY_H

#include "../common/reasons.h"
#include "link/protocol.h"
#include "scenario/scenario.h"

/* What a page's counters say, compared with a declared hold. */
struct measured_reason {
	enum vms_reason reason;
	int64_t expected;           /* refcount the mappings, caches and declared hold explain */
	int64_t extra;              /* refcount beyond mappings and caches */
	bool as_declared;           /* the measurement matches what the owner declared */
	char numbers[200];          /* "refcount 512, mapcount 1+511 (PMD 1, PTE-mapped 511 of 512), ..." */
	char words[320];            /* the conclusion: "no extra reference", ... */
};

/* The declared hold of a page's owner: kind "" (nothing), "gup", "pin",
 * "transient", "unmovable"; refs per page. */
struct declared_hold {
	const char *kind;
	uint64_t refs;
};

/* Reason for a page the kernel refused, from its counters k (measured).
 * dumped: the kernel dumped it as a migration failure (it was isolated);
 * zone: the memory block's zone ("Movable", "Normal", ...). */
void reason_from_counters(const struct page_counters *k, struct declared_hold d, bool dumped, const char *zone,
			  struct measured_reason *m);

struct block_verdict {
	uint64_t block;
	int owner;                  /* population index; -1: none of ours */
	enum vms_reason reason;
	char basis[16];             /* "measured", "declared", "census": what the reason rests on */
	char evidence[512];         /* what the reason rests on, in words */
	char counters[200];         /* the kernel's numbers for the busy page; "" not measured */
	char unmeasured[160];       /* why the counters are missing, when they are */
	bool has_counters;
	int64_t refcount, expected_refs, extra;
	char declared[64];          /* what the owner declared it holds, in words */
	uint64_t busy_flags;        /* kpageflags of the busy page the reason rests on */
	bool has_busy_flags;
	int known_bug;              /* index in known-bugs.ini, -1: none */
	int64_t unit_of;            /* Big Block Mode: stays with this block of its big block; -1 */
	/* reason memory-block-not-removed: the memory block left behind (block
	 * is its first device block in the region); it "went" when Linux no
	 * longer has it */
	bool left_behind;
	uint64_t mblock;
	/* confirmation by intervention */
	int released_by;            /* population whose release dropped a hold and freed it; -1 */
	bool confirm_tried;         /* some release happened after it stayed */
	bool stayed_after_release;
	char confirm[200];          /* what the owner's release did: dropped what, or nothing */
	char sysfs[64];             /* second opinion: "offlined", "busy", ...; "" not tried */
	char signature[120];        /* a class named from two paths (see block_signature) */
	char after[200];            /* what it held when it still stayed after the releases */
	/* against the scenario's expectations */
	bool expected;
	bool expected_after_release;
};

/* Classify block sb of state st. zone: the memory block's zone ("Movable",
 * "Normal", ...) or "". */
void classify_block(const struct scenario *s, const struct guest_state *st, const struct stuck_block *sb,
		    const char *zone, struct block_verdict *v);

/* offline_pages()'s own words for [start, end] (physical, inclusive):
 * "offline_pages() failed on [mem ...] due to notifier failure (3 times)";
 * "" when it printed nothing for that range. */
void offline_failure_words(const struct guest_state *st, uint64_t start, uint64_t end, char *buf, size_t len);
/* A block with no page named (not retried, unknown) whose range
 * offline_pages() failed on: reason offlining-refused, in the kernel's
 * words; its owner becomes the population that declared a refusal. */
void classify_offline_refused(const struct guest_state *st, uint64_t start, uint64_t end, struct block_verdict *v);
/* The driver marked its device broken (its own log line): every block that
 * stays, stays for that; the reason it had before is kept in the evidence. */
void classify_driver_gave_up(const struct guest_state *st, struct block_verdict *v, size_t n);

/* Big Block Mode unplugs whole big blocks of `per_unit` device blocks: a
 * block with no reason of its own (not tried, nothing named) stays because
 * another block of its big block does, and takes that block's reason (and
 * its owner, when it holds none of our pages), saying so. */
void classify_units(struct block_verdict *v, size_t n, uint64_t per_unit);

/* After the sysfs second opinion: a block alloc_contig_range refused,
 * that sysfs offline then took, with no extra reference on its busy page,
 * is a class of its own whatever the bug: fills v->signature. */
void block_signature(struct block_verdict *v);

/* A block's kpageflags census in words: "512 ours, 3 slab, ..." */
const char *census_words(const struct stuck_block *sb, char *buf, size_t len);

/* kpageflags in words: "anon|thp|lru" (bits we care about) */
const char *kpf_words(uint64_t flags, char *buf, size_t len);

#endif
