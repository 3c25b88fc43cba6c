/* Hostile input, round two (issue 16): the files in tests/hostile/ each
 * carry one trick that was read silently or wrongly before; each must now
 * be an error naming the file and line or the value. Also the small
 * helpers those fixes rest on: the line reader, durations, output files. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "link/protocol.h"
#include "run/known-bugs.h"
#include "scenario/scenario.h"
#include "suite/suite-file.h"
#include "util/units.h"

#ifndef SRCDIR
#define SRCDIR "."
#endif
#define H SRCDIR "/tests/hostile/"

enum kind { SCENARIO, SUITE, BUGS };

static int load(enum kind k, const char *path, struct err *e)
{
	static struct scenario s;
	static struct suite su;
	static struct known_bugs kb;
	switch (k) {
	case SCENARIO: return scenario_load(path, &s, e);
	case SUITE: return suite_load(path, &su, e);
	default: return known_bugs_load(path, &kb, e);
	}
}

/* Every hostile file is refused, with the message naming where. */
static void hostile_files(void **state)
{
	static const struct {
		enum kind k;
		const char *file, *want;
	} cases[] = {
		/* 1: long lines are errors, not a line and a tail */
		{ SCENARIO, "long-comment-size.ini", "long-comment-size.ini:5: line longer than 198 characters" },
		{ SCENARIO, "long-comment-step.ini", "long-comment-step.ini:8: line longer than 198 characters" },
		{ SCENARIO, "long-cmdline.ini", "long-cmdline.ini:3: line longer than 198 characters" },
		{ SUITE, "long-line.suite", "long-line.suite:3: line longer than 198 characters" },
		{ BUGS, "long-line.bugs", "long-line.bugs:4: line longer than 198 characters" },
		/* 2: arithmetic: no wrap, bounded sizes, required keys */
		{ SCENARIO, "pop-sizes-wrap.ini", "pop-sizes-wrap.ini:5: [population a] size: \"8388608T\" is more than 1 TiB" },
		{ SCENARIO, "timeout-wrap.ini", "timeout-wrap.ini:8: [step all] timeout: \"307445734561825m\" is not a duration from 1 ms to 7 days" },
		{ SCENARIO, "boot-memory-huge.ini", "boot-memory-huge.ini:3: [vm] boot-memory: \"8796090925056M\" is more than 1 TiB" },
		{ SCENARIO, "region-huge.ini", "region-huge.ini:2: [vm] region-size: \"8T\" is more than 1 TiB" },
		{ SCENARIO, "block-huge.ini", "block-huge.ini: [vm] block-size: 2 GiB is not a power of two from 1 MiB to 1 GiB" },
		{ SCENARIO, "step-no-size.ini", "step-no-size.ini:6: [step all]: missing key \"requested-size\"" },
		/* 5: a timeout past INT_MAX ms, names, duplicates */
		{ SCENARIO, "timeout-25-days.ini", "timeout-25-days.ini:8: [step all] timeout: \"36000m\" is not a duration from 1 ms to 7 days" },
		{ SCENARIO, ".hidden.ini", ".hidden.ini: the file name gives no scenario name" },
		{ SUITE, "hidden.suite", "hidden.suite:2: scenarios: " SRCDIR "/tests/hostile/.hidden.ini: the file name gives no scenario name" },
		{ SUITE, "dup-key.suite", "dup-key.suite:3: [suite] name: given twice in this section" },
		{ SUITE, "dup-kernel-key.suite", "dup-kernel-key.suite:6: [kernel k] modules: given twice in this section" },
		{ BUGS, "dup-key.bugs", "dup-key.bugs:5: reason: given twice in [bug x]" },
		{ BUGS, "dup-section.bugs", "dup-section.bugs:10: title: [bug x] given twice (first at line 2)" },
		{ SCENARIO, "control-description.ini", "control-description.ini:2: [scenario] description: the value has a control character (byte 0x1b)" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct err e = { "" };
		char path[600];
		snprintf(path, sizeof(path), H "%s", cases[i].file);
		if (load(cases[i].k, path, &e) != -1)
			fail_msg("%s accepted", cases[i].file);
		if (!strstr(e.msg, cases[i].want))
			fail_msg("%s: error \"%s\" does not say \"%s\"", cases[i].file, e.msg, cases[i].want);
	}
}

/* The line reader: a line that fits is handed whole, one that does not is
 * refused with its number; never a tail as a line of its own. */
static void line_reader(void **state)
{
	char buf[8];
	const char *text = "abcdef\nabcdefg\nx";
	int line = 0;
	bool too_long;
	assert_string_equal(ini_next_line(&text, &line, buf, sizeof(buf), &too_long), "abcdef\n");
	assert_false(too_long);
	assert_null(ini_next_line(&text, &line, buf, sizeof(buf), &too_long));
	assert_true(too_long);
	assert_int_equal(line, 2);
	text = "abcdefg";  /* the last line, without newline: 7 bytes fit in 8 */
	line = 0;
	assert_string_equal(ini_next_line(&text, &line, buf, sizeof(buf), &too_long), "abcdefg");
	assert_null(ini_next_line(&text, &line, buf, sizeof(buf), &too_long));
	assert_false(too_long);
}

/* A line of exactly the limit is read whole and means what it says. */
static void longest_line_is_read(void **state)
{
	static struct scenario s;
	struct err e = { "" };
	char text[1000], desc[200];
	/* "description = " is 14 characters: 184 more make 198 */
	memset(desc, 'd', 184);
	desc[184] = 0;
	snprintf(text, sizeof(text), "[scenario]\ndescription = %s\n[vm]\nregion-size = 1G\n"
		 "[population a]\ntype = anon\nsize = 16M\n[step all]\nrequested-size = 0\n", desc);
	if (scenario_parse(text, "t.ini", &s, &e) < 0)
		fail_msg("%s", e.msg);
	assert_string_equal(s.description, desc);
	/* one more is refused */
	snprintf(text, sizeof(text), "[scenario]\ndescription = %sd\n[vm]\nregion-size = 1G\n"
		 "[population a]\ntype = anon\nsize = 16M\n[step all]\nrequested-size = 0\n", desc);
	assert_int_equal(scenario_parse(text, "t.ini", &s, &e), -1);
	assert_non_null(strstr(e.msg, "t.ini:2: line longer than 198 characters"));
}

static void durations_are_bounded(void **state)
{
	uint64_t ms;
	assert_int_equal(parse_duration_ms("7d", &ms), -1);
	assert_int_equal(parse_duration_ms("10080m", &ms), 0);  /* 7 days */
	assert_int_equal(ms, 7ull * 24 * 3600 * 1000);
	assert_int_equal(parse_duration_ms("10081m", &ms), -1);
	assert_int_equal(parse_duration_ms("307445734561825m", &ms), -1);
	assert_int_equal(parse_duration_ms("604800001ms", &ms), -1);
}

/* --check on a FIFO must not wait for a writer. */
static void fifo_is_refused(void **state)
{
	char dir[] = "/tmp/vms-hostile.XXXXXX", path[64];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/f.ini", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	alarm(10);  /* a hang fails the test instead of hanging it */
	static struct scenario s;
	struct err e = { "" };
	assert_int_equal(scenario_load(path, &s, &e), -1);
	alarm(0);
	assert_non_null(strstr(e.msg, "f.ini: not a regular file"));
	unlink(path);
	rmdir(dir);
}

/* Output files are never written through a symbolic link. */
static void outputs_do_not_follow_links(void **state)
{
	char dir[] = "/tmp/vms-hostile.XXXXXX", link[80], victim[80];
	assert_non_null(mkdtemp(dir));
	snprintf(victim, sizeof(victim), "%s/victim", dir);
	snprintf(link, sizeof(link), "%s/report.txt", dir);
	FILE *v = fopen(victim, "w");
	assert_non_null(v);
	fputs("keep\n", v);
	fclose(v);
	assert_int_equal(symlink(victim, link), 0);
	errno = 0;
	assert_null(fopen_output(link));
	assert_int_equal(errno, ELOOP);
	char buf[16] = "";
	v = fopen(victim, "r");
	assert_non_null(fgets(buf, sizeof(buf), v));
	fclose(v);
	assert_string_equal(buf, "keep\n");
	unlink(link);
	FILE *f = fopen_output(link);  /* a plain path works */
	assert_non_null(f);
	fclose(f);
	unlink(link);
	unlink(victim);
	rmdir(dir);
}

/* A directory path too long for its buffer is an error, not cut. */
static void long_paths_are_errors(void **state)
{
	char path[700];
	memset(path, 'a', sizeof(path) - 1);
	path[0] = '/';
	memcpy(path, "/tmp/vms-hostile-", 17);
	path[sizeof(path) - 1] = 0;
	struct err e = { "" };
	assert_int_equal(make_dirs(path, &e), -1);
	assert_non_null(strstr(e.msg, "the path is longer than 511 characters"));
}

/* What reaches guest.log and kernel.log: no byte a terminal obeys. */
static void text_for_terminals(void **state)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	const char in[] = "ok \x1b[2J\r\x07 caf\xc3\xa9 \xc2\x9b" "31m \xff\n";
	fput_text(f, in, sizeof(in) - 1, true);
	fput_text(f, "a\nb", 3, false);
	fclose(f);
	assert_string_equal(out, "ok \\x1b[2J\\x0d\\x07 caf\xc3\xa9 \\xc2\\x9b" "31m \\xff\na\\x0ab");
	free(out);
}

