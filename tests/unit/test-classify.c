/* The classifier: from the evidence a guest reports for a stuck block to
 * one reason of the taxonomy. The reason follows from the kernel's own
 * counters of the busy page, compared with what its owner declared; the
 * counters below are the ones real runs recorded on Debian's 6.1 kernel
 * (kernel-mm.md) or follow the kernel's own accounting rules. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "run/classify.h"

static struct scenario scn;
/* kpageflags seen on Debian 6.1 */
#define F_ANON_PAGE 0x1868ull        /* uptodate|lru... anon|mmap|lru|... of a vmspliced base page */
#define F_ANON_THP_HEAD 0x40d868ull  /* anon|thp|head|lru|mmap */
#define F_SLAB 0x80ull
#define BIT(n) (1ull << (n))

enum { PIPE, THP, PINNED, SECRET, READER, HUGE, NPOPS };

static int setup(void **state)
{
	struct err e;
	const char *text = "[vm]\nzone = kernel\n"
			   "[population pipe]\ntype = vmsplice\nsize = 8M\n"
			   "[population thp]\ntype = thp-cow\nsize = 8M\n"
			   "[population pinned]\ntype = longterm-pin\nsize = 8M\n"
			   "[population secret]\ntype = secretmem\nsize = 4M\n"
			   "[population reader]\ntype = transient-refs\nsize = 4M\n"
			   "[population huge]\ntype = hugetlb\nsize = 4M\nalloc = fallocate\n"
			   "[step all]\nrequested-size = 0\n";
	if (scenario_parse(text, "c.ini", &scn, &e) < 0)
		fail_msg("%s", e.msg);
	return 0;
}

static struct guest_state gs;
static struct held held[4];
static struct pop_state pops[NPOPS];

/* what the guest declares for each population after setup */
static void declare_holds(void)
{
	memset(pops, 0, sizeof(pops));
	snprintf(pops[PIPE].hold, sizeof(pops[PIPE].hold), "gup");
	pops[PIPE].hold_refs = 1;
	snprintf(pops[PINNED].hold, sizeof(pops[PINNED].hold), "pin");
	pops[PINNED].hold_refs = 1;
	snprintf(pops[SECRET].hold, sizeof(pops[SECRET].hold), "unmovable");
	snprintf(pops[READER].hold, sizeof(pops[READER].hold), "transient");
	pops[READER].hold_refs = 1;
}

static void state_with(const struct held *h, size_t n, bool trace)
{
	memset(&gs, 0, sizeof(gs));
	if (n)
		memcpy(held, h, n * sizeof(*h));
	gs.held = held;
	gs.nheld = n;
	gs.evidence.present = true;
	gs.evidence.trace = trace;
	declare_holds();
	gs.pops = pops;
	gs.npops = NPOPS;
}

static struct named_page busy(uint64_t pfn, uint64_t flags, int owner, uint64_t page)
{
	struct named_page p = { .pfn = pfn, .flags = flags, .has_flags = true, .mapcount = 1, .refcount = -1,
				.owner = owner, .owner_page = page };
	snprintf(p.owner_mapping, sizeof(p.owner_mapping), "%s", owner >= 0 ? "self" : "");
	snprintf(p.kc.unmeasured, sizeof(p.kc.unmeasured), "no BTF");
	return p;
}

/* a small page as guest/kpage.c reads it */
static struct page_counters small(int64_t refcount, int64_t mapcount, const char *mapping, bool lru)
{
	struct page_counters k = { .measured = true, .refcount = refcount, .mapcount = mapcount, .lru = lru,
				   .pincount = -1 };
	snprintf(k.mapping, sizeof(k.mapping), "%s", mapping);
	snprintf(k.migratetype, sizeof(k.migratetype), "Movable");
	return k;
}

/* a PMD-size anonymous THP */
static struct page_counters thp(int64_t refcount, int64_t entire, int64_t pte_mappings, uint64_t pte_mapped,
				int64_t pincount)
{
	struct page_counters k = small(refcount, 0, "anon", true);
	k.large = true;
	k.nr = 512;
	k.head_pfn = 0x100600;
	k.entire = entire;
	k.pte_mappings = pte_mappings;
	k.pte_mapped = pte_mapped;
	k.pincount = pincount;
	return k;
}

static struct block_verdict classify_one(int owner, struct page_counters kc, const char *zone)
{
	struct held h[] = { { .block = 5, .pop = owner < 0 ? 0 : owner, .pages = 512 } };
	state_with(h, owner < 0 ? 0 : 1, true);
	struct stuck_block sb = { .block = 5, .ours = 512, .isolation_failures = 3 };
	sb.busy[sb.nbusy] = busy(0x100a00, F_ANON_PAGE, owner, 2560);
	sb.busy[sb.nbusy++].kc = kc;
	struct block_verdict v;
	classify_block(&scn, &gs, &sb, zone, &v);
	return v;
}

