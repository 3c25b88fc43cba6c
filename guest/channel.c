#define _GNU_SOURCE
#include "channel.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/protocol.h"

static int find_port(const char *name, char *dev, size_t len)
{
	DIR *d = opendir("/sys/class/virtio-ports");
	if (!d)
		return -1;
	struct dirent *de;
	int found = -1;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char path[512], val[256];
		snprintf(path, sizeof(path), "/sys/class/virtio-ports/%s/name", de->d_name);
		if (read_small_file(path, val, sizeof(val)) >= 0 && strcmp(val, name) == 0) {
			snprintf(dev, len, "/dev/%s", de->d_name);
			found = 0;
			break;
		}
	}
	closedir(d);
	return found;
}

int channel_open(struct channel *c, const char *name, unsigned timeout_ms, struct err *e)
{
	char dev[300];
	uint64_t deadline = now_ms() + timeout_ms;
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	while (find_port(name, dev, sizeof(dev)) < 0) {
		if (now_ms() >= deadline)
			return err_set(e, "no virtio-serial port named %s after %u ms", name, timeout_ms);
		sleep_ms(50);
	}
	/* devtmpfs creates the node shortly after the sysfs entry. */
	while ((c->fd = open(dev, O_RDWR | O_NONBLOCK | O_CLOEXEC)) < 0) {
		if (now_ms() >= deadline)
			return err_sys(e, "open %s", dev);
		sleep_ms(20);
	}
	c->cap = 64 << 10;
	c->buf = malloc(c->cap);
	if (!c->buf)
		return err_set(e, "out of memory");
	return 0;
}

int channel_write_raw(struct channel *c, const char *p, size_t len, uint64_t deadline, struct err *e)
{
	while (len > 0) {
		ssize_t n = write(c->fd, p, len);
		if (n > 0) {
			p += n;
			len -= n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return err_sys(e, "write to host port");
		/* EAGAIN: the host is not connected or not reading yet. */
		uint64_t now = now_ms();
		if (now >= deadline)
			return err_set(e, "host did not read the port in time");
		struct pollfd pfd = { c->fd, POLLOUT, 0 };
		poll(&pfd, 1, (int)(deadline - now < 100 ? deadline - now : 100));
	}
	return 0;
}

int channel_send(struct channel *c, struct json_object *obj, unsigned timeout_ms, struct err *e)
{
	size_t len;
	const char *s = json_object_to_json_string_length(obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	uint64_t deadline = now_ms() + timeout_ms;
	if (len + 1 > VMS_MAX_GUEST_LINE)
		return err_set(e, "message of %zu bytes exceeds the protocol's %u", len, VMS_MAX_GUEST_LINE);
	if (channel_write_raw(c, s, len, deadline, e) < 0 || channel_write_raw(c, "\n", 1, deadline, e) < 0)
		return -1;
	return 0;
}

int channel_recv(struct channel *c, char **line, unsigned timeout_ms, struct err *e)
{
	uint64_t deadline = now_ms() + timeout_ms;
	for (;;) {
		char *nl = memchr(c->buf, '\n', c->len);
		if (nl) {
			/* Hand out the line; it is dropped from the buffer next call. */
			size_t linelen = nl - c->buf;
			static char *out;
			static size_t outcap;
			if (linelen + 1 > outcap) {
				free(out);
				outcap = linelen + 1;
				out = malloc(outcap);
				if (!out)
					return err_set(e, "out of memory");
			}
			memcpy(out, c->buf, linelen);
			out[linelen] = 0;
			memmove(c->buf, nl + 1, c->len - linelen - 1);
			c->len -= linelen + 1;
			*line = out;
			return 1;
		}
		if (c->len >= VMS_MAX_HOST_LINE)
			return err_set(e, "host sent a line longer than %u bytes", VMS_MAX_HOST_LINE);
		uint64_t now = now_ms();
		if (now >= deadline)
			return 0;
		ssize_t n = read(c->fd, c->buf + c->len, c->cap - c->len);
		if (n > 0) {
			c->len += n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return err_sys(e, "read from host port");
		/* n == 0: the host is not connected; EAGAIN: nothing yet. Either
		 * way wait a little; poll reports POLLHUP while disconnected. */
		struct pollfd pfd = { c->fd, POLLIN, 0 };
		int wait = (int)(deadline - now < 100 ? deadline - now : 100);
		if (poll(&pfd, 1, wait) > 0 && (pfd.revents & POLLHUP))
			sleep_ms(wait);
	}
}
