/* The suite renderers (JUnit, KTAP, HTML, KCIDB) on a small hand-made suite: a
 * pass run, a fail run with an unexpected stay and a known bug, an error
 * run without a report and a skip run; hostile strings in names and texts;
 * and input that is missing fields or has the wrong types. */
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

#include "../../common/reasons.h"
#include "suite/suite-report.h"

/* 8 device blocks of 2 MiB at 4 GiB, memory blocks of 8 MiB (4 per row) */
#define REGION "\"region\": {\"addr\": 4294967296, \"size\": 16777216, \"block_size\": 2097152, \"blocks\": 8, " \
	       "\"node\": 1, \"memory_block_size\": 8388608, \"plugged_at_start\": 16777216}"

static const char *suite_text =
	"{\"schema\": \"vmemstress-suite/1\","
	" \"suite\": {\"name\": \"nightly\", \"path\": \"scenarios/nightly.suite\", \"started\": \"2026-11-23T10:00:00Z\","
	"  \"elapsed_ms\": 30000, \"jobs\": 2, \"host\": \"h\"},"
	" \"verdict\": \"error\", \"exit_status\": 2,"
	" \"baseline\": {\"path\": \"old/suite.json\", \"started\": \"2026-11-22T10:00:00Z\"},"
	" \"summary\": {\"runs\": 4, \"pass\": 1, \"fail\": 1, \"error\": 1, \"skip\": 1, \"new_failures\": 1, \"fixed\": 0,"
	"  \"known_failures\": 0},"
	" \"runs\": ["
	/* pass */
	"  {\"id\": \"k1/default\", \"kernel\": {\"name\": \"k1\", \"release\": \"6.1.0\", \"image\": \"/b/vmlinuz\"},"
	"   \"scenario\": {\"name\": \"default\", \"path\": \"scenarios/default.ini\"}, \"dir\": \"runs/k1/default\","
	"   \"verdict\": \"pass\", \"exit_status\": 0, \"elapsed_ms\": 1500, \"failures\": [], \"change\": \"unchanged\","
	"   \"new_failures\": [], \"fixed_failures\": [], \"known_failures\": [], \"error\": null,"
	"   \"report\": {\"verdict\": \"pass\", " REGION ","
	"    \"populate\": {\"map\": \"PPPPPPPP\"},"
	"    \"steps\": [{\"name\": \"all\", \"requested\": 0, \"size_before\": 16777216, \"size_after\": 0,"
	"      \"reached\": true, \"elapsed_ms\": 900, \"kicks\": 0, \"state\": {\"map\": \"UUUUUUUU\"}, \"stayed\": []}],"
	"    \"timeline\": [{\"t_ms\": 100, \"requested\": 16777216, \"size\": 16777216},"
	"                   {\"t_ms\": 600, \"requested\": 0, \"size\": 8388608},"
	"                   {\"t_ms\": 1400, \"requested\": 0, \"size\": 0}]}},"
	/* fail: hostile scenario name, block 0 unexpected, block 1 a known bug */
	"  {\"id\": \"k1/vmsplice\", \"kernel\": {\"name\": \"k1\", \"release\": \"6.1.0\", \"image\": \"/b/vmlinuz\"},"
	"   \"scenario\": {\"name\": \"vm#splice</td><script>alert(1)</script>\\u0001\", \"path\": \"x.ini\"},"
	"   \"dir\": \"runs/k1/vmsplice\", \"verdict\": \"fail\", \"exit_status\": 1, \"elapsed_ms\": 2250,"
	"   \"failures\": [\"step all: pipe:gup-reference unexpected\"], \"change\": \"new-failure\","
	"   \"new_failures\": [\"step all: pipe:gup-reference unexpected\"], \"fixed_failures\": [], \"known_failures\": [],"
	"   \"error\": null,"
	"   \"report\": {\"verdict\": \"fail\", " REGION ","
	"    \"populate\": {\"map\": \"PPPPPPPP\"},"
	"    \"steps\": [{\"name\": \"all\", \"requested\": 0, \"size_before\": 16777216, \"size_after\": 6291456,"
	"      \"reached\": false, \"elapsed_ms\": 2000, \"kicks\": 2, \"state\": {\"map\": \"PPUUUUUP\"},"
	"      \"stayed\": [{\"block\": 0, \"addr\": 4294967296, \"memory_block\": 512, \"owner\": \"pipe\","
	"        \"reason\": \"gup-reference\", \"evidence\": \"busy PFN 0x100000 </pre>\\u0001\", \"released_by\": \"pipe\","
	"        \"stayed_after_release\": false, \"sysfs_offline\": null, \"after_release\": null, \"expected\": false,"
	"        \"known_bug\": null},"
	"       {\"block\": 1, \"addr\": 4296867840, \"memory_block\": 512, \"owner\": \"thp\","
	"        \"reason\": \"isolation-false-positive\", \"evidence\": \"anon THP\", \"released_by\": null,"
	"        \"stayed_after_release\": true, \"sysfs_offline\": \"ok\", \"after_release\": null, \"expected\": false,"
	"        \"known_bug\": {\"name\": \"thp-mapcount-on-isolation\", \"title\": \"THP mapcount on isolation\","
	"         \"fixed_by\": \"829ae0f81ce0\", \"fix_title\": \"mm: migrate: fix THP's mapcount on isolation\"}}]}],"
	"    \"findings\": [\"step all: block 0 stayed: pipe, gup-reference, not expected\"]}},"
	/* error, no report; a two-line error with a '#' */
	"  {\"id\": \"k2/default\", \"kernel\": {\"name\": \"k2\", \"release\": \"6.12\", \"image\": \"/c/vmlinuz\"},"
	"   \"scenario\": {\"name\": \"default\", \"path\": \"scenarios/default.ini\"}, \"dir\": \"runs/k2/default\","
	"   \"verdict\": \"error\", \"exit_status\": 2, \"elapsed_ms\": 500, \"failures\": [], \"change\": \"new-run\","
	"   \"new_failures\": [], \"fixed_failures\": [], \"known_failures\": [],"
	"   \"error\": \"QEMU died\\nsecond line # hash\", \"report\": null},"
	/* skip */
	"  {\"id\": \"k2/secret\", \"kernel\": {\"name\": \"k2\", \"release\": \"6.12\", \"image\": \"/c/vmlinuz\"},"
	"   \"scenario\": {\"name\": \"secret\", \"path\": \"scenarios/secretmem-kernel.ini\"}, \"dir\": \"runs/k2/secret\","
	"   \"verdict\": \"skip\", \"exit_status\": 4, \"elapsed_ms\": 10, \"failures\": [], \"change\": \"unchanged\","
	"   \"new_failures\": [], \"fixed_failures\": [], \"known_failures\": [], \"error\": null,"
	"   \"report\": {\"verdict\": \"skip\", \"steps\": [],"
	"    \"not_shown\": [\"population secret (secretmem): the kernel lacks CONFIG_SECRETMEM\"]}}"
	" ]}";

