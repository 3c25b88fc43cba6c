/* The libvirt backend: a transient domain defined from generated XML over
 * the libvirt C API, on a local daemon or a remote one (qemu+ssh://...).
 *
 * One helper thread runs libvirt's default event loop: the domain's
 * lifecycle and MEMORY_DEVICE_SIZE_CHANGE events, the connection's
 * keepalive, and the guest channel. The channel is always reached with
 * virDomainOpenChannel() on a non-blocking stream, bridged to a socketpair
 * whose other end is vm->guest_fd, so the rest of the host reads and writes
 * a socket as with the QEMU backend, and a remote daemon works the same way
 * (the channel's socket is on the daemon's host). Every libvirt call is an
 * RPC bounded by libvirt itself; the keepalive ends a dead connection. */
#define _GNU_SOURCE
#include "vm/vm.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libvirt/libvirt-qemu.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../common/protocol.h"
#include "vm/libvirt-xml.h"

#define LV_DEFAULT_URI "qemu:///system"
#define LV_MIN_VERSION 7009000ul   /* virtio-mem devices in libvirt: 7.9.0 */
#define LV_LOOP_WAKE_MS 200        /* the event loop returns at least this often */
#define LV_STATE_CHECK_MS 1000     /* alive() asks the daemon at most this often */

struct lv {
	virConnectPtr conn;
	virDomainPtr dom;
	char uri[512], name[64], alias[64], console[700];
	bool remote;
	FILE *log;                 /* OUTDIR/libvirt.log: the XML we sent, events */
	int cb_life, cb_size, timer;
	pthread_t thread;
	bool thread_started;
	int quit;                  /* __atomic: ends the event thread */

	pthread_mutex_t mu;        /* guards what the event callbacks set */
	pthread_cond_t cond;
	unsigned size_events;
	bool stopped, guest_shutdown, closed, destroying;
	int stop_detail, close_reason;
	uint64_t last_check;

	/* The channel bridge. Set up while the domain is still paused (nothing
	 * flows), torn down after the event thread ended; in between only the
	 * event thread touches it. */
	virStreamPtr st;
	bool st_cb, bridge_done;
	int bfd, watch;
	char g2h[65536], h2g[65536];
	size_t g2h_len, g2h_off, h2g_len, h2g_off;
};

static bool lv_ready;
static void lv_init_once(void);
static pthread_once_t lv_once = PTHREAD_ONCE_INIT;

/* libvirt prints every error on stderr by default; ours carry the message. */
static void lv_silent(void *opaque, virErrorPtr er)
{
	(void)opaque;
	(void)er;
}

static void lv_init_once(void)
{
	virSetErrorFunc(NULL, lv_silent);
	/* the event implementation must be registered before any connection */
	lv_ready = virInitialize() == 0 && virEventRegisterDefaultImpl() == 0;
}

static const char *lv_last_error(void)
{
	virErrorPtr er = virGetLastError();
	return er && er->message ? er->message : "unknown error";
}

static int lv_last_code(void)
{
	virErrorPtr er = virGetLastError();
	return er ? er->code : 0;
}

/* "libvirt URI: what: libvirt's message" */
static int lv_fail(struct err *e, const char *uri, const char *what)
{
	return err_set(e, "libvirt %s: %s: %s", uri, what, lv_last_error());
}

__attribute__((format(printf, 2, 3))) static void lv_log(struct lv *l, const char *fmt, ...)
{
	if (!l->log)
		return;
	va_list ap;
	va_start(ap, fmt);
	fprintf(l->log, "%" PRIu64 " ", now_ms());
	vfprintf(l->log, fmt, ap);
	fputc('\n', l->log);
	fflush(l->log);
	va_end(ap);
}

/* --connect, else what libvirt's own tools take by default */
static const char *default_uri(const char *given)
{
	const char *env = getenv("LIBVIRT_DEFAULT_URI");
	return given ? given : env && *env ? env : LV_DEFAULT_URI;
}

static void version_text(unsigned long v, char *buf, size_t len)
{
	snprintf(buf, len, "%lu.%lu.%lu", v / 1000000, v / 1000 % 1000, v % 1000);
}

/* ---- events (on the event thread) ---- */

static void on_timer(int timer, void *opaque)
{
	(void)timer;
	(void)opaque;
}

