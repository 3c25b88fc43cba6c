/* What is checked about a kernel before and after a run: its config
 * (what can run, what is not shown) and known bugs matched on evidence. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "run/kconfig.h"
#include "run/known-bugs.h"

#define ESSENTIALS                                                                                       \
	"CONFIG_VIRTIO_MEM=m\nCONFIG_VIRTIO_PCI=y\nCONFIG_VIRTIO_CONSOLE=m\nCONFIG_MEMORY_HOTPLUG=y\n"     \
	"CONFIG_MEMORY_HOTREMOVE=y\nCONFIG_MIGRATION=y\nCONFIG_CONTIG_ALLOC=y\nCONFIG_PROC_PAGE_MONITOR=y\n" \
	"CONFIG_NUMA=y\nCONFIG_BLK_DEV_INITRD=y\nCONFIG_DEVTMPFS=y\n"

static struct scenario scn;

static void load(void)
{
	struct err e;
	const char *text = "[population thp]\ntype = thp-cow\nsize = 8M\n"
			   "[population pin]\ntype = longterm-pin\nsize = 8M\n"
			   "[population a]\ntype = anon\nsize = 8M\n"
			   "[step all]\nrequested-size = 0\n"
			   "[expect]\nmust-stay = pin\n";
	if (scenario_parse(text, "k.ini", &scn, &e) < 0)
		fail_msg("%s", e.msg);
}

static void values(void **state)
{
	const char *cfg = "# comment\nCONFIG_A=y\nCONFIG_AB=m\n# CONFIG_C is not set\nCONFIG_D=\"x\"\n";
	assert_int_equal(kconfig_value(cfg, "A"), 'y');
	assert_int_equal(kconfig_value(cfg, "AB"), 'm');
	assert_int_equal(kconfig_value(cfg, "C"), 0);
	assert_int_equal(kconfig_value(cfg, "D"), 0);
	assert_int_equal(kconfig_value(cfg, "B"), 0);
}

static void full_config_keeps_everything(void **state)
{
	load();
	struct kconfig_check kc;
	struct err e;
	const char *cfg = ESSENTIALS "CONFIG_TRANSPARENT_HUGEPAGE=y\nCONFIG_ADVISE_SYSCALLS=y\nCONFIG_IO_URING=y\n"
				     "CONFIG_EVENT_TRACING=y\nCONFIG_MEMORY_ISOLATION=y\nCONFIG_DYNAMIC_DEBUG=y\n"
				     "CONFIG_HUGETLB_PAGE=y\n";
	assert_int_equal(kconfig_check_text(cfg, "c", &scn, &kc, &e), 0);
	assert_int_equal(scn.npops, 3);
	assert_int_equal(kc.n_not_shown, 0);
	assert_int_equal(kc.nnotes, 0);
}

static void missing_options_drop_populations(void **state)
{
	load();
	struct kconfig_check kc;
	struct err e;
	const char *cfg = ESSENTIALS "CONFIG_TRANSPARENT_HUGEPAGE=y\n# CONFIG_IO_URING is not set\n";
	assert_int_equal(kconfig_check_text(cfg, "c", &scn, &kc, &e), 0);
	/* thp-cow lacks ADVISE_SYSCALLS (madvise), longterm-pin IO_URING */
	assert_int_equal(scn.npops, 1);
	assert_string_equal(scn.pops[0].name, "a");
	assert_int_equal(kc.n_not_shown, 2);
	assert_string_equal(kc.not_shown[0], "population thp (thp-cow): the kernel lacks CONFIG_ADVISE_SYSCALLS");
	assert_string_equal(kc.not_shown[1], "population pin (longterm-pin): the kernel lacks CONFIG_IO_URING");
	assert_int_equal(kc.nnotes, 4);
	assert_non_null(strstr(kc.notes[0], "CONFIG_EVENT_TRACING missing"));
	assert_non_null(strstr(kc.notes[3], "CONFIG_HUGETLB_PAGE missing: pageblocks are MAX_ORDER-sized"));
}

static void missing_essentials_are_an_error(void **state)
{
	load();
	struct kconfig_check kc;
	struct err e;
	assert_int_equal(kconfig_check_text("CONFIG_VIRTIO_MEM=y\n", "/boot/config-x", &scn, &kc, &e), -1);
	assert_non_null(strstr(e.msg, "kernel config /boot/config-x lacks what every run needs: CONFIG_VIRTIO_PCI"));
	assert_non_null(strstr(e.msg, "CONFIG_MEMORY_HOTREMOVE (unplugging memory at all)"));
}

static struct known_bugs kb;

static void parse_bugs(void)
{
	struct err e;
	if (known_bugs_load(SRCDIR "/known-bugs.ini", &kb, &e) < 0)
		fail_msg("%s", e.msg);
}

