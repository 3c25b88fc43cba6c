/* Naming why a block stayed plugged, from the evidence the guest reported
 * (common/reasons.h is the taxonomy). Pure: unit-tested on recorded
 * inputs. */
#ifndef HOST_CLASSIFY_H
#define HOST_CLASSIFY_H

#include "../common/reasons.h"
#include "protocol.h"
#include "scenario.h"

struct block_verdict {
	uint64_t block;
	int owner;                  /* population index; -1: none of ours */
	enum vms_reason reason;
	char evidence[320];         /* what the reason rests on, in words */
	uint64_t busy_flags;        /* kpageflags of the busy page the reason rests on */
	bool has_busy_flags;
	int known_bug;              /* index in known-bugs.ini, -1: none */
	/* confirmation by intervention */
	int released_by;            /* population whose release freed it; -1 */
	bool confirm_tried;         /* some release happened after it stayed */
	bool stayed_after_release;
	char sysfs[64];             /* second opinion: "offlined", "busy", ...; "" not tried */
	char after[200];            /* what it held when it still stayed after the releases */
	/* against the scenario's expectations */
	bool expected;
	bool expected_after_release;
};

/* The reference a population type holds on purpose, as a reason name, or
 * "" (common/population-types.h). */
const char *population_hold(const char *type);

/* Classify block sb of state st. zone: the memory block's zone ("Movable",
 * "Normal", ...) or "". */
void classify_block(const struct scenario *s, const struct guest_state *st, const struct stuck_block *sb,
		    const char *zone, struct block_verdict *v);

/* A block's kpageflags census in words: "512 ours, 3 slab, ..." */
const char *census_words(const struct stuck_block *sb, char *buf, size_t len);

/* kpageflags in words: "anon|thp|lru" (bits we care about) */
const char *kpf_words(uint64_t flags, char *buf, size_t len);

#endif
