#define _GNU_SOURCE
#include "classify.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "../common/population-types.h"

#define KPF(bit) (UINT64_C(1) << (bit))
enum { KPF_LRU = 5, KPF_SLAB = 7, KPF_BUDDY = 10, KPF_MMAP = 11, KPF_ANON = 12, KPF_HEAD = 15, KPF_TAIL = 16,
       KPF_NOPAGE = 20, KPF_THP = 22, KPF_OFFLINE = 23, KPF_PGTABLE = 26 };

const char *population_hold(const char *type)
{
#define HOLD(id, name, hold, summary) if (strcmp(type, name) == 0) return hold;
	VMS_POPULATION_TYPES(HOLD)
#undef HOLD
	return "";
}

const char *kpf_words(uint64_t flags, char *buf, size_t len)
{
	static const struct { int bit; const char *name; } names[] = {
		{ KPF_ANON, "anon" }, { KPF_THP, "thp" }, { KPF_HEAD, "head" }, { KPF_TAIL, "tail" },
		{ KPF_LRU, "lru" }, { KPF_MMAP, "mmap" }, { KPF_SLAB, "slab" }, { KPF_PGTABLE, "pgtable" },
		{ KPF_BUDDY, "buddy" }, { KPF_OFFLINE, "offline" }, { KPF_NOPAGE, "nopage" },
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
		snprintf(buf, len, "PFN %#" PRIx64 " = %s %s page %" PRIu64 " (%s, mapcount %" PRId64 ")", pg->pfn,
			 s->pops[pg->owner].name, pg->owner_mapping, pg->owner_page, fl, pg->mapcount);
	else
		snprintf(buf, len, "PFN %#" PRIx64 " not ours (%s, mapcount %" PRId64 ")", pg->pfn, fl, pg->mapcount);
}

/* The population with most pages in the block, or -1. */
static int main_holder(const struct guest_state *st, uint64_t block, uint64_t *pages)
{
	int best = -1;
	*pages = 0;
	for (size_t i = 0; i < st->nheld; i++)
		if (st->held[i].block == block && st->held[i].pages > *pages) {
			*pages = st->held[i].pages;
			best = st->held[i].pop;
		}
	return best;
}

/* Reason for a page of population p that the kernel could not take. */
static enum vms_reason owned_reason(const struct scenario *s, int p, bool is_anon_thp)
{
	const char *hold = population_hold(s->pops[p].type);
	int r = hold[0] ? vms_reason_from_name(hold) : -1;
	if (r >= 0)
		return (enum vms_reason)r;
	/* nothing held on purpose: an anonymous THP that still looked
	 * pinned is the signature of an isolation false positive */
	return is_anon_thp ? VMS_REASON_ISOLATION_FALSE_POSITIVE : VMS_REASON_UNKNOWN;
}

void classify_block(const struct scenario *s, const struct guest_state *st, const struct stuck_block *sb,
		    const char *zone, struct block_verdict *v)
{
	char words[200];
	memset(v, 0, sizeof(*v));
	v->block = sb->block;
	v->released_by = -1;
	v->owner = -1;
	v->known_bug = -1;

	/* 1. a busy PFN from an isolation failure: the kernel's own answer */
	for (int i = 0; i < sb->nbusy; i++) {
		const struct named_page *pg = &sb->busy[i];
		page_words(pg, s, words, sizeof(words));
		v->busy_flags = pg->flags;
		v->has_busy_flags = pg->has_flags;
		if (pg->owner >= 0) {
			bool anon_thp = pg->has_flags && (pg->flags & KPF(KPF_ANON)) && (pg->flags & KPF(KPF_THP));
			v->owner = pg->owner;
			v->reason = owned_reason(s, pg->owner, anon_thp);
			snprintf(v->evidence, sizeof(v->evidence), "busy %s%s", words,
				 v->reason == VMS_REASON_ISOLATION_FALSE_POSITIVE ? "; no pin held by the workload" : "");
			return;
		}
		if (pg->has_flags && !(pg->flags & KPF(KPF_LRU)) && !(pg->flags & KPF(KPF_TAIL))) {
			v->reason = VMS_REASON_UNMOVABLE_ALLOCATION;
			snprintf(v->evidence, sizeof(v->evidence), "busy %s: a kernel allocation", words);
			return;
		}
		v->reason = VMS_REASON_UNKNOWN;
		snprintf(v->evidence, sizeof(v->evidence), "busy %s", words);
		return;
	}
	/* 2. a page that failed migration (dump_page) */
	for (int i = 0; i < sb->ndumped; i++) {
		const struct named_page *pg = &sb->dumped[i];
		if (pg->owner < 0)
			continue;
		v->owner = pg->owner;
		v->reason = owned_reason(s, pg->owner, false);
		snprintf(v->evidence, sizeof(v->evidence), "PFN %#" PRIx64 " (%s %s page %" PRIu64 ") dumped: %s, refcount %" PRId64
			 ", mapcount %" PRId64, pg->pfn, s->pops[pg->owner].name, pg->owner_mapping, pg->owner_page,
			 pg->reason, pg->refcount, pg->mapcount);
		return;
	}
	/* 3. no page named by the kernel: go by what the block holds */
	uint64_t pages;
	int holder = main_holder(st, sb->block, &pages);
	if (holder >= 0) {
		v->owner = holder;
		v->reason = owned_reason(s, holder, sb->thp > 0);
		snprintf(v->evidence, sizeof(v->evidence), "holds %" PRIu64 " pages of %s%s; no busy PFN was traced", pages,
			 s->pops[holder].name, sb->thp ? " (THP)" : "");
		return;
	}
	uint64_t kernelish = sb->slab + sb->pgtable + sb->other + sb->noflags;
	if (kernelish && strcmp(zone, "Movable") != 0) {
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
		v->reason = VMS_REASON_NOT_RETRIED;
		snprintf(v->evidence, sizeof(v->evidence), "none of ours (%s); no isolation attempt on it was traced", census);
		return;
	}
	v->reason = VMS_REASON_UNKNOWN;
	snprintf(v->evidence, sizeof(v->evidence), "none of ours (%s)", census);
}
