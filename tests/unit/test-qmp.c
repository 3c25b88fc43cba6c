/* The QMP client: message formatting, classification of what QEMU sends,
 * and a command exchange over a socketpair with events interleaved. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vm/qmp.h"

static void formats_commands(void **state)
{
	struct json_object *args = json_object_new_object();
	json_object_object_add(args, "path", json_object_new_string("/machine/peripheral/vm0"));
	json_object_object_add(args, "property", json_object_new_string("requested-size"));
	json_object_object_add(args, "value", json_object_new_int64(1ll << 30));
	char *s = qmp_format_command("qom-set", args, 7);
	assert_string_equal(s, "{\"execute\":\"qom-set\",\"arguments\":{\"path\":\"/machine/peripheral/vm0\","
			       "\"property\":\"requested-size\",\"value\":1073741824},\"id\":7}");
	free(s);
	json_object_put(args);
	s = qmp_format_command("query-kvm", NULL, 1);
	assert_string_equal(s, "{\"execute\":\"query-kvm\",\"id\":1}");
	free(s);
}

static void classifies_lines(void **state)
{
	struct qmp_msg m;
	struct err e;
	assert_int_equal(qmp_parse_line("{\"QMP\": {\"version\": {}, \"capabilities\": []}}", &m, &e), 0);
	assert_int_equal(m.kind, QMP_GREETING);
	qmp_msg_free(&m);

	assert_int_equal(qmp_parse_line("{\"return\": 536870912, \"id\": 3}", &m, &e), 0);
	assert_int_equal(m.kind, QMP_RETURN);
	assert_int_equal(m.id, 3);
	assert_int_equal(json_object_get_int64(m.ret), 536870912);
	qmp_msg_free(&m);

	assert_int_equal(qmp_parse_line("{\"id\": 4, \"error\": {\"class\": \"GenericError\", \"desc\": \"Property 'virtio-mem-pci.requested-size' doesn't take value '3'\"}}", &m, &e), 0);
	assert_int_equal(m.kind, QMP_ERROR);
	assert_int_equal(m.id, 4);
	assert_string_equal(m.error_class, "GenericError");
	assert_non_null(strstr(m.error_desc, "requested-size"));
	qmp_msg_free(&m);

	assert_int_equal(qmp_parse_line("{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, \"event\": \"MEMORY_DEVICE_SIZE_CHANGE\", \"data\": {\"id\": \"vm0\", \"size\": 2097152, \"qom-path\": \"/machine/peripheral/vm0/virtio-backend\"}}", &m, &e), 0);
	assert_int_equal(m.kind, QMP_EVENT);
	assert_string_equal(m.event, "MEMORY_DEVICE_SIZE_CHANGE");
	assert_non_null(m.data);
	qmp_msg_free(&m);
}

static void rejects_garbage(void **state)
{
	struct qmp_msg m;
	struct err e;
	const char *bad[] = { "", "not json", "[1,2]", "42", "{\"neither\": 1}", "{\"event\": 5}", "{\"return\":", NULL };
	for (int i = 0; bad[i]; i++) {
		if (qmp_parse_line(bad[i], &m, &e) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_int_equal(m.kind, QMP_INVALID);
		assert_null(m.root);
	}
}

static void say(int fd, const char *s)
{
	assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
}

/* The peer's replies are queued before the call: ids are predictable. */
static void execute_skips_events_and_stale_replies(void **state)
{
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	struct qmp q;
	memset(&q, 0, sizeof(q));
	q.fd = sv[0];
	q.next_id = 5;
	linebuf_init(&q.lb, 1 << 20);
	say(sv[1], "{\"event\": \"MEMORY_DEVICE_SIZE_CHANGE\", \"data\": {\"id\": \"vm0\", \"size\": 1048576}}\r\n"
		   "{\"return\": 1, \"id\": 4}\r\n"
		   "{\"return\": 999, \"id\": 5}\r\n");
	struct json_object *ret = NULL;
	struct err e;
	int r = qmp_execute(&q, "qom-get", NULL, &ret, 2000, &e);
	assert_int_equal(r, 0);
	assert_int_equal(json_object_get_int64(ret), 999);
	assert_int_equal(q.size_events, 1);
	assert_int_equal(q.last_event_size, 1048576);
	json_object_put(ret);

	/* what went out is one command line with id 5 */
	char buf[256] = "";
	ssize_t n = read(sv[1], buf, sizeof(buf) - 1);
	assert_true(n > 0);
	assert_string_equal(buf, "{\"execute\":\"qom-get\",\"id\":5}\n");

	/* an error reply becomes an error naming the command */
	say(sv[1], "{\"id\": 6, \"error\": {\"class\": \"GenericError\", \"desc\": \"boom\"}}\n");
	r = qmp_execute(&q, "qom-set", NULL, NULL, 2000, &e);
	assert_int_equal(r, -1);
	assert_non_null(strstr(e.msg, "qom-set"));
	assert_non_null(strstr(e.msg, "boom"));

	/* SHUTDOWN is recorded with its reason */
	say(sv[1], "{\"event\": \"SHUTDOWN\", \"data\": {\"guest\": true, \"reason\": \"guest-reset\"}}\n");
	assert_int_equal(qmp_pump(&q, 500, &e), 1);
	assert_true(q.shutdown);
	assert_string_equal(q.shutdown_reason, "guest-reset");

	/* no answer: a bounded wait, then an error */
	r = qmp_execute(&q, "query-kvm", NULL, NULL, 200, &e);
	assert_int_equal(r, -1);
	assert_non_null(strstr(e.msg, "no answer to query-kvm"));

	/* QEMU gone: an error, not a hang */
	close(sv[1]);
	r = qmp_execute(&q, "query-kvm", NULL, NULL, 2000, &e);
	assert_int_equal(r, -1);
	qmp_close(&q);
}

static void refuses_overlong_lines(void **state)
{
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	struct qmp q;
	memset(&q, 0, sizeof(q));
	q.fd = sv[0];
	linebuf_init(&q.lb, 64);
	char big[200];
	memset(big, 'x', sizeof(big));
	assert_int_equal(write(sv[1], big, sizeof(big)), (ssize_t)sizeof(big));
	struct err e;
	assert_int_equal(qmp_pump(&q, 500, &e), -1);
	assert_non_null(strstr(e.msg, "longer than 64"));
	close(sv[1]);
	qmp_close(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(formats_commands),
		cmocka_unit_test(classifies_lines),
		cmocka_unit_test(rejects_garbage),
		cmocka_unit_test(execute_skips_events_and_stale_replies),
		cmocka_unit_test(refuses_overlong_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
