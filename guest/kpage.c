/* struct page through /proc/kcore, laid out by BTF (see kpage.h).
 *
 * Why /proc/kcore rather than a BPF program on the isolation tracepoint:
 * the holds we explain are the ones that last (a block is reported only
 * after the kernel refused it again on a retry), so reading them a moment
 * later sees the same counters; kcore needs no BPF verifier, no
 * CONFIG_BPF_EVENTS and no program that has to load on every vendor's
 * kernel, only PROC_KCORE, KALLSYMS_ALL and BTF. README.md ("How a reason
 * is measured") says the same for users. */
#define _GNU_SOURCE
#include "kpage.h"

#include <bpf/btf.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "pageinfo.h"

/* x86_64 fixes these (arch/x86/include/asm/sparsemem.h, page_64_types.h) */
#define SECTION_SIZE_BITS 27
#define PFN_SECTION_SHIFT (SECTION_SIZE_BITS - 12)
#define VMEMMAP_START_DEFAULT 0xffffea0000000000ull  /* without a dynamic memory layout */

#define MAX_SEGS 256
#define MAX_FOLIO_PAGES 512u   /* larger folios: counters of the head only */

struct seg {
	uint64_t vaddr, size, off;
};

static struct {
	bool tried;
	char why[150];            /* non-empty: unavailable (the host takes 199 bytes) */
	int kcore;
	struct seg segs[MAX_SEGS];
	int nsegs;
	uint64_t vmemmap, mem_section_sym;
	/* struct page */
	long page_size, o_flags, o_refcount, o_mapcount, o_mapping, o_compound_head;
	/* struct folio, from the head page's start; -1: not in this kernel */
	long o_nr_pages, o_order, o_flags_1, o_entire, o_large_mapcount, o_pincount;
	bool entire_is_total_mapcount_6_1;
	long o_a_ops;             /* struct address_space */
	/* hugetlb flags: a bit of the head page's `private` (enum hugetlb_page_flags) */
	long o_private;
	int hpg_migratable;
	/* page flag bits (enum pageflags) */
	int pg_lru, pg_head, pg_private, pg_swapcache, pg_swapbacked, pg_double_map;
	/* pageblocks */
	long ms_size, o_ms_usage, o_usage_pageblock_flags;
	int pageblock_order, nr_pageblock_bits, migratetype_bits, pb_isolate;
	char mt_names[12][20];
	int n_mt;
} K = { .kcore = -1 };

