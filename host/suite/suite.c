#define _GNU_SOURCE
#include "suite/suite.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "run/report.h"
#include "scenario/scenario.h"
#include "suite/baseline.h"
#include "suite/suite-report.h"
#include "util/linebuf.h"
#include "vm/vm.h"
#include "util/units.h"

#define DEFAULT_RUN_TIMEOUT_MS (30 * 60 * 1000ull)
#define TERM_GRACE_MS 60000   /* a run stops its VM and writes its report in this time */
#define VM_OVERHEAD_MIB 256   /* QEMU itself, TCG's code cache, page tables */

#define PROBE_TIMEOUT_MS 20000  /* a host's daemon answers --probe-libvirt in this time */
#define UPLOAD_TIMEOUT_MS 300000  /* one file reaches a host's storage pool in this time */

enum job_state { JOB_WAITING, JOB_RUNNING, JOB_DONE };

/* Where runs go: this machine (uri empty: QEMU, or the one daemon the
 * command line names) or a libvirt host. */
struct host {
	char name[SUITE_MAX_NAME + 1];
	char uri[512];
	int cap, running, ran;
	uint64_t mem_budget_mib, mem_used_mib;
	bool down;
	uint64_t down_ms;         /* since the suite started */
	char error[600];          /* why it dropped out */
	int moved;                /* unfinished runs moved from it */
	/* each kernel's vmlinuz and initrd uploaded into its storage pool:
	 * their paths there ("" when the upload failed: the files' own paths) */
	char kvol[SUITE_MAX_KERNELS][600], ivol[SUITE_MAX_KERNELS][600];
	struct json_object *files;  /* what was uploaded, for suite.json */
};

/* A run's earlier attempt on a host that dropped out. */
struct move {
	char host[SUITE_MAX_NAME + 1];
	char error[400];
	char dir[1300];           /* its partial output, under OUT/lost/ */
};

struct job {
	int k, s;
	char id[2 * SUITE_MAX_NAME + VMS_MAX_NAME + 2];
	char dir[1200];
	char scenario_name[VMS_MAX_NAME + 1];
	uint64_t mem_mib;
	enum job_state state;
	pid_t pid;
	int errfd;                /* the run's stderr: its progress lines */
	struct linebuf lb;
	FILE *log;                /* DIR/run.log: those lines */
	uint64_t started, ended, term_sent;
	int wstatus;
	bool timed_out, not_run;
	char start_error[600];    /* why it could not start */
	char last[200];           /* its last progress line */
	int host;                 /* where it runs or ran */
	struct move moves[SUITE_MAX_HOSTS];
	int nmoves;
	struct json_object *entry;
};

struct suite_run {
	const struct suite_options *o;
	struct suite s;
	char outdir[600];
	struct job *jobs;
	int njobs, running, done, cap;
	struct host hosts[SUITE_MAX_HOSTS];
	int nhosts;
	bool remote;              /* the hosts are libvirt daemons of their own */
	uint64_t t0;
	bool tty;
	int drawn;                /* live lines on the terminal */
	uint64_t last_draw;
	char self[1024];
};

static uint64_t mem_available_mib(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[256];
	unsigned long long kb = 0;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb / 1024;
}

static const char *elapsed_words(uint64_t ms, char *buf, size_t len)
{
	if (ms < 60000)
		snprintf(buf, len, "%.1f s", (double)ms / 1000);
	else
		snprintf(buf, len, "%llum%02llus", (unsigned long long)(ms / 60000),
			 (unsigned long long)(ms / 1000 % 60));
	return buf;
}

/* ---- the terminal: a live line per running VM, or plain log lines ---- */

static void erase_live(struct suite_run *r)
{
	if (r->tty && r->drawn) {
		fprintf(stderr, "\033[%dF\033[J", r->drawn);
		r->drawn = 0;
	}
}

static void draw_live(struct suite_run *r, bool force)
{
	if (!r->tty || vms_verbosity < 1)
		return;
	uint64_t now = now_ms();
	if (!force && now - r->last_draw < 500)
		return;
	r->last_draw = now;
	struct winsize ws;
	int width = ioctl(2, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20 ? ws.ws_col : 100;
	erase_live(r);
	for (int i = 0; i < r->njobs; i++) {
		struct job *j = &r->jobs[i];
		if (j->state != JOB_RUNNING)
			continue;
		char line[512], t[32];
		snprintf(line, sizeof(line), "  %-36s %7s  %s", j->id, elapsed_words(now - j->started, t, sizeof(t)),
			 j->last);
		fprintf(stderr, "%.*s\033[K\n", width - 1, line);
		r->drawn++;
	}
	int waiting = r->njobs - r->done - r->running;
	fprintf(stderr, "  [%d/%d done, %d running, %d waiting]\033[K\n", r->done, r->njobs, r->running, waiting);
	r->drawn++;
	fflush(stderr);
}

__attribute__((format(printf, 2, 3))) static void say(struct suite_run *r, const char *fmt, ...)
{
	if (vms_verbosity < 1)
		return;
	erase_live(r);
	va_list ap;
	va_start(ap, fmt);
	char line[1200];
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	uint64_t t = now_ms() - r->t0;
	fprintf(stderr, "[%4llu.%llus] %s\n", (unsigned long long)(t / 1000), (unsigned long long)(t % 1000 / 100),
		line);
	draw_live(r, true);
}

/* ---- running one job ---- */

static int start_job(struct suite_run *r, struct job *j, struct err *e)
{
	const struct suite_ready_kernel *k = &r->o->kernels[j->k];
	if (make_dirs(j->dir, e) < 0)
		return -1;
	char logpath[1300], kernel[600], config[600];
	snprintf(logpath, sizeof(logpath), "%s/run.log", j->dir);
	if (!(j->log = fopen_output(logpath)))
		return err_sys(e, "cannot write %s", logpath);
	setvbuf(j->log, NULL, _IOLBF, 0);  /* tail -f run.log follows a run */
	snprintf(kernel, sizeof(kernel), "%s/vmlinuz", k->kdir);
	snprintf(config, sizeof(config), "%s/config", k->kdir);
	const char *argv[64];
	int n = 0;
	argv[n++] = r->self;
	argv[n++] = "--kernel";
	argv[n++] = kernel;
	argv[n++] = "--initrd";
	argv[n++] = k->initrd;
	if (access(config, R_OK) == 0) {
		argv[n++] = "--kernel-config";
		argv[n++] = config;
	}
	if (r->o->known_bugs) {
		argv[n++] = "--known-bugs";
		argv[n++] = r->o->known_bugs;
	}
	argv[n++] = "--outdir";
	argv[n++] = j->dir;
	for (int i = 0; i < r->o->nforward && n < 56; i++)
		argv[n++] = r->o->forward[i];
	struct host *h = &r->hosts[j->host];
	char connect[600], kvol[700], ivol[700];
	if (h->uri[0]) {
		snprintf(connect, sizeof(connect), "--connect=%s", h->uri);
		argv[n++] = "--backend=libvirt";
		argv[n++] = connect;
		if (h->kvol[j->k][0] && h->ivol[j->k][0]) {
			snprintf(kvol, sizeof(kvol), "--kernel-on-host=%s", h->kvol[j->k]);
			snprintf(ivol, sizeof(ivol), "--initrd-on-host=%s", h->ivol[j->k]);
			argv[n++] = kvol;
			argv[n++] = ivol;
		}
	}
	argv[n++] = r->s.scenarios[j->s];
	argv[n] = NULL;

	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0) {
		fclose(j->log);
		return err_sys(e, "pipe");
	}
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		fclose(j->log);
		return err_sys(e, "fork");
	}
	if (pid == 0) {
		/* Same process group: Ctrl-C reaches every run, which stops its
		 * VM and writes its report. If the suite dies, its runs stop. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(127);
		int null = open("/dev/null", O_RDWR);
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);  /* the text report is in DIR/report.txt */
		}
		dup2(p[1], 2);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execv(argv[0], (char *const *)argv);
		fprintf(stderr, "vmemstress: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(p[1]);
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	j->pid = pid;
	j->errfd = p[0];
	linebuf_init(&j->lb, 4096);
	j->state = JOB_RUNNING;
	j->started = now_ms();
	snprintf(j->last, sizeof(j->last), "starting");
	r->running++;
	h->running++;
	h->mem_used_mib += j->mem_mib;
	return 0;
}