/* Render with one writer into a string. */
static char *render(int (*write)(struct json_object *, FILE *, struct err *), struct json_object *suite)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	struct err e = { { 0 } };
	int rc = write(suite, f, &e);
	assert_int_equal(fclose(f), 0);
	if (rc != 0)
		fail_msg("writer failed: %s", e.msg);
	assert_int_equal(strlen(buf), len);  /* no NUL written */
	return buf;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static bool has_line(const char *text, const char *line)
{
	size_t l = strlen(line);
	for (const char *p = text; (p = strstr(p, line)); p++)
		if ((p == text || p[-1] == '\n') && (p[l] == '\n' || p[l] == 0))
			return true;
	return false;
}

static struct json_object *suite;
static int kcidb_nodir(struct json_object *s, FILE *f, struct err *e);

static int setup(void **state)
{
	suite = json_tokener_parse(suite_text);
	if (!suite)
		fail_msg("the test suite JSON does not parse");
	return 0;
}

static int teardown(void **state)
{
	json_object_put(suite);
	return 0;
}

static void no_hostile_bytes(const char *out)
{
	assert_null(strchr(out, '\x01'));
	assert_null(strstr(out, "<script"));
	assert_null(strstr(out, "</td><script>"));
}

static void junit_counts_and_failure_text(void **state)
{
	char *x = render(suite_write_junit, suite);
	assert_non_null(strstr(x, "<testsuites name=\"vmemstress nightly\" tests=\"4\" failures=\"1\" errors=\"1\" "
				  "skipped=\"1\" time=\"4.260\""));
	assert_int_equal(count(x, "<testsuite "), 2);
	assert_non_null(strstr(x, "<testsuite name=\"k1\" tests=\"2\" failures=\"1\" errors=\"0\" skipped=\"0\" "
				  "time=\"3.750\""));
	assert_non_null(strstr(x, "<testsuite name=\"k2\" tests=\"2\" failures=\"0\" errors=\"1\" skipped=\"1\" "
				  "time=\"0.510\""));
	assert_int_equal(count(x, "<testcase "), 4);
	assert_int_equal(count(x, "<failure "), 1);
	assert_int_equal(count(x, "<error "), 1);
	assert_int_equal(count(x, "<skipped "), 1);
	/* Jenkins splits classnames at dots: none in the kernel part */
	assert_non_null(strstr(x, "classname=\"vmemstress.k1\" name=\"default\" time=\"1.500\""));
	/* the failure names blocks, addresses, memory blocks, reasons, owners, the bug */
	assert_non_null(strstr(x, "type=\"known-bug\""));
	assert_non_null(strstr(x, "step all: device block 0 (0x100000000-0x100200000, memory block 512): owner pipe, "
				  "reason gup-reference, not expected; went when pipe was released"));
	assert_non_null(strstr(x, "owner thp, reason isolation-false-positive, not expected; stayed after release"));
	assert_non_null(strstr(x, "KNOWN BUG thp-mapcount-on-isolation &quot;THP mapcount on isolation&quot;: fixed by "
				  "829ae0f81ce0"));
	assert_non_null(strstr(x, "new failures (not in the baseline):\n  - step all: pipe:gup-reference unexpected"));
	/* escaped, and the control character kept visible */
	assert_non_null(strstr(x, "name=\"vm#splice&lt;/td&gt;&lt;script&gt;alert(1)&lt;/script&gt;\\x01\""));
	assert_non_null(strstr(x, "busy PFN 0x100000 &lt;/pre&gt;\\x01"));
	/* the error's two lines survive in the attribute */
	assert_non_null(strstr(x, "<error message=\"QEMU died&#10;second line # hash\""));
	assert_non_null(strstr(x, "<skipped message=\"not shown: population secret (secretmem): the kernel lacks "
				  "CONFIG_SECRETMEM\"/>"));
	assert_non_null(strstr(x, "runs/k1/default/report.txt"));
	no_hostile_bytes(x);
	free(x);
}