static int on_lifecycle(virConnectPtr conn, virDomainPtr dom, int event, int detail, void *opaque)
{
	struct lv *l = opaque;
	lv_log(l, "event lifecycle %d detail %d", event, detail);
	pthread_mutex_lock(&l->mu);
	if (event == VIR_DOMAIN_EVENT_SHUTDOWN && detail == VIR_DOMAIN_EVENT_SHUTDOWN_GUEST)
		l->guest_shutdown = true;
	if (event == VIR_DOMAIN_EVENT_STOPPED) {
		l->stopped = true;
		l->stop_detail = detail;
	}
	pthread_cond_broadcast(&l->cond);
	pthread_mutex_unlock(&l->mu);
	return 0;
}

static void on_size_change(virConnectPtr conn, virDomainPtr dom, const char *alias, unsigned long long size,
			   void *opaque)
{
	struct lv *l = opaque;
	lv_log(l, "event memory-device-size-change %s %llu KiB", alias, size);
	pthread_mutex_lock(&l->mu);
	l->size_events++;
	pthread_cond_broadcast(&l->cond);
	pthread_mutex_unlock(&l->mu);
}

static void on_close(virConnectPtr conn, int reason, void *opaque)
{
	struct lv *l = opaque;
	lv_log(l, "connection closed, reason %d", reason);
	pthread_mutex_lock(&l->mu);
	l->closed = true;
	l->close_reason = reason;
	pthread_cond_broadcast(&l->cond);
	pthread_mutex_unlock(&l->mu);
}

static void bridge_close(struct lv *l, const char *why)
{
	if (l->bridge_done)
		return;
	l->bridge_done = true;
	lv_log(l, "guest channel closed: %s", why);
	if (l->st_cb)
		virStreamEventRemoveCallback(l->st);
	l->st_cb = false;
	virStreamAbort(l->st);
	if (l->watch >= 0)
		virEventRemoveHandle(l->watch);
	l->watch = -1;
	close(l->bfd);  /* the host reads EOF on guest_fd, as when QEMU exits */
	l->bfd = -1;
}

/* Move what can be moved both ways without blocking, then ask to be called
 * again for what is left: a full buffer stops reading its source. */
static void bridge_pump(struct lv *l)
{
	bool moved = true;
	while (moved && !l->bridge_done) {
		moved = false;
		if (!l->g2h_len) {
			int n = virStreamRecv(l->st, l->g2h, sizeof(l->g2h));
			if (n > 0) {
				l->g2h_len = (size_t)n;
				l->g2h_off = 0;
				moved = true;
			} else if (n == 0 || n == -1) {
				bridge_close(l, n == 0 ? "end of stream" : lv_last_error());
				return;
			}
		}
		if (l->g2h_len) {
			ssize_t w = write(l->bfd, l->g2h + l->g2h_off, l->g2h_len - l->g2h_off);
			if (w > 0) {
				l->g2h_off += (size_t)w;
				if (l->g2h_off == l->g2h_len)
					l->g2h_len = l->g2h_off = 0;
				moved = true;
			} else if (w < 0 && errno != EAGAIN && errno != EINTR) {
				bridge_close(l, strerror(errno));
				return;
			}
		}
		if (!l->h2g_len) {
			ssize_t n = read(l->bfd, l->h2g, sizeof(l->h2g));
			if (n > 0) {
				l->h2g_len = (size_t)n;
				l->h2g_off = 0;
				moved = true;
			} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
				bridge_close(l, n == 0 ? "the host closed it" : strerror(errno));
				return;
			}
		}
		if (l->h2g_len) {
			int n = virStreamSend(l->st, l->h2g + l->h2g_off, l->h2g_len - l->h2g_off);
			if (n > 0) {
				l->h2g_off += (size_t)n;
				if (l->h2g_off == l->h2g_len)
					l->h2g_len = l->h2g_off = 0;
				moved = true;
			} else if (n == -1) {
				bridge_close(l, lv_last_error());
				return;
			}
		}
	}
	virStreamEventUpdateCallback(l->st, (l->g2h_len ? 0 : VIR_STREAM_EVENT_READABLE) |
						    (l->h2g_len ? VIR_STREAM_EVENT_WRITABLE : 0));
	virEventUpdateHandle(l->watch, (l->h2g_len ? 0 : VIR_EVENT_HANDLE_READABLE) |
					       (l->g2h_len ? VIR_EVENT_HANDLE_WRITABLE : 0));
}

static void on_stream(virStreamPtr st, int events, void *opaque)
{
	(void)st;
	(void)events;  /* errors and hangups show in the next receive */
	bridge_pump(opaque);
}