/* Take the run's stderr lines into its run.log and its live line. */
static void drain(struct job *j)
{
	struct err e = { "" };
	for (;;) {
		char *line;
		int t;
		while ((t = linebuf_take(&j->lb, &line, &e)) == 1) {
			fprintf(j->log, "%s\n", line);
			/* drop the run's own "[  3.1s] " clock: the live line has one */
			const char *p = line;
			if (*p == '[' && strstr(p, "] "))
				p = strstr(p, "] ") + 2;
			snprintf(j->last, sizeof(j->last), "%s", p);
			for (char *c = j->last; *c; c++)
				if ((unsigned char)*c < 0x20)
					*c = ' ';
		}
		if (t < 0) {  /* an over-long line: keep what we can, go on */
			j->lb.len = 0;
			j->lb.consumed = 0;
		}
		if (j->lb.eof || j->errfd < 0)
			return;
		int n = linebuf_fill(&j->lb, j->errfd, &e);
		if (n == -2)
			return;
		if (n <= 0) {
			j->lb.eof = true;
			return;
		}
	}
}

static struct json_object *read_report(const char *dir, char *why, size_t len)
{
	char path[1300], *text;
	struct err e = { "" };
	snprintf(path, sizeof(path), "%s/report.json", dir);
	if (access(path, F_OK) != 0) {
		snprintf(why, len, "no report.json");
		return NULL;
	}
	if (read_text_file(path, 256u << 20, "report", &text, &e) < 0) {
		snprintf(why, len, "%s", e.msg);
		return NULL;
	}
	struct json_object *o = json_tokener_parse(text);
	free(text);
	if (!o || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		snprintf(why, len, "%s: not a JSON report", path);
		return NULL;
	}
	return o;
}

