/* vmemstress-guest: runs as /init in the test VM. It loads the virtio
 * modules, then serves the host over a virtio-serial port: builds the
 * scenario's populations inside the virtio-mem region, and after each unplug
 * step says where every page is, which blocks went, and whether every page
 * still holds its data. docs/protocol.md describes the messages. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "../common/protocol.h"
#include "channel.h"
#include "kernel-log.h"
#include "driver.h"
#include "population.h"
#include "probe.h"
#include "region.h"
#include "state.h"
#include "system.h"

#ifndef VMS_VERSION
#define VMS_VERSION "dev"
#endif

#define MODULE_DIR "/lib/modules/vmemstress"
#define SEND_TIMEOUT_MS 30000
/* Without a word from the host for this long, power off rather than wait
 * forever (vmemstress.idle=SECONDS on the kernel command line). */
#define DEFAULT_IDLE_S 600
/* Right after populate nothing has moved yet: a sample of the stamps (every
 * 16th page) shows the setup is right; every step and release checks all. */
#define POPULATE_STRIDE 16

static struct channel chan;
static bool chan_ok;
static struct population pops[VMS_MAX_POPULATIONS];
static int npops;
static struct region region;
static bool have_region;
static struct evidence evidence;
/* Test-only faults (vmemstress.fault=NAME on the kernel command line), so
 * the host's defences and the integrity check can be shown to work:
 *   garbage-hello  send a line that is not JSON instead of the hello
 *   corrupt-page   overwrite one population page right after populate
 *                  (the verify of every later state must count it)
 *   crash          the guest program dies of a real segfault after populate
 *                  (PID 1 dying panics the kernel)
 *   hang           the guest program stops answering after populate
 *   panic          the kernel panics (sysrq-c) when the host first asks for
 *                  activity during a step
 *   undeclared-hold  after populate, the first 16 pages of the first
 *                  population are vmspliced into a pipe nobody reads and
 *                  nothing declares it: the kernel's counters must show a
 *                  reference nobody accounts for */
static char fault[32];

static void send_or_log(struct json_object *msg)
{
	struct err e;
	if (chan_ok && channel_send(&chan, msg, SEND_TIMEOUT_MS, &e) < 0)
		glog("cannot send to host: %s", e.msg);
	json_object_put(msg);
}

static void send_error(const char *what, const char *msg)
{
	glog("%s: %s", what, msg);
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "type", json_object_new_string("error"));
	json_object_object_add(o, "in", json_object_new_string(what));
	json_object_object_add(o, "message", json_object_new_string(msg));
	send_or_log(o);
}

__attribute__((noreturn)) static void fatal(const char *what, const char *msg)
{
	send_error(what, msg);
	for (int i = 0; i < npops; i++)
		pop_free(&pops[i]);
	system_power_off();
}

static void send_hello(void)
{
	struct utsname u;
	char mbs[64] = "", thp[128] = "";
	uname(&u);
	read_small_file("/sys/devices/system/memory/block_size_bytes", mbs, sizeof(mbs));
	if (read_small_file("/sys/kernel/mm/transparent_hugepage/enabled", thp, sizeof(thp)) < 0)
		snprintf(thp, sizeof(thp), "absent");  /* PREEMPT_RT, or not built */
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "type", json_object_new_string("hello"));
	json_object_object_add(o, "proto", json_object_new_int(VMS_PROTO_VERSION));
	json_object_object_add(o, "program", json_object_new_string("vmemstress-guest " VMS_VERSION));
	json_object_object_add(o, "kernel", json_object_new_string(u.release));
	json_object_object_add(o, "version", json_object_new_string(u.version));
	json_object_object_add(o, "memory_block_size", json_object_new_int64((int64_t)strtoull(mbs, NULL, 16)));
	json_object_object_add(o, "thp", json_object_new_string(thp));
	/* the kernel's own boot time, for the harness overhead in make bench */
	char up[64];
	if (read_small_file("/proc/uptime", up, sizeof(up)) > 0)
		json_object_object_add(o, "uptime_ms", json_object_new_int64((int64_t)(strtod(up, NULL) * 1000)));
	struct json_object *types = json_object_new_array();
	for (int i = 0; population_types[i]; i++)
		json_object_array_add(types, json_object_new_string(population_types[i]->spec->name));
	json_object_object_add(o, "populations", types);
	json_object_object_add(o, "driver", driver_readback());
	send_or_log(o);
}