static void unavailable(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void unavailable(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(K.why, sizeof(K.why), fmt, ap);
	va_end(ap);
	glog("page counters not measured: %s", K.why);
}

const char *kpage_unavailable(void)
{
	return K.why[0] ? K.why : NULL;
}

/* --- BTF ---------------------------------------------------------------- */

static int find_struct(const struct btf *btf, const char *name)
{
	return btf__find_by_name_kind(btf, name, BTF_KIND_STRUCT);
}

/* Byte offset of member `name` in type id, looking into anonymous structs
 * and unions (struct page is mostly those); -1 when absent. */
static long member_off(const struct btf *btf, int id, const char *name)
{
	const struct btf_type *t = btf__type_by_id(btf, (unsigned)id);
	if (!t || !btf_is_composite(t))
		return -1;
	const struct btf_member *m = btf_members(t);
	for (unsigned i = 0; i < btf_vlen(t); i++) {
		const char *n = btf__name_by_offset(btf, m[i].name_off);
		long bit = (long)btf_member_bit_offset(t, i);
		if (n && *n) {
			if (strcmp(n, name) == 0)
				return bit / 8;
		} else {
			long o = member_off(btf, (int)m[i].type, name);
			if (o >= 0)
				return bit / 8 + o;
		}
	}
	return -1;
}

/* Value of enumerator `name` in any enum; -1 when absent. */
static long enum_value(const struct btf *btf, const char *name)
{
	unsigned n = btf__type_cnt(btf);
	for (unsigned id = 1; id < n; id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		if (!btf_is_enum(t))
			continue;
		const struct btf_enum *e = btf_enum(t);
		for (unsigned i = 0; i < btf_vlen(t); i++)
			if (strcmp(btf__name_by_offset(btf, e[i].name_off), name) == 0)
				return e[i].val;
	}
	return -1;
}

static bool load_btf(void)
{
	struct btf *btf = btf__parse("/sys/kernel/btf/vmlinux", NULL);
	if (!btf) {
		unavailable("no BTF (/sys/kernel/btf/vmlinux: %s; the kernel needs CONFIG_DEBUG_INFO_BTF)",
			    strerror(errno));
		return false;
	}
	int page = find_struct(btf, "page"), folio = find_struct(btf, "folio");
	if (page < 0) {
		unavailable("BTF has no struct page");
		goto fail;
	}
	K.page_size = btf__resolve_size(btf, (unsigned)page);
	K.o_flags = member_off(btf, page, "flags");
	K.o_refcount = member_off(btf, page, "_refcount");
	K.o_mapcount = member_off(btf, page, "_mapcount");
	K.o_mapping = member_off(btf, page, "mapping");
	K.o_compound_head = member_off(btf, page, "compound_head");
	if (K.page_size <= 0 || K.o_flags < 0 || K.o_refcount < 0 || K.o_mapcount < 0 || K.o_mapping < 0 ||
	    K.o_compound_head < 0) {
		unavailable("struct page in BTF lacks flags, _refcount, _mapcount, mapping or compound_head");
		goto fail;
	}
	K.o_nr_pages = K.o_order = K.o_flags_1 = K.o_entire = K.o_large_mapcount = K.o_pincount = -1;
	if (folio >= 0) {
		K.o_nr_pages = member_off(btf, folio, "_folio_nr_pages");
		K.o_order = member_off(btf, folio, "_folio_order");
		K.o_flags_1 = member_off(btf, folio, "_flags_1");
		K.o_pincount = member_off(btf, folio, "_pincount");
		K.o_large_mapcount = member_off(btf, folio, "_large_mapcount");
		K.o_entire = member_off(btf, folio, "_entire_mapcount");
		if (K.o_entire < 0) {
			/* 6.1: _total_mapcount is the entire-folio (PMD) mapcount
			 * (FOLIO_MATCH(compound_mapcount, _total_mapcount)) */
			K.o_entire = member_off(btf, folio, "_total_mapcount");
			K.entire_is_total_mapcount_6_1 = K.o_entire >= 0;
		}
	} else {
		/* before folios: the first tail page's fields */
		long tail = K.page_size;
		long o;
		if ((o = member_off(btf, page, "compound_mapcount")) >= 0)
			K.o_entire = tail + o;
		if ((o = member_off(btf, page, "compound_pincount")) >= 0)
			K.o_pincount = tail + o;
		if ((o = member_off(btf, page, "compound_order")) >= 0)
			K.o_order = tail + o;
	}
	/* hugetlb's own flags are bits of the head page's (folio's) private:
	 * HPageMigratable() on 6.1, folio_test_hugetlb_migratable() on 6.12 */
	K.o_private = folio >= 0 ? member_off(btf, folio, "private") : -1;
	if (K.o_private < 0)
		K.o_private = member_off(btf, page, "private");
	K.hpg_migratable = (int)enum_value(btf, "HPG_migratable");
	int as = find_struct(btf, "address_space");
	K.o_a_ops = as >= 0 ? member_off(btf, as, "a_ops") : -1;
	K.pg_lru = (int)enum_value(btf, "PG_lru");
	K.pg_head = (int)enum_value(btf, "PG_head");
	K.pg_private = (int)enum_value(btf, "PG_private");
	K.pg_swapcache = (int)enum_value(btf, "PG_swapcache");
	K.pg_swapbacked = (int)enum_value(btf, "PG_swapbacked");
	K.pg_double_map = (int)enum_value(btf, "PG_double_map");
	if (K.pg_lru < 0 || K.pg_head < 0) {
		unavailable("BTF has no enum pageflags (PG_lru, PG_head)");
		goto fail;
	}
	/* pageblocks: mem_section -> usage -> pageblock_flags */
	int ms = find_struct(btf, "mem_section"), usage = find_struct(btf, "mem_section_usage");
	K.ms_size = ms >= 0 ? btf__resolve_size(btf, (unsigned)ms) : -1;
	K.o_ms_usage = ms >= 0 ? member_off(btf, ms, "usage") : -1;
	K.o_usage_pageblock_flags = usage >= 0 ? member_off(btf, usage, "pageblock_flags") : -1;
	long nbits = enum_value(btf, "NR_PAGEBLOCK_BITS"), mend = enum_value(btf, "PB_migrate_end");
	K.nr_pageblock_bits = nbits > 0 ? (int)nbits : 4;
	K.migratetype_bits = mend >= 0 ? (int)mend + 1 : 3;
	K.pb_isolate = (int)enum_value(btf, "PB_migrate_isolate");
	btf__free(btf);
	return true;
fail:
	btf__free(btf);
	return false;
}

/* --- symbols, kcore ------------------------------------------------------ */

static uint64_t kallsym(const char *name)
{
	FILE *f = fopen("/proc/kallsyms", "r");
	if (!f)
		return 0;
	char line[256], sym[128], type;
	unsigned long long addr;
	uint64_t found = 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%llx %c %127s", &addr, &type, sym) == 3 && strcmp(sym, name) == 0) {
			found = addr;
			break;
		}
	fclose(f);
	return found;
}

