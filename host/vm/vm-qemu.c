/* The direct QEMU backend: QEMU started as our child, driven over QMP. */
#define _GNU_SOURCE
#include "vm/vm.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/protocol.h"
#include "util/digest.h"
#include "vm/child.h"
#include "vm/qmp.h"

#define DEVICE_ID "vm0"
#define DEVICE_PATH "/machine/peripheral/" DEVICE_ID
#define QMP_TIMEOUT_MS 10000

struct qemu {
	struct child proc;
	struct qmp qmp;
	FILE *qmp_log;
	char qmp_path[200], guest_path[200], mem_path[200], log_path[600];
};

bool kvm_usable(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static int connect_unix(const char *path, struct err *e)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path))
		return err_set(e, "socket path too long: %s", path);
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_sys(e, "socket");
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err_sys(e, "connect %s", path);
		close(fd);
		return -1;
	}
	return fd;
}

struct argv {
	char *v[80];
	int n;
};

__attribute__((format(printf, 2, 3))) static void arg(struct argv *a, const char *fmt, ...)
{
	if (a->n + 1 >= (int)ARRAY_SIZE(a->v))
		abort();  /* a programming error: the list is fixed */
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&a->v[a->n], fmt, ap) < 0)
		abort();
	va_end(ap);
	a->v[++a->n] = NULL;
}

/* A value inside a QEMU option string ("file,id=x,path=VALUE"): QEMU ends
 * the value at a comma unless it is doubled, and reads the rest as more
 * options, so a path with ",logfile=" in it would set the log file.
 * Returns a malloc'd copy with every comma doubled. */
static char *qemu_opt_value(const char *v)
{
	size_t n = strlen(v), commas = 0;
	for (const char *p = v; *p; p++)
		commas += *p == ',';
	char *out = xcalloc(n + commas + 1, 1), *o = out;
	for (const char *p = v; *p; p++) {
		*o++ = *p;
		if (*p == ',')
			*o++ = ',';
	}
	return out;
}

static void build_argv(struct argv *a, const struct vm_config *c, const struct qemu *q, bool kvm)
{
	/* every path that goes inside an option string, commas doubled */
	char *guest_path = qemu_opt_value(q->guest_path), *qmp_path = qemu_opt_value(q->qmp_path);
	char *outdir = qemu_opt_value(c->outdir);
	uint64_t mib = 1ull << 20;
	arg(a, "%s", c->qemu);
	arg(a, "-nodefaults");
	arg(a, "-no-user-config");
	arg(a, "-display");
	arg(a, "none");
	arg(a, "-no-reboot");  /* a guest panic (panic=-1) ends QEMU */
	arg(a, "-machine");
	arg(a, "q35");
	/* With KVM usable, ask for it and let QEMU fall back to TCG if its KVM
	 * accelerator does not start; query-kvm then says which one ran. */
	if (kvm) {
		arg(a, "-accel");
		arg(a, "kvm");
	}
	if (c->accel != ACCEL_KVM) {
		arg(a, "-accel");
		arg(a, "tcg");
	}
	arg(a, "-cpu");
	arg(a, "max");
	arg(a, "-smp");
	arg(a, "%d", c->cpus);
	arg(a, "-m");
	arg(a, "%" PRIu64 "M,maxmem=%" PRIu64 "M", c->boot_memory / mib, (c->boot_memory + c->region_size) / mib);
	/* Boot memory on node 0; the virtio-mem device alone on node 1, so the
	 * guest can bind its populations to the region with mbind(). */
	arg(a, "-object");
	arg(a, "memory-backend-ram,id=mem0,size=%" PRIu64 "M", c->boot_memory / mib);
	arg(a, "-numa");
	arg(a, "node,nodeid=0,cpus=0-%d,memdev=mem0", c->cpus - 1);
	arg(a, "-numa");
	arg(a, "node,nodeid=1");
	arg(a, "-object");
	/* reserve=off: the region is sparse on the host (a 64 GiB region on a
	 * small machine), pages come as the guest plugs them */
	const char *backend = c->mem_backend && *c->mem_backend ? c->mem_backend : "ram";
	if (strcmp(backend, "file") == 0)  /* shared, in the private directory; unlinked once QEMU runs */
		arg(a, "memory-backend-file,id=vmem0,size=%" PRIu64 "M,reserve=off,share=on,mem-path=%s",
		    c->region_size / mib, q->mem_path);
	else
		arg(a, "memory-backend-%s,id=vmem0,size=%" PRIu64 "M,reserve=off", backend, c->region_size / mib);
	arg(a, "-device");
	arg(a, "virtio-mem-pci,id=%s,memdev=vmem0,node=1,requested-size=%" PRIu64 "M,block-size=%" PRIu64 "K%s%s%s",
	    DEVICE_ID, c->initial_size / mib, c->block_size / 1024,
	    c->prealloc < 0 ? "" : c->prealloc ? ",prealloc=on" : ",prealloc=off",
	    c->unplugged_inaccessible && *c->unplugged_inaccessible ? ",unplugged-inaccessible=" : "",
	    c->unplugged_inaccessible ? c->unplugged_inaccessible : "");
	arg(a, "-device");
	arg(a, "virtio-serial-pci");
	arg(a, "-chardev");
	arg(a, "socket,id=agent,path=%s,server=on,wait=off", guest_path);
	arg(a, "-device");
	arg(a, "virtserialport,chardev=agent,name=%s", VMS_PORT_NAME);
	arg(a, "-chardev");
	arg(a, "file,id=console,path=%s/console.log", outdir);
	arg(a, "-serial");
	arg(a, "chardev:console");
	arg(a, "-qmp");
	arg(a, "unix:%s,server=on,wait=off", qmp_path);
	arg(a, "-nic");
	arg(a, "none");
	arg(a, "-kernel");
	arg(a, "%s", c->kernel);
	arg(a, "-initrd");
	arg(a, "%s", c->initrd);
	arg(a, "-append");
	arg(a, "%s", c->cmdline);
	if (c->incoming) {
		arg(a, "-incoming");
		arg(a, "defer");
	}
	free(guest_path);
	free(qmp_path);
	free(outdir);
}

