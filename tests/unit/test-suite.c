/* Suite files (their errors name file and line) and the baseline
 * comparison that decides a nightly verdict. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "suite/baseline.h"
#include "suite/suite-file.h"
#include "suite/suite.h"

static char dir[64];

static const char *write_file(const char *name, const char *text)
{
	static char path[200];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/vms-suite-test.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	write_file("a.ini", "[scenario]\n");
	write_file("b.ini", "[scenario]\n");
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void good_file(void **state)
{
	static struct suite s;
	struct err e = { "" };
	const char *p = write_file("n.suite", "# nightly\n[suite]\nname = night\nscenarios = a.ini\nscenarios = b.ini\n"
					      "jobs = 2\nrun-timeout = 5m\n\n[kernel deb]\ndebian-kernel = linux-image-cloud-amd64\n"
					      "[kernel bug]\nkernel-src = debian\npatches = thp-mapcount-bug\n"
					      "[kernel mine]\nkernel = /boot/vmlinuz\nmodules = mods\n");
	assert_int_equal(suite_load(p, &s, &e), 0);
	assert_string_equal(s.name, "night");
	assert_int_equal(s.nscenarios, 2);
	assert_non_null(strstr(s.scenarios[0], "/a.ini"));
	assert_int_equal(s.jobs, 2);
	assert_int_equal(s.run_timeout_ms, 300000);
	assert_int_equal(s.nkernels, 3);
	assert_string_equal(s.kernels[0].option, "debian-kernel");
	assert_string_equal(s.kernels[0].value, "linux-image-cloud-amd64");
	assert_string_equal(s.kernels[1].value, "debian");   /* not made a path */
	assert_string_equal(s.kernels[1].patches, "thp-mapcount-bug");
	assert_string_equal(s.kernels[2].value, "/boot/vmlinuz");
	char want[200];
	snprintf(want, sizeof(want), "%s/mods", dir);   /* relative to the suite file */
	assert_string_equal(s.kernels[2].modules, want);
}

static void glob_and_dir(void **state)
{
	static struct suite s;
	struct err e = { "" };
	assert_int_equal(suite_load(write_file("g.suite", "[suite]\nscenarios = *.ini\n"), &s, &e), 0);
	assert_int_equal(s.nscenarios, 2);
	assert_string_equal(s.name, "g");
	assert_int_equal(s.nkernels, 0);
	assert_int_equal(suite_load(dir, &s, &e), 0);
	assert_int_equal(s.nscenarios, 2);
	assert_non_null(strstr(s.scenarios[1], "/b.ini"));
}

