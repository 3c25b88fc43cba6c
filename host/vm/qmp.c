#define _GNU_SOURCE
#include "vm/qmp.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define QMP_MAX_LINE (1u << 20)

char *qmp_format_command(const char *command, struct json_object *args, int64_t id)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "execute", json_object_new_string(command));
	if (args)
		json_object_object_add(o, "arguments", json_object_get(args));
	json_object_object_add(o, "id", json_object_new_int64(id));
	char *s = xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return s;
}

void qmp_msg_free(struct qmp_msg *m)
{
	json_object_put(m->root);
	memset(m, 0, sizeof(*m));
}

int qmp_parse_line(const char *line, struct qmp_msg *m, struct err *e)
{
	memset(m, 0, sizeof(*m));
	m->kind = QMP_INVALID;
	m->id = -1;
	struct json_tokener *tok = json_tokener_new();
	m->root = json_tokener_parse_ex(tok, line, (int)strlen(line));
	enum json_tokener_error je = json_tokener_get_error(tok);
	json_tokener_free(tok);
	if (!m->root || je != json_tokener_success || !json_object_is_type(m->root, json_type_object)) {
		qmp_msg_free(m);
		m->kind = QMP_INVALID;
		return err_set(e, "QMP sent something that is not a JSON object: %.120s", line);
	}
	struct json_object *v;
	if (json_object_object_get_ex(m->root, "id", &v) && json_object_is_type(v, json_type_int))
		m->id = json_object_get_int64(v);
	if (json_object_object_get_ex(m->root, "QMP", &v)) {
		m->kind = QMP_GREETING;
	} else if (json_object_object_get_ex(m->root, "return", &m->ret)) {
		m->kind = QMP_RETURN;
	} else if (json_object_object_get_ex(m->root, "error", &v) && json_object_is_type(v, json_type_object)) {
		struct json_object *c, *d;
		m->kind = QMP_ERROR;
		m->error_class = json_object_object_get_ex(v, "class", &c) ? json_object_get_string(c) : "?";
		m->error_desc = json_object_object_get_ex(v, "desc", &d) ? json_object_get_string(d) : "?";
	} else if (json_object_object_get_ex(m->root, "event", &v) && json_object_is_type(v, json_type_string)) {
		m->kind = QMP_EVENT;
		m->event = json_object_get_string(v);
		if (!json_object_object_get_ex(m->root, "data", &m->data))
			m->data = NULL;
	} else {
		qmp_msg_free(m);
		m->kind = QMP_INVALID;
		return err_set(e, "QMP sent an object that is no greeting, return, error or event: %.120s", line);
	}
	return 0;
}

static void record_event(struct qmp *q, const struct qmp_msg *m)
{
	struct json_object *v;
	if (strcmp(m->event, "MEMORY_DEVICE_SIZE_CHANGE") == 0) {
		q->size_events++;
		if (m->data && json_object_object_get_ex(m->data, "size", &v))
			q->last_event_size = json_object_get_int64(v);
	} else if (strcmp(m->event, "SHUTDOWN") == 0) {
		q->shutdown = true;
		if (m->data && json_object_object_get_ex(m->data, "reason", &v))
			snprintf(q->shutdown_reason, sizeof(q->shutdown_reason), "%s", json_object_get_string(v));
	}
}

static void log_line(struct qmp *q, const char *dir, const char *line)
{
	if (q->log) {
		fprintf(q->log, "%llu %s %s\n", (unsigned long long)now_ms(), dir, line);
		fflush(q->log);
	}
}

/* Next message; events are recorded and returned too. */
static int next_msg(struct qmp *q, struct qmp_msg *m, uint64_t deadline, struct err *e)
{
	char *line;
	int r = linebuf_read(&q->lb, q->fd, &line, deadline, e);
	if (r < 0)
		return err_wrap(e, "QMP");
	if (r == 0)
		return 0;
	log_line(q, "<", line);
	if (qmp_parse_line(line, m, e) < 0)
		return -1;
	if (m->kind == QMP_EVENT)
		record_event(q, m);
	return 1;
}