static void ktap_lines(void **state)
{
	char *k = render(suite_write_ktap, suite);
	assert_memory_equal(k, "KTAP version 1\n", 15);
	assert_true(has_line(k, "1..2"));
	assert_true(has_line(k, "  KTAP version 1"));
	assert_true(has_line(k, "  # Subtest: k1"));
	assert_true(has_line(k, "  # Subtest: k2"));
	assert_int_equal(count(k, "\n  1..2\n"), 2);
	assert_true(has_line(k, "  ok 1 default"));
	/* '#' would start a directive, '\x01' is no text: both replaced */
	assert_true(has_line(k, "  not ok 2 vm_splice</td><script>alert(1)</script>"));
	assert_true(has_line(k, "  # new failure: step all: pipe:gup-reference unexpected"));
	assert_true(has_line(k, "  not ok 1 default # ERROR QEMU died second line # hash"));
	assert_true(has_line(k, "  ok 2 secret # SKIP population secret (secretmem): the kernel lacks CONFIG_SECRETMEM"));
	assert_true(has_line(k, "not ok 1 k1"));
	assert_true(has_line(k, "not ok 2 k2"));
	assert_null(strchr(k, '\x01'));
	/* every line is KTAP: a version, a plan, a result or a diagnostic */
	char *copy = strdup(k), *save = NULL;
	for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		const char *p = l;
		while (*p == ' ')
			p++;
		if (!(strncmp(p, "KTAP version 1", 14) == 0 || strncmp(p, "1..", 3) == 0 || strncmp(p, "ok ", 3) == 0 ||
		      strncmp(p, "not ok ", 7) == 0 || strncmp(p, "# ", 2) == 0))
			fail_msg("not a KTAP line: \"%s\"", l);
	}
	free(copy);
	free(k);
}