/* The symbol at exactly addr (an ops table), from a small cache. */
static void symbol_at(uint64_t addr, char *buf, size_t len)
{
	static struct { uint64_t addr; char name[48]; } cache[16];
	static unsigned ncache;
	buf[0] = 0;
	for (unsigned i = 0; i < ncache && i < ARRAY_SIZE(cache); i++)
		if (cache[i].addr == addr) {
			snprintf(buf, len, "%s", cache[i].name);
			return;
		}
	FILE *f = fopen("/proc/kallsyms", "r");
	if (!f)
		return;
	char line[256], sym[128], type;
	unsigned long long a;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%llx %c %127s", &a, &type, sym) == 3 && a == addr) {
			snprintf(buf, len, "%s", sym);
			break;
		}
	fclose(f);
	unsigned slot = ncache++ % ARRAY_SIZE(cache);
	cache[slot].addr = addr;
	snprintf(cache[slot].name, sizeof(cache[slot].name), "%s", buf);
}

static bool load_kcore(void)
{
	/* opened anew each time: the kernel rebuilds kcore's RAM list on open
	 * after memory was hot(un)plugged */
	if (K.kcore >= 0)
		close(K.kcore);
	K.kcore = open("/proc/kcore", O_RDONLY | O_CLOEXEC);
	if (K.kcore < 0) {
		unavailable("/proc/kcore: %s (CONFIG_PROC_KCORE, or kernel lockdown)", strerror(errno));
		return false;
	}
	Elf64_Ehdr eh;
	if (pread(K.kcore, &eh, sizeof(eh), 0) != sizeof(eh) || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_phentsize != sizeof(Elf64_Phdr)) {
		unavailable("/proc/kcore is not a 64-bit ELF core");
		return false;
	}
	K.nsegs = 0;
	for (unsigned i = 0; i < eh.e_phnum && K.nsegs < MAX_SEGS; i++) {
		Elf64_Phdr ph;
		if (pread(K.kcore, &ph, sizeof(ph), (off_t)(eh.e_phoff + i * sizeof(ph))) != sizeof(ph))
			break;
		if (ph.p_type == PT_LOAD)
			K.segs[K.nsegs++] = (struct seg){ ph.p_vaddr, ph.p_memsz, ph.p_offset };
	}
	return K.nsegs > 0;
}

