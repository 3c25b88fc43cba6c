/* Scenario files: INI (parsed with inih). README.md, "Scenario format",
 * documents every section and key; scenarios/default.ini is an example. */
#ifndef HOST_SCENARIO_H
#define HOST_SCENARIO_H

#include <stdint.h>
#include "../common/protocol.h"
#include "util/util.h"

#define SCN_MAX_STEPS 16
#define SCN_MAX_OPTIONS 4
#define SCN_MAX_RULES 16

enum zone { ZONE_MOVABLE, ZONE_KERNEL };
enum driver_mode { DRIVER_AUTO, DRIVER_SBM, DRIVER_BBM };
/* Who onlines hotplugged memory and into which zone: the kernel, into
 * `zone` (memhp_default_state); the kernel's auto-movable policy, which
 * picks the zone per block; or the guest program, into `zone`. */
enum online_policy { ONLINE_ZONE, ONLINE_AUTO_MOVABLE, ONLINE_GUEST };

/* The virtio-mem driver's and QEMU's modes a scenario may ask for
 * (README.md, "Driver modes"); -1 or "" is the default of the kernel or
 * QEMU, left alone. The guest reads back what the kernel really used. */
struct scn_modes {
	enum driver_mode driver;         /* sbm, bbm (virtio_mem.force_bbm) */
	uint64_t bbm_block_size;         /* virtio_mem.bbm_block_size; 0: default */
	int bbm_safe_unplug;             /* virtio_mem.bbm_safe_unplug */
	enum online_policy online;
	int auto_movable_ratio;          /* memory_hotplug.auto_movable_ratio */
	int memmap_on_memory;            /* memory_hotplug.memmap_on_memory */
	char backend[8];                 /* QEMU memory backend: ram, memfd, file */
	int prealloc;                    /* virtio-mem-pci prealloc */
	char unplugged_inaccessible[8];  /* virtio-mem-pci: on, off, auto */
};
enum unplug_expect { UNPLUG_COMPLETE, UNPLUG_ANY };

struct scn_option {
	char key[24];
	char value[64];
};

struct scn_population {
	char name[VMS_MAX_NAME + 1];
	char type[32];
	uint64_t size;
	struct scn_option opts[SCN_MAX_OPTIONS];  /* type-specific keys */
	int nopts;
	int line;  /* where its section starts, for messages */
};

/* "who:reason" in may-stay lists. who: a population, "unowned" (none of
 * ours) or "*"; reason: a reason name or "*" (-1). */
struct stay_rule {
	char who[VMS_MAX_NAME + 1];
	int reason;
	char bug[64];      /* "REASON@BUG": only when known bug BUG matched; "" any */
};

/* Who takes the memory away in a step: the virtio-mem driver, asked
 * through requested-size (alloc_contig_range on device blocks), or sysfs
 * offline of whole memory blocks first (offline_pages, what stress-ng and
 * the kernel's memory-hotplug selftest exercise), then requested-size
 * takes the offline memory. */
enum step_driver { STEP_VIRTIO_MEM, STEP_SYSFS };

struct scn_step {
	char name[VMS_MAX_NAME + 1];
	uint64_t requested;
	uint64_t timeout_ms;
	enum step_driver driver;
	int line;
};

/* What must happen ([expect]). */
struct scn_expect {
	enum unplug_expect unplug;
	uint64_t max_corrupted;
	struct stay_rule may_stay[SCN_MAX_RULES];
	int n_may_stay;
	char must_stay[VMS_MAX_POPULATIONS][VMS_MAX_NAME + 1];
	int n_must_stay;
	enum unplug_expect after_release;
	struct stay_rule may_stay_after_release[SCN_MAX_RULES];
	int n_may_stay_after_release;
};

/* [expect WHEN]: what differs on some kernels (README.md, "Expectations
 * per kernel"). WHEN: "release < 6.5", "release >= 6.12" (the kernel's
 * version: Debian's package version when uname -v names it, else the
 * release's numbers), "flavour rt" (a word of uname -r), "config
 * PREEMPT_RT" (set in the kernel config). */
enum expect_when { WHEN_RELEASE_BELOW, WHEN_RELEASE_FROM, WHEN_FLAVOUR, WHEN_CONFIG };
#define SCN_MAX_WHEN 8
#define EXPECT_SET_UNPLUG 1u
#define EXPECT_SET_MAX_CORRUPTED 2u
#define EXPECT_SET_MUST_STAY 4u
#define EXPECT_SET_AFTER_RELEASE 8u
struct scn_expect_when {
	enum expect_when kind;
	char arg[48];
	char text[96];              /* as written after "expect " */
	int line;
	struct scn_expect add;      /* its keys: lists add to [expect]'s, others replace */
	unsigned set;               /* EXPECT_SET_*: which of the others it gives */
	char config;                /* WHEN_CONFIG: 'y', 'm', 0 unset, '?' no config read (run/kconfig.c) */
};

struct scenario {
	char path[512];
	char name[VMS_MAX_NAME + 1];  /* file name without directory and .ini */
	char description[256];
	/* [vm] */
	int cpus;
	uint64_t boot_memory, region_size, initial_size, block_size;
	enum zone zone;
	bool zone_given;   /* zone = was in the file */
	char thp[16];
	uint64_t boot_timeout_ms;
	char kernel_cmdline[512];
	struct scn_modes modes;
	/* [population NAME] */
	struct scn_population pops[VMS_MAX_POPULATIONS];
	int npops;
	/* [step NAME] */
	struct scn_step steps[SCN_MAX_STEPS];
	int nsteps;
	/* [expect], and [expect WHEN] */
	struct scn_expect expect;
	struct scn_expect_when when[SCN_MAX_WHEN];
	int nwhen;
	int expect_line;   /* where [expect] starts, for messages */
};

/* Does a block owned by `who` (a population name or "unowned") that stayed
 * for `reason`, matching known bug `bug` ("" none), match one of the rules? */
bool stay_allowed(const struct stay_rule *rules, int n, const char *who, int reason, const char *bug);

/* Parse and check a scenario file. Errors read "FILE:LINE: [section] key:
 * what is wrong". */
int scenario_load(const char *path, struct scenario *s, struct err *e);
/* The same from a string (tests); `path` names it in messages. */
int scenario_parse(const char *text, const char *path, struct scenario *s, struct err *e);

/* The expectations for one kernel: [expect] with every [expect WHEN]
 * that holds merged over it. version: "6.1.192"; release: uname -r.
 * applied gets the WHENs that held, "; "-separated, and those that could
 * not be decided (a config condition without a config) marked so. */
void scenario_expect_for(const struct scenario *s, const char *version, const char *release, struct scn_expect *out,
			 char *applied, size_t len);
/* Compare two versions "6.1.192" numerically, up to three parts: <0, 0, >0. */
int version_cmp(const char *a, const char *b);

const char *zone_name(enum zone z);        /* "movable" / "kernel" */
const char *driver_mode_name(enum driver_mode m);    /* "auto", "sbm", "bbm" */
const char *online_policy_name(enum online_policy p); /* "zone", "auto-movable", "guest" */

#endif
