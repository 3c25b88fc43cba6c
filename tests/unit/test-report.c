/* The verdict and the report built from collected results. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run/report.h"

static struct scenario scn;

static int setup(void **state)
{
	struct err e;
	const char *text = "[vm]\nregion-size = 16M\nblock-size = 2M\nboot-memory = 512M\n"
			   "[population anon]\ntype = anon\nsize = 4M\n"
			   "[population thp]\ntype = thp-cow\nsize = 4M\n"
			   "[step all]\nrequested-size = 0\n";
	if (scenario_parse(text, "r.ini", &scn, &e) < 0)
		fail_msg("%s", e.msg);
	return 0;
}

/* A guest state with the given map; each population fully verified. */
static void make_state(struct guest_state *st, const char *map, uint64_t corrupted)
{
	memset(st, 0, sizeof(*st));
	snprintf(st->step, sizeof(st->step), "all");
	st->nblocks = strlen(map);
	st->map = strdup(map);
	for (const char *p = map; *p; p++)
		st->plugged += *p == 'P';
	st->npops = 2;
	st->pops = calloc(2, sizeof(*st->pops));
	for (int i = 0; i < 2; i++) {
		struct pop_state *p = &st->pops[i];
		snprintf(p->name, sizeof(p->name), "%s", scn.pops[i].name);
		snprintf(p->type, sizeof(p->type), "%s", scn.pops[i].type);
		p->pages = 1024;
		p->in_region = 1024;
		p->verified = 1024 - (i == 1 ? corrupted : 0);
		p->corrupted = i == 1 ? corrupted : 0;
		p->thp_pages = i == 1 ? 512 : -1;
	}
	st->nmblocks = 1;
	st->mblocks = calloc(1, sizeof(*st->mblocks));
	st->mblocks[0] = (struct mem_block){ .index = 32, .state = "online", .zone = "Movable" };
	st->held = calloc(2, sizeof(*st->held));
}

static void base_report(struct report *r)
{
	report_init(r, &scn);
	snprintf(r->backend, sizeof(r->backend), "qemu");
	snprintf(r->accel, sizeof(r->accel), "tcg");
	r->have_region = true;
	r->region = (struct vm_region){ .addr = 4ull << 30, .size = 16ull << 20, .block_size = 2ull << 20, .node = 1 };
	r->memory_block_size = 128ull << 20;
	r->have_populate = true;
	make_state(&r->populate, "PPPPPPPP", 0);
	r->nsteps = 1;
	struct step_report *st = &r->steps[0];
	snprintf(st->name, sizeof(st->name), "all");
	st->size_before = 16ull << 20;
	st->have_state = true;
}

static char *render(const struct report *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	report_write_text(r, f);
	fclose(f);
	return buf;
}

static void pass_when_everything_went(void **state)
{
	static struct report r;
	base_report(&r);
	r.steps[0].reached = true;
	r.steps[0].size_after = 0;
	make_state(&r.steps[0].state, "UUUUUUUU", 0);
	report_evaluate(&r);
	assert_int_equal(r.verdict, VERDICT_PASS);
	assert_int_equal(report_exit_status(&r), EXIT_PASS);
	assert_int_equal(r.nfindings, 0);
	char *text = render(&r);
	assert_non_null(strstr(text, "\nPASS: every step reached its requested size; 2048 pages verified, 0 corrupted\n"));
	free(text);
	struct json_object *j = report_to_json(&r), *v;
	assert_true(json_object_object_get_ex(j, "verdict", &v));
	assert_string_equal(json_object_get_string(v), "pass");
	json_object_put(j);
	report_free(&r);
}

static void fail_names_the_blocks_that_stayed(void **state)
{
	static struct report r;
	base_report(&r);
	r.steps[0].reached = false;
	r.steps[0].size_after = 4ull << 20;
	make_state(&r.steps[0].state, "UUPPUUUU", 0);
	r.steps[0].state.held[0] = (struct held){ .block = 2, .pop = 1, .pages = 512 };
	r.steps[0].state.held[1] = (struct held){ .block = 3, .pop = 1, .pages = 511 };
	r.steps[0].state.nheld = 2;
	report_evaluate(&r);
	assert_int_equal(r.verdict, VERDICT_FAIL);
	assert_int_equal(report_exit_status(&r), EXIT_FAIL);
	assert_int_equal(r.nfindings, 1);
	assert_non_null(strstr(r.findings[0], "step all: the device stayed at 4 MiB, 0 B was requested (4 MiB could not be unplugged)"));
	char *text = render(&r);
	assert_non_null(strstr(text, "blocks still plugged after step all: 2 of 8"));
	/* one row per block holding pages: index, address, memory block, zone, holder */
	assert_non_null(strstr(text, "  2             0x100400000          32       Movable    thp:512\n"));
	assert_non_null(strstr(text, "  3             0x100600000          32       Movable    thp:511\n"));
	assert_non_null(strstr(text, "\nFAIL: 1 expectation failed"));
	free(text);
	/* the JSON lists the plugged blocks with their holders */
	struct json_object *j = report_to_json(&r), *steps, *st, *blocks, *b, *held, *v;
	assert_true(json_object_object_get_ex(j, "steps", &steps));
	st = json_object_array_get_idx(steps, 0);
	assert_true(json_object_object_get_ex(st, "state", &st));
	assert_true(json_object_object_get_ex(st, "blocks", &blocks));
	assert_int_equal(json_object_array_length(blocks), 2);
	b = json_object_array_get_idx(blocks, 0);
	assert_true(json_object_object_get_ex(b, "held", &held));
	assert_true(json_object_object_get_ex(held, "thp", &v));
	assert_int_equal(json_object_get_int64(v), 512);
	json_object_put(j);
	report_free(&r);
}