static void on_fd(int watch, int fd, int events, void *opaque)
{
	(void)watch;
	(void)fd;
	(void)events;
	bridge_pump(opaque);
}

static void *event_thread(void *arg)
{
	struct lv *l = arg;
	while (!__atomic_load_n(&l->quit, __ATOMIC_ACQUIRE))
		if (virEventRunDefaultImpl() < 0)
			usleep(100000);
	return NULL;
}

/* ---- the backend ---- */

static bool stop_reason(struct lv *l, char *why, size_t len)
{
	pthread_mutex_lock(&l->mu);
	bool closed = l->closed, stopped = l->stopped, guest = l->guest_shutdown, destroying = l->destroying;
	int detail = l->stop_detail, reason = l->close_reason;
	pthread_mutex_unlock(&l->mu);
	if (stopped) {
		switch (detail) {
		case VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN:
			/* With on_reboot=destroy libvirt reports the reset of a panic
			 * (panic=-1) as a shutdown the guest asked for, like a
			 * power-off; the guest program powers off only when told. */
			snprintf(why, len, "%s", guest ? "the guest rebooted or powered off (kernel panic?)"
						      : "the domain shut down");
			break;
		case VIR_DOMAIN_EVENT_STOPPED_DESTROYED:
			snprintf(why, len, "the domain was destroyed%s", destroying ? "" : " by someone else");
			break;
		case VIR_DOMAIN_EVENT_STOPPED_CRASHED:
			snprintf(why, len, "the guest crashed (libvirt: crashed)");
			break;
		case VIR_DOMAIN_EVENT_STOPPED_FAILED:
			snprintf(why, len, "QEMU failed or was killed (libvirt: domain %s failed; see "
					   "/var/log/libvirt/qemu/%s.log on the daemon's host)", l->name, l->name);
			break;
		default:
			snprintf(why, len, "the domain stopped (libvirt stop detail %d)", detail);
		}
		return true;
	}
	if (closed) {
		static const char *const reasons[] = { "error", "end of file", "keepalive timeout", "client" };
		snprintf(why, len, "the connection to libvirt %s closed (%s)", l->uri,
			 reason >= 0 && reason < (int)ARRAY_SIZE(reasons) ? reasons[reason] : "?");
		return true;
	}
	return false;
}

static bool lv_alive(struct vm *vm, char *why, size_t len)
{
	struct lv *l = vm->priv;
	if (!l || !l->dom) {
		snprintf(why, len, "the domain was not started");
		return false;
	}
	if (stop_reason(l, why, len))
		return false;
	/* events can be late or lost (a daemon restart): ask, now and then */
	uint64_t now = now_ms();
	if (now - l->last_check < LV_STATE_CHECK_MS)
		return true;
	l->last_check = now;
	int state, reason;
	if (virDomainGetState(l->dom, &state, &reason, 0) < 0) {
		if (lv_last_code() == VIR_ERR_NO_DOMAIN) {
			/* libvirt forgets the domain a moment before its STOPPED
			 * event, which says why: wait for it, bounded */
			struct timespec ts;
			clock_gettime(CLOCK_MONOTONIC, &ts);
			ts.tv_sec += 3;
			pthread_mutex_lock(&l->mu);
			while (!l->stopped && !l->closed)
				if (pthread_cond_timedwait(&l->cond, &l->mu, &ts) == ETIMEDOUT)
					break;
			pthread_mutex_unlock(&l->mu);
			if (!stop_reason(l, why, len))
				snprintf(why, len, "the domain %s is gone", l->name);
			return false;
		}
		return true;  /* a connection problem shows as a close */
	}
	if (state == VIR_DOMAIN_SHUTOFF || state == VIR_DOMAIN_CRASHED) {
		snprintf(why, len, "the domain stopped (libvirt state %d, reason %d)", state, reason);
		return false;
	}
	return true;
}

/* A call failed: when the domain is gone, say why (its lifecycle event may
 * come a moment after the error), else libvirt's message. */
static int lv_failed(struct vm *vm, const char *what, struct err *e)
{
	struct lv *l = vm->priv;
	char msg[512], why[256];
	snprintf(msg, sizeof(msg), "%s", lv_last_error());
	for (int i = 0; i < 20; i++) {
		l->last_check = 0;
		if (!lv_alive(vm, why, sizeof(why)))
			return err_set(e, "%s", why);
		usleep(50000);
	}
	return err_set(e, "libvirt %s: %s: %s", l->uri, what, msg);
}