static void html_grid_cells(void **state)
{
	char *h = render(suite_write_html, suite);
	assert_non_null(strstr(h, "<!DOCTYPE html>"));
	/* two grids (the pass and the fail run's step) of 8 cells */
	assert_int_equal(count(h, "<div class=\"grid\""), 2);
	assert_int_equal(count(h, " data-block=\""), 16);
	/* the pass run: all went; the fail run: 5 went, 1 kept, and the stays */
	assert_int_equal(count(h, "data-outcome=\"went\" data-reason=\"\" title="), 13);
	assert_int_equal(count(h, "data-outcome=\"kept\" data-reason=\"\" title="), 1);
	assert_non_null(strstr(h, "<span class=\"c u-gup-reference rel\" data-block=\"0\" "
				  "data-outcome=\"stayed-unexpected\" data-reason=\"gup-reference\" data-released=\"pipe\""));
	assert_non_null(strstr(h, "<span class=\"c o-kb sar\" data-block=\"1\" data-outcome=\"known-bug\" "
				  "data-reason=\"isolation-false-positive\""));
	/* the legend: one swatch per plain outcome and two per reason */
	assert_int_equal(count(h, "<span class=\"sw "), 5 + 2 * VMS_REASON_COUNT + 2 + 1 /* chips: went */ + 4 /* went, kept, kb, u-gup */);
	/* a timeline for the pass run */
	assert_int_equal(count(h, "<svg class=\"chart\""), 1);
	assert_non_null(strstr(h, "class=\"plugged\""));
	/* the error run shows its error; no script anywhere */
	assert_non_null(strstr(h, "QEMU died\nsecond line # hash"));
	assert_null(strstr(h, "<script"));
	assert_non_null(strstr(h, "vm#splice&lt;/td&gt;&lt;script&gt;alert(1)&lt;/script&gt;\\x01"));
	/* tooltips carry the evidence, escaped */
	assert_non_null(strstr(h, "evidence: busy PFN 0x100000 &lt;/pre&gt;\\x01"));
	no_hostile_bytes(h);
	free(h);
}

/* A dangerous directory never becomes a link. */
static void html_no_script_links(void **state)
{
	struct json_object *s = json_tokener_parse(
		"{\"runs\": [{\"id\": \"a/b\", \"verdict\": \"pass\", \"dir\": \"javascript:alert(1)\"},"
		"            {\"id\": \"a/c\", \"verdict\": \"pass\", \"dir\": \"../../etc\"}]}");
	assert_non_null(s);
	char *h = render(suite_write_html, s);
	assert_null(strstr(h, "href=\"javascript"));
	assert_null(strstr(h, "href=\"../"));
	assert_non_null(strstr(h, "<code>javascript:alert(1)</code>"));
	free(h);
	json_object_put(s);
}

