/* offline-nack: plain anonymous base pages, and, while it is set up, every
 * memory offlining refused: the memory hotplug notifier error injection
 * (CONFIG_MEMORY_NOTIFIER_ERROR_INJECT, lib/memory-notifier-error-inject.c)
 * makes MEM_GOING_OFFLINE return -ERROR (option `error`, an errno number:
 * 12, ENOMEM, by default), so offline_pages() fails with it, for sysfs as
 * for the virtio-mem driver's offline_and_remove_memory(). Before v6.5 the
 * driver passes an error other than -EBUSY and -ENOMEM up to its worker,
 * which then marks the device broken (known-bugs.ini,
 * virtio-mem-broken-on-offline-error; error = 5, EIO, shows it). Its
 * pages hold nothing: virtio-mem still unplugs every device block (its
 * fake offlining, alloc_contig_range(), calls no memory notifier), but
 * cannot remove a memory block whose device blocks are all unplugged. Its
 * release stops the refusal: the driver must then remove those memory
 * blocks (upstream since v6.5; 6.1 never retries: known-bugs.ini,
 * virtio-mem-sbm-unplugged-block-stays). Test kernels only: no
 * distribution kernel builds the injection. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "population.h"

const struct population_spec pop_spec_offline_nack = {
	.name = "offline-nack",
	.summary = "base pages; every memory offlining refused (notifier error injection) until released",
	.needs = VMS_NEEDS(MEM_NOTIFY_INJECT),
	.holds = "no page: the memory notifier refuses MEM_GOING_OFFLINE (-ERROR); release stops that",
	.options = {
		{ "error", "the errno number MEM_GOING_OFFLINE is refused with (12: ENOMEM, 16: EBUSY, 5: EIO, 4: EINTR)",
		  "12", { NULL }, 1, 4095 },
	},
};

#ifndef VMS_SPEC_ONLY
#include "util.h"

#define NACK_FILE "/sys/kernel/debug/notifier-error-inject/memory/actions/MEM_GOING_OFFLINE/error"

static int nack(const char *value, struct err *e)
{
	mkdir("/sys/kernel/debug", 0755);
	mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);  /* EBUSY when mounted: fine */
	if (write_small_file(NACK_FILE, value) < 0)
		return err_sys(e, "cannot write %s to %s", value, NACK_FILE);
	return 0;
}

static int offline_nack_setup(struct population *p, const struct pop_env *env, struct err *e)
{
	if (!pop_base_pages(p, env, e))
		return -1;
	char value[16];
	long error = strtol(pop_option(p, "error"), NULL, 10);  /* checked against the spec's range */
	snprintf(value, sizeof(value), "-%ld", error);
	if (nack(value, e) < 0)
		return -1;
	pop_hold(p, "offline-refusal", 0);
	snprintf(p->note, sizeof(p->note), "memory offlining refused (MEM_GOING_OFFLINE error injection, %s: %s)",
		 value, strerror((int)error));
	return 0;
}

static int offline_nack_release(struct population *p, struct err *e)
{
	if (nack("0", e) < 0)
		return -1;
	pop_dropped(p, "stopped refusing memory offlining (MEM_GOING_OFFLINE error injection cleared)");
	return 0;
}

static void offline_nack_teardown(struct population *p)
{
	struct err e;
	(void)p;
	nack("0", &e);
}

const struct population_type pop_offline_nack = {
	.spec = &pop_spec_offline_nack,
	.setup = offline_nack_setup,
	.release = offline_nack_release,
	.teardown = offline_nack_teardown,
};
#endif /* VMS_SPEC_ONLY */
