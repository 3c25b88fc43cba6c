/* Why a block did not unplug: one fixed taxonomy, documented in README.md
 * ("Reasons"). The guest reports evidence; host/classify.c names the
 * reason. */
#ifndef VMEMSTRESS_REASONS_H
#define VMEMSTRESS_REASONS_H

#define VMS_REASONS(X)                                                                                  \
	X(GUP_REFERENCE, "gup-reference", "a population holds plain GUP references (vmsplice)")         \
	X(LONGTERM_PIN, "longterm-pin", "a population holds FOLL_LONGTERM pins (io_uring buffers)")   \
	X(ISOLATION_FALSE_POSITIVE, "isolation-false-positive",                                         \
	  "an anonymous THP with no pin held looked pinned and was never isolated")                    \
	X(UNMOVABLE_ALLOCATION, "unmovable-allocation",                                                 \
	  "memory that cannot move: a kernel allocation (slab, page tables...) or secretmem")          \
	X(TRANSIENT_REFERENCE, "transient-reference", "short-lived extra references (GUP-fast, process_vm_readv)") \
	X(NOT_RETRIED, "not-retried", "the kernel never tried this block in the last attempt")       \
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