/* Each bad file: the message names the file, the line and the value. */
static void bad_files(void **state)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "[suite]\nscenarios = a.ini\nscenario = b.ini\n", ":3: [suite] scenario: unknown key" },
		{ "[suite]\nscenarios = nope.ini\n", ":2: scenarios: " },
		{ "[suite]\nscenarios = *.nothing\n", "*.nothing matches no file" },
		{ "[suite]\nscenarios = a.ini a.ini\n", "listed twice" },
		{ "[suite]\nscenarios = a.ini\njobs = 0\n", ":3: jobs = 0" },
		{ "[suite]\nscenarios = a.ini\nrun-timeout = soon\n", "run-timeout = soon" },
		{ "[suite]\nscenarios = a.ini\n[kernel x]\n", ":3: [kernel x] says nowhere" },
		{ "[suite]\nscenarios = a.ini\n[kernel x]\ndebian-kernel = a\nkernel = b\n", ":5: [kernel x] kernel: this kernel already" },
		{ "[suite]\nscenarios = a.ini\n[kernel a/b]\nkernel = b\n", "[kernel a/b]: a kernel name" },
		{ "[suite]\nscenarios = a.ini\n[kernel x]\nkernel = b\n[kernel x]\nkernel = c\n", ":5: [kernel x] given twice" },
		{ "[suite]\nscenarios = a.ini\n[kernel x]\ndebian-kernel = p\npatches = y\n", "patches goes with kernel-src" },
		{ "[suites]\n", ":1: [suites]: unknown section" },
		{ "[suite]\nscenarios = a.ini\n[host h]\njobs = 2\n", ":3: [host h] has no connect" },
		{ "[suite]\nscenarios = a.ini\n[host h]\nconnect = qemu:///system\njobs = 65\n", ":5: [host h] jobs = 65" },
		{ "[suite]\nscenarios = a.ini\n[host h]\nconnect = u\n[host h]\nconnect = v\n", ":5: [host h] given twice" },
		{ "[suite]\nscenarios = a.ini\n[host h]\nconnect = u\n[host i]\nconnect = u\n", ":5: [host i] connect = u: the same daemon as [host h]" },
		{ "[suite]\nscenarios = a.ini\n[host h]\nconnect = u\nuri = v\n", ":5: [host h] uri: unknown key" },
		{ "[suite]\nscenarios = a.ini\n[host a b]\nconnect = u\n", "[host a b]: a host name" },
		{ "[suite]\n", "lists no scenarios" },
		{ "scenarios = a.ini\n", ":1: scenarios: key outside any section" },
		{ "[suite]\nthis is not ini\n", ":2: not a \"key = value\"" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		static struct suite s;
		struct err e = { "" };
		const char *p = write_file("bad.suite", cases[i].text);
		if (suite_load(p, &s, &e) != -1)
			fail_msg("case %zu accepted", i);
		if (!strstr(e.msg, cases[i].want) || !strstr(e.msg, "bad.suite"))
			fail_msg("case %zu: \"%s\" does not say \"%s\"", i, e.msg, cases[i].want);
	}
}

/* [host NAME] sections: a daemon each, jobs unset until said. */
static void host_sections(void **state)
{
	static struct suite s;
	struct err e = { "" };
	const char *p = write_file("h.suite", "[suite]\nscenarios = a.ini\n[host bench-3]\n"
					      "connect = qemu+ssh://root@bench-3/system\njobs = 4\n"
					      "[host lab]\nconnect = qemu+unix:///system?socket=/srv/lv/libvirt-sock\n");
	assert_int_equal(suite_load(p, &s, &e), 0);
	assert_int_equal(s.nhosts, 2);
	assert_string_equal(s.hosts[0].name, "bench-3");
	assert_string_equal(s.hosts[0].connect, "qemu+ssh://root@bench-3/system");
	assert_int_equal(s.hosts[0].jobs, 4);
	assert_int_equal(s.hosts[0].line, 3);
	assert_string_equal(s.hosts[1].connect, "qemu+unix:///system?socket=/srv/lv/libvirt-sock");
	assert_int_equal(s.hosts[1].jobs, 0);  /* -j's, else 1 */
}

/* --connect URI[=JOBS]: JOBS only when what follows the last '=' is a
 * number; names from the URI's host, or its socket's directory. */
static void connect_options(void **state)
{
	static struct suite_options o;
	memset(&o, 0, sizeof(o));
	assert_int_equal(suite_connect_option(&o, "qemu+ssh://root@bench-3/system=3"), 0);
	assert_int_equal(suite_connect_option(&o, "qemu+unix:///system?socket=/srv/lv-a/libvirt-sock"), 0);
	assert_int_equal(suite_connect_option(&o, "qemu+unix:///system?socket=/srv/lv-b/libvirt-sock=2"), 0);
	assert_int_equal(suite_connect_option(&o, "qemu:///system"), 0);
	assert_int_equal(suite_connect_option(&o, "qemu+tcp://bench-3:16509/system"), 0);
	assert_int_equal(o.nhosts, 5);
	assert_string_equal(o.hosts[0].connect, "qemu+ssh://root@bench-3/system");
	assert_int_equal(o.hosts[0].jobs, 3);
	assert_string_equal(o.hosts[0].name, "bench-3");
	assert_string_equal(o.hosts[1].connect, "qemu+unix:///system?socket=/srv/lv-a/libvirt-sock");
	assert_int_equal(o.hosts[1].jobs, 0);
	assert_string_equal(o.hosts[1].name, "lv-a");
	assert_string_equal(o.hosts[2].connect, "qemu+unix:///system?socket=/srv/lv-b/libvirt-sock");
	assert_int_equal(o.hosts[2].jobs, 2);
	assert_string_equal(o.hosts[2].name, "lv-b");
	assert_string_equal(o.hosts[3].name, "local");
	/* another daemon on bench-3: a name of its own */
	assert_string_equal(o.hosts[4].name, "bench-3_16509");
	/* refused, and nothing added */
	assert_int_equal(suite_connect_option(&o, "qemu:///system=0"), -1);
	assert_int_equal(suite_connect_option(&o, "qemu:///system=65"), -1);
	assert_int_equal(suite_connect_option(&o, "=2"), -1);
	assert_int_equal(suite_connect_option(&o, "qemu:///system"), -1);  /* given twice */
	assert_int_equal(o.nhosts, 5);
	assert_int_equal(suite_connect_option(&o, "a:///1"), 0);
	assert_int_equal(suite_connect_option(&o, "a:///2"), 0);
	assert_int_equal(suite_connect_option(&o, "a:///3"), 0);
	assert_int_equal(suite_connect_option(&o, "a:///4"), -1);  /* at most 8 */
	assert_string_equal(o.hosts[5].name, "local-2");
}

