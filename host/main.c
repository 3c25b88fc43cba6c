/* vmemstress: boots a VM whose guest program builds memory that is hard to
 * take away, unplugs virtio-mem memory step by step, and reports per block
 * what went, what did not, and whether every page kept its data. */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/population-spec.h"
#include "run/report.h"
#include "run/run.h"
#include "scenario/scenario.h"
#include "suite/suite.h"
#include "util/units.h"

#ifndef VMS_VERSION
#define VMS_VERSION "dev"
#endif

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: vmemstress [OPTIONS] --kernel FILE --initrd FILE SCENARIO.ini\n"
		"       vmemstress [OPTIONS] --suite FILE|DIR --suite-kernel NAME:KDIR:INITRD...\n"
		"\n"
		"Boot a VM with a virtio-mem device, build the scenario's populations of\n"
		"pages in its memory, unplug memory step by step, and report which device\n"
		"blocks went, which did not and what was in them, and whether every page\n"
		"kept its data. ./run.sh builds the kernel and initramfs and calls this.\n"
		"\n"
		"Options:\n"
		"  -k, --kernel FILE       guest kernel image (bzImage/vmlinuz)\n"
		"  -i, --initrd FILE       initramfs with the guest program as /init\n"
		"  -o, --outdir DIR        where console.log, qemu.log, qmp.log, guest.log and\n"
		"                          report.json go (default: vmemstress-out/SCENARIO-TIME)\n"
		"      --json FILE         also write the JSON report to FILE\n"
		"  -a, --accel MODE        auto (default: KVM when /dev/kvm works, else TCG),\n"
		"                          kvm (fail without KVM) or tcg\n"
		"      --qemu PATH         QEMU binary (default: qemu-system-x86_64)\n"
		"      --backend NAME      qemu (default: QEMU started directly) or libvirt\n"
		"                          (a transient libvirt domain; README.md, \"libvirt\n"
		"                          backend\")\n"
		"      --connect URI[=JOBS]  the libvirt daemon (default: $LIBVIRT_DEFAULT_URI,\n"
		"                          else qemu:///system), local or remote\n"
		"                          (qemu+ssh://HOST/system); with --suite repeatable:\n"
		"                          the runs are dealt to these hosts, up to JOBS\n"
		"                          VMs at once on each (default 1)\n"
		"      --kernel-on-host PATH  with --backend libvirt: boot PATH on the daemon's\n"
		"                          host (a suite's uploaded volume) in --kernel's place\n"
		"      --initrd-on-host PATH  the same for --initrd\n"
		"      --probe-libvirt     connect to it, say what it offers and exit\n"
		"                          (0 usable, 2 not)\n"
		"      --boot-timeout DUR  how long the guest may take to come up (default:\n"
		"                          the scenario's boot-timeout, 180s)\n"
		"      --snapshot-dir DIR  boot snapshots: restore the VM saved at the guest's\n"
		"                          hello by an earlier run of the same VM (QEMU\n"
		"                          command line, kernel, initrd and QEMU alike) instead\n"
		"                          of booting it; save one when there is none (qemu\n"
		"                          backend; default: none, every run boots)\n"
		"      --cmdline TEXT      append TEXT to the guest kernel command line\n"
		"      --settle evidence|patient  when a step that did not reach its size ends:\n"
		"                          evidence (default: the kernel refused again, or\n"
		"                          never touched the block across kicks; after a\n"
		"                          release, once its blocks went; 15 s for a refusal\n"
		"                          no page explains) or patient (wait while the\n"
		"                          kernel is busy, up to the step timeout, and 15 s\n"
		"                          after any refusal: to compare findings)\n"
		"      --kernel-config FILE  the kernel's .config: check the options a run\n"
		"                          needs before booting; populations the kernel\n"
		"                          cannot build are reported as not shown\n"
		"      --known-bugs FILE   known kernel bugs to name when their evidence\n"
		"                          matches (./run.sh passes known-bugs.ini)\n"
		"      --check             check the scenario file and exit\n"
		"\n"
		"Suites (./run.sh --suite prepares the kernels and passes them):\n"
		"      --suite FILE|DIR    run every scenario of a suite file (README.md,\n"
		"                          \"Suites\") or a directory of *.ini against every\n"
		"                          kernel; writes suite.json, junit.xml, results.ktap,\n"
		"                          report.html, report.txt and runs/KERNEL/SCENARIO/\n"
		"      --suite-kernel NAME:KDIR:INITRD  a kernel to run on (repeatable): KDIR\n"
		"                          holds vmlinuz (and config), INITRD its initramfs\n"
		"  -j, --jobs N            up to N VMs at once (default: the suite's jobs, 1);\n"
		"                          never more than the host's cores, and a VM waits\n"
		"                          until the host's free memory holds it\n"
		"      --baseline FILE     an earlier suite.json: failures it already had are\n"
		"                          \"known\", only new ones fail the suite\n"		"      --kcidb FILE        also write the suite's result as KCIDB I/O JSON\n"
		"                          (schema 5.3, for kcidb-submit) to FILE\n"
		"      --run-timeout DUR   stop a run that takes longer (default: the suite's\n"
		"                          run-timeout, 30m)\n"
		"      --list-kernels      print the suite file's [kernel] sections and exit\n"
		"  -q, --quiet             no progress lines on stderr\n"
		"  -v, --verbose           debug lines on stderr\n"
		"  -h, --help              this text\n"
		"  -V, --version           the version\n"
		"\n"
		"Population types:\n");
	for (size_t i = 0; vms_population_specs[i]; i++) {
		const struct population_spec *p = vms_population_specs[i];
		fprintf(out, "  %-15s %s\n", p->name, p->summary);
		for (size_t k = 0; k < VMS_MAX_POP_OPTIONS && p->options[k].key; k++) {
			const struct vms_pop_option *o = &p->options[k];
			char values[64] = "";
			for (size_t c = 0; o->choices[c]; c++)
				snprintf(values + strlen(values), sizeof(values) - strlen(values), "%s%s", c ? "|" : "",
					 o->choices[c]);
			if (!values[0])
				snprintf(values, sizeof(values), "%ld..%ld", o->min, o->max);
			fprintf(out, "  %-15s   %s = %s (default %s): %s\n", "", o->key, values, o->def, o->help);
		}
	}
	fprintf(out,
		"\n"
		"Exit status: 0 pass, 1 an expectation failed (in a suite: a failure not in\n"
		"the baseline), 2 a run could not finish (VM, QEMU, guest error,\n"
		"interrupted), 3 bad usage, scenario, suite or kernel, 4 skipped: the kernel\n"
		"can show nothing the scenario asks for (in a suite: every run skipped).\n"
		"README.md documents the scenario format and the report.\n");
}

