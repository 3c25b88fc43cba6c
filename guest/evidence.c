#define _GNU_SOURCE
#include "evidence.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#define TRACING "/sys/kernel/tracing"

static int kmsg_fd = -1;
static int attempts_fd = -1;  /* trace_pipe of our instance */
#define INSTANCE TRACING "/instances/vmemstress"

void evidence_init(struct evidence *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->trace_ok = write_small_file(TRACING "/events/page_isolation/test_pages_isolated/enable", "1") == 0;
	if (ev->trace_ok) {
		write_small_file(TRACING "/events/migrate/mm_migrate_pages/enable", "1");
		write_small_file(TRACING "/buffer_size_kb", "4096");
	} else {
		glog("trace event page_isolation:test_pages_isolated is not available");
	}
	/* isolation refuses a range before anything else is traced (an
	 * unmovable page found by has_unmovable_pages()): our own kprobes on
	 * start_isolate_page_range() see it, with the range and the error */
	if (ev->trace_ok) {
		ev->probe_ok = write_small_file(TRACING "/kprobe_events",
						"p:vmemstress/vms_isolate_start start_isolate_page_range "
						"start_pfn=$arg1:x64 end_pfn=$arg2:x64\n"
						"r:vmemstress/vms_isolate_end start_isolate_page_range ret=$retval:s32\n") == 0 &&
			       write_small_file(TRACING "/events/vmemstress/enable", "1") == 0;
		if (!ev->probe_ok)
			glog("kprobe events on start_isolate_page_range are not available");
	}
	/* where each attempt ends, and an instance of our own for the
	 * attempts under way: its pipe is read (consumed) at each activity
	 * poll, the main buffer stays for the states */
	if (ev->probe_ok &&
	    write_small_file(TRACING "/kprobe_events", "p:vmemstress/vms_isolate_undo undo_isolate_page_range "
						       "start_pfn=$arg1:x64 end_pfn=$arg2:x64\n") == 0 &&
	    write_small_file(TRACING "/events/vmemstress/enable", "1") == 0 &&
	    (mkdir(INSTANCE, 0755) == 0 || errno == EEXIST) &&
	    write_small_file(INSTANCE "/buffer_size_kb", "256") == 0 &&
	    write_small_file(INSTANCE "/events/vmemstress/enable", "1") == 0)
		attempts_fd = open(INSTANCE "/trace_pipe", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	ev->stall_ok = attempts_fd >= 0;
	if (ev->probe_ok && !ev->stall_ok)
		glog("no kprobe on undo_isolate_page_range or no trace instance: attempts under way are not followed");
	/* where migration gets its target page: none means a migration that
	 * failed for want of memory, not for a reference */
	ev->target_ok = ev->trace_ok &&
			write_small_file(TRACING "/kprobe_events", "r:vmemstress/vms_target_end alloc_migration_target "
								   "ret=$retval:x64\n") == 0 &&
			write_small_file(TRACING "/events/vmemstress/vms_target_end/enable", "1") == 0;
	if (ev->trace_ok && !ev->target_ok)
		glog("no kprobe on alloc_migration_target: a migration target not found is not seen");
	mkdir("/sys/kernel/debug", 0755);
	mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
	ev->dump_ok = write_small_file("/sys/kernel/debug/dynamic_debug/control",
				       "func alloc_contig_dump_pages +p") == 0;
	if (!ev->dump_ok)
		glog("dynamic debug of alloc_contig_dump_pages is not available");
	/* offline_pages() says why it failed, in a pr_debug */
	ev->offline_ok = write_small_file("/sys/kernel/debug/dynamic_debug/control", "func offline_pages +p") == 0;
	if (!ev->offline_ok)
		glog("dynamic debug of offline_pages is not available");
	kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (kmsg_fd < 0)
		ev->dump_ok = ev->offline_ok = false;
	evidence_reset(ev);
}

void evidence_reset(struct evidence *ev)
{
	if (ev->trace_ok) {
		int fd = open(TRACING "/trace", O_WRONLY | O_TRUNC | O_CLOEXEC);
		if (fd >= 0)
			close(fd);
	}
	if (kmsg_fd >= 0)
		lseek(kmsg_fd, 0, SEEK_END);
	ev->isolation_events = ev->nfails = ev->nmigrate = ev->ndumps = ev->noffline = 0;
	ev->nrefusals = 0;
	ev->isolate_calls = 0;
	ev->target_calls = ev->target_failures = 0;
	memset(ev->pending, 0, sizeof(ev->pending));
}

static void add_migrate(struct evidence *ev, const struct migrate_event *m)
{
	size_t i;
	for (i = 0; i < ev->nmigrate; i++)
		if (strcmp(ev->migrate[i].reason, m->reason) == 0)
			break;
	if (i == ev->nmigrate) {
		if (ev->nmigrate == EV_MAX_REASONS)
			return;
		ev->migrate[ev->nmigrate++] = (struct migrate_event){ 0 };
		snprintf(ev->migrate[i].reason, sizeof(ev->migrate[i].reason), "%s", m->reason);
	}
	ev->migrate[i].succeeded += m->succeeded;
	ev->migrate[i].failed += m->failed;
	ev->migrate[i].thp_succeeded += m->thp_succeeded;
	ev->migrate[i].thp_failed += m->thp_failed;
	ev->migrate[i].thp_split += m->thp_split;
}

/* Pair start_isolate_page_range()'s start and end events by the task's
 * pid: a start waits in pending; an end returns true with its start. */
static bool pair_isolate(struct isolate_probe *pending, const struct isolate_probe *p, struct isolate_probe *start)
{
	struct isolate_probe *slot = NULL;
	for (size_t i = 0; i < EV_MAX_PENDING && !slot; i++)
		if (pending[i].pid == p->pid && pending[i].end_pfn)
			slot = &pending[i];
	if (!p->is_end) {
		for (size_t i = 0; i < EV_MAX_PENDING && !slot; i++)
			if (!pending[i].end_pfn)
				slot = &pending[i];
		if (slot)
			*slot = *p;
		return false;
	}
	if (!slot)
		return false;  /* its start came before we looked */
	*start = *slot;
	slot->end_pfn = 0;
	return true;
}

void evidence_attempt_line(struct evidence *ev, const char *line, uint64_t now)
{
	struct isolate_probe p, start;
	if (kev_parse_isolate_probe(line, &p) != 1)
		return;
	if (p.is_undo) {
		for (size_t i = 0; i < EV_MAX_PENDING; i++)
			if (ev->open[i].end_pfn && ev->open[i].start_pfn == p.start_pfn && ev->open[i].end_pfn == p.end_pfn)
				ev->open[i].end_pfn = 0;
		return;
	}
	if (!pair_isolate(ev->stall_pending, &p, &start) || p.ret != 0)
		return;  /* a start, or refused: nothing isolated, nothing under way */
	for (size_t i = 0; i < EV_MAX_PENDING; i++)
		if (!ev->open[i].end_pfn) {
			ev->open[i] = (struct open_attempt){ start.start_pfn, start.end_pfn, now };
			return;
		}
}

int64_t evidence_stalled_ms(struct evidence *ev, int64_t events)
{
	if (attempts_fd < 0)
		return -1;
	uint64_t now = now_ms();
	static char carry[512];
	static size_t ncarry;
	char buf[8192];
	ssize_t n;
	while ((n = read(attempts_fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] != '\n') {
				if (ncarry < sizeof(carry) - 1)
					carry[ncarry++] = buf[i];
				continue;
			}
			carry[ncarry] = 0;
			evidence_attempt_line(ev, carry, now);
			ncarry = 0;
		}
	}
	if (events != ev->act_last) {
		ev->act_last = events;
		ev->act_changed_ms = now;
	}
	uint64_t since = 0;
	for (size_t i = 0; i < EV_MAX_PENDING; i++)
		if (ev->open[i].end_pfn && (!since || ev->open[i].since_ms < since))
			since = ev->open[i].since_ms;
	if (!since)
		return -1;
	if (ev->act_changed_ms > since)
		since = ev->act_changed_ms;
	return (int64_t)(now - since);
}