static int get_u64(struct json_object *obj, const char *key, uint64_t *out, struct err *e)
{
	struct json_object *v;
	if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_int))
		return err_set(e, "missing or non-integer \"%s\"", key);
	int64_t x = json_object_get_int64(v);
	if (x < 0)
		return err_set(e, "negative \"%s\"", key);
	*out = (uint64_t)x;
	return 0;
}

static int set_thp_mode(const char *mode, struct err *e)
{
	/* The kernel disables THP at boot when RAM < 512 MiB; the scenario's
	 * choice is applied explicitly, for allocation and for defrag. */
	if (write_small_file("/sys/kernel/mm/transparent_hugepage/enabled", mode) < 0)
		return err_sys(e, "set transparent_hugepage/enabled to %s", mode);
	if (strcmp(mode, "never") != 0 &&
	    write_small_file("/sys/kernel/mm/transparent_hugepage/defrag", "madvise") < 0)
		return err_sys(e, "set transparent_hugepage/defrag to madvise");
	return 0;
}

/* The host checked the scenario's options; the guest trusts no input. */
static int check_options(const struct population *p, struct err *e)
{
	if (!p->options)
		return 0;
	json_object_object_foreach(p->options, key, v) {
		const struct vms_pop_option *o = vms_pop_option_find(p->type->spec, key);
		char why[200];
		if (!o)
			return err_set(e, "population %s: %s has no option \"%s\"", p->name, p->type->spec->name, key);
		if (vms_pop_option_check(o, json_object_get_string(v), why, sizeof(why)))
			return err_set(e, "population %s: %s: %s", p->name, key, why);
	}
	return 0;
}

static int do_setup(struct json_object *cmd, struct err *e)
{
	struct json_object *reg, *list, *thp, *v0;
	uint64_t addr, size, bs, node, total = 0;
	if (have_region)
		return err_set(e, "setup was already done");
	if (!json_object_object_get_ex(cmd, "region", &reg) || !json_object_is_type(reg, json_type_object))
		return err_set(e, "setup without a \"region\" object");
	if (get_u64(reg, "addr", &addr, e) || get_u64(reg, "size", &size, e) ||
	    get_u64(reg, "block_size", &bs, e) || get_u64(reg, "node", &node, e))
		return -1;
	if (region_init(&region, addr, size, bs, (int)node, e) < 0)
		return -1;
	have_region = true;
	if (json_object_object_get_ex(cmd, "thp", &thp)) {
		const char *mode = json_object_get_string(thp);
		if (strcmp(mode, "always") && strcmp(mode, "madvise") && strcmp(mode, "never"))
			return err_set(e, "bad thp mode \"%s\"", mode);
		char why[200];
		if (probe_missing(VMS_NEEDS(THP), why, sizeof(why)))
			glog("thp = %s not applied: %s", mode, why);  /* no THP is "never" */
		else if (set_thp_mode(mode, e) < 0)
			return -1;
	}
	if (json_object_object_get_ex(cmd, "online", &v0)) {  /* online-policy = guest */
		const char *how = json_object_get_string(v0);
		if (strcmp(how, "online_movable") && strcmp(how, "online_kernel"))
			return err_set(e, "bad online \"%s\"", how);
		int n = driver_online_blocks(region.addr, region.size, region.memory_block_size, how);
		if (n < 0)
			return err_sys(e, "%s the region's offline memory blocks", how);
		glog("%s: %d memory blocks", how, n);
	}
	if (!json_object_object_get_ex(cmd, "populations", &list) || !json_object_is_type(list, json_type_array))
		return err_set(e, "setup without a \"populations\" array");
	size_t n = json_object_array_length(list);
	if (n > VMS_MAX_POPULATIONS)
		return err_set(e, "%zu populations, at most %d", n, VMS_MAX_POPULATIONS);
	for (size_t i = 0; i < n; i++) {
		struct json_object *pj = json_object_array_get_idx(list, i), *v;
		struct population *p = &pops[i];
		memset(p, 0, sizeof(*p));
		p->id = (uint16_t)i;
		if (!json_object_object_get_ex(pj, "name", &v) || !json_object_is_type(v, json_type_string) ||
		    json_object_get_string_len(v) == 0 || json_object_get_string_len(v) > VMS_MAX_NAME)
			return err_set(e, "population %zu: missing or bad \"name\"", i);
		snprintf(p->name, sizeof(p->name), "%s", json_object_get_string(v));
		if (json_object_object_get_ex(pj, "options", &v) && json_object_is_type(v, json_type_object))
			p->options = json_object_get(v);
		if (!json_object_object_get_ex(pj, "type", &v) ||
		    !(p->type = population_type_find(json_object_get_string(v))))
			return err_set(e, "population %s: unknown type \"%s\"", p->name,
				       v ? json_object_get_string(v) : "");
		if (get_u64(pj, "size", &p->size, e) < 0 || p->size == 0)
			return err_set(e, "population %s: missing or zero \"size\"", p->name);
		if (check_options(p, e) < 0)
			return -1;
		if (probe_missing(p->type->spec->needs, p->not_shown, sizeof(p->not_shown)))
			glog("population %s not shown: %s", p->name, p->not_shown);
		else
			total += p->size;
	}
	/* MPOL_BIND to a node without room would invoke the OOM killer on
	 * init; refuse instead. Twice the size leaves room for CoW copies. */
	uint64_t free_bytes = region_node_free(&region);
	if (region.node >= 0 && free_bytes < total + total / 8)
		return err_set(e, "node %d has %" PRIu64 " MiB free, the populations need %" PRIu64 " MiB",
			       region.node, free_bytes >> 20, total >> 20);
	evidence_init(&evidence);
	struct pop_env env = { .node = region.node };
	for (size_t i = 0; i < n; i++) {
		npops = (int)i + 1;
		if (pops[i].not_shown[0])
			continue;
		glog("populating %s (%s, %" PRIu64 " KiB)", pops[i].name, pops[i].type->spec->name, pops[i].size >> 10);
		if (pops[i].type->setup(&pops[i], &env, e) < 0) {
			char msg[sizeof(e->msg)];
			snprintf(msg, sizeof(msg), "%s", e->msg);
			return err_set(e, "population %s: %s", pops[i].name, msg);
		}
	}
	return 0;
}

