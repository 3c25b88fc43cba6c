#define _GNU_SOURCE
#include "run/classify.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "../common/kpageflags.h"

const char *kpf_words(uint64_t flags, char *buf, size_t len)
{
	static const struct { int bit; const char *name; } names[] = {
		{ KPF_ANON, "anon" }, { KPF_THP, "thp" }, { KPF_COMPOUND_HEAD, "head" }, { KPF_COMPOUND_TAIL, "tail" },
		{ KPF_LRU, "lru" }, { KPF_MMAP, "mmap" }, { KPF_SLAB, "slab" }, { KPF_PGTABLE, "pgtable" },
		{ KPF_BUDDY, "buddy" }, { KPF_OFFLINE, "offline" }, { KPF_NOPAGE, "nopage" }, { KPF_HUGE, "huge" },
	};
	size_t o = 0;
	buf[0] = 0;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (flags & KPF(names[i].bit))
			o += (size_t)snprintf(buf + o, o < len ? len - o : 0, "%s%s", o ? "|" : "", names[i].name);
	if (!o)
		snprintf(buf, len, "none");
	return buf;
}

const char *census_words(const struct stuck_block *sb, char *buf, size_t len)
{
	const struct { const char *name; uint64_t n; } parts[] = {
		{ "ours", sb->ours }, { "other LRU", sb->lru }, { "compound tail", sb->compound_tail },
		{ "slab", sb->slab }, { "page-table", sb->pgtable }, { "buddy", sb->buddy },
		{ "unflagged", sb->noflags }, { "other", sb->other },
	};
	size_t o = 0;
	buf[0] = 0;
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		if (parts[i].n)
			o += (size_t)snprintf(buf + o, o < len ? len - o : 0, "%s%" PRIu64 " %s", o ? ", " : "", parts[i].n,
					      parts[i].name);
	if (!o)
		snprintf(buf, len, "no pages in use");
	return buf;
}

static void page_words(const struct named_page *pg, const struct scenario *s, char *buf, size_t len)
{
	char fl[96] = "?";
	if (pg->has_flags)
		kpf_words(pg->flags, fl, sizeof(fl));
	if (pg->owner >= 0)
		snprintf(buf, len, "PFN %#" PRIx64 " = %s %s page %" PRIu64 " (%s)", pg->pfn, s->pops[pg->owner].name,
			 pg->owner_mapping, pg->owner_page, fl);
	else
		snprintf(buf, len, "PFN %#" PRIx64 " not ours (%s)", pg->pfn, fl);
}

/* The population with most pages in the block, or -1. */
static int main_holder(const struct guest_state *st, uint64_t block, uint64_t *pages)
{
	int best = -1;
	*pages = 0;
	size_t n, first = held_find(st, block, &n);
	for (size_t i = first; i < first + n; i++)
		if (st->held[i].pages > *pages) {
			*pages = st->held[i].pages;
			best = st->held[i].pop;
		}
	return best;
}

static bool is(const char *a, const char *b)
{
	return a && strcmp(a, b) == 0;
}

/* The counters, in words. */
static void numbers_words(const struct page_counters *k, char *buf, size_t len)
{
	char mt[48] = "", ops[64] = "";
	if (k->migratetype[0])
		snprintf(mt, sizeof(mt), ", pageblock %s", k->migratetype);
	if (k->aops[0])
		snprintf(ops, sizeof(ops), " (%s)", k->aops);
	if (k->hugetlb) {
		/* a hugetlb page is never on the LRU: its own flag says whether it can migrate */
		snprintf(buf, len,
			 "refcount %" PRId64 ", hugetlb (%" PRIu64 " pages), mapcount %" PRId64 ", %s%s, migratable %s%s",
			 k->refcount, k->large ? k->nr : 1, k->large ? k->entire + k->pte_mappings : k->mapcount, k->mapping, ops,
			 k->hugetlb_migratable > 0 ? "yes (HPG_migratable set)" : k->hugetlb_migratable == 0 ? "no (HPG_migratable clear)"
										       : "not measured",
			 mt);
		return;
	}
	if (k->large)
		snprintf(buf, len,
			 "refcount %" PRId64 ", mapcount %" PRId64 "+%" PRId64 " (PMD %" PRId64 ", PTE-mapped %" PRIu64
			 " of %" PRIu64 "), pincount %" PRId64 ", %s%s%s%s%s%s",
			 k->refcount, k->entire, k->pte_mappings, k->entire, k->pte_mapped, k->nr, k->pincount, k->mapping,
			 ops, k->lru ? ", LRU" : ", not on the LRU", k->swapcache ? ", swap cache" : "",
			 k->private_ ? ", private" : "", mt);
	else
		snprintf(buf, len, "refcount %" PRId64 ", mapcount %" PRId64 ", %s%s%s%s%s%s", k->refcount, k->mapcount,
			 k->mapping, ops, k->lru ? ", LRU" : ", not on the LRU", k->swapcache ? ", swap cache" : "",
			 k->private_ ? ", private" : "", mt);
}

