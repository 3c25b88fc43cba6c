/* Sizes and durations as written in scenario files and on the command line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "util/units.h"

static void sizes(void **state)
{
	uint64_t v;
	assert_int_equal(parse_size("4096", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(parse_size("2M", &v), 0);
	assert_int_equal(v, 2u << 20);
	assert_int_equal(parse_size("2MiB", &v), 0);
	assert_int_equal(v, 2u << 20);
	assert_int_equal(parse_size("512 MiB", &v), 0);
	assert_int_equal(v, 512u << 20);
	assert_int_equal(parse_size("1g", &v), 0);
	assert_int_equal(v, 1ull << 30);
	assert_int_equal(parse_size("64K", &v), 0);
	assert_int_equal(v, 64u << 10);
	assert_int_equal(parse_size("0", &v), 0);
	assert_int_equal(v, 0);
}

static void bad_sizes(void **state)
{
	uint64_t v = 7;
	const char *bad[] = { "", "M", "-1", "1.5G", "12X", "1 G B", "0x10", "99999999999999999999",
			      "17179869184T", " 1G", NULL };
	for (int i = 0; bad[i]; i++) {
		if (parse_size(bad[i], &v) != -1)
			fail_msg("\"%s\" was accepted as %llu", bad[i], (unsigned long long)v);
	}
}

static void durations(void **state)
{
	uint64_t v;
	assert_int_equal(parse_duration_ms("90", &v), 0);
	assert_int_equal(v, 90000);
	assert_int_equal(parse_duration_ms("90s", &v), 0);
	assert_int_equal(v, 90000);
	assert_int_equal(parse_duration_ms("500ms", &v), 0);
	assert_int_equal(v, 500);
	assert_int_equal(parse_duration_ms("2m", &v), 0);
	assert_int_equal(v, 120000);
	assert_int_equal(parse_duration_ms("2h", &v), -1);
	assert_int_equal(parse_duration_ms("s", &v), -1);
	assert_int_equal(parse_duration_ms("-5s", &v), -1);
}

static void formatting(void **state)
{
	char b[32];
	assert_string_equal(format_size(0, b, sizeof(b)), "0 B");
	assert_string_equal(format_size(4096, b, sizeof(b)), "4 KiB");
	assert_string_equal(format_size(1ull << 30, b, sizeof(b)), "1 GiB");
	assert_string_equal(format_size(3ull << 19, b, sizeof(b)), "1.5 MiB");
	assert_string_equal(format_size(34ull << 20, b, sizeof(b)), "34 MiB");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sizes),
		cmocka_unit_test(bad_sizes),
		cmocka_unit_test(durations),
		cmocka_unit_test(formatting),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