/* Second opinion: offline memory blocks through sysfs (offline_pages(),
 * not alloc_contig_range()). That path retries until it succeeds or a
 * signal comes, so each write runs in a child with an alarm. */
static const char *offline_block(uint64_t index, unsigned timeout_ms, char *buf, size_t len)
{
	char path[96];
	snprintf(path, sizeof(path), "/sys/devices/system/memory/memory%llu/state", (unsigned long long)index);
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return "error: pipe";
	pid_t pid = fork();
	if (pid == 0) {
		alarm((timeout_ms + 999) / 1000);
		int r = write_small_file(path, "offline") == 0 ? 0 : errno;
		if (write(p[1], &r, sizeof(r)) < 0)
			_exit(1);
		_exit(0);
	}
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		snprintf(buf, len, "error: fork: %s", strerror(errno));
		return buf;
	}
	int r = -1;
	struct pollfd pfd = { p[0], POLLIN, 0 };
	if (pid > 0 && poll(&pfd, 1, (int)timeout_ms + 2000) == 1 && read(p[0], &r, sizeof(r)) != sizeof(r))
		r = EINTR;  /* killed by the alarm before answering */
	close(p[0]);
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	if (r == 0)
		return "offlined";
	if (r == EBUSY)
		return "busy";
	if (r == EINTR || r == -1)
		return "timeout";
	snprintf(buf, len, "error: %s", strerror(r));
	return buf;
}

static void do_offline(struct json_object *cmd)
{
	struct json_object *list, *v;
	unsigned timeout = json_object_object_get_ex(cmd, "timeout_ms", &v) ? (unsigned)json_object_get_int(v) : 5000;
	if (timeout > 60000)
		timeout = 60000;
	if (!json_object_object_get_ex(cmd, "memory_blocks", &list) || !json_object_is_type(list, json_type_array)) {
		send_error("offline", "offline needs a \"memory_blocks\" array");
		return;
	}
	struct json_object *out = json_object_new_object(), *res = json_object_new_array();
	json_object_object_add(out, "type", json_object_new_string("offline"));
	for (size_t i = 0; i < json_object_array_length(list) && i < 64; i++) {
		int64_t idx = json_object_get_int64(json_object_array_get_idx(list, i));
		char buf[96];
		const char *r = idx >= 0 ? offline_block((uint64_t)idx, timeout, buf, sizeof(buf)) : "error: bad index";
		glog("sysfs offline of memory%lld: %s", (long long)idx, r);
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "index", json_object_new_int64(idx));
		json_object_object_add(o, "result", json_object_new_string(r));
		json_object_array_add(res, o);
	}
	json_object_object_add(out, "results", res);
	send_or_log(out);
}