/* A path as one shell word, for QEMU's exec: migration URIs (run by
 * /bin/sh -c). malloc'd. */
static char *shell_quote(const char *v)
{
	size_t n = 2;
	for (const char *p = v; *p; p++)
		n += *p == '\'' ? 4 : 1;
	char *out = xcalloc(n + 1, 1), *o = out;
	*o++ = '\'';
	for (const char *p = v; *p; p++) {
		if (*p == '\'') {
			memcpy(o, "'\\''", 4);
			o += 4;
		} else {
			*o++ = *p;
		}
	}
	*o++ = '\'';
	return out;
}

/* The program's path as exec would find it (PATH searched when name has
 * no slash), or name itself when not found. */
static void resolve_program(const char *name, char *out, size_t len)
{
	snprintf(out, len, "%s", name);
	if (strchr(name, '/'))
		return;
	const char *path = getenv("PATH");
	char *copy = xstrdup(path ? path : "/usr/bin:/bin"), *save = NULL;
	for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		char cand[1024];
		snprintf(cand, sizeof(cand), "%s/%s", *dir ? dir : ".", name);
		if (access(cand, X_OK) == 0) {
			snprintf(out, len, "%s", cand);
			break;
		}
	}
	free(copy);
}

/* The first line of `qemu --version` (bounded: QEMU prints it at once). */
static int qemu_version_line(const char *qemu, char *out, size_t len, struct err *e)
{
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return err_sys(e, "pipe");
	pid_t pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return err_sys(e, "fork");
	}
	if (pid == 0) {
		dup2(pfd[1], 1);
		int nul = open("/dev/null", O_RDWR);
		if (nul >= 0) {
			dup2(nul, 0);
			dup2(nul, 2);
		}
		execlp(qemu, qemu, "--version", (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	size_t n = 0;
	uint64_t deadline = now_ms() + 10000;
	fcntl(pfd[0], F_SETFL, O_NONBLOCK);
	while (n + 1 < len && now_ms() < deadline) {
		ssize_t r = read(pfd[0], out + n, len - 1 - n);
		if (r > 0)
			n += (size_t)r;
		else if (r == 0)
			break;
		else if (errno == EAGAIN || errno == EINTR)
			usleep(5000);
		else
			break;
	}
	close(pfd[0]);
	out[n] = 0;
	int status = 0;
	bool done = false;
	while (!done && now_ms() < deadline + 1000) {
		pid_t w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			done = true;
		else
			usleep(5000);
	}
	if (!done) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		return err_set(e, "%s --version did not end", qemu);
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || n == 0)
		return err_set(e, "%s --version failed", qemu);
	out[strcspn(out, "\n")] = 0;
	return 0;
}

int vm_qemu_snapshot_material(const struct vm_config *c, char **out, struct err *e)
{
	char khash[SHA256_HEX_LEN], ihash[SHA256_HEX_LEN], kname[80], iname[80];
	if (sha256_file(c->kernel, khash, NULL, e) < 0 || sha256_file(c->initrd, ihash, NULL, e) < 0)
		return -1;
	snprintf(kname, sizeof(kname), "sha256:%s", khash);
	snprintf(iname, sizeof(iname), "sha256:%s", ihash);
	char version[256], binary[1024];
	if (qemu_version_line(c->qemu, version, sizeof(version), e) < 0)
		return -1;
	resolve_program(c->qemu, binary, sizeof(binary));
	struct stat st;
	if (stat(binary, &st) < 0)
		return err_sys(e, "stat %s", binary);
	/* the command line with per-run paths as placeholders */
	struct vm_config k = *c;
	k.kernel = kname;
	k.initrd = iname;
	k.outdir = "OUTDIR";
	k.sockdir = "SOCKDIR";
	k.qemu = "QEMU";
	k.incoming = NULL;
	struct qemu q = { .proc = { 0 } };
	snprintf(q.qmp_path, sizeof(q.qmp_path), "SOCKDIR/qmp.sock");
	snprintf(q.guest_path, sizeof(q.guest_path), "SOCKDIR/guest.sock");
	snprintf(q.mem_path, sizeof(q.mem_path), "SOCKDIR/region.mem");
	bool kvm = c->accel != ACCEL_TCG && kvm_usable();
	struct argv a = { .n = 0 };
	build_argv(&a, &k, &q, kvm);
	size_t cap = 8192, n = 0;
	char *text = xcalloc(cap, 1);
#define ADD(...)                                                                  \
	do {                                                                      \
		int w_ = snprintf(text + n, cap - n, __VA_ARGS__);                 \
		while (w_ >= 0 && (size_t)w_ >= cap - n) {                        \
			cap *= 2;                                                 \
			text = realloc(text, cap);                                \
			if (!text)                                                \
				abort();                                          \
			w_ = snprintf(text + n, cap - n, __VA_ARGS__);             \
		}                                                                 \
		n += (size_t)w_;                                                  \
	} while (0)
	/* 2: saved stopped (1, saved live, could restore into a panic) */
	ADD("vmemstress snapshot 2\n");
	ADD("qemu: %s\n", version);
	ADD("qemu-binary: %s %lld %lld\n", binary, (long long)st.st_size, (long long)st.st_mtime);
	for (int i = 0; i < a.n; i++) {
		ADD("arg: %s\n", a.v[i]);
		free(a.v[i]);
	}
	if (kvm) {
		/* with KVM, -cpu max is the host's CPU */
		char *cpuinfo = NULL;
		if (read_text_file("/proc/cpuinfo", 1 << 20, "cpuinfo", &cpuinfo, e) < 0) {
			free(text);
			return -1;
		}
		{
			const char *keys[] = { "model name", "flags", NULL };
			for (int i = 0; keys[i]; i++) {
				const char *l = strstr(cpuinfo, keys[i]);
				if (l)
					ADD("host-cpu: %.*s\n", (int)strcspn(l, "\n"), l);
			}
			free(cpuinfo);
		}
	}
#undef ADD
	*out = text;
	return 0;
}

static bool qemu_alive(struct vm *vm, char *why, size_t len)
{
	struct qemu *q = vm->priv;
	if (!q)
		return false;
	if (!child_exited(&q->proc))
		return true;
	/* QEMU said why it stopped (SHUTDOWN event) just before exiting. */
	if (q->qmp.fd >= 0 && !q->qmp.shutdown) {
		struct err ignored;
		qmp_pump(&q->qmp, 0, &ignored);
	}
	char how[96];
	child_describe(&q->proc, how, sizeof(how));
	if (q->qmp.shutdown && strcmp(q->qmp.shutdown_reason, "guest-reset") == 0)
		snprintf(why, len, "the guest rebooted (kernel panic?), QEMU %s", how);
	else if (q->qmp.shutdown)
		snprintf(why, len, "the guest shut down (%s), QEMU %s", q->qmp.shutdown_reason, how);
	else
		snprintf(why, len, "QEMU %s", how);
	return false;
}

/* A QMP command failed: when QEMU is gone, say why (killed, panic...)
 * rather than "connection closed". */
static int qmp_failed(struct vm *vm, struct err *e)
{
	char why[200];
	struct qemu *q = vm->priv;
	child_wait(&q->proc, 1000);  /* the socket closes as QEMU exits */
	if (!qemu_alive(vm, why, sizeof(why)))
		return err_wrap(e, "%s", why);
	return -1;
}

/* query-migrate's status ("completed", "failed", "active"...), or -1 when
 * QMP failed. */
static int migrate_status(struct vm *vm, char *status, size_t len, char *why, size_t whylen, struct err *e)
{
	struct qemu *q = vm->priv;
	struct json_object *ret = NULL, *v;
	if (qmp_execute(&q->qmp, "query-migrate", NULL, &ret, QMP_TIMEOUT_MS, e) < 0)
		return qmp_failed(vm, e);
	snprintf(status, len, "%s", json_object_object_get_ex(ret, "status", &v) ? json_object_get_string(v) : "none");
	snprintf(why, whylen, "%s",
		 json_object_object_get_ex(ret, "error-desc", &v) ? json_object_get_string(v) : "no reason given");
	json_object_put(ret);
	return 0;
}

/* Run the guest when migration left it stopped. */
static int ensure_running(struct vm *vm, struct err *e)
{
	struct qemu *q = vm->priv;
	struct json_object *ret = NULL, *v;
	if (qmp_execute(&q->qmp, "query-status", NULL, &ret, QMP_TIMEOUT_MS, e) < 0)
		return qmp_failed(vm, e);
	bool running = json_object_object_get_ex(ret, "running", &v) && json_object_get_boolean(v);
	json_object_put(ret);
	if (!running && qmp_execute(&q->qmp, "cont", NULL, NULL, QMP_TIMEOUT_MS, e) < 0)
		return qmp_failed(vm, e);
	return 0;
}

/* Wait, bounded, for the migration to end; 0 when it completed. */
static int wait_migration(struct vm *vm, const char *what, uint64_t deadline, struct err *e)
{
	char status[32], why[300];
	for (;;) {
		if (migrate_status(vm, status, sizeof(status), why, sizeof(why), e) < 0)
			return -1;
		if (strcmp(status, "completed") == 0)
			return 0;
		if (strcmp(status, "failed") == 0 || strcmp(status, "cancelled") == 0)
			return err_set(e, "%s %s: %s", what, status, why);
		if (now_ms() >= deadline || vms_interrupted)
			return err_set(e, "%s did not complete %s (status %s)", what,
				       vms_interrupted ? "(interrupted)" : "in time", status);
		struct err ignored;
		qmp_pump(&((struct qemu *)vm->priv)->qmp, 50, &ignored);
	}
}

/* QEMU started with -incoming defer: load the VM from the file. QEMU
 * exits when the stream does not load (a corrupt or foreign file). */
static int qemu_restore(struct vm *vm, const char *file, uint64_t deadline, struct err *e)
{
	struct qemu *q = vm->priv;
	char *quoted = shell_quote(file);
	size_t len = strlen(quoted) + 16;
	char *uri = xcalloc(len, 1);
	snprintf(uri, len, "exec:cat %s", quoted);
	free(quoted);
	struct json_object *args = json_object_new_object();
	json_object_object_add(args, "uri", json_object_new_string(uri));
	free(uri);
	if (qmp_execute(&q->qmp, "migrate-incoming", args, NULL, QMP_TIMEOUT_MS, e) < 0)
		return qmp_failed(vm, e);
	if (wait_migration(vm, "restoring the VM", deadline, e) < 0)
		return -1;
	return ensure_running(vm, e);
}

static int qemu_save(struct vm *vm, const char *path, uint64_t deadline, struct err *e)
{
	struct qemu *q = vm->priv;
	/* QEMU's default limit, 32 MiB/s, would make a 100 MB file take 3 s */
	struct json_object *args = json_object_new_object();
	json_object_object_add(args, "max-bandwidth", json_object_new_int64(64ll << 30));
	if (qmp_execute(&q->qmp, "migrate-set-parameters", args, NULL, QMP_TIMEOUT_MS, e) < 0)
		return qmp_failed(vm, e);
	/* Stopped first: a live migration of the running guest under TCG gave
	 * a snapshot whose restored guest panicked at once, every time (a
	 * NULL hrtimer callback: memory written during the migration and not
	 * sent again). A stopped guest is one consistent pass; it is idle at
	 * its hello anyway, and goes on after the save. */
	if (qmp_execute(&q->qmp, "stop", NULL, NULL, QMP_TIMEOUT_MS, e) < 0)
		return qmp_failed(vm, e);
	/* written as PATH.part and renamed once cat has written it all: QEMU
	 * says "completed" when it closed the pipe, maybe before cat is done */
	size_t plen = strlen(path) + 8;
	char *part = xcalloc(plen, 1);
	snprintf(part, plen, "%s.part", path);
	char *qpart = shell_quote(part), *qpath = shell_quote(path);
	size_t len = strlen(qpart) * 2 + strlen(qpath) + 64;
	char *uri = xcalloc(len, 1);
	snprintf(uri, len, "exec:cat > %s && mv -f %s %s", qpart, qpart, qpath);
	free(qpart);
	free(qpath);
	args = json_object_new_object();
	json_object_object_add(args, "uri", json_object_new_string(uri));
	free(uri);
	int r = qmp_execute(&q->qmp, "migrate", args, NULL, QMP_TIMEOUT_MS, e);
	if (r < 0 && (qmp_failed(vm, e), child_exited(&q->proc))) {
		free(part);
		return -1;
	}
	if (r == 0)
		r = wait_migration(vm, "saving the VM", deadline, e);
	if (r < 0 && q->qmp.fd >= 0 && !child_exited(&q->proc)) {
		struct err ignored;
		qmp_execute(&q->qmp, "migrate_cancel", NULL, NULL, QMP_TIMEOUT_MS, &ignored);
	}
	while (r == 0 && access(path, F_OK) != 0) {
		if (now_ms() >= deadline) {
			r = err_set(e, "saving the VM: %s was not written in time", path);
			break;
		}
		usleep(20000);
	}
	if (r < 0)
		unlink(part);
	free(part);
	/* the guest goes on either way */
	struct err e2 = { "" };
	if (ensure_running(vm, &e2) < 0) {
		if (r == 0)
			err_set(e, "%s", e2.msg);
		return -1;
	}
	return r;
}

static int qemu_start(struct vm *vm, const struct vm_config *c, uint64_t deadline, struct err *e)
{
	struct qemu *q = xcalloc(1, sizeof(*q));
	vm->priv = q;
	vm->guest_fd = -1;
	q->qmp.fd = -1;
	snprintf(q->qmp_path, sizeof(q->qmp_path), "%s/qmp.sock", c->sockdir);
	snprintf(q->guest_path, sizeof(q->guest_path), "%s/guest.sock", c->sockdir);
	snprintf(q->mem_path, sizeof(q->mem_path), "%s/region.mem", c->sockdir);
	snprintf(q->log_path, sizeof(q->log_path), "%s/qemu.log", c->outdir);
	char qmplog[600];
	snprintf(qmplog, sizeof(qmplog), "%s/qmp.log", c->outdir);
	q->qmp_log = fopen_output(qmplog);
	/* QEMU opens console.log itself, following links: create it first,
	 * refusing one */
	char console[600];
	snprintf(console, sizeof(console), "%s/console.log", c->outdir);
	FILE *cf = fopen_output(console);
	if (!cf)
		return err_sys(e, "cannot write %s", console);
	fclose(cf);

	bool kvm = c->accel != ACCEL_TCG && kvm_usable();
	if (c->accel == ACCEL_KVM && !kvm)
		return err_set(e, "--accel kvm: /dev/kvm cannot be opened read-write");
	struct argv a = { .n = 0 };
	build_argv(&a, c, q, kvm);
	if (q->qmp_log) {
		fprintf(q->qmp_log, "# command:");
		for (int i = 0; i < a.n; i++)
			fprintf(q->qmp_log, " %s", a.v[i]);
		fprintf(q->qmp_log, "\n");
	}
	int r = child_spawn(&q->proc, a.v, q->log_path, e);
	for (int i = 0; i < a.n; i++)
		free(a.v[i]);
	if (r < 0)
		return -1;

	/* QEMU creates its sockets early; wait for the QMP one, bounded, and
	 * notice at once if QEMU dies (bad option, missing file...). */
	char why[200];
	for (;;) {
		if (!qemu_alive(vm, why, sizeof(why)))
			return err_set(e, "%s before QMP came up; see %s", why, q->log_path);
		if (access(q->qmp_path, F_OK) == 0 && qmp_open(&q->qmp, q->qmp_path, q->qmp_log, deadline, e) == 0)
			break;
		if (now_ms() >= deadline || vms_interrupted)
			return err_set(e, "QMP socket %s did not come up%s", q->qmp_path,
				       vms_interrupted ? " (interrupted)" : " in time");
		usleep(20000);
	}
	vm->guest_fd = connect_unix(q->guest_path, e);
	if (vm->guest_fd < 0)
		return err_wrap(e, "guest channel");
	/* Both connected: the names are not needed any more. Removed now, a
	 * host killed with SIGKILL leaves nothing in /tmp (run/run.c removes the
	 * directory). */
	unlink(q->qmp_path);
	unlink(q->guest_path);
	unlink(q->mem_path);
	fcntl(vm->guest_fd, F_SETFL, O_NONBLOCK);

	struct json_object *ret = NULL, *v;
	if (qmp_execute(&q->qmp, "query-kvm", NULL, &ret, QMP_TIMEOUT_MS, e) < 0)
		return -1;
	bool enabled = json_object_object_get_ex(ret, "enabled", &v) && json_object_get_boolean(v);
	json_object_put(ret);
	snprintf(vm->accel, sizeof(vm->accel), "%s", enabled ? "kvm" : "tcg");
	if (c->accel == ACCEL_KVM && !enabled)
		return err_set(e, "--accel kvm: QEMU's KVM accelerator did not start; see %s", q->log_path);
	ret = NULL;
	if (qmp_execute(&q->qmp, "query-version", NULL, &ret, QMP_TIMEOUT_MS, e) < 0)
		return -1;
	struct json_object *qv, *maj, *min, *mic;
	if (json_object_object_get_ex(ret, "qemu", &qv) && json_object_object_get_ex(qv, "major", &maj) &&
	    json_object_object_get_ex(qv, "minor", &min) && json_object_object_get_ex(qv, "micro", &mic))
		snprintf(vm->hypervisor, sizeof(vm->hypervisor), "QEMU %d.%d.%d", json_object_get_int(maj),
			 json_object_get_int(min), json_object_get_int(mic));
	json_object_put(ret);
	if (c->incoming)
		return qemu_restore(vm, c->incoming, deadline, e);
	return 0;
}

static int qemu_region(struct vm *vm, struct vm_region *r, struct err *e)
{
	struct qemu *q = vm->priv;
	struct json_object *ret = NULL;
	if (qmp_execute(&q->qmp, "query-memory-devices", NULL, &ret, QMP_TIMEOUT_MS, e) < 0)
		return qmp_failed(vm, e);
	int found = -1;
	for (size_t i = 0; ret && i < json_object_array_length(ret); i++) {
		struct json_object *d = json_object_array_get_idx(ret, i), *data, *id, *v;
		if (!json_object_object_get_ex(d, "data", &data) || !json_object_object_get_ex(data, "id", &id) ||
		    strcmp(json_object_get_string(id), DEVICE_ID) != 0)
			continue;
		r->addr = json_object_object_get_ex(data, "memaddr", &v) ? (uint64_t)json_object_get_int64(v) : 0;
		r->size = json_object_object_get_ex(data, "max-size", &v) ? (uint64_t)json_object_get_int64(v) : 0;
		r->block_size = json_object_object_get_ex(data, "block-size", &v) ? (uint64_t)json_object_get_int64(v) : 0;
		r->node = json_object_object_get_ex(data, "node", &v) ? json_object_get_int(v) : -1;
		found = 0;
	}
	json_object_put(ret);
	if (found < 0)
		return err_set(e, "QMP query-memory-devices does not list virtio-mem device %s", DEVICE_ID);
	return 0;
}

static int qemu_set_requested(struct vm *vm, uint64_t bytes, struct err *e)
{
	struct qemu *q = vm->priv;
	struct json_object *args = json_object_new_object();
	json_object_object_add(args, "path", json_object_new_string(DEVICE_PATH));
	json_object_object_add(args, "property", json_object_new_string("requested-size"));
	json_object_object_add(args, "value", json_object_new_int64((int64_t)bytes));
	if (qmp_execute(&q->qmp, "qom-set", args, NULL, QMP_TIMEOUT_MS, e) < 0)
		return qmp_failed(vm, e);
	return 0;
}

static int qemu_get_size(struct vm *vm, uint64_t *size, struct err *e)
{
	struct qemu *q = vm->priv;
	struct json_object *args = json_object_new_object(), *ret = NULL;
	json_object_object_add(args, "path", json_object_new_string(DEVICE_PATH));
	json_object_object_add(args, "property", json_object_new_string("size"));
	if (qmp_execute(&q->qmp, "qom-get", args, &ret, QMP_TIMEOUT_MS, e) < 0)
		return qmp_failed(vm, e);
	if (!json_object_is_type(ret, json_type_int)) {
		json_object_put(ret);
		return err_set(e, "QMP qom-get %s size: not an integer", DEVICE_PATH);
	}
	*size = (uint64_t)json_object_get_int64(ret);
	json_object_put(ret);
	return 0;
}

static int qemu_wait_event(struct vm *vm, int timeout_ms, struct err *e)
{
	struct qemu *q = vm->priv;
	if (qmp_pump(&q->qmp, timeout_ms, e) < 0)
		return qmp_failed(vm, e);
	return 0;
}

static void qemu_stop(struct vm *vm)
{
	struct qemu *q = vm->priv;
	if (!q)
		return;
	if (vm->guest_fd >= 0)
		close(vm->guest_fd);
	vm->guest_fd = -1;
	/* Ask politely over QMP, then signals; child_stop always reaps. */
	if (q->qmp.fd >= 0 && !child_exited(&q->proc)) {
		struct err e;
		qmp_execute(&q->qmp, "quit", NULL, NULL, 2000, &e);
		child_wait(&q->proc, 3000);
	}
	child_stop(&q->proc, 2000);
	qmp_close(&q->qmp);
	if (q->qmp_log)
		fclose(q->qmp_log);
	unlink(q->qmp_path);
	unlink(q->guest_path);
	unlink(q->mem_path);
	free(q);
	vm->priv = NULL;
}

const struct vm_ops vm_qemu_ops = {
	.name = "qemu",
	.start = qemu_start,
	.region = qemu_region,
	.set_requested = qemu_set_requested,
	.get_size = qemu_get_size,
	.wait_event = qemu_wait_event,
	.alive = qemu_alive,
	.stop = qemu_stop,
	.save = qemu_save,
};