/* 4: what the guest claims is checked against what the host knows. */
static int hello(uint64_t mbs, struct err *e)
{
	char line[300];
	struct json_object *msg;
	const char *type;
	struct guest_hello h;
	snprintf(line, sizeof(line), "{\"type\":\"hello\",\"proto\":%d,\"program\":\"x\",\"kernel\":\"k\","
		 "\"memory_block_size\":%llu}", VMS_PROTO_VERSION, (unsigned long long)mbs);
	assert_int_equal(proto_parse_line(line, &msg, &type, e), 0);
	int r = proto_hello(msg, &h, e);
	json_object_put(msg);
	return r;
}

static void guest_block_sizes(void **state)
{
	struct err e = { "" };
	assert_int_equal(hello(128u << 20, &e), 0);
	assert_int_equal(hello(16u << 20, &e), 0);
	assert_int_equal(hello(1, &e), -1);
	assert_non_null(strstr(e.msg, "memory_block_size 1 is not a power of two of at least 16 MiB"));
	assert_int_equal(hello(8u << 20, &e), -1);
	assert_int_equal(hello((128u << 20) + 4096, &e), -1);
	assert_non_null(strstr(e.msg, "memory_block_size 134221824 is not a power of two"));
}

static const char *const names[] = { "a", "b" };
static const struct state_expect X = {
	.nblocks = 8, .first_mblock = 32, .last_mblock = 33, .npops = 2, .pop_names = names,
};
#define POPS "\"populations\":[" \
	"{\"name\":\"a\",\"type\":\"anon\",\"pages\":4,\"in_region\":4,\"absent\":0,\"moved\":0,\"verified\":4,\"corrupted\":0}," \
	"{\"name\":\"b\",\"type\":\"anon\",\"pages\":4,\"in_region\":4,\"absent\":0,\"moved\":0,\"verified\":4,\"corrupted\":0}]"