/* A report with one expected and two unexpected stays, one a known bug. */
static struct json_object *report(const char *verdict, bool with_bug)
{
	char text[2000];
	snprintf(text, sizeof(text),
		 "{\"verdict\": \"%s\", \"steps\": [{\"name\": \"unplug-all\", \"stayed\": ["
		 "{\"block\": 4, \"owner\": \"vmsplice\", \"reason\": \"gup-reference\", \"expected\": true, \"known_bug\": null},"
		 "{\"block\": 5, \"owner\": \"thp\", \"reason\": \"gup-reference\", \"expected\": false, \"known_bug\": %s},"
		 "{\"block\": 6, \"owner\": null, \"reason\": \"unmovable-allocation\", \"expected\": false, \"known_bug\": null}"
		 "], \"state\": {\"populations\": [{\"name\": \"anon\", \"corrupted\": 3, \"absent\": 0}]}}],"
		 "\"findings\": [\"step unplug-all: memory blocks 0x100 stayed: thp\", \"step unplug-all: the device stayed at 512 MiB, 0 B was requested (x)\"]}",
		 verdict, with_bug ? "{\"name\": \"thp-mapcount\"}" : "null");
	return json_tokener_parse(text);
}

static bool has(struct json_object *a, const char *s)
{
	for (size_t i = 0; a && i < json_object_array_length(a); i++)
		if (strcmp(json_object_get_string(json_object_array_get_idx(a, i)), s) == 0)
			return true;
	return false;
}

static void signatures(void **state)
{
	struct json_object *r = report("fail", true);
	struct json_object *s = failure_signatures(r);
	if (json_object_array_length(s) != 4)
		fail_msg("signatures: %s", json_object_to_json_string(s));
	assert_true(has(s, "step unplug-all: thp stayed: gup-reference (known bug thp-mapcount)"));
	assert_true(has(s, "step unplug-all: unowned stayed: unmovable-allocation"));
	assert_true(has(s, "population anon: corrupted pages"));
	/* numbers and the parenthesis go: the same failure tomorrow matches */
	assert_true(has(s, "step unplug-all: the device stayed at # MiB, # B was requested"));
	json_object_put(s);
	json_object_put(r);
	/* a run that passed or did not finish has none */
	r = report("error", true);
	s = failure_signatures(r);
	assert_int_equal(json_object_array_length(s), 0);
	json_object_put(s);
	json_object_put(r);
	s = failure_signatures(NULL);
	assert_int_equal(json_object_array_length(s), 0);
	json_object_put(s);
}

static struct json_object *run(const char *id, const char *verdict, const char *const *failures)
{
	struct json_object *o = json_object_new_object(), *f = json_object_new_array();
	json_object_object_add(o, "id", json_object_new_string(id));
	json_object_object_add(o, "verdict", json_object_new_string(verdict));
	for (int i = 0; failures && failures[i]; i++)
		json_object_array_add(f, json_object_new_string(failures[i]));
	json_object_object_add(o, "failures", f);
	return o;
}