/* Missing fields, wrong types, absurd numbers: rendered, never a crash. */
static void garbage_does_not_crash(void **state)
{
	static const char *const inputs[] = {
		"null",
		"\"a string\"",
		"[]",
		"{}",
		"{\"runs\": 5, \"suite\": [], \"summary\": \"x\", \"baseline\": 3}",
		"{\"runs\": [1, \"a\", null, {}, [], {\"report\": 7, \"verdict\": 9, \"kernel\": [], \"scenario\": {\"name\": \"\"}}]}",
		"{\"runs\": [{\"id\": \"/\", \"report\": {\"region\": {\"size\": -1, \"block_size\": 0}, \"steps\": \"x\"}}]}",
		"{\"runs\": [{\"id\": \"k/s\", \"report\": {\"region\": {\"size\": 1e300, \"block_size\": 1}, \"steps\": [{}]}}]}",
		"{\"runs\": [{\"id\": \"k/s\", \"report\": {\"region\": {\"size\": 9223372036854775807, \"block_size\": 1}, "
		"\"steps\": [{}]}}]}",
		"{\"runs\": [{\"id\": \"k/s\", \"verdict\": \"fail\", \"failures\": [1, null], \"new_failures\": {},"
		" \"report\": {\"region\": {\"size\": 4194304, \"block_size\": 2097152, \"memory_block_size\": -3, \"addr\": -1},"
		" \"populate\": {\"map\": 7}, \"findings\": [null, 3],"
		" \"steps\": [5, {\"state\": {\"map\": \"PPPPPPPPPPPPPP\", \"blocks\": [{\"index\": 0, \"held\": {\"x\": \"y\"}}]},"
		"   \"stayed\": [{\"block\": 1e30}, {\"block\": -5}, {\"block\": 1, \"reason\": 7, \"known_bug\": []},"
		"   {\"block\": 1}, \"junk\", {\"block\": 0, \"reason\": \"no-such-reason\", \"expected\": \"yes\"}]},"
		"   {\"state\": null, \"stayed\": null, \"released\": [1]}],"
		" \"timeline\": [{\"t_ms\": \"x\"}, 4, {\"t_ms\": 1, \"requested\": -1, \"size\": 2},"
		"   {\"t_ms\": 1e300, \"requested\": 1e300, \"size\": 0}, {\"t_ms\": 0, \"requested\": 0, \"size\": 0}],"
		" \"run\": {\"console_tail\": 5, \"phase\": []}, \"not_shown\": \"x\"}}]}",
		"{\"verdict\": \"error\", \"runs\": [{\"id\": \"k/s\", \"verdict\": \"error\", \"report\": {\"run\": "
		"{\"error\": \"\\u00ff\\ud800 bad\", \"console_tail\": \"Kernel panic - not syncing: VFS: x\\nreboot: System halted\"}}}]}",
	};
	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		struct json_object *s = json_tokener_parse(inputs[i]);
		char *a = render(suite_write_junit, s), *b = render(suite_write_ktap, s), *c = render(suite_write_html, s);
		char *d = render(kcidb_nodir, s);
		struct json_object *kj = json_tokener_parse(d);
		if (!kj)
			fail_msg("input %zu: the KCIDB output is not JSON: %s", i, d);
		json_object_put(kj);
		free(d);
		assert_memory_equal(a, "<?xml", 5);
		assert_memory_equal(b, "KTAP version 1\n", 15);
		assert_non_null(strstr(c, "</html>"));
		free(a);
		free(b);
		free(c);
		json_object_put(s);
	}
}

/* The KCIDB writer without an output directory (no file URLs) */
static int kcidb_nodir(struct json_object *s, FILE *f, struct err *e)
{
	return suite_write_kcidb(s, NULL, f, e);
}

static const char *kcidb_dir;
static int kcidb_withdir(struct json_object *s, FILE *f, struct err *e)
{
	return suite_write_kcidb(s, kcidb_dir, f, e);
}

static struct json_object *jpath(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;
	if (!json_object_object_get_ex(o, key, &v))
		fail_msg("no member %s", key);
	return v;
}

static const char *jstr_at(struct json_object *o, const char *key)
{
	return json_object_get_string(jpath(o, key));
}

/* KCIDB: a checkout and build per kernel, a test per run with the status
 * its verdict gives, the stuck blocks folded, the known bug named. */