/* GUP_PIN_COUNTING_BIAS: a FOLL_PIN on a small page adds this much to its
 * refcount (a large folio keeps a pincount instead). */
#define PIN_BIAS 1024

void reason_from_counters(const struct page_counters *k, struct declared_hold d, bool dumped, const char *zone,
			  struct measured_reason *m)
{
	memset(m, 0, sizeof(*m));
	numbers_words(k, m->numbers, sizeof(m->numbers));
	int64_t nr = k->large ? (int64_t)k->nr : 1;
	/* what the kernel's own bookkeeping explains: a reference per
	 * mapping (PMD or PTE), the page or swap cache's one per page, one
	 * for private data (buffer heads) */
	int64_t mapped = k->large ? k->entire + k->pte_mappings : k->mapcount;
	int64_t cache = is(k->mapping, "file") || k->swapcache ? nr : 0;
	/* hugetlbfs's page cache: one reference for the whole folio until
	 * 6.7 (hugetlb was special-cased in __filemap_add_folio()), one a
	 * page since, like any large folio (measured: 6.1.192 refcount 2,
	 * 6.12.117 refcount 513 for a page mapped once). The counters do not
	 * say which kernel counts which way: a refcount that covers one a
	 * page is taken as the newer accounting. */
	if (k->hugetlb && is(k->mapping, "file") && k->refcount - (mapped + (k->private_ ? 1 : 0)) < nr)
		cache = 1;
	/* a movable_ops page (zsmalloc, balloon) carries its driver's own */
	int64_t driver = is(k->mapping, "movable_ops") ? 1 : 0;
	int64_t base = mapped + cache + driver + (k->private_ ? 1 : 0);
	m->extra = k->refcount - base;
	/* what the owner said it holds, in references */
	int64_t declared = 0;
	if (is(d.kind, "gup"))
		declared = (int64_t)d.refs * nr;
	else if (is(d.kind, "pin"))
		declared = (int64_t)d.refs * (k->large ? nr : PIN_BIAS);
	/* short-lived references may be GUP references or pins (6.1's
	 * process_vm_readv pins): at most one of either per page at a time */
	int64_t transient_max = (int64_t)d.refs * (k->large ? nr : PIN_BIAS + 1);
	m->expected = base + declared;
	bool pinned = k->large ? k->pincount > 0 : m->extra >= PIN_BIAS;
	bool movable_zone = is(zone, "Movable");
	char bias[160] = "";
	if (!k->large && k->refcount >= PIN_BIAS && !is(d.kind, "pin"))
		snprintf(bias, sizeof(bias), "; refcount %" PRId64 " reaches the pin bias (%d): it looks DMA-pinned "
			 "by count alone (folio_maybe_dma_pinned)", k->refcount, PIN_BIAS);