static const char *jstr(struct json_object *o, const char *key)
{
	struct json_object *v;
	if (o && json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return NULL;
}

static void read_line(const char *path, char *buf, size_t len)
{
	buf[0] = 0;
	FILE *f = fopen(path, "r");
	if (f) {
		if (fgets(buf, (int)len, f))
			buf[strcspn(buf, "\n")] = 0;
		fclose(f);
	}
}

/* A run's process is gone: its last lines read, its slot on its host
 * given back. */
static void job_ended(struct suite_run *r, struct job *j)
{
	if (j->state == JOB_RUNNING) {
		j->state = JOB_DONE;  /* for now: finish_job or a requeue decides */
		j->ended = now_ms();
		drain(j);
		close(j->errfd);
		j->errfd = -1;
		linebuf_free(&j->lb);
		r->running--;
		r->hosts[j->host].running--;
		r->hosts[j->host].mem_used_mib -= j->mem_mib;
		r->hosts[j->host].ran++;
	}
	if (j->log)
		fclose(j->log);
	j->log = NULL;
	if (!j->ended)
		j->ended = now_ms();
}

/* The run's entry in suite.json, from its report (or its absence). */
static void finish_job(struct suite_run *r, struct job *j)
{
	job_ended(r, j);
	j->state = JOB_DONE;
	r->done++;

	const struct suite_ready_kernel *k = &r->o->kernels[j->k];
	struct json_object *o = json_object_new_object(), *kj = json_object_new_object(),
			   *sj = json_object_new_object();
	char why[600] = "", rel[600], release[128];
	struct json_object *rep = j->not_run ? NULL : read_report(j->dir, why, sizeof(why));
	int exit_status = EXIT_INFRA;
	if (!j->not_run && WIFEXITED(j->wstatus))
		exit_status = WEXITSTATUS(j->wstatus);
	if (exit_status > EXIT_SKIP)
		exit_status = EXIT_INFRA;  /* 127: could not run at all */

	json_object_object_add(o, "id", json_object_new_string(j->id));
	snprintf(rel, sizeof(rel), "%s/release", k->kdir);
	read_line(rel, release, sizeof(release));
	struct json_object *vm = NULL;
	if (rep && json_object_object_get_ex(rep, "vm", &vm) && jstr(vm, "kernel_release") &&
	    *jstr(vm, "kernel_release"))
		snprintf(release, sizeof(release), "%s", jstr(vm, "kernel_release"));
	json_object_object_add(kj, "name", json_object_new_string(k->name));
	json_object_object_add(kj, "release", json_object_new_string(release));
	snprintf(rel, sizeof(rel), "%s/vmlinuz", k->kdir);
	json_object_object_add(kj, "image", json_object_new_string(rel));
	json_object_object_add(o, "kernel", kj);
	json_object_object_add(sj, "name", json_object_new_string(j->scenario_name));
	json_object_object_add(sj, "path", json_object_new_string(r->s.scenarios[j->s]));
	json_object_object_add(o, "scenario", sj);
	snprintf(rel, sizeof(rel), "runs/%s", j->id);
	json_object_object_add(o, "dir", json_object_new_string(rel));

	const char *verdict = rep ? jstr(rep, "verdict") : NULL;
	static const char *const verdicts[] = { "pass", "fail", "error", "skip" };
	bool known = false;
	for (size_t i = 0; verdict && i < ARRAY_SIZE(verdicts); i++)
		known |= strcmp(verdict, verdicts[i]) == 0;
	if (!known)
		verdict = "error";
	/* the report's verdict must agree with the run's exit status; a run
	 * that was killed or timed out is an error whatever it wrote */
	char error[1200] = "";
	if (j->not_run) {
		snprintf(error, sizeof(error), "not run: %s",
			 j->start_error[0] ? j->start_error : "the suite was interrupted");
	} else if (j->timed_out) {
		verdict = "error";
		exit_status = EXIT_INFRA;
		char t[32];
		snprintf(error, sizeof(error), "the run took longer than its limit (%s) and was stopped",
			 elapsed_words(r->o->run_timeout_ms ? r->o->run_timeout_ms
				       : r->s.run_timeout_ms ? r->s.run_timeout_ms : DEFAULT_RUN_TIMEOUT_MS, t, sizeof(t)));
	} else if (!WIFEXITED(j->wstatus)) {
		verdict = "error";
		snprintf(error, sizeof(error), "the run was killed by signal %d", WTERMSIG(j->wstatus));
	} else if (!rep) {
		verdict = "error";
		snprintf(error, sizeof(error), "the run exited with status %d and left %s: %s", exit_status, why,
			 j->last);
	} else if (strcmp(verdict, "error") == 0) {
		struct json_object *run;
		const char *msg = json_object_object_get_ex(rep, "run", &run) ? jstr(run, "error") : NULL;
		const char *phase = run ? jstr(run, "phase") : NULL;
		snprintf(error, sizeof(error), "%s%s%s", phase ? phase : "", phase ? ": " : "",
			 msg && *msg ? msg : j->last);
	}
	json_object_object_add(o, "verdict", json_object_new_string(verdict));
	json_object_object_add(o, "exit_status", json_object_new_int(exit_status));
	/* when it ran, relative to the suite's start: shows what ran at once */
	json_object_object_add(o, "started_ms", json_object_new_int64(j->not_run ? 0 : (int64_t)(j->started - r->t0)));
	json_object_object_add(o, "elapsed_ms", json_object_new_int64(j->not_run ? 0 : (int64_t)(j->ended - j->started)));
	json_object_object_add(o, "failures", failure_signatures(rep));
	json_object_object_add(o, "error", error[0] ? json_object_new_string(error) : NULL);
	json_object_object_add(o, "report", rep);
	if (r->remote && !j->not_run)
		json_object_object_add(o, "host", json_object_new_string(r->hosts[j->host].name));
	if (j->nmoves) {
		struct json_object *moved = json_object_new_array();
		for (int i = 0; i < j->nmoves; i++) {
			struct json_object *m = json_object_new_object();
			json_object_object_add(m, "host", json_object_new_string(j->moves[i].host));
			json_object_object_add(m, "error", json_object_new_string(j->moves[i].error));
			json_object_object_add(m, "dir", json_object_new_string(j->moves[i].dir));
			json_object_array_add(moved, m);
		}
		json_object_object_add(o, "moved_from", moved);
	}
	j->entry = o;

	if (!j->not_run) {
		char t[32];
		say(r, "%-5s %s (%s%s%s)%s%s", verdict, j->id, elapsed_words(j->ended - j->started, t, sizeof(t)),
		    r->remote ? " on " : "", r->remote ? r->hosts[j->host].name : "", error[0] ? ": " : "", error);
	}
}

/* ---- the scheduler ---- */

static bool fits(const struct host *h, const struct job *j)
{
	if (h->down || h->running >= h->cap)
		return false;
	/* a VM bigger than the whole budget still runs, alone */
	return h->running == 0 || h->mem_used_mib + j->mem_mib <= h->mem_budget_mib;
}

/* The host for j: of those that hold it, the one with the most free
 * slots (the first of equals); -1 when none holds it now. */
static int pick_host(const struct suite_run *r, const struct job *j)
{
	int best = -1;
	for (int h = 0; h < r->nhosts; h++)
		if (fits(&r->hosts[h], j) &&
		    (best < 0 || r->hosts[h].cap - r->hosts[h].running > r->hosts[best].cap - r->hosts[best].running))
			best = h;
	return best;
}

static int hosts_up(const struct suite_run *r)
{
	int n = 0;
	for (int h = 0; h < r->nhosts; h++)
		n += !r->hosts[h].down;
	return n;
}

/* Ask a host's daemon what it offers, in a child process bounded by
 * PROBE_TIMEOUT_MS (a remote connection can hang): its line, or the
 * error, in out. Returns 0 when it answered and is usable. */
static int probe_host(struct suite_run *r, const struct host *h, char *out, size_t len)
{
	int p[2];
	snprintf(out, len, "no answer");
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	char connect[600];
	snprintf(connect, sizeof(connect), "--connect=%s", h->uri);
	pid_t pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(p[1], 1);
		dup2(p[1], 2);
		execl(r->self, r->self, "--backend=libvirt", connect, "--probe-libvirt", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	char buf[1024];
	size_t n = 0;
	uint64_t until = now_ms() + PROBE_TIMEOUT_MS;
	int status = 0;
	bool reaped = false;
	while (!reaped) {
		struct pollfd pfd = { .fd = p[0], .events = POLLIN };
		uint64_t now = now_ms();
		if (now >= until) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			close(p[0]);
			snprintf(out, len, "its daemon did not answer within %d s", PROBE_TIMEOUT_MS / 1000);
			return -1;
		}
		poll(&pfd, 1, (int)(until - now < 250 ? until - now : 250));
		ssize_t got;
		while (n < sizeof(buf) - 1 && (got = read(p[0], buf + n, sizeof(buf) - 1 - n)) > 0)
			n += (size_t)got;
		reaped = waitpid(pid, &status, WNOHANG) == pid;
	}
	ssize_t got;
	while (n < sizeof(buf) - 1 && (got = read(p[0], buf + n, sizeof(buf) - 1 - n)) > 0)
		n += (size_t)got;
	close(p[0]);
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	const char *msg = strncmp(buf, "vmemstress: ", 12) == 0 ? buf + 12 : buf;
	snprintf(out, len, "%s", *msg ? msg : "no answer");
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* vm_libvirt_upload in a child process, bounded by UPLOAD_TIMEOUT_MS (a
 * remote daemon can hang mid-stream; this process runs no libvirt event
 * loop that would notice). */
static int bounded_upload(const char *uri, const char *path, const char *name, char *vol, size_t len, bool *sent,
			  struct err *e)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return err_sys(e, "pipe");
	pid_t pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return err_sys(e, "fork");
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		struct err ce = { "" };
		char cvol[600] = "", out[1400];
		bool csent = false;
		int rc = vm_libvirt_upload(uri, path, name, cvol, sizeof(cvol), &csent, &ce);
		int n = rc == 0 ? snprintf(out, sizeof(out), "ok %d %s", csent, cvol)
				: snprintf(out, sizeof(out), "error %s", ce.msg);
		ssize_t w = write(p[1], out, (size_t)(n < (int)sizeof(out) ? n : (int)sizeof(out) - 1));
		_exit(w > 0 && rc == 0 ? 0 : 1);
	}
	close(p[1]);
	char buf[1400];
	size_t n = 0;
	uint64_t until = now_ms() + UPLOAD_TIMEOUT_MS;
	for (;;) {
		uint64_t now = now_ms();
		if (now >= until) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			close(p[0]);
			return err_set(e, "libvirt %s: uploading %s did not finish within %d s", uri, path,
				       UPLOAD_TIMEOUT_MS / 1000);
		}
		struct pollfd pfd = { .fd = p[0], .events = POLLIN };
		poll(&pfd, 1, (int)(until - now < 1000 ? until - now : 1000));
		ssize_t got = read(p[0], buf + n, sizeof(buf) - 1 - n);
		if (got > 0)
			n += (size_t)got;
		else if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR))
			break;  /* the child is done (EOF) */
		if (n == sizeof(buf) - 1)
			break;
	}
	close(p[0]);
	waitpid(pid, NULL, 0);
	buf[n] = 0;
	int s = 0, off = 0;
	if (sscanf(buf, "ok %d %n", &s, &off) == 1 && off > 0) {
		*sent = s != 0;
		snprintf(vol, len, "%s", buf + off);
		return 0;
	}
	return err_set(e, "%s", strncmp(buf, "error ", 6) == 0 ? buf + 6 : "the upload ended without a word");
}