/* Read len bytes of kernel virtual memory at va. */
static int kread(uint64_t va, void *buf, size_t len)
{
	for (int i = 0; i < K.nsegs; i++) {
		const struct seg *s = &K.segs[i];
		if (va >= s->vaddr && va - s->vaddr + len <= s->size)
			return pread(K.kcore, buf, len, (off_t)(s->off + (va - s->vaddr))) == (ssize_t)len ? 0 : -1;
	}
	return -1;
}

static uint64_t kread_u64(uint64_t va, bool *ok)
{
	uint64_t v = 0;
	if (kread(va, &v, sizeof(v)) < 0)
		*ok = false;
	return v;
}

/* /proc/pagetypeinfo: the pageblock order, and the migratetype names in
 * the kernel's own order (its table of names, printed per type). */
static void load_pagetypeinfo(void)
{
	FILE *f = fopen("/proc/pagetypeinfo", "r");
	K.pageblock_order = -1;
	if (!f)
		return;
	char line[1024];
	bool first_zone_done = false;
	char first_zone[64] = "";
	while (fgets(line, sizeof(line), f)) {
		int n;
		char zone[64], type[32];
		if (sscanf(line, "Page block order: %d", &n) == 1)
			K.pageblock_order = n;
		else if (!first_zone_done && sscanf(line, "Node %*d, zone %63s type %31s", zone, type) == 2) {
			if (!first_zone[0])
				snprintf(first_zone, sizeof(first_zone), "%s", zone);
			if (strcmp(zone, first_zone) != 0)
				first_zone_done = true;
			else if (K.n_mt < (int)ARRAY_SIZE(K.mt_names))
				snprintf(K.mt_names[K.n_mt++], sizeof(K.mt_names[0]), "%s", type);
		}
	}
	fclose(f);
}

static void pageblock_type(uint64_t pfn, struct kpage *k)
{
	k->migratetype[0] = 0;
	if (!K.mem_section_sym || K.ms_size <= 0 || K.o_ms_usage < 0 || K.o_usage_pageblock_flags < 0 ||
	    K.pageblock_order < 0)
		return;
	bool ok = true;
	uint64_t nr = pfn >> PFN_SECTION_SHIFT, per_root = 4096 / (uint64_t)K.ms_size;
	/* x86_64 is SPARSEMEM_EXTREME: mem_section is an array of roots */
	uint64_t roots = kread_u64(K.mem_section_sym, &ok);
	uint64_t root = ok ? kread_u64(roots + nr / per_root * 8, &ok) : 0;
	uint64_t usage = ok && root ? kread_u64(root + nr % per_root * (uint64_t)K.ms_size + (uint64_t)K.o_ms_usage, &ok) : 0;
	if (!ok || !usage)
		return;
	uint64_t bitidx = ((pfn & ((1ull << PFN_SECTION_SHIFT) - 1)) >> K.pageblock_order) * (uint64_t)K.nr_pageblock_bits;
	uint64_t word = kread_u64(usage + (uint64_t)K.o_usage_pageblock_flags + bitidx / 64 * 8, &ok);
	if (!ok)
		return;
	uint64_t bits = word >> (bitidx % 64);
	unsigned mt = (unsigned)(bits & ((1u << K.migratetype_bits) - 1));
	if (K.pb_isolate >= 0 && (bits >> K.pb_isolate & 1))
		snprintf(k->migratetype, sizeof(k->migratetype), "Isolate");
	else if (mt < (unsigned)K.n_mt)
		snprintf(k->migratetype, sizeof(k->migratetype), "%s", K.mt_names[mt]);
	else
		snprintf(k->migratetype, sizeof(k->migratetype), "type %u", mt);
}

int kpage_pageblock(uint64_t pfn, char *buf, size_t len, uint64_t *pages)
{
	struct kpage k;
	if (K.why[0] || K.pageblock_order < 0)
		return -1;
	pageblock_type(pfn, &k);
	*pages = 1ull << K.pageblock_order;
	snprintf(buf, len, "%s", k.migratetype);
	return buf[0] ? 0 : -1;
}

