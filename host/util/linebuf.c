#define _GNU_SOURCE
#include "util/linebuf.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void linebuf_init(struct linebuf *lb, size_t max_line)
{
	memset(lb, 0, sizeof(*lb));
	lb->max_line = max_line;
}

void linebuf_free(struct linebuf *lb)
{
	free(lb->data);
	memset(lb, 0, sizeof(*lb));
}

int linebuf_take(struct linebuf *lb, char **line, struct err *e)
{
	if (lb->consumed) {
		memmove(lb->data, lb->data + lb->consumed, lb->len - lb->consumed);
		lb->len -= lb->consumed;
		lb->consumed = 0;
	}
	char *nl = lb->len ? memchr(lb->data, '\n', lb->len) : NULL;
	if (!nl) {
		if (lb->len > lb->max_line)
			return err_set(e, "line longer than %zu bytes", lb->max_line);
		return 0;
	}
	size_t n = (size_t)(nl - lb->data);
	if (n > lb->max_line)
		return err_set(e, "line longer than %zu bytes", lb->max_line);
	*nl = 0;
	if (n && lb->data[n - 1] == '\r')
		lb->data[n - 1] = 0;
	lb->consumed = n + 1;
	*line = lb->data;
	return 1;
}

int linebuf_fill(struct linebuf *lb, int fd, struct err *e)
{
	if (lb->cap - lb->len < 4096) {
		size_t ncap = lb->cap ? lb->cap * 2 : 16384;
		/* never grow far beyond one maximal line */
		if (ncap > lb->max_line + 65536)
			ncap = lb->max_line + 65536;
		if (ncap <= lb->len)
			return err_set(e, "line longer than %zu bytes", lb->max_line);
		char *p = realloc(lb->data, ncap);
		if (!p)
			return err_set(e, "out of memory");
		lb->data = p;
		lb->cap = ncap;
	}
	ssize_t n = read(fd, lb->data + lb->len, lb->cap - lb->len);
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return -2;
		return err_sys(e, "read");
	}
	if (n == 0)
		lb->eof = true;
	lb->len += (size_t)n;
	return (int)n;
}

int linebuf_read(struct linebuf *lb, int fd, char **line, uint64_t deadline_ms, struct err *e)
{
	for (;;) {
		int r = linebuf_take(lb, line, e);
		if (r != 0)
			return r;
		if (lb->eof)
			return err_set(e, "connection closed");
		if (vms_interrupted)
			return 0;
		/* past the deadline, still take what is already there */
		uint64_t now = now_ms();
		struct pollfd pfd = { fd, POLLIN, 0 };
		/* in slices of at most a second: a wait past INT_MAX ms (24.8 days)
		 * cast to int would be negative, which poll() takes as forever */
		uint64_t left = now >= deadline_ms ? 0 : deadline_ms - now;
		int pr = poll(&pfd, 1, left > 1000 ? 1000 : (int)left);
		if (pr < 0 && errno != EINTR)
			return err_sys(e, "poll");
		if (pr > 0) {
			if (linebuf_fill(lb, fd, e) == -1)
				return -1;
		} else if (now_ms() >= deadline_ms) {
			return 0;
		}
	}
}
