/* The kernel's log (/dev/kmsg from its start) as one message for the host,
 * which keeps it as kernel.log beside the run's other artifacts: the serial
 * console is quiet because it is slow under TCG. */
#define _GNU_SOURCE
#include "kernel-log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KERNEL_LOG_MAX (1u << 20)  /* well under the protocol's line limit */

struct json_object *kernel_log_message(void)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "type", json_object_new_string("kernel-log"));
	char *text = malloc(KERNEL_LOG_MAX);
	size_t len = 0;
	bool truncated = false;
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	while (fd >= 0 && text) {
		char rec[8192];
		ssize_t n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;  /* overwritten while reading: go on with the next */
		if (n <= 0)
			break;     /* EAGAIN: all read */
		rec[n] = 0;
		/* "prio,seq,usec,flags;message\n key=value..." */
		unsigned long long usec = 0;
		char *msg = strchr(rec, ';');
		if (!msg || sscanf(rec, "%*u,%*u,%llu", &usec) != 1)
			continue;
		msg++;
		msg[strcspn(msg, "\n")] = 0;
		char line[8300];
		int l = snprintf(line, sizeof(line), "[%5llu.%06llu] %s\n", usec / 1000000, usec % 1000000, msg);
		if (l < 0)
			continue;
		if (len + (size_t)l >= KERNEL_LOG_MAX) {
			truncated = true;  /* keep the start: boot and the first failures */
			break;
		}
		memcpy(text + len, line, (size_t)l);
		len += (size_t)l;
	}
	if (fd >= 0)
		close(fd);
	json_object_object_add(o, "text", json_object_new_string_len(text ? text : "", (int)len));
	json_object_object_add(o, "truncated", json_object_new_boolean(truncated));
	free(text);
	return o;
}