static void shipped_file_parses(void **state)
{
	parse_bugs();
	assert_true(kb.n >= 4);  /* the first four in file order; more may follow */
	assert_string_equal(kb.bugs[0].name, "thp-mapcount-on-isolation");
	assert_string_equal(kb.bugs[1].name, "contig-range-isolated-livelock");
	assert_int_equal(kb.bugs[1].reason, VMS_REASON_OFFLINING_STUCK);
	assert_string_equal(kb.bugs[1].evidence, "isolate_migratepages_");
	assert_string_equal(kb.bugs[0].fixed_by, "829ae0f81ce0");
	assert_int_equal(kb.bugs[0].reason, VMS_REASON_ISOLATION_FALSE_POSITIVE);
	assert_string_equal(kb.bugs[2].name, "virtio-mem-sbm-unplugged-block-stays");
	assert_string_equal(kb.bugs[2].fixed_by, "a31648fd4f96");
	assert_int_equal(kb.bugs[2].reason, VMS_REASON_MEMORY_BLOCK_NOT_REMOVED);
	assert_string_equal(kb.bugs[2].evidence, "still added after the release");
	assert_false(kb.bugs[2].by_release || kb.bugs[2].by_sysfs);
	assert_int_equal(kb.bugs[2].nfixed_in, 2);
	assert_string_equal(kb.bugs[2].fixed_in[1], "6.4.16");
	assert_string_equal(kb.bugs[3].name, "virtio-mem-broken-on-offline-error");
	assert_string_equal(kb.bugs[3].fixed_by, "ddf409851461");
	assert_int_equal(kb.bugs[3].reason, VMS_REASON_DRIVER_GAVE_UP);
	assert_string_equal(kb.bugs[3].evidence, "marking device broken");
}

/* Where a bug lives: inside its range, outside (a regression, a backport
 * gap, a vendor patch), or not known. */
static void kernel_ranges(void **state)
{
	struct known_bugs k;
	struct err e;
	char words[300];
	assert_int_equal(known_bugs_parse("[bug x]\ntitle = t\nfixed-by = 1\nreason = unknown\n"
					  "introduced-in = 5.8\nfixed-in = 6.5, 6.4.16, 6.1.150\n", "b.ini", &k, &e), 0);
	const struct known_bug *b = &k.bugs[0];
	assert_int_equal(known_bug_in_range(b, "6.1.149"), 1);
	assert_int_equal(known_bug_in_range(b, "6.1.150"), 0);   /* its series has the fix */
	assert_int_equal(known_bug_in_range(b, "6.4.15"), 1);
	assert_int_equal(known_bug_in_range(b, "6.4.16"), 0);
	assert_int_equal(known_bug_in_range(b, "6.5"), 0);       /* mainline, and every later series */
	assert_int_equal(known_bug_in_range(b, "6.12.117"), 0);
	assert_int_equal(known_bug_in_range(b, "6.3.13"), 1);    /* a series without the fix */
	assert_int_equal(known_bug_in_range(b, "5.4.200"), 0);   /* before it came */
	assert_int_equal(known_bug_in_range(b, ""), -1);         /* the kernel never said */
	assert_string_equal(known_bug_range_words(b, "6.12.117", words, sizeof(words)),
			    "6.12.117 is OUTSIDE its affected range (introduced in 5.8; fixed in 6.5, 6.4.16, 6.1.150): "
			    "a regression, a backport gap or a vendor patch");
	assert_string_equal(known_bug_range_words(b, "6.1.1", words, sizeof(words)),
			    "6.1.1 is inside its affected range (introduced in 5.8; fixed in 6.5, 6.4.16, 6.1.150)");
	assert_int_equal(known_bugs_parse("[bug x]\ntitle = t\nfixed-by = 1\nreason = unknown\n", "b.ini", &k, &e), 0);
	assert_int_equal(known_bug_in_range(&k.bugs[0], "6.1.1"), -1);  /* no range given */
	assert_string_equal(known_bug_range_words(&k.bugs[0], "6.1.1", words, sizeof(words)), "");
	assert_int_equal(known_bugs_parse("[bug x]\ntitle = t\nfixed-by = 1\nreason = unknown\nfixed-in = 6.5, six\n",
					  "b.ini", &k, &e), -1);
	assert_string_equal(e.msg, "b.ini:5: fixed-in: \"six\" is not a kernel version (6.5 or 6.4.16)");
	assert_int_equal(known_bugs_parse("[bug x]\ntitle = t\nfixed-by = 1\nreason = unknown\nintroduced-in = 6..1\n",
					  "b.ini", &k, &e), -1);
	assert_non_null(strstr(e.msg, "introduced-in: \"6..1\" is not a kernel version"));
}

