/* Parsers of what the kernel prints about failed offlining: trace lines as
 * tracefs prints them, dump_page() records as /dev/kmsg and dmesg print
 * them (6.1 formats). */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "../../common/kevidence.h"

static void isolation_lines(void **state)
{
	struct isolation_event ev;
	assert_int_equal(kev_parse_isolation("     kworker/1:2-53      [001] .....    12.345678: test_pages_isolated: "
					     "start_pfn=0x100000 end_pfn=0x100200 fin_pfn=0x1000a0 ret=fail",
					     &ev), 1);
	assert_int_equal(ev.start_pfn, 0x100000);
	assert_int_equal(ev.end_pfn, 0x100200);
	assert_int_equal(ev.fin_pfn, 0x1000a0);
	assert_true(ev.failed);
	assert_int_equal(kev_parse_isolation("  kworker/0:0-9 [000] d..1. 3.1: test_pages_isolated: start_pfn=0x108000 "
					     "end_pfn=0x108200 fin_pfn=0x108200 ret=success", &ev), 1);
	assert_false(ev.failed);
	/* other lines are not events; broken ones are errors */
	assert_int_equal(kev_parse_isolation("# tracer: nop", &ev), 0);
	assert_int_equal(kev_parse_isolation("x: test_pages_isolated: start_pfn=0x1 end_pfn=0x2 ret=fail", &ev), -1);
	assert_int_equal(kev_parse_isolation("x: test_pages_isolated: start_pfn=0x1 end_pfn=0x2 fin_pfn=0x2 ret=maybe", &ev), -1);
}

static void migrate_lines(void **state)
{
	struct migrate_event ev;
	assert_int_equal(kev_parse_migrate("  kworker/u4:1-40  [000] .....   9.9: mm_migrate_pages: nr_succeeded=0 nr_failed=0 "
					   "nr_thp_succeeded=0 nr_thp_failed=0 nr_thp_split=0 mode=MIGRATE_SYNC reason=contig_range",
					   &ev), 1);
	assert_int_equal(ev.succeeded, 0);
	assert_string_equal(ev.reason, "contig_range");
	assert_int_equal(kev_parse_migrate("a: mm_migrate_pages: nr_succeeded=512 nr_failed=3 nr_thp_succeeded=1 "
					   "nr_thp_failed=0 nr_thp_split=0 mode=MIGRATE_SYNC reason=longterm_pin", &ev), 1);
	assert_int_equal(ev.succeeded, 512);
	assert_int_equal(ev.failed, 3);
	assert_int_equal(ev.thp_succeeded, 1);
	assert_string_equal(ev.reason, "longterm_pin");
	assert_int_equal(kev_parse_migrate("a: mm_migrate_pages: mode=MIGRATE_SYNC", &ev), -1);
	assert_int_equal(kev_parse_migrate("a: mm_compaction_begin: zone_start=0x1", &ev), 0);
}