	/* a hugetlb page in use migrates only when marked migratable
	 * (isolate_hugetlb() and isolate_or_dissolve_huge_page() want
	 * HPG_migratable): clear, it is never even isolated, whatever holds it */
	if (k->hugetlb && k->refcount > 0 && k->hugetlb_migratable == 0) {
		m->reason = VMS_REASON_HUGETLB_UNMIGRATABLE;
		char refs[96];
		if (m->extra == 0)
			snprintf(refs, sizeof(refs), "no extra reference");
		else
			snprintf(refs, sizeof(refs), "extra %" PRId64 " as well", m->extra);
		snprintf(m->words, sizeof(m->words), "a hugetlb page in use not marked migratable (HPG_migratable clear): "
			 "hugetlb migration never isolates it; %s", refs);
		return;
	}
	/* only LRU pages, pages with movable_ops and hugetlb pages (never on
	 * the LRU) can migrate at all */
	if (!k->lru && !is(k->mapping, "movable_ops") && !(k->hugetlb && k->refcount > 0)) {
		m->reason = movable_zone ? VMS_REASON_UNMOVABLE_IN_MOVABLE : VMS_REASON_UNMOVABLE_ALLOCATION;
		m->as_declared = is(d.kind, "unmovable") || !d.kind || !d.kind[0];
		snprintf(m->words, sizeof(m->words), "not on the LRU and no movable_ops: %s%s",
			 k->refcount == 0			? "a free page outside the buddy lists"
			 : is(k->mapping, "slab")		? "a kernel allocation (slab)"
			 : is(k->mapping, "pgtable")		? "a kernel allocation (page table)"
			 : is(k->mapping, "none")		? "a kernel allocation"
							: "it cannot migrate",
			 movable_zone ? ", inside ZONE_MOVABLE" : "");
		if (k->refcount == 0)
			m->reason = VMS_REASON_UNKNOWN;  /* free, yet refused: nothing names why */
		return;
	}
	if (m->extra < 0) {
		m->reason = VMS_REASON_UNKNOWN;
		snprintf(m->words, sizeof(m->words), "refcount below its mappings and caches (%" PRId64
			 "): read while it changed", base);
		return;
	}
	if (m->extra == 0) {
		if (is(d.kind, "transient")) {
			m->reason = VMS_REASON_TRANSIENT_REFERENCE;
			m->as_declared = true;
			snprintf(m->words, sizeof(m->words), "no extra reference left when measured; the owner takes "
				 "short-lived ones%s", bias);
		} else if (dumped) {
			/* isolated, so the isolation check passed: its mapping's
			 * migrate callback refused (secretmem does, by design) */
			m->reason = movable_zone && is(d.kind, "unmovable") ? VMS_REASON_UNMOVABLE_IN_MOVABLE
				    : is(d.kind, "unmovable")             ? VMS_REASON_UNMOVABLE_ALLOCATION
									   : VMS_REASON_MIGRATION_REFUSED;
			m->as_declared = is(d.kind, "unmovable");
			snprintf(m->words, sizeof(m->words), "no extra reference, yet its migration failed%s%s%s",
				 k->aops[0] ? ": refused by " : "", k->aops, bias);
		} else {
			m->reason = VMS_REASON_ISOLATION_FALSE_POSITIVE;
			snprintf(m->words, sizeof(m->words), "no extra reference: nothing holds it beyond its mappings "
				 "and caches%s%s", is(d.kind, "unmovable") ? " (its owner declared it unmovable)" : "", bias);
		}
		return;
	}
	/* extra references: are they what the owner declared? */
	if (is(d.kind, "pin") && pinned && m->extra == declared) {
		m->reason = VMS_REASON_LONGTERM_PIN;
		m->as_declared = true;
		snprintf(m->words, sizeof(m->words), "extra %" PRId64 " = the declared pin%s", m->extra,
			 k->large ? " (pincount)" : " (the pin bias)");
	} else if (is(d.kind, "gup") && m->extra == declared) {
		m->reason = VMS_REASON_GUP_REFERENCE;
		m->as_declared = true;
		snprintf(m->words, sizeof(m->words), "extra %" PRId64 " = the declared GUP reference%s%s", m->extra,
			 declared == 1 ? "" : "s", bias);
	} else if (is(d.kind, "transient") && m->extra <= transient_max) {
		m->reason = VMS_REASON_TRANSIENT_REFERENCE;
		m->as_declared = true;
		snprintf(m->words, sizeof(m->words), "extra %" PRId64 "%s, within the declared transient references or pins",
			 m->extra, pinned ? (k->large ? " (pincount set)" : " (a pin)") : "");
	} else {
		m->reason = VMS_REASON_UNACCOUNTED_REFERENCE;
		snprintf(m->words, sizeof(m->words), "extra %" PRId64 "%s, declared %" PRId64 ": %" PRId64
			 " reference%s nobody accounts for%s",
			 m->extra, pinned ? (k->large ? " (pincount set)" : " (at the pin bias)") : "", declared,
			 m->extra - declared, m->extra - declared == 1 ? "" : "s", bias);
		if (m->extra < declared)
			snprintf(m->words, sizeof(m->words), "extra %" PRId64 ", fewer than the %" PRId64
				 " declared: something else holds it%s", m->extra, declared, bias);
	}
}