static void kcidb_tests_and_misc(void **state)
{
	char *k = render(kcidb_nodir, suite);
	struct json_object *o = json_tokener_parse(k);
	assert_non_null(o);
	assert_int_equal(json_object_get_int(jpath(jpath(o, "version"), "major")), 5);
	assert_int_equal(json_object_get_int(jpath(jpath(o, "version"), "minor")), 3);
	assert_int_equal(json_object_array_length(jpath(o, "checkouts")), 2);
	assert_int_equal(json_object_array_length(jpath(o, "builds")), 2);
	struct json_object *tests = jpath(o, "tests");
	assert_int_equal(json_object_array_length(tests), 4);
	static const char *const status[] = { "PASS", "FAIL", "ERROR", "SKIP" };
	for (size_t i = 0; i < 4; i++) {
		struct json_object *t = json_object_array_get_idx(tests, i);
		assert_string_equal(jstr_at(t, "status"), status[i]);
		assert_string_equal(jstr_at(t, "origin"), "vmemstress");
		/* a test path is [a-zA-Z0-9_-] parts joined by dots */
		const char *p = jstr_at(t, "path");
		assert_memory_equal(p, "vmemstress.", 11);
		assert_int_equal(strspn(p + 11, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"),
				 strlen(p + 11));
		/* no directory given: no file URLs */
		assert_false(json_object_object_get_ex(t, "output_files", NULL));
	}
	struct json_object *pass = json_object_array_get_idx(tests, 0), *fail = json_object_array_get_idx(tests, 1);
	assert_string_equal(jstr_at(pass, "id"), "vmemstress:h/nightly/2026-11-23T10:00:00Z/k1/default");
	assert_string_equal(jstr_at(pass, "build_id"), "vmemstress:h/nightly/2026-11-23T10:00:00Z/k1");
	assert_string_equal(jstr_at(pass, "start_time"), "2026-11-23T10:00:00.000000+00:00");
	assert_non_null(strstr(k, "\"duration\": 1.500,"));
	assert_string_equal(jstr_at(jpath(json_object_array_get_idx(jpath(o, "builds"), 1), "misc"), "release"), "6.12");
	/* the hostile scenario name: only path characters in the path */
	assert_string_equal(jstr_at(fail, "path"), "vmemstress.vm_splice__td__script_alert_1___script__");
	struct json_object *misc = jpath(fail, "misc"), *stuck = jpath(misc, "stuck_blocks");
	assert_int_equal(json_object_array_length(stuck), 2);
	struct json_object *b0 = json_object_array_get_idx(stuck, 0), *b1 = json_object_array_get_idx(stuck, 1);
	assert_string_equal(jstr_at(b0, "blocks"), "0");
	assert_string_equal(jstr_at(b0, "addresses"), "0x100000000-0x100200000");
	assert_string_equal(jstr_at(b0, "reason"), "gup-reference");
	assert_string_equal(jstr_at(b0, "released_by"), "pipe");
	assert_false(json_object_get_boolean(jpath(b0, "expected")));
	assert_string_equal(jstr_at(b1, "reason"), "isolation-false-positive");
	assert_string_equal(jstr_at(jpath(b1, "known_bug"), "name"), "thp-mapcount-on-isolation");
	assert_string_equal(jstr_at(jpath(b1, "known_bug"), "fixed_by"), "829ae0f81ce0");
	assert_string_equal(json_object_to_json_string(jpath(misc, "known_bugs")), "[ \"thp-mapcount-on-isolation\" ]");
	assert_string_equal(json_object_to_json_string(jpath(misc, "reasons")),
			    "[ \"gup-reference\", \"isolation-false-positive\" ]");
	assert_string_equal(jstr_at(misc, "change"), "new-failure");
	assert_non_null(strstr(jstr_at(fail, "comment"), ": FAIL: step all: pipe:gup-reference unexpected"));
	/* the error's text is the error test's comment and excerpt */
	struct json_object *error = json_object_array_get_idx(tests, 2);
	assert_non_null(strstr(jstr_at(error, "log_excerpt"), "error: QEMU died\nsecond line # hash"));
	assert_string_equal(json_object_to_json_string(jpath(jpath(json_object_array_get_idx(tests, 3), "misc"), "not_shown")),
			    "[ \"population secret (secretmem): the kernel lacks CONFIG_SECRETMEM\" ]");
	json_object_put(o);
	free(k);
}

/* A run never started is MISS with no time; bytes that are not UTF-8
 * become '?'; with a directory, the files there become file:// URLs,
 * percent-encoded, and log_url is the run's report.txt. */
static void kcidb_miss_utf8_and_urls(void **state)
{
	char tmpl[] = "/tmp/vms-kcidb-test.XXXXXX", path[200];
	assert_non_null(mkdtemp(tmpl));
	snprintf(path, sizeof(path), "%s/runs", tmpl);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/runs/k a", tmpl);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/runs/k a/s", tmpl);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/runs/k a/s/report.txt", tmpl);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	struct json_object *s = json_tokener_parse(
		"{\"suite\": {\"name\": \"n\", \"started\": \"2026-11-23T23:59:59Z\", \"host\": \"h\"}, \"runs\": ["
		" {\"id\": \"k a/s\", \"kernel\": {\"name\": \"k a\"}, \"scenario\": {\"name\": \"s\"}, \"dir\": \"runs/k a/s\","
		"  \"verdict\": \"pass\", \"started_ms\": 1500, \"elapsed_ms\": 1},"
		" {\"id\": \"k a/t\", \"kernel\": {\"name\": \"k a\"}, \"scenario\": {\"name\": \"t\"}, \"dir\": \"../../etc\","
		"  \"verdict\": \"error\", \"error\": \"not run: the suite was interrupted\", \"started_ms\": 0, \"elapsed_ms\": 0},"
		" {\"id\": \"k a/u\", \"kernel\": {\"name\": \"k a\"}, \"scenario\": {\"name\": \"u\"},"
		"  \"verdict\": \"fail\", \"failures\": [\"bad \\u00e9\"]}]}");
	assert_non_null(s);
	/* json-c keeps bytes as given: put a lone continuation byte in */
	json_object_object_add(json_object_array_get_idx(jpath(s, "runs"), 2), "error", json_object_new_string("x\x80y"));
	kcidb_dir = tmpl;
	char *k = render(kcidb_withdir, s);
	struct json_object *o = json_tokener_parse(k);
	assert_non_null(o);
	struct json_object *t0 = json_object_array_get_idx(jpath(o, "tests"), 0);
	struct json_object *t1 = json_object_array_get_idx(jpath(o, "tests"), 1);
	struct json_object *t2 = json_object_array_get_idx(jpath(o, "tests"), 2);
	assert_string_equal(jstr_at(t0, "start_time"), "2026-11-24T00:00:00.500000+00:00");
	char want[300];
	snprintf(want, sizeof(want), "file://%s/runs/k%%20a/s/report.txt", tmpl);
	assert_string_equal(jstr_at(t0, "log_url"), want);
	assert_int_equal(json_object_array_length(jpath(t0, "output_files")), 1);
	assert_string_equal(jstr_at(t1, "status"), "MISS");
	assert_false(json_object_object_get_ex(t1, "start_time", NULL));
	assert_false(json_object_object_get_ex(t1, "duration", NULL));
	assert_false(json_object_object_get_ex(t1, "output_files", NULL));  /* "../../etc" is not looked at */
	assert_string_equal(jstr_at(jpath(t2, "misc"), "error"), "x?y");
	assert_string_equal(jstr_at(t2, "status"), "FAIL");
	json_object_put(o);
	free(k);
	json_object_put(s);
	unlink(path);
	snprintf(path, sizeof(path), "%s/runs/k a/s", tmpl);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/runs/k a", tmpl);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/runs", tmpl);
	rmdir(path);
	rmdir(tmpl);
}

