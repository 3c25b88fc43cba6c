/* Where our pages live: /proc/PID/pagemap (virtual page -> PFN) and
 * /proc/kpageflags (PFN -> flags). Both need CAP_SYS_ADMIN: we are init. */
#ifndef GUEST_PAGEINFO_H
#define GUEST_PAGEINFO_H

#include <stdint.h>
#include <sys/types.h>
#include "util.h"

#define PFN_NONE UINT64_MAX  /* page not present */

#include "../common/kpageflags.h"

/* PFNs of npages pages from addr in process pid (0: ourselves). */
int pagemap_read(pid_t pid, uintptr_t addr, size_t npages, uint64_t *pfns, struct err *e);

/* Flags of n PFNs from pfn. PFNs past the end of memory read as NOPAGE. */
int kpageflags_read(uint64_t pfn, size_t n, uint64_t *flags, struct err *e);

/* /proc/kpagecount of one PFN (the mapcount, not the refcount); -1 if
 * unreadable. */
int64_t kpagecount_read(uint64_t pfn);

#endif
