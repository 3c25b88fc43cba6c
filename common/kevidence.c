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

/* the payload of a /dev/kmsg record ("6,1234,5678,-;text\n KEY=v") or of a
 * dmesg line ("[    1.2] text"), up to its end of line, into buf */
static const char *payload(const char *line, char *buf, size_t len)
{
	const char *p = strchr(line, ';');
	if (p && p - line < 40 && strspn(line, "0123456789,-c") == (size_t)(p - line))
		line = p + 1;
	else if (line[0] == '[' && (p = strchr(line, ']')))
		line = p + 1 + (p[1] == ' ');
	size_t n = strcspn(line, "\r\n");
	if (n >= len)
		n = len - 1;
	memcpy(buf, line, n);
	buf[n] = 0;
	return buf;
}

int kev_parse_offline_failure(const char *line, struct offline_failure *f)
{
	char text[256];
	const char *p = strstr(payload(line, text, sizeof(text)), "memory offlining [mem ");
	if (!p)
		return 0;
	unsigned long long start, end;
	int n = 0;
	memset(f, 0, sizeof(*f));
	if (sscanf(p, "memory offlining [mem %llx-%llx] failed due to %n", &start, &end, &n) != 2 || n == 0 ||
	    !p[n] || end < start)
		return -1;
	f->start = start;
	f->end = end;
	snprintf(f->reason, sizeof(f->reason), "%s", p + n);
	for (char *c = f->reason; *c; c++)
		if (*c < 0x20 || *c > 0x7e)
			*c = '?';
	return 1;
}

int kev_parse_driver_broken(const char *line, char *buf, unsigned len, int *rc)
{
	char text[256];
	payload(line, text, sizeof(text));
	const char *p = strstr(text, "marking device broken: ");
	if (!p || !strstr(text, "virtio_mem"))
		return 0;
	char *end;
	long v = strtol(p + 23, &end, 10);
	if (end == p + 23 || v < -4095 || v > 4095)
		return -1;
	*rc = (int)v;
	for (char *c = text; *c; c++)
		if (*c < 0x20 || *c > 0x7e)
			*c = '?';
	snprintf(buf, len, "%s", text);
	return 1;
}

/* "  kworker/u4:1-40  [001] ..." -> 40: the digits before the first " [" and its padding */
static int task_pid(const char *line, const char *event)
{
	const char *cpu = strstr(line, " [");
	if (!cpu || cpu > event)
		return -1;
	while (cpu > line && cpu[-1] == ' ')
		cpu--;  /* the pid is padded */
	const char *d = cpu;
	while (d > line && d[-1] >= '0' && d[-1] <= '9')
		d--;
	if (d == cpu || d == line || d[-1] != '-')
		return -1;
	return atoi(d);
}

int kev_parse_isolate_probe(const char *line, struct isolate_probe *p)
{
	const char *s = strstr(line, "vms_isolate_start: ("), *e = strstr(line, "vms_isolate_end: (");
	const char *u = strstr(line, "vms_isolate_undo: (");
	if (!s && !e && !u)
		return 0;
	memset(p, 0, sizeof(*p));
	p->is_end = e != NULL;
	p->is_undo = u != NULL;
	if (u)
		s = u;
	p->pid = task_pid(line, s ? s : e);
	if (p->pid < 0)
		return -1;
	if (s)
		return field_u64(s, "start_pfn=", &p->start_pfn) && field_u64(s, "end_pfn=", &p->end_pfn) &&
			       p->end_pfn > p->start_pfn ? 1 : -1;
	const char *caller = e + strlen("vms_isolate_end: ("), *plus = strchr(caller, '+'), *ret = strstr(e, " ret=");
	if (!ret || !plus || plus == caller || (size_t)(plus - caller) >= sizeof(p->caller))
		return -1;
	memcpy(p->caller, caller, (size_t)(plus - caller));
	char *end;
	long v = strtol(ret + 5, &end, 10);
	if (end == ret + 5 || v > 0 || v < -4095)
		return -1;
	p->ret = (int)v;
	return 1;
}

int kev_parse_target_probe(const char *line, bool *none)
{
	const char *p = strstr(line, "vms_target_end: (");
	if (!p)
		return 0;
	const char *ret = strstr(p, " ret=");
	if (!ret)
		return -1;
	char *end;
	unsigned long long v = strtoull(ret + 5, &end, 0);
	if (end == ret + 5)
		return -1;
	*none = v == 0;
	return 1;
}
