/* Why a block did not unplug: one fixed taxonomy, documented in README.md
 * ("Reasons"). The guest reports evidence, the kernel's own page counters
 * first; host/run/classify.c names the reason from them. */
#ifndef VMEMSTRESS_REASONS_H
#define VMEMSTRESS_REASONS_H

#define VMS_REASONS(X)                                                                                  \
	X(GUP_REFERENCE, "gup-reference",                                                               \
	  "measured references beyond the mappings that match a declared GUP hold (vmsplice)")          \
	X(LONGTERM_PIN, "longterm-pin",                                                                 \
	  "a measured pin (pincount, or the pin bias on a small page) that matches a declared "         \
	  "FOLL_LONGTERM pin (io_uring buffers)")                                                      \
	X(ISOLATION_FALSE_POSITIVE, "isolation-false-positive",                                         \
	  "refused although nothing holds it beyond its mappings and caches: the isolation check erred") \
	X(MIGRATION_REFUSED, "migration-refused",                                                       \
	  "isolated, then its migration failed with no extra reference (its mapping refused)")          \
	X(UNACCOUNTED_REFERENCE, "unaccounted-reference",                                               \
	  "measured references nobody declared: something else holds the page")                        \
	X(UNMOVABLE_ALLOCATION, "unmovable-allocation",                                                 \
	  "memory that cannot move: a kernel allocation (slab, page tables...) or secretmem")          \
	X(UNMOVABLE_IN_MOVABLE, "unmovable-in-movable-zone",                                            \
	  "a kernel allocation or secretmem inside ZONE_MOVABLE, which must never happen")              \
	X(TRANSIENT_REFERENCE, "transient-reference", "short-lived extra references (GUP-fast, process_vm_readv)") \
	X(OFFLINING_STUCK, "offlining-stuck",                                                           \
	  "the driver's worker never returned from alloc_contig_range, on this block (its pageblocks "  \
	  "isolated) or on others this one waits behind")                                               \
	X(NOT_RETRIED, "not-retried", "the kernel never tried this block in the last attempt")       \
	X(MEMORY_BLOCK_NOT_REMOVED, "memory-block-not-removed",                                         \
	  "a memory block still added to Linux although every device block in it is unplugged: its "    \
	  "removal failed and was never done since")                                                    \
	X(OFFLINING_REFUSED, "offlining-refused",                                                       \
	  "offline_pages() failed on the block's range for a reason it printed (a memory notifier "      \
	  "refused, a signal...), with no page named")                                                  \
	X(DRIVER_GAVE_UP, "driver-gave-up",                                                             \
	  "the virtio-mem driver marked its device broken after an error it does not handle, and "      \
	  "processes no request since")                                                                 \
	X(HUGETLB_UNMIGRATABLE, "hugetlb-unmigratable",                                                 \
	  "a hugetlb page in use whose migratable flag (HPG_migratable) is clear: hugetlb migration "   \
	  "never isolates it")                                                                          \
	X(NO_MIGRATION_TARGET, "no-migration-target",                                                  \
	  "nothing holds it beyond its mappings, but its migration failed: the kernel found no page to " \
	  "move it to (alloc_migration_target() returned none)")                                        \
	X(UNKNOWN, "unknown", "none of the above fits the evidence")

enum vms_reason {
#define ENUM(id, name, text) VMS_REASON_##id,
	VMS_REASONS(ENUM)
#undef ENUM
	VMS_REASON_COUNT
};

const char *vms_reason_name(enum vms_reason r);
/* -1 when the name is not a reason */
int vms_reason_from_name(const char *name);

#endif
