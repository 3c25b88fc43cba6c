/* What a run found, the verdict, and its exit status. The text and JSON
 * writers (report-text.c, report-json.c) render the same model. */
#ifndef HOST_REPORT_H
#define HOST_REPORT_H

#include <stdio.h>
#include "link/protocol.h"
#include "run/classify.h"
#include "run/invariants.h"
#include "run/kconfig.h"
#include "run/known-bugs.h"
#include "scenario/scenario.h"
#include "vm/vm.h"

/* Exit statuses: documented in README.md ("Exit status"). */
enum {
	EXIT_PASS = 0,      /* every expectation held */
	EXIT_FAIL = 1,      /* an expectation failed: the kernel's result */
	EXIT_INFRA = 2,     /* the run could not finish: VM, QEMU, guest, Ctrl-C */
	EXIT_USAGE = 3,     /* bad command line or scenario */
	EXIT_SKIP = 4,      /* the kernel can show nothing the scenario asks for */
};

enum run_status { RUN_COMPLETE, RUN_ERROR, RUN_INTERRUPTED };
enum verdict { VERDICT_PASS, VERDICT_FAIL, VERDICT_ERROR, VERDICT_SKIP };

struct step_report {
	char name[VMS_MAX_NAME + 1];
	uint64_t requested, size_before, size_after;
	uint64_t elapsed_ms;
	unsigned kicks;            /* requested-size rewritten to retry at once */
	/* driver = sysfs: each memory block's offline, as first tried */
	struct offline_result offlined[64];
	int noffline;
	bool reached;              /* device size == requested */
	bool have_state;
	struct guest_state state;  /* the guest's view after the step */
	/* when the size was not reached: why each block stayed, and what
	 * releasing the holders and sysfs offline did */
	struct block_verdict *verdicts;
	size_t nverdicts;
	char released[VMS_MAX_POPULATIONS][VMS_MAX_NAME + 1];
	int nreleased;
	bool have_final;
	struct guest_state final;  /* after releases and the second opinion */
	uint64_t size_final;
	bool reached_final;
};

#define REPORT_MAX_FINDINGS 32
#define REPORT_MAX_SAMPLES 4096

/* The device's requested and plugged size at one moment (the HTML report
 * draws them over time). */
struct size_sample {
	uint64_t t_ms;             /* since the run started */
	uint64_t requested, size;
};

struct report {
	const struct scenario *scn;
	const struct known_bugs *known_bugs;  /* NULL: none loaded */
	struct kconfig_check config;          /* what the kernel config allowed */
	char backend[16], kernel[512], kernel_release[128], accel[8], hypervisor[96], guest_program[64];
	char outdir[512];
	struct vm_region region;
	bool have_region;
	uint64_t memory_block_size;  /* the guest's, from its hello */
	uint64_t plugged_at_start;
	bool have_populate;
	struct guest_state populate;
	struct step_report steps[SCN_MAX_STEPS];
	int nsteps;
	uint64_t t0_ms;            /* when the run started (now_ms clock) */
	struct size_sample *timeline;
	size_t ntimeline;
	uint64_t boot_ms, plug_ms, populate_ms, total_ms;
	/* how the VM came up: "cold" (booted) or "restored" (from a boot
	 * snapshot, --snapshot-dir); with snapshots on, what happened to the
	 * snapshot: outcome "restored", "none" (there was none), "rejected"
	 * (there was one, not valid for this run: detail says why),
	 * "restore-failed" (QEMU could not load it: detail), "off" (no key:
	 * detail); saved: this run saved one (else save_error says why, when
	 * it tried) */
	char boot_kind[12];
	bool snapshot_on, snapshot_saved;
	char snapshot_key[65], snapshot_file[760], snapshot_outcome[20], snapshot_detail[400], snapshot_save_error[300];
	uint64_t snapshot_save_ms, snapshot_restore_ms;
	uint64_t host_cpu_ms, host_max_rss_kb;
	char kernel_version[64];   /* "6.1.192": Debian's package version from uname -v, else the release's */
	/* the expectations for this kernel: [expect] and the [expect WHEN]s that held */
	struct scn_expect expect;
	char expect_applied[300];
	/* the driver's mode and parameters, as the guest read them back */
	char driver_mode[8];       /* "sbm", "bbm"; "" not seen */
	uint64_t driver_unit;      /* its sub-block or big block size */
	char driver_params[400];
	bool have_driver;
	uint64_t guest_boot_ms;   /* the guest kernel's uptime at hello */  /* this program's own, QEMU not counted */
	/* how far the run got */
	enum run_status status;
	char phase[80];            /* where it stopped, on error */
	char error[1024];
	char console_tail[3072];
	/* evaluation */
	enum verdict verdict;
	/* cases not shown: populations the kernel cannot build (config), and
	 * ones the run could not show (no page in the region, no THP) */
	char not_shown[2 * VMS_MAX_POPULATIONS][200];
	int n_not_shown;
	bool pop_not_shown[VMS_MAX_POPULATIONS];  /* by scenario index */
	struct invariant inv[VMS_NINVARIANTS];     /* the rules every kernel keeps (run/invariants.h) */
	char findings[REPORT_MAX_FINDINGS][256];   /* why it failed */
	int nfindings;
	char warnings[REPORT_MAX_FINDINGS][256];   /* what weakens the result */
	int nwarnings;
};

void report_init(struct report *r, const struct scenario *s);
void report_free(struct report *r);
/* Record the device's sizes now; repeats of the last sample are dropped. */
void report_sample(struct report *r, uint64_t requested, uint64_t size);
/* Decide the verdict from what was collected and the scenario's [expect]. */
void report_evaluate(struct report *r);
int report_exit_status(const struct report *r);
const char *verdict_name(enum verdict v);
/* The population name of a stuck block's owner, or "unowned". */
const char *verdict_who(const struct report *r, const struct block_verdict *v);

void report_write_text(const struct report *r, FILE *out);
struct json_object *report_to_json(const struct report *r);
int report_write_json(const struct report *r, const char *path, struct err *e);

#endif