static struct declared_hold hold_of(const struct guest_state *st, int owner)
{
	struct declared_hold d = { "", 0 };
	if (owner >= 0 && owner < st->npops && st->pops) {
		d.kind = st->pops[owner].hold;
		d.refs = st->pops[owner].hold_refs;
	}
	return d;
}

static void declared_words(struct declared_hold d, int owner, char *buf, size_t len)
{
	if (owner < 0)
		snprintf(buf, len, "none of ours");
	else if (!d.kind[0])
		snprintf(buf, len, "nothing beyond its mappings");
	else if (is(d.kind, "unmovable"))
		snprintf(buf, len, "unmovable pages");
	else if (is(d.kind, "offline-refusal"))
		snprintf(buf, len, "memory offlining refused");
	else
		snprintf(buf, len, "%" PRIu64 " %s%s a page", d.refs,
			 is(d.kind, "pin") ? "FOLL_LONGTERM pin" : is(d.kind, "gup") ? "GUP reference" : "transient reference",
			 d.refs == 1 ? "" : "s");
}

/* Without counters: the declared hold is all there is. The verdict says so. */
static enum vms_reason declared_reason(struct declared_hold d, bool is_anon_thp)
{
	if (is(d.kind, "gup"))
		return VMS_REASON_GUP_REFERENCE;
	if (is(d.kind, "pin"))
		return VMS_REASON_LONGTERM_PIN;
	if (is(d.kind, "transient"))
		return VMS_REASON_TRANSIENT_REFERENCE;
	if (is(d.kind, "unmovable"))
		return VMS_REASON_UNMOVABLE_ALLOCATION;
	if (is(d.kind, "offline-refusal"))
		return VMS_REASON_OFFLINING_REFUSED;
	return is_anon_thp ? VMS_REASON_ISOLATION_FALSE_POSITIVE : VMS_REASON_UNKNOWN;
}

static bool was_dumped(const struct stuck_block *sb, uint64_t pfn)
{
	for (int i = 0; i < sb->ndumped; i++)
		if (sb->dumped[i].pfn == pfn)
			return true;
	return false;
}

/* A block the kernel did not try in the last attempt. Its pageblocks and
 * the driver's worker tell an attempt that never returned from one that
 * never started. The driver unplugs one range at a time: while its worker
 * is inside alloc_contig_range, blocks it has not reached wait behind the
 * stuck one, so they are stuck by the same offlining. */
static void untried_block(const struct guest_state *st, const struct stuck_block *sb, const char *census,
			  struct block_verdict *v)
{
	char pb[96] = "", worker[460] = "";
	if (sb->pageblocks)
		snprintf(pb, sizeof(pb), "; %" PRIu64 " of its %" PRIu64 " pageblocks isolated", sb->pageblocks_isolated,
			 sb->pageblocks);
	if (st->have_worker_stack)
		snprintf(worker, sizeof(worker), "; virtio-mem worker: %s",
			 st->worker_stack[0] ? st->worker_stack : "not running");
	if (sb->isolation_refusals) {
		/* tried, and refused before anything else is traced: the
		 * kernel's own answer, though it names no page */
		v->reason = VMS_REASON_OFFLINING_REFUSED;
		snprintf(v->basis, sizeof(v->basis), "kernel-trace");
		snprintf(v->evidence, sizeof(v->evidence),
			 "%s (%s); start_isolate_page_range() refused it %" PRIu64 " time%s (%" PRId64 "%s, called by %s): "
			 "isolation found a page it cannot move and named none%s",
			 v->owner >= 0 ? "held" : "none of ours", census, sb->isolation_refusals,
			 sb->isolation_refusals == 1 ? "" : "s", sb->refusal_error, sb->refusal_error == -16 ? " EBUSY" : "",
			 sb->refusal_caller, pb);
		return;
	}
	bool in_acr = strstr(st->worker_stack, "alloc_contig_range") != NULL;
	v->reason = in_acr ? VMS_REASON_OFFLINING_STUCK : VMS_REASON_NOT_RETRIED;
	snprintf(v->evidence, sizeof(v->evidence), "%s (%s); no isolation attempt on it was traced%s%s%s",
		 v->owner >= 0 ? "held" : "none of ours", census, pb,
		 in_acr && !sb->pageblocks_isolated ? "; waits behind the worker's offlining of other blocks" : "", worker);
}

