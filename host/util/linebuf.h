/* Reading newline-terminated lines from a socket with a hard limit on line
 * length: used for QMP and for the (untrusted) guest channel. */
#ifndef HOST_LINEBUF_H
#define HOST_LINEBUF_H

#include <stddef.h>
#include "util/util.h"

struct linebuf {
	char *data;
	size_t len, cap, max_line;
	size_t consumed;  /* bytes of the last returned line, dropped on next call */
	bool eof;
};

void linebuf_init(struct linebuf *lb, size_t max_line);
void linebuf_free(struct linebuf *lb);
/* Take a whole line out of what was read so far. Returns 1 with *line set
 * (NUL-terminated, without "\n" or "\r\n", valid until the next call), 0
 * when no whole line is buffered, -1 when a line is longer than max_line. */
int linebuf_take(struct linebuf *lb, char **line, struct err *e);
/* One read() into the buffer. Returns bytes read, 0 at EOF (lb->eof set),
 * -1 on error (EAGAIN/EINTR are not errors: returns -2). */
int linebuf_fill(struct linebuf *lb, int fd, struct err *e);
/* Wait up to timeout_ms for a whole line on fd. Returns 1 for a line, 0 on
 * timeout or interruption, -1 on error or EOF. */
int linebuf_read(struct linebuf *lb, int fd, char **line, uint64_t deadline_ms, struct err *e);

#endif