static void measured_gup_reference_matches_the_declared_hold(void **state)
{
	/* a vmspliced page: one mapping, one pipe reference (kernel-mm.md) */
	struct block_verdict v = classify_one(PIPE, small(2, 1, "anon", true), "Movable");
	assert_int_equal(v.reason, VMS_REASON_GUP_REFERENCE);
	assert_string_equal(v.basis, "measured");
	assert_true(v.has_counters);
	assert_int_equal(v.refcount, 2);
	assert_int_equal(v.extra, 1);
	assert_int_equal(v.expected_refs, 2);
	assert_non_null(strstr(v.evidence, "busy PFN 0x100a00 = pipe self page 2560"));
	assert_non_null(strstr(v.evidence, "refcount 2, mapcount 1, anon, LRU, pageblock Movable"));
	assert_non_null(strstr(v.evidence, "extra 1 = the declared GUP reference"));
	assert_non_null(strstr(v.declared, "1 GUP reference a page"));
}

static void references_nobody_declared_are_unaccounted(void **state)
{
	/* the pipe declared one reference, the kernel shows two */
	struct block_verdict v = classify_one(PIPE, small(3, 1, "anon", true), "Movable");
	assert_int_equal(v.reason, VMS_REASON_UNACCOUNTED_REFERENCE);
	assert_non_null(strstr(v.evidence, "extra 2, declared 1: 1 reference nobody accounts for"));
	/* a population that declares nothing, holding one anyway */
	v = classify_one(THP, small(2, 1, "anon", true), "Movable");
	assert_int_equal(v.reason, VMS_REASON_UNACCOUNTED_REFERENCE);
	assert_non_null(strstr(v.declared, "nothing beyond its mappings"));
	/* a page none of ours with an extra reference */
	v = classify_one(-1, small(3, 1, "file", true), "Movable");
	assert_int_equal(v.reason, VMS_REASON_UNACCOUNTED_REFERENCE);
	assert_int_equal(v.owner, -1);
}

static void pins_are_measured_by_bias_or_pincount(void **state)
{
	/* FOLL_PIN on a small page adds the bias (1024) */
	struct block_verdict v = classify_one(PINNED, small(1025, 1, "anon", true), "Normal");
	assert_int_equal(v.reason, VMS_REASON_LONGTERM_PIN);
	assert_non_null(strstr(v.evidence, "extra 1024 = the declared pin (the pin bias)"));
	/* a large folio keeps a pincount: 512 pinned subpages, PMD-mapped */
	v = classify_one(PINNED, thp(1 + 512, 1, 0, 0, 512), "Normal");
	assert_int_equal(v.reason, VMS_REASON_LONGTERM_PIN);
	assert_non_null(strstr(v.evidence, "(pincount)"));
	/* the pin was declared, but no pin is there: plain extra references */
	v = classify_one(PINNED, small(3, 1, "anon", true), "Normal");
	assert_int_equal(v.reason, VMS_REASON_UNACCOUNTED_REFERENCE);
	assert_non_null(strstr(v.evidence, "fewer than the 1024 declared"));
	/* a pin nobody declared */
	v = classify_one(PIPE, small(1026, 1, "anon", true), "Normal");
	assert_int_equal(v.reason, VMS_REASON_UNACCOUNTED_REFERENCE);
	assert_non_null(strstr(v.evidence, "(at the pin bias)"));
}

/* The THP mapcount bug (829ae0f81ce0): a CoW'd THP, PMD-mapped in the
 * parent, PTE-mapped in the child but for the copied subpage: refcount
 * 512 = 1 PMD + 511 PTEs. Nothing holds it, yet it was refused. */
static void thp_with_no_extra_reference_is_an_isolation_false_positive(void **state)
{
	struct block_verdict v = classify_one(THP, thp(512, 1, 511, 511, 0), "Movable");
	assert_int_equal(v.reason, VMS_REASON_ISOLATION_FALSE_POSITIVE);
	assert_int_equal(v.extra, 0);
	assert_non_null(strstr(v.evidence, "refcount 512, mapcount 1+511 (PMD 1, PTE-mapped 511 of 512), pincount 0"));
	assert_non_null(strstr(v.evidence, "no extra reference: nothing holds it beyond its mappings and caches"));
	/* whatever the owner: a pipe page with no reference left is the same */
	v = classify_one(PIPE, small(1, 1, "anon", true), "Movable");
	assert_int_equal(v.reason, VMS_REASON_ISOLATION_FALSE_POSITIVE);
	/* the signature from two paths: sysfs offline then took the block */
	v = classify_one(THP, thp(512, 1, 511, 511, 0), "Movable");
	snprintf(v.sysfs, sizeof(v.sysfs), "offlined");
	block_signature(&v);
	assert_non_null(strstr(v.signature, "compaction's isolation check refused a movable page"));
	/* not when sysfs could not take it either, nor with an extra reference */
	snprintf(v.sysfs, sizeof(v.sysfs), "busy");
	block_signature(&v);
	assert_string_equal(v.signature, "");
	v = classify_one(PIPE, small(2, 1, "anon", true), "Movable");
	snprintf(v.sysfs, sizeof(v.sysfs), "offlined");
	block_signature(&v);
	assert_string_equal(v.signature, "");
}