/* Each kernel's vmlinuz and initrd into the host's storage pool, named by
 * their cache keys (the kernel's directory, the initramfs file), so each
 * goes once per host. A host that cannot take them boots the files at
 * their paths here, as a single remote run does (README.md, "Remote
 * daemons"), and says so. */
static void upload_kernels(struct suite_run *r, struct host *h)
{
	const struct suite_options *o = r->o;
	h->files = json_object_new_array();
	for (int k = 0; k < o->nkernels; k++) {
		const struct suite_ready_kernel *sk = &o->kernels[k];
		char kpath[600], kname[300];
		const char *kbase = strrchr(sk->kdir, '/') ? strrchr(sk->kdir, '/') + 1 : sk->kdir;
		const char *ibase = strrchr(sk->initrd, '/') ? strrchr(sk->initrd, '/') + 1 : sk->initrd;
		snprintf(kpath, sizeof(kpath), "%s/vmlinuz", sk->kdir);
		snprintf(kname, sizeof(kname), "%s.vmlinuz", *kbase ? kbase : sk->name);
		const char *paths[2] = { kpath, sk->initrd }, *names[2] = { kname, ibase };
		char *vols[2] = { h->kvol[k], h->ivol[k] };
		for (int f = 0; f < 2; f++) {
			struct err e = { "" };
			bool sent = false;
			uint64_t t0 = now_ms();
			struct json_object *fj = json_object_new_object();
			json_object_object_add(fj, "kernel", json_object_new_string(sk->name));
			json_object_object_add(fj, "file", json_object_new_string(paths[f]));
			json_object_object_add(fj, "volume", json_object_new_string(names[f]));
			if (bounded_upload(h->uri, paths[f], names[f], vols[f], 600, &sent, &e) < 0) {
				h->kvol[k][0] = h->ivol[k][0] = 0;
				say(r, "host %s: %s; its runs of kernel %s boot the files at their paths here", h->name, e.msg,
				    sk->name);
				json_object_object_add(fj, "path", NULL);
				json_object_object_add(fj, "uploaded", json_object_new_boolean(false));
				json_object_object_add(fj, "error", json_object_new_string(e.msg));
				json_object_array_add(h->files, fj);
				break;
			}
			char t[32];
			say(r, "host %s: %s %s (%s)", h->name, names[f], sent ? "uploaded" : "already there",
			    elapsed_words(now_ms() - t0, t, sizeof(t)));
			json_object_object_add(fj, "path", json_object_new_string(vols[f]));
			json_object_object_add(fj, "uploaded", json_object_new_boolean(sent));
			json_object_object_add(fj, "error", NULL);
			json_object_array_add(h->files, fj);
		}
	}
}

/* j could not finish on a libvirt host: if the host's daemon no longer
 * answers (or it dropped out before), the host is out and j goes back in
 * the queue, its partial output moved under OUT/lost/HOST/. Returns true
 * when j was requeued. */
static bool requeue_if_host_lost(struct suite_run *r, struct job *j)
{
	struct host *h = &r->hosts[j->host];
	bool finished = !j->not_run && WIFEXITED(j->wstatus) && WEXITSTATUS(j->wstatus) != EXIT_INFRA;
	if (!r->remote || vms_interrupted || j->timed_out || finished || j->nmoves >= SUITE_MAX_HOSTS)
		return false;
	if (!h->down) {
		char why[600];
		if (probe_host(r, h, why, sizeof(why)) == 0)
			return false;  /* the daemon is fine: the run's own failure */
		h->down = true;
		h->down_ms = now_ms() - r->t0;
		snprintf(h->error, sizeof(h->error), "%s", why);
		say(r, "host %s dropped out: %s", h->name, why);
	}
	struct move *m = &j->moves[j->nmoves++];
	snprintf(m->host, sizeof(m->host), "%s", h->name);
	/* what the run said: its report's error, else its last line */
	char why[200];
	struct json_object *rep = read_report(j->dir, why, sizeof(why)), *run = NULL;
	const char *msg = rep && json_object_object_get_ex(rep, "run", &run) ? jstr(run, "error") : NULL;
	snprintf(m->error, sizeof(m->error), "%s", msg && *msg ? msg : j->last);
	json_object_put(rep);
	snprintf(m->dir, sizeof(m->dir), "lost/%s/%s", h->name, j->id);
	char lost[1400], parent[1400];
	struct err e = { "" };
	snprintf(lost, sizeof(lost), "%s/%s", r->outdir, m->dir);
	snprintf(parent, sizeof(parent), "%s", lost);
	*strrchr(parent, '/') = 0;
	if (make_dirs(parent, &e) < 0 || rename(j->dir, lost) < 0)
		snprintf(m->dir, sizeof(m->dir), "%s", "");  /* left where it was: the next attempt writes over it */
	h->moved++;
	say(r, "moved %s from %s: %s", j->id, h->name, hosts_up(r) ? "it runs again on another host" : "no host left");
	j->state = JOB_WAITING;
	j->pid = 0;
	j->wstatus = 0;
	j->started = j->ended = j->term_sent = 0;
	j->last[0] = 0;
	return true;
}

