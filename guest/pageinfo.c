#define _GNU_SOURCE
#include "pageinfo.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#define PM_PRESENT (1ull << 63)
#define PM_PFN_MASK ((1ull << 55) - 1)

int pagemap_read(pid_t pid, uintptr_t addr, size_t npages, uint64_t *pfns, struct err *e)
{
	char path[64];
	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)pid);
	else
		snprintf(path, sizeof(path), "/proc/self/pagemap");
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_sys(e, "open %s", path);
	size_t done = 0;
	while (done < npages) {
		size_t chunk = npages - done > 4096 ? 4096 : npages - done;
		off_t off = (off_t)((addr / PAGE_SIZE_4K) + done) * 8;
		ssize_t n = pread(fd, pfns + done, chunk * 8, off);
		if (n <= 0 || n % 8) {
			close(fd);
			return n < 0 ? err_sys(e, "read %s", path) : err_set(e, "short read from %s", path);
		}
		done += n / 8;
	}
	close(fd);
	for (size_t i = 0; i < npages; i++) {
		uint64_t v = pfns[i];
		/* A zero PFN with the present bit means we lack CAP_SYS_ADMIN. */
		pfns[i] = (v & PM_PRESENT) ? (v & PM_PFN_MASK) : PFN_NONE;
		if (pfns[i] == 0)
			return err_set(e, "%s hides PFNs (no CAP_SYS_ADMIN?)", path);
	}
	return 0;
}

static int kpf_fd = -1;

int kpageflags_read(uint64_t pfn, size_t n, uint64_t *flags, struct err *e)
{
	if (kpf_fd < 0) {
		kpf_fd = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
		if (kpf_fd < 0)
			return err_sys(e, "open /proc/kpageflags");
	}
	size_t done = 0;
	while (done < n) {
		ssize_t r = pread(kpf_fd, flags + done, (n - done) * 8, (off_t)(pfn + done) * 8);
		if (r < 0)
			return err_sys(e, "read /proc/kpageflags at PFN %#llx", (unsigned long long)(pfn + done));
		if (r == 0)
			break;  /* past max_pfn: never-plugged memory */
		done += r / 8;
	}
	for (; done < n; done++)
		flags[done] = 1ull << KPF_NOPAGE;
	return 0;
}

int64_t kpagecount_read(uint64_t pfn)
{
	static int fd = -1;
	if (fd < 0 && (fd = open("/proc/kpagecount", O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	uint64_t v;
	if (pread(fd, &v, sizeof(v), (off_t)pfn * 8) != (ssize_t)sizeof(v))
		return -1;
	return (int64_t)v;
}