static const char *change(struct json_object *r)
{
	struct json_object *v;
	return json_object_object_get_ex(r, "change", &v) && v ? json_object_get_string(v) : "(null)";
}

static size_t count(struct json_object *r, const char *key)
{
	struct json_object *v;
	return json_object_object_get_ex(r, key, &v) ? json_object_array_length(v) : 99;
}

static void compare(void **state)
{
	static const char *const ab[] = { "A", "B", NULL }, *const a[] = { "A", NULL }, *const c[] = { "C", NULL };
	struct json_object *base = json_object_new_object(), *runs = json_object_new_array();
	json_object_array_add(runs, run("k/known", "fail", ab));
	json_object_array_add(runs, run("k/fixed", "fail", a));
	json_object_array_add(runs, run("k/new", "pass", NULL));
	json_object_array_add(runs, run("k/err", "fail", a));
	json_object_object_add(base, "runs", runs);

	struct json_object *r = run("k/known", "fail", ab);
	assert_false(baseline_compare(r, base));          /* known noise: not a regression */
	assert_string_equal(change(r), "known-failure");
	assert_int_equal(count(r, "known_failures"), 2);
	json_object_put(r);

	r = run("k/known", "fail", a);                     /* B fixed, A known */
	assert_false(baseline_compare(r, base));
	assert_string_equal(change(r), "known-failure");
	assert_int_equal(count(r, "fixed_failures"), 1);
	json_object_put(r);

	r = run("k/fixed", "pass", NULL);
	assert_false(baseline_compare(r, base));
	assert_string_equal(change(r), "fixed");
	assert_int_equal(count(r, "fixed_failures"), 1);
	json_object_put(r);

	r = run("k/new", "fail", c);
	assert_true(baseline_compare(r, base));
	assert_string_equal(change(r), "new-failure");
	assert_int_equal(count(r, "new_failures"), 1);
	json_object_put(r);

	r = run("k/known", "fail", (const char *const[]){ "A", "C", NULL });
	assert_true(baseline_compare(r, base));            /* one new beside a known one */
	assert_int_equal(count(r, "new_failures"), 1);
	assert_int_equal(count(r, "known_failures"), 1);
	json_object_put(r);

	r = run("k/absent", "fail", c);
	assert_true(baseline_compare(r, base));            /* a failing run the baseline lacks */
	json_object_put(r);
	r = run("k/absent", "pass", NULL);
	assert_false(baseline_compare(r, base));
	assert_string_equal(change(r), "new-run");
	json_object_put(r);

	r = run("k/err", "error", NULL);                   /* says nothing about fixes */
	assert_false(baseline_compare(r, base));
	assert_string_equal(change(r), "not-compared");
	assert_int_equal(count(r, "fixed_failures"), 0);
	json_object_put(r);

	r = run("k/new", "fail", c);                       /* no baseline: every failure counts */
	assert_true(baseline_compare(r, NULL));
	assert_string_equal(change(r), "(null)");
	json_object_put(r);
	json_object_put(base);
}

static void baseline_files(void **state)
{
	struct json_object *o = NULL;
	struct err e = { "" };
	assert_int_equal(baseline_load(write_file("x.json", "{\"schema\": \"vmemstress-report/1\"}"), &o, &e), -1);
	assert_non_null(strstr(e.msg, "not a suite result"));
	assert_int_equal(baseline_load(write_file("x.json", "{\"schema\": "), &o, &e), -1);
	assert_non_null(strstr(e.msg, "not JSON"));
	assert_int_equal(baseline_load(write_file("x.json", "{\"schema\": \"vmemstress-suite/1\", \"runs\": []}"), &o, &e), 0);
	json_object_put(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good_file), cmocka_unit_test(glob_and_dir), cmocka_unit_test(bad_files),
		cmocka_unit_test(host_sections), cmocka_unit_test(connect_options),
		cmocka_unit_test(signatures), cmocka_unit_test(compare), cmocka_unit_test(baseline_files),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
