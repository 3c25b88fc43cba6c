#define _GNU_SOURCE
#include "run/run.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "link/guest-link.h"
#include "run/classify.h"
#include "run/snapshot.h"
#include "util/units.h"

#define PLUG_TIMEOUT_MS 120000
#define SHUTDOWN_TIMEOUT_MS 10000
#define GUEST_IDLE_S 600
#define SNAPSHOT_SAVE_TIMEOUT_MS 120000

void run_options_default(struct run_options *o)
{
	memset(o, 0, sizeof(*o));
	o->qemu = "qemu-system-x86_64";
	o->backend = "qemu";
	o->accel = ACCEL_AUTO;
	o->kick_ms = 1000;
	o->settle_kicks = 2;
	o->busy_ms = 15000;
}

/* The kernel parameters of the scenario's modes (virtio_mem.* reach the
 * module through the guest's finit_module, guest/system.c). */
void run_mode_params(const struct scenario *s, char *buf, size_t len)
{
	const struct scn_modes *m = &s->modes;
	size_t n = 0;
	buf[0] = 0;
#define PARAM(...) (n += (size_t)snprintf(buf + n, n < len ? len - n : 0, " " __VA_ARGS__))
	const char *state = s->zone == ZONE_KERNEL ? "online_kernel" : "online_movable";
	if (m->online == ONLINE_AUTO_MOVABLE)
		state = "online";
	else if (m->online == ONLINE_GUEST)
		state = "offline";
	PARAM("memhp_default_state=%s", state);
	if (m->online == ONLINE_AUTO_MOVABLE)
		PARAM("memory_hotplug.online_policy=auto-movable");
	if (m->auto_movable_ratio >= 0)
		PARAM("memory_hotplug.auto_movable_ratio=%d", m->auto_movable_ratio);
	if (m->memmap_on_memory >= 0)
		PARAM("memory_hotplug.memmap_on_memory=%d", m->memmap_on_memory);
	if (m->driver == DRIVER_BBM)
		PARAM("virtio_mem.force_bbm=1");
	if (m->bbm_block_size)
		PARAM("virtio_mem.bbm_block_size=%" PRIu64, m->bbm_block_size);
	if (m->bbm_safe_unplug >= 0)
		PARAM("virtio_mem.bbm_safe_unplug=%d", m->bbm_safe_unplug);
#undef PARAM
	if (n >= len)
		buf[0] = 0;  /* cannot happen with the sizes above; never half a parameter */
}

void run_cmdline(const struct scenario *s, const char *extra, char *buf, size_t len)
{
	/* quiet: the serial console is slow under TCG; panic=-1 with QEMU's
	 * -no-reboot turns a guest panic into QEMU's exit, never a hang;
	 * no_timer_check: on a loaded host the emulated IO-APIC timer can
	 * miss the kernel's boot-time check, which then panics ("IO-APIC +
	 * timer doesn't work"). */
	char modes[400];
	run_mode_params(s, modes, sizeof(modes));
	snprintf(buf, len, "console=ttyS0 quiet panic=-1 no_timer_check%s vmemstress.idle=%d%s%s%s%s", modes, GUEST_IDLE_S,
		 s->kernel_cmdline[0] ? " " : "", s->kernel_cmdline, extra && *extra ? " " : "", extra ? extra : "");
}


/* The end of the console log, sanitised, for error reports. When it holds
 * a panic, oops or BUG, start at that line: the cause is worth more than
 * the tail of a stack trace. */
static void console_tail(const char *outdir, char *buf, size_t len)
{
	static const char *const markers[] = { "Kernel panic", "BUG:", "Oops:", "general protection fault",
					       "WARNING:", NULL };
	char path[600], raw[16384];
	snprintf(path, sizeof(path), "%s/console.log", outdir);
	buf[0] = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	off_t size = lseek(fd, 0, SEEK_END);
	off_t from = size > (off_t)sizeof(raw) - 1 ? size - (off_t)sizeof(raw) + 1 : 0;
	ssize_t n = pread(fd, raw, sizeof(raw) - 1, from);
	close(fd);
	if (n <= 0)
		return;
	raw[n] = 0;
	/* drop NULs and control characters but newlines */
	size_t o = 0;
	for (ssize_t i = 0; i < n; i++)
		if (raw[i] == '\n' || (raw[i] >= 0x20 && raw[i] < 0x7f))
			raw[o++] = raw[i];
	raw[o] = 0;
	char *start = NULL;
	for (int i = 0; markers[i] && !start; i++)
		start = strstr(raw, markers[i]);
	if (start) {
		while (start > raw && start[-1] != '\n')
			start--;
	} else {
		start = o > len - 1 ? raw + o - (len - 1) : raw;
		if (start > raw && (start = strchr(start, '\n')))
			start++;
		else if (!start)
			start = raw;
	}
	snprintf(buf, len, "%s", start);
	size_t l = strlen(buf);
	while (l > 0 && buf[l - 1] == '\n')
		buf[--l] = 0;
}

struct ctx {
	const struct run_options *o;
	const struct scenario *s;
	struct report *r;
	struct vm vm;
	struct guest_link link;
	FILE *guest_log;
	const char *pop_names[VMS_MAX_POPULATIONS];
	struct state_expect expect;
	char sockdir[32];
	struct snapshot snap;
	bool have_snap;
	bool plug_by_qmp;          /* the VM started with an empty device: ask for the initial size */
	bool restored;             /* the VM came from a boot snapshot */
	bool no_restore;           /* boot cold even when a snapshot is there */
	/* offline_pages()'s failures seen in this step's states so far: the
	 * guest reports each once, and a step reads several states */
	struct offline_failure_seen step_offline[VMS_MAX_OFFLINE_FAILURES];
	size_t nstep_offline;
	/* how long the kernel took to show its first sign in this step's first
	 * wait that had one: the scale of a later wait in which it shows none
	 * (after a release that freed nothing, nothing is traced at all) */
	uint64_t step_first_sign;
	/* isolation refused a block in which no page it could have refused
	 * was found: a transient refusal (a page on its way to the LRU, a
	 * short-lived kernel allocation) looks the same to the kick, so quiet
	 * kicks alone do not settle the wait that follows */
	bool refusals_unexplained;
	/* the guest's last word on an offlining attempt under way that makes
	 * no progress: for how long (-1: none) */
	int64_t stalled_ms;
};

static int fail_in(struct ctx *c, const char *phase, struct err *e)
{
	snprintf(c->r->phase, sizeof(c->r->phase), "%s", phase);
	snprintf(c->r->error, sizeof(c->r->error), "%s", e->msg);
	c->r->status = vms_interrupted ? RUN_INTERRUPTED : RUN_ERROR;
	return -1;
}

/* The kernel's offlining activity seen by the guest (a counter that moves
 * while it tries), -1 when the guest cannot tell, -3 when the driver
 * marked its device broken (it will never try again), -2 on error. */
static int64_t guest_activity(struct ctx *c, struct err *e)
{
	struct json_object *msg;
	int64_t n = -1;
	if (guest_send(&c->link, proto_cmd_activity(), e) < 0 ||
	    guest_expect(&c->link, "activity", now_ms() + 10000, &msg, e) < 0)
		return -2;
	bool broken = false;
	int r = proto_activity(msg, &n, &broken, &c->stalled_ms, e);
	json_object_put(msg);
	if (r == 0 && broken)
		return -3;
	return r < 0 ? -2 : n;
}

/* How long the evidence rules of wait_size() let the kernel go without
 * moving the size: busy_ms, or six times what it took to show the first
 * sign in this wait when that is longer (a loaded machine). */
