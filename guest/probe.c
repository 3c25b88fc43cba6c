/* Probes, one per facility: each asks the kernel the cheapest question
 * whose answer is the facility itself (a syscall's ENOSYS, a sysfs file
 * that only exists when the feature is built in and enabled). */
#define _GNU_SOURCE
#include "probe.h"

#include <errno.h>
#include <liburing.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "../common/population-spec.h"
#include "util.h"

#ifndef SYS_memfd_secret
#define SYS_memfd_secret 447
#endif

/* Each leaves why "" when the facility is usable, else says why not. */
static void probe_file(const char *path, char *why, size_t len)
{
	if (access(path, F_OK) < 0)
		snprintf(why, len, "%s: %s", path, strerror(errno));
}

static void probe_errno(const char *what, long r, char *why, size_t len)
{
	if (r < 0 && errno == ENOSYS)
		snprintf(why, len, "%s: %s", what, strerror(errno));
}

static void probe(int f, char *why, size_t len)
{
	why[0] = 0;
	switch (f) {
	case VMS_FAC_THP:  /* absent on PREEMPT_RT and without the option */
		probe_file("/sys/kernel/mm/transparent_hugepage/enabled", why, len);
		break;
	case VMS_FAC_MADVISE:
		probe_errno("madvise", madvise(NULL, 0, MADV_NORMAL), why, len);
		break;
	case VMS_FAC_MEMFD: {
		int fd = memfd_create("vmemstress-probe", MFD_CLOEXEC);
		probe_errno("memfd_create", fd, why, len);
		if (fd >= 0)
			close(fd);
		break;
	}
	case VMS_FAC_TMPFS: {
		char fs[4096] = "";
		read_small_file("/proc/filesystems", fs, sizeof(fs));
		if (!strstr(fs, "\ttmpfs\n"))
			snprintf(why, len, "/proc/filesystems lists no tmpfs");
		break;
	}
	case VMS_FAC_IO_URING: {  /* also off by sysctl kernel.io_uring_disabled (6.6+) */
		struct io_uring ring;
		int r = io_uring_queue_init(1, &ring, 0);
		if (r < 0)
			snprintf(why, len, "io_uring_queue_init: %s", strerror(-r));
		else
			io_uring_queue_exit(&ring);
		break;
	}
	case VMS_FAC_SECRETMEM: {  /* ENOSYS also when 6.1 lacks secretmem.enable=1 */
		long fd = syscall(SYS_memfd_secret, 0);
		if (fd < 0)
			snprintf(why, len, "memfd_secret: %s%s", strerror(errno),
				 errno == ENOSYS ? " (not built, or disabled: 6.1 needs secretmem.enable=1)" : "");
		else
			close((int)fd);
		break;
	}
	case VMS_FAC_PROCESS_VM: {
		struct iovec none = { NULL, 0 };
		probe_errno("process_vm_readv", process_vm_readv(getpid(), &none, 1, &none, 1, 0), why, len);
		break;
	}
	case VMS_FAC_SYSCTL:
		probe_file("/proc/sys/fs/pipe-max-size", why, len);
		break;
	case VMS_FAC_MEM_NOTIFY_INJECT:  /* built in, and debugfs mounted */
		mkdir("/sys/kernel/debug", 0755);
		mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
		probe_file("/sys/kernel/debug/notifier-error-inject/memory/actions/MEM_GOING_OFFLINE/error", why, len);
		break;
	case VMS_FAC_HUGETLBFS: {  /* the file system, and a 2 MiB huge page size */
		char fs[4096] = "";
		read_small_file("/proc/filesystems", fs, sizeof(fs));
		if (!strstr(fs, "\thugetlbfs\n"))
			snprintf(why, len, "/proc/filesystems lists no hugetlbfs");
		else
			probe_file("/sys/kernel/mm/hugepages/hugepages-2048kB", why, len);
		break;
	}
	}
}

const char *probe_missing(unsigned needs, char *buf, size_t len)
{
	static char result[VMS_NFACILITIES][160];
	static unsigned probed;
	for (int f = 0; f < VMS_NFACILITIES; f++) {
		if (!(needs & (1u << f)))
			continue;
		if (!(probed & (1u << f))) {
			probe(f, result[f], sizeof(result[f]));
			probed |= 1u << f;
		}
		if (result[f][0]) {
			snprintf(buf, len, "the kernel has no %s (%s)", vms_facilities[f].words, result[f]);
			return buf;
		}
	}
	return NULL;
}
