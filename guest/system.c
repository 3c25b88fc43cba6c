#define _GNU_SOURCE
#include "system.h"

#include <dirent.h>
#include <limits.h>
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static int mount_one(const char *src, const char *dir, const char *type, struct err *e)
{
	mkdir(dir, 0755);
	if (mount(src, dir, type, MS_NOSUID | MS_NOEXEC, NULL) < 0 && errno != EBUSY)
		return err_sys(e, "mount %s on %s", type, dir);
	return 0;
}

int system_mount(struct err *e)
{
	if (mount_one("proc", "/proc", "proc", e) || mount_one("sysfs", "/sys", "sysfs", e) ||
	    mount_one("devtmpfs", "/dev", "devtmpfs", e))
		return -1;
	/* The initramfs carries no device nodes, so the kernel may have started
	 * us without a console: attach stdin/out/err to it now. */
	int fd = open("/dev/console", O_RDWR | O_NOCTTY);
	if (fd >= 0) {
		for (int i = 0; i < 3; i++)
			if (fd != i)
				dup2(fd, i);
		if (fd > 2)
			close(fd);
	}
	/* tracefs is optional (attribution uses it); failure is not fatal. */
	mkdir("/sys/kernel/tracing", 0755);
	mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL);
	return 0;
}

struct module {
	char name[200];
	int done;
	int last_errno;
};

/* "param=value ..." for module `name` from the kernel command line, as
 * modprobe passes "name.param=value" tokens on (the kernel itself does that
 * only for built-in code). */
static void module_params(const char *file, char *out, size_t len)
{
	char name[200], line[4096];
	snprintf(name, sizeof(name), "%.*s", (int)(strlen(file) - 3), file);  /* without .ko */
	for (char *p = name; *p; p++)
		if (*p == '-')
			*p = '_';
	out[0] = 0;
	if (read_small_file("/proc/cmdline", line, sizeof(line)) < 0)
		return;
	size_t nlen = strlen(name), o = 0;
	char *save;
	for (char *tok = strtok_r(line, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
		if (strncmp(tok, name, nlen) == 0 && tok[nlen] == '.' && tok[nlen + 1])
			o += (size_t)snprintf(out + o, o < len ? len - o : 0, "%s%s", o ? " " : "", tok + nlen + 1);
}

/* The guest has no modules.dep (there is no kmod in it), so load in passes:
 * a module whose dependencies are not loaded yet fails with ENOENT ("unknown
 * symbol") and is tried again in the next pass. Stops when a pass makes no
 * progress. Works for any kernel's set of modules without depmod. */
int system_load_modules(const char *dir, struct err *e)
{
	struct module mods[64];
	int n = 0;
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : err_sys(e, "open module directory %s", dir);
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		if (len < 4 || strcmp(de->d_name + len - 3, ".ko") != 0)
			continue;
		if (n == (int)ARRAY_SIZE(mods)) {
			closedir(d);
			return err_set(e, "more than %zu modules in %s", ARRAY_SIZE(mods), dir);
		}
		snprintf(mods[n].name, sizeof(mods[n].name), "%s", de->d_name);
		mods[n].done = 0;
		mods[n].last_errno = 0;
		n++;
	}
	closedir(d);

	int left = n, progress = 1;
	while (left > 0 && progress) {
		progress = 0;
		for (int i = 0; i < n; i++) {
			if (mods[i].done)
				continue;
			char path[PATH_MAX];
			snprintf(path, sizeof(path), "%.3000s/%s", dir, mods[i].name);
			int fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd < 0)
				return err_sys(e, "open module %s", path);
			char params[1024];
			module_params(mods[i].name, params, sizeof(params));
			long r = syscall(SYS_finit_module, fd, params, 0);
			mods[i].last_errno = r < 0 ? errno : 0;
			close(fd);
			if (r == 0 || mods[i].last_errno == EEXIST) {
				mods[i].done = 1;
				left--;
				progress = 1;
			}
		}
	}
	for (int i = 0; i < n; i++)
		if (!mods[i].done)
			return err_set(e, "cannot load module %s/%s: %s (see the console log for the kernel's reason)",
				       dir, mods[i].name, strerror(mods[i].last_errno));
	return 0;
}

const char *system_cmdline_param(const char *key, char *buf, size_t len)
{
	char line[4096];
	if (read_small_file("/proc/cmdline", line, sizeof(line)) < 0)
		return NULL;
	size_t klen = strlen(key);
	for (char *tok = strtok(line, " "); tok; tok = strtok(NULL, " ")) {
		if (strncmp(tok, key, klen) == 0 && tok[klen] == '=') {
			snprintf(buf, len, "%s", tok + klen + 1);
			return buf;
		}
	}
	return NULL;
}

void system_power_off(void)
{
	sync();
	reboot(RB_POWER_OFF);
	/* PID 1 must never exit: that would panic the kernel. */
	for (;;)
		pause();
}