static void add_isolate_probe(struct evidence *ev, const struct isolate_probe *p)
{
	if (p->is_undo)
		return;  /* the states count refusals only */
	ev->isolate_calls += !p->is_end;
	struct isolate_probe start;
	if (!pair_isolate(ev->pending, p, &start) || p->ret == 0)
		return;
	size_t i;
	for (i = 0; i < ev->nrefusals; i++)
		if (ev->refusals[i].start_pfn == start.start_pfn && ev->refusals[i].end_pfn == start.end_pfn &&
		    ev->refusals[i].err == p->ret && strcmp(ev->refusals[i].caller, p->caller) == 0)
			break;
	if (i == ev->nrefusals) {
		if (ev->nrefusals == EV_MAX_REFUSALS)
			return;
		ev->refusals[ev->nrefusals++] = (struct isolate_refusal){ .start_pfn = start.start_pfn,
									   .end_pfn = start.end_pfn,
									   .err = p->ret };
		snprintf(ev->refusals[i].caller, sizeof(ev->refusals[i].caller), "%s", p->caller);
	}
	ev->refusals[i].count++;
}

uint64_t evidence_isolation_refusals(const struct evidence *ev, uint64_t pfn, uint64_t n,
				     const struct isolate_refusal **first)
{
	uint64_t count = 0;
	*first = NULL;
	for (size_t i = 0; i < ev->nrefusals; i++)
		if (ev->refusals[i].start_pfn < pfn + n && ev->refusals[i].end_pfn > pfn) {
			count += ev->refusals[i].count;
			if (!*first)
				*first = &ev->refusals[i];
		}
	return count;
}

