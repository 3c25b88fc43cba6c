/* One scenario run, as a fixed sequence of phases: boot, plug, populate,
 * each unplug step, shutdown. Whatever happens, the VM is stopped and the
 * report holds what was learnt up to that point. */
#ifndef HOST_RUN_H
#define HOST_RUN_H

#include "run/report.h"
#include "scenario/scenario.h"
#include "vm/vm.h"

struct run_options {
	const char *kernel, *initrd;
	/* libvirt: what the daemon boots on its host in their place (a
	 * suite's uploaded volumes), or NULL */
	const char *kernel_on_host, *initrd_on_host;
	const char *qemu;
	const char *backend;        /* "qemu" (default) or "libvirt" */
	const char *connect_uri;    /* libvirt: NULL for $LIBVIRT_DEFAULT_URI or qemu:///system */
	const char *outdir;
	const char *extra_cmdline;
	enum accel_pref accel;
	uint64_t boot_timeout_ms;   /* 0: the scenario's */
	uint64_t kick_ms;           /* rewrite requested-size when no progress for this long */
	unsigned settle_kicks;      /* give up a step after this many kicks without progress */
	uint64_t busy_ms;           /* the kernel busy this long without moving the size (or six
				     * times its first sign in the wait, if longer): its retries
				     * are refusals, and untouched blocks are settled */
	const char *snapshot_dir;   /* --snapshot-dir: boot snapshots (run/snapshot.h), or NULL */
	bool settle_patient;        /* --settle patient: no busy_ms, no settling of untouched
				     * blocks, no early end after a release (to compare) */
};

void run_options_default(struct run_options *o);
/* Fills r; returns its exit status. */
int run_scenario(const struct run_options *o, const struct scenario *s, struct report *r);

/* The kernel command line for a scenario (exposed for tests). */
/* The kernel parameters of the scenario's [vm] modes (memhp_default_state,
 * memory_hotplug.*, virtio_mem.*), each with a leading space. */
void run_mode_params(const struct scenario *s, char *buf, size_t len);
void run_cmdline(const struct scenario *s, const char *extra, char *buf, size_t len);

#endif