/* The page the kernel named, measured or not. */
static void classify_page(const struct scenario *s, const struct guest_state *st, const struct stuck_block *sb,
			  const struct named_page *pg, const char *how, const char *zone, struct block_verdict *v)
{
	char words[200];
	page_words(pg, s, words, sizeof(words));
	struct declared_hold d = hold_of(st, pg->owner);
	v->owner = pg->owner;
	v->busy_flags = pg->flags;
	v->has_busy_flags = pg->has_flags;
	declared_words(d, pg->owner, v->declared, sizeof(v->declared));
	if (pg->kc.measured) {
		struct measured_reason m;
		reason_from_counters(&pg->kc, d, was_dumped(sb, pg->pfn), zone, &m);
		/* nothing held it, yet it did not move: when migration found no
		 * page to move it to in this window, the kernel said why */
		if ((m.reason == VMS_REASON_ISOLATION_FALSE_POSITIVE || m.reason == VMS_REASON_MIGRATION_REFUSED) &&
		    st->evidence.target_failures) {
			m.reason = VMS_REASON_NO_MIGRATION_TARGET;
			size_t n = strlen(m.words);
			snprintf(m.words + n, sizeof(m.words) - n, "; alloc_migration_target() found no page to move to %" PRIu64
				 " time%s of %" PRIu64 " (%" PRIu64 " migration%s failed)", st->evidence.target_failures,
				 st->evidence.target_failures == 1 ? "" : "s", st->evidence.target_calls,
				 st->evidence.migrate_failed, st->evidence.migrate_failed == 1 ? "" : "s");
		}
		v->reason = m.reason;
		v->has_counters = true;
		v->refcount = pg->kc.refcount;
		v->expected_refs = m.expected;
		v->extra = m.extra;
		snprintf(v->basis, sizeof(v->basis), "measured");
		snprintf(v->counters, sizeof(v->counters), "%s", m.numbers);
		snprintf(v->evidence, sizeof(v->evidence), "%s %s: %s; expected %" PRId64 " (mappings and caches %" PRId64
			 ", declared %s): %s", how, words, m.numbers, m.expected, pg->kc.refcount - m.extra, v->declared,
			 m.words);
		return;
	}
	bool anon_thp = pg->has_flags && (pg->flags & KPF(KPF_ANON)) && (pg->flags & KPF(KPF_THP));
	snprintf(v->unmeasured, sizeof(v->unmeasured), "%s", pg->kc.unmeasured);
	snprintf(v->basis, sizeof(v->basis), "declared");
	if (pg->owner < 0 && pg->has_flags && !(pg->flags & KPF(KPF_LRU)) && !(pg->flags & KPF(KPF_COMPOUND_TAIL))) {
		v->reason = is(zone, "Movable") ? VMS_REASON_UNMOVABLE_IN_MOVABLE : VMS_REASON_UNMOVABLE_ALLOCATION;
		snprintf(v->basis, sizeof(v->basis), "kpageflags");
		snprintf(v->evidence, sizeof(v->evidence), "%s %s: a kernel allocation (refcount not measured: %s)", how,
			 words, pg->kc.unmeasured);
		return;
	}
	v->reason = pg->owner >= 0 ? declared_reason(d, anon_thp) : VMS_REASON_UNKNOWN;
	char dump[96] = "";
	if (pg->refcount >= 0)
		snprintf(dump, sizeof(dump), "; dump_page: refcount %" PRId64 ", mapcount %" PRId64 " (%s)", pg->refcount,
			 pg->mapcount, pg->reason);
	snprintf(v->evidence, sizeof(v->evidence), "%s %s%s; counters not measured (%s): the reason is what the owner "
		 "declared (%s)", how, words, dump, pg->kc.unmeasured, v->declared);
}