static int send_line(struct qmp *q, const char *s, struct err *e)
{
	log_line(q, ">", s);
	size_t len = strlen(s);
	char *buf = xcalloc(len + 2, 1);
	memcpy(buf, s, len);
	buf[len] = '\n';
	size_t off = 0;
	int r = 0;
	while (off < len + 1) {
		ssize_t n = send(q->fd, buf + off, len + 1 - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = err_sys(e, "QMP: send");
			break;
		}
		off += (size_t)n;
	}
	free(buf);
	return r;
}

int qmp_execute(struct qmp *q, const char *command, struct json_object *args, struct json_object **ret,
		uint64_t timeout_ms, struct err *e)
{
	int64_t id = (int64_t)q->next_id++;
	char *s = qmp_format_command(command, args, id);
	json_object_put(args);
	int r = send_line(q, s, e);
	free(s);
	if (r < 0)
		return -1;
	uint64_t deadline = now_ms() + timeout_ms;
	for (;;) {
		struct qmp_msg m;
		r = next_msg(q, &m, deadline, e);
		if (r < 0)
			return -1;
		if (r == 0)
			return err_set(e, "QMP: no answer to %s within %llu ms%s", command,
				       (unsigned long long)timeout_ms, vms_interrupted ? " (interrupted)" : "");
		if ((m.kind == QMP_RETURN || m.kind == QMP_ERROR) && m.id == id) {
			if (m.kind == QMP_ERROR) {
				err_set(e, "QMP %s failed: %s (%s)", command, m.error_desc, m.error_class);
				qmp_msg_free(&m);
				return -1;
			}
			if (ret)
				*ret = json_object_get(m.ret);
			qmp_msg_free(&m);
			return 0;
		}
		qmp_msg_free(&m);  /* an event, or a stale reply */
	}
}

int qmp_pump(struct qmp *q, int timeout_ms, struct err *e)
{
	uint64_t deadline = now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
	int handled = 0;
	for (;;) {
		struct qmp_msg m;
		int r = next_msg(q, &m, deadline, e);
		if (r < 0)
			return -1;
		if (r == 0)
			return handled;
		handled++;
		qmp_msg_free(&m);
		deadline = now_ms();  /* after the first, only drain what is there */
	}
}

int qmp_open(struct qmp *q, const char *path, FILE *log, uint64_t deadline_ms, struct err *e)
{
	memset(q, 0, sizeof(*q));
	q->fd = -1;
	q->log = log;
	q->next_id = 1;
	linebuf_init(&q->lb, QMP_MAX_LINE);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path))
		return err_set(e, "QMP socket path too long: %s", path);
	strcpy(sa.sun_path, path);
	q->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (q->fd < 0)
		return err_sys(e, "socket");
	if (connect(q->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err_sys(e, "connect to QMP socket %s", path);
		close(q->fd);
		q->fd = -1;
		return -1;
	}
	struct qmp_msg m;
	int r = next_msg(q, &m, deadline_ms, e);
	if (r <= 0 || m.kind != QMP_GREETING) {
		if (r > 0)
			qmp_msg_free(&m);
		if (r >= 0)
			err_set(e, "QMP: no greeting from %s", path);
		qmp_close(q);
		return -1;
	}
	qmp_msg_free(&m);
	if (qmp_execute(q, "qmp_capabilities", NULL, NULL, deadline_ms > now_ms() ? deadline_ms - now_ms() : 1000, e) < 0) {
		qmp_close(q);
		return -1;
	}
	return 0;
}

void qmp_close(struct qmp *q)
{
	if (q->fd >= 0)
		close(q->fd);
	q->fd = -1;
	linebuf_free(&q->lb);
}
