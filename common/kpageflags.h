/* /proc/kpageflags bit numbers (include/uapi/linux/kernel-page-flags.h),
 * the one copy guest and host use. */
#ifndef VMEMSTRESS_KPAGEFLAGS_H
#define VMEMSTRESS_KPAGEFLAGS_H

#include <stdint.h>

enum {
	KPF_LRU = 5,
	KPF_SLAB = 7,
	KPF_BUDDY = 10,
	KPF_MMAP = 11,
	KPF_ANON = 12,
	KPF_COMPOUND_HEAD = 15,
	KPF_COMPOUND_TAIL = 16,
	KPF_HUGE = 17,
	KPF_NOPAGE = 20,
	KPF_THP = 22,
	KPF_OFFLINE = 23,
	KPF_PGTABLE = 26,
};

#define KPF(bit) (UINT64_C(1) << (bit))

#endif
