/* The suite result as KCIDB I/O JSON, schema version 5.3 (kernelci/
 * kcidb-io; third_party/kcidb-io/ holds the schema, tests/reports/
 * check-kcidb.sh validates against it): what `kcidb-submit` takes.
 *
 * Origin "vmemstress". One checkout and one build per kernel (the kernel
 * as given: its name, release and image; vmemstress builds nothing KCIDB
 * would call a build, so a build that ran is PASS), one test per run
 * (scenario x kernel) with path "vmemstress.SCENARIO". Ids name the suite
 * run: "vmemstress:HOST/SUITE/STARTED/KERNEL[/SCENARIO]", unique as long
 * as one host does not start the same suite twice in a second.
 *
 * Status: pass PASS, fail FAIL, skip SKIP, a run that could not finish
 * ERROR, one that never started ("not run") MISS. misc carries what KCIDB
 * has no field for: the verdict and exit status, the failures and their
 * change against a baseline, the stuck blocks folded into runs of alike
 * blocks (step, blocks, addresses, memory blocks, owner, reason, basis,
 * evidence, known bug, release), the reasons and known bugs, the
 * populations not shown, the findings.
 *
 * With dir (the suite's output directory, absolute) each test names the
 * run's files that exist there as file:// URLs (output_files, log_url:
 * the run's report.txt); without, none. KCIDB strings may not hold NUL
 * and the output must be UTF-8: bytes that are not become '?'. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "suite/suite-report.h"

#define ORIGIN "vmemstress"
#define LOG_EXCERPT_MAX 16384  /* the schema's maxLength */

/* A JSON string from s, with invalid UTF-8 as '?' (s NULL: NULL). */
static struct json_object *str(const char *s)
{
	if (!s)
		return NULL;
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	if (!f)
		return json_object_new_string("?");
	sr_put_utf8(f, s);
	struct json_object *o = fclose(f) == 0 ? json_object_new_string_len(buf, (int)n) : json_object_new_string("?");
	free(buf);
	return o;
}

static void add_str(struct json_object *o, const char *key, const char *s)
{
	if (s)
		json_object_object_add(o, key, str(s));
}

/* A path component of a KCIDB test path: [a-zA-Z0-9_-]+ */
static void path_part(const char *in, char *out, size_t len)
{
	size_t j = 0;
	for (const char *p = in; *p && j + 1 < len; p++)
		out[j++] = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
				   *p == '-' || *p == '_' ? *p : '_';
	if (!j && len > 1)
		out[j++] = '_';
	out[j] = 0;
}

/* file://PATH, PATH percent-encoded but for unreserved characters and
 * '/': a URI jsonschema's "uri" format accepts. NULL when dir is. */
static struct json_object *file_url(const char *dir, const char *rel, const char *name)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	if (!f)
		return NULL;
	fputs("file://", f);
	const char *parts[3] = { dir, rel, name };
	for (int i = 0; i < 3; i++) {
		if (!parts[i])
			continue;
		if (i)
			fputc('/', f);
		for (const unsigned char *p = (const unsigned char *)parts[i]; *p; p++)
			if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
			    strchr("-._~/", *p))
				fputc(*p, f);
			else
				fprintf(f, "%%%02X", *p);
	}
	struct json_object *o = fclose(f) == 0 ? json_object_new_string_len(buf, (int)n) : NULL;
	free(buf);
	return o;
}

static struct json_object *resource(const char *name, struct json_object *url)
{
	struct json_object *r = json_object_new_object();
	json_object_object_add(r, "name", json_object_new_string(name));
	json_object_object_add(r, "url", url);
	return r;
}

/* A run directory we may look into: relative, no "..", no odd bytes. */
static bool safe_rel(const char *rel)
{
	if (!rel || !*rel || rel[0] == '/' || strstr(rel, ".."))
		return false;
	for (const char *p = rel; *p; p++)
		if ((unsigned char)*p < 0x20)
			return false;
	return true;
}

/* "2026-11-23T09:22:45Z" plus ms, as "2026-11-23T09:22:45.016000+00:00";
 * false when started is not such a time. */