/* The kernel named two PFNs: the first was free when read, the second
 * still pinned: the verdict rests on the one still in use. */
static void a_free_busy_page_gives_way_to_a_held_one(void **state)
{
	struct held h[] = { { .block = 5, .pop = PIPE, .pages = 512 } };
	state_with(h, 1, true);
	struct stuck_block sb = { .block = 5, .ours = 512, .isolation_failures = 3 };
	sb.busy[sb.nbusy] = busy(0x100a00, F_ANON_PAGE, -1, 0);
	sb.busy[sb.nbusy++].kc = small(0, 0, "none", false);
	sb.busy[sb.nbusy] = busy(0x100a01, F_ANON_PAGE, PIPE, 1);
	sb.busy[sb.nbusy++].kc = small(2, 1, "anon", true);
	struct block_verdict v;
	classify_block(&scn, &gs, &sb, "Movable", &v);
	assert_int_equal(v.reason, VMS_REASON_GUP_REFERENCE);
	assert_non_null(strstr(v.evidence, "busy PFN 0x100a01"));
	/* all free: the first, as before */
	sb.busy[1].kc = small(0, 0, "none", false);
	classify_block(&scn, &gs, &sb, "Movable", &v);
	assert_non_null(strstr(v.evidence, "busy PFN 0x100a00"));
}

/* Nothing holds it and it did not move: when migration found no target
 * page in that window (the guest's kretprobe on alloc_migration_target()),
 * that is the kernel's reason, and no refusal by reference. */
static void no_migration_target_is_the_kernels_reason(void **state)
{
	struct held h[] = { { .block = 5, .pop = THP, .pages = 512 } };
	state_with(h, 1, true);
	gs.evidence.target_probe = true;
	gs.evidence.target_calls = 6;
	gs.evidence.target_failures = 4;
	gs.evidence.migrate_failed = 2048;
	struct stuck_block sb = { .block = 5, .ours = 512, .isolation_failures = 3 };
	sb.busy[sb.nbusy] = busy(0x100a00, F_ANON_PAGE, THP, 2560);
	sb.busy[sb.nbusy++].kc = thp(512, 1, 511, 511, 0);
	struct block_verdict v;
	classify_block(&scn, &gs, &sb, "Movable", &v);
	assert_int_equal(v.reason, VMS_REASON_NO_MIGRATION_TARGET);
	assert_string_equal(v.basis, "measured");
	assert_non_null(strstr(v.evidence, "alloc_migration_target() found no page to move to 4 times of 6 (2048 migrations failed)"));
	assert_string_equal(vms_reason_name(v.reason), "no-migration-target");
	/* an extra reference still says more than a missing target */
	state_with(h, 1, true);
	gs.evidence.target_failures = 4;
	gs.evidence.target_calls = 6;
	sb.busy[0].kc = thp(513, 1, 511, 511, 0);
	classify_block(&scn, &gs, &sb, "Movable", &v);
	assert_int_not_equal(v.reason, VMS_REASON_NO_MIGRATION_TARGET);
}

static void page_cache_references_are_expected(void **state)
{
	/* a shmem page mapped once: one for the mapping, one for the cache */
	struct block_verdict v = classify_one(THP, small(2, 1, "file", true), "Movable");
	assert_int_equal(v.reason, VMS_REASON_ISOLATION_FALSE_POSITIVE);
	assert_int_equal(v.extra, 0);
	/* with private data (buffer heads) one more */
	struct page_counters k = small(3, 1, "file", true);
	k.private_ = true;
	v = classify_one(THP, k, "Movable");
	assert_int_equal(v.extra, 0);
	/* an anon page in the swap cache */
	k = small(2, 1, "anon", true);
	k.swapcache = true;
	v = classify_one(THP, k, "Movable");
	assert_int_equal(v.extra, 0);
}

static void high_refcount_looks_pinned_by_count_alone(void **state)
{
	/* a memfd page mapped 1100 times: refcount 1101 (+1 page cache) */
	struct block_verdict v = classify_one(THP, small(1101, 1100, "file", true), "Movable");
	assert_int_equal(v.reason, VMS_REASON_ISOLATION_FALSE_POSITIVE);
	assert_non_null(strstr(v.evidence, "looks DMA-pinned by count alone"));
	/* with a reference more, it is unaccounted, still with the note */
	v = classify_one(THP, small(1102, 1100, "file", true), "Movable");
	assert_int_equal(v.reason, VMS_REASON_UNACCOUNTED_REFERENCE);
	assert_non_null(strstr(v.evidence, "looks DMA-pinned by count alone"));
	/* a page below the bias gets no such note */
	v = classify_one(PIPE, small(2, 1, "anon", true), "Movable");
	assert_null(strstr(v.evidence, "by count alone"));
}