static void signal_running(struct suite_run *r, int sig)
{
	for (int i = 0; i < r->njobs; i++)
		if (r->jobs[i].state == JOB_RUNNING)
			kill(r->jobs[i].pid, sig);
}

static void run_jobs(struct suite_run *r)
{
	uint64_t limit = r->o->run_timeout_ms ? r->o->run_timeout_ms
			 : r->s.run_timeout_ms ? r->s.run_timeout_ms : DEFAULT_RUN_TIMEOUT_MS;
	uint64_t interrupted_at = 0;
	for (;;) {
		/* start what fits, in order: a big VM waits for room rather than
		 * being overtaken for ever; a run moved from a host that dropped
		 * out takes its place again */
		int next;
		while (!vms_interrupted) {
			for (next = 0; next < r->njobs && r->jobs[next].state != JOB_WAITING; next++)
				;
			int h = next < r->njobs ? pick_host(r, &r->jobs[next]) : -1;
			if (h < 0)
				break;
			struct job *j = &r->jobs[next];
			struct err e = { "" };
			j->host = h;
			if (start_job(r, j, &e) < 0) {
				snprintf(j->start_error, sizeof(j->start_error), "%s", e.msg);
				j->not_run = true;
				finish_job(r, j);
				say(r, "error %s: cannot start: %s", j->id, e.msg);
				continue;
			}
			if (r->remote)
				say(r, "start %s on %s (%d of %d)", j->id, r->hosts[h].name, next + 1, r->njobs);
			else
				say(r, "start %s (%d of %d)", j->id, next + 1, r->njobs);
		}
		for (next = 0; next < r->njobs && r->jobs[next].state != JOB_WAITING; next++)
			;
		if (r->running == 0 && (next == r->njobs || vms_interrupted || !hosts_up(r)))
			break;
		struct pollfd pfd[SUITE_MAX_KERNELS * SUITE_MAX_SCENARIOS];
		struct job *who[SUITE_MAX_KERNELS * SUITE_MAX_SCENARIOS];
		int n = 0;
		for (int i = 0; i < r->njobs; i++) {
			struct job *j = &r->jobs[i];
			if (j->state == JOB_RUNNING && j->errfd >= 0 && !j->lb.eof) {
				pfd[n] = (struct pollfd){ .fd = j->errfd, .events = POLLIN };
				who[n++] = j;
			}
		}
		poll(pfd, n, 250);  /* bounded: the loop below checks children and clocks */
		for (int i = 0; i < n; i++)
			if (pfd[i].revents)
				drain(who[i]);
		uint64_t now = now_ms();
		if (vms_interrupted && !interrupted_at) {
			interrupted_at = now;
			say(r, "interrupted: stopping %d run%s (each stops its VM and writes its report)", r->running,
			    r->running == 1 ? "" : "s");
			signal_running(r, SIGTERM);
		}
		if (interrupted_at && now - interrupted_at > TERM_GRACE_MS) {
			signal_running(r, SIGKILL);
			interrupted_at = now;
		}
		for (int i = 0; i < r->njobs; i++) {
			struct job *j = &r->jobs[i];
			if (j->state != JOB_RUNNING)
				continue;
			pid_t w = waitpid(j->pid, &j->wstatus, WNOHANG);
			if (w == j->pid || (w < 0 && errno == ECHILD)) {
				job_ended(r, j);
				if (!requeue_if_host_lost(r, j))
					finish_job(r, j);
				continue;
			}
			if (!j->term_sent && now - j->started > limit) {
				j->timed_out = true;
				j->term_sent = now;
				kill(j->pid, SIGTERM);
			} else if (j->term_sent && now - j->term_sent > TERM_GRACE_MS) {
				kill(j->pid, SIGKILL);
				j->term_sent = now;
			}
		}
		draw_live(r, false);
	}
	for (int i = 0; i < r->njobs; i++)
		if (r->jobs[i].state == JOB_WAITING) {
			struct job *j = &r->jobs[i];
			j->not_run = true;
			if (!vms_interrupted && !hosts_up(r))
				snprintf(j->start_error, sizeof(j->start_error), "every host dropped out");
			finish_job(r, j);
		}
	erase_live(r);
}

/* ---- the result ---- */

/* path written whole or not at all: into path.tmp, renamed */
static int write_path(const char *path, struct json_object *suite,
		      int (*writer)(struct json_object *, FILE *, struct err *), struct err *e)
{
	char tmp[4200];
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return err_set(e, "%.100s...: path too long", path);
	FILE *f = fopen_output(tmp);
	if (!f)
		return err_sys(e, "cannot write %s", tmp);
	int rc = writer(suite, f, e);
	if (fclose(f) != 0 && rc == 0)
		rc = err_sys(e, "cannot write %s", tmp);
	if (rc == 0 && rename(tmp, path) < 0)
		rc = err_sys(e, "cannot rename %s", tmp);
	if (rc < 0)
		unlink(tmp);
	return rc;
}

static int write_file(const char *dir, const char *name, struct json_object *suite,
		      int (*writer)(struct json_object *, FILE *, struct err *), struct err *e)
{
	char path[800];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return write_path(path, suite, writer, e);
}

/* The suite's output directory as an absolute path, for the file:// URLs
 * of the KCIDB report (NULL when it cannot be resolved: no URLs). */
static const char *kcidb_dir;

static int write_kcidb(struct json_object *suite, FILE *f, struct err *e)
{
	return suite_write_kcidb(suite, kcidb_dir, f, e);
}

