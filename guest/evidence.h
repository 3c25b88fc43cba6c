/* What the kernel says about failed offlining, gathered between two state
 * reports: test_pages_isolated and mm_migrate_pages trace events, and the
 * pages alloc_contig_dump_pages() dumps (dynamic debug, read from
 * /dev/kmsg). Each source is optional: the report says which were there. */
#ifndef GUEST_EVIDENCE_H
#define GUEST_EVIDENCE_H

#include <json-c/json.h>
#include <stdbool.h>
#include "../common/kevidence.h"
#include "util.h"

#define EV_MAX_FAILS 4096
#define EV_MAX_DUMPS 1024
#define EV_MAX_REASONS 8
#define EV_MAX_OFFLINE 64
#define EV_MAX_REFUSALS 256
#define EV_MAX_PENDING 16

/* start_isolate_page_range() returned an error for this range, count times */
struct isolate_refusal {
	uint64_t start_pfn, end_pfn, count;
	int err;
	char caller[48];
};

struct evidence {
	bool trace_ok, dump_ok;
	uint64_t isolation_events;
	struct isolation_event fails[EV_MAX_FAILS];
	size_t nfails;
	struct migrate_event migrate[EV_MAX_REASONS];  /* summed per reason */
	size_t nmigrate;
	struct dumped_page dumps[EV_MAX_DUMPS];
	size_t ndumps;
	/* offline_pages()'s failures, one per range and reason, counted */
	bool offline_ok;
	struct offline_failure offline[EV_MAX_OFFLINE];
	uint64_t offline_count[EV_MAX_OFFLINE];
	size_t noffline;
	/* our kprobes on start_isolate_page_range(): its refusals, by range,
	 * error and caller (a refusal at isolation is traced nowhere else) */
	bool probe_ok;
	/* our kretprobe on alloc_migration_target(): its calls, and the ones
	 * that found no page to migrate to */
	bool target_ok;
	uint64_t target_calls, target_failures;
	struct isolate_refusal refusals[EV_MAX_REFUSALS];
	size_t nrefusals;
	uint64_t isolate_calls;
	struct isolate_probe pending[EV_MAX_PENDING];  /* starts not yet returned, by pid */
	/* attempts under way, from a trace instance of our own that only the
	 * kprobes write to (read at each activity poll): isolated, not yet
	 * undone, since when (the poll that saw them) */
	bool stall_ok;
	struct isolate_probe stall_pending[EV_MAX_PENDING];
	struct open_attempt {
		uint64_t start_pfn, end_pfn, since_ms;
	} open[EV_MAX_PENDING];
	int64_t act_last;
	uint64_t act_changed_ms;
	/* the driver's "marking device broken" line: kept across resets, the
	 * driver never recovers */
	char driver_broken[200];
};

/* Enable the sources that exist; never fails, only records what works. */
void evidence_init(struct evidence *ev);
/* Forget what was seen so far (start of a new window). */
void evidence_reset(struct evidence *ev);
/* One line of the trace buffer into ev (what evidence_collect() does with
 * each; for tests). */
void evidence_trace_line(struct evidence *ev, const char *line);
/* Read what arrived since the reset into ev. */
void evidence_collect(struct evidence *ev);
/* Whether the virtio-mem driver said it marked its device broken (reads
 * the kernel log that arrived since; what it reads counts for the next
 * state's evidence too). */
bool evidence_driver_broken(struct evidence *ev);
/* A counter that grows while the kernel is trying to offline memory
 * (trace events written, overwritten ones included); -1 without tracing. */
int64_t evidence_activity(const struct evidence *ev);
/* How long an offlining attempt has been under way (isolated by
 * start_isolate_page_range(), not yet undone) while `events` (the counter
 * above) did not move: a kernel inside one attempt and making no progress.
 * -1 when no attempt is under way or the kprobes are not there. */
int64_t evidence_stalled_ms(struct evidence *ev, int64_t events);
/* One line of our trace instance into ev's attempts under way, seen at now. */
void evidence_attempt_line(struct evidence *ev, const char *line, uint64_t now);
/* Where the virtio-mem driver's worker is right now: an NMI backtrace of
 * every CPU (sysrq-l), the section of the CPU running virtio_mem_run_wq,
 * as "innermost < caller < ..." into buf. "" when no CPU runs it (the
 * worker is idle or asleep); -1 when no backtrace could be taken. */
int evidence_worker_stack(char *buf, size_t len);
/* How often start_isolate_page_range() refused a range overlapping
 * [pfn, pfn + n) since the reset (0 without the probes). */
uint64_t evidence_isolation_refusals(const struct evidence *ev, uint64_t pfn, uint64_t n,
				     const struct isolate_refusal **first);
/* {"trace":..., "isolation_events":..., "isolation_failures":..., "migrate":[...],
 *  "offline_failures":[{"start":..,"end":..,"reason":..,"count":..}], "driver_broken":"..."} */
struct json_object *evidence_summary(const struct evidence *ev);

#endif