static void kernel_allocations_and_the_movable_zone(void **state)
{
	/* not on the LRU, no mapping: a kernel allocation */
	struct block_verdict v = classify_one(-1, small(1, 0, "none", false), "Normal");
	assert_int_equal(v.reason, VMS_REASON_UNMOVABLE_ALLOCATION);
	assert_non_null(strstr(v.evidence, "a kernel allocation"));
	/* the same inside ZONE_MOVABLE must never happen */
	v = classify_one(-1, small(1, 0, "none", false), "Movable");
	assert_int_equal(v.reason, VMS_REASON_UNMOVABLE_IN_MOVABLE);
	/* a free page the kernel still refused: no allocation to blame */
	v = classify_one(-1, small(0, 0, "none", false), "Movable");
	assert_int_equal(v.reason, VMS_REASON_UNKNOWN);
	assert_non_null(strstr(v.evidence, "a free page outside the buddy lists"));
	/* a slab page: struct slab overlays struct page, no mapping to read */
	v = classify_one(-1, small(1, 0, "slab", false), "Normal");
	assert_int_equal(v.reason, VMS_REASON_UNMOVABLE_ALLOCATION);
	assert_non_null(strstr(v.evidence, "a kernel allocation (slab)"));
	/* movable_ops pages (zsmalloc, balloon) can move although off the LRU */
	v = classify_one(-1, small(1, 0, "movable_ops", false), "Movable");
	assert_int_equal(v.reason, VMS_REASON_ISOLATION_FALSE_POSITIVE);
}

static void secretmem_migration_is_refused_by_its_mapping(void **state)
{
	/* secretmem: on the (unevictable) LRU, a file mapping whose
	 * migrate_folio refuses; isolated, then dumped as a migration failure */
	struct held h[] = { { .block = 2, .pop = SECRET, .pages = 512 } };
	state_with(h, 1, true);
	struct stuck_block sb = { .block = 2, .ours = 512, .isolation_failures = 1 };
	struct page_counters k = small(2, 1, "file", true);
	snprintf(k.aops, sizeof(k.aops), "secretmem_aops");
	sb.busy[sb.nbusy] = busy(0x100400, BIT(5), SECRET, 0);
	sb.busy[sb.nbusy++].kc = k;
	sb.dumped[sb.ndumped++] = (struct named_page){ .pfn = 0x100400, .refcount = 2, .mapcount = 1, .owner = SECRET,
						       .owner_mapping = "self", .reason = "migration failure" };
	struct block_verdict v;
	classify_block(&scn, &gs, &sb, "Normal", &v);
	assert_int_equal(v.reason, VMS_REASON_UNMOVABLE_ALLOCATION);
	assert_non_null(strstr(v.evidence, "refused by secretmem_aops"));
	classify_block(&scn, &gs, &sb, "Movable", &v);
	assert_int_equal(v.reason, VMS_REASON_UNMOVABLE_IN_MOVABLE);
	/* the same refusal for a page whose owner declared nothing */
	sb.busy[0].owner = sb.dumped[0].owner = THP;
	classify_block(&scn, &gs, &sb, "Movable", &v);
	assert_int_equal(v.reason, VMS_REASON_MIGRATION_REFUSED);
}

static void transient_references_come_and_go(void **state)
{
	struct block_verdict v = classify_one(READER, small(1, 1, "anon", true), "Movable");
	assert_int_equal(v.reason, VMS_REASON_TRANSIENT_REFERENCE);
	v = classify_one(READER, small(2, 1, "anon", true), "Movable");
	assert_int_equal(v.reason, VMS_REASON_TRANSIENT_REFERENCE);
	/* 6.1's process_vm_readv pins (FOLL_PIN): the bias, transient too */
	v = classify_one(READER, small(1025, 1, "anon", true), "Movable");
	assert_int_equal(v.reason, VMS_REASON_TRANSIENT_REFERENCE);
	assert_non_null(strstr(v.evidence, "extra 1024 (a pin), within the declared transient references or pins"));
	/* two pins at once on a page is more than was declared */
	v = classify_one(READER, small(2049, 1, "anon", true), "Movable");
	assert_int_equal(v.reason, VMS_REASON_UNACCOUNTED_REFERENCE);
}

/* a 2 MiB hugetlbfs page as guest/kpage.c reads it (Debian 6.1.192, a
 * shared file page mapped once): refcount 2 = the mapping and hugetlbfs's
 * page cache (one reference for the whole folio, not one per subpage),
 * entire mapcount 1, never on the LRU; HPG_migratable from private */
static struct page_counters hugetlb_page(int64_t refcount, int migratable)
{
	struct page_counters k = thp(refcount, 1, 0, 0, 0);
	snprintf(k.mapping, sizeof(k.mapping), "file");
	snprintf(k.aops, sizeof(k.aops), "hugetlbfs_aops");
	k.lru = false;
	k.hugetlb = true;
	k.hugetlb_migratable = migratable;
	return k;
}