static void plugged_blocks_without_our_pages_are_folded(void **state)
{
	static struct report r;
	base_report(&r);
	r.steps[0].size_after = 10ull << 20;
	make_state(&r.steps[0].state, "UUPPPPPU", 0);
	report_evaluate(&r);
	char *text = render(&r);
	assert_non_null(strstr(text, "  2-6           0x100400000          32       Movable    (none of ours)\n"));
	free(text);
	report_free(&r);
}

static void corruption_fails_even_when_unplug_worked(void **state)
{
	static struct report r;
	base_report(&r);
	r.steps[0].reached = true;
	make_state(&r.steps[0].state, "UUUUUUUU", 3);
	r.steps[0].state.pops[1].has_first_bad = true;
	snprintf(r.steps[0].state.pops[1].first_bad_mapping, 16, "child");
	r.steps[0].state.pops[1].first_bad_page = 513;
	report_evaluate(&r);
	assert_int_equal(r.verdict, VERDICT_FAIL);
	assert_int_equal(r.nfindings, 1);
	assert_string_equal(r.findings[0],
			    "after step all: population thp has 3 corrupted pages (first: child mapping, page 513)");
	report_free(&r);
}

static void guest_and_device_must_agree(void **state)
{
	static struct report r;
	base_report(&r);
	r.steps[0].reached = true;
	r.steps[0].size_after = 0;
	make_state(&r.steps[0].state, "UUUUUUUP", 0);
	report_evaluate(&r);
	assert_int_equal(r.verdict, VERDICT_FAIL);
	assert_non_null(strstr(r.findings[0], "the guest sees 2 MiB plugged, the device reports 0 B"));
	report_free(&r);
}

/* A case the run could not build is not shown, never passed. */
static void cases_not_built_are_not_shown(void **state)
{
	static struct report r;
	base_report(&r);
	r.populate.pops[1].thp_pages = 0;
	r.steps[0].reached = true;
	make_state(&r.steps[0].state, "UUUUUUUU", 0);
	report_evaluate(&r);
	/* the anon population still shows its case: a pass, with thp not shown */
	assert_int_equal(r.verdict, VERDICT_PASS);
	assert_int_equal(r.n_not_shown, 1);
	assert_true(r.pop_not_shown[1]);
	assert_string_equal(r.not_shown[0], "population thp (thp-cow): the kernel gave base pages, no THPs");
	char *text = render(&r);
	assert_non_null(strstr(text, "NOT SHOWN (neither passed nor failed):\n  - population thp (thp-cow)"));
	assert_non_null(strstr(text, "1 population NOT SHOWN"));
	free(text);
	/* nothing of anon landed in the region either: nothing shown, SKIP */
	r.populate.pops[0].in_region = 0;
	report_evaluate(&r);
	assert_int_equal(r.verdict, VERDICT_SKIP);
	assert_int_equal(report_exit_status(&r), 4);
	assert_int_equal(r.n_not_shown, 2);
	assert_non_null(strstr(r.not_shown[0], "none of its pages landed in the virtio-mem region"));
	/* lost data fails the run even when no case was shown */
	guest_state_free(&r.steps[0].state);
	make_state(&r.steps[0].state, "UUUUUUUU", 5);
	report_evaluate(&r);
	assert_int_equal(r.verdict, VERDICT_FAIL);
	report_free(&r);
}

/* The invariants: held on a clean run, violated with their evidence
 * (a finding each) whatever the scenario expects, not shown with why. */