static int write_json(struct json_object *suite, FILE *f, struct err *e)
{
	fputs(json_object_to_json_string_ext(suite, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
							    JSON_C_TO_STRING_NOSLASHESCAPE), f);
	fputc('\n', f);
	return ferror(f) ? err_set(e, "write error") : 0;
}

static int write_text(struct json_object *suite, FILE *f, struct err *e)
{
	suite_write_text(suite, f);
	return ferror(f) ? err_set(e, "write error") : 0;
}

static void add_count(struct json_object *summary, const char *key, int64_t n)
{
	json_object_object_add(summary, key, json_object_new_int64(n));
}

static int decide(struct suite_run *r, struct json_object *suite, struct json_object *baseline)
{
	struct json_object *runs;
	json_object_object_get_ex(suite, "runs", &runs);
	int n = (int)json_object_array_length(runs);
	int count[4] = { 0 }, regressions = 0, config_errors = 0;
	int64_t newf = 0, fixed = 0, known = 0;
	for (int i = 0; i < n; i++) {
		struct json_object *run = json_object_array_get_idx(runs, i), *v;
		if (baseline_compare(run, baseline))
			regressions++;
		static const char *const names[4] = { "pass", "fail", "error", "skip" };
		const char *verdict = jstr(run, "verdict");
		for (int k = 0; k < 4; k++)
			if (verdict && strcmp(verdict, names[k]) == 0)
				count[k]++;
		if (json_object_object_get_ex(run, "exit_status", &v) && json_object_get_int(v) == EXIT_USAGE)
			config_errors++;
		if (json_object_object_get_ex(run, "new_failures", &v))
			newf += (int64_t)json_object_array_length(v);
		if (json_object_object_get_ex(run, "fixed_failures", &v))
			fixed += (int64_t)json_object_array_length(v);
		if (json_object_object_get_ex(run, "known_failures", &v))
			known += (int64_t)json_object_array_length(v);
	}
	struct json_object *summary = json_object_new_object();
	add_count(summary, "runs", n);
	add_count(summary, "pass", count[0]);
	add_count(summary, "fail", count[1]);
	add_count(summary, "error", count[2]);
	add_count(summary, "skip", count[3]);
	add_count(summary, "regressions", regressions);
	add_count(summary, "new_failures", newf);
	add_count(summary, "fixed", fixed);
	add_count(summary, "known_failures", known);
	json_object_object_add(suite, "summary", summary);
	/* README.md, "Exit status": a regression first, then what kept runs
	 * from finishing, then bad configuration, then all skipped */
	int status;
	const char *verdict;
	if (regressions) {
		status = EXIT_FAIL;
		verdict = "fail";
	} else if (count[2] - config_errors > 0 || vms_interrupted) {
		status = EXIT_INFRA;
		verdict = "error";
	} else if (config_errors) {
		status = EXIT_USAGE;
		verdict = "error";
	} else if (n && count[3] == n) {
		status = EXIT_SKIP;
		verdict = "skip";
	} else {
		status = EXIT_PASS;
		verdict = "pass";
	}
	json_object_object_add(suite, "verdict", json_object_new_string(verdict));
	json_object_object_add(suite, "exit_status", json_object_new_int(status));
	return status;
}

int suite_connect_option(struct suite_options *o, const char *arg)
{
	if (o->nhosts == SUITE_MAX_HOSTS) {
		fprintf(stderr, "vmemstress: --connect %s: at most %d hosts\n", arg, SUITE_MAX_HOSTS);
		return -1;
	}
	struct suite_host *h = &o->hosts[o->nhosts];
	memset(h, 0, sizeof(*h));
	size_t len = strlen(arg);
	const char *eq = strrchr(arg, '=');
	if (eq && eq[1] && strspn(eq + 1, "0123456789") == strlen(eq + 1)) {
		long j = strtol(eq + 1, NULL, 10);
		if (j < 1 || j > 64 || strlen(eq + 1) > 2) {
			fprintf(stderr, "vmemstress: --connect %s: JOBS is a number from 1 to 64\n", arg);
			return -1;
		}
		h->jobs = (int)j;
		len = (size_t)(eq - arg);
	}
	if (!len || len >= sizeof(h->connect)) {
		fprintf(stderr, "vmemstress: --connect %.60s: a libvirt URI of 1-%zu characters\n", arg,
			sizeof(h->connect) - 1);
		return -1;
	}
	snprintf(h->connect, sizeof(h->connect), "%.*s", (int)len, arg);
	/* the name: the URI's host part ("bench-3" of qemu+ssh://root@bench-3/system) */
	const char *a = strstr(h->connect, "://");
	a = a ? a + 3 : "";
	size_t alen = strcspn(a, "/?");
	const char *at = memchr(a, '@', alen);
	if (at) {
		alen -= (size_t)(at + 1 - a);
		a = at + 1;
	}
	char base[SUITE_MAX_NAME + 1];
	snprintf(base, sizeof(base), "%.*s", (int)(alen < SUITE_MAX_NAME - 3 ? alen : SUITE_MAX_NAME - 3), a);
	/* no host part (qemu+unix:///system?socket=/srv/lv1/libvirt-sock):
	 * the socket's directory names the daemon */
	const char *sock = strstr(h->connect, "socket=");
	if (!alen && sock) {
		sock += 7;
		size_t sl = strcspn(sock, "&");
		const char *end = sock + sl, *slash = end;
		while (slash > sock && slash[-1] != '/')
			slash--;
		const char *dend = slash > sock ? slash - 1 : sock, *dstart = dend;
		while (dstart > sock && dstart[-1] != '/')
			dstart--;
		size_t dl = (size_t)(dend - dstart);
		snprintf(base, sizeof(base), "%.*s", (int)(dl < SUITE_MAX_NAME - 3 ? dl : SUITE_MAX_NAME - 3), dstart);
	}
	for (char *c = base; *c; c++)
		if (!(*c >= 'a' && *c <= 'z') && !(*c >= 'A' && *c <= 'Z') && !(*c >= '0' && *c <= '9') && *c != '-' &&
		    *c != '_' && *c != '.')
			*c = '_';
	if (!base[0] || !suite_name_ok(base))
		snprintf(base, sizeof(base), "local");
	snprintf(h->name, sizeof(h->name), "%s", base);
	for (int n = 2, clash = 1; clash; n++) {
		clash = 0;
		for (int i = 0; i < o->nhosts; i++)
			if (strcmp(o->hosts[i].name, h->name) == 0)
				clash = 1;
		if (clash)
			snprintf(h->name, sizeof(h->name), "%s-%d", base, n);
	}
	for (int i = 0; i < o->nhosts; i++)
		if (strcmp(o->hosts[i].connect, h->connect) == 0) {
			fprintf(stderr, "vmemstress: --connect %s: given twice\n", h->connect);
			return -1;
		}
	o->nhosts++;
	return 0;
}