static void hugetlb_pages_by_their_migratable_flag(void **state)
{
	/* fallocated without 585fc0d2871c: in use, flag clear */
	struct block_verdict v = classify_one(HUGE, hugetlb_page(2, 0), "Movable");
	assert_int_equal(v.reason, VMS_REASON_HUGETLB_UNMIGRATABLE);
	assert_string_equal(v.basis, "measured");
	assert_int_equal(v.refcount, 2);
	assert_int_equal(v.expected_refs, 2);
	assert_int_equal(v.extra, 0);
	assert_non_null(strstr(v.evidence, "refcount 2, hugetlb (512 pages), mapcount 1, file (hugetlbfs_aops), "
					   "migratable no (HPG_migratable clear), pageblock Movable"));
	assert_non_null(strstr(v.evidence, "not marked migratable (HPG_migratable clear)"));
	assert_non_null(strstr(v.evidence, "no extra reference"));
	assert_string_equal(vms_reason_name(v.reason), "hugetlb-unmigratable");
	/* whoever owns it, and whatever else holds it: the flag decides */
	v = classify_one(PIPE, hugetlb_page(3, 0), "Normal");
	assert_int_equal(v.reason, VMS_REASON_HUGETLB_UNMIGRATABLE);
	assert_non_null(strstr(v.evidence, "extra 1 as well"));
	/* migratable: not a kernel allocation although off the LRU; the
	 * usual rules (no extra reference: isolation false positive) */
	v = classify_one(HUGE, hugetlb_page(2, 1), "Movable");
	assert_int_equal(v.reason, VMS_REASON_ISOLATION_FALSE_POSITIVE);
	assert_int_equal(v.extra, 0);
	assert_non_null(strstr(v.evidence, "migratable yes (HPG_migratable set)"));
	v = classify_one(HUGE, hugetlb_page(3, 1), "Movable");
	assert_int_equal(v.reason, VMS_REASON_UNACCOUNTED_REFERENCE);
	assert_int_equal(v.extra, 1);
	/* the flag not measured (no HPG_migratable in BTF): never this reason */
	v = classify_one(HUGE, hugetlb_page(2, -1), "Movable");
	assert_int_equal(v.reason, VMS_REASON_ISOLATION_FALSE_POSITIVE);
	assert_non_null(strstr(v.evidence, "migratable not measured"));
	/* a free huge page of the pool (refcount 0, flag cleared when freed)
	 * is dissolved, not migrated: not this reason */
	v = classify_one(HUGE, hugetlb_page(0, 0), "Movable");
	assert_int_not_equal(v.reason, VMS_REASON_HUGETLB_UNMIGRATABLE);
	/* 6.7+ counts the page cache of a hugetlb folio one a page, like any
	 * large folio: refcount 513 (Debian's 6.12.117) is no extra either */
	v = classify_one(HUGE, hugetlb_page(513, 0), "Movable");
	assert_int_equal(v.reason, VMS_REASON_HUGETLB_UNMIGRATABLE);
	assert_int_equal(v.extra, 0);
	assert_int_equal(v.expected_refs, 513);
	v = classify_one(HUGE, hugetlb_page(513, 1), "Movable");
	assert_int_equal(v.reason, VMS_REASON_ISOLATION_FALSE_POSITIVE);
	v = classify_one(HUGE, hugetlb_page(514, 1), "Movable");
	assert_int_equal(v.reason, VMS_REASON_UNACCOUNTED_REFERENCE);
	assert_int_equal(v.extra, 1);
	/* a private (anonymous) hugetlb page has no page cache reference */
	struct page_counters k = hugetlb_page(1, 0);
	snprintf(k.mapping, sizeof(k.mapping), "anon");
	k.aops[0] = 0;
	v = classify_one(HUGE, k, "Movable");
	assert_int_equal(v.reason, VMS_REASON_HUGETLB_UNMIGRATABLE);
	assert_int_equal(v.extra, 0);
}

static void inconsistent_counters_are_unknown(void **state)
{
	struct block_verdict v = classify_one(PIPE, small(0, 1, "anon", true), "Movable");
	assert_int_equal(v.reason, VMS_REASON_UNKNOWN);
	assert_non_null(strstr(v.evidence, "read while it changed"));
}

/* Without counters (no BTF, no kcore) the declaration is all there is, and
 * the verdict says the reason rests on it. */
static void unmeasured_pages_fall_back_to_the_declaration(void **state)
{
	struct held h[] = { { .block = 5, .pop = PIPE, .pages = 512 } };
	state_with(h, 1, true);
	struct stuck_block sb = { .block = 5, .ours = 512, .isolation_failures = 3 };
	sb.busy[sb.nbusy++] = busy(0x100a00, F_ANON_PAGE, PIPE, 2560);
	struct block_verdict v;
	classify_block(&scn, &gs, &sb, "Movable", &v);
	assert_int_equal(v.reason, VMS_REASON_GUP_REFERENCE);
	assert_string_equal(v.basis, "declared");
	assert_false(v.has_counters);
	assert_string_equal(v.unmeasured, "no BTF");
	assert_non_null(strstr(v.evidence, "counters not measured (no BTF)"));
	/* an anon THP of a population that declares nothing */
	sb.busy[0] = busy(0x100600, F_ANON_THP_HEAD, THP, 0);
	classify_block(&scn, &gs, &sb, "Movable", &v);
	assert_int_equal(v.reason, VMS_REASON_ISOLATION_FALSE_POSITIVE);
	assert_string_equal(v.basis, "declared");
	/* a slab page of the kernel: kpageflags tell it */
	state_with(NULL, 0, true);
	sb.busy[0] = busy(0x100e10, F_SLAB, -1, 0);
	classify_block(&scn, &gs, &sb, "Normal", &v);
	assert_int_equal(v.reason, VMS_REASON_UNMOVABLE_ALLOCATION);
	assert_string_equal(v.basis, "kpageflags");
	assert_non_null(strstr(v.evidence, "not ours (slab"));
}

