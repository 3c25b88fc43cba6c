/* The classifier: from the evidence a guest reports for a stuck block to
 * one reason of the taxonomy. Inputs are the kpageflags words, busy PFNs
 * and dumped pages as recorded from real runs. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "classify.h"

static struct scenario scn;
/* kpageflags seen on Debian 6.1 */
#define F_ANON_PAGE 0x1868ull        /* uptodate|lru... anon|mmap|lru|... of a vmspliced base page */
#define F_ANON_THP_HEAD 0x40d868ull  /* anon|thp|head|lru|mmap */
#define F_SLAB 0x80ull
#define BIT(n) (1ull << (n))

static int setup(void **state)
{
	struct err e;
	const char *text = "[vm]\nzone = kernel\n"
			   "[population pipe]\ntype = vmsplice\nsize = 8M\n"
			   "[population thp]\ntype = thp-cow\nsize = 8M\n"
			   "[population pinned]\ntype = longterm-pin\nsize = 8M\n"
			   "[population secret]\ntype = secretmem\nsize = 4M\n"
			   "[step all]\nrequested-size = 0\n";
	if (scenario_parse(text, "c.ini", &scn, &e) < 0)
		fail_msg("%s", e.msg);
	return 0;
}

static struct guest_state gs;
static struct held held[4];

static void state_with(const struct held *h, size_t n, bool trace)
{
	memset(&gs, 0, sizeof(gs));
	if (n)
		memcpy(held, h, n * sizeof(*h));
	gs.held = held;
	gs.nheld = n;
	gs.evidence.present = true;
	gs.evidence.trace = trace;
}

static struct named_page busy(uint64_t pfn, uint64_t flags, int owner, uint64_t page)
{
	struct named_page p = { .pfn = pfn, .flags = flags, .has_flags = true, .mapcount = 1, .refcount = -1,
				.owner = owner, .owner_page = page };
	snprintf(p.owner_mapping, sizeof(p.owner_mapping), "%s", owner >= 0 ? "self" : "");
	return p;
}

static void busy_page_of_a_pipe_is_a_gup_reference(void **state)
{
	struct held h[] = { { .block = 5, .pop = 0, .pages = 512 } };
	state_with(h, 1, true);
	struct stuck_block sb = { .block = 5, .ours = 512, .isolation_failures = 3 };
	sb.busy[sb.nbusy++] = busy(0x100a00, F_ANON_PAGE | BIT(12) | BIT(5), 0, 2560);
	struct block_verdict v;
	classify_block(&scn, &gs, &sb, "Movable", &v);
	assert_int_equal(v.reason, VMS_REASON_GUP_REFERENCE);
	assert_int_equal(v.owner, 0);
	assert_non_null(strstr(v.evidence, "PFN 0x100a00 = pipe self page 2560"));
	assert_int_equal(v.released_by, -1);
}

static void pinned_page_is_a_longterm_pin(void **state)
{
	struct held h[] = { { .block = 9, .pop = 2, .pages = 512 } };
	state_with(h, 1, true);
	struct stuck_block sb = { .block = 9, .ours = 512, .isolation_failures = 1 };
	sb.busy[sb.nbusy++] = busy(0x101200, BIT(12) | BIT(5) | BIT(11), 2, 0);
	struct block_verdict v;
	classify_block(&scn, &gs, &sb, "Normal", &v);
	assert_int_equal(v.reason, VMS_REASON_LONGTERM_PIN);
}