/* A suite dealt to hosts: every format names each run's host, the run
 * moved from a host that dropped out, and that host. */
static void hosts_in_every_format(void **state)
{
	struct json_object *s = json_tokener_parse(
		"{\"suite\": {\"name\": \"n\", \"started\": \"2026-11-23T10:00:00Z\", \"host\": \"me\", \"hosts\": ["
		"  {\"name\": \"lv-a\", \"connect\": \"qemu+unix:///system?socket=/a/s\", \"runs\": 0, \"dropped_out\": true,"
		"   \"error\": \"cannot connect\"},"
		"  {\"name\": \"lv-b\", \"connect\": \"qemu+unix:///system?socket=/b/s\", \"runs\": 1, \"dropped_out\": false}]},"
		" \"runs\": [{\"id\": \"k/s\", \"verdict\": \"pass\", \"host\": \"lv-b\", \"dir\": \"runs/k/s\","
		"  \"moved_from\": [{\"host\": \"lv-a\", \"error\": \"the connection closed\", \"dir\": \"lost/lv-a/k/s\"}]}]}");
	assert_non_null(s);
	char *k = render(suite_write_ktap, s), *j = render(suite_write_junit, s), *h = render(suite_write_html, s);
	char *c = render(kcidb_nodir, s);
	assert_true(has_line(k, "# host: lv-a (qemu+unix:///system?socket=/a/s): 0 runs; dropped out: cannot connect"));
	assert_true(has_line(k, "# host: lv-b (qemu+unix:///system?socket=/b/s): 1 runs"));
	assert_true(has_line(k, "  # host: lv-b"));
	assert_true(has_line(k, "  # moved: from host lv-a, which dropped out: the connection closed"));
	assert_true(has_line(j, "host: lv-b"));
	assert_true(has_line(j, "moved from host lv-a, which dropped out: the connection closed"));
	assert_non_null(strstr(h, "; on host <code class=\"host\">lv-b</code>"));
	assert_non_null(strstr(h, "; moved from host <code class=\"moved\">lv-a</code>, which dropped out (the connection closed)"));
	assert_non_null(strstr(c, "\"comment\": \"host lv-b, ? backend, accel ?\""));
	free(k);
	free(j);
	free(h);
	free(c);
	json_object_put(s);
}