static void secretmem_by_ownership(void **state)
{
	/* no trace: the block holds secretmem pages */
	struct held h[] = { { .block = 1, .pop = SECRET, .pages = 300 }, { .block = 1, .pop = PIPE, .pages = 2 } };
	state_with(h, 2, false);
	struct stuck_block sb = { .block = 1, .ours = 302 };
	struct block_verdict v;
	classify_block(&scn, &gs, &sb, "Normal", &v);
	assert_int_equal(v.reason, VMS_REASON_UNMOVABLE_ALLOCATION);
	assert_int_equal(v.owner, SECRET);
	assert_string_equal(v.basis, "census");
	assert_non_null(strstr(v.evidence, "holds 300 pages of secret"));
}

static void dumped_page_names_its_owner(void **state)
{
	state_with(NULL, 0, true);
	struct stuck_block sb = { .block = 2, .ours = 10 };
	sb.dumped[sb.ndumped++] = (struct named_page){ .pfn = 0x100400, .refcount = 1025, .mapcount = 1, .owner = PINNED,
						       .owner_mapping = "self", .reason = "migration failure" };
	sb.dumped[0].kc = small(1025, 1, "anon", true);
	struct block_verdict v;
	classify_block(&scn, &gs, &sb, "Normal", &v);
	assert_int_equal(v.reason, VMS_REASON_LONGTERM_PIN);
	assert_non_null(strstr(v.evidence, "dumped PFN 0x100400 = pinned self page"));
}

static void unowned_blocks(void **state)
{
	struct block_verdict v;
	/* Normal zone, kernel pages, nothing traced: unmovable allocation */
	state_with(NULL, 0, true);
	struct stuck_block sb = { .block = 4, .pgtable = 3, .noflags = 500 };
	classify_block(&scn, &gs, &sb, "Normal", &v);
	assert_int_equal(v.reason, VMS_REASON_UNMOVABLE_ALLOCATION);
	assert_non_null(strstr(v.evidence, "3 page-table"));
	/* Movable zone, traced, never tried */
	struct stuck_block sb2 = { .block = 4, .noflags = 512 };
	classify_block(&scn, &gs, &sb2, "Movable", &v);
	assert_int_equal(v.reason, VMS_REASON_NOT_RETRIED);
	/* no trace: nothing to go by */
	state_with(NULL, 0, false);
	classify_block(&scn, &gs, &sb2, "Movable", &v);
	assert_int_equal(v.reason, VMS_REASON_UNKNOWN);
}

/* A block the kernel never tried: an attempt that never returned (its
 * pageblocks isolated, the worker inside alloc_contig_range) is told from
 * one that never started; blocks waiting behind a stuck worker are stuck
 * by that offlining. */
static void untried_blocks_by_pageblocks_and_worker(void **state)
{
	struct block_verdict v;
	state_with(NULL, 0, true);
	gs.have_worker_stack = true;
	snprintf(gs.worker_stack, sizeof(gs.worker_stack),
		 "node_page_state < isolate_migratepages_block < __alloc_contig_migrate_range < alloc_contig_range");
	struct stuck_block sb = { .block = 64, .buddy = 512, .pageblocks = 1, .pageblocks_isolated = 1 };
	classify_block(&scn, &gs, &sb, "Movable", &v);
	assert_int_equal(v.reason, VMS_REASON_OFFLINING_STUCK);
	assert_non_null(strstr(v.evidence, "1 of its 1 pageblocks isolated"));
	assert_non_null(strstr(v.evidence, "virtio-mem worker: node_page_state < isolate_migratepages_block"));
	assert_null(strstr(v.evidence, "waits behind"));
	/* pageblocks not isolated, the worker stuck on others: it waits */
	sb.pageblocks_isolated = 0;
	classify_block(&scn, &gs, &sb, "Movable", &v);
	assert_int_equal(v.reason, VMS_REASON_OFFLINING_STUCK);
	assert_non_null(strstr(v.evidence, "waits behind the worker's offlining of other blocks"));
	/* the worker is idle: not tried, isolated or not */
	gs.worker_stack[0] = 0;
	classify_block(&scn, &gs, &sb, "Movable", &v);
	assert_int_equal(v.reason, VMS_REASON_NOT_RETRIED);
	sb.pageblocks_isolated = 1;
	classify_block(&scn, &gs, &sb, "Movable", &v);
	assert_int_equal(v.reason, VMS_REASON_NOT_RETRIED);
	assert_non_null(strstr(v.evidence, "virtio-mem worker: not running"));
	/* the kprobes saw isolation refuse it: tried and refused, in the
	 * kernel's own (traced) words, though no page was named */
	sb.probed = true;
	sb.isolation_refusals = 3;
	sb.refusal_error = -16;
	snprintf(sb.refusal_caller, sizeof(sb.refusal_caller), "alloc_contig_range");
	classify_block(&scn, &gs, &sb, "Movable", &v);
	assert_int_equal(v.reason, VMS_REASON_OFFLINING_REFUSED);
	assert_string_equal(v.basis, "kernel-trace");
	assert_non_null(strstr(v.evidence, "start_isolate_page_range() refused it 3 times (-16 EBUSY, called by alloc_contig_range)"));
}