void classify_units(struct block_verdict *v, size_t n, uint64_t per_unit)
{
	if (per_unit < 2)
		return;
	for (size_t i = 0; i < n; i++) {
		if (v[i].reason != VMS_REASON_NOT_RETRIED && v[i].reason != VMS_REASON_UNKNOWN)
			continue;
		/* the first block of the same big block with a reason of its own:
		 * the kernel gave up the big block there */
		const struct block_verdict *why = NULL;
		for (size_t k = 0; k < n && !why; k++)
			if (v[k].block / per_unit == v[i].block / per_unit && v[k].unit_of < 0 &&
			    v[k].reason != VMS_REASON_NOT_RETRIED && v[k].reason != VMS_REASON_UNKNOWN)
				why = &v[k];
		if (!why)
			continue;
		char own[sizeof(v[i].evidence)];
		snprintf(own, sizeof(own), "%s", v[i].evidence);
		if (v[i].owner < 0)  /* pages of its own keep their owner */
			v[i].owner = why->owner;
		v[i].reason = why->reason;
		v[i].unit_of = (int64_t)why->block;
		snprintf(v[i].basis, sizeof(v[i].basis), "big-block");
		snprintf(v[i].evidence, sizeof(v[i].evidence),
			 "in the big block of block %" PRIu64 " (Big Block Mode unplugs %" PRIu64 " blocks at once), "
			 "which stays for %s; of its own: %.300s",
			 why->block, per_unit, vms_reason_name(why->reason), own);
	}
}

void classify_block(const struct scenario *s, const struct guest_state *st, const struct stuck_block *sb,
		    const char *zone, struct block_verdict *v)
{
	memset(v, 0, sizeof(*v));
	v->block = sb->block;
	v->released_by = -1;
	v->owner = -1;
	v->known_bug = -1;
	v->unit_of = -1;

	/* without counters for the whole state, every verdict says why */
	if (st->attributed && strcmp(st->counters, "measured") != 0)
		snprintf(v->unmeasured, sizeof(v->unmeasured), "%s", st->counters);
	/* 1. a busy PFN from an isolation failure: the kernel's own answer */
	if (sb->nbusy > 0) {
		/* of the PFNs the kernel named, the first still in use when
		 * read: one already free (migrated, or its holder let go) says
		 * nothing, another it named may still be held */
		int b = 0;
		while (b < sb->nbusy && sb->busy[b].kc.measured && sb->busy[b].kc.refcount == 0)
			b++;
		classify_page(s, st, sb, &sb->busy[b < sb->nbusy ? b : 0], "busy", zone, v);
		return;
	}
	/* 2. a page that failed migration (dump_page) */
	for (int i = 0; i < sb->ndumped; i++)
		if (sb->dumped[i].owner >= 0 || sb->dumped[i].kc.measured) {
			classify_page(s, st, sb, &sb->dumped[i], "dumped", zone, v);
			return;
		}
	/* 3. isolation refused the block before tracing anything: the page
	 * has_unmovable_pages() stops at, found by scanning the block */
	if (sb->nunmovable > 0 && sb->isolation_failures == 0) {
		classify_page(s, st, sb, &sb->unmovable[0], "unmovable (found by scanning the block)", zone, v);
		return;
	}
	/* 4. no page named by the kernel: go by what the block holds */
	snprintf(v->basis, sizeof(v->basis), "census");
	uint64_t pages;
	int holder = main_holder(st, sb->block, &pages);
	if (holder >= 0) {
		struct declared_hold d = hold_of(st, holder);
		v->owner = holder;
		declared_words(d, holder, v->declared, sizeof(v->declared));
		if (st->evidence.trace && sb->isolation_failures == 0) {
			char census[160];
			snprintf(census, sizeof(census), "%" PRIu64 " pages of %s", pages, s->pops[holder].name);
			untried_block(st, sb, census, v);
			return;
		}
		v->reason = declared_reason(d, sb->thp > 0);
		snprintf(v->evidence, sizeof(v->evidence),
			 "holds %" PRIu64 " pages of %s%s; the kernel named no busy page: the reason is what the owner "
			 "declared (%s)",
			 pages, s->pops[holder].name, sb->thp ? " (THP)" : "", v->declared);
		return;
	}
	uint64_t kernelish = sb->slab + sb->pgtable + sb->other + sb->noflags;
	/* a zone is needed to call it unmovable: a block whose memory block
	 * is already gone (being removed) has none */
	if (kernelish && zone[0] && strcmp(zone, "Movable") != 0) {
		v->reason = VMS_REASON_UNMOVABLE_ALLOCATION;
		snprintf(v->evidence, sizeof(v->evidence),
			 "none of ours; %s zone; %" PRIu64 " slab, %" PRIu64 " page-table, %" PRIu64 " other kernel, %" PRIu64
			 " unflagged pages",
			 zone[0] ? zone : "?", sb->slab, sb->pgtable, sb->other, sb->noflags);
		return;
	}
	char census[160];
	census_words(sb, census, sizeof(census));
	if (st->evidence.trace && sb->isolation_failures == 0) {
		untried_block(st, sb, census, v);
		return;
	}
	v->reason = VMS_REASON_UNKNOWN;
	snprintf(v->evidence, sizeof(v->evidence), "none of ours (%s)", census);
}