static uint64_t evidence_ms(const struct ctx *c, uint64_t first_sign)
{
	return 6 * first_sign > c->o->busy_ms ? 6 * first_sign : c->o->busy_ms;
}

/* How long the kernel may sit inside one offlining attempt (isolated, not
 * undone) with nothing traced before the attempt counts as stuck: a third
 * of busy_ms, or twice its first sign in this wait when longer (the first
 * sign is often a whole memory block's removal, not a measure of a slow
 * machine). A 2 MiB attempt that progresses traces its migrations within a
 * second here; the guest measures the stall on its own clock. */
static bool attempt_stuck(const struct ctx *c, uint64_t first_sign)
{
	uint64_t floor = c->o->busy_ms / 3;
	return c->stalled_ms >= 0 && (uint64_t)c->stalled_ms >= (2 * first_sign > floor ? 2 * first_sign : floor);
}

/* Wait until the device's size equals `target`, bounded by timeout_ms.
 * When neither the size moves nor the kernel is trying any more, rewrite
 * requested-size (the "kick"): the guest driver then retries at once
 * instead of on its 50-300 s timer. A kick counts as quiet only when the
 * guest's trace shows the kernel tried after it and failed; settle_kicks
 * quiet kicks in a row end the wait (returns 1), once the size has not
 * moved for three times what the kernel took to show its first sign in
 * this wait (a loaded machine is slow to retry, too), or for evidence_ms()
 * when patient or when a refusal at isolation had no page to explain it
 * (c->refusals_unexplained). A kick the kernel did not
 * act on at all (busy machine, or a kernel without the kprobes that see a
 * refusal at isolation) is not quiet: the next comes after a longer pause, and
 * settle_kicks+1 of those in a row settle the wait too, once the kernel
 * showed any sign in this wait (or, in a wait where it shows none, such as
 * after a release that freed nothing, in an earlier wait of the step) and
 * the size has not moved for evidence_ms(), or the guest sees the kernel
 * inside one offlining attempt with nothing traced for long enough
 * (attempt_stuck(): a livelock). A kernel that keeps trying without moving the size that
 * long is refusing, not progressing (a retry loop on a block that cannot
 * go): its activity no longer holds off the kicks. Without tracing in the guest,
 * the size alone decides, with more patience. Once the size is down to
 * `enough` (above target: after a release, what was there less the blocks
 * that release could free), the rest settled before: one more kick, and
 * the wait ends after a pause without progress. */
static int wait_size(struct ctx *c, uint64_t target, uint64_t enough, uint64_t timeout_ms, bool kick,
		     uint64_t *size, unsigned *kicks, struct err *e)
{
	uint64_t start = now_ms(), deadline = start + timeout_ms, last_change = start, last_report = start;
	uint64_t last_size_change = start;
	/* how long the kernel took to show anything in this wait: on a slow or
	 * loaded machine the evidence rules below wait that much longer */
	uint64_t first_sign = 0;
	uint64_t last = UINT64_MAX, last_poll = 0, pause_ms = c->o->kick_ms;
	int64_t last_activity = -1;
	bool activity_known = kick, tried = false;
	unsigned quiet_kicks = 0, untouched = 0, settle = c->o->settle_kicks;
	bool soft = false;  /* down to `enough`: settling the rest quickly */
	*kicks = 0;
	for (;;) {
		if (c->vm.ops->get_size(&c->vm, size, e) < 0)
			return -1;
		report_sample(c->r, target, *size);
		uint64_t now = now_ms();
		if (*size != last) {
			if (last != UINT64_MAX && !first_sign)
				first_sign = now - start;
			if (first_sign && !c->step_first_sign)
				c->step_first_sign = first_sign;
			last = *size;
			last_change = last_size_change = now;
			quiet_kicks = untouched = 0;
			tried = true;
			pause_ms = c->o->kick_ms;
		}
		if (*size == target)
			return 0;
		if (enough > target && *size <= enough && !soft && !c->o->settle_patient) {
			/* all the release could free went; the rest settled before
			 * it: one more kick, one pause, and the wait ends */
			soft = true;
			quiet_kicks = untouched = 0;
			settle = 1;
			pause_ms = c->o->kick_ms;
			last_change = now - pause_ms;
		}
		if (vms_interrupted)
			return err_set(e, "interrupted");
		if (now >= deadline)
			return 1;
		if (activity_known && now - last_poll >= 500) {
			int64_t a = guest_activity(c, e);
			if (a == -2)
				return -1;
			if (a == -3) {  /* the kernel's answer: nothing will move any more */
				debug("the driver marked its device broken: the wait ends");
				return 1;
			}
			if (a < 0) {
				activity_known = false;  /* no trace in this guest: size alone */
				settle = c->o->settle_kicks * 3;
			} else if (last_activity >= 0 && a != last_activity) {
				tried = true;
				untouched = 0;
				if (!first_sign)
					first_sign = now - start;
				if (!c->step_first_sign)
					c->step_first_sign = first_sign;
				if (now - last_size_change < evidence_ms(c, first_sign) || c->o->settle_patient)
					last_change = now;  /* the kernel is trying: not quiet */
			}
			last_activity = a;
			last_poll = now;
		}
		if (kick && now - last_change >= pause_ms) {
			if (tried || !activity_known) {
				/* settled: the kernel tried and nothing moved, for at least
				 * three times as long as it took to show its first sign */
				if (quiet_kicks >= settle && now - last_size_change >= 3 * first_sign &&
				    (!(c->refusals_unexplained || c->o->settle_patient) ||
				     now - last_size_change >= evidence_ms(c, first_sign)))
					return 1;
				quiet_kicks++;
				untouched = 0;
				pause_ms = c->o->kick_ms;
			} else {
				/* no reaction: a busy machine, or a block refused before any
				 * traced attempt (an unmovable page found at isolation). Give
				 * it longer each time; untouched across settle+1 kicks with
				 * growing pauses, it is settled */
				uint64_t sign = first_sign ? first_sign : c->step_first_sign;
				bool long_enough = soft || (sign && now - last_size_change >= evidence_ms(c, sign));
				/* the worker sits inside one attempt that makes no
				 * progress: no kick can reach it, one untouched is enough */
				bool stuck = sign && attempt_stuck(c, sign);
				if (!c->o->settle_patient &&
				    ((long_enough && (untouched > settle || (soft && untouched))) || (stuck && untouched)))
					return 1;
				untouched++;
				if (pause_ms < 16 * c->o->kick_ms)
					pause_ms *= 2;
			}
			if (c->vm.ops->set_requested(&c->vm, target, e) < 0)
				return -1;
			(*kicks)++;
			tried = false;
			last_change = now;
			debug("kick %u: size still %" PRIu64 " (quiet %u)", *kicks, *size, quiet_kicks);
		}
		if (now - last_report >= 5000) {
			char a[32], b[32];
			progress("  size %s, requested %s", format_size(*size, a, sizeof(a)), format_size(target, b, sizeof(b)));
			last_report = now;
		}
		if (c->vm.ops->wait_event(&c->vm, 250, e) < 0)
			return -1;
	}
}

/* The kernel's version for [expect release ...]: Debian names its package
 * version in uname -v ("... Debian 6.1.192-3 ..."), its uname -r only the
 * ABI (6.1.0-57); other kernels' uname -r starts with the version. */
