/* Child processes (QEMU): started in their own process group, killed with
 * us if we die, always reaped. */
#ifndef HOST_CHILD_H
#define HOST_CHILD_H

#include <stdbool.h>
#include <sys/types.h>
#include "util/util.h"

struct child {
	pid_t pid;        /* 0 when not running */
	bool exited;
	int status;       /* wait status once exited */
};

/* Start argv with stdin from /dev/null and stdout+stderr appended to
 * log_path. Fails (with the reason) when the program cannot be executed. */
int child_spawn(struct child *c, char *const argv[], const char *log_path, struct err *e);
/* Has it exited? Reaps it if so. */
bool child_exited(struct child *c);
/* Wait up to timeout_ms for it to exit by itself. */
bool child_wait(struct child *c, uint64_t timeout_ms);
/* SIGTERM, wait up to grace_ms, then SIGKILL and reap. Always reaps. */
void child_stop(struct child *c, uint64_t grace_ms);
/* "exited with status 1", "killed by signal 9" */
const char *child_describe(const struct child *c, char *buf, size_t len);

#endif