int suite_list_kernels(const char *path)
{
	static struct suite s;
	struct err e = { "" };
	if (suite_load(path, &s, &e) < 0) {
		fprintf(stderr, "vmemstress: %s\n", e.msg);
		return EXIT_USAGE;
	}
	for (int i = 0; i < s.nkernels; i++) {
		const struct suite_kernel *k = &s.kernels[i];
		printf("%s\t--%s\t%s", k->name, k->option, k->value);
		if (k->modules[0])
			printf("\t--modules\t%s", k->modules);
		if (k->patches[0])
			printf("\t--patches\t%s", k->patches);
		printf("\n");
	}
	return EXIT_PASS;
}

/* Check everything a run would reject before starting any VM. */
static int prepare(struct suite_run *r, struct err *e)
{
	const struct suite_options *o = r->o;
	if (suite_load(o->path, &r->s, e) < 0)
		return -1;
	/* once here, not once in every run */
	if (o->known_bugs) {
		static struct known_bugs kb;
		if (known_bugs_load(o->known_bugs, &kb, e) < 0)
			return -1;
	}
	if (!o->nkernels)
		return err_set(e, "suite %s: no kernel to run on (./run.sh --suite prepares the suite's kernels)",
			       o->path);
	for (int k = 0; k < o->nkernels; k++) {
		char p[600];
		snprintf(p, sizeof(p), "%s/vmlinuz", o->kernels[k].kdir);
		if (access(p, R_OK) != 0)
			return err_set(e, "kernel %s: %s cannot be read", o->kernels[k].name, p);
		if (access(o->kernels[k].initrd, R_OK) != 0)
			return err_set(e, "kernel %s: initrd %s cannot be read", o->kernels[k].name, o->kernels[k].initrd);
		for (int l = 0; l < k; l++)
			if (strcmp(o->kernels[k].name, o->kernels[l].name) == 0)
				return err_set(e, "kernel %s given twice", o->kernels[k].name);
	}
	struct scenario *scn = xcalloc(1, sizeof(*scn));
	r->jobs = xcalloc((size_t)o->nkernels * r->s.nscenarios, sizeof(*r->jobs));
	for (int si = 0; si < r->s.nscenarios; si++) {
		if (scenario_load(r->s.scenarios[si], scn, e) < 0) {
			free(scn);
			return -1;
		}
		for (int sj = 0; sj < si; sj++)
			if (strcmp(r->jobs[sj].scenario_name, scn->name) == 0) {
				err_set(e, "suite %s: two scenarios named %s (%s and %s): runs are named by scenario",
					o->path, scn->name, r->s.scenarios[sj], r->s.scenarios[si]);
				free(scn);
				return -1;
			}
		/* jobs are kernel-major; fill scenario facts in the first
		 * kernel's slots, copy below */
		struct job *j = &r->jobs[si];
		snprintf(j->scenario_name, sizeof(j->scenario_name), "%s", scn->name);
		j->mem_mib = (scn->boot_memory + scn->initial_size) / (1 << 20) + VM_OVERHEAD_MIB;
	}
	free(scn);
	struct job *first = xcalloc(r->s.nscenarios, sizeof(*first));
	memcpy(first, r->jobs, r->s.nscenarios * sizeof(*first));
	for (int k = 0; k < o->nkernels; k++)
		for (int si = 0; si < r->s.nscenarios; si++) {
			struct job *j = &r->jobs[r->njobs++];
			*j = first[si];
			j->k = k;
			j->s = si;
			j->errfd = -1;
			snprintf(j->id, sizeof(j->id), "%s/%s", o->kernels[k].name, j->scenario_name);
			snprintf(j->dir, sizeof(j->dir), "%s/runs/%s", r->outdir, j->id);
		}
	free(first);
	return 0;
}

static void iso_time(time_t t, char *buf, size_t len)
{
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
}