void evidence_trace_line(struct evidence *ev, const char *line)
{
	struct isolation_event iso;
	struct migrate_event mig;
	struct isolate_probe probe;
	bool none;
	if (kev_parse_target_probe(line, &none) == 1) {
		ev->target_calls++;
		ev->target_failures += none;
	} else if (kev_parse_isolate_probe(line, &probe) == 1) {
		add_isolate_probe(ev, &probe);
	} else if (kev_parse_isolation(line, &iso) == 1) {
		ev->isolation_events++;
		if (iso.failed && ev->nfails < EV_MAX_FAILS)
			ev->fails[ev->nfails++] = iso;
	} else if (kev_parse_migrate(line, &mig) == 1) {
		add_migrate(ev, &mig);
	}
}

static void collect_trace(struct evidence *ev)
{
	FILE *f = fopen(TRACING "/trace", "r");
	if (!f)
		return;
	char line[512];
	while (fgets(line, sizeof(line), f))
		evidence_trace_line(ev, line);
	fclose(f);
}

static void add_offline(struct evidence *ev, const struct offline_failure *f)
{
	size_t i;
	for (i = 0; i < ev->noffline; i++)
		if (ev->offline[i].start == f->start && ev->offline[i].end == f->end &&
		    strcmp(ev->offline[i].reason, f->reason) == 0)
			break;
	if (i == ev->noffline) {
		if (ev->noffline == EV_MAX_OFFLINE)
			return;
		ev->offline[ev->noffline] = *f;
		ev->offline_count[ev->noffline++] = 0;
	}
	ev->offline_count[i]++;
}

