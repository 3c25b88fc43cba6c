/* Guest code that needs no VM, on the host: the stamps, the sampled
 * verify of pop_verify() (stride, absent, moved, discarded, first bad
 * page), region_held_blocks() (which population sits in which block) and
 * the pairing of the kprobes' starts and returns of
 * start_isolate_page_range() into refusals per range. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../guest/evidence.h"
#include "../../guest/pageinfo.h"
#include "../../guest/population.h"
#include "../../guest/region.h"
#include "../../guest/stamp.h"

/* population.c finds types by name in the guest's table; none are built here */
const struct population_type *const population_types[] = { NULL };

static void stamps(void **state)
{
	static char page[PAGE_SIZE_4K] __attribute__((aligned(4096)));
	struct stamp_key k = { .pop = 3, .buffer = 1, .gen = 7, .page = 42 };
	stamp_fill(page, k);
	assert_true(stamp_check(page, k));
	struct stamp_key other = k;
	other.gen = 8;  /* an older or newer write is not this one */
	assert_false(stamp_check(page, other));
	other = k;
	other.page = 43;  /* a page that moved to another's place */
	assert_false(stamp_check(page, other));
	other = k;
	other.pop = 4;
	assert_false(stamp_check(page, other));
	page[PAGE_SIZE_4K - 1] ^= 1;  /* one bit anywhere in the page */
	assert_false(stamp_check(page, k));
	memset(page, 0, sizeof(page));
	assert_false(stamp_check(page, k));  /* zeros are never a stamp */
}

/* A population of n pages of our own memory, stamped with generation 1 and
 * "located" at PFNs 1000+i. */
static struct population *own_pages(size_t n, char **mem)
{
	static struct population p;
	struct err e = { "" };
	memset(&p, 0, sizeof(p));
	snprintf(p.name, sizeof(p.name), "t");
	p.id = 2;
	*mem = aligned_alloc(PAGE_SIZE_4K, n * PAGE_SIZE_4K);
	assert_non_null(*mem);
	struct mapping *m = pop_track(&p, 0, *mem, n, 0, "self", &e);
	assert_non_null(m);
	pop_stamp(&p, m, 1);
	for (size_t i = 0; i < n; i++)
		m->pfn_setup[i] = m->pfn_now[i] = 1000 + i;
	m->located = true;
	return &p;
}

static void verify_samples_and_counts(void **state)
{
	char *mem;
	struct population *p = own_pages(200, &mem);
	struct mapping *m = &p->maps[0];
	struct pop_stats s;
	struct err e = { "" };
	assert_int_equal(pop_verify(p, &s, 1, &e), 0);
	assert_int_equal(s.pages, 200);
	assert_int_equal(s.checked, 200);
	assert_int_equal(s.verified, 200);
	assert_int_equal(s.corrupted, 0);
	assert_int_equal(s.first_bad_page, -1);
	/* every 64th page and the last: 0, 64, 128, 192, 199 */
	assert_int_equal(pop_verify(p, &s, 64, &e), 0);
	assert_int_equal(s.checked, 5);
	assert_int_equal(s.verified, 5);
	/* a bad page between samples is seen only by a full check */
	mem[65 * PAGE_SIZE_4K + 8] ^= 0x40;
	assert_int_equal(pop_verify(p, &s, 64, &e), 0);
	assert_int_equal(s.corrupted, 0);
	assert_int_equal(pop_verify(p, &s, 1, &e), 0);
	assert_int_equal(s.corrupted, 1);
	assert_int_equal(s.first_bad_page, 65);
	assert_string_equal(s.first_bad_role, "self");
	/* the last page is always sampled */
	mem[199 * PAGE_SIZE_4K] ^= 1;
	assert_int_equal(pop_verify(p, &s, 64, &e), 0);
	assert_int_equal(s.corrupted, 1);
	assert_int_equal(s.first_bad_page, 199);
	mem[65 * PAGE_SIZE_4K + 8] ^= 0x40;
	mem[199 * PAGE_SIZE_4K] ^= 1;
	/* moved and absent come from the PFNs, for every page */
	m->pfn_now[3] = 5000;
	m->pfn_now[4] = PFN_NONE;
	assert_int_equal(pop_verify(p, &s, 64, &e), 0);
	assert_int_equal(s.moved, 1);
	assert_int_equal(s.absent, 1);
	/* a zeroed page is corruption, unless it may be zero (clean MADV_FREE):
	 * then discarded, and a missing one is not absent */
	m->pfn_now[3] = 1003;
	memset(mem + 128 * PAGE_SIZE_4K, 0, PAGE_SIZE_4K);
	assert_int_equal(pop_verify(p, &s, 1, &e), 0);
	assert_int_equal(s.corrupted, 1);
	m->may_zero = calloc(200, 1);
	m->may_zero[128] = m->may_zero[4] = 1;
	assert_int_equal(pop_verify(p, &s, 1, &e), 0);
	assert_int_equal(s.corrupted, 0);
	assert_int_equal(s.discarded, 1);
	assert_int_equal(s.absent, 0);
	/* what a release read back wrong counts as corrupted */
	p->release_corrupted = 3;
	assert_int_equal(pop_verify(p, &s, 1, &e), 0);
	assert_int_equal(s.corrupted, 3);
	assert_string_equal(s.first_bad_role, "read back at release");
	p->release_corrupted = 0;
	free(m->may_zero);
	m->may_zero = NULL;
	pop_free(p);
	free(mem);
}