static void kernel_version(const struct guest_hello *h, char *buf, size_t len)
{
	const char *d = strstr(h->version, "Debian ");
	const char *v = d && d[7] >= '0' && d[7] <= '9' ? d + 7 : h->kernel;
	snprintf(buf, len, "%.*s", (int)strspn(v, "0123456789."), v);
}

/* Start the VM (booting it, or restoring vc->incoming) with its sockets
 * in a private 0700 directory: nobody else can talk to QMP. */
static int start_vm(struct ctx *c, const struct vm_config *vc0, uint64_t deadline, struct err *e)
{
	snprintf(c->sockdir, sizeof(c->sockdir), "/tmp/vmemstress.XXXXXX");
	if (!mkdtemp(c->sockdir)) {
		err_sys(e, "mkdtemp %s", c->sockdir);
		c->sockdir[0] = 0;
		return -1;
	}
	struct vm_config vc = *vc0;
	vc.sockdir = c->sockdir;
	int rc = c->vm.ops->start(&c->vm, &vc, deadline, e);
	/* the backend holds its connections now: the directory can go before
	 * anything can kill us with SIGKILL (empty, or rmdir fails harmlessly) */
	if (rmdir(c->sockdir) == 0)
		c->sockdir[0] = 0;
	snprintf(c->r->accel, sizeof(c->r->accel), "%s", c->vm.accel);
	snprintf(c->r->hypervisor, sizeof(c->r->hypervisor), "%s", c->vm.hypervisor);
	return rc;
}

/* A restore that failed: its QEMU stopped and its logs kept aside
 * (qmp-restore.log, qemu-restore.log), for the cold boot that follows. */
static void abandon_restore(struct ctx *c)
{
	c->vm.ops->stop(&c->vm);
	c->vm.guest_fd = -1;
	if (c->sockdir[0] && rmdir(c->sockdir) == 0)
		c->sockdir[0] = 0;
	const char *names[] = { "qmp", "qemu", "console" };
	for (int i = 0; i < 3; i++) {
		char from[700], to[700];
		snprintf(from, sizeof(from), "%s/%s.log", c->o->outdir, names[i]);
		snprintf(to, sizeof(to), "%s/%s-restore.log", c->o->outdir, names[i]);
		rename(from, to);
	}
}

/* --snapshot-dir: restore the VM when a valid snapshot is there. 1 when
 * restored (*hello set), 0 when the run must boot cold (the report says
 * why), -1 on a failure that ends the run (interrupted). */
static int try_restore(struct ctx *c, const struct vm_config *vc, uint64_t deadline, struct json_object **hello)
{
	struct report *r = c->r;
	struct err e = { "" };
	char why[400];
	enum snapshot_found f = snapshot_lookup(&c->snap, hello, why, sizeof(why));
	if (f == SNAPSHOT_NONE) {
		snprintf(r->snapshot_outcome, sizeof(r->snapshot_outcome), "none");
		return 0;
	}
	if (f == SNAPSHOT_REJECTED) {
		snprintf(r->snapshot_outcome, sizeof(r->snapshot_outcome), "rejected");
		snprintf(r->snapshot_detail, sizeof(r->snapshot_detail), "%s", why);
		progress("snapshot %.16s rejected (%s): booting cold", c->snap.key, why);
		snapshot_discard(&c->snap);
		return 0;
	}
	struct vm_config rv = *vc;
	rv.incoming = c->snap.mig;
	uint64_t t = now_ms();
	progress("restoring %s", c->snap.mig);
	if (start_vm(c, &rv, deadline, &e) == 0) {
		r->snapshot_restore_ms = now_ms() - t;
		snprintf(r->snapshot_outcome, sizeof(r->snapshot_outcome), "restored");
		snprintf(r->boot_kind, sizeof(r->boot_kind), "restored");
		snapshot_touch(&c->snap);
		return 1;
	}
	json_object_put(*hello);
	*hello = NULL;
	snprintf(r->snapshot_outcome, sizeof(r->snapshot_outcome), "restore-failed");
	abandon_restore(c);
	/* QEMU's own words, its log's last line ("load of migration failed: ...") */
	char path[700], *log = NULL, last[200] = "";
	struct err ignored;
	snprintf(path, sizeof(path), "%s/qemu-restore.log", c->o->outdir);
	if (read_text_file(path, 1 << 20, "log", &log, &ignored) == 0) {
		size_t n = strlen(log);
		while (n > 0 && log[n - 1] == '\n')
			log[--n] = 0;
		char *l = strrchr(log, '\n');
		l = l ? l + 1 : log;
		for (size_t i = 0; l[i] && i + 1 < sizeof(last); i++)
			last[i] = l[i] >= 0x20 && l[i] < 0x7f ? l[i] : '?';
		last[strnlen(l, sizeof(last) - 1)] = 0;
		free(log);
	}
	snprintf(r->snapshot_detail, sizeof(r->snapshot_detail), "%s%s%s%s", e.msg, last[0] ? " (qemu-restore.log: " : "",
		 last, last[0] ? ")" : "");
	progress("restoring snapshot %.16s failed (%s): booting cold", c->snap.key, r->snapshot_detail);
	if (vms_interrupted)
		return -1;
	snapshot_discard(&c->snap);
	return 0;
}

