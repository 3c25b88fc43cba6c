/* Scenario files: the shipped ones parse; every mistake names file, line,
 * section and key. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <string.h>

#include "scenario/scenario.h"

#ifndef SRCDIR
#define SRCDIR "."
#endif

#define VM "[vm]\nregion-size = 1G\n"
#define POP "[population a]\ntype = anon\nsize = 16M\n"
#define STEP "[step all]\nrequested-size = 0\n"

static void default_scenario(void **state)
{
	static struct scenario s;
	struct err e = { "" };
	if (scenario_load(SRCDIR "/scenarios/default.ini", &s, &e) < 0)
		fail_msg("%s", e.msg);
	assert_string_equal(s.name, "default");
	assert_int_equal(s.cpus, 2);
	assert_int_equal(s.boot_memory, 512ull << 20);
	assert_int_equal(s.region_size, 1ull << 30);
	assert_int_equal(s.initial_size, 1ull << 30);
	assert_int_equal(s.block_size, 2ull << 20);
	assert_int_equal(s.zone, ZONE_MOVABLE);
	assert_int_equal(s.npops, 2);
	assert_string_equal(s.pops[1].type, "thp-cow");
	assert_int_equal(s.pops[1].size, 64ull << 20);
	assert_int_equal(s.nsteps, 1);
	assert_int_equal(s.steps[0].requested, 0);
	assert_int_equal(s.steps[0].timeout_ms, 120000);
	assert_int_equal(s.expect.unplug, UNPLUG_COMPLETE);
	assert_int_equal(s.expect.max_corrupted, 0);
}

/* Every file in scenarios/ is valid. */
static void shipped_scenarios(void **state)
{
	DIR *d = opendir(SRCDIR "/scenarios");
	assert_non_null(d);
	struct dirent *de;
	int n = 0;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		if (len < 5 || strcmp(de->d_name + len - 4, ".ini"))
			continue;
		char path[600];
		snprintf(path, sizeof(path), SRCDIR "/scenarios/%s", de->d_name);
		static struct scenario s;
		struct err e = { "" };
		if (scenario_load(path, &s, &e) < 0)
			fail_msg("%s", e.msg);
		n++;
	}
	closedir(d);
	assert_true(n >= 1);
}

static void minimal_and_defaults(void **state)
{
	static struct scenario s;
	struct err e = { "" };
	assert_int_equal(scenario_parse(VM POP STEP, "mini.ini", &s, &e), 0);
	assert_string_equal(s.name, "mini");
	assert_int_equal(s.boot_memory, 512ull << 20);
	assert_string_equal(s.thp, "madvise");
	assert_int_equal(scenario_parse("; comment\n# another\n[vm]\nzone = kernel ; inline\n" POP STEP, "z.ini", &s, &e), 0);
	assert_int_equal(s.zone, ZONE_KERNEL);
}

