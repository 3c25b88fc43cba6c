/* What failed in a run, as stable signatures, and how that compares with
 * an earlier suite result (the baseline): the nightly verdict is about
 * what changed, not about known failures. Works on the JSON reports
 * (schemas vmemstress-report/1 and vmemstress-suite/1). */
#ifndef HOST_BASELINE_H
#define HOST_BASELINE_H

#include <json-c/json.h>
#include "util/util.h"

/* The failures of one run report as an array of strings that do not
 * depend on addresses or counts: "step unplug-all: vmsplice stayed:
 * gup-reference", "population anon: corrupted pages", ... Empty for a run
 * that passed or could not finish. */
struct json_object *failure_signatures(struct json_object *report);

/* Load a suite result (suite.json) to compare with. */
int baseline_load(const char *path, struct json_object **suite, struct err *e);

/* Fill the run entry's "change", "new_failures", "fixed_failures" and
 * "known_failures" from its "failures" and the baseline's run with the same
 * "id". baseline NULL: change is null and the lists are empty. Returns true
 * when the run is a regression: it failed with something the baseline did
 * not have (or the baseline does not have the run and it failed). */
bool baseline_compare(struct json_object *run, struct json_object *baseline);

#endif