static bool start_time(const char *started, int64_t ms, char *buf, size_t len)
{
	struct tm tm = { 0 };
	const char *end = started ? strptime(started, "%Y-%m-%dT%H:%M:%SZ", &tm) : NULL;
	if (!end || *end || ms < 0 || ms > 31536000000)
		return false;
	time_t t = timegm(&tm);
	if (t == (time_t)-1)
		return false;
	t += (time_t)(ms / 1000);
	struct tm out;
	if (!gmtime_r(&t, &out))
		return false;
	char base[32];
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &out);
	snprintf(buf, len, "%s.%03d000+00:00", base, (int)(ms % 1000));
	return true;
}

static const char *status_of(struct json_object *run)
{
	const char *v = sr_run_verdict(run);
	if (strcmp(v, "pass") == 0)
		return "PASS";
	if (strcmp(v, "fail") == 0)
		return "FAIL";
	if (strcmp(v, "skip") == 0)
		return "SKIP";
	const char *err = sr_str(run, "error", "");
	return strncmp(err, "not run", 7) == 0 ? "MISS" : "ERROR";
}

static struct json_object *str_list(struct json_object *o, const char *key)
{
	struct json_object *a = json_object_new_array();
	for (size_t i = 0; i < sr_len(o, key); i++) {
		const char *s = sr_strv(sr_at(o, key, i, json_type_string), NULL);
		if (s)
			json_object_array_add(a, str(s));
	}
	return a;
}

/* Add s to the array of strings a unless it is there. */
static void add_unique(struct json_object *a, const char *s)
{
	for (size_t i = 0; i < json_object_array_length(a); i++)
		if (strcmp(json_object_get_string(json_object_array_get_idx(a, i)), s) == 0)
			return;
	json_object_array_add(a, str(s));
}

static struct json_object *range(int64_t first, int64_t last)
{
	char buf[64];
	if (first < 0)
		return NULL;
	if (last > first)
		snprintf(buf, sizeof(buf), "%" PRId64 "-%" PRId64, first, last);
	else
		snprintf(buf, sizeof(buf), "%" PRId64, first);
	return json_object_new_string(buf);
}

/* The stuck blocks of every step, a run of alike blocks per entry, and
 * the distinct reasons and known bugs, into misc. */
static void stuck_blocks(struct json_object *report, struct json_object *misc)
{
	struct json_object *list = json_object_new_array(), *reasons = json_object_new_array(),
			   *bugs = json_object_new_array();
	int64_t bs = sr_int(sr_get(report, "region", json_type_object), "block_size", 0);
	for (size_t s = 0; s < sr_len(report, "steps"); s++) {
		struct json_object *step = sr_at(report, "steps", s, json_type_object);
		struct sr_stay_run r;
		for (size_t i = 0; step && sr_stay_run(step, i, bs, &r); i = r.next) {
			struct json_object *b = json_object_new_object(), *v = r.first;
			struct json_object *kb = sr_get(v, "known_bug", json_type_object);
			const char *reason = sr_str(v, "reason", "unknown");
			add_str(b, "step", sr_str(step, "name", "?"));
			json_object_object_add(b, "blocks", range(r.block_first, r.block_last));
			json_object_object_add(b, "count", json_object_new_int64(r.block_first >= 0 ? r.block_last - r.block_first + 1 : 1));
			if (r.addr_first >= 0 && r.addr_end > r.addr_first) {
				char a[64];
				snprintf(a, sizeof(a), "%#" PRIx64 "-%#" PRIx64, (uint64_t)r.addr_first, (uint64_t)r.addr_end);
				json_object_object_add(b, "addresses", json_object_new_string(a));
			}
			if (r.mblock_first >= 0)
				json_object_object_add(b, "memory_blocks", range(r.mblock_first, r.mblock_last));
			add_str(b, "owner", sr_str(v, "owner", NULL));
			add_str(b, "reason", reason);
			json_object_object_add(b, "expected", json_object_new_boolean(r.expected));
			add_str(b, "basis", sr_str(v, "basis", NULL));
			add_str(b, "evidence", sr_str(v, "evidence", NULL));
			add_str(b, "declared", sr_str(v, "declared", NULL));
			add_str(b, "signature", sr_str(v, "signature", NULL));
			add_str(b, "released_by", sr_str(v, "released_by", NULL));
			json_object_object_add(b, "stayed_after_release",
					       json_object_new_boolean(sr_bool(v, "stayed_after_release", false)));
			add_str(b, "sysfs_offline", sr_str(v, "sysfs_offline", NULL));
			if (kb && sr_text(kb, "name", NULL)) {
				struct json_object *k = json_object_new_object();
				add_str(k, "name", sr_str(kb, "name", NULL));
				add_str(k, "title", sr_str(kb, "title", NULL));
				add_str(k, "fixed_by", sr_text(kb, "fixed_by", NULL));
				add_str(k, "fix_title", sr_text(kb, "fix_title", NULL));
				json_object_object_add(b, "known_bug", k);
				add_unique(bugs, sr_str(kb, "name", ""));
			}
			char *text = NULL;
			size_t n = 0;
			FILE *f = open_memstream(&text, &n);
			if (f) {
				sr_stay_text(f, step, &r);
				if (fclose(f) == 0)
					add_str(b, "text", text);
				free(text);
			}
			add_unique(reasons, reason);
			json_object_array_add(list, b);
		}
	}
	json_object_object_add(misc, "stuck_blocks", list);
	json_object_object_add(misc, "reasons", reasons);
	json_object_object_add(misc, "known_bugs", bugs);
}