/* --- reading a page ------------------------------------------------------ */

static int64_t at_i32(const unsigned char *p, long off)
{
	int32_t v;
	memcpy(&v, p + off, sizeof(v));
	return v;
}

static uint64_t at_u64(const unsigned char *p, long off)
{
	uint64_t v;
	memcpy(&v, p + off, sizeof(v));
	return v;
}

static uint64_t page_va(uint64_t pfn)
{
	return K.vmemmap + pfn * (uint64_t)K.page_size;
}

int kpage_read(uint64_t pfn, struct kpage *k, struct err *e)
{
	if (K.why[0])
		return err_set(e, "%s", K.why);
	memset(k, 0, sizeof(*k));
	k->pfn = k->head_pfn = pfn;
	k->pincount = -1;
	unsigned char pg[256];
	if ((size_t)K.page_size > sizeof(pg))
		return err_set(e, "struct page of %ld bytes", K.page_size);
	if (kread(page_va(pfn), pg, (size_t)K.page_size) < 0)
		return err_set(e, "struct page of PFN %#" PRIx64 " is not in /proc/kcore", pfn);
	uint64_t ch = at_u64(pg, K.o_compound_head);
	if (ch & 1) {  /* a tail page: compound_head points at the head's struct page */
		uint64_t head = ch - 1;
		if (head < K.vmemmap || (head - K.vmemmap) % (uint64_t)K.page_size)
			return err_set(e, "PFN %#" PRIx64 ": compound_head %#" PRIx64 " is not a struct page", pfn, head);
		k->head_pfn = (head - K.vmemmap) / (uint64_t)K.page_size;
	}
	unsigned char *buf = pg;
	static unsigned char *folio_buf;
	uint64_t flags = 0;
	unsigned char head_pg[256];
	if (k->head_pfn != pfn) {
		if (kread(page_va(k->head_pfn), head_pg, (size_t)K.page_size) < 0)
			return err_set(e, "head page of PFN %#" PRIx64 " unreadable", pfn);
		buf = head_pg;
	}
	flags = at_u64(buf, K.o_flags);
	k->refcount = at_i32(buf, K.o_refcount);
	/* pages the kernel uses for itself overlay struct page with other
	 * structs (struct slab, page tables): their "mapping" is not one */
	uint64_t kpf = 0;
	struct err ke;
	if (kpageflags_read(k->head_pfn, 1, &kpf, &ke) == 0 && (kpf & (KPF(KPF_SLAB) | KPF(KPF_PGTABLE)))) {
		k->mapping = kpf & KPF(KPF_SLAB) ? "slab" : "pgtable";
		k->nr = 1;
		pageblock_type(pfn, k);
		return 0;
	}
	k->hugetlb_migratable = -1;
	if (kpf & KPF(KPF_HUGE)) {
		k->hugetlb = true;
		if (K.o_private < 0 || K.hpg_migratable < 0 || K.hpg_migratable > 63)
			snprintf(k->hugetlb_unmeasured, sizeof(k->hugetlb_unmeasured),
				 "BTF has no %s", K.o_private < 0 ? "page.private" : "enum hugetlb_page_flags HPG_migratable");
		else
			k->hugetlb_migratable = (int)(at_u64(buf, K.o_private) >> K.hpg_migratable & 1);
	}
	k->lru = flags >> K.pg_lru & 1;
	/* hugetlb keeps its own flags in private: not private data */
	k->private_ = !k->hugetlb && K.pg_private >= 0 && (flags >> K.pg_private & 1);
	uint64_t mapping = at_u64(buf, K.o_mapping);
	static const char *const kinds[] = { "file", "anon", "movable_ops", "ksm" };
	k->mapping = mapping ? kinds[mapping & 3] : "none";
	bool ok = true;
	uint64_t aops = mapping && !(mapping & 3) && K.o_a_ops >= 0 ? kread_u64(mapping + (uint64_t)K.o_a_ops, &ok) : 0;
	if (aops && ok)
		symbol_at(aops, k->aops, sizeof(k->aops));
	k->swapcache = (mapping & 3) == 1 && K.pg_swapcache >= 0 && (flags >> K.pg_swapcache & 1) &&
		       (K.pg_swapbacked < 0 || (flags >> K.pg_swapbacked & 1));
	k->large = flags >> K.pg_head & 1;
	if (!k->large) {
		k->nr = 1;
		k->mapcount = at_i32(pg, K.o_mapcount) + 1;
		pageblock_type(pfn, k);
		return 0;
	}
	/* a large folio: its second page holds the folio's counters */
	if (!folio_buf && !(folio_buf = malloc(MAX_FOLIO_PAGES * (size_t)K.page_size)))
		return err_set(e, "out of memory");
	if (kread(page_va(k->head_pfn), folio_buf, 2 * (size_t)K.page_size) < 0)
		return err_set(e, "folio of PFN %#" PRIx64 " unreadable", pfn);
	uint64_t nr = 0;
	if (K.o_nr_pages >= 0)
		nr = (uint32_t)at_i32(folio_buf, K.o_nr_pages);
	else if (K.o_order >= 0)
		nr = 1ull << folio_buf[K.o_order];
	else if (K.o_flags_1 >= 0)
		nr = 1ull << (at_u64(folio_buf, K.o_flags_1) & 0xff);
	if (nr < 2 || nr > (1u << 18))
		return err_set(e, "folio of PFN %#" PRIx64 " has an implausible size of %" PRIu64 " pages", pfn, nr);
	k->nr = (uint32_t)nr;
	k->entire = K.o_entire >= 0 ? at_i32(folio_buf, K.o_entire) + 1 : -1;
	k->pincount = K.o_pincount >= 0 ? at_i32(folio_buf, K.o_pincount) : -1;
	bool double_map = K.pg_double_map >= 0 && K.o_flags_1 >= 0 &&
			  (at_u64(folio_buf, K.o_flags_1) >> K.pg_double_map & 1);
	uint64_t want = nr < MAX_FOLIO_PAGES ? nr : MAX_FOLIO_PAGES;
	if (kread(page_va(k->head_pfn), folio_buf, want * (size_t)K.page_size) < 0)
		return err_set(e, "subpages of the folio of PFN %#" PRIx64 " unreadable", pfn);
	/* 6.1 (DoubleMap): a PMD-mapped THP that is also PTE-mapped keeps one
	 * more in every subpage's _mapcount (folio_mapcount() subtracts nr) */
	int64_t adjust = double_map ? 1 : 0;
	for (uint64_t i = 0; i < want; i++) {
		int64_t m = at_i32(folio_buf + i * (size_t)K.page_size, K.o_mapcount) + 1 - adjust;
		if (m > 0) {
			k->pte_mapped++;
			k->pte_total += m;
		}
		if (k->head_pfn + i == pfn)
			k->mapcount = m;
	}
	if (K.o_large_mapcount >= 0 && k->entire >= 0) {
		/* kernels that keep the total themselves: trust it over our sum */
		int64_t total = at_i32(folio_buf, K.o_large_mapcount) + 1;
		k->pte_total = total - k->entire;
	}
	pageblock_type(pfn, k);
	return 0;
}

