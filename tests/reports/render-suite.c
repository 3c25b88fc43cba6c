/* Render a suite.json with the suite writers: the development fixture's
 * stand-in for the suite runner (tests/reports/make-fixture.sh).
 *
 *   render-suite SUITE.json OUTDIR   writes OUTDIR/junit.xml, results.ktap, report.html,
 *                                    kcidb.json (its file URLs under OUTDIR) */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suite/suite-report.h"

static const char *outdir;

static int write_kcidb(struct json_object *suite, FILE *f, struct err *e)
{
	return suite_write_kcidb(suite, outdir, f, e);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: render-suite SUITE.json OUTDIR\n");
		return 3;
	}
	struct json_object *suite = json_object_from_file(argv[1]);
	if (!suite) {
		fprintf(stderr, "render-suite: cannot read %s: %s\n", argv[1], json_util_get_last_err());
		return 3;
	}
	static const struct {
		const char *file;
		int (*write)(struct json_object *, FILE *, struct err *);
	} outs[] = { { "junit.xml", suite_write_junit }, { "results.ktap", suite_write_ktap }, { "report.html", suite_write_html },
		     { "kcidb.json", write_kcidb } };
	static char abs[PATH_MAX];
	outdir = realpath(argv[2], abs);
	int rc = 0;
	for (size_t i = 0; i < sizeof(outs) / sizeof(outs[0]); i++) {
		char path[4096];
		struct err e = { { 0 } };
		snprintf(path, sizeof(path), "%s/%s", argv[2], outs[i].file);
		FILE *f = fopen(path, "w");
		if (!f) {
			perror(path);
			rc = 1;
			continue;
		}
		if (outs[i].write(suite, f, &e) < 0) {
			fprintf(stderr, "render-suite: %s: %s\n", path, e.msg);
			rc = 1;
		}
		if (fclose(f) != 0) {
			perror(path);
			rc = 1;
		}
	}
	json_object_put(suite);
	return rc;
}
