/* The kernel's own state of a page frame: refcount, mapcounts, pincount,
 * mapping kind, LRU state and pageblock migratetype, read from struct page
 * through /proc/kcore with the layout taken from the running kernel's BTF
 * (/sys/kernel/btf/vmlinux, parsed by libbpf). Nothing is hard-coded but
 * what x86_64 fixes (the section size); every offset, flag bit and enum
 * value comes from BTF, so the same binary reads 6.1, 6.12 and vendor
 * kernels. A self-check on a page of our own (its mapcount must equal
 * /proc/kpagecount) guards against a wrong layout. Where something is
 * missing (no BTF, no kcore, lockdown) kpage_unavailable() says why, and
 * nothing is measured: the report then says "not measured" instead of
 * guessing. */
#ifndef GUEST_KPAGE_H
#define GUEST_KPAGE_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "util.h"

struct kpage {
	uint64_t pfn, head_pfn;
	int64_t refcount;        /* the folio's (head page's) _refcount */
	int64_t mapcount;        /* small page: mappings; large: PTE mappings of this subpage */
	bool large;
	uint32_t nr;             /* pages in the folio */
	int64_t entire;          /* large: PMD (entire-folio) mappings */
	uint32_t pte_mapped;     /* large: subpages mapped by at least one PTE */
	int64_t pte_total;       /* large: PTE mappings over all subpages */
	int64_t pincount;        /* large: the folio's pincount; -1: not kept (small page) */
	const char *mapping;     /* "anon", "file", "movable_ops", "ksm", "none";
				  * "slab", "pgtable": the kernel's own, no mapping */
	char aops[48];           /* file: the symbol of its address_space_operations
				  * (shmem_aops, secretmem_aops, ...); "" unknown */
	bool lru, swapcache, private_;
	char migratetype[24];    /* of its pageblock, "" when not measured */
	/* hugetlb: the folio is a hugetlb page (kpageflags KPF_HUGE, the
	 * kernel's own PageHuge()); its hugetlb flags live in the head page's
	 * `private` (bit numbers from BTF enum hugetlb_page_flags) */
	bool hugetlb;
	int hugetlb_migratable;  /* HPG_migratable: 1 set, 0 clear, -1 not measured */
	char hugetlb_unmeasured[80];  /* why not, when -1 */
};

/* Before a round of reads: load BTF, symbols and kcore the first time,
 * re-open kcore (memory was plugged or unplugged since), and drain the
 * per-CPU LRU batches (they hold a reference on fresh pages, so a count
 * read next has no reference that is nobody's). Never fails the program:
 * on failure kpage_unavailable() holds the reason. */
void kpage_begin(void);
/* NULL when pages can be read; else why not, in words. */
const char *kpage_unavailable(void);
int kpage_read(uint64_t pfn, struct kpage *k, struct err *e);
struct json_object *kpage_json(const struct kpage *k);
/* The migratetype of pfn's pageblock ("Movable", "Isolate", ...) into buf;
 * -1 when it cannot be read. *pages: pages per pageblock. */
int kpage_pageblock(uint64_t pfn, char *buf, size_t len, uint64_t *pages);

#endif