static void invariants_held_violated_not_shown(void **state)
{
	static struct report r;
	base_report(&r);
	r.steps[0].reached = true;
	make_state(&r.steps[0].state, "UUUUUUUU", 0);
	report_evaluate(&r);
	assert_int_equal(r.inv[VMS_INV_PIN_NOT_MOVABLE].status, INV_NOT_SHOWN);
	assert_non_null(strstr(r.inv[VMS_INV_PIN_NOT_MOVABLE].detail, "no population of this scenario holds long-term pins"));
	assert_int_equal(r.inv[VMS_INV_NO_KERNEL_IN_MOVABLE].status, INV_HELD);
	assert_int_equal(r.inv[VMS_INV_REFUSAL_HAS_REFERENCE].status, INV_HELD);
	assert_int_equal(r.inv[VMS_INV_STAMPS_VERIFY].status, INV_HELD);
	assert_int_equal(r.inv[VMS_INV_SIZES_AGREE].status, INV_HELD);
	assert_int_equal(r.verdict, VERDICT_PASS);
	char *text = render(&r);
	assert_non_null(strstr(text, "  held      refusal-has-a-reference: "));
	free(text);
	report_free(&r);

	/* pinned pages left in a Movable block; a page refused with no extra
	 * reference; a kernel allocation in ZONE_MOVABLE */
	base_report(&r);
	snprintf(r.populate.pops[0].hold, sizeof(r.populate.pops[0].hold), "pin");
	r.populate.held[0] = (struct held){ .block = 1, .pop = 0, .pages = 512 };
	r.populate.nheld = 1;
	r.steps[0].size_after = 4ull << 20;
	make_state(&r.steps[0].state, "UUPPUUUU", 0);
	struct block_verdict v[2] = {
		{ .block = 2, .owner = 1, .reason = VMS_REASON_ISOLATION_FALSE_POSITIVE, .has_counters = true,
		  .refcount = 2, .expected_refs = 2, .extra = 0, .unit_of = -1, .known_bug = -1, .released_by = -1 },
		{ .block = 3, .owner = -1, .reason = VMS_REASON_UNMOVABLE_IN_MOVABLE, .unit_of = -1, .known_bug = -1,
		  .released_by = -1, .evidence = "slab page 0x100600" },
	};
	r.steps[0].verdicts = calloc(2, sizeof(v));
	memcpy(r.steps[0].verdicts, v, sizeof(v));
	r.steps[0].nverdicts = 2;
	report_evaluate(&r);
	assert_int_equal(r.inv[VMS_INV_PIN_NOT_MOVABLE].status, INV_VIOLATED);
	assert_string_equal(r.inv[VMS_INV_PIN_NOT_MOVABLE].detail,
			    "512 pinned pages of anon in ZONE_MOVABLE after setup (first in block 1)");
	assert_int_equal(r.inv[VMS_INV_REFUSAL_HAS_REFERENCE].status, INV_VIOLATED);
	assert_non_null(strstr(r.inv[VMS_INV_REFUSAL_HAS_REFERENCE].detail, "block 2 (isolation-false-positive): refcount 2, expected 2"));
	assert_int_equal(r.inv[VMS_INV_NO_KERNEL_IN_MOVABLE].status, INV_VIOLATED);
	assert_non_null(strstr(r.inv[VMS_INV_NO_KERNEL_IN_MOVABLE].detail, "block 3: slab page 0x100600"));
	int named = 0;
	for (int i = 0; i < r.nfindings; i++)
		named += strstr(r.findings[i], "invariant ") != NULL;
	assert_int_equal(named, 3);
	assert_int_equal(r.verdict, VERDICT_FAIL);
	struct json_object *j = report_to_json(&r), *inv, *v0, *st;
	assert_true(json_object_object_get_ex(j, "invariants", &inv));
	assert_int_equal(json_object_array_length(inv), VMS_NINVARIANTS);
	v0 = json_object_array_get_idx(inv, 0);
	assert_true(json_object_object_get_ex(v0, "status", &st));
	assert_string_equal(json_object_get_string(st), "violated");
	json_object_put(j);
	report_free(&r);
}

static void an_unfinished_run_is_an_error_not_a_pass(void **state)
{
	static struct report r;
	base_report(&r);
	r.nsteps = 0;
	r.status = RUN_INTERRUPTED;
	snprintf(r.phase, sizeof(r.phase), "populate");
	snprintf(r.error, sizeof(r.error), "interrupted");
	report_evaluate(&r);
	assert_int_equal(r.verdict, VERDICT_ERROR);
	assert_int_equal(report_exit_status(&r), EXIT_INFRA);
	char *text = render(&r);
	assert_non_null(strstr(text, "run interrupted during populate: interrupted"));
	assert_non_null(strstr(text, "\nERROR: the run did not complete"));
	free(text);
	report_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pass_when_everything_went),
		cmocka_unit_test(fail_names_the_blocks_that_stayed),
		cmocka_unit_test(plugged_blocks_without_our_pages_are_folded),
		cmocka_unit_test(corruption_fails_even_when_unplug_worked),
		cmocka_unit_test(guest_and_device_must_agree),
		cmocka_unit_test(cases_not_built_are_not_shown),
		cmocka_unit_test(invariants_held_violated_not_shown),
		cmocka_unit_test(an_unfinished_run_is_an_error_not_a_pass),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