/* What the command line asks for: the options of one run and of a suite,
 * and what main() does with them. */
struct cmdline {
	struct run_options run;
	struct suite_options suite;
	const char *json_path, *config_path, *bugs_path;
	bool check_only, list_kernels, probe_libvirt, backend_given;
	int nconnect;
};

/* parse_options(): the command line is read, go on */
#define KEEP_GOING (-1)

/* An option a suite passes on to each of its runs, as "--name=value". */
static void forward(struct suite_options *so, const char *name, const char *value)
{
	static char fwd[ARRAY_SIZE(so->forward)][600];
	if (so->nforward < (int)ARRAY_SIZE(so->forward)) {
		snprintf(fwd[so->nforward], sizeof(fwd[0]), "--%s=%s", name, value);
		so->forward[so->nforward] = fwd[so->nforward];
		so->nforward++;
	}
}

/* --suite-kernel NAME:KDIR:INITRD, into the next of so's kernels. */
static int suite_kernel_option(struct suite_options *so, const char *arg)
{
	struct suite_ready_kernel *k = &so->kernels[so->nkernels];
	const char *c1 = strchr(arg, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	if (so->nkernels == SUITE_MAX_KERNELS || !c1 || !c2 || c1 == arg) {
		fprintf(stderr, "vmemstress: --suite-kernel %s: expected NAME:KDIR:INITRD (at most %d)\n", arg,
			SUITE_MAX_KERNELS);
		return -1;
	}
	snprintf(k->name, sizeof(k->name), "%.*s", (int)(c1 - arg), arg);
	snprintf(k->kdir, sizeof(k->kdir), "%.*s", (int)(c2 - c1 - 1), c1 + 1);
	snprintf(k->initrd, sizeof(k->initrd), "%s", c2 + 1);
	if (!suite_name_ok(k->name)) {
		fprintf(stderr, "vmemstress: --suite-kernel %s: the name is letters, digits, '-', '_', '.'\n", arg);
		return -1;
	}
	so->nkernels++;
	return 0;
}

/* The options into cl, each value checked. Returns KEEP_GOING, or the exit
 * status to end with now (--help, --version, a bad option or value). */
static int parse_options(int argc, char **argv, struct cmdline *cl)
{
	static const struct option longopts[] = {
		{ "kernel", required_argument, NULL, 'k' },  { "initrd", required_argument, NULL, 'i' },
		{ "outdir", required_argument, NULL, 'o' },  { "json", required_argument, NULL, 'J' },
		{ "suite", required_argument, NULL, 'S' },   { "suite-kernel", required_argument, NULL, 'W' },
		{ "jobs", required_argument, NULL, 'j' },    { "baseline", required_argument, NULL, 'b' },
		{ "run-timeout", required_argument, NULL, 'T' }, { "list-kernels", no_argument, NULL, 'L' },
		{ "accel", required_argument, NULL, 'a' },   { "qemu", required_argument, NULL, 'Q' },
		{ "boot-timeout", required_argument, NULL, 'B' }, { "cmdline", required_argument, NULL, 'C' },
		{ "check", no_argument, NULL, 'c' },         { "kernel-config", required_argument, NULL, 'K' },
		{ "known-bugs", required_argument, NULL, 'U' },         { "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },       { "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },       { "backend", required_argument, NULL, 'G' },
		{ "connect", required_argument, NULL, 'N' }, { "probe-libvirt", no_argument, NULL, 'P' },
		{ "settle", required_argument, NULL, 'Z' },
		{ "kcidb", required_argument, NULL, 'X' },
		{ "snapshot-dir", required_argument, NULL, 'D' },
		{ "kernel-on-host", required_argument, NULL, 'H' }, { "initrd-on-host", required_argument, NULL, 'I' },
		{ 0, 0, 0, 0 },
	};
	struct run_options *o = &cl->run;
	struct suite_options *so = &cl->suite;
	run_options_default(o);
	int opt;
	while ((opt = getopt_long(argc, argv, "k:i:o:j:a:qvhV", longopts, NULL)) != -1) {
		switch (opt) {
		case 'k': o->kernel = optarg; break;
		case 'H': o->kernel_on_host = optarg; break;
		case 'I': o->initrd_on_host = optarg; break;
		case 'i': o->initrd = optarg; break;
		case 'o':
			if (strlen(optarg) > VMS_MAX_OUTDIR || !*optarg) {
				fprintf(stderr, "vmemstress: --outdir %.60s...: 1 to %d characters (its files' paths must fit)\n",
					optarg, VMS_MAX_OUTDIR);
				return EXIT_USAGE;
			}
			o->outdir = optarg;
			break;
		case 'J': cl->json_path = optarg; break;
		case 'S': so->path = optarg; break;
		case 'b': so->baseline = optarg; break;
		case 'X':
			if (!*optarg) {
				fprintf(stderr, "vmemstress: --kcidb: expected a file name\n");
				return EXIT_USAGE;
			}
			so->kcidb = optarg;
			break;
		case 'L': cl->list_kernels = true; break;
		case 'j': {
			char *end;
			long n = strtol(optarg, &end, 10);
			if (*end || n < 1 || n > 64) {
				fprintf(stderr, "vmemstress: --jobs %s: a number from 1 to 64\n", optarg);
				return EXIT_USAGE;
			}
			so->jobs = (int)n;
			break;
		}
		case 'T':
			if (parse_duration_ms(optarg, &so->run_timeout_ms) < 0 || !so->run_timeout_ms) {
				fprintf(stderr, "vmemstress: --run-timeout %s: not a duration of at most 7 days (e.g. 20m)\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'W':
			if (suite_kernel_option(so, optarg) < 0)
				return EXIT_USAGE;
			break;
		case 'a':
			if (strcmp(optarg, "auto") == 0)
				o->accel = ACCEL_AUTO;
			else if (strcmp(optarg, "kvm") == 0)
				o->accel = ACCEL_KVM;
			else if (strcmp(optarg, "tcg") == 0)
				o->accel = ACCEL_TCG;
			else {
				fprintf(stderr, "vmemstress: --accel %s: expected auto, kvm or tcg\n", optarg);
				return EXIT_USAGE;
			}
			forward(so, "accel", optarg);
			break;
		case 'Q': o->qemu = optarg; forward(so, "qemu", optarg); break;
		case 'G':
			if (strcmp(optarg, "qemu") != 0 && strcmp(optarg, "libvirt") != 0) {
				fprintf(stderr, "vmemstress: --backend %s: expected qemu or libvirt\n", optarg);
				return EXIT_USAGE;
			}
			o->backend = optarg;
			cl->backend_given = true;
			forward(so, "backend", optarg);
			break;
		case 'N':
			/* a single run's daemon; in a suite, a host each */
			o->connect_uri = optarg;
			cl->nconnect++;
			if (suite_connect_option(so, optarg) < 0)
				return EXIT_USAGE;
			break;
		case 'P': cl->probe_libvirt = true; break;
		case 'B':
			if (parse_duration_ms(optarg, &o->boot_timeout_ms) < 0 || !o->boot_timeout_ms) {
				fprintf(stderr, "vmemstress: --boot-timeout %s: not a duration of at most 7 days (e.g. 90s, 2m)\n", optarg);
				return EXIT_USAGE;
			}
			forward(so, "boot-timeout", optarg);
			break;
		case 'D':
			if (!*optarg || strlen(optarg) > 400) {
				fprintf(stderr, "vmemstress: --snapshot-dir: 1 to 400 characters\n");
				return EXIT_USAGE;
			}
			o->snapshot_dir = optarg;
			forward(so, "snapshot-dir", optarg);
			break;
		case 'C': o->extra_cmdline = optarg; forward(so, "cmdline", optarg); break;
		case 'Z':
			if (strcmp(optarg, "evidence") != 0 && strcmp(optarg, "patient") != 0) {
				fprintf(stderr, "vmemstress: --settle %s: evidence or patient\n", optarg);
				return EXIT_USAGE;
			}
			o->settle_patient = optarg[0] == 'p';
			forward(so, "settle", optarg);
			break;
		case 'K': cl->config_path = optarg; break;
		case 'U': cl->bugs_path = optarg; break;
		case 'c': cl->check_only = true; break;
		case 'q': vms_verbosity = 0; break;
		case 'v': vms_verbosity = 2; break;
		case 'h': usage(stdout); return EXIT_PASS;
		case 'V': printf("vmemstress %s\n", VMS_VERSION); return EXIT_PASS;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	return KEEP_GOING;
}

/* --probe-libvirt: ./run.sh asks this before starting a private libvirtd. */
static int probe_libvirt(const char *uri)
{
	char info[600];
	struct err pe = { "" };
	if (vm_libvirt_probe(uri, info, sizeof(info), &pe) < 0) {
		fprintf(stderr, "vmemstress: %s\n", pe.msg);
		return EXIT_INFRA;
	}
	printf("%s\n", info);
	return EXIT_PASS;
}

/* --suite or --list-kernels, with the operands left after the options:
 * the suite is --suite's or the one operand of --list-kernels. */
static int suite_entry(int nargs, char **args, struct cmdline *cl)
{
	struct suite_options *so = &cl->suite;
	const struct run_options *o = &cl->run;
	const char *suite_path = so->path;
	if (!suite_path && nargs == 1)
		suite_path = args[0];
	if (!suite_path || nargs != (so->path ? 0 : 1)) {
		fprintf(stderr, "vmemstress: --suite takes the suite; no scenario file after it (try --help)\n");
		return EXIT_USAGE;
	}
	if (cl->list_kernels)
		return suite_list_kernels(suite_path);
	if (o->kernel || o->initrd || cl->json_path || cl->check_only) {
		fprintf(stderr, "vmemstress: with --suite, kernels come from --suite-kernel; --kernel, --initrd, "
			"--json and --check are for single runs\n");
		return EXIT_USAGE;
	}
	if (o->outdir && strlen(o->outdir) > VMS_MAX_SUITE_OUTDIR) {
		fprintf(stderr, "vmemstress: --outdir %.60s...: a suite's is at most %d characters (its runs go in "
			"OUTDIR/runs/KERNEL/SCENARIO)\n", o->outdir, VMS_MAX_SUITE_OUTDIR);
		return EXIT_USAGE;
	}
	so->outdir = o->outdir;
	so->known_bugs = cl->bugs_path;
	if (cl->config_path) {
		fprintf(stderr, "vmemstress: with --suite, each kernel's config is KDIR/config\n");
		return EXIT_USAGE;
	}
	return suite_main(so);
}

/* Whether the file at path can be opened for reading; says so when not. */
static bool readable(const char *what, const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "vmemstress: %s %s: cannot be read\n", what, path);
		return false;
	}
	fclose(f);
	return true;
}

/* The kernel can build none of the scenario's populations: boot nothing,
 * say so (skipped). */
static int skip_run(const struct run_options *o, struct report *r, struct err *e)
{
	snprintf(r->kernel, sizeof(r->kernel), "%s", o->kernel);
	snprintf(r->outdir, sizeof(r->outdir), "%s", o->outdir);
	r->verdict = VERDICT_SKIP;
	if (make_dirs(o->outdir, e) < 0)
		fprintf(stderr, "vmemstress: %s\n", e->msg);
	return EXIT_SKIP;
}

/* report.json and report.txt in the run's directory, --json's copy, the
 * text on stdout. Returns the exit status: a pass whose --json copy could
 * not be written is an error. */
static int write_reports(const struct report *r, const char *outdir, const char *json_path, int status,
			 struct err *e)
{
	char path[700];
	snprintf(path, sizeof(path), "%s/report.json", outdir);
	if (report_write_json(r, path, e) < 0)
		fprintf(stderr, "vmemstress: %s\n", e->msg);
	if (json_path && report_write_json(r, json_path, e) < 0) {
		fprintf(stderr, "vmemstress: %s\n", e->msg);
		if (status == EXIT_PASS)
			status = EXIT_INFRA;
	}
	FILE *txt;
	snprintf(path, sizeof(path), "%s/report.txt", outdir);
	if ((txt = fopen_output(path))) {
		report_write_text(r, txt);
		fclose(txt);
	}
	report_write_text(r, stdout);
	fflush(stdout);
	return status;
}

/* One scenario: its file checked (all of --check), then the kernel's
 * config and the known bugs read, the VM run (or skipped), the report
 * written and printed. */
static int single_run(const char *scenario_path, struct cmdline *cl)
{
	struct run_options *o = &cl->run;
	struct err e = { "" };
	static struct scenario s;
	if (scenario_load(scenario_path, &s, &e) < 0) {
		fprintf(stderr, "vmemstress: %s\n", e.msg);
		return EXIT_USAGE;
	}
	if (cl->check_only) {
		printf("%s: ok (%d populations, %d steps)\n", s.path, s.npops, s.nsteps);
		return EXIT_PASS;
	}
	if (!o->kernel || !o->initrd) {
		fprintf(stderr, "vmemstress: --kernel and --initrd are required (./run.sh provides them)\n");
		return EXIT_USAGE;
	}
	if (!readable("kernel", o->kernel) || !readable("initrd", o->initrd))
		return EXIT_USAGE;
	char outdir[512];
	if (!o->outdir) {
		time_t now = time(NULL);
		char stamp[32];
		strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", localtime(&now));
		snprintf(outdir, sizeof(outdir), "vmemstress-out/%s-%s", s.name, stamp);
		o->outdir = outdir;
	}

	static struct known_bugs bugs;
	if (cl->bugs_path && known_bugs_load(cl->bugs_path, &bugs, &e) < 0) {
		fprintf(stderr, "vmemstress: %s\n", e.msg);
		return EXIT_USAGE;
	}
	static struct report r;
	report_init(&r, &s);
	r.known_bugs = cl->bugs_path ? &bugs : NULL;
	int had_pops = s.npops;
	if (cl->config_path) {
		if (kconfig_check(cl->config_path, &s, &r.config, &e) < 0) {
			fprintf(stderr, "vmemstress: %s\n", e.msg);
			return EXIT_USAGE;
		}
		for (int i = 0; i < r.config.n_not_shown; i++)
			fprintf(stderr, "vmemstress: not shown: %s\n", r.config.not_shown[i]);
	}

	install_signal_handlers();
	progress_start_clock();
	int status = had_pops && !s.npops ? skip_run(o, &r, &e) : run_scenario(o, &s, &r);
	status = write_reports(&r, o->outdir, cl->json_path, status, &e);
	report_free(&r);
	return status;
}

int main(int argc, char **argv)
{
	static struct cmdline cl;
	int status = parse_options(argc, argv, &cl);
	if (status != KEEP_GOING)
		return status;
	if (cl.probe_libvirt)
		return probe_libvirt(cl.run.connect_uri);
	bool suite = cl.list_kernels || cl.suite.path;
	/* in a suite, --connect deals the runs to libvirt hosts: the libvirt
	 * backend unless another was asked for */
	if (cl.run.connect_uri && strcmp(cl.run.backend, "libvirt") != 0 && (!suite || cl.backend_given)) {
		fprintf(stderr, "vmemstress: --connect goes with --backend libvirt\n");
		return EXIT_USAGE;
	}
	if (suite)
		return suite_entry(argc - optind, argv + optind, &cl);
	if ((cl.run.kernel_on_host || cl.run.initrd_on_host) &&
	    (strcmp(cl.run.backend, "libvirt") != 0 || !cl.run.kernel_on_host || !cl.run.initrd_on_host)) {
		fprintf(stderr, "vmemstress: --kernel-on-host and --initrd-on-host go together, with --backend libvirt\n");
		return EXIT_USAGE;
	}
	if (cl.nconnect > 1) {
		fprintf(stderr, "vmemstress: --connect once for a single run (several deal a suite's runs to hosts)\n");
		return EXIT_USAGE;
	}
	if (cl.suite.nkernels || cl.suite.baseline || cl.suite.jobs || cl.suite.run_timeout_ms || cl.suite.kcidb) {
		fprintf(stderr, "vmemstress: --suite-kernel, --jobs, --baseline, --run-timeout and --kcidb go with "
			"--suite\n");
		return EXIT_USAGE;
	}
	if (optind != argc - 1) {
		fprintf(stderr, "vmemstress: expected one scenario file (try --help)\n");
		return EXIT_USAGE;
	}
	return single_run(argv[optind], &cl);
}