static void after_populate_fault(void)
{
	static int hidden[2] = { -1, -1 };
	/* Now, while the region's node has room: the page may still be shared
	 * with a forked child (thp-cow forks after it was filled), and a write
	 * then copies it under the population's MPOL_BIND. Written during a
	 * step, with the node unplugged, that copy found no memory and the OOM
	 * killer ended the run (1 run in 3 under load). */
	if (strcmp(fault, "corrupt-page") == 0 && npops > 0 && pops[0].nmaps > 0 && pops[0].maps[0].pid == 0) {
		glog("fault corrupt-page: overwriting page 0 of population %s", pops[0].name);
		memset((void *)pops[0].maps[0].addr, 0xA5, 64);
	}
	if (strcmp(fault, "undeclared-hold") == 0 && npops > 0 && pops[0].nmaps > 0 && pops[0].maps[0].pid == 0 &&
	    pipe2(hidden, O_CLOEXEC) == 0) {
		/* 16 pages fit a default pipe; kept open for the whole run */
		size_t n = pops[0].maps[0].npages < 16 ? pops[0].maps[0].npages : 16;
		struct iovec iov = { (void *)pops[0].maps[0].addr, n * PAGE_SIZE_4K };
		ssize_t r = vmsplice(hidden[1], &iov, 1, SPLICE_F_NONBLOCK);
		glog("fault undeclared-hold: %zd bytes of %s vmspliced, undeclared", r, pops[0].name);
	}
	if (strcmp(fault, "crash") == 0) {
		glog("fault crash: dereferencing NULL");
		*(volatile int *)(uintptr_t)0 = 1;
	} else if (strcmp(fault, "hang") == 0) {
		glog("fault hang: no more answers");
		for (;;)
			pause();
	}
}

/* Release the named populations, then answer with the state (the data
 * checks after a release count like any other). */
static void do_release(struct json_object *cmd)
{
	struct err e = { "" };
	struct json_object *list, *v;
	const char *step = json_object_object_get_ex(cmd, "step", &v) ? json_object_get_string(v) : "release";
	if (!have_region || !json_object_object_get_ex(cmd, "populations", &list) ||
	    !json_object_is_type(list, json_type_array)) {
		send_error("release", "release needs setup first and a \"populations\" array");
		return;
	}
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		const char *name = json_object_get_string(json_object_array_get_idx(list, i));
		struct population *p = NULL;
		for (int k = 0; k < npops; k++)
			if (strcmp(pops[k].name, name) == 0)
				p = &pops[k];
		if (!p) {
			char msg[128];
			snprintf(msg, sizeof(msg), "no population \"%.64s\"", name);
			send_error("release", msg);
			return;
		}
		if (p->released || !p->type->release || p->not_shown[0])
			continue;
		glog("releasing %s", p->name);
		if (p->type->release(p, &e) < 0) {
			char msg[sizeof(e.msg) + 80];
			snprintf(msg, sizeof(msg), "population %s: %s", p->name, e.msg);
			send_error("release", msg);
			return;
		}
		p->released = true;
	}
	struct json_object *st = state_build(step, &region, pops, npops, &evidence, false, 1, &e);
	if (!st)
		send_error("release", e.msg);
	else
		send_or_log(st);
}