/* What a reader of the test wants first: the error, the failures, the
 * findings or what was not shown; at most the schema's 16 KiB. */
static void log_excerpt(struct json_object *t, struct json_object *run, struct json_object *report)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	if (!f)
		return;
	const char *err = sr_text(run, "error", NULL);
	if (err)
		fprintf(f, "error: %s\n", err);
	const char *tail = sr_text(sr_get(report, "run", json_type_object), "console_tail", NULL);
	static const char *const lists[][2] = { { "failures", "failure" }, { "findings", "finding" },
						{ "not_shown", "not shown" } };
	for (size_t l = 0; l < 3; l++) {
		struct json_object *o = l == 0 ? run : report;
		for (size_t i = 0; i < sr_len(o, lists[l][0]); i++)
			fprintf(f, "%s: %s\n", lists[l][1], sr_strv(sr_at(o, lists[l][0], i, json_type_string), "?"));
	}
	if (tail && err)
		fprintf(f, "console:\n%s\n", tail);
	if (fclose(f) != 0) {
		free(buf);
		return;
	}
	if (n > LOG_EXCERPT_MAX - 64) {
		/* cut at a UTF-8 character's start; str() cleans the rest */
		size_t cut = LOG_EXCERPT_MAX - 64;
		while (cut && ((unsigned char)buf[cut] & 0xC0) == 0x80)
			cut--;
		snprintf(buf + cut, n - cut + 1, "\n[cut]\n");
	}
	if (n)
		add_str(t, "log_excerpt", buf);
	free(buf);
}

static void output_files(struct json_object *t, struct json_object *run, const char *dir)
{
	static const char *const names[] = { "report.txt", "report.json", "console.log", "kernel.log", "guest.log",
					     "run.log", "qemu.log", "qmp.log", "libvirt.log" };
	const char *rel = sr_str(run, "dir", NULL);
	if (!dir || !safe_rel(rel))
		return;
	struct json_object *files = json_object_new_array();
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s/%s", dir, rel, names[i]);
		if (access(path, R_OK) != 0)
			continue;
		struct json_object *url = file_url(dir, rel, names[i]);
		if (!url)
			continue;
		if (i == 0)
			json_object_object_add(t, "log_url", json_object_get(url));
		json_object_array_add(files, resource(names[i], url));
	}
	json_object_object_add(t, "output_files", files);
}