static void held_blocks_by_pfn(void **state)
{
	/* a 16 MiB region of 2 MiB blocks at 4 GiB: PFNs 0x100000.. */
	struct region r = { .addr = 4ull << 30, .size = 16ull << 20, .block_size = 2ull << 20, .nblocks = 8,
			    .memory_block_size = 128ull << 20 };
	static struct population pops[2];
	struct err e = { "" };
	memset(pops, 0, sizeof(pops));
	snprintf(pops[0].name, sizeof(pops[0].name), "a");
	snprintf(pops[1].name, sizeof(pops[1].name), "b");
	char *mem = aligned_alloc(PAGE_SIZE_4K, 4 * PAGE_SIZE_4K);
	struct mapping *ma = pop_track(&pops[0], 0, mem, 3, 0, "self", &e);
	struct mapping *mb = pop_track(&pops[1], 0, mem + 3 * PAGE_SIZE_4K, 1, 1, "self", &e);
	assert_non_null(ma);
	assert_non_null(mb);
	ma->pfn_now[0] = 0x100000 + 512 * 5;       /* block 5 */
	ma->pfn_now[1] = 0x100000 + 512 * 5 + 7;   /* block 5 */
	ma->pfn_now[2] = 0xfffff;                  /* below the region: not counted */
	mb->pfn_now[0] = 0x100000 + 512 * 2 + 1;   /* block 2 */
	struct json_object *held = region_held_blocks(&r, pops, 2, &e), *o, *pages, *v;
	assert_non_null(held);
	assert_int_equal(json_object_array_length(held), 2);
	o = json_object_array_get_idx(held, 0);  /* in block order */
	assert_true(json_object_object_get_ex(o, "block", &v));
	assert_int_equal(json_object_get_int64(v), 2);
	assert_true(json_object_object_get_ex(o, "pages", &pages));
	assert_true(json_object_object_get_ex(pages, "b", &v));
	assert_int_equal(json_object_get_int64(v), 1);
	o = json_object_array_get_idx(held, 1);
	assert_true(json_object_object_get_ex(o, "block", &v));
	assert_int_equal(json_object_get_int64(v), 5);
	assert_true(json_object_object_get_ex(o, "pages", &pages));
	assert_true(json_object_object_get_ex(pages, "a", &v));
	assert_int_equal(json_object_get_int64(v), 2);
	assert_false(json_object_object_get_ex(pages, "b", &v));
	json_object_put(held);
	pop_free(&pops[0]);
	pop_free(&pops[1]);
	free(mem);
}