static void bad_bug_files(void **state)
{
	struct known_bugs k;
	struct err e;
	assert_int_equal(known_bugs_parse("[bug x]\ntitle = t\nfixed-by = 1\nreason = gup\n", "b.ini", &k, &e), -1);
	assert_string_equal(e.msg, "b.ini:4: reason: \"gup\" is not a reason");
	assert_int_equal(known_bugs_parse("[bug x]\ntitle = t\nfixed-by = 1\nreason = unknown\npage-flags = anon wobbly\n",
					  "b.ini", &k, &e), -1);
	assert_non_null(strstr(e.msg, "unknown page flag \"wobbly\""));
	assert_int_equal(known_bugs_parse("[bug x]\ntitle = t\n", "b.ini", &k, &e), -1);
	assert_non_null(strstr(e.msg, "needs title, fixed-by and reason"));
	assert_int_equal(known_bugs_parse("[bug x]\ntitle = t\nfixed-by = 1\nreason = unknown\ncolour = red\n", "b.ini", &k, &e), -1);
	assert_non_null(strstr(e.msg, "b.ini:5: colour: unknown key"));
}

/* The bug is named only when every piece of evidence is there. */
static void matches_only_on_full_evidence(void **state)
{
	load();
	parse_bugs();
	struct block_verdict v = { .block = 3, .owner = 0, .reason = VMS_REASON_ISOLATION_FALSE_POSITIVE,
				   .busy_flags = (1ull << 12) | (1ull << 22) | (1ull << 15), .has_busy_flags = true,
				   .released_by = 0, .known_bug = -1 };
	assert_int_equal(known_bugs_match(&kb, &scn, &v), 0);
	struct block_verdict w = v;
	w.released_by = -1;  /* not confirmed */
	assert_int_equal(known_bugs_match(&kb, &scn, &w), -1);
	snprintf(w.sysfs, sizeof(w.sysfs), "offlined");  /* confirmed by the other path */
	assert_int_equal(known_bugs_match(&kb, &scn, &w), 0);
	w = v;
	w.busy_flags = 1ull << 12;  /* anon, but not a THP */
	assert_int_equal(known_bugs_match(&kb, &scn, &w), -1);
	w = v;
	w.owner = 2;  /* an anon population, not thp-cow */
	w.released_by = 2;
	assert_int_equal(known_bugs_match(&kb, &scn, &w), -1);
	w = v;
	w.reason = VMS_REASON_GUP_REFERENCE;
	assert_int_equal(known_bugs_match(&kb, &scn, &w), -1);
	w = v;
	w.has_busy_flags = false;  /* no busy page seen */
	assert_int_equal(known_bugs_match(&kb, &scn, &w), -1);
	/* the livelock: named only when the worker's stack shows where it spins */
	struct block_verdict u = { .block = 64, .owner = -1, .reason = VMS_REASON_OFFLINING_STUCK, .released_by = -1,
				   .known_bug = -1 };
	snprintf(u.evidence, sizeof(u.evidence), "none of ours (512 buddy); 1 of its 1 pageblocks isolated; "
		 "virtio-mem worker: node_page_state < isolate_migratepages_block < alloc_contig_range");
	assert_int_equal(known_bugs_match(&kb, &scn, &u), 1);
	/* caught in a timer interrupt: the unwinder shows the range frame only */
	snprintf(u.evidence, sizeof(u.evidence), "virtio-mem worker: lapic_next_event < asm_sysvec_apic_timer_interrupt "
		 "< isolate_migratepages_range < __alloc_contig_migrate_range < alloc_contig_range");
	assert_int_equal(known_bugs_match(&kb, &scn, &u), 1);
	snprintf(u.evidence, sizeof(u.evidence), "virtio-mem worker: __cond_resched < alloc_contig_range");
	assert_int_equal(known_bugs_match(&kb, &scn, &u), -1);
	/* a memory block left behind: named only when it stayed once nothing
	 * refused its offlining any more (host/run/run.c writes these words) */
	struct block_verdict l = { .block = 64, .owner = -1, .reason = VMS_REASON_MEMORY_BLOCK_NOT_REMOVED,
				   .released_by = -1, .known_bug = -1, .left_behind = true, .mblock = 9 };
	snprintf(l.evidence, sizeof(l.evidence), "memory block 9 (online, Movable) is still added to Linux with every "
		 "device block in it unplugged: its offlining and removal failed, and nothing removed it since");
	assert_int_equal(known_bugs_match(&kb, &scn, &l), -1);  /* offlining may still be refused */
	snprintf(l.evidence + strlen(l.evidence), sizeof(l.evidence) - strlen(l.evidence),
		 "; still added after the release of nack dropped a hold and the driver ran again");
	assert_int_equal(known_bugs_match(&kb, &scn, &l), 2);
	l.reason = VMS_REASON_NOT_RETRIED;
	assert_int_equal(known_bugs_match(&kb, &scn, &l), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(values),
		cmocka_unit_test(full_config_keeps_everything),
		cmocka_unit_test(missing_options_drop_populations),
		cmocka_unit_test(missing_essentials_are_an_error),
		cmocka_unit_test(shipped_file_parses),
		cmocka_unit_test(bad_bug_files),
		cmocka_unit_test(kernel_ranges),
		cmocka_unit_test(matches_only_on_full_evidence),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