/* One dump_page() record, as /dev/kmsg gives it: a record per line. */
static void dumped_pages(void **state)
{
	static const char *const kmsg[] = {
		"6,2201,14123456,-;virtio_mem virtio0: unplugging memory block: 34",
		"4,2202,14123500,-;page:00000000a1b2c3d4 refcount:3 mapcount:1 mapping:0000000000000000 index:0x7f3c2a000 pfn:0x101800",
		"4,2203,14123501,-;anon flags: 0x17ffffc0080024(uptodate|active|swapbacked|node=1|zone=3)",
		"4,2204,14123502,-;raw: 0017ffffc0080024 ffffea0004060008 ffffea0004060048 ffff88800c2a9001",
		"4,2205,14123503,-;page dumped because: migration failure",
		"4,2206,14123600,-;page:0000000011112222 refcount:1027 mapcount:1 mapping:0000000000000000 index:0x0 pfn:0x101a00",
		"4,2207,14123601,-;page dumped because: migration failure",
		NULL,
	};
	struct dumped_page cur, got[4];
	bool in = false;
	int n = 0;
	for (int i = 0; kmsg[i]; i++)
		if (kev_parse_dump_line(kmsg[i], &cur, &in) == 1)
			got[n++] = cur;
	assert_int_equal(n, 2);
	assert_int_equal(got[0].pfn, 0x101800);
	assert_int_equal(got[0].refcount, 3);
	assert_int_equal(got[0].mapcount, 1);
	assert_string_equal(got[0].reason, "migration failure");
	assert_non_null(strstr(got[0].flags, "swapbacked"));
	assert_int_equal(got[1].refcount, 1027);
	/* dmesg form, and a "page dumped because" with no record open */
	in = false;
	assert_int_equal(kev_parse_dump_line("[   12.3] page dumped because: isolation failure", &cur, &in), 0);
	assert_int_equal(kev_parse_dump_line("[   12.3] page:000000001 refcount:2 mapcount:0 mapping:0 index:0x1 pfn:0x42", &cur, &in), 0);
	assert_int_equal(kev_parse_dump_line("[   12.3] page dumped because: isolation failure", &cur, &in), 1);
	assert_int_equal(cur.pfn, 0x42);
	assert_string_equal(cur.reason, "isolation failure");
	/* "pfn:" missing: not a record */
	in = false;
	assert_int_equal(kev_parse_dump_line("page:000 refcount:2 mapcount:0", &cur, &in), 0);
	assert_false(in);
}

/* offline_pages()'s pr_debug, as /dev/kmsg and dmesg print it (6.1) */
static void offline_failures(void **state)
{
	struct offline_failure f;
	assert_int_equal(kev_parse_offline_failure("7,1873,25371201,-;memory offlining [mem 0x118000000-0x11fffffff] "
						   "failed due to notifier failure\n SUBSYSTEM=memory", &f), 1);
	assert_int_equal(f.start, 0x118000000ull);
	assert_int_equal(f.end, 0x11fffffffull);
	assert_string_equal(f.reason, "notifier failure");
	assert_int_equal(kev_parse_offline_failure("[   25.37] memory offlining [mem 0x100000000-0x107ffffff] failed due "
						   "to unmovable page", &f), 1);
	assert_string_equal(f.reason, "unmovable page");
	assert_int_equal(f.start, 0x100000000ull);
	/* other lines, and broken ones */
	assert_int_equal(kev_parse_offline_failure("6,1,1,-;Offlined Pages 32768", &f), 0);
	assert_int_equal(kev_parse_offline_failure("memory offlining [mem 0x2000-0x1000] failed due to x", &f), -1);
	assert_int_equal(kev_parse_offline_failure("memory offlining [mem 0x1000-0x2000] failed due to ", &f), -1);
	assert_int_equal(kev_parse_offline_failure("memory offlining [mem zz] failed", &f), -1);
	/* control characters in the reason are not passed on */
	assert_int_equal(kev_parse_offline_failure("memory offlining [mem 0x0-0x1] failed due to a\x1b[1mb", &f), 1);
	assert_null(strchr(f.reason, 0x1b));
}

/* virtio_mem_run_wq()'s dev_err when it gives up (6.1) */
static void driver_broken(void **state)
{
	char buf[200];
	int rc = 0;
	assert_int_equal(kev_parse_driver_broken("3,1880,25372000,-;virtio_mem virtio0: unknown error, marking device "
						 "broken: -5\n SUBSYSTEM=virtio\n DEVICE=+virtio:virtio0", buf,
						 sizeof(buf), &rc), 1);
	assert_int_equal(rc, -5);
	assert_string_equal(buf, "virtio_mem virtio0: unknown error, marking device broken: -5");
	assert_int_equal(kev_parse_driver_broken("[ 3.1] virtio_mem virtio1: unknown error, marking device broken: -4",
						 buf, sizeof(buf), &rc), 1);
	assert_int_equal(rc, -4);
	assert_int_equal(kev_parse_driver_broken("6,1,1,-;virtio_mem virtio0: plugged size: 0x0", buf, sizeof(buf), &rc), 0);
	/* another driver's words are not virtio-mem's */
	assert_int_equal(kev_parse_driver_broken("6,1,1,-;foo: marking device broken: -5", buf, sizeof(buf), &rc), 0);
	assert_int_equal(kev_parse_driver_broken("virtio_mem virtio0: marking device broken: x", buf, sizeof(buf), &rc), -1);
}