static void isolation_refusals_from_the_trace(void **state)
{
	(void)state;
	static struct evidence ev;  /* large */
	memset(&ev, 0, sizeof(ev));
	ev.probe_ok = true;
	const char *lines[] = {
		"# tracer: nop\n",
		/* two workers interleaved: each return pairs with its own start */
		"  kworker/u4:1-40   [000] .....  1.0: vms_isolate_start: (start_isolate_page_range+0x0/0x1c0) "
		"start_pfn=0x100000 end_pfn=0x100200\n",
		"  kworker/1:2-53    [001] .....  1.1: vms_isolate_start: (start_isolate_page_range+0x0/0x1c0) "
		"start_pfn=0x108000 end_pfn=0x110000\n",
		"  kworker/1:2-53    [001] .....  1.2: vms_isolate_end: (offline_pages+0x1a/0x300 <- "
		"start_isolate_page_range) ret=0\n",
		"  kworker/u4:1-40   [001] .....  1.3: vms_isolate_end: (alloc_contig_range+0xd6/0x2a0 <- "
		"start_isolate_page_range) ret=-16\n",
		/* the same range refused again: counted, not listed twice */
		"  kworker/u4:1-40   [000] .....  2.0: vms_isolate_start: (start_isolate_page_range+0x0/0x1c0) "
		"start_pfn=0x100000 end_pfn=0x100200\n",
		"  kworker/u4:1-40   [000] .....  2.1: vms_isolate_end: (alloc_contig_range+0xd6/0x2a0 <- "
		"start_isolate_page_range) ret=-16\n",
		/* a return whose start came before the reset: not guessed */
		"  kworker/0:0-9     [000] .....  2.2: vms_isolate_end: (alloc_contig_range+0xd6/0x2a0 <- "
		"start_isolate_page_range) ret=-16\n",
	};
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		evidence_trace_line(&ev, lines[i]);
	assert_int_equal(ev.isolate_calls, 3);
	assert_int_equal(ev.nrefusals, 1);
	assert_int_equal(ev.refusals[0].start_pfn, 0x100000);
	assert_int_equal(ev.refusals[0].end_pfn, 0x100200);
	assert_int_equal(ev.refusals[0].count, 2);
	assert_int_equal(ev.refusals[0].err, -16);
	assert_string_equal(ev.refusals[0].caller, "alloc_contig_range");
	const struct isolate_refusal *first;
	/* a 2 MiB block inside the range, one next to it */
	assert_int_equal(evidence_isolation_refusals(&ev, 0x100000, 512, &first), 2);
	assert_ptr_equal(first, &ev.refusals[0]);
	assert_int_equal(evidence_isolation_refusals(&ev, 0x100200, 512, &first), 0);
	assert_null(first);
}

/* Attempts under way: isolated by start_isolate_page_range(), not yet
 * undone; refused ones never open. */
static void attempts_under_way(void **state)
{
	(void)state;
	static struct evidence ev;
	memset(&ev, 0, sizeof(ev));
	evidence_attempt_line(&ev, "  kworker/u4:1-40 [000] ..... 1.0: vms_isolate_start: (start_isolate_page_range+0x0/0x1c0) "
				   "start_pfn=0x100000 end_pfn=0x100200", 1000);
	evidence_attempt_line(&ev, "  kworker/u4:1-40 [000] ..... 1.1: vms_isolate_end: (alloc_contig_range+0xd6/0x2a0 <- "
				   "start_isolate_page_range) ret=-16", 1000);
	size_t open = 0;
	for (size_t i = 0; i < EV_MAX_PENDING; i++)
		open += ev.open[i].end_pfn != 0;
	assert_int_equal(open, 0);
	evidence_attempt_line(&ev, "  kworker/u4:1-40 [000] ..... 2.0: vms_isolate_start: (start_isolate_page_range+0x0/0x1c0) "
				   "start_pfn=0x100200 end_pfn=0x100400", 2000);
	evidence_attempt_line(&ev, "  kworker/u4:1-40 [000] ..... 2.1: vms_isolate_end: (alloc_contig_range+0xd6/0x2a0 <- "
				   "start_isolate_page_range) ret=0", 2000);
	for (size_t i = 0; i < EV_MAX_PENDING; i++)
		if (ev.open[i].end_pfn) {
			assert_int_equal(ev.open[i].start_pfn, 0x100200);
			assert_int_equal(ev.open[i].since_ms, 2000);
			open++;
		}
	assert_int_equal(open, 1);
	/* undone: over */
	evidence_attempt_line(&ev, "  kworker/u4:1-40 [000] ..... 3.0: vms_isolate_undo: (undo_isolate_page_range+0x0/0x90) "
				   "start_pfn=0x100200 end_pfn=0x100400", 3000);
	open = 0;
	for (size_t i = 0; i < EV_MAX_PENDING; i++)
		open += ev.open[i].end_pfn != 0;
	assert_int_equal(open, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(isolation_refusals_from_the_trace),
		cmocka_unit_test(attempts_under_way),
		cmocka_unit_test(stamps),
		cmocka_unit_test(verify_samples_and_counts),
		cmocka_unit_test(held_blocks_by_pfn),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
