#define _GNU_SOURCE
#include "driver.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

/* The parameters that shape unplug, as sysfs shows them (absent ones:
 * not in this kernel, left out). */
static const char *const params[][2] = {
	{ "virtio_mem.force_bbm", "/sys/module/virtio_mem/parameters/force_bbm" },
	{ "virtio_mem.bbm_block_size", "/sys/module/virtio_mem/parameters/bbm_block_size" },
	{ "virtio_mem.bbm_safe_unplug", "/sys/module/virtio_mem/parameters/bbm_safe_unplug" },
	{ "virtio_mem.unplug_online", "/sys/module/virtio_mem/parameters/unplug_online" },
	{ "memory_hotplug.memmap_on_memory", "/sys/module/memory_hotplug/parameters/memmap_on_memory" },
	{ "memory_hotplug.online_policy", "/sys/module/memory_hotplug/parameters/online_policy" },
	{ "memory_hotplug.auto_movable_ratio", "/sys/module/memory_hotplug/parameters/auto_movable_ratio" },
	{ "auto_online_blocks", "/sys/devices/system/memory/auto_online_blocks" },
};

/* The driver says at probe "subblock size: 0x..." (Sub Block Mode) or
 * "big block size: 0x..." (Big Block Mode), drivers/virtio/virtio_mem.c. */
static void probe_mode(struct json_object *o)
{
	const char *mode = "";
	unsigned long long unit = 0;
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	while (fd >= 0) {
		char rec[2048];
		ssize_t n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;
		if (n <= 0)
			break;
		rec[n] = 0;
		if (!strstr(rec, "virtio_mem"))
			continue;
		const char *p;
		if ((p = strstr(rec, "big block size: 0x")))
			mode = "bbm", unit = strtoull(p + strlen("big block size: "), NULL, 16);
		else if ((p = strstr(rec, "subblock size: 0x")))
			mode = "sbm", unit = strtoull(p + strlen("subblock size: "), NULL, 16);
	}
	if (fd >= 0)
		close(fd);
	json_object_object_add(o, "mode", json_object_new_string(mode));
	json_object_object_add(o, "unit", json_object_new_int64((int64_t)unit));
}

struct json_object *driver_readback(void)
{
	struct json_object *o = json_object_new_object(), *p = json_object_new_object();
	probe_mode(o);
	for (size_t i = 0; i < sizeof(params) / sizeof(params[0]); i++) {
		char v[64];
		if (read_small_file(params[i][1], v, sizeof(v)) >= 0)
			json_object_object_add(p, params[i][0], json_object_new_string(v));
	}
	json_object_object_add(o, "params", p);
	return o;
}

int driver_online_blocks(unsigned long long addr, unsigned long long size, unsigned long long mbs, const char *how)
{
	int n = 0, first_errno = 0;
	for (unsigned long long mb = addr / mbs; mbs && mb <= (addr + size - 1) / mbs; mb++) {
		char path[96], state[32];
		snprintf(path, sizeof(path), "/sys/devices/system/memory/memory%llu/state", mb);
		if (read_small_file(path, state, sizeof(state)) < 0 || strcmp(state, "offline") != 0)
			continue;  /* not added (unplugged), or online already */
		if (write_small_file(path, how) == 0)
			n++;
		else if (!first_errno)
			first_errno = errno;
	}
	if (first_errno) {
		errno = first_errno;
		return -1;
	}
	return n;
}
