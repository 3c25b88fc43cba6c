/* Parsers for what the kernel prints about failed offlining: trace events
 * (tracefs) and dump_page() text (dynamic debug of alloc_contig_dump_pages,
 * read from /dev/kmsg). Pure functions, used by the guest, unit-tested on
 * the host. */
#ifndef VMEMSTRESS_KEVIDENCE_H
#define VMEMSTRESS_KEVIDENCE_H

#include <stdbool.h>
#include <stdint.h>

/* page_isolation:test_pages_isolated */
struct isolation_event {
	uint64_t start_pfn, end_pfn, fin_pfn;
	bool failed;
};

/* migrate:mm_migrate_pages */
struct migrate_event {
	uint64_t succeeded, failed, thp_succeeded, thp_failed, thp_split;
	char reason[24];
};

/* A dump_page() record: "page:... refcount:3 mapcount:1 ... pfn:0x10a00"
 * then "page dumped because: migration failure". */
struct dumped_page {
	uint64_t pfn;
	int64_t refcount, mapcount;
	char reason[48];
	char flags[96];
};

/* Return 1 when line is such an event (filled in), 0 when it is another
 * line, -1 when it is one but malformed. */
int kev_parse_isolation(const char *line, struct isolation_event *ev);
int kev_parse_migrate(const char *line, struct migrate_event *ev);
/* Feed /dev/kmsg or dmesg lines one by one; returns 1 when a record is
 * complete (its "page dumped because" line was seen). The state is kept in
 * *cur between calls. */
int kev_parse_dump_line(const char *line, struct dumped_page *cur, bool *in_record);

/* offline_pages()'s own account of a failure (pr_debug, dynamic debug of
 * offline_pages): "memory offlining [mem 0x...-0x...] failed due to
 * notifier failure". Physical addresses, end inclusive. */
struct offline_failure {
	uint64_t start, end;
	char reason[48];         /* "notifier failure", "unmovable page", ... */
};
int kev_parse_offline_failure(const char *line, struct offline_failure *f);

/* The virtio-mem driver giving up for good: "virtio_mem virtio5: unknown
 * error, marking device broken: -5" (virtio_mem_run_wq()). The message
 * without the kmsg prefix into buf, and the error into *rc. */
int kev_parse_driver_broken(const char *line, char *buf, unsigned len, int *rc);

/* The guest's own kprobe events on start_isolate_page_range(), the first
 * thing every offlining path does with a range (alloc_contig_range() for
 * virtio-mem's sub-blocks, offline_pages() for memory blocks):
 *   "vms_isolate_start: (start_isolate_page_range+0x0/0x1c0) start_pfn=0x100000 end_pfn=0x100200"
 *   "vms_isolate_end: (alloc_contig_range+0xd6/0x2a0 <- start_isolate_page_range) ret=-16"
 * and on undo_isolate_page_range(), where every attempt that isolated ends:
 *   "vms_isolate_undo: (undo_isolate_page_range+0x0/0x90) start_pfn=0x100000 end_pfn=0x100200"
 * The task's pid (from "comm-PID [cpu]") pairs a return with its start. */
struct isolate_probe {
	bool is_end;
	bool is_undo;                 /* undo: start_pfn and end_pfn as for a start */
	int pid;
	uint64_t start_pfn, end_pfn;  /* start only */
	int ret;                      /* end only: 0, or -errno (-16: EBUSY) */
	char caller[48];              /* end only: the function that called it */
};
/* 1: one of these events; 0: another line; -1: one of them, malformed */
int kev_parse_isolate_probe(const char *line, struct isolate_probe *p);

/* The guest's kretprobe on alloc_migration_target(), where migration gets
 * the page to move a page to:
 *   "vms_target_end: (migrate_pages_batch+0x1f4/0x9e0 <- alloc_migration_target) ret=0x0"
 * 1 with *none set when it returned no page; 0: another line; -1: malformed */
int kev_parse_target_probe(const char *line, bool *none);

#endif