/* --- set-up and self-check ---------------------------------------------- */

static void kpage_drain(void)
{
	/* migrate_pages(2) from our node set to itself moves nothing but
	 * starts with lru_cache_disable(), which drains every CPU's batch */
	unsigned long nodes = 1;
	syscall(SYS_migrate_pages, 0, sizeof(nodes) * 8, &nodes, &nodes);
}

/* A page of our own, mapped once: the counters must say so, or nothing is
 * measured (kpage_unavailable() says why). */
static void self_check(void)
{
	char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return;  /* cannot check: do not condemn the reader for it */
	p[0] = 1;
	struct err e;
	uint64_t pfn;
	struct kpage k;
	kpage_drain();
	if (pagemap_read(0, (uintptr_t)p, 1, &pfn, &e) == 0 && pfn != PFN_NONE) {
		int64_t kc = kpagecount_read(pfn);
		if (kpage_read(pfn, &k, &e) < 0)
			unavailable("self-check: %s", e.msg);
		else if (k.mapcount != 1 || (kc >= 0 && kc != k.mapcount) || strcmp(k.mapping, "anon") != 0 ||
			   k.refcount < 1 || k.refcount > 3) {
			unavailable("self-check failed: an anonymous page of ours reads refcount %" PRId64 ", mapcount %" PRId64
				    " (kpagecount %" PRId64 "), mapping %s: the layout from BTF does not fit",
				    k.refcount, k.mapcount, kc, k.mapping);
		}
	}
	munmap(p, 4096);
}