static void errors_name_the_place(void **state)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ VM "regoin-size = 1G\n" POP STEP, "t.ini:3: [vm] regoin-size: unknown key" },
		{ VM "block-size = 2Q\n" POP STEP, "t.ini:3: [vm] block-size: \"2Q\" is not a size" },
		{ VM "zone = moveable\n" POP STEP, "t.ini:3: [vm] zone: \"moveable\" is not one of: movable, kernel" },
		{ VM "cpus = 0\n" POP STEP, "t.ini:3: [vm] cpus: \"0\" is not a CPU count" },
		{ VM "[population a]\ntype = anonn\nsize = 1M\n" STEP, "t.ini:4: [population a] type: unknown population type \"anonn\" (known: anon, thp-cow, vmsplice, longterm-pin, high-mapcount, pagecache, transient-refs, secretmem, lazyfree, offline-nack, hugetlb)" },
		{ VM "[population a]\ntype = anon\ntype = anon\n" STEP, "t.ini:5: [population a] type: given twice" },
		{ VM POP "[population a]\ntype = anon\nsize = 1M\n" STEP, "t.ini:6: [population a]: population a is defined twice (first at line 3)" },
		{ VM POP "[step]\nrequested-size = 0\n", "t.ini:6: [step]: unknown section" },
		{ VM POP "[stpe all]\nrequested-size = 0\n", "t.ini:6: [stpe all]: unknown section" },
		{ VM POP "[step a b]\n", "t.ini:6: [step a b]: name \"a b\" must be" },
		{ VM POP STEP "timeout = soon\n", "t.ini:8: [step all] timeout: \"soon\" is not a duration" },
		{ "size = 1M\n" VM POP STEP, "t.ini:1: size: key outside any section" },
		{ VM POP STEP "[expect]\nunplug = most\n", "t.ini:9: [expect] unplug: \"most\" is not one of: complete, any" },
		{ VM POP STEP "[expect]\nmax-corrupted = -3\n", "t.ini:9: [expect] max-corrupted: \"-3\" is not a page count" },
		{ VM POP STEP "[vm]\ncpus = 1\n", "t.ini:8: [vm]: section appears twice" },
		{ VM "this is not ini\n" POP STEP, "t.ini:3: not a \"key = value\" line" },
		{ VM "[population a]\nsize = 1M\n" STEP, "t.ini:3: [population a]: missing key \"type\"" },
		{ VM "[population a]\n" STEP, "t.ini:3: [population a]: missing key \"type\"" },
		{ VM POP, "t.ini: no [step NAME] section" },
		{ VM POP "[step all]\nrequested-size = 3M\n", "t.ini:6: [step all] requested-size: 3 MiB must be a multiple of block-size" },
		{ VM POP "[step all]\nrequested-size = 2G\n", "must be a multiple of block-size and at most region-size" },
		{ VM "[population a]\ntype = anon\nsize = 1000M\n" STEP, "more than 90% of initial-size" },
		{ "[vm]\nblock-size = 3M\n" POP STEP, "t.ini: [vm] block-size: 3 MiB is not a power of two" },
		{ "[vm]\nregion-size = 1G\ninitial-size = 2G\n" POP STEP, "[vm] initial-size: 2 GiB must be" },
		{ VM POP STEP "[expect release <= 6.5]\n", "t.ini:8: [expect release <= 6.5]: \"release <= 6.5\" is not a kernel condition" },
		{ VM POP STEP "[expect release < six]\n", "is not a kernel condition" },
		{ VM POP STEP "[expect flavour RT]\n", "is not a kernel condition" },
		{ VM POP STEP "[expect config preempt]\n", "is not a kernel condition" },
		{ VM POP STEP "[expect flavour rt]\n[expect flavour rt]\n", "t.ini:9: [expect flavour rt]: the same condition as line 8" },
		{ VM POP STEP "[expect flavour rt]\nmay-stay = b:*\n",
		  "t.ini:8: [expect flavour rt] may-stay: \"b\" is not a population of this scenario" },
		{ VM POP STEP "[expect flavour rt]\nzone = kernel\n", "t.ini:9: [expect flavour rt] zone: unknown key" },
		{ VM "driver-mode = big\n" POP STEP, "t.ini:3: [vm] driver-mode: \"big\" is not one of: auto, sbm, bbm" },
		{ VM "online-policy = auto\n" POP STEP, "is not one of: zone, auto-movable, guest" },
		{ VM "online-policy = auto-movable\nzone = kernel\n" POP STEP,
		  "t.ini: [vm] zone: the kernel picks the zone of each block under online-policy = auto-movable" },
		{ VM "auto-movable-ratio = 50\n" POP STEP, "[vm] auto-movable-ratio: only with online-policy = auto-movable" },
		{ VM "driver-mode = sbm\nbbm-safe-unplug = no\n" POP STEP, "Big Block Mode's: not with driver-mode = sbm" },
		{ VM "bbm-block-size = 3M\n" POP STEP, "[vm] bbm-block-size: 3 MiB is not a power of two" },
		{ VM "memory-backend = hugetlbfs\n" POP STEP, "is not one of: ram, memfd, file" },
		{ VM "prealloc = maybe\n" POP STEP, "[vm] prealloc: \"maybe\" is not one of: no, yes" },
		{ VM "[population a]\ntype = high-mapcount\nsize = 1M\nmaps = 1\n" STEP,
		  "t.ini:6: [population a] maps: \"1\" is not a whole number from 2 to 60000" },
		{ VM "[population a]\ntype = anon\nsize = 1M\nmaps = 100\n" STEP, "t.ini:6: [population a] maps: unknown key" },
		{ VM "[population a]\nmaps = 100\ntype = high-mapcount\n" STEP, "put \"type\" before type-specific keys" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		static struct scenario s;
		struct err e = { "" };
		if (scenario_parse(cases[i].text, "t.ini", &s, &e) != -1)
			fail_msg("case %zu accepted:\n%s", i, cases[i].text);
		if (!strstr(e.msg, cases[i].want))
			fail_msg("case %zu: error \"%s\" does not say \"%s\"", i, e.msg, cases[i].want);
	}
}

