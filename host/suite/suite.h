/* A suite run: every scenario against every kernel, up to N VMs at once,
 * each run a child process of this program with its own output directory,
 * then one result in every format (suite.json, junit.xml, results.ktap,
 * report.html, report.txt) and one exit status.
 *
 * Runs go to this machine (QEMU or the one --connect daemon, as a single
 * run would), or are dealt out to several libvirt hosts (--connect
 * URI[=JOBS] repeated, or the suite file's [host] sections): a run starts
 * on the host with the most free slots whose jobs and memory (as its
 * daemon reports it) hold it. A host whose run could not finish and whose
 * daemon then does not answer has dropped out: its unfinished runs go back
 * in the queue for the others (their partial output kept under
 * OUT/lost/HOST/), and the result names it. */
#ifndef HOST_SUITE_H
#define HOST_SUITE_H

#include <stdint.h>
#include <stdio.h>
#include "suite/suite-file.h"

/* A kernel ready to boot: ./run.sh prepared it (images/). */
struct suite_ready_kernel {
	char name[SUITE_MAX_NAME + 1];
	char kdir[512];           /* vmlinuz, config (when known), release */
	char initrd[512];
};

struct suite_options {
	const char *path;         /* suite file or directory */
	const char *outdir;       /* NULL: vmemstress-out/SUITE-TIME */
	const char *baseline;     /* an earlier suite.json, or NULL */
	const char *kcidb;        /* also write the result as KCIDB JSON here, or NULL */
	/* --connect URI[=JOBS], each a host (replacing the suite's [host]
	 * sections); none: the suite file's, else this machine */
	struct suite_host hosts[SUITE_MAX_HOSTS];
	int nhosts;
	const char *known_bugs;
	int jobs;                 /* 0: the suite's, else 1 */
	uint64_t run_timeout_ms;  /* 0: the suite's, else 30 min */
	struct suite_ready_kernel kernels[SUITE_MAX_KERNELS];
	int nkernels;
	/* options every run gets ("--accel=tcg", ...) */
	const char *forward[32];
	int nforward;
};

/* --connect URI[=JOBS] into the next of o's hosts: JOBS when the text after
 * the URI's last '=' is a number of 1-64 (a URI ending in such a query
 * needs an explicit =JOBS), else 1; named after the URI's host part
 * ("local" when it has none), made unique. Says why on stderr and returns
 * -1 on a bad value. */
int suite_connect_option(struct suite_options *o, const char *arg);

/* Print the suite's kernels for ./run.sh to prepare, one per line:
 * NAME TAB OPTION TAB VALUE [TAB --modules|--patches TAB VALUE]. */
int suite_list_kernels(const char *path);

/* The suite result in words (report.txt and the terminal). */
struct json_object;
void suite_write_text(struct json_object *suite, FILE *out);

/* Run the suite; returns the exit status (README.md, "Exit status"). */
int suite_main(const struct suite_options *o);

#endif