static void kpage_init(void)
{
	if (K.tried)
		return;
	K.tried = true;
	if (!load_btf())
		return;
	uint64_t vb = kallsym("vmemmap_base");
	K.mem_section_sym = kallsym("mem_section");
	if (!load_kcore())
		return;
	if (vb) {
		bool ok = true;
		K.vmemmap = kread_u64(vb, &ok);
		if (!ok) {
			unavailable("vmemmap_base at %#" PRIx64 " is not readable through /proc/kcore", vb);
			return;
		}
	} else if (kallsym("_stext")) {
		K.vmemmap = VMEMMAP_START_DEFAULT;  /* no DYNAMIC_MEMORY_LAYOUT */
	} else {
		unavailable("/proc/kallsyms shows no symbols (kptr_restrict?)");
		return;
	}
	load_pagetypeinfo();
	self_check();
}

/* Re-open kcore before a round of reads: memory was plugged or unplugged. */
static void refresh(void)
{
	if (!K.why[0])
		load_kcore();
}

struct json_object *kpage_json(const struct kpage *k)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "refcount", json_object_new_int64(k->refcount));
	json_object_object_add(o, "mapcount", json_object_new_int64(k->mapcount));
	json_object_object_add(o, "mapping", json_object_new_string(k->mapping));
	if (k->aops[0])
		json_object_object_add(o, "aops", json_object_new_string(k->aops));
	json_object_object_add(o, "lru", json_object_new_boolean(k->lru));
	if (k->swapcache)
		json_object_object_add(o, "swapcache", json_object_new_boolean(true));
	if (k->private_)
		json_object_object_add(o, "private", json_object_new_boolean(true));
	if (k->large) {
		struct json_object *f = json_object_new_object();
		json_object_object_add(f, "head_pfn", json_object_new_int64((int64_t)k->head_pfn));
		json_object_object_add(f, "nr", json_object_new_int64(k->nr));
		json_object_object_add(f, "entire_mapcount", json_object_new_int64(k->entire));
		json_object_object_add(f, "pte_mapped", json_object_new_int64(k->pte_mapped));
		json_object_object_add(f, "pte_mappings", json_object_new_int64(k->pte_total));
		json_object_object_add(f, "pincount", json_object_new_int64(k->pincount));
		json_object_object_add(o, "folio", f);
	}
	if (k->migratetype[0])
		json_object_object_add(o, "migratetype", json_object_new_string(k->migratetype));
	if (k->hugetlb) {
		json_object_object_add(o, "hugetlb", json_object_new_boolean(true));
		if (k->hugetlb_migratable >= 0)
			json_object_object_add(o, "hugetlb_migratable", json_object_new_boolean(k->hugetlb_migratable));
		else
			json_object_object_add(o, "hugetlb_unmeasured", json_object_new_string(k->hugetlb_unmeasured));
	}
	return o;
}

void kpage_begin(void)
{
	kpage_init();
	refresh();
	kpage_drain();
}
