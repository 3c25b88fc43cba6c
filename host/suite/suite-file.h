/* A suite: which scenarios run against which kernels, on which hosts.
 * Either a suite file (INI: [suite] with scenarios, [kernel NAME] sections
 * saying where each kernel comes from, [host NAME] sections naming libvirt
 * daemons to run on) or a directory of scenario files. README.md,
 * "Suites", documents the format. */
#ifndef HOST_SUITE_FILE_H
#define HOST_SUITE_FILE_H

#include <stdint.h>
#include "util/util.h"

#define SUITE_MAX_SCENARIOS 128
#define SUITE_MAX_KERNELS 16
#define SUITE_MAX_NAME 48
#define SUITE_MAX_HOSTS 8

/* Where a kernel comes from: the same choices as ./run.sh's options. */
struct suite_kernel {
	char name[SUITE_MAX_NAME + 1];
	char option[16];          /* "debian-kernel", "kernel-deb", "kernel", "kernel-src" */
	char value[512];
	char modules[512];        /* with "kernel": its modules tree, or "" */
	char patches[64];         /* with "kernel-src": a patch series, or "" */
	int line;                 /* of its section, for messages */
};

/* A libvirt daemon runs are dealt to: [host NAME] or --connect URI[=JOBS]. */
struct suite_host {
	char name[SUITE_MAX_NAME + 1];
	char connect[512];        /* its URI */
	int jobs;                 /* VMs at once there, 1-64 (0: not said: -j's) */
	int line;                 /* of its section (0: the command line) */
};

struct suite {
	char path[512];
	char name[SUITE_MAX_NAME + 1];
	char scenarios[SUITE_MAX_SCENARIOS][512];  /* paths as given, resolved */
	int nscenarios;
	struct suite_kernel kernels[SUITE_MAX_KERNELS];
	int nkernels;             /* 0: the kernel given on the command line */
	struct suite_host hosts[SUITE_MAX_HOSTS];
	int nhosts;               /* 0: this machine (or --connect) */
	int jobs;                 /* 0: not set */
	uint64_t run_timeout_ms;  /* 0: not set */
};

/* Load a suite file or a directory of *.ini scenarios. Errors name the
 * file, the line and the value. Scenario files must exist; their content
 * is checked by the caller (scenario_load). */
int suite_load(const char *path, struct suite *s, struct err *e);

/* Is name usable as a kernel or run name (a path component)? */
bool suite_name_ok(const char *name);

#endif