/* kunit.py stops reading at the kernel's end-of-tests markers wherever they
 * are in a line; a console tail or error must not carry one. */
static void ktap_breaks_end_markers(void **state)
{
	struct json_object *s = json_tokener_parse(
		"{\"runs\": [{\"id\": \"k/s\", \"verdict\": \"error\", \"error\": \"Kernel panic - not syncing: VFS: no root\","
		" \"failures\": [\"reboot: System halted\", \"List of all partitions: none\"]}]}");
	char *k = render(suite_write_ktap, s);
	assert_null(strstr(k, "Kernel panic - not syncing: VFS:"));
	assert_null(strstr(k, "reboot: System halted"));
	assert_null(strstr(k, "List of all partitions:"));
	assert_true(has_line(k, "  not ok 1 s # ERROR Kernel_panic - not syncing: VFS: no root"));
	free(k);
	json_object_put(s);
}

/* Bytes that are not UTF-8 must not reach XML (xmllint would reject the
 * file): each becomes visible text. */
static void markup_escapes_invalid_utf8(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	sr_put_markup(f, "a\xff" "b\xc3\xa9" "c\xed\xa0\x80" "d\x7f" "e\xef\xbf\xbe" "f\t\n", SR_ATTR);
	fclose(f);
	assert_string_equal(buf, "a\\xFFb\xc3\xa9" "c\\xED\\xA0\\x80d\\x7Fe\\uFFFEf&#9;&#10;");
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(junit_counts_and_failure_text),
		cmocka_unit_test(ktap_lines),
		cmocka_unit_test(html_grid_cells),
		cmocka_unit_test(html_no_script_links),
		cmocka_unit_test(garbage_does_not_crash),
		cmocka_unit_test(ktap_breaks_end_markers),
		cmocka_unit_test(hosts_in_every_format),
		cmocka_unit_test(kcidb_tests_and_misc),
		cmocka_unit_test(kcidb_miss_utf8_and_urls),
		cmocka_unit_test(markup_escapes_invalid_utf8),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