static void isolate_probes(void **state)
{
	(void)state;
	struct isolate_probe p;
	assert_int_equal(kev_parse_isolate_probe("     kworker/u4:1-40      [001] .....    12.3: vms_isolate_start: "
						 "(start_isolate_page_range+0x0/0x1c0) start_pfn=0x100000 end_pfn=0x100200",
						 &p), 1);
	assert_false(p.is_end);
	assert_int_equal(p.pid, 40);
	assert_int_equal(p.start_pfn, 0x100000);
	assert_int_equal(p.end_pfn, 0x100200);
	assert_int_equal(kev_parse_isolate_probe("  kworker/u4:1-40 [000] d..1. 12.4: vms_isolate_end: "
						 "(alloc_contig_range+0xd6/0x2a0 <- start_isolate_page_range) ret=-16", &p), 1);
	assert_true(p.is_end);
	assert_int_equal(p.pid, 40);
	assert_int_equal(p.ret, -16);
	assert_string_equal(p.caller, "alloc_contig_range");
	/* a comm with dashes and digits: the pid is the digits before " [" */
	assert_int_equal(kev_parse_isolate_probe("vmemstress-gue-7-123 [001] ..... 1.0: vms_isolate_end: "
						 "(offline_pages+0x1/0x2 <- start_isolate_page_range) ret=0", &p), 1);
	assert_int_equal(p.pid, 123);
	assert_int_equal(p.ret, 0);
	assert_string_equal(p.caller, "offline_pages");
	assert_int_equal(kev_parse_isolate_probe("  kworker/u4:1-40 [000] ..... 12.5: vms_isolate_undo: "
						 "(undo_isolate_page_range+0x0/0x90) start_pfn=0x100000 end_pfn=0x100200",
						 &p), 1);
	assert_true(p.is_undo);
	assert_false(p.is_end);
	assert_int_equal(p.start_pfn, 0x100000);
	assert_int_equal(p.end_pfn, 0x100200);
	/* other lines are not ours; broken ones are errors */
	assert_int_equal(kev_parse_isolate_probe("x-1 [000] 1.0: test_pages_isolated: start_pfn=0x1", &p), 0);
	bool none = false;
	assert_int_equal(kev_parse_target_probe("  kworker/0:2-50 [000] ..... 9.1: vms_target_end: (migrate_pages_batch+0x1f4/"
						"0x9e0 <- alloc_migration_target) ret=0x0", &none), 1);
	assert_true(none);
	assert_int_equal(kev_parse_target_probe("a-1 [000] 9.2: vms_target_end: (migrate_pages_batch+0x1/0x2 <- "
						"alloc_migration_target) ret=0xffffe2c3c4000000", &none), 1);
	assert_false(none);
	assert_int_equal(kev_parse_target_probe("a-1 [000] 9.2: vms_target_end: (x+0x1/0x2 <- y)", &none), -1);
	assert_int_equal(kev_parse_target_probe("a-1 [000] 9.2: vms_isolate_end: (x+0x1/0x2 <- y) ret=0", &none), 0);
	assert_int_equal(kev_parse_isolate_probe("x-1 [000] 1.0: vms_isolate_start: (f+0x0/0x1) start_pfn=0x2 "
						 "end_pfn=0x1", &p), -1);
	assert_int_equal(kev_parse_isolate_probe("x-1 [000] 1.0: vms_isolate_end: (f+0x0/0x1 <- g) ret=16", &p), -1);
	assert_int_equal(kev_parse_isolate_probe("x-1 [000] 1.0: vms_isolate_end: (f+0x0/0x1 <- g)", &p), -1);
	assert_int_equal(kev_parse_isolate_probe("nopid [000] 1.0: vms_isolate_end: (f+0x0/0x1 <- g) ret=0", &p), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(isolation_lines),
		cmocka_unit_test(migrate_lines),
		cmocka_unit_test(dumped_pages),
		cmocka_unit_test(offline_failures),
		cmocka_unit_test(driver_broken),
		cmocka_unit_test(isolate_probes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