#define MB(a, b) "\"memory_blocks\":[{\"index\":" #a ",\"state\":\"online\",\"zone\":\"Movable\"}," \
	"{\"index\":" #b ",\"state\":\"online\",\"zone\":\"Movable\"}]"

static int state_line(const char *body, struct guest_state *gs, struct err *e)
{
	char line[2000];
	struct json_object *msg;
	const char *type;
	snprintf(line, sizeof(line), "{\"type\":\"state\",\"step\":\"s\",\"elapsed_ms\":1,\"map\":\"PPPPUUUU\",%s}", body);
	assert_int_equal(proto_parse_line(line, &msg, &type, e), 0);
	int r = proto_state(msg, &X, gs, e);
	json_object_put(msg);
	return r;
}

static void guest_lists_in_order(void **state)
{
	struct guest_state gs;
	struct err e = { "" };
	/* in order: accepted, and found by block */
	if (state_line(POPS "," MB(32, 33) ",\"held\":[{\"block\":1,\"pages\":{\"a\":3,\"b\":1}},"
			       "{\"block\":5,\"pages\":{\"b\":2}}]", &gs, &e) < 0)
		fail_msg("%s", e.msg);
	size_t n, first = held_find(&gs, 1, &n);
	assert_int_equal(n, 2);
	assert_int_equal(gs.held[first].block, 1);
	first = held_find(&gs, 5, &n);
	assert_int_equal(n, 1);
	assert_int_equal(gs.held[first].pages, 2);
	held_find(&gs, 3, &n);
	assert_int_equal(n, 0);
	assert_non_null(mblock_find(&gs, 33));
	assert_null(mblock_find(&gs, 34));
	guest_state_free(&gs);
	/* a block twice, or out of order: refused */
	assert_int_equal(state_line(POPS "," MB(32, 33) ",\"held\":[{\"block\":3,\"pages\":{\"a\":1}},"
				    "{\"block\":3,\"pages\":{\"b\":2}}]", &gs, &e), -1);
	assert_non_null(strstr(e.msg, "held[1]: block 3 does not follow block 3"));
	assert_int_equal(state_line(POPS "," MB(32, 33) ",\"held\":[{\"block\":4,\"pages\":{\"a\":1}},"
				    "{\"block\":2,\"pages\":{\"b\":2}}]", &gs, &e), -1);
	assert_non_null(strstr(e.msg, "held[1]: block 2 does not follow block 4"));
	assert_int_equal(state_line(POPS "," MB(33, 32) ",\"held\":[]", &gs, &e), -1);
	assert_non_null(strstr(e.msg, "memory_blocks[1]: memory block 32 does not follow 33"));
	assert_int_equal(state_line(POPS "," MB(32, 32) ",\"held\":[]", &gs, &e), -1);
	assert_non_null(strstr(e.msg, "memory_blocks[1]: memory block 32 does not follow 32"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hostile_files),
		cmocka_unit_test(line_reader),
		cmocka_unit_test(longest_line_is_read),
		cmocka_unit_test(durations_are_bounded),
		cmocka_unit_test(fifo_is_refused),
		cmocka_unit_test(outputs_do_not_follow_links),
		cmocka_unit_test(long_paths_are_errors),
		cmocka_unit_test(text_for_terminals),
		cmocka_unit_test(guest_block_sizes),
		cmocka_unit_test(guest_lists_in_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
