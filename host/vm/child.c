#define _GNU_SOURCE
#include "vm/child.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int child_spawn(struct child *c, char *const argv[], const char *log_path, struct err *e)
{
	memset(c, 0, sizeof(*c));
	int logfd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (logfd < 0)
		return err_sys(e, "open %s", log_path);
	/* exec failure is reported through a close-on-exec pipe */
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0) {
		close(logfd);
		return err_sys(e, "pipe");
	}
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		close(logfd);
		close(p[0]);
		close(p[1]);
		return err_sys(e, "fork");
	}
	if (pid == 0) {
		/* Own process group: the terminal's Ctrl-C reaches only us, and
		 * we stop the child in order. Die with us if we are killed. */
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		int null = open("/dev/null", O_RDONLY);
		if (null >= 0)
			dup2(null, 0);
		dup2(logfd, 1);
		dup2(logfd, 2);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		execvp(argv[0], argv);
		int err = errno;
		if (write(p[1], &err, sizeof(err)) < 0) {
		}
		_exit(127);
	}
	close(logfd);
	close(p[1]);
	int child_errno = 0;
	ssize_t n;
	while ((n = read(p[0], &child_errno, sizeof(child_errno))) < 0 && errno == EINTR)
		;
	close(p[0]);
	c->pid = pid;
	if (n == (ssize_t)sizeof(child_errno)) {
		waitpid(pid, NULL, 0);
		c->pid = 0;
		errno = child_errno;
		return err_sys(e, "cannot run %s", argv[0]);
	}
	return 0;
}

bool child_exited(struct child *c)
{
	if (!c->pid)
		return true;
	if (c->exited)
		return true;
	int st;
	pid_t r = waitpid(c->pid, &st, WNOHANG);
	if (r == c->pid || (r < 0 && errno == ECHILD)) {
		c->exited = true;
		c->status = r == c->pid ? st : 0;
	}
	return c->exited;
}

bool child_wait(struct child *c, uint64_t timeout_ms)
{
	uint64_t deadline = now_ms() + timeout_ms;
	while (!child_exited(c)) {
		if (now_ms() >= deadline)
			return false;
		struct timespec ts = { 0, 20 * 1000000 };
		nanosleep(&ts, NULL);
	}
	return true;
}

void child_stop(struct child *c, uint64_t grace_ms)
{
	if (!c->pid || child_exited(c))
		return;
	kill(c->pid, SIGTERM);
	if (child_wait(c, grace_ms))
		return;
	kill(c->pid, SIGKILL);
	int st;
	while (waitpid(c->pid, &st, 0) < 0 && errno == EINTR)
		;
	c->exited = true;
	c->status = st;
}

const char *child_describe(const struct child *c, char *buf, size_t len)
{
	if (!c->exited)
		snprintf(buf, len, "running");
	else if (WIFEXITED(c->status))
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(c->status));
	else if (WIFSIGNALED(c->status))
		snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(c->status), strsignal(WTERMSIG(c->status)));
	else
		snprintf(buf, len, "ended (status %#x)", c->status);
	return buf;
}