static char *live_xml(struct vm *vm, struct err *e)
{
	struct lv *l = vm->priv;
	char *xml = virDomainGetXMLDesc(l->dom, 0);
	if (!xml)
		lv_failed(vm, "cannot read the domain's live XML", e);
	return xml;
}

/* An absolute path for the daemon: it resolves nothing against our cwd. */
static int absolute(const char *path, char *out, size_t len, struct err *e)
{
	char buf[PATH_MAX];
	if (!realpath(path, buf))
		return err_sys(e, "%s", path);
	if (strlen(buf) >= len)
		return err_set(e, "%s: path too long", path);
	snprintf(out, len, "%s", buf);
	return 0;
}

/* What a connected daemon runs and offers, filled as far as it was read. */
struct lv_daemon {
	char libvirt[32], hypervisor[32];  /* versions, "9.0.0"; "" not read */
	const char *type;                  /* the hypervisor ("QEMU"); NULL unknown */
	bool kvm, qemu;                    /* the domain types its host offers */
};

/* The checks a run and --probe-libvirt share: the daemon's libvirt and
 * hypervisor versions and its host's domain types can be read, and its
 * libvirt is new enough for virtio-mem devices. */
static int lv_daemon_check(virConnectPtr conn, const char *uri, struct lv_daemon *d, struct err *e)
{
	unsigned long libver = 0, hv = 0;
	if (virConnectGetLibVersion(conn, &libver) < 0)
		return lv_fail(e, uri, "cannot read the daemon's libvirt version");
	version_text(libver, d->libvirt, sizeof(d->libvirt));
	if (libver < LV_MIN_VERSION)
		return err_set(e, "libvirt %s: the daemon runs libvirt %s, too old for virtio-mem devices (7.9.0 or newer)",
			       uri, d->libvirt);
	d->type = virConnectGetType(conn);
	if (virConnectGetVersion(conn, &hv) < 0)
		return lv_fail(e, uri, "cannot read the hypervisor's version");
	version_text(hv, d->hypervisor, sizeof(d->hypervisor));
	char *caps = virConnectGetCapabilities(conn);
	if (!caps)
		return lv_fail(e, uri, "cannot read the host's capabilities");
	d->kvm = lv_caps_offer(caps, "kvm");
	d->qemu = lv_caps_offer(caps, "qemu");
	free(caps);
	return 0;
}

