/* A small synchronous QMP client: one command at a time, events recorded
 * as they pass. Every call is bounded by a deadline. */
#ifndef HOST_QMP_H
#define HOST_QMP_H

#include <json-c/json.h>
#include <stdio.h>
#include "util/linebuf.h"
#include "util/util.h"

struct qmp {
	int fd;
	struct linebuf lb;
	FILE *log;                 /* every line in and out, or NULL */
	uint64_t next_id;
	/* events seen so far */
	unsigned size_events;      /* MEMORY_DEVICE_SIZE_CHANGE */
	int64_t last_event_size;
	bool shutdown;             /* SHUTDOWN */
	char shutdown_reason[64];  /* e.g. "guest-shutdown", "guest-reset" */
};

/* What a line from QEMU is. */
enum qmp_kind { QMP_GREETING, QMP_RETURN, QMP_ERROR, QMP_EVENT, QMP_INVALID };

struct qmp_msg {
	enum qmp_kind kind;
	int64_t id;                /* of a return or error; -1 if none */
	struct json_object *root;  /* owns everything below */
	struct json_object *ret;   /* "return" value */
	const char *error_class, *error_desc;
	const char *event;
	struct json_object *data;  /* event data */
};

/* Pure helpers (unit-tested). */
char *qmp_format_command(const char *command, struct json_object *args, int64_t id);
int qmp_parse_line(const char *line, struct qmp_msg *m, struct err *e);
void qmp_msg_free(struct qmp_msg *m);

/* Connect to QEMU's QMP unix socket, read the greeting and leave
 * capabilities negotiation mode. */
int qmp_open(struct qmp *q, const char *path, FILE *log, uint64_t deadline_ms, struct err *e);
void qmp_close(struct qmp *q);
/* Run one command; *ret (may be NULL) gets the "return" value, owned by the
 * caller. args is consumed. */
int qmp_execute(struct qmp *q, const char *command, struct json_object *args, struct json_object **ret,
		uint64_t timeout_ms, struct err *e);
/* Read and record whatever events arrive within timeout_ms. Returns the
 * number of lines handled, -1 on error (connection lost). */
int qmp_pump(struct qmp *q, int timeout_ms, struct err *e);

#endif
