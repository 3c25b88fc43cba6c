/* Rules every kernel must keep, whatever a scenario expects, checked on
 * every run from what the guest measured. Each is HELD, VIOLATED (with
 * its evidence) or NOT SHOWN (why it could not be told): a violation
 * nobody listed is how a bug nobody listed shows itself. */
#ifndef HOST_INVARIANTS_H
#define HOST_INVARIANTS_H

struct report;

enum inv_status { INV_HELD, INV_VIOLATED, INV_NOT_SHOWN };

#define VMS_INVARIANTS(X)                                                                              \
	X(PIN_NOT_MOVABLE, "longterm-pin-not-movable",                                                 \
	  "a long-term pinned page is never in ZONE_MOVABLE once its pin returned")                    \
	X(NO_KERNEL_IN_MOVABLE, "no-kernel-allocation-in-movable",                                     \
	  "no kernel allocation (slab, page table, secretmem, non-LRU without movable_ops) sits in ZONE_MOVABLE") \
	X(REFUSAL_HAS_REFERENCE, "refusal-has-a-reference",                                            \
	  "a page the kernel refused to migrate holds a reference beyond its mappings and caches")     \
	X(STAMPS_VERIFY, "stamps-verify",                                                              \
	  "every page reads back what was written; a clean MADV_FREE page is the only legal zero")     \
	X(SIZES_AGREE, "sizes-agree",                                                                  \
	  "after each step the guest's plugged blocks add up to the device's size")

enum vms_invariant {
#define VMS_INV_ENUM(id, name, rule) VMS_INV_##id,
	VMS_INVARIANTS(VMS_INV_ENUM)
#undef VMS_INV_ENUM
	VMS_NINVARIANTS
};

struct invariant {
	const char *name, *rule;
	enum inv_status status;
	char detail[256];          /* the evidence of a violation, or why not shown */
};

/* Check every invariant on r (after the verdicts were judged). */
void invariants_check(const struct report *r, struct invariant out[VMS_NINVARIANTS]);
const char *inv_status_name(enum inv_status s);  /* "held", "VIOLATED", "not shown" */

#endif