static void handle(const char *line)
{
	struct err e = { "" };
	struct json_tokener *tok = json_tokener_new();
	struct json_object *cmd = json_tokener_parse_ex(tok, line, (int)strlen(line)), *v;
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	json_tokener_free(tok);
	if (!cmd || jerr != json_tokener_success || !json_object_is_type(cmd, json_type_object) ||
	    !json_object_object_get_ex(cmd, "cmd", &v)) {
		send_error("protocol", "host sent a line that is not a JSON object with \"cmd\"");
		json_object_put(cmd);
		return;
	}
	const char *name = json_object_get_string(v);
	if (strcmp(name, "setup") == 0) {
		uint64_t t0 = now_ms();
		if (do_setup(cmd, &e) < 0) {
			send_error("setup", e.msg);
		} else {
			struct json_object *st = state_build("populate", &region, pops, npops, &evidence, false, POPULATE_STRIDE, &e);
			if (!st) {
				send_error("setup", e.msg);
			} else {
				json_object_object_add(st, "setup_ms", json_object_new_int64((int64_t)(now_ms() - t0)));
				send_or_log(st);
				after_populate_fault();
			}
		}
	} else if (strcmp(name, "state") == 0) {
		const char *step = json_object_object_get_ex(cmd, "step", &v) ? json_object_get_string(v) : "";
		bool attribute = json_object_object_get_ex(cmd, "attribute", &v) && json_object_get_boolean(v);
		struct json_object *st =
			have_region ? state_build(step, &region, pops, npops, &evidence, attribute, 1, &e) : NULL;
		if (!st)
			send_error("state", have_region ? e.msg : "state asked before setup");
		else
			send_or_log(st);
	} else if (strcmp(name, "release") == 0) {
		do_release(cmd);
	} else if (strcmp(name, "offline") == 0) {
		do_offline(cmd);
	} else if (strcmp(name, "activity") == 0) {
		if (strcmp(fault, "panic") == 0) {
			glog("fault panic: sysrq-c");
			sync();
			write_small_file("/proc/sysrq-trigger", "c");
		}
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "type", json_object_new_string("activity"));
		int64_t events = have_region ? evidence_activity(&evidence) : -1;
		json_object_object_add(o, "events", json_object_new_int64(events));
		/* an attempt under way that makes no progress (a livelock) */
		int64_t stalled = have_region && events >= 0 ? evidence_stalled_ms(&evidence, events) : -1;
		if (stalled >= 0)
			json_object_object_add(o, "stalled_ms", json_object_new_int64(stalled));
		/* the driver's "marking device broken": no wait can end otherwise */
		if (have_region && evidence_driver_broken(&evidence))
			json_object_object_add(o, "driver_broken", json_object_new_boolean(true));
		send_or_log(o);
	} else if (strcmp(name, "kernel-log") == 0) {
		send_or_log(kernel_log_message());
	} else if (strcmp(name, "poweroff") == 0) {
		json_object_put(cmd);
		for (int i = 0; i < npops; i++)
			pop_free(&pops[i]);
		glog("powering off");
		system_power_off();
	} else {
		char msg[128];
		snprintf(msg, sizeof(msg), "unknown command \"%.64s\"", name);
		send_error("protocol", msg);
	}
	json_object_put(cmd);
}

int main(void)
{
	struct err e = { "" };
	if (system_mount(&e) < 0)
		fatal("boot", e.msg);
	glog("%s starting", "vmemstress-guest " VMS_VERSION);
	if (system_load_modules(MODULE_DIR, &e) < 0)
		fatal("modules", e.msg);
	if (channel_open(&chan, VMS_PORT_NAME, 30000, &e) < 0)
		fatal("channel", e.msg);
	chan_ok = true;
	system_cmdline_param("vmemstress.fault", fault, sizeof(fault));
	if (strcmp(fault, "garbage-hello") == 0) {
		static const char junk[] = "\x01\x02{not json at all\n";
		glog("fault garbage-hello: sending garbage");
		if (channel_write_raw(&chan, junk, sizeof(junk) - 1, now_ms() + SEND_TIMEOUT_MS, &e) < 0)
			glog("%s", e.msg);
	} else {
		send_hello();
	}

	char buf[32];
	unsigned idle_s = DEFAULT_IDLE_S;
	if (system_cmdline_param("vmemstress.idle", buf, sizeof(buf)))
		idle_s = (unsigned)strtoul(buf, NULL, 10);
	for (;;) {
		char *line;
		int r = channel_recv(&chan, &line, idle_s * 1000u, &e);
		if (r < 0)
			fatal("channel", e.msg);
		if (r == 0)
			fatal("channel", "no command from the host in time; powering off");
		handle(line);
	}
}