/* The THP mapcount bug: a THP of a population that pins nothing is busy */
static void busy_anon_thp_without_pin_is_an_isolation_false_positive(void **state)
{
	struct held h[] = { { .block = 3, .pop = 1, .pages = 512 } };
	state_with(h, 1, true);
	struct stuck_block sb = { .block = 3, .ours = 512, .thp = 512, .isolation_failures = 2 };
	sb.busy[sb.nbusy++] = busy(0x100600, F_ANON_THP_HEAD, 1, 0);
	struct block_verdict v;
	classify_block(&scn, &gs, &sb, "Movable", &v);
	assert_int_equal(v.reason, VMS_REASON_ISOLATION_FALSE_POSITIVE);
	assert_non_null(strstr(v.evidence, "anon|thp|head"));
	assert_non_null(strstr(v.evidence, "no pin held by the workload"));
	/* the same page as a base page is no such signature */
	sb.busy[0].flags = BIT(12) | BIT(5);
	classify_block(&scn, &gs, &sb, "Movable", &v);
	assert_int_equal(v.reason, VMS_REASON_UNKNOWN);
}

static void busy_slab_page_not_ours_is_unmovable(void **state)
{
	state_with(NULL, 0, true);
	struct stuck_block sb = { .block = 7, .slab = 30, .noflags = 400, .isolation_failures = 1 };
	sb.busy[sb.nbusy++] = busy(0x100e10, F_SLAB, -1, 0);
	struct block_verdict v;
	classify_block(&scn, &gs, &sb, "Normal", &v);
	assert_int_equal(v.reason, VMS_REASON_UNMOVABLE_ALLOCATION);
	assert_int_equal(v.owner, -1);
	assert_non_null(strstr(v.evidence, "not ours (slab"));
}

static void secretmem_by_ownership(void **state)
{
	/* no trace: the block holds secretmem pages */
	struct held h[] = { { .block = 1, .pop = 3, .pages = 300 }, { .block = 1, .pop = 0, .pages = 2 } };
	state_with(h, 2, false);
	struct stuck_block sb = { .block = 1, .ours = 302 };
	struct block_verdict v;
	classify_block(&scn, &gs, &sb, "Normal", &v);
	assert_int_equal(v.reason, VMS_REASON_UNMOVABLE_ALLOCATION);
	assert_int_equal(v.owner, 3);
	assert_non_null(strstr(v.evidence, "holds 300 pages of secret"));
}

static void dumped_page_names_its_owner(void **state)
{
	state_with(NULL, 0, true);
	struct stuck_block sb = { .block = 2, .ours = 10 };
	sb.dumped[sb.ndumped++] = (struct named_page){ .pfn = 0x100400, .refcount = 1027, .mapcount = 1, .owner = 2,
						       .owner_mapping = "self", .reason = "migration failure" };
	struct block_verdict v;
	classify_block(&scn, &gs, &sb, "Normal", &v);
	assert_int_equal(v.reason, VMS_REASON_LONGTERM_PIN);
	assert_non_null(strstr(v.evidence, "dumped: migration failure, refcount 1027"));
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

static void reason_names_round_trip(void **state)
{
	for (int i = 0; i < VMS_REASON_COUNT; i++)
		assert_int_equal(vms_reason_from_name(vms_reason_name((enum vms_reason)i)), i);
	assert_int_equal(vms_reason_from_name("gup"), -1);
	assert_string_equal(population_hold("vmsplice"), "gup-reference");
	assert_string_equal(population_hold("thp-cow"), "");
	/* every hold a population declares is a reason of the taxonomy */
	const char *types[] = { "anon", "thp-cow", "vmsplice", "longterm-pin", "high-mapcount", "pagecache",
				"transient-refs", "secretmem" };
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		const char *h = population_hold(types[i]);
		assert_true(!h[0] || vms_reason_from_name(h) >= 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(busy_page_of_a_pipe_is_a_gup_reference),
		cmocka_unit_test(pinned_page_is_a_longterm_pin),
		cmocka_unit_test(busy_anon_thp_without_pin_is_an_isolation_false_positive),
		cmocka_unit_test(busy_slab_page_not_ours_is_unmovable),
		cmocka_unit_test(secretmem_by_ownership),
		cmocka_unit_test(dumped_page_names_its_owner),
		cmocka_unit_test(unowned_blocks),
		cmocka_unit_test(reason_names_round_trip),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