static int lv_start(struct vm *vm, const struct vm_config *c, uint64_t deadline, struct err *e)
{
	/* the domain XML names none of these: refuse rather than ignore */
	if ((c->mem_backend && *c->mem_backend && strcmp(c->mem_backend, "ram") != 0) || c->prealloc >= 0 ||
	    (c->unplugged_inaccessible && *c->unplugged_inaccessible))
		return err_set(e, "the libvirt backend does not set the scenario's memory-backend, prealloc or "
			       "unplugged-inaccessible; run it with --backend qemu");
	struct lv *l = xcalloc(1, sizeof(*l));
	vm->priv = l;
	vm->guest_fd = -1;
	l->cb_life = l->cb_size = l->timer = l->bfd = l->watch = -1;
	pthread_mutex_init(&l->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&l->cond, &ca);
	pthread_condattr_destroy(&ca);
	snprintf(l->uri, sizeof(l->uri), "%s", default_uri(c->connect_uri));
	l->remote = lv_uri_is_remote(l->uri);
	const char *slash = c->sockdir ? strrchr(c->sockdir, '.') : NULL;
	snprintf(l->name, sizeof(l->name), "vmemstress-%s", slash ? slash + 1 : "run");
	char path[700];
	snprintf(path, sizeof(path), "%s/libvirt.log", c->outdir);
	l->log = fopen_output(path);

	pthread_once(&lv_once, lv_init_once);
	if (!lv_ready)
		return err_set(e, "libvirt: cannot initialise the library or its event loop: %s", lv_last_error());
	l->timer = virEventAddTimeout(LV_LOOP_WAKE_MS, on_timer, NULL, NULL);
	/* the main thread takes the signals: its waits see vms_interrupted */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	l->thread_started = pthread_create(&l->thread, NULL, event_thread, l) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!l->thread_started || l->timer < 0)
		return err_set(e, "libvirt: cannot start the event loop");

	l->conn = virConnectOpen(l->uri);
	if (!l->conn)
		return err_set(e, "libvirt %s: cannot connect: %s (is libvirtd running there? README.md, "
				  "\"libvirt backend\", says how to start one)", l->uri, lv_last_error());
	virConnectRegisterCloseCallback(l->conn, on_close, l, NULL);
	virConnectSetKeepAlive(l->conn, 5, 6);  /* a silent daemon: closed in 30 s */

	struct lv_daemon d = { 0 };
	int checked = lv_daemon_check(l->conn, l->uri, &d, e);
	if (d.hypervisor[0])  /* the report names it even when the capabilities cannot be read */
		snprintf(vm->hypervisor, sizeof(vm->hypervisor), "%s %s, libvirt %s", d.type ? d.type : "?",
			 d.hypervisor, d.libvirt);
	if (checked < 0)
		return -1;

	/* KVM when the daemon's host offers it (and, locally, /dev/kvm opens:
	 * the same test as the QEMU backend), else TCG (type 'qemu'). */
	bool kvm = c->accel != ACCEL_TCG && d.kvm && (l->remote || kvm_usable());
	if (c->accel == ACCEL_KVM && !kvm)
		return err_set(e, "--accel kvm: libvirt %s offers no KVM domain%s", l->uri,
			       !l->remote && d.kvm ? " (/dev/kvm cannot be opened here)" : "");
	if (!kvm && !d.qemu)
		return err_set(e, "libvirt %s offers no x86_64 QEMU domain (are qemu-system-x86 and "
				  "libvirt-daemon-driver-qemu installed there?)", l->uri);
	snprintf(vm->accel, sizeof(vm->accel), "%s", kvm ? "kvm" : "tcg");

	/* The daemon reads kernel and initrd and writes the console on its own
	 * host: a remote one needs the files at the same absolute paths (or
	 * uploaded there: kernel_on_host), and keeps the console in its QEMU
	 * log directory. */
	char kernel[PATH_MAX], initrd[PATH_MAX], emulator[PATH_MAX];
	if (c->kernel_on_host && c->initrd_on_host) {
		snprintf(kernel, sizeof(kernel), "%s", c->kernel_on_host);
		snprintf(initrd, sizeof(initrd), "%s", c->initrd_on_host);
	} else if (absolute(c->kernel, kernel, sizeof(kernel), e) < 0 ||
		   absolute(c->initrd, initrd, sizeof(initrd), e) < 0) {
		return -1;
	}
	bool own_qemu = c->qemu && strchr(c->qemu, '/');
	if (own_qemu && (l->remote ? snprintf(emulator, sizeof(emulator), "%s", c->qemu) < 0
				   : absolute(c->qemu, emulator, sizeof(emulator), e) < 0))
		return -1;
	if (l->remote) {
		snprintf(l->console, sizeof(l->console), "/var/log/libvirt/qemu/%s.console.log", l->name);
	} else {
		char outdir[PATH_MAX];
		if (absolute(c->outdir, outdir, sizeof(outdir), e) < 0)
			return -1;
		snprintf(l->console, sizeof(l->console), "%s/console.log", outdir);
	}
	struct lv_domain_spec spec = {
		.name = l->name, .type = kvm ? "kvm" : "qemu", .kernel = kernel, .initrd = initrd,
		.cmdline = c->cmdline, .console = l->console, .emulator = own_qemu ? emulator : NULL,
		.port_name = VMS_PORT_NAME, .cpus = c->cpus, .boot_memory = c->boot_memory,
		.node1_memory = LV_NODE1_MEMORY, .region_size = c->region_size, .initial_size = c->initial_size,
		.block_size = c->block_size,
	};
	char *xml = lv_domain_xml(&spec);
	lv_log(l, "connected to %s (%s); defining:\n%s", l->uri, vm->hypervisor, xml);
	if (vms_interrupted || now_ms() >= deadline) {
		free(xml);
		return err_set(e, "libvirt %s: %s before the domain was created", l->uri,
			       vms_interrupted ? "interrupted" : "out of time");
	}
	/* Paused, so the channel is open before the guest can write to it;
	 * AUTODESTROY: the daemon destroys it when our connection ends, even
	 * if this process is killed. Transient: nothing stays defined. */
	l->dom = virDomainCreateXML(l->conn, xml, VIR_DOMAIN_START_PAUSED | VIR_DOMAIN_START_AUTODESTROY);
	free(xml);
	if (!l->dom)
		return lv_fail(e, l->uri, "the domain was refused");
	if (l->remote)
		progress("libvirt %s: domain %s; its console is %s on that host", l->uri, l->name, l->console);
	else
		debug("libvirt %s: domain %s", l->uri, l->name);

	l->cb_life = virConnectDomainEventRegisterAny(l->conn, l->dom, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
						      VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle), l, NULL);
	l->cb_size = virConnectDomainEventRegisterAny(l->conn, l->dom, VIR_DOMAIN_EVENT_ID_MEMORY_DEVICE_SIZE_CHANGE,
						      VIR_DOMAIN_EVENT_CALLBACK(on_size_change), l, NULL);
	if (l->cb_life < 0 || l->cb_size < 0)
		return lv_fail(e, l->uri, "cannot register for the domain's events");
	char *live = live_xml(vm, e);
	if (!live)
		return -1;
	struct lv_memdev m;
	int r = lv_find_memdev(live, NULL, &m, e);
	lv_log(l, "live XML:\n%s", live);
	free(live);
	if (r < 0)
		return -1;
	snprintf(l->alias, sizeof(l->alias), "%s", m.alias);

	l->st = virStreamNew(l->conn, VIR_STREAM_NONBLOCK);
	if (!l->st || virDomainOpenChannel(l->dom, VMS_PORT_NAME, l->st, 0) < 0)
		return lv_fail(e, l->uri, "cannot open the guest channel " VMS_PORT_NAME);
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0)
		return err_sys(e, "socketpair");
	vm->guest_fd = sv[0];
	l->bfd = sv[1];
	if (virStreamEventAddCallback(l->st, VIR_STREAM_EVENT_READABLE, on_stream, l, NULL) < 0)
		return lv_fail(e, l->uri, "cannot watch the guest channel");
	l->st_cb = true;
	l->watch = virEventAddHandle(l->bfd, VIR_EVENT_HANDLE_READABLE, on_fd, l, NULL);
	if (l->watch < 0)
		return lv_fail(e, l->uri, "cannot watch the channel's socket");
	if (virDomainResume(l->dom) < 0)
		return lv_failed(vm, "cannot resume the domain", e);
	lv_log(l, "resumed");
	return 0;
}