/* Big Block Mode: blocks with no reason of their own take the reason of
 * the block where the kernel gave up their big block; their own pages keep
 * their owner; other big blocks are left alone. */
static void big_blocks(void **state)
{
	struct block_verdict v[5];
	memset(v, 0, sizeof(v));
	uint64_t blocks[5] = { 0, 1, 2, 4, 5 };
	for (int i = 0; i < 5; i++)
		v[i] = (struct block_verdict){ .block = blocks[i], .owner = -1, .reason = VMS_REASON_NOT_RETRIED,
					       .unit_of = -1, .released_by = -1 };
	v[0].owner = 1;
	v[0].reason = VMS_REASON_GUP_REFERENCE;
	v[1].owner = 2;  /* pages of another population, never tried */
	v[4].reason = VMS_REASON_UNKNOWN;
	classify_units(v, 5, 4);  /* big blocks of 4: {0,1,2} and {4,5} */
	assert_int_equal(v[1].reason, VMS_REASON_GUP_REFERENCE);
	assert_int_equal(v[1].owner, 2);
	assert_int_equal(v[1].unit_of, 0);
	assert_int_equal(v[2].reason, VMS_REASON_GUP_REFERENCE);
	assert_int_equal(v[2].owner, 1);
	assert_string_equal(v[2].basis, "big-block");
	assert_non_null(strstr(v[2].evidence, "in the big block of block 0 (Big Block Mode unplugs 4 blocks at once), which stays for gup-reference"));
	/* the other big block has no reason anywhere: nothing is made up */
	assert_int_equal(v[3].reason, VMS_REASON_NOT_RETRIED);
	assert_int_equal(v[3].unit_of, -1);
	assert_int_equal(v[4].reason, VMS_REASON_UNKNOWN);
	/* Sub Block Mode (a unit of one block): nothing changes */
	v[2] = (struct block_verdict){ .block = 2, .owner = -1, .reason = VMS_REASON_NOT_RETRIED, .unit_of = -1 };
	classify_units(v, 5, 1);
	assert_int_equal(v[2].reason, VMS_REASON_NOT_RETRIED);
}

/* Isolation refused the block before any trace: the in-use page that is
 * neither on the LRU nor movable_ops, found by scanning, is the reason. */
static void scanned_unmovable_page(void **state)
{
	struct held h[] = { { .block = 6, .pop = SECRET, .pages = 507 } };
	state_with(h, 1, true);
	struct stuck_block sb = { .block = 6, .ours = 507, .noflags = 5 };
	sb.unmovable[sb.nunmovable] = busy(0x100c04, 0, -1, 0);
	sb.unmovable[sb.nunmovable++].kc = small(1, 0, "none", false);
	struct block_verdict v;
	classify_block(&scn, &gs, &sb, "Normal", &v);
	assert_int_equal(v.reason, VMS_REASON_UNMOVABLE_ALLOCATION);
	assert_int_equal(v.owner, -1);
	assert_string_equal(v.basis, "measured");
	assert_non_null(strstr(v.evidence, "unmovable (found by scanning the block) PFN 0x100c04 not ours"));
	assert_non_null(strstr(v.evidence, "a kernel allocation"));
}

/* offline_pages() printed why it failed on the block's range and no page
 * was named: that is the reason, and the population that declared a
 * refusal owns it; a named page says more and is kept. */
