#define _GNU_SOURCE
#include "kevidence.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* value of "key=" (or "key:") in line as an integer, accepting 0x hex */
static bool field_u64(const char *line, const char *key, uint64_t *out)
{
	const char *p = line;
	size_t klen = strlen(key);
	while ((p = strstr(p, key))) {
		/* must start a word */
		if (p == line || p[-1] == ' ' || p[-1] == '\t') {
			char *end;
			unsigned long long v = strtoull(p + klen, &end, 0);
			if (end == p + klen)
				return false;
			*out = v;
			return true;
		}
		p += klen;
	}
	return false;
}

int kev_parse_isolation(const char *line, struct isolation_event *ev)
{
	const char *p = strstr(line, "test_pages_isolated:");
	if (!p)
		return 0;
	memset(ev, 0, sizeof(*ev));
	const char *ret = strstr(p, " ret=");
	if (!field_u64(p, "start_pfn=", &ev->start_pfn) || !field_u64(p, "end_pfn=", &ev->end_pfn) ||
	    !field_u64(p, "fin_pfn=", &ev->fin_pfn) || !ret)
		return -1;
	ev->failed = strncmp(ret + 5, "fail", 4) == 0;
	if (!ev->failed && strncmp(ret + 5, "success", 7) != 0)
		return -1;
	return 1;
}

int kev_parse_migrate(const char *line, struct migrate_event *ev)
{
	const char *p = strstr(line, "mm_migrate_pages:");
	if (!p)
		return 0;
	memset(ev, 0, sizeof(*ev));
	if (!field_u64(p, "nr_succeeded=", &ev->succeeded) || !field_u64(p, "nr_failed=", &ev->failed))
		return -1;
	field_u64(p, "nr_thp_succeeded=", &ev->thp_succeeded);
	field_u64(p, "nr_thp_failed=", &ev->thp_failed);
	field_u64(p, "nr_thp_split=", &ev->thp_split);
	const char *r = strstr(p, " reason=");
	if (r)
		sscanf(r + 8, "%23s", ev->reason);
	return 1;
}

int kev_parse_dump_line(const char *line, struct dumped_page *cur, bool *in_record)
{
	/* /dev/kmsg records look like "6,1234,5678,-;page:..."; dmesg lines
	 * like "[  1.2] page:...": look for the payload anywhere. */
	const char *p;
	if ((p = strstr(line, "page:")) && (p == line || p[-1] == ';' || p[-1] == ' ') && strstr(p, "refcount:")) {
		uint64_t v;
		memset(cur, 0, sizeof(*cur));
		cur->refcount = cur->mapcount = -1;
		if (field_u64(p, "refcount:", &v))
			cur->refcount = (int64_t)v;
		if (field_u64(p, "mapcount:", &v))
			cur->mapcount = (int64_t)v;
		*in_record = field_u64(p, "pfn:", &cur->pfn);
		return 0;
	}
	if (!*in_record)
		return 0;
	if ((p = strstr(line, "flags: "))) {
		snprintf(cur->flags, sizeof(cur->flags), "%s", p + 7);
		return 0;
	}
	if ((p = strstr(line, "page dumped because: "))) {
		snprintf(cur->reason, sizeof(cur->reason), "%s", p + 21);
		size_t n = strlen(cur->reason);
		while (n && (cur->reason[n - 1] == '\n' || cur->reason[n - 1] == '\r'))
			cur->reason[--n] = 0;
		*in_record = false;
		return 1;
	}
	return 0;
}