static void put_test(struct json_object *tests, struct json_object *suite, struct json_object *run,
		     const char *id_prefix, const char *dir)
{
	struct json_object *info = sr_get(suite, "suite", json_type_object);
	struct json_object *report = sr_get(run, "report", json_type_object);
	struct json_object *vm = sr_get(report, "vm", json_type_object);
	struct json_object *kernel = sr_get(run, "kernel", json_type_object);
	struct json_object *scenario = sr_get(run, "scenario", json_type_object);
	char kn[SR_NAME_MAX], sn[SR_NAME_MAX], part[SR_NAME_MAX], id[1024];
	sr_run_kernel(run, kn, sizeof(kn));
	sr_run_scenario(run, sn, sizeof(sn));

	struct json_object *t = json_object_new_object();
	snprintf(id, sizeof(id), "%s/%s/%s", id_prefix, kn, sn);
	add_str(t, "id", id);
	json_object_object_add(t, "origin", json_object_new_string(ORIGIN));
	snprintf(id, sizeof(id), "%s/%s", id_prefix, kn);
	add_str(t, "build_id", id);
	path_part(sn, part, sizeof(part));
	snprintf(id, sizeof(id), "vmemstress.%s", part);
	json_object_object_add(t, "path", json_object_new_string(id));
	const char *status = status_of(run);
	json_object_object_add(t, "status", json_object_new_string(status));
	char when[64];
	if (strcmp(status, "MISS") != 0 && start_time(sr_str(info, "started", NULL), sr_int(run, "started_ms", 0), when,
							sizeof(when)))
		json_object_object_add(t, "start_time", json_object_new_string(when));
	int64_t ms = sr_int(run, "elapsed_ms", -1);
	if (strcmp(status, "MISS") != 0 && ms >= 0 && ms <= 31536000000)
	{
		/* "17.431", not the 17 digits json-c would print */
		char d[32];
		snprintf(d, sizeof(d), "%" PRId64 ".%03d", ms / 1000, (int)(ms % 1000));
		json_object_object_add(t, "duration", json_object_new_double_s((double)ms / 1000, d));
	}

	/* "vmsplice on debian-6.1: FAIL: step unplug-all: vmsplice stayed: gup-reference" */
	char *comment = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&comment, &n);
	if (f) {
		fprintf(f, "%s on %s: %s", sn, kn, status);
		const char *why = sr_text(run, "error", sr_strv(sr_at(run, "failures", 0, json_type_string), NULL));
		if (why)
			fprintf(f, ": %s", why);
		if (fclose(f) == 0)
			add_str(t, "comment", comment);
		free(comment);
	}
	log_excerpt(t, run, report);
	output_files(t, run, dir);
	const char *spath = sr_str(scenario, "path", NULL);
	const char *image = sr_str(kernel, "image", NULL);
	struct json_object *inputs = json_object_new_array();
	if (spath && spath[0] == '/')
		json_object_array_add(inputs, resource("scenario.ini", file_url(spath, NULL, NULL)));
	if (image && image[0] == '/')
		json_object_array_add(inputs, resource("vmlinuz", file_url(image, NULL, NULL)));
	json_object_object_add(t, "input_files", inputs);

	struct json_object *env = json_object_new_object(), *emisc = json_object_new_object();
	const char *host = sr_text(run, "host", sr_text(info, "host", "?"));
	char *ecomment = NULL;
	f = open_memstream(&ecomment, &n);
	if (f) {
		fprintf(f, "host %s, %s backend, accel %s", host, sr_str(vm, "backend", "?"), sr_str(vm, "accel", "?"));
		if (fclose(f) == 0)
			add_str(env, "comment", ecomment);
		free(ecomment);
	}
	add_str(emisc, "host", host);
	add_str(emisc, "backend", sr_str(vm, "backend", NULL));
	add_str(emisc, "hypervisor", sr_str(vm, "hypervisor", NULL));
	add_str(emisc, "accel", sr_str(vm, "accel", NULL));
	json_object_object_add(env, "misc", emisc);
	json_object_object_add(t, "environment", env);

	struct json_object *misc = json_object_new_object();
	add_str(misc, "run", sr_str(run, "id", NULL));
	add_str(misc, "kernel", kn);
	add_str(misc, "kernel_release", sr_text(kernel, "release", NULL));
	add_str(misc, "scenario", sn);
	add_str(misc, "scenario_path", spath);
	add_str(misc, "dir", sr_str(run, "dir", NULL));
	add_str(misc, "verdict", sr_run_verdict(run));
	json_object_object_add(misc, "exit_status", json_object_new_int64(sr_int(run, "exit_status", 2)));
	add_str(misc, "error", sr_text(run, "error", NULL));
	json_object_object_add(misc, "failures", str_list(run, "failures"));
	add_str(misc, "change", sr_str(run, "change", NULL));
	json_object_object_add(misc, "new_failures", str_list(run, "new_failures"));
	json_object_object_add(misc, "known_failures", str_list(run, "known_failures"));
	json_object_object_add(misc, "fixed_failures", str_list(run, "fixed_failures"));
	stuck_blocks(report, misc);
	json_object_object_add(misc, "not_shown", str_list(report, "not_shown"));
	json_object_object_add(misc, "findings", str_list(report, "findings"));
	json_object_object_add(t, "misc", misc);
	json_object_array_add(tests, t);
}

