/* Errors travel as text in a caller's buffer, so the one line the user sees
 * names what failed, with which file, line or value. Shared by host and
 * guest. */
#ifndef VMEMSTRESS_ERR_H
#define VMEMSTRESS_ERR_H

struct err {
	char msg[1024];
};

/* All return -1, for `return err_set(e, ...)`. */
__attribute__((format(printf, 2, 3))) int err_set(struct err *e, const char *fmt, ...);
/* Like err_set, appending ": strerror(errno)"; errno is preserved. */
__attribute__((format(printf, 2, 3))) int err_sys(struct err *e, const char *fmt, ...);
/* Prefix the message already in e: "what: <old message>". */
__attribute__((format(printf, 2, 3))) int err_wrap(struct err *e, const char *fmt, ...);

#endif