int suite_main(const struct suite_options *o)
{
	static struct suite_run r;
	struct err e = { "" };
	r.o = o;
	r.t0 = now_ms();
	time_t started = time(NULL);
	ssize_t sl = readlink("/proc/self/exe", r.self, sizeof(r.self) - 1);
	if (sl <= 0) {
		fprintf(stderr, "vmemstress: cannot find this program (/proc/self/exe)\n");
		return EXIT_INFRA;
	}
	r.self[sl] = 0;

	struct json_object *baseline = NULL;
	if (o->baseline && baseline_load(o->baseline, &baseline, &e) < 0) {
		fprintf(stderr, "vmemstress: %s\n", e.msg);
		return EXIT_USAGE;
	}
	/* the output directory first: the jobs' directories are under it */
	{
		static struct suite peek;
		if (suite_load(o->path, &peek, &e) < 0) {
			fprintf(stderr, "vmemstress: %s\n", e.msg);
			json_object_put(baseline);
			return EXIT_USAGE;
		}
		if (o->outdir) {
			snprintf(r.outdir, sizeof(r.outdir), "%s", o->outdir);
		} else {
			char stamp[32];
			strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", localtime(&started));
			snprintf(r.outdir, sizeof(r.outdir), "vmemstress-out/%s-%s", peek.name, stamp);
		}
	}
	if (prepare(&r, &e) < 0) {
		fprintf(stderr, "vmemstress: %s\n", e.msg);
		json_object_put(baseline);
		return EXIT_USAGE;
	}
	if (make_dirs(r.outdir, &e) < 0) {
		fprintf(stderr, "vmemstress: %s\n", e.msg);
		json_object_put(baseline);
		return EXIT_INFRA;
	}

	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int want = o->jobs ? o->jobs : r.s.jobs ? r.s.jobs : 1;
	r.tty = isatty(2);
	const struct suite_host *given = o->nhosts ? o->hosts : r.s.hosts;
	r.nhosts = o->nhosts ? o->nhosts : r.s.nhosts;
	r.remote = r.nhosts > 0;
	if (!r.remote) {
		/* this machine: QEMU, or the daemon of a single run's options */
		struct host *h = &r.hosts[0];
		r.nhosts = 1;
		snprintf(h->name, sizeof(h->name), "local");
		h->cap = want;
		if (cpus > 0 && h->cap > cpus)
			h->cap = (int)cpus;
		h->mem_budget_mib = mem_available_mib() * 9 / 10;
		r.cap = h->cap;
	}
	for (int i = 0; r.remote && i < r.nhosts; i++) {
		/* each daemon says how many CPUs and how much free memory its
		 * host has: the host's share is bounded by both */
		struct host *h = &r.hosts[i];
		char info[600];
		snprintf(h->name, sizeof(h->name), "%s", given[i].name);
		snprintf(h->uri, sizeof(h->uri), "%s", given[i].connect);
		h->cap = given[i].jobs ? given[i].jobs : want;
		if (probe_host(&r, h, info, sizeof(info)) < 0) {
			r.cap += h->cap;  /* what it was given: "jobs" is at least 1 */
			h->down = true;
			snprintf(h->error, sizeof(h->error), "%s", info);
			say(&r, "host %s (%s) is not usable: %s", h->name, h->uri, info);
			continue;
		}
		int hcpus = 0;
		unsigned long long free_mib = 0;
		const char *facts = strstr(info, "; host ");
		if (facts && sscanf(facts, "; host %d cpus, %llu MiB free", &hcpus, &free_mib) == 2) {
			if (hcpus > 0 && h->cap > hcpus)
				h->cap = hcpus;
			h->mem_budget_mib = free_mib * 9 / 10;
		} else {
			h->mem_budget_mib = UINT64_MAX / 2;  /* not said: jobs alone bound it */
		}
		r.cap += h->cap;
		say(&r, "host %s: %s, %d at a time, %llu MiB for VMs", h->name, h->uri, h->cap,
		    (unsigned long long)(h->mem_budget_mib < UINT64_MAX / 2 ? h->mem_budget_mib : 0));
		upload_kernels(&r, h);
	}
	say(&r, "suite %s: %d scenario%s x %d kernel%s = %d runs, %d at a time%s%s%s; output in %s", r.s.name,
	    r.s.nscenarios, r.s.nscenarios == 1 ? "" : "s", o->nkernels, o->nkernels == 1 ? "" : "s", r.njobs, r.cap,
	    !r.remote && r.cap < want ? " (as many as the host has cores)" : "",
	    r.remote ? " on " : "", r.remote ? (hosts_up(&r) == 1 ? "1 host" : "several hosts") : "", r.outdir);

	install_signal_handlers();
	run_jobs(&r);

	/* the result, also when interrupted: what is known is written */
	struct json_object *suite = json_object_new_object(), *info = json_object_new_object(),
			   *runs = json_object_new_array();
	char when[32], host[256] = "";
	iso_time(started, when, sizeof(when));
	gethostname(host, sizeof(host) - 1);
	json_object_object_add(suite, "schema", json_object_new_string("vmemstress-suite/1"));
	json_object_object_add(info, "name", json_object_new_string(r.s.name));
	json_object_object_add(info, "path", json_object_new_string(o->path));
	json_object_object_add(info, "started", json_object_new_string(when));
	json_object_object_add(info, "elapsed_ms", json_object_new_int64((int64_t)(now_ms() - r.t0)));
	json_object_object_add(info, "jobs", json_object_new_int(r.cap));
	json_object_object_add(info, "host", json_object_new_string(host));
	json_object_object_add(info, "interrupted", json_object_new_boolean(vms_interrupted != 0));
	if (r.remote) {
		struct json_object *hosts = json_object_new_array();
		for (int i = 0; i < r.nhosts; i++) {
			struct host *h = &r.hosts[i];
			struct json_object *hj = json_object_new_object();
			json_object_object_add(hj, "name", json_object_new_string(h->name));
			json_object_object_add(hj, "connect", json_object_new_string(h->uri));
			json_object_object_add(hj, "jobs", json_object_new_int(h->cap));
			json_object_object_add(hj, "runs", json_object_new_int(h->ran - h->moved));
			json_object_object_add(hj, "dropped_out", json_object_new_boolean(h->down));
			json_object_object_add(hj, "dropped_out_ms", h->down ? json_object_new_int64((int64_t)h->down_ms) : NULL);
			json_object_object_add(hj, "error", h->down ? json_object_new_string(h->error) : NULL);
			json_object_object_add(hj, "moved_runs", json_object_new_int(h->moved));
			json_object_object_add(hj, "files", h->files ? h->files : json_object_new_array());
			h->files = NULL;
			json_object_array_add(hosts, hj);
		}
		json_object_object_add(info, "hosts", hosts);
	}
	json_object_object_add(suite, "suite", info);
	if (baseline) {
		struct json_object *b = json_object_new_object(), *bs;
		json_object_object_add(b, "path", json_object_new_string(o->baseline));
		const char *bw = json_object_object_get_ex(baseline, "suite", &bs) ? jstr(bs, "started") : NULL;
		json_object_object_add(b, "started", bw ? json_object_new_string(bw) : NULL);
		json_object_object_add(suite, "baseline", b);
	} else {
		json_object_object_add(suite, "baseline", NULL);
	}
	for (int i = 0; i < r.njobs; i++)
		json_object_array_add(runs, r.jobs[i].entry);
	json_object_object_add(suite, "runs", runs);
	int status = decide(&r, suite, baseline);
	json_object_put(baseline);

	static const struct {
		const char *name;
		int (*writer)(struct json_object *, FILE *, struct err *);
	} outputs[] = {
		{ "suite.json", write_json },      { "report.txt", write_text },
		{ "junit.xml", suite_write_junit }, { "results.ktap", suite_write_ktap },
		{ "report.html", suite_write_html },
	};
	for (size_t i = 0; i < ARRAY_SIZE(outputs); i++)
		if (write_file(r.outdir, outputs[i].name, suite, outputs[i].writer, &e) < 0) {
			fprintf(stderr, "vmemstress: %s\n", e.msg);
			if (status == EXIT_PASS)
				status = EXIT_INFRA;
		}
	if (o->kcidb) {
		char *abs = realpath(r.outdir, NULL);
		kcidb_dir = abs;
		if (write_path(o->kcidb, suite, write_kcidb, &e) < 0) {
			fprintf(stderr, "vmemstress: --kcidb %s: %s\n", o->kcidb, e.msg);
			if (status == EXIT_PASS)
				status = EXIT_INFRA;
		}
		kcidb_dir = NULL;
		free(abs);
	}
	suite_write_text(suite, stdout);
	fflush(stdout);
	json_object_put(suite);
	free(r.jobs);
	return status;
}