static void offline_refused_in_the_kernels_words(void **state)
{
	state_with(NULL, 0, true);
	snprintf(pops[READER].hold, sizeof(pops[READER].hold), "offline-refusal");
	pops[READER].hold_refs = 0;
	gs.evidence.offline[gs.evidence.noffline++] = (struct offline_failure_seen){ 0x118000000, 0x11fffffff, 2,
										     "notifier failure" };
	gs.evidence.offline[gs.evidence.noffline++] = (struct offline_failure_seen){ 0x118000000, 0x11fffffff, 1,
										     "notifier failure" };
	struct stuck_block sb = { .block = 192, .buddy = 512 };
	struct block_verdict v;
	classify_block(&scn, &gs, &sb, "Movable", &v);
	assert_int_equal(v.reason, VMS_REASON_NOT_RETRIED);
	classify_offline_refused(&gs, 0x118000000, 0x1181fffff, &v);
	assert_int_equal(v.reason, VMS_REASON_OFFLINING_REFUSED);
	assert_int_equal(v.owner, READER);
	assert_string_equal(v.basis, "kernel-log");
	assert_non_null(strstr(v.evidence, "offline_pages() failed on [mem 0x118000000-0x11fffffff] due to notifier "
					   "failure (3 times), no page named; declared: memory offlining refused"));
	/* a block outside every failed range keeps what it had */
	classify_block(&scn, &gs, &sb, "Movable", &v);
	classify_offline_refused(&gs, 0x100000000, 0x1001fffff, &v);
	assert_int_equal(v.reason, VMS_REASON_NOT_RETRIED);
	/* a reason from a named page is not overridden */
	v.reason = VMS_REASON_GUP_REFERENCE;
	classify_offline_refused(&gs, 0x118000000, 0x1181fffff, &v);
	assert_int_equal(v.reason, VMS_REASON_GUP_REFERENCE);
	/* two populations declaring a refusal: nobody is picked */
	snprintf(pops[PIPE].hold, sizeof(pops[PIPE].hold), "offline-refusal");
	classify_block(&scn, &gs, &sb, "Movable", &v);
	classify_offline_refused(&gs, 0x118000000, 0x1181fffff, &v);
	assert_int_equal(v.reason, VMS_REASON_OFFLINING_REFUSED);
	assert_int_equal(v.owner, -1);
}

/* The driver's own "marking device broken": every block stays for that,
 * its earlier reason kept in the evidence; without the line nothing changes. */
static void driver_gave_up(void **state)
{
	state_with(NULL, 0, true);
	struct block_verdict v[2] = { { .block = 1, .reason = VMS_REASON_NOT_RETRIED, .owner = -1 },
				      { .block = 2, .reason = VMS_REASON_OFFLINING_REFUSED, .owner = READER } };
	snprintf(v[1].evidence, sizeof(v[1].evidence), "offline_pages() failed");
	classify_driver_gave_up(&gs, v, 2);
	assert_int_equal(v[0].reason, VMS_REASON_NOT_RETRIED);
	snprintf(gs.evidence.driver_broken, sizeof(gs.evidence.driver_broken),
		 "virtio_mem virtio0: unknown error, marking device broken: -5");
	classify_driver_gave_up(&gs, v, 2);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(v[i].reason, VMS_REASON_DRIVER_GAVE_UP);
		assert_string_equal(v[i].basis, "kernel-log");
		assert_non_null(strstr(v[i].evidence, "the kernel log says \"virtio_mem virtio0: unknown error, marking "
						      "device broken: -5\": the driver handles no request since"));
	}
	assert_non_null(strstr(v[1].evidence, "before it gave up: offlining-refused: offline_pages() failed"));
	assert_int_equal(v[1].owner, READER);
}

static void reason_names_round_trip(void **state)
{
	for (int i = 0; i < VMS_REASON_COUNT; i++)
		assert_int_equal(vms_reason_from_name(vms_reason_name((enum vms_reason)i)), i);
	assert_int_equal(vms_reason_from_name("gup"), -1);
	assert_int_equal(vms_reason_from_name("unaccounted-reference"), VMS_REASON_UNACCOUNTED_REFERENCE);
	assert_int_equal(vms_reason_from_name("unmovable-in-movable-zone"), VMS_REASON_UNMOVABLE_IN_MOVABLE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(measured_gup_reference_matches_the_declared_hold),
		cmocka_unit_test(offline_refused_in_the_kernels_words),
		cmocka_unit_test(driver_gave_up),
		cmocka_unit_test(references_nobody_declared_are_unaccounted),
		cmocka_unit_test(pins_are_measured_by_bias_or_pincount),
		cmocka_unit_test(thp_with_no_extra_reference_is_an_isolation_false_positive),
		cmocka_unit_test(no_migration_target_is_the_kernels_reason),
		cmocka_unit_test(a_free_busy_page_gives_way_to_a_held_one),
		cmocka_unit_test(page_cache_references_are_expected),
		cmocka_unit_test(high_refcount_looks_pinned_by_count_alone),
		cmocka_unit_test(kernel_allocations_and_the_movable_zone),
		cmocka_unit_test(secretmem_migration_is_refused_by_its_mapping),
		cmocka_unit_test(transient_references_come_and_go),
		cmocka_unit_test(hugetlb_pages_by_their_migratable_flag),
		cmocka_unit_test(inconsistent_counters_are_unknown),
		cmocka_unit_test(unmeasured_pages_fall_back_to_the_declaration),
		cmocka_unit_test(secretmem_by_ownership),
		cmocka_unit_test(dumped_page_names_its_owner),
		cmocka_unit_test(unowned_blocks),
		cmocka_unit_test(untried_blocks_by_pageblocks_and_worker),
		cmocka_unit_test(scanned_unmovable_page),
		cmocka_unit_test(big_blocks),
		cmocka_unit_test(reason_names_round_trip),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