static void collect_kmsg(struct evidence *ev)
{
	char rec[1024];
	struct dumped_page cur;
	bool in = false;
	for (;;) {
		ssize_t n = read(kmsg_fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;  /* records were overwritten: go on with the next */
		if (n <= 0)
			break;
		rec[n] = 0;
		if (kev_parse_dump_line(rec, &cur, &in) == 1 && ev->ndumps < EV_MAX_DUMPS)
			ev->dumps[ev->ndumps++] = cur;
		struct offline_failure f;
		int rc;
		if (kev_parse_offline_failure(rec, &f) == 1)
			add_offline(ev, &f);
		else if (!ev->driver_broken[0])
			kev_parse_driver_broken(rec, ev->driver_broken, sizeof(ev->driver_broken), &rc);
	}
}

bool evidence_driver_broken(struct evidence *ev)
{
	if (kmsg_fd >= 0 && !ev->driver_broken[0])
		collect_kmsg(ev);
	return ev->driver_broken[0] != 0;
}

void evidence_collect(struct evidence *ev)
{
	if (ev->trace_ok)
		collect_trace(ev);
	if (kmsg_fd >= 0)
		collect_kmsg(ev);
}

struct json_object *evidence_summary(const struct evidence *ev)
{
	struct json_object *o = json_object_new_object(), *mig = json_object_new_array();
	json_object_object_add(o, "trace", json_object_new_boolean(ev->trace_ok));
	json_object_object_add(o, "dump_page", json_object_new_boolean(ev->dump_ok));
	json_object_object_add(o, "isolation_events", json_object_new_int64((int64_t)ev->isolation_events));
	json_object_object_add(o, "isolation_failures", json_object_new_int64((int64_t)ev->nfails));
	json_object_object_add(o, "dumped_pages", json_object_new_int64((int64_t)ev->ndumps));
	for (size_t i = 0; i < ev->nmigrate; i++) {
		const struct migrate_event *m = &ev->migrate[i];
		struct json_object *j = json_object_new_object();
		json_object_object_add(j, "reason", json_object_new_string(m->reason));
		json_object_object_add(j, "succeeded", json_object_new_int64((int64_t)m->succeeded));
		json_object_object_add(j, "failed", json_object_new_int64((int64_t)m->failed));
		json_object_object_add(j, "thp_succeeded", json_object_new_int64((int64_t)m->thp_succeeded));
		json_object_object_add(j, "thp_failed", json_object_new_int64((int64_t)m->thp_failed));
		json_object_object_add(j, "thp_split", json_object_new_int64((int64_t)m->thp_split));
		json_object_array_add(mig, j);
	}
	json_object_object_add(o, "migrate", mig);
	json_object_object_add(o, "offline_pages", json_object_new_boolean(ev->offline_ok));
	struct json_object *off = json_object_new_array();
	for (size_t i = 0; i < ev->noffline; i++) {
		struct json_object *j = json_object_new_object();
		json_object_object_add(j, "start", json_object_new_int64((int64_t)ev->offline[i].start));
		json_object_object_add(j, "end", json_object_new_int64((int64_t)ev->offline[i].end));
		json_object_object_add(j, "reason", json_object_new_string(ev->offline[i].reason));
		json_object_object_add(j, "count", json_object_new_int64((int64_t)ev->offline_count[i]));
		json_object_array_add(off, j);
	}
	json_object_object_add(o, "offline_failures", off);
	json_object_object_add(o, "isolate_probe", json_object_new_boolean(ev->probe_ok));
	json_object_object_add(o, "isolate_calls", json_object_new_int64((int64_t)ev->isolate_calls));
	struct json_object *ref = json_object_new_array();
	for (size_t i = 0; i < ev->nrefusals; i++) {
		const struct isolate_refusal *r = &ev->refusals[i];
		struct json_object *j = json_object_new_object();
		json_object_object_add(j, "start_pfn", json_object_new_int64((int64_t)r->start_pfn));
		json_object_object_add(j, "end_pfn", json_object_new_int64((int64_t)r->end_pfn));
		json_object_object_add(j, "error", json_object_new_int(r->err));
		json_object_object_add(j, "caller", json_object_new_string(r->caller));
		json_object_object_add(j, "count", json_object_new_int64((int64_t)r->count));
		json_object_array_add(ref, j);
	}
	json_object_object_add(o, "isolation_refusals", ref);
	json_object_object_add(o, "target_probe", json_object_new_boolean(ev->target_ok));
	json_object_object_add(o, "target_calls", json_object_new_int64((int64_t)ev->target_calls));
	json_object_object_add(o, "target_failures", json_object_new_int64((int64_t)ev->target_failures));
	if (ev->driver_broken[0])
		json_object_object_add(o, "driver_broken", json_object_new_string(ev->driver_broken));
	return o;
}

int64_t evidence_activity(const struct evidence *ev)
{
	if (!ev->trace_ok)
		return -1;
	int64_t total = 0;
	for (int cpu = 0; cpu < 1024; cpu++) {
		char path[96], buf[1024];
		snprintf(path, sizeof(path), TRACING "/per_cpu/cpu%d/stats", cpu);
		if (read_small_file(path, buf, sizeof(buf)) < 0)
			break;
		const char *p;
		if ((p = strstr(buf, "entries: ")))
			total += strtoll(p + 9, NULL, 10);
		if ((p = strstr(buf, "overrun: ")))
			total += strtoll(p + 9, NULL, 10);
	}
	return total;
}

/* a kernel stack line " func+0x12/0x34 [module]" -> "func"; NULL otherwise */
static const char *frame_name(const char *line, char *buf, size_t len)
{
	while (*line == ' ')
		line++;
	if (*line == '?' || *line == '<')
		return NULL;  /* unreliable entries, <TASK> markers */
	const char *plus = strstr(line, "+0x");
	if (!plus || plus == line || (size_t)(plus - line) >= len)
		return NULL;
	for (const char *c = line; c < plus; c++)
		if (*c == ' ' || *c == ':' || *c == '=')
			return NULL;
	memcpy(buf, line, (size_t)(plus - line));
	buf[plus - line] = 0;
	return buf;
}

int evidence_worker_stack(char *buf, size_t len)
{
	buf[0] = 0;
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -1;
	lseek(fd, 0, SEEK_END);
	if (write_small_file("/proc/sysrq-trigger", "l") < 0) {
		close(fd);
		return -1;
	}
	/* the NMI backtraces arrive within a moment; read until quiet */
	bool in_worker = false, in_trace = false, found = false;
	size_t o = 0;
	int frames = 0;
	uint64_t deadline = now_ms() + 1500, quiet_since = now_ms();
	char rec[1024], fn[96];
	while (now_ms() < deadline && now_ms() - quiet_since < 300) {
		ssize_t n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;
		if (n <= 0) {
			sleep_ms(20);
			continue;
		}
		quiet_since = now_ms();
		rec[n] = 0;
		char *msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		msg[strcspn(msg, "\n")] = 0;
		if (strstr(msg, "NMI backtrace for cpu")) {
			if (in_worker)
				found = true;
			in_worker = in_trace = false;
			continue;
		}
		if (found)
			continue;
		if (strstr(msg, "Workqueue:") && strstr(msg, "virtio_mem")) {
			in_worker = true;
			o = 0;
			frames = 0;
			buf[0] = 0;
			continue;
		}
		if (!in_worker)
			continue;
		const char *rip = strstr(msg, "RIP: 0010:");
		if (rip && frame_name(rip + 10, fn, sizeof(fn)) && frames == 0) {
			o += (size_t)snprintf(buf + o, o < len ? len - o : 0, "%s", fn);
			frames++;
		} else if (strstr(msg, "Call Trace:")) {
			in_trace = true;
		} else if (in_trace && frames < 10 && frame_name(msg, fn, sizeof(fn))) {
			o += (size_t)snprintf(buf + o, o < len ? len - o : 0, "%s%s", frames ? " < " : "", fn);
			frames++;
		}
	}
	close(fd);
	if (!found && !in_worker)
		buf[0] = 0;
	return 0;
}
