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
	assert_int_equal(s.unplug, UNPLUG_COMPLETE);
	assert_int_equal(s.max_corrupted, 0);
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
		{ VM "[population a]\ntype = anonn\nsize = 1M\n" STEP, "t.ini:4: [population a] type: unknown population type \"anonn\" (known: anon, thp-cow, vmsplice, longterm-pin, high-mapcount, pagecache, transient-refs, secretmem, lazyfree, offline-nack)" },
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
		cmocka_unit_test(file_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
