/* libFuzzer harness: any bytes as a scenario file. The parser must give
 * either a scenario or an error naming file and line, never crash, hang or
 * read out of bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scenario/scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 64 << 10)
		return 0;
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;  /* scenario_load rejects NUL bytes before parsing */
	static struct scenario s;
	struct err e;
	if (scenario_parse(text, "fuzz.ini", &s, &e) < 0 && strncmp(e.msg, "fuzz.ini", 8) != 0)
		abort();  /* every error names the file */
	free(text);
	return 0;
}
