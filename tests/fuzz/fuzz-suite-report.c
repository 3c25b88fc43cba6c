/* libFuzzer harness: any bytes as a suite result (suite.json, or a
 * baseline a user passes). The baseline comparison and the JUnit, KTAP,
 * HTML and KCIDB writers must take whatever parses as JSON without crashing, hanging
 * or reading out of bounds. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suite/baseline.h"
#include "suite/suite-report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *null;
	if (!null && !(null = fopen("/dev/null", "w")))
		abort();
	if (size > 512 << 10)
		return 0;
	struct json_tokener *tok = json_tokener_new_ex(64);
	struct json_object *o = json_tokener_parse_ex(tok, (const char *)data, (int)size);
	json_tokener_free(tok);
	if (!o)
		return 0;
	struct err e;
	/* each run against the whole thing as its baseline */
	struct json_object *runs;
	if (json_object_object_get_ex(o, "runs", &runs) && json_object_is_type(runs, json_type_array))
		for (size_t i = 0; i < json_object_array_length(runs); i++) {
			struct json_object *run = json_object_array_get_idx(runs, i), *rep;
			if (!json_object_is_type(run, json_type_object))
				continue;
			if (json_object_object_get_ex(run, "report", &rep))
				json_object_put(failure_signatures(rep));
			baseline_compare(run, o);
		}
	suite_write_junit(o, null, &e);
	suite_write_ktap(o, null, &e);
	suite_write_html(o, null, &e);
	suite_write_kcidb(o, NULL, null, &e);
	json_object_put(o);
	return 0;
}