/* The first failure offline_pages() printed for a range overlapping
 * [start, end], its count summed over the same reason; NULL: none. */
static const struct offline_failure_seen *offline_failure_in(const struct guest_state *st, uint64_t start,
							     uint64_t end, uint64_t *count)
{
	const struct offline_failure_seen *first = NULL;
	*count = 0;
	for (size_t i = 0; i < st->evidence.noffline; i++) {
		const struct offline_failure_seen *f = &st->evidence.offline[i];
		if (f->end < start || f->start > end)
			continue;
		if (!first)
			first = f;
		if (strcmp(f->reason, first->reason) == 0)
			*count += f->count;
	}
	return first;
}

void offline_failure_words(const struct guest_state *st, uint64_t start, uint64_t end, char *buf, size_t len)
{
	uint64_t count;
	const struct offline_failure_seen *f = offline_failure_in(st, start, end, &count);
	if (!f) {
		snprintf(buf, len, "%s", "");
		return;
	}
	snprintf(buf, len, "offline_pages() failed on [mem %#" PRIx64 "-%#" PRIx64 "] due to %s (%" PRIu64 " time%s)",
		 f->start, f->end, f->reason, count, count == 1 ? "" : "s");
}

void classify_offline_refused(const struct guest_state *st, uint64_t start, uint64_t end, struct block_verdict *v)
{
	if (v->reason != VMS_REASON_NOT_RETRIED && v->reason != VMS_REASON_UNKNOWN)
		return;  /* a page the kernel named says more */
	char words[200];
	offline_failure_words(st, start, end, words, sizeof(words));
	if (!words[0])
		return;
	/* the population whose story is a refusal is what to release */
	int refuser = -1;
	for (int p = 0; p < st->npops; p++)
		if (is(st->pops[p].hold, "offline-refusal"))
			refuser = refuser < 0 ? p : -2;
	if (refuser >= 0)
		v->owner = refuser;
	declared_words(hold_of(st, v->owner), v->owner, v->declared, sizeof(v->declared));
	char before[sizeof(v->evidence)];
	snprintf(before, sizeof(before), "%s", v->evidence);
	v->reason = VMS_REASON_OFFLINING_REFUSED;
	snprintf(v->basis, sizeof(v->basis), "kernel-log");
	snprintf(v->evidence, sizeof(v->evidence), "%s, no page named; declared: %s; the block: %.250s", words,
		 v->declared, before);
}

void classify_driver_gave_up(const struct guest_state *st, struct block_verdict *v, size_t n)
{
	if (!st->evidence.driver_broken[0])
		return;
	for (size_t i = 0; i < n; i++) {
		char before[sizeof(v[i].evidence)];
		snprintf(before, sizeof(before), "%s", v[i].evidence);
		snprintf(v[i].evidence, sizeof(v[i].evidence),
			 "the kernel log says \"%s\": the driver handles no request since; before it gave up: %s: %.250s",
			 st->evidence.driver_broken, vms_reason_name(v[i].reason), before);
		v[i].reason = VMS_REASON_DRIVER_GAVE_UP;
		snprintf(v[i].basis, sizeof(v[i].basis), "kernel-log");
	}
}

void block_signature(struct block_verdict *v)
{
	v->signature[0] = 0;
	if (strcmp(v->sysfs, "offlined") != 0 || !v->has_counters || v->extra != 0)
		return;
	if (v->reason == VMS_REASON_ISOLATION_FALSE_POSITIVE)
		snprintf(v->signature, sizeof(v->signature),
			 "compaction's isolation check refused a movable page that sysfs offline then migrated");
	else if (v->reason == VMS_REASON_MIGRATION_REFUSED)
		snprintf(v->signature, sizeof(v->signature),
			 "alloc_contig_range's migration failed on a page that sysfs offline then migrated");
}