static int lv_region(struct vm *vm, struct vm_region *r, struct err *e)
{
	struct lv *l = vm->priv;
	char *xml = live_xml(vm, e);
	if (!xml)
		return -1;
	struct lv_memdev m;
	int rc = lv_find_memdev(xml, l->alias, &m, e);
	free(xml);
	if (rc < 0)
		return -1;
	r->size = m.size;
	r->block_size = m.block_size;
	r->node = m.node;
	r->addr = m.addr;
	if (!m.have_addr) {
		/* Older libvirt (9.0 included) does not show where the device's
		 * memory is; QEMU does, read-only, through libvirt. */
		char *json = NULL;
		if (virDomainQemuMonitorCommand(l->dom, "{\"execute\":\"query-memory-devices\"}", &json, 0) < 0)
			return lv_failed(vm, "query-memory-devices through libvirt", e);
		lv_log(l, "query-memory-devices: %s", json);
		rc = lv_qmp_memaddr(json, l->alias, &r->addr, e);
		free(json);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static int lv_set_requested(struct vm *vm, uint64_t bytes, struct err *e)
{
	struct lv *l = vm->priv;
	char *xml = live_xml(vm, e);
	if (!xml)
		return -1;
	char *dev = lv_memdev_with_requested(xml, l->alias, bytes, e);
	free(xml);
	if (!dev)
		return -1;
	lv_log(l, "update:\n%s", dev);
	int r = virDomainUpdateDeviceFlags(l->dom, dev, VIR_DOMAIN_AFFECT_LIVE);
	free(dev);
	if (r < 0) {
		char what[96];
		snprintf(what, sizeof(what), "virDomainUpdateDeviceFlags (requested size %" PRIu64 " KiB)", bytes / 1024);
		return lv_failed(vm, what, e);
	}
	return 0;
}

static int lv_get_size(struct vm *vm, uint64_t *size, struct err *e)
{
	struct lv *l = vm->priv;
	char *xml = live_xml(vm, e);
	if (!xml)
		return -1;
	struct lv_memdev m;
	int r = lv_find_memdev(xml, l->alias, &m, e);
	free(xml);
	if (r == 0)
		*size = m.current;
	return r;
}

static int lv_wait_event(struct vm *vm, int timeout_ms, struct err *e)
{
	struct lv *l = vm->priv;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&l->mu);
	unsigned seen = l->size_events;
	while (l->size_events == seen && !l->stopped && !l->closed && !vms_interrupted)
		if (pthread_cond_timedwait(&l->cond, &l->mu, &ts) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&l->mu);
	char why[256];
	if (!lv_alive(vm, why, sizeof(why)))
		return err_set(e, "%s", why);
	return 0;
}

static void lv_stop(struct vm *vm)
{
	struct lv *l = vm->priv;
	if (!l)
		return;
	if (vm->guest_fd >= 0)
		close(vm->guest_fd);
	vm->guest_fd = -1;
	if (l->dom) {
		pthread_mutex_lock(&l->mu);
		l->destroying = true;
		bool stopped = l->stopped;
		pthread_mutex_unlock(&l->mu);
		/* SIGTERM, then SIGKILL after libvirt's own bound; a transient
		 * domain is gone once destroyed */
		if (!stopped && virDomainDestroy(l->dom) < 0 && lv_last_code() != VIR_ERR_NO_DOMAIN &&
		    lv_last_code() != VIR_ERR_OPERATION_INVALID)
			fprintf(stderr, "vmemstress: libvirt %s: cannot destroy domain %s: %s\n", l->uri, l->name,
				lv_last_error());
		lv_log(l, "destroyed");
	}
	if (l->cb_life >= 0)
		virConnectDomainEventDeregisterAny(l->conn, l->cb_life);
	if (l->cb_size >= 0)
		virConnectDomainEventDeregisterAny(l->conn, l->cb_size);
	if (l->thread_started) {
		__atomic_store_n(&l->quit, 1, __ATOMIC_RELEASE);
		pthread_join(l->thread, NULL);  /* within LV_LOOP_WAKE_MS */
	}
	if (l->st) {
		if (!l->bridge_done) {
			if (l->st_cb)
				virStreamEventRemoveCallback(l->st);
			virStreamAbort(l->st);
			if (l->watch >= 0)
				virEventRemoveHandle(l->watch);
		}
		virStreamFree(l->st);
	}
	if (l->bfd >= 0)
		close(l->bfd);
	if (l->timer >= 0)
		virEventRemoveTimeout(l->timer);
	if (l->dom)
		virDomainFree(l->dom);
	if (l->conn) {
		virConnectUnregisterCloseCallback(l->conn, on_close);
		virConnectClose(l->conn);
	}
	if (l->log)
		fclose(l->log);
	pthread_cond_destroy(&l->cond);
	pthread_mutex_destroy(&l->mu);
	free(l);
	vm->priv = NULL;
}

int vm_libvirt_probe(const char *uri, char *info, size_t len, struct err *e)
{
	uri = default_uri(uri);
	pthread_once(&lv_once, lv_init_once);
	if (!lv_ready)
		return err_set(e, "libvirt: cannot initialise the library: %s", lv_last_error());
	virConnectPtr conn = virConnectOpen(uri);
	if (!conn)
		return lv_fail(e, uri, "cannot connect");
	struct lv_daemon d = { 0 };
	int r = -1;
	if (lv_daemon_check(conn, uri, &d, e) == 0) {
		if (!d.qemu && !d.kvm)
			err_set(e, "libvirt %s offers no x86_64 QEMU domain", uri);
		else {
			/* what a suite deals runs by: the host's CPUs and free
			 * memory (suite.c reads this line) */
			virNodeInfo ni;
			unsigned long long mem_free = virNodeGetFreeMemory(conn);
			int cpus = virNodeGetInfo(conn, &ni) == 0 ? (int)ni.cpus : 0;
			snprintf(info, len, "libvirt %s: libvirt %s, QEMU %s, domain types:%s%s; host %d cpus, %llu MiB free",
				 uri, d.libvirt, d.hypervisor, d.kvm ? " kvm" : "", d.qemu ? " qemu" : "", cpus,
				 mem_free >> 20);
			r = 0;
		}
	}
	virConnectClose(conn);
	return r;
}

/* ---- files uploaded into a storage pool on the daemon's host ---- */

#define LV_POOL "vmemstress"
#define LV_POOL_DIR "/var/lib/libvirt/images/vmemstress"

static int upload_chunk(virStreamPtr st, char *data, size_t nbytes, void *opaque)
{
	ssize_t n = read(*(int *)opaque, data, nbytes);
	return n < 0 ? -1 : (int)n;
}

/* The pool, active: found by name, else a transient directory pool
 * created (and its directory built). Volumes uploaded earlier stay in the
 * directory when the daemon stops: a refresh finds them again. */
static virStoragePoolPtr upload_pool(virConnectPtr conn, const char *uri, struct err *e)
{
	virStoragePoolPtr pool = virStoragePoolLookupByName(conn, LV_POOL);
	if (pool && !virStoragePoolIsActive(pool) && virStoragePoolCreate(pool, VIR_STORAGE_POOL_CREATE_WITH_BUILD) < 0) {
		virStoragePoolFree(pool);
		lv_fail(e, uri, "cannot start the storage pool " LV_POOL);
		return NULL;
	}
	if (!pool) {
		static const char xml[] = "<pool type='dir'><name>" LV_POOL "</name><target><path>" LV_POOL_DIR
					  "</path></target></pool>";
		pool = virStoragePoolCreateXML(conn, xml, VIR_STORAGE_POOL_CREATE_WITH_BUILD);
		if (!pool) {
			lv_fail(e, uri, "cannot create the storage pool " LV_POOL " (" LV_POOL_DIR ")");
			return NULL;
		}
	}
	if (virStoragePoolRefresh(pool, 0) < 0) {
		virStoragePoolFree(pool);
		lv_fail(e, uri, "cannot refresh the storage pool " LV_POOL);
		return NULL;
	}
	return pool;
}

int vm_libvirt_upload(const char *uri, const char *path, const char *volname, char *volpath, size_t len,
		      bool *uploaded, struct err *e)
{
	uri = default_uri(uri);
	*uploaded = false;
	pthread_once(&lv_once, lv_init_once);
	if (!lv_ready)
		return err_set(e, "libvirt: cannot initialise the library: %s", lv_last_error());
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		int errno_was = errno;
		if (fd >= 0)
			close(fd);
		errno = errno_was ? errno_was : EINVAL;
		return err_sys(e, "%s: cannot be read to upload", path);
	}
	virConnectPtr conn = virConnectOpen(uri);
	if (!conn) {
		close(fd);
		return lv_fail(e, uri, "cannot connect");
	}
	/* a dead remote connection is noticed in about 15 s, not never */
	virConnectSetKeepAlive(conn, 5, 3);
	int r = -1;
	virStoragePoolPtr pool = upload_pool(conn, uri, e);
	virStorageVolPtr vol = NULL;
	virStreamPtr stream = NULL;
	if (!pool)
		goto out;
	vol = virStorageVolLookupByName(pool, volname);
	virStorageVolInfo vi;
	/* the name is the file's cache key: the same name and size is the same
	 * file, uploaded before */
	if (vol && virStorageVolGetInfo(vol, &vi) == 0 && vi.capacity == (unsigned long long)st.st_size &&
	    vi.allocation >= (unsigned long long)st.st_size / 2)
		goto path;
	if (vol) {
		virStorageVolDelete(vol, 0);
		virStorageVolFree(vol);
	}
	char xml[1024];
	snprintf(xml, sizeof(xml),
		 "<volume><name>%s</name><capacity unit='bytes'>%lld</capacity><target><format type='raw'/></target>"
		 "</volume>", volname, (long long)st.st_size);
	vol = virStorageVolCreateXML(pool, xml, 0);
	if (!vol) {
		lv_fail(e, uri, "cannot create a volume to upload to");
		goto out;
	}
	stream = virStreamNew(conn, 0);
	if (!stream || virStorageVolUpload(vol, stream, 0, (unsigned long long)st.st_size, 0) < 0 ||
	    virStreamSendAll(stream, upload_chunk, &fd) < 0 || virStreamFinish(stream) < 0) {
		lv_fail(e, uri, "cannot upload");
		if (stream)
			virStreamAbort(stream);
		virStorageVolDelete(vol, 0);
		goto out;
	}
	*uploaded = true;
path:;
	char *p = virStorageVolGetPath(vol);
	if (!p) {
		lv_fail(e, uri, "cannot read the uploaded volume's path");
		goto out;
	}
	snprintf(volpath, len, "%s", p);
	free(p);
	r = 0;
out:
	if (r < 0) {
		char was[sizeof(e->msg)];  /* never a message that is its own argument */
		snprintf(was, sizeof(was), "%s", e->msg);
		err_set(e, "%s (uploading %s as %s)", was, path, volname);
	}
	if (stream)
		virStreamFree(stream);
	if (vol)
		virStorageVolFree(vol);
	if (pool)
		virStoragePoolFree(pool);
	virConnectClose(conn);
	close(fd);
	return r;
}

const struct vm_ops vm_libvirt_ops = {
	.name = "libvirt",
	.start = lv_start,
	.region = lv_region,
	.set_requested = lv_set_requested,
	.get_size = lv_get_size,
	.wait_event = lv_wait_event,
	.alive = lv_alive,
	.stop = lv_stop,
};
