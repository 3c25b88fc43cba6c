#include "util/units.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

static int parse_number(const char *s, uint64_t *num, const char **rest)
{
	if (!s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	while (*end == ' ')
		end++;
	*num = v;
	*rest = end;
	return 0;
}

int parse_size(const char *s, uint64_t *out)
{
	uint64_t v;
	const char *u;
	if (parse_number(s, &v, &u) < 0)
		return -1;
	static const struct { const char *name; unsigned shift; } units[] = {
		{ "", 0 },    { "B", 0 },    { "K", 10 },   { "KB", 10 }, { "KiB", 10 },
		{ "M", 20 },  { "MB", 20 },  { "MiB", 20 }, { "G", 30 },  { "GB", 30 },
		{ "GiB", 30 }, { "T", 40 },  { "TB", 40 },  { "TiB", 40 },
	};
	for (unsigned i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcasecmp(u, units[i].name) == 0) {
			if (units[i].shift && v > (UINT64_MAX >> units[i].shift))
				return -1;
			*out = v << units[i].shift;
			return 0;
		}
	}
	return -1;
}

int parse_duration_ms(const char *s, uint64_t *out)
{
	uint64_t v;
	const char *u;
	if (parse_number(s, &v, &u) < 0)
		return -1;
	uint64_t mult;
	if (*u == 0 || strcasecmp(u, "s") == 0)
		mult = 1000;
	else if (strcasecmp(u, "ms") == 0)
		mult = 1;
	else if (strcasecmp(u, "m") == 0 || strcasecmp(u, "min") == 0)
		mult = 60000;
	else
		return -1;
	if (v > VMS_MAX_DURATION_MS / mult)
		return -1;
	*out = v * mult;
	return 0;
}

const char *format_size(uint64_t bytes, char *buf, unsigned len)
{
	static const char *names[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	unsigned i = 0;
	uint64_t unit = 1;
	while (i < 4 && bytes >= unit * 1024)
		unit *= 1024, i++;
	if (bytes % unit == 0)
		snprintf(buf, len, "%llu %s", (unsigned long long)(bytes / unit), names[i]);
	else
		snprintf(buf, len, "%.1f %s", (double)bytes / (double)unit, names[i]);
	return buf;
}
