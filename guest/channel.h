/* The guest's end of the virtio-serial port the host talks to. */
#ifndef GUEST_CHANNEL_H
#define GUEST_CHANNEL_H

#include <json-c/json.h>
#include "util.h"

struct channel {
	int fd;
	char *buf;     /* bytes received, not yet a whole line */
	size_t len;
	size_t cap;
};

/* Find the port named `name` under /sys/class/virtio-ports, waiting up to
 * timeout_ms for the device to appear, and open it. */
int channel_open(struct channel *c, const char *name, unsigned timeout_ms, struct err *e);
/* Send one object as one line; waits up to timeout_ms for the host. */
int channel_send(struct channel *c, struct json_object *obj, unsigned timeout_ms, struct err *e);
/* Send raw bytes (test faults only); deadline in now_ms() time. */
int channel_write_raw(struct channel *c, const char *p, size_t len, uint64_t deadline, struct err *e);
/* Receive one line (without the newline) into *line, owned by the channel
 * until the next call. Returns 1 for a line, 0 on timeout, -1 on error. */
int channel_recv(struct channel *c, char **line, unsigned timeout_ms, struct err *e);

#endif