int suite_write_kcidb(struct json_object *suite, const char *dir, FILE *out, struct err *e)
{
	struct json_object *info = sr_get(suite, "suite", json_type_object);
	struct json_object *root = json_object_new_object(), *version = json_object_new_object();
	struct json_object *checkouts = json_object_new_array(), *builds = json_object_new_array(),
			   *tests = json_object_new_array();
	json_object_object_add(version, "major", json_object_new_int(5));
	json_object_object_add(version, "minor", json_object_new_int(3));
	json_object_object_add(root, "version", version);

	char prefix[700], when[64];
	snprintf(prefix, sizeof(prefix), ORIGIN ":%s/%s/%s", sr_text(info, "host", "unknown-host"),
		 sr_text(info, "name", "suite"), sr_text(info, "started", "unknown-time"));
	bool timed = start_time(sr_str(info, "started", NULL), 0, when, sizeof(when));

	struct json_object *kernels = sr_kernels(suite);
	size_t nruns = sr_len(suite, "runs");
	for (size_t k = 0; k < json_object_array_length(kernels); k++) {
		const char *kn = json_object_get_string(json_object_array_get_idx(kernels, k));
		struct json_object *kobj = NULL;
		char name[SR_NAME_MAX], id[1024];
		for (size_t i = 0; i < nruns && !kobj; i++) {
			struct json_object *run = sr_at(suite, "runs", i, json_type_object);
			sr_run_kernel(run, name, sizeof(name));
			if (run && strcmp(name, kn) == 0)
				kobj = sr_get(run, "kernel", json_type_object);
		}
		const char *release = sr_text(kobj, "release", NULL), *image = sr_text(kobj, "image", NULL);
		struct json_object *kmisc = json_object_new_object();
		add_str(kmisc, "kernel", kn);
		add_str(kmisc, "release", release);
		add_str(kmisc, "image", image);

		struct json_object *c = json_object_new_object(), *b = json_object_new_object();
		snprintf(id, sizeof(id), "%s/%s", prefix, kn);
		add_str(c, "id", id);
		json_object_object_add(c, "origin", json_object_new_string(ORIGIN));
		add_str(c, "comment", release ? release : kn);
		json_object_object_add(c, "valid", json_object_new_boolean(true));
		if (timed)
			json_object_object_add(c, "start_time", json_object_new_string(when));
		json_object_object_add(c, "misc", json_object_get(kmisc));
		json_object_array_add(checkouts, c);

		add_str(b, "id", id);
		add_str(b, "checkout_id", id);
		json_object_object_add(b, "origin", json_object_new_string(ORIGIN));
		json_object_object_add(b, "architecture", json_object_new_string("x86_64"));
		add_str(b, "comment", release ? release : kn);
		add_str(b, "config_name", kn);
		json_object_object_add(b, "status", json_object_new_string("PASS"));
		if (image && image[0] == '/') {
			struct json_object *files = json_object_new_array();
			json_object_array_add(files, resource("vmlinuz", file_url(image, NULL, NULL)));
			json_object_object_add(b, "output_files", files);
		}
		json_object_object_add(b, "misc", kmisc);
		json_object_array_add(builds, b);
	}
	json_object_put(kernels);
	for (size_t i = 0; i < nruns; i++) {
		struct json_object *run = sr_at(suite, "runs", i, json_type_object);
		if (run)
			put_test(tests, suite, run, prefix, dir);
	}
	json_object_object_add(root, "checkouts", checkouts);
	json_object_object_add(root, "builds", builds);
	json_object_object_add(root, "tests", tests);
	fputs(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
							   JSON_C_TO_STRING_NOSLASHESCAPE),
	      out);
	fputc('\n', out);
	json_object_put(root);
	if (fflush(out) != 0 || ferror(out))
		return err_sys(e, "cannot write the KCIDB report");
	return 0;
}
