#define _GNU_SOURCE
#include "link/guest-link.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

#include "link/protocol.h"

void guest_link_init(struct guest_link *g, struct vm *vm, FILE *log)
{
	g->vm = vm;
	g->log = log;
	linebuf_init(&g->lb, VMS_MAX_GUEST_LINE);
}

void guest_link_free(struct guest_link *g)
{
	linebuf_free(&g->lb);
}

int guest_send(struct guest_link *g, struct json_object *cmd, struct err *e)
{
	size_t len;
	const char *s = json_object_to_json_string_length(cmd, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	if (g->log) {
		fprintf(g->log, "%llu > ", (unsigned long long)now_ms());
		fput_text(g->log, s, strlen(s), false);
		fputc('\n', g->log);
		fflush(g->log);
	}
	int r = 0;
	for (int part = 0; part < 2 && r == 0; part++) {
		const char *p = part ? "\n" : s;
		size_t n = part ? 1 : len;
		uint64_t deadline = now_ms() + 10000;
		while (n > 0) {
			ssize_t w = send(g->vm->guest_fd, p, n, MSG_NOSIGNAL);
			if (w > 0) {
				p += w;
				n -= (size_t)w;
				continue;
			}
			if (w < 0 && errno != EAGAIN && errno != EINTR) {
				r = err_sys(e, "send to guest");
				/* the channel closes as the VM ends: name the cause */
				char why[256];
				for (int i = 0; i < 40; i++) {
					if (!g->vm->ops->alive(g->vm, why, sizeof(why))) {
						err_set(e, "%s while sending to the guest", why);
						break;
					}
					poll(NULL, 0, 50);
				}
				break;
			}
			if (now_ms() >= deadline || vms_interrupted) {
				r = err_set(e, "guest did not take a command within 10 s");
				break;
			}
			struct pollfd pfd = { g->vm->guest_fd, POLLOUT, 0 };
			poll(&pfd, 1, 100);
		}
	}
	json_object_put(cmd);
	return r;
}

int guest_expect(struct guest_link *g, const char *want, uint64_t deadline_ms, struct json_object **msg,
		 struct err *e)
{
	for (;;) {
		char *line;
		/* Wake every 200 ms to notice a dead VM without waiting for the
		 * deadline. */
		uint64_t now = now_ms(), slice = now + 200 < deadline_ms ? now + 200 : deadline_ms;
		int r = linebuf_read(&g->lb, g->vm->guest_fd, &line, slice, e);
		if (r < 0) {
			/* The channel closes as QEMU exits: give it a moment so
			 * the error names the real cause (panic, crash). */
			char why[256];
			for (int i = 0; i < 40; i++) {
				if (!g->vm->ops->alive(g->vm, why, sizeof(why)))
					return err_set(e, "%s while waiting for the guest's %s", why, want);
				poll(NULL, 0, 50);
			}
			return err_wrap(e, "guest channel");
		}
		if (r == 0) {
			char why[256];
			if (vms_interrupted)
				return err_set(e, "interrupted while waiting for the guest's %s", want);
			if (!g->vm->ops->alive(g->vm, why, sizeof(why)))
				return err_set(e, "%s while waiting for the guest's %s", why, want);
			if (now_ms() >= deadline_ms)
				return err_set(e, "no %s message from the guest in time", want);
			continue;
		}
		if (g->log) {
			/* the guest's bytes as they came, but none a terminal obeys */
			fprintf(g->log, "%llu < ", (unsigned long long)now_ms());
			fput_text(g->log, line, strlen(line), false);
			fputc('\n', g->log);
			fflush(g->log);
		}
		const char *type;
		if (proto_parse_line(line, msg, &type, e) < 0)
			return -1;
		if (strcmp(type, want) == 0)
			return 0;
		if (strcmp(type, "error") == 0) {
			char text[600];
			proto_error_text(*msg, text, sizeof(text));
			json_object_put(*msg);
			return err_set(e, "%s", text);
		}
		char shown[40];
		sanitize(type, shown, sizeof(shown));
		json_object_put(*msg);
		return err_set(e, "guest sent a \"%s\" message where \"%s\" was expected", shown, want);
	}
}