/* The driver's and QEMU's modes: parsed, and the defaults left alone. */
static void modes(void **state)
{
	static struct scenario s;
	struct err e = { "" };
	assert_int_equal(scenario_parse(VM POP STEP, "t.ini", &s, &e), 0);
	assert_int_equal(s.modes.driver, DRIVER_AUTO);
	assert_int_equal(s.modes.online, ONLINE_ZONE);
	assert_int_equal(s.modes.bbm_safe_unplug, -1);
	assert_int_equal(s.modes.prealloc, -1);
	assert_string_equal(s.modes.backend, "ram");
	assert_int_equal(scenario_parse("[vm]\nregion-size = 1G\ndriver-mode = bbm\nbbm-block-size = 256M\n"
					"bbm-safe-unplug = no\nonline-policy = auto-movable\nauto-movable-ratio = 0\n"
					"memmap-on-memory = yes\nmemory-backend = memfd\nprealloc = yes\n"
					"unplugged-inaccessible = off\n" POP STEP, "t.ini", &s, &e), 0);
	assert_int_equal(s.modes.driver, DRIVER_BBM);
	assert_int_equal(s.modes.bbm_block_size, 256u << 20);
	assert_int_equal(s.modes.bbm_safe_unplug, 0);
	assert_int_equal(s.modes.online, ONLINE_AUTO_MOVABLE);
	assert_int_equal(s.modes.auto_movable_ratio, 0);
	assert_int_equal(s.modes.memmap_on_memory, 1);
	assert_string_equal(s.modes.backend, "memfd");
	assert_int_equal(s.modes.prealloc, 1);
	assert_string_equal(s.modes.unplugged_inaccessible, "off");
}

/* [expect WHEN]: merged over [expect] only on the kernels it names. */
static void expectations_per_kernel(void **state)
{
	static struct scenario s;
	struct err e = { "" };
	struct scn_expect x;
	char applied[300];
	assert_int_equal(scenario_parse(VM POP "[population b]\ntype = anon\nsize = 1M\n" STEP
					"[expect]\nmay-stay = a:gup-reference\nmust-stay = a\n"
					"[expect release < 6.5]\nmay-stay = b:*\n"
					"[expect release >= 6.12]\nmust-stay = b\nunplug = any\n"
					"[expect flavour rt]\nmax-corrupted = 7\n"
					"[expect config CONFIG_PREEMPT_RT]\nafter-release = any\n",
					"t.ini", &s, &e), 0);
	assert_int_equal(s.nwhen, 4);
	/* 6.1.192, cloud: release < 6.5 only */
	scenario_expect_for(&s, "6.1.192", "6.1.0-57-cloud-amd64", &x, applied, sizeof(applied));
	assert_int_equal(x.n_may_stay, 2);
	assert_string_equal(x.may_stay[1].who, "b");
	assert_int_equal(x.n_must_stay, 1);
	assert_string_equal(x.must_stay[0], "a");
	assert_int_equal(x.unplug, UNPLUG_COMPLETE);
	assert_int_equal(x.max_corrupted, 0);
	assert_non_null(strstr(applied, "release < 6.5"));
	assert_non_null(strstr(applied, "config CONFIG_PREEMPT_RT (not decided: no kernel config)"));
	assert_int_equal(x.after_release, UNPLUG_COMPLETE);  /* undecided: not applied */
	/* 6.12.117: must-stay and unplug replaced, the list not extended */
	scenario_expect_for(&s, "6.12.117", "6.12.117+deb12-cloud-amd64", &x, applied, sizeof(applied));
	assert_int_equal(x.n_may_stay, 1);
	assert_string_equal(x.must_stay[0], "b");
	assert_int_equal(x.unplug, UNPLUG_ANY);
	assert_null(strstr(applied, "release < 6.5"));
	/* the rt flavour: a word of uname -r, not any substring */
	scenario_expect_for(&s, "6.1.192", "6.1.0-57-rt-amd64", &x, applied, sizeof(applied));
	assert_int_equal(x.max_corrupted, 7);
	scenario_expect_for(&s, "6.1.192", "6.1.0-57-sport-amd64", &x, applied, sizeof(applied));
	assert_int_equal(x.max_corrupted, 0);
	/* a config read: decided */
	s.when[3].config = 'y';
	scenario_expect_for(&s, "6.1.192", "6.1.0-57-rt-amd64", &x, applied, sizeof(applied));
	assert_int_equal(x.after_release, UNPLUG_ANY);
	/* the kernel unknown (no hello): no release condition applies */
	scenario_expect_for(&s, "", "", &x, applied, sizeof(applied));
	assert_int_equal(x.n_may_stay, 1);
	assert_non_null(strstr(applied, "release < 6.5 (not decided: the kernel is unknown)"));
	assert_true(version_cmp("6.1.192", "6.5") < 0);
	assert_true(version_cmp("6.12", "6.5") > 0);
	assert_int_equal(version_cmp("6.1.129", "6.1.129"), 0);
	assert_true(version_cmp("6.1.130", "6.1.129") > 0);
}

static void file_errors(void **state)
{
	static struct scenario s;
	struct err e = { "" };
	assert_int_equal(scenario_load("/nonexistent/x.ini", &s, &e), -1);
	assert_non_null(strstr(e.msg, "cannot open scenario /nonexistent/x.ini: No such file"));
	assert_int_equal(scenario_load("/proc/self", &s, &e), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(default_scenario),
		cmocka_unit_test(shipped_scenarios),
		cmocka_unit_test(minimal_and_defaults),
		cmocka_unit_test(errors_name_the_place),
		cmocka_unit_test(modes),
		cmocka_unit_test(expectations_per_kernel),
		cmocka_unit_test(file_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