static int phase_boot(struct ctx *c, uint64_t t0)
{
	struct err e = { "" };
	struct report *r = c->r;
	char cmdline[1200];
	run_cmdline(c->s, c->o->extra_cmdline, cmdline, sizeof(cmdline));
	struct vm_config vc = {
		.kernel = c->o->kernel, .initrd = c->o->initrd, .cmdline = cmdline, .qemu = c->o->qemu,
		.kernel_on_host = c->o->kernel_on_host, .initrd_on_host = c->o->initrd_on_host,
		.connect_uri = c->o->connect_uri,
		.accel = c->o->accel, .cpus = c->s->cpus, .boot_memory = c->s->boot_memory,
		.region_size = c->s->region_size, .initial_size = c->s->initial_size,
		.block_size = c->s->block_size, .outdir = c->o->outdir,
		.mem_backend = c->s->modes.backend, .prealloc = c->s->modes.prealloc,
		.unplugged_inaccessible = c->s->modes.unplugged_inaccessible,
	};
	uint64_t timeout = c->o->boot_timeout_ms ? c->o->boot_timeout_ms : c->s->boot_timeout_ms;
	uint64_t deadline = t0 + timeout;
	snprintf(r->boot_kind, sizeof(r->boot_kind), "cold");
	struct json_object *msg = NULL;
	int restored = 0;
	if (c->o->snapshot_dir && c->vm.ops->save) {
		/* the VM saved and restored is the idle guest before plug: the
		 * device starts empty, phase_plug asks for the initial size */
		r->snapshot_on = true;
		vc.initial_size = 0;
		c->plug_by_qmp = true;
		if (snapshot_prepare(&c->snap, c->o->snapshot_dir, &vc, &e) < 0) {
			snprintf(r->snapshot_outcome, sizeof(r->snapshot_outcome), "off");
			snprintf(r->snapshot_detail, sizeof(r->snapshot_detail), "%s", e.msg);
			progress("warning: no boot snapshot: %s", e.msg);
		} else {
			c->have_snap = true;
			snprintf(r->snapshot_key, sizeof(r->snapshot_key), "%s", c->snap.key);
			snprintf(r->snapshot_file, sizeof(r->snapshot_file), "%s", c->snap.mig);
			restored = c->no_restore ? 0 : try_restore(c, &vc, deadline, &msg);
			c->restored = restored > 0;
			if (restored < 0) {
				err_set(&e, "interrupted");
				return fail_in(c, "boot", &e);
			}
		}
	} else if (c->o->snapshot_dir) {
		r->snapshot_on = true;
		snprintf(r->snapshot_outcome, sizeof(r->snapshot_outcome), "off");
		snprintf(r->snapshot_detail, sizeof(r->snapshot_detail), "the %s backend does not save VMs",
			 c->vm.ops->name);
	}
	if (!restored) {
		progress("booting %s (%s)", c->o->kernel, c->vm.ops->name);
		if (start_vm(c, &vc, deadline, &e) < 0)
			return fail_in(c, "boot", &e);
	}
	guest_link_init(&c->link, &c->vm, c->guest_log);
	if (restored) {
		if (c->guest_log) {
			fprintf(c->guest_log, "# restored from snapshot %s; its hello: %s\n", c->snap.key,
				json_object_to_json_string_ext(msg, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
			fflush(c->guest_log);
		}
	} else if (guest_expect(&c->link, "hello", deadline, &msg, &e) < 0) {
		if (!vms_interrupted && now_ms() >= deadline)
			err_set(&e, "the guest did not say hello within %" PRIu64 " s (accel %s)", timeout / 1000,
				c->vm.accel[0] ? c->vm.accel : "?");
		return fail_in(c, "boot", &e);
	}
	struct guest_hello h;
	int pr = proto_hello(msg, &h, &e);
	if (pr < 0) {
		json_object_put(msg);
		return fail_in(c, "boot", &e);
	}
	snprintf(r->kernel_release, sizeof(r->kernel_release), "%s", h.kernel);
	kernel_version(&h, r->kernel_version, sizeof(r->kernel_version));
	snprintf(r->guest_program, sizeof(r->guest_program), "%s", h.program);
	r->memory_block_size = h.memory_block_size;
	r->guest_boot_ms = h.uptime_ms;
	r->have_driver = h.driver_mode[0] || h.driver_params[0];
	snprintf(r->driver_mode, sizeof(r->driver_mode), "%s", h.driver_mode);
	r->driver_unit = h.driver_unit;
	snprintf(r->driver_params, sizeof(r->driver_params), "%s", h.driver_params);
	r->boot_ms = now_ms() - t0;
	progress("guest up: kernel %s, %s, accel %s (%.1f s, %s)", h.kernel, h.program, c->vm.accel,
		 (double)r->boot_ms / 1000, restored ? "restored from a snapshot" : "booted");
	if (c->have_snap && !restored) {
		/* the idle guest, before plug: saved for the next run of this VM */
		uint64_t t = now_ms();
		struct err se = { "" };
		int sr = snapshot_save(&c->snap, &c->vm, msg, t + SNAPSHOT_SAVE_TIMEOUT_MS, &se);
		r->snapshot_save_ms = now_ms() - t;
		if (sr < 0) {
			snprintf(r->snapshot_save_error, sizeof(r->snapshot_save_error), "%s", se.msg);
			progress("warning: boot snapshot not saved: %s", se.msg);
			char why[200];
			if (!c->vm.ops->alive(&c->vm, why, sizeof(why))) {
				json_object_put(msg);
				err_set(&e, "saving the boot snapshot: %s", why);
				return fail_in(c, "boot", &e);
			}
		} else {
			r->snapshot_saved = sr == 0;
			progress("boot snapshot %s %s (%.1f s)", c->snap.path, sr == 0 ? "saved" : "saved by another run",
				 (double)r->snapshot_save_ms / 1000);
		}
	}
	json_object_put(msg);
	return 0;
}

static int phase_plug(struct ctx *c)
{
	struct err e = { "" };
	struct report *r = c->r;
	uint64_t t = now_ms(), size;
	unsigned kicks;
	if (c->vm.ops->region(&c->vm, &r->region, &e) < 0)
		return fail_in(c, "plug", &e);
	r->have_region = true;
	if (r->region.size != c->s->region_size || r->region.block_size != c->s->block_size || !r->memory_block_size ||
	    r->region.addr % r->region.block_size) {
		err_set(&e, "the device reports region %#" PRIx64 "+%#" PRIx64 " with block size %#" PRIx64
			    ", which does not match the scenario",
			r->region.addr, r->region.size, r->region.block_size);
		return fail_in(c, "plug", &e);
	}
	if (c->plug_by_qmp && c->s->initial_size && c->vm.ops->set_requested(&c->vm, c->s->initial_size, &e) < 0)
		return fail_in(c, "plug", &e);
	int w = wait_size(c, c->s->initial_size, c->s->initial_size, PLUG_TIMEOUT_MS, false, &size, &kicks, &e);
	if (w != 0) {
		if (w > 0) {
			char a[32], b[32];
			err_set(&e, "the guest plugged only %s of %s within %d s", format_size(size, a, sizeof(a)),
				format_size(c->s->initial_size, b, sizeof(b)), PLUG_TIMEOUT_MS / 1000);
		}
		return fail_in(c, "plug", &e);
	}
	r->plugged_at_start = size;
	r->plug_ms = now_ms() - t;
	char a[32];
	progress("plugged %s (%.1f s)", format_size(size, a, sizeof(a)), (double)r->plug_ms / 1000);
	c->expect = (struct state_expect){
		.nblocks = r->region.size / r->region.block_size,
		.first_mblock = r->region.addr / r->memory_block_size,
		.last_mblock = (r->region.addr + r->region.size - 1) / r->memory_block_size,
		.npops = c->s->npops,
		.pop_names = c->pop_names,
	};
	return 0;
}

static int phase_populate(struct ctx *c)
{
	struct err e = { "" };
	struct report *r = c->r;
	uint64_t t = now_ms(), total = 0;
	struct json_object *cmd = proto_cmd_setup(c->s, &r->region);
	for (int i = 0; i < c->s->npops; i++)
		total += c->s->pops[i].size;
	char a[32];
	progress("populating %d population%s, %s", c->s->npops, c->s->npops == 1 ? "" : "s",
		 format_size(total, a, sizeof(a)));
	if (guest_send(&c->link, cmd, &e) < 0)
		return fail_in(c, "populate", &e);
	/* generous: TCG faults and stamps roughly 100 MiB/s on these machines */
	uint64_t deadline = now_ms() + 120000 + total / (1u << 20) * 1000;
	struct json_object *msg;
	if (guest_expect(&c->link, "state", deadline, &msg, &e) < 0)
		return fail_in(c, "populate", &e);
	int pr = proto_state(msg, &c->expect, &r->populate, &e);
	json_object_put(msg);
	if (pr < 0)
		return fail_in(c, "populate", &e);
	r->have_populate = true;
	r->populate_ms = now_ms() - t;
	progress("populated (%.1f s)", (double)r->populate_ms / 1000);
	return 0;
}

/* Ask the guest for its state; attribute: with evidence on plugged blocks. */
static int get_state(struct ctx *c, struct json_object *cmd, struct guest_state *out, struct err *e)
{
	struct json_object *msg;
	if (guest_send(&c->link, cmd, e) < 0 || guest_expect(&c->link, "state", now_ms() + 120000, &msg, e) < 0)
		return -1;
	int pr = proto_state(msg, &c->expect, out, e);
	json_object_put(msg);
	if (pr < 0)
		return pr;
	/* each state carries every failure of the step so far */
	struct evidence_summary *ev = &out->evidence;
	for (size_t i = 0; i < ev->noffline; i++) {
		size_t k;
		for (k = 0; k < c->nstep_offline; k++)
			if (c->step_offline[k].start == ev->offline[i].start && c->step_offline[k].end == ev->offline[i].end &&
			    strcmp(c->step_offline[k].reason, ev->offline[i].reason) == 0)
				break;
		if (k < c->nstep_offline)
			c->step_offline[k].count += ev->offline[i].count;
		else if (c->nstep_offline < VMS_MAX_OFFLINE_FAILURES)
			c->step_offline[c->nstep_offline++] = ev->offline[i];
	}
	memcpy(ev->offline, c->step_offline, c->nstep_offline * sizeof(ev->offline[0]));
	ev->noffline = c->nstep_offline;
	return 0;
}

/* Set the size again and wait for it: after a release the guest driver
 * then retries at once. */
/* Kick and wait again, until the step's size or, when enough is above it,
 * until the size is down to enough. */
static int kick_and_wait(struct ctx *c, const struct scn_step *step, uint64_t enough, uint64_t *size, bool *reached,
			 struct err *e)
{
	unsigned kicks;
	if (c->vm.ops->set_requested(&c->vm, step->requested, e) < 0)
		return -1;
	int w = wait_size(c, step->requested, enough, step->timeout_ms, true, size, &kicks, e);
	if (w < 0)
		return -1;
	*reached = w == 0;
	return 0;
}

/* The memory block (sysfs memoryN) that holds a device block. */
static uint64_t memory_block_of(const struct ctx *c, uint64_t block)
{
	return (c->r->region.addr + block * c->r->region.block_size) / c->r->memory_block_size;
}

static const char *block_zone_of(const struct ctx *c, const struct guest_state *st, uint64_t block)
{
	const struct mem_block *m = mblock_find(st, memory_block_of(c, block));
	return m ? m->zone : "";
}

/* Whether Linux still has memory block mb although every device block of
 * the region in it is unplugged. */
static bool mblock_left_behind(const struct ctx *c, const struct guest_state *gs, uint64_t mb)
{
	if (!mblock_find(gs, mb))
		return false;
	uint64_t bs = c->r->region.block_size, mbs = c->r->memory_block_size;
	uint64_t from = mb * mbs, to = from + mbs;
	if (from < c->r->region.addr)
		from = c->r->region.addr;
	if (to > c->r->region.addr + c->r->region.size)
		to = c->r->region.addr + c->r->region.size;
	for (uint64_t b = (from - c->r->region.addr) / bs; b < (to - c->r->region.addr) / bs && b < gs->nblocks; b++)
		if (gs->map[b] != VMS_BLOCK_UNPLUGGED_C)
			return false;
	return true;
}

/* The memory blocks left behind: still added, nothing plugged in them.
 * The driver offlines and removes a memory block as soon as its last
 * device block is unplugged, so one that stays means that removal failed
 * and was not done since. */
static size_t left_behind(const struct ctx *c, const struct guest_state *gs, uint64_t *out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < gs->nmblocks && n < max; i++)
		if (mblock_left_behind(c, gs, gs->mblocks[i].index))
			out[n++] = gs->mblocks[i].index;
	return n;
}

/* Whether a verdict's block is still there: plugged, or for a memory
 * block left behind, still added. */
static bool verdict_stays(const struct ctx *c, const struct block_verdict *v, const struct guest_state *gs)
{
	return v->left_behind ? mblock_left_behind(c, gs, v->mblock) : gs->map[v->block] == VMS_BLOCK_PLUGGED_C;
}

/* How far confirming a step's stuck blocks has got: the guest's state
 * after the last release or offline, the device's size then, and whether
 * the step's requested size was reached after all. */
struct confirmation {
	struct guest_state cur;
	uint64_t size;
	bool reached;
};

/* Offline memory blocks through sysfs, each bounded by timeout_ms;
 * results into res (at most 64). Returns how many went offline. */
static int sysfs_offline(struct ctx *c, const uint64_t *mblocks, int n, unsigned timeout_ms,
			 struct offline_result *res, struct err *e)
{
	struct json_object *msg;
	if (guest_send(&c->link, proto_cmd_offline(mblocks, n, timeout_ms), e) < 0 ||
	    guest_expect(&c->link, "offline", now_ms() + 30000 + (timeout_ms + 3000ull) * (uint64_t)n, &msg, e) < 0)
		return -1;
	int pr = proto_offline(msg, mblocks, n, res, e);
	json_object_put(msg);
	if (pr < 0)
		return -1;
	int offlined = 0;
	for (int i = 0; i < n; i++)
		offlined += strcmp(res[i].result, "offlined") == 0;
	return offlined;
}

/* driver = sysfs: offline the region's online memory blocks from the top
 * until enough are offline for the step's requested size (one that
 * refuses is passed over for the next), each bounded by 5 s; the driver
 * then takes offline memory first when requested-size drops. Results,
 * when res is given, go there (at most 64). */
static int sysfs_offline_for_step(struct ctx *c, const struct scn_step *step, const struct guest_state *now,
				  uint64_t size, struct offline_result *res, int *nres, struct err *e)
{
	uint64_t mbs = c->r->memory_block_size, cand[64];
	int ncand = 0;
	for (size_t i = now->nmblocks; i-- > 0 && ncand < 64;)
		if (strcmp(now->mblocks[i].state, "online") == 0)
			cand[ncand++] = now->mblocks[i].index;
	uint64_t want = size > step->requested ? (size - step->requested + mbs - 1) / mbs : 0;
	unsigned timeout = step->timeout_ms < 5000 ? (unsigned)step->timeout_ms : 5000;
	int done = 0, tried = 0;
	progress("step %s: sysfs offline, %" PRIu64 " memory block%s wanted of %d online", step->name, want,
		 want == 1 ? "" : "s", ncand);
	while ((uint64_t)done < want && tried < ncand) {
		int batch = (int)(want - (uint64_t)done);
		if (batch > ncand - tried)
			batch = ncand - tried;
		struct offline_result out[64];
		int r = sysfs_offline(c, cand + tried, batch, timeout, out, e);
		if (r < 0)
			return -1;
		for (int i = 0; i < batch && res && *nres < 64; i++)
			res[(*nres)++] = out[i];
		done += r;
		tried += batch;
	}
	return done;
}

/* The unit a block stays with when another of it is refused: a big block
 * in Big Block Mode, a memory block for sysfs offline; in device blocks. */
static uint64_t unplug_unit(const struct ctx *c, const struct scn_step *step)
{
	uint64_t bs = c->r->region.block_size, unit = bs;
	if (strcmp(c->r->driver_mode, "bbm") == 0 && c->r->driver_unit > unit)
		unit = c->r->driver_unit;
	if (step->driver == STEP_SYSFS && c->r->memory_block_size > unit)
		unit = c->r->memory_block_size;
	return bs ? unit / bs : 1;
}

/* A reason for each block that stayed, from what the kernel shows, and
 * one for each memory block left behind. */
static void name_reasons(struct ctx *c, const struct scn_step *step, struct step_report *st)
{
	const struct guest_state *gs = &st->state;
	uint64_t *left = xcalloc(gs->nmblocks ? gs->nmblocks : 1, sizeof(*left));
	size_t nleft = left_behind(c, gs, left, gs->nmblocks);
	st->nverdicts = gs->nstuck + nleft;
	st->verdicts = xcalloc(st->nverdicts ? st->nverdicts : 1, sizeof(*st->verdicts));
	for (size_t i = 0; i < gs->nstuck; i++) {
		struct block_verdict *v = &st->verdicts[i];
		classify_block(c->s, gs, &gs->stuck[i], block_zone_of(c, gs, gs->stuck[i].block), v);
		for (int k = 0; k < st->noffline; k++)  /* sysfs was the path itself */
			if (st->offlined[k].index == memory_block_of(c, v->block))
				snprintf(v->sysfs, sizeof(v->sysfs), "%s", st->offlined[k].result);
	}
	classify_units(st->verdicts, gs->nstuck, unplug_unit(c, step));
	/* what is left without a page's reason: offline_pages()'s own words */
	for (size_t i = 0; i < gs->nstuck; i++) {
		uint64_t start = c->r->region.addr + st->verdicts[i].block * c->r->region.block_size;
		classify_offline_refused(gs, start, start + c->r->region.block_size - 1, &st->verdicts[i]);
	}
	for (size_t i = 0; i < nleft; i++) {
		struct block_verdict *v = &st->verdicts[gs->nstuck + i];
		const struct mem_block *m = mblock_find(gs, left[i]);
		uint64_t from = left[i] * c->r->memory_block_size;
		if (from < c->r->region.addr)
			from = c->r->region.addr;
		v->block = (from - c->r->region.addr) / c->r->region.block_size;
		v->left_behind = true;
		v->mblock = left[i];
		v->owner = -1;
		v->released_by = -1;
		v->known_bug = -1;
		v->unit_of = -1;
		v->reason = VMS_REASON_MEMORY_BLOCK_NOT_REMOVED;
		snprintf(v->basis, sizeof(v->basis), "memory-blocks");
		snprintf(v->evidence, sizeof(v->evidence),
			 "memory block %" PRIu64 " (%s%s%s) is still added to Linux with every device block in it "
			 "unplugged: its offlining and removal failed, and nothing removed it since",
			 left[i], m->state, m->zone[0] ? ", " : "", m->zone);
		char words[200];
		uint64_t mstart = left[i] * c->r->memory_block_size;
		offline_failure_words(gs, mstart, mstart + c->r->memory_block_size - 1, words, sizeof(words));
		if (words[0])
			snprintf(v->evidence + strlen(v->evidence), sizeof(v->evidence) - strlen(v->evidence), "; %s",
				 words);
	}
	classify_driver_gave_up(gs, st->verdicts, st->nverdicts);
	free(left);
}

/* The driver removes a memory block right after it unplugged its last
 * device block, in the same run of its worker (and after a release and a
 * kick, in the next run): give a removal under way up to 5 s before
 * calling a memory block left behind. Refreshes *gs. */
static int settle_left_behind(struct ctx *c, const char *label, bool attribute, struct guest_state *gs,
			      struct err *e)
{
	uint64_t left[1];
	for (int i = 0; i < 5 && left_behind(c, gs, left, 1); i++) {
		if (c->vm.ops->wait_event(&c->vm, 1000, e) < 0)
			return -1;
		guest_state_free(gs);
		if (get_state(c, proto_cmd_state(label, attribute), gs, e) < 0)
			return -1;
	}
	return 0;
}

/* Whether some memory block left behind is still added in gs. */
static bool any_left_behind(const struct ctx *c, const struct step_report *st, const struct guest_state *gs)
{
	for (size_t i = 0; i < st->nverdicts; i++)
		if (st->verdicts[i].left_behind && verdict_stays(c, &st->verdicts[i], gs))
			return true;
	return false;
}

/* A block isolation refused (the guest's kprobes) with no page in it that
 * could be why: none named by the kernel, none found by the guest's scan. */
static bool refusals_unexplained(const struct guest_state *gs)
{
	for (size_t i = 0; i < gs->nstuck; i++) {
		const struct stuck_block *sb = &gs->stuck[i];
		if (sb->isolation_refusals && !sb->nunmovable && !sb->nbusy && !sb->ndumped)
			return true;
	}
	return false;
}

/* Release population p, set the size again and see which blocks went. */
static int release_and_watch(struct ctx *c, const struct scn_step *step, struct step_report *st, int p,
			     struct confirmation *k, struct err *e)
{
	const char *name = c->s->pops[p].name;
	char label[128];
	progress("step %s: releasing %s", step->name, name);
	snprintf(label, sizeof(label), "%s: released %s", step->name, name);
	struct guest_state rel;
	if (get_state(c, proto_cmd_release(label, &name, 1), &rel, e) < 0)
		return -1;
	/* a release confirms nothing unless it dropped a hold */
	char dropped[sizeof(rel.pops[p].dropped)];
	snprintf(dropped, sizeof(dropped), "%s", rel.pops[p].dropped);
	guest_state_free(&rel);  /* its data checks count in the state after the kick */
	snprintf(st->released[st->nreleased++], sizeof(st->released[0]), "%s", name);
	if (step->driver == STEP_SYSFS) {  /* the same path again: offline first */
		const struct guest_state *now = st->nreleased > 1 ? &k->cur : &st->state;
		if (sysfs_offline_for_step(c, step, now, k->size, NULL, NULL, e) < 0)
			return -1;
	}
	/* wait only for what this release could free: the blocks still plugged
	 * that it owns or that hold any of its pages (a transient holder's
	 * busy page may have been free by the time it was measured) */
	const struct guest_state *before = st->nreleased > 1 ? &k->cur : &st->state;
	uint64_t its = 0;
	for (size_t i = 0; i < st->nverdicts; i++) {
		const struct block_verdict *v = &st->verdicts[i];
		size_t nh, h0 = held_find(before, v->block, &nh);
		bool holds = v->owner == p;
		for (size_t h = h0; h < h0 + nh && !holds; h++)
			holds = before->held[h].pop == p;
		its += holds && before->map[v->block] == VMS_BLOCK_PLUGGED_C;
	}
	its *= c->r->region.block_size;
	uint64_t enough = k->size > its ? k->size - its : 0;
	/* memory blocks left behind the driver may now be removing */
	bool removing = any_left_behind(c, st, before);
	if (kick_and_wait(c, step, enough > step->requested ? enough : step->requested, &k->size, &k->reached, e) < 0)
		return -1;
	/* Reading /proc/kpageflags (the guest's block map) while the kernel
	 * removes a memory block oopses 6.1 in stable_page_flags() on the
	 * memmap being freed (2 guest crashes in 38 runs of offline-nack on
	 * the fixed kernel, the one whose console was kept this oops): give
	 * the removal 2 s before asking. */
	for (uint64_t until = now_ms() + 2000, now; removing && (now = now_ms()) < until;)
		if (c->vm.ops->wait_event(&c->vm, (int)(until - now), e) < 0)
			return -1;
	guest_state_free(&k->cur);
	if (get_state(c, proto_cmd_state(label, true), &k->cur, e) < 0)
		return -1;
	if (!k->reached && !c->o->settle_patient && refusals_unexplained(&k->cur)) {
		/* as in the step's own wait: a refusal no page explains (pages
		 * the release just let go, on their way back to the LRU) is
		 * given the patience of an unanswered kick */
		progress("step %s: isolation refused blocks with no page in them it could refuse: waiting longer",
			 step->name);
		c->refusals_unexplained = true;
		int w = kick_and_wait(c, step, enough > step->requested ? enough : step->requested, &k->size, &k->reached, e);
		c->refusals_unexplained = false;
		guest_state_free(&k->cur);
		if (w < 0 || get_state(c, proto_cmd_state(label, true), &k->cur, e) < 0)
			return -1;
	}
	if (any_left_behind(c, st, &k->cur) && settle_left_behind(c, label, true, &k->cur, e) < 0)
		return -1;
	for (size_t i = 0; i < st->nverdicts; i++) {
		struct block_verdict *v = &st->verdicts[i];
		v->confirm_tried = true;
		bool went = !verdict_stays(c, v, &k->cur);
		if (v->released_by < 0 && went && dropped[0])
			v->released_by = p;
		if (v->owner == p || (v->left_behind && v->released_by < 0))
			snprintf(v->confirm, sizeof(v->confirm), "release of %s %s%s%s", name,
				 dropped[0] ? "dropped a hold (" : "dropped nothing", dropped, dropped[0] ? ")" : "");
		/* what the kernel did once nothing refused any more: the driver
		 * ran again (the kick) and left the memory block where it was */
		if (v->left_behind && !went && dropped[0] && !strstr(v->evidence, "; still added after"))
			snprintf(v->evidence + strlen(v->evidence), sizeof(v->evidence) - strlen(v->evidence),
				 "; still added after the release of %s dropped a hold and the driver ran again", name);
	}
	return 0;
}

/* The release loop: each population that owns a stuck block, in scenario
 * order, until the step's size is reached. */
static int release_owners(struct ctx *c, const struct scn_step *step, struct step_report *st,
			  struct confirmation *k, struct err *e)
{
	const struct guest_state *gs = &st->state;
	for (int p = 0; p < c->s->npops; p++) {
		/* a memory block left behind holds no page, so it has no owner:
		 * every population with a release is released in turn while
		 * one stays */
		bool left = any_left_behind(c, st, st->nreleased ? &k->cur : gs);
		if (k->reached && !left)
			break;
		/* it owns a stuck block, or has pages in one whose named page
		 * was not its (a transient holder's page can be free by the
		 * time it is read): its release may free the block either way */
		bool owns = false;
		for (size_t i = 0; i < st->nverdicts && !owns; i++) {
			size_t nh, h0 = held_find(gs, st->verdicts[i].block, &nh);
			owns = st->verdicts[i].owner == p;
			for (size_t h = h0; h < h0 + nh && !owns; h++)
				owns = gs->held[h].pop == p;
		}
		if (!owns && !(left && gs->pops[p].has_release))
			continue;
		if (!gs->pops[p].has_release) {
			for (size_t i = 0; i < st->nverdicts; i++)
				if (st->verdicts[i].owner == p)
					snprintf(st->verdicts[i].confirm, sizeof(st->verdicts[i].confirm),
						 "no release available for %s", c->s->pops[p].name);
			continue;
		}
		if (release_and_watch(c, step, st, p, k, e) < 0)
			return -1;
	}
	return 0;
}

/* What the blocks that still stay after the releases hold now. */
static void census_still_staying(const struct ctx *c, struct step_report *st, const struct guest_state *cur)
{
	for (size_t i = 0; i < st->nverdicts; i++) {
		struct block_verdict *v = &st->verdicts[i];
		v->stayed_after_release = st->nreleased && v->released_by < 0 && verdict_stays(c, v, cur);
		for (size_t k = 0; v->stayed_after_release && k < cur->nstuck; k++)
			if (cur->stuck[k].block == v->block)
				census_words(&cur->stuck[k], v->after, sizeof(v->after));
	}
}

/* Second opinion on what stays: sysfs offline of its memory block, then
 * the size set again when one went offline. Returns how many memory blocks
 * were tried (0: none, nothing asked), or -1. */
static int sysfs_second_opinion(struct ctx *c, const struct scn_step *step, struct step_report *st,
				struct confirmation *k, struct err *e)
{
	uint64_t mblocks[64];
	int nmb = 0;
	const struct guest_state *now = st->nreleased ? &k->cur : &st->state;
	for (size_t i = 0; i < st->nverdicts && !k->reached; i++) {
		if (now->map[st->verdicts[i].block] != VMS_BLOCK_PLUGGED_C)
			continue;
		uint64_t mb = memory_block_of(c, st->verdicts[i].block);
		bool dup = false;
		for (int j = 0; j < nmb; j++)
			dup |= mblocks[j] == mb;
		if (!dup && nmb < 64)
			mblocks[nmb++] = mb;
	}
	if (nmb == 0)
		return 0;
	progress("step %s: sysfs offline of %d memory block%s (second opinion)", step->name, nmb, nmb == 1 ? "" : "s");
	struct offline_result res[64];
	if (sysfs_offline(c, mblocks, nmb, 5000, res, e) < 0)
		return -1;
	for (size_t i = 0; i < st->nverdicts; i++) {
		struct block_verdict *v = &st->verdicts[i];
		if (now->map[v->block] != VMS_BLOCK_PLUGGED_C)
			continue;
		uint64_t mb = memory_block_of(c, v->block);
		for (int j = 0; j < nmb; j++)
			if (mblocks[j] == mb)
				snprintf(v->sysfs, sizeof(v->sysfs), "%s", res[j].result);
		block_signature(v);
	}
	/* only an offlined memory block can change the size now */
	bool offlined = false;
	for (int j = 0; j < nmb; j++)
		offlined |= strcmp(res[j].result, "offlined") == 0;
	if (offlined && kick_and_wait(c, step, step->requested, &k->size, &k->reached, e) < 0)
		return -1;
	guest_state_free(&k->cur);
	char label[128];
	snprintf(label, sizeof(label), "%s: after sysfs offline", step->name);
	if (get_state(c, proto_cmd_state(label, false), &k->cur, e) < 0)
		return -1;
	return nmb;
}

/* Blocks stayed: name a reason for each, then confirm by intervention:
 * release the populations that own them one by one and see which blocks
 * go; for what still stays, ask sysfs offline for a second opinion. */
static int attribute_and_confirm(struct ctx *c, const struct scn_step *step, struct step_report *st, struct err *e)
{
	struct confirmation k = { .size = st->size_after, .reached = st->reached };
	name_reasons(c, step, st);
	if (release_owners(c, step, st, &k, e) < 0)
		return -1;
	census_still_staying(c, st, &k.cur);
	/* a sysfs step took that path already: no second opinion from it */
	int nmb = step->driver == STEP_SYSFS ? 0 : sysfs_second_opinion(c, step, st, &k, e);
	if (nmb < 0)
		return -1;
	if (st->nreleased || nmb) {
		st->final = k.cur;
		st->have_final = true;
		st->size_final = k.size;
		st->reached_final = k.reached;
		char a[32];
		progress("step %s: after release%s: size %s", step->name, nmb ? " and sysfs offline" : "",
			 format_size(k.size, a, sizeof(a)));
	}
	return 0;
}

/* Wait up to timeout_ms for the step's size (kicks added to the step's),
 * and say where it stands; t: when the step began. */
static int step_wait(struct ctx *c, const struct scn_step *step, struct step_report *st, uint64_t t,
		     uint64_t timeout_ms, struct err *e)
{
	unsigned kicks;
	char a[32];
	int w = wait_size(c, step->requested, step->requested, timeout_ms, true, &st->size_after, &kicks, e);
	st->kicks += kicks;
	st->elapsed_ms = now_ms() - t;
	if (w < 0)
		return -1;
	st->reached = w == 0;
	progress("step %s: size %s after %.1f s%s", step->name, format_size(st->size_after, a, sizeof(a)),
		 (double)st->elapsed_ms / 1000, st->reached ? "" : " (NOT reached)");
	return 0;
}

static int phase_step(struct ctx *c, const struct scn_step *step)
{
	struct err e = { "" };
	struct report *r = c->r;
	struct step_report *st = &r->steps[r->nsteps++];
	char phase[64], a[32], b[32];
	snprintf(phase, sizeof(phase), "step %s", step->name);
	snprintf(st->name, sizeof(st->name), "%s", step->name);
	st->requested = step->requested;
	c->nstep_offline = 0;
	c->step_first_sign = 0;
	uint64_t t = now_ms();
	if (c->vm.ops->get_size(&c->vm, &st->size_before, &e) < 0)
		return fail_in(c, phase, &e);
	if (step->driver == STEP_SYSFS) {
		/* the memory blocks as they are now */
		struct guest_state now;
		if (get_state(c, proto_cmd_state(step->name, false), &now, &e) < 0)
			return fail_in(c, phase, &e);
		int off = sysfs_offline_for_step(c, step, &now, st->size_before, st->offlined, &st->noffline, &e);
		guest_state_free(&now);
		if (off < 0)
			return fail_in(c, phase, &e);
	}
	progress("step %s: requested-size %s (now %s)", step->name, format_size(step->requested, a, sizeof(a)),
		 format_size(st->size_before, b, sizeof(b)));
	if (c->vm.ops->set_requested(&c->vm, step->requested, &e) < 0)
		return fail_in(c, phase, &e);
	st->kicks = 0;
	if (step_wait(c, step, st, t, step->timeout_ms, &e) < 0 ||
	    get_state(c, proto_cmd_state(step->name, !st->reached), &st->state, &e) < 0)
		return fail_in(c, phase, &e);
	if (!st->reached && !c->o->settle_patient && refusals_unexplained(&st->state)) {
		/* quiet kicks settled it, but on a refusal no page explains:
		 * give it the patience of a kick the kernel did not answer,
		 * within what is left of the step's timeout */
		progress("step %s: isolation refused blocks with no page in them it could refuse: waiting longer",
			 step->name);
		uint64_t spent = now_ms() - t;
		c->refusals_unexplained = true;
		int w = step_wait(c, step, st, t, step->timeout_ms > spent ? step->timeout_ms - spent : 1000, &e);
		c->refusals_unexplained = false;
		guest_state_free(&st->state);
		if (w < 0 || get_state(c, proto_cmd_state(step->name, !st->reached), &st->state, &e) < 0)
			return fail_in(c, phase, &e);
	}
	if (settle_left_behind(c, step->name, !st->reached, &st->state, &e) < 0)
		return fail_in(c, phase, &e);
	st->have_state = true;
	uint64_t left[1];
	if (((!st->reached && st->state.attributed) || left_behind(c, &st->state, left, 1)) &&
	    attribute_and_confirm(c, step, st, &e) < 0)
		return fail_in(c, phase, &e);
	return 0;
}

/* Keep the guest's kernel log as kernel.log (the console is quiet). Not
 * having it weakens nothing the verdict rests on: a warning at most. */
static void save_kernel_log(struct ctx *c)
{
	struct err e = { "" };
	struct json_object *msg = NULL;
	char path[700];
	snprintf(path, sizeof(path), "%s/kernel.log", c->o->outdir);
	FILE *f = NULL;
	if (guest_send(&c->link, proto_cmd_kernel_log(), &e) < 0 ||
	    guest_expect(&c->link, "kernel-log", now_ms() + 15000, &msg, &e) < 0 || !(f = fopen_output(path)) ||
	    proto_kernel_log(msg, f, &e) < 0)
		debug("no kernel.log: %s", e.msg[0] ? e.msg : strerror(errno));
	if (f)
		fclose(f);
	json_object_put(msg);
}

static void phase_shutdown(struct ctx *c)
{
	struct err e;
	if (c->vm.guest_fd >= 0 && c->r->status == RUN_COMPLETE) {
		save_kernel_log(c);
		if (guest_send(&c->link, proto_cmd_poweroff(), &e) == 0) {
			char why[200];
			uint64_t deadline = now_ms() + SHUTDOWN_TIMEOUT_MS;
			while (c->vm.ops->alive(&c->vm, why, sizeof(why)) && now_ms() < deadline && !vms_interrupted)
				c->vm.ops->wait_event(&c->vm, 100, &e);
		}
	}
	c->vm.ops->stop(&c->vm);
	if (c->sockdir[0])
		rmdir(c->sockdir);
}

/* A restored guest that died before any work of ours (a panic at once, in
 * plug): its snapshot is not trusted. It is removed, and the run boots cold
 * (saving a new one) and plugs again; the report says so. 1 when that
 * worked. */
static bool boot_again_cold(struct ctx *c, uint64_t t0)
{
	struct report *r = c->r;
	char detail[sizeof(r->snapshot_detail)];
	snprintf(detail, sizeof(detail), "the restored guest died before plug (%s)", r->error);
	progress("snapshot %.16s: %s; removed, booting cold", c->snap.key, detail);
	snapshot_discard(&c->snap);
	snapshot_free(&c->snap);
	abandon_restore(c);
	guest_link_free(&c->link);
	r->status = RUN_COMPLETE;
	r->phase[0] = r->error[0] = 0;
	r->ntimeline = 0;
	r->have_region = false;
	c->no_restore = true;
	bool ok = phase_boot(c, t0) == 0 && phase_plug(c) == 0;
	snprintf(r->snapshot_outcome, sizeof(r->snapshot_outcome), "restore-failed");
	snprintf(r->snapshot_detail, sizeof(r->snapshot_detail), "%s", detail);
	return ok;
}

int run_scenario(const struct run_options *o, const struct scenario *s, struct report *r)
{
	struct err e = { "" };
	struct ctx c = { .o = o, .s = s, .r = r, .stalled_ms = -1 };
	uint64_t t0 = now_ms();
	const struct vm_ops *ops = o->backend && strcmp(o->backend, "libvirt") == 0 ? &vm_libvirt_ops : &vm_qemu_ops;
	snprintf(r->backend, sizeof(r->backend), "%s", ops->name);
	snprintf(r->kernel, sizeof(r->kernel), "%s", o->kernel);
	snprintf(r->outdir, sizeof(r->outdir), "%s", o->outdir);
	for (int i = 0; i < s->npops; i++)
		c.pop_names[i] = s->pops[i].name;
	c.vm.ops = ops;
	c.vm.guest_fd = -1;

	if (make_dirs(o->outdir, &e) < 0) {
		fail_in(&c, "setup", &e);
		report_evaluate(r);
		return report_exit_status(r);
	}
	char path[600];
	snprintf(path, sizeof(path), "%s/guest.log", o->outdir);
	if (!(c.guest_log = fopen_output(path))) {
		err_sys(&e, "cannot write %s", path);
		fail_in(&c, "setup", &e);
		report_evaluate(r);
		return report_exit_status(r);
	}

	int ok = phase_boot(&c, t0) == 0 && phase_plug(&c) == 0;
	char why[200];
	if (!ok && c.restored && !vms_interrupted && !c.vm.ops->alive(&c.vm, why, sizeof(why)))
		ok = boot_again_cold(&c, t0);
	if (ok && phase_populate(&c) == 0)
		for (int i = 0; i < s->nsteps; i++)
			if (phase_step(&c, &s->steps[i]) < 0)
				break;
	phase_shutdown(&c);
	snapshot_free(&c.snap);
	guest_link_free(&c.link);
	if (c.guest_log)
		fclose(c.guest_log);
	if (r->status != RUN_COMPLETE)
		console_tail(o->outdir, r->console_tail, sizeof(r->console_tail));
	r->total_ms = now_ms() - t0;
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru) == 0) {
		r->host_cpu_ms = (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
				 (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
		r->host_max_rss_kb = (uint64_t)ru.ru_maxrss;
	}
	report_evaluate(r);
	return report_exit_status(r);
}
