#define _GNU_SOURCE
#include "link/protocol.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Nesting deeper than this is refused before it can cost anything. */
#define MAX_DEPTH 8

void sanitize(const char *s, char *buf, size_t len)
{
	size_t o = 0;
	for (; s && *s && o + 1 < len; s++)
		buf[o++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
	if (len)
		buf[o] = 0;
}

static struct json_object *command(const char *name)
{
	struct json_object *cmd = json_object_new_object();
	json_object_object_add(cmd, "cmd", json_object_new_string(name));
	return cmd;
}

struct json_object *proto_cmd_setup(const struct scenario *s, const struct vm_region *r)
{
	struct json_object *cmd = command("setup"), *reg = json_object_new_object(), *pops = json_object_new_array();
	json_object_object_add(reg, "addr", json_object_new_int64((int64_t)r->addr));
	json_object_object_add(reg, "size", json_object_new_int64((int64_t)r->size));
	json_object_object_add(reg, "block_size", json_object_new_int64((int64_t)r->block_size));
	json_object_object_add(reg, "node", json_object_new_int(r->node));
	json_object_object_add(cmd, "region", reg);
	json_object_object_add(cmd, "thp", json_object_new_string(s->thp));
	if (s->modes.online == ONLINE_GUEST)
		json_object_object_add(cmd, "online",
				       json_object_new_string(s->zone == ZONE_KERNEL ? "online_kernel" : "online_movable"));
	for (int i = 0; i < s->npops; i++) {
		struct json_object *p = json_object_new_object();
		json_object_object_add(p, "name", json_object_new_string(s->pops[i].name));
		json_object_object_add(p, "type", json_object_new_string(s->pops[i].type));
		json_object_object_add(p, "size", json_object_new_int64((int64_t)s->pops[i].size));
		if (s->pops[i].nopts) {
			struct json_object *o = json_object_new_object();
			for (int k = 0; k < s->pops[i].nopts; k++)
				json_object_object_add(o, s->pops[i].opts[k].key, json_object_new_string(s->pops[i].opts[k].value));
			json_object_object_add(p, "options", o);
		}
		json_object_array_add(pops, p);
	}
	json_object_object_add(cmd, "populations", pops);
	return cmd;
}

struct json_object *proto_cmd_state(const char *step, bool attribute)
{
	struct json_object *cmd = command("state");
	json_object_object_add(cmd, "step", json_object_new_string(step));
	if (attribute)
		json_object_object_add(cmd, "attribute", json_object_new_boolean(true));
	return cmd;
}

struct json_object *proto_cmd_release(const char *step, const char *const *pops, int n)
{
	struct json_object *cmd = command("release"), *list = json_object_new_array();
	json_object_object_add(cmd, "step", json_object_new_string(step));
	for (int i = 0; i < n; i++)
		json_object_array_add(list, json_object_new_string(pops[i]));
	json_object_object_add(cmd, "populations", list);
	return cmd;
}

struct json_object *proto_cmd_poweroff(void)
{
	return command("poweroff");
}

struct json_object *proto_cmd_kernel_log(void)
{
	return command("kernel-log");
}

int proto_kernel_log(struct json_object *msg, FILE *out, struct err *e)
{
	struct json_object *t;
	if (!json_object_object_get_ex(msg, "text", &t) || !json_object_is_type(t, json_type_string))
		return err_set(e, "kernel-log: no \"text\" string");
	const char *s = json_object_get_string(t);
	int len = json_object_get_string_len(t);
	/* the guest's text, but only printable bytes and line breaks: it is
	 * read in terminals and editors */
	fput_text(out, s, (size_t)len, true);
	struct json_object *tr;
	if (json_object_object_get_ex(msg, "truncated", &tr) && json_object_get_boolean(tr))
		fputs("[vmemstress: the guest cut the log here: 1 MiB]\n", out);
	return ferror(out) ? err_set(e, "kernel.log: write error") : 0;
}

struct json_object *proto_cmd_activity(void)
{
	return command("activity");
}

int proto_activity(struct json_object *msg, int64_t *events, bool *broken, int64_t *stalled_ms, struct err *e)
{
	struct json_object *v;
	*stalled_ms = -1;
	if (json_object_object_get_ex(msg, "stalled_ms", &v)) {
		if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0)
			return err_set(e, "guest activity answer: \"stalled_ms\" is not an integer >= 0");
		*stalled_ms = json_object_get_int64(v);
	}
	if (!json_object_object_get_ex(msg, "events", &v) || !json_object_is_type(v, json_type_int) ||
	    json_object_get_int64(v) < -1)
		return err_set(e, "guest activity answer: \"events\" is missing or not an integer >= -1");
	*events = json_object_get_int64(v);
	*broken = false;
	if (json_object_object_get_ex(msg, "driver_broken", &v)) {
		if (!json_object_is_type(v, json_type_boolean))
			return err_set(e, "guest activity answer: \"driver_broken\" is not a boolean");
		*broken = json_object_get_boolean(v);
	}
	return 0;
}

struct json_object *proto_cmd_offline(const uint64_t *memory_blocks, int n, unsigned timeout_ms)
{
	struct json_object *cmd = command("offline"), *list = json_object_new_array();
	for (int i = 0; i < n; i++)
		json_object_array_add(list, json_object_new_int64((int64_t)memory_blocks[i]));
	json_object_object_add(cmd, "memory_blocks", list);
	json_object_object_add(cmd, "timeout_ms", json_object_new_int((int)timeout_ms));
	return cmd;
}

int proto_parse_line(const char *line, struct json_object **msg, const char **type, struct err *e)
{
	char shown[80];
	struct json_tokener *tok = json_tokener_new_ex(MAX_DEPTH);
	struct json_object *o = json_tokener_parse_ex(tok, line, (int)strlen(line));
	enum json_tokener_error je = json_tokener_get_error(tok);
	size_t used = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	sanitize(line, shown, sizeof(shown));
	if (!o || je != json_tokener_success) {
		json_object_put(o);
		return err_set(e, "guest sent invalid JSON (%s): \"%s\"", json_tokener_error_desc(je), shown);
	}
	if (used != strlen(line)) {
		json_object_put(o);
		return err_set(e, "guest sent trailing bytes after a JSON value: \"%s\"", shown);
	}
	struct json_object *t;
	if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, "type", &t) ||
	    !json_object_is_type(t, json_type_string)) {
		json_object_put(o);
		return err_set(e, "guest sent JSON without a string \"type\": \"%s\"", shown);
	}
	*msg = o;
	*type = json_object_get_string(t);
	return 0;
}

static int get_int(struct json_object *o, const char *key, uint64_t max, uint64_t *out, struct err *e)
{
	struct json_object *v;
	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return err_set(e, "\"%s\" is missing or not an integer", key);
	int64_t x = json_object_get_int64(v);
	if (x < 0 || (uint64_t)x > max)
		return err_set(e, "\"%s\" = %lld is out of range (0..%llu)", key, (long long)x, (unsigned long long)max);
	*out = (uint64_t)x;
	return 0;
}

static int get_str(struct json_object *o, const char *key, bool required, char *buf, size_t len, struct err *e)
{
	struct json_object *v;
	buf[0] = 0;
	if (!json_object_object_get_ex(o, key, &v))
		return required ? err_set(e, "\"%s\" is missing", key) : 0;
	if (!json_object_is_type(v, json_type_string))
		return err_set(e, "\"%s\" is not a string", key);
	if ((size_t)json_object_get_string_len(v) >= len)
		return err_set(e, "\"%s\" is longer than %zu bytes", key, len - 1);
	sanitize(json_object_get_string(v), buf, len);
	return 0;
}

/* {"mode","unit","params":{NAME: VALUE}}: bounded, sanitised, names and
 * values of parameters as words */
static int hello_driver(struct json_object *d, struct guest_hello *h, struct err *e)
{
	struct json_object *p;
	if (!json_object_is_type(d, json_type_object))
		return err_set(e, "not an object");
	if (get_str(d, "mode", true, h->driver_mode, sizeof(h->driver_mode), e) < 0 ||
	    get_int(d, "unit", UINT64_C(1) << 40, &h->driver_unit, e) < 0)
		return -1;
	if (h->driver_mode[0] && strcmp(h->driver_mode, "sbm") && strcmp(h->driver_mode, "bbm"))
		return err_set(e, "mode \"%s\" is neither sbm nor bbm", h->driver_mode);
	if (!json_object_object_get_ex(d, "params", &p) || !json_object_is_type(p, json_type_object))
		return err_set(e, "\"params\" is missing or not an object");
	size_t n = 0;
	json_object_object_foreach(p, key, val) {
		char k[64], v[64];
		if (!json_object_is_type(val, json_type_string))
			return err_set(e, "params: \"%.40s\" is not a string", key);
		sanitize(key, k, sizeof(k));
		sanitize(json_object_get_string(val), v, sizeof(v));
		int w = snprintf(h->driver_params + n, sizeof(h->driver_params) - n, "%s%s=%s", n ? " " : "", k, v);
		if (w < 0 || (size_t)w >= sizeof(h->driver_params) - n)
			return err_set(e, "params: more than %zu bytes", sizeof(h->driver_params) - 1);
		n += (size_t)w;
	}
	return 0;
}

int proto_hello(struct json_object *msg, struct guest_hello *h, struct err *e)
{
	uint64_t proto;
	memset(h, 0, sizeof(*h));
	if (get_int(msg, "proto", 1000000, &proto, e) < 0)
		return err_wrap(e, "guest hello");
	h->proto = (int)proto;
	if (h->proto != VMS_PROTO_VERSION)
		return err_set(e, "guest speaks protocol version %d, this host program speaks %d: rebuild the guest image",
			       h->proto, VMS_PROTO_VERSION);
	if (get_str(msg, "program", true, h->program, sizeof(h->program), e) < 0 ||
	    get_str(msg, "kernel", true, h->kernel, sizeof(h->kernel), e) < 0 ||
	    get_str(msg, "version", false, h->version, sizeof(h->version), e) < 0 ||
	    get_str(msg, "thp", false, h->thp, sizeof(h->thp), e) < 0 ||
	    get_int(msg, "memory_block_size", UINT64_C(1) << 40, &h->memory_block_size, e) < 0)
		return err_wrap(e, "guest hello");
	/* Memory blocks are sections: a power of two, 16 MiB at least on every
	 * architecture with memory hotplug (128 MiB on x86-64). A smaller claim
	 * would let the guest send a block list per byte of the region. */
	const uint64_t mbs = h->memory_block_size;
	if (mbs < VMS_MIN_MEMORY_BLOCK || (mbs & (mbs - 1)))
		return err_set(e, "guest hello: memory_block_size %llu is not a power of two of at least %u MiB",
			       (unsigned long long)mbs, VMS_MIN_MEMORY_BLOCK >> 20);
	struct json_object *v;
	if (json_object_object_get_ex(msg, "uptime_ms", &v) &&
	    get_int(msg, "uptime_ms", UINT64_C(1) << 40, &h->uptime_ms, e) < 0)
		return err_wrap(e, "guest hello");
	if (json_object_object_get_ex(msg, "driver", &v) && hello_driver(v, h, e) < 0)
		return err_wrap(e, "guest hello: driver");
	return 0;
}

void guest_state_free(struct guest_state *s)
{
	free(s->stuck);
	free(s->map);
	free(s->pops);
	free(s->mblocks);
	free(s->held);
	memset(s, 0, sizeof(*s));
}

static int get_array(struct json_object *o, const char *key, size_t max, struct json_object **arr, struct err *e)
{
	if (!json_object_object_get_ex(o, key, arr) || !json_object_is_type(*arr, json_type_array))
		return err_set(e, "\"%s\" is missing or not an array", key);
	if (json_object_array_length(*arr) > max)
		return err_set(e, "\"%s\" has %zu entries, more than %zu", key, json_object_array_length(*arr), max);
	return 0;
}

static int parse_pop(struct json_object *o, const struct state_expect *x, int i, struct pop_state *p, struct err *e)
{
	const uint64_t max = UINT64_C(1) << 40;  /* pages: far beyond any region */
	uint64_t thp;
	if (!json_object_is_type(o, json_type_object))
		return err_set(e, "populations[%d] is not an object", i);
	if (get_str(o, "name", true, p->name, sizeof(p->name), e) < 0 ||
	    get_str(o, "type", true, p->type, sizeof(p->type), e) < 0 ||
	    get_str(o, "note", false, p->note, sizeof(p->note), e) < 0 ||
	    get_str(o, "not_shown", false, p->not_shown, sizeof(p->not_shown), e) < 0 ||
	    get_int(o, "pages", max, &p->pages, e) < 0 || get_int(o, "in_region", max, &p->in_region, e) < 0 ||
	    get_int(o, "absent", max, &p->absent, e) < 0 || get_int(o, "moved", max, &p->moved, e) < 0 ||
	    get_int(o, "verified", max, &p->verified, e) < 0 || get_int(o, "corrupted", max, &p->corrupted, e) < 0)
		return err_wrap(e, "populations[%d]", i);
	if (strcmp(p->name, x->pop_names[i]) != 0)
		return err_set(e, "populations[%d] is \"%s\", the scenario's is \"%s\"", i, p->name, x->pop_names[i]);
	/* "checked" (pages whose stamp was read) is optional: all pages */
	p->checked = p->pages;
	struct json_object *ck;
	if (json_object_object_get_ex(o, "checked", &ck) && get_int(o, "checked", p->pages, &p->checked, e) < 0)
		return err_wrap(e, "populations[%d]", i);
	if (p->verified + p->corrupted != p->checked || p->absent > p->pages || p->in_region > p->pages ||
	    p->moved > p->pages)
		return err_set(e, "populations[%d] (%s): counts do not add up (pages %llu, verified %llu, corrupted %llu)",
			       i, p->name, (unsigned long long)p->pages, (unsigned long long)p->verified,
			       (unsigned long long)p->corrupted);
	struct json_object *v;
	if (json_object_object_get_ex(o, "discarded", &v) && get_int(o, "discarded", p->verified, &p->discarded, e) < 0)
		return err_wrap(e, "populations[%d]", i);
	if (json_object_object_get_ex(o, "released", &v)) {
		if (!json_object_is_type(v, json_type_boolean))
			return err_set(e, "populations[%d].released is not a boolean", i);
		p->released = json_object_get_boolean(v);
	}
	p->thp_pages = -1;
	if (json_object_object_get_ex(o, "thp_pages", &v)) {
		if (get_int(o, "thp_pages", p->pages, &thp, e) < 0)
			return err_wrap(e, "populations[%d]", i);
		p->thp_pages = (int64_t)thp;
	}
	if (json_object_object_get_ex(o, "has_release", &v)) {
		if (!json_object_is_type(v, json_type_boolean))
			return err_set(e, "populations[%d].has_release is not a boolean", i);
		p->has_release = json_object_get_boolean(v);
	}
	if (json_object_object_get_ex(o, "hold", &v)) {
		if (!json_object_is_type(v, json_type_object) || get_str(v, "kind", true, p->hold, sizeof(p->hold), e) < 0 ||
		    get_int(v, "refs", 1u << 16, &p->hold_refs, e) < 0)
			return err_wrap(e, "populations[%d].hold", i);
		if (strcmp(p->hold, "gup") && strcmp(p->hold, "pin") && strcmp(p->hold, "transient") &&
		    strcmp(p->hold, "unmovable") && strcmp(p->hold, "offline-refusal"))
			return err_set(e, "populations[%d].hold.kind \"%s\" is not gup, pin, transient, unmovable or "
				       "offline-refusal", i, p->hold);
	}
	if (get_str(o, "dropped", false, p->dropped, sizeof(p->dropped), e) < 0)
		return err_wrap(e, "populations[%d]", i);
	if (json_object_object_get_ex(o, "first_corrupted", &v)) {
		if (!json_object_is_type(v, json_type_object) ||
		    get_str(v, "mapping", true, p->first_bad_mapping, sizeof(p->first_bad_mapping), e) < 0 ||
		    get_int(v, "page", max, &p->first_bad_page, e) < 0)
			return err_wrap(e, "populations[%d].first_corrupted", i);
		p->has_first_bad = true;
	}
	return 0;
}

static int pop_index(const struct state_expect *x, const char *name)
{
	for (int p = 0; p < x->npops; p++)
		if (strcmp(x->pop_names[p], name) == 0)
			return p;
	return -1;
}

/* A signed counter within [lo, hi]. */
static int get_i64(struct json_object *o, const char *key, int64_t lo, int64_t hi, int64_t *out, struct err *e)
{
	struct json_object *v;
	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return err_set(e, "\"%s\" is missing or not an integer", key);
	int64_t x = json_object_get_int64(v);
	if (x < lo || x > hi)
		return err_set(e, "\"%s\" = %lld is outside %lld..%lld", key, (long long)x, (long long)lo, (long long)hi);
	*out = x;
	return 0;
}

static int get_bool(struct json_object *o, const char *key, bool *out, struct err *e)
{
	struct json_object *v;
	*out = false;
	if (!json_object_object_get_ex(o, key, &v))
		return 0;
	if (!json_object_is_type(v, json_type_boolean))
		return err_set(e, "\"%s\" is not a boolean", key);
	*out = json_object_get_boolean(v);
	return 0;
}

/* "kernel": the page's counters (guest/kpage.c); "kernel_unmeasured": why
 * not. The kernel keeps them in 32-bit atomics. */
static int parse_counters(struct json_object *o, struct page_counters *k, struct err *e)
{
	const int64_t lo = INT32_MIN, hi = INT32_MAX;
	struct json_object *c, *f;
	memset(k, 0, sizeof(*k));
	k->pincount = -1;
	k->hugetlb_migratable = -1;
	if (!json_object_object_get_ex(o, "kernel", &c)) {
		if (get_str(o, "kernel_unmeasured", false, k->unmeasured, sizeof(k->unmeasured), e) < 0)
			return -1;
		if (!k->unmeasured[0])
			snprintf(k->unmeasured, sizeof(k->unmeasured), "the guest sent no counters");
		return 0;
	}
	if (!json_object_is_type(c, json_type_object) || get_i64(c, "refcount", lo, hi, &k->refcount, e) < 0 ||
	    get_i64(c, "mapcount", lo, hi, &k->mapcount, e) < 0 ||
	    get_str(c, "mapping", true, k->mapping, sizeof(k->mapping), e) < 0 ||
	    get_str(c, "aops", false, k->aops, sizeof(k->aops), e) < 0 || get_bool(c, "lru", &k->lru, e) < 0 ||
	    get_bool(c, "swapcache", &k->swapcache, e) < 0 || get_bool(c, "private", &k->private_, e) < 0 ||
	    get_str(c, "migratetype", false, k->migratetype, sizeof(k->migratetype), e) < 0 ||
	    get_bool(c, "hugetlb", &k->hugetlb, e) < 0 ||
	    get_str(c, "hugetlb_unmeasured", false, k->hugetlb_unmeasured, sizeof(k->hugetlb_unmeasured), e) < 0)
		return err_wrap(e, "kernel");
	/* hugetlb_migratable: present only when measured, and only for hugetlb */
	struct json_object *hm;
	if (json_object_object_get_ex(c, "hugetlb_migratable", &hm)) {
		bool b;
		if (!k->hugetlb)
			return err_set(e, "kernel: \"hugetlb_migratable\" on a page that is not hugetlb");
		if (get_bool(c, "hugetlb_migratable", &b, e) < 0)
			return err_wrap(e, "kernel");
		k->hugetlb_migratable = b;
	} else if (k->hugetlb && !k->hugetlb_unmeasured[0]) {
		snprintf(k->hugetlb_unmeasured, sizeof(k->hugetlb_unmeasured), "the guest sent no hugetlb flags");
	}
	static const char *const kinds[] = { "anon", "file", "movable_ops", "ksm", "none", "slab", "pgtable" };
	bool known = false;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		known |= strcmp(k->mapping, kinds[i]) == 0;
	if (!known)
		return err_set(e, "kernel.mapping \"%s\" is not anon, file, movable_ops, ksm, none, slab or pgtable",
			       k->mapping);
	if (json_object_object_get_ex(c, "folio", &f)) {
		int64_t head, nr, pte_mapped;
		if (!json_object_is_type(f, json_type_object) || get_i64(f, "head_pfn", 0, INT64_C(1) << 52, &head, e) < 0 ||
		    get_i64(f, "nr", 2, 1 << 18, &nr, e) < 0 || get_i64(f, "entire_mapcount", -1, hi, &k->entire, e) < 0 ||
		    get_i64(f, "pte_mapped", 0, nr, &pte_mapped, e) < 0 ||
		    get_i64(f, "pte_mappings", lo, hi, &k->pte_mappings, e) < 0 ||
		    get_i64(f, "pincount", -1, hi, &k->pincount, e) < 0)
			return err_wrap(e, "kernel.folio");
		k->large = true;
		k->head_pfn = (uint64_t)head;
		k->nr = (uint64_t)nr;
		k->pte_mapped = (uint64_t)pte_mapped;
	}
	k->measured = true;
	return 0;
}

static int parse_named_page(struct json_object *o, const struct state_expect *x, struct named_page *pg, struct err *e)
{
	const uint64_t max = UINT64_C(1) << 52;
	struct json_object *v, *own;
	char hex[24];
	memset(pg, 0, sizeof(*pg));
	pg->owner = -1;
	pg->mapcount = pg->refcount = -1;
	if (!json_object_is_type(o, json_type_object) || get_int(o, "pfn", max, &pg->pfn, e) < 0)
		return err_set(e, "a page without a valid \"pfn\"");
	if (get_str(o, "flags", false, hex, sizeof(hex), e) < 0)
		return -1;
	if (hex[0]) {
		char *end;
		pg->flags = strtoull(hex, &end, 16);
		if (*end)
			return err_set(e, "\"flags\" \"%s\" is not hexadecimal", hex);
		pg->has_flags = true;
	}
	if (json_object_object_get_ex(o, "mapcount", &v) && json_object_is_type(v, json_type_int))
		pg->mapcount = json_object_get_int64(v);
	if (json_object_object_get_ex(o, "refcount", &v) && json_object_is_type(v, json_type_int))
		pg->refcount = json_object_get_int64(v);
	if (get_str(o, "reason", false, pg->reason, sizeof(pg->reason), e) < 0)
		return -1;
	if (json_object_object_get_ex(o, "owner", &own)) {
		char name[VMS_MAX_NAME + 1];
		if (!json_object_is_type(own, json_type_object) ||
		    get_str(own, "population", true, name, sizeof(name), e) < 0 ||
		    get_str(own, "mapping", true, pg->owner_mapping, sizeof(pg->owner_mapping), e) < 0 ||
		    get_int(own, "page", max, &pg->owner_page, e) < 0)
			return err_wrap(e, "owner");
		if ((pg->owner = pop_index(x, name)) < 0)
			return err_set(e, "owner: unknown population \"%s\"", name);
	}
	if (parse_counters(o, &pg->kc, e) < 0)
		return -1;
	if (pg->kc.large && (pg->pfn < pg->kc.head_pfn || pg->pfn - pg->kc.head_pfn >= pg->kc.nr))
		return err_set(e, "PFN %#llx is not in its folio %#llx+%llu", (unsigned long long)pg->pfn,
			       (unsigned long long)pg->kc.head_pfn, (unsigned long long)pg->kc.nr);
	return 0;
}

static int parse_pages(struct json_object *o, const char *key, const struct state_expect *x, struct named_page *out,
		       int *n, struct err *e)
{
	struct json_object *arr;
	if (get_array(o, key, STUCK_MAX_PAGES, &arr, e) < 0)
		return -1;
	*n = (int)json_object_array_length(arr);
	for (int i = 0; i < *n; i++)
		if (parse_named_page(json_object_array_get_idx(arr, (size_t)i), x, &out[i], e) < 0)
			return err_wrap(e, "%s[%d]", key, i);
	return 0;
}

static int parse_stuck(struct json_object *o, const struct state_expect *x, struct stuck_block *sb, struct err *e)
{
	const uint64_t ppb = 1u << 20;  /* pages per block: far above any block size */
	struct json_object *c;
	memset(sb, 0, sizeof(*sb));
	if (!json_object_is_type(o, json_type_object) || get_int(o, "block", x->nblocks - 1, &sb->block, e) < 0 ||
	    get_int(o, "isolation_failures", UINT64_C(1) << 32, &sb->isolation_failures, e) < 0)
		return -1;
	if (!json_object_object_get_ex(o, "census", &c) || !json_object_is_type(c, json_type_object))
		return err_set(e, "\"census\" is missing");
	if (get_int(c, "ours", ppb, &sb->ours, e) || get_int(c, "lru", ppb, &sb->lru, e) ||
	    get_int(c, "compound_tail", ppb, &sb->compound_tail, e) || get_int(c, "slab", ppb, &sb->slab, e) ||
	    get_int(c, "pgtable", ppb, &sb->pgtable, e) || get_int(c, "buddy", ppb, &sb->buddy, e) ||
	    get_int(c, "noflags", ppb, &sb->noflags, e) || get_int(c, "other", ppb, &sb->other, e) ||
	    get_int(c, "thp", ppb, &sb->thp, e))
		return err_wrap(e, "census");
	if (parse_pages(o, "busy", x, sb->busy, &sb->nbusy, e) < 0 ||
	    parse_pages(o, "dumped", x, sb->dumped, &sb->ndumped, e) < 0)
		return -1;
	if (json_object_object_get_ex(o, "unmovable", &c) && parse_pages(o, "unmovable", x, sb->unmovable, &sb->nunmovable, e) < 0)
		return -1;
	struct json_object *pb;
	if (json_object_object_get_ex(o, "pageblocks", &pb)) {
		if (!json_object_is_type(pb, json_type_object) || json_object_object_length(pb) > 16)
			return err_set(e, "\"pageblocks\" is not an object of at most 16 migratetypes");
		json_object_object_foreach(pb, type, count)
		{
			int64_t n = json_object_is_type(count, json_type_int) ? json_object_get_int64(count) : -1;
			if (n <= 0 || (uint64_t)n > ppb)
				return err_set(e, "pageblocks: bad count");
			sb->pageblocks += (uint64_t)n;
			if (strcmp(type, "Isolate") == 0)
				sb->pageblocks_isolated += (uint64_t)n;
		}
		if (sb->pageblocks > ppb)
			return err_set(e, "pageblocks: more than the block's pages");
	}
	/* newer guests: the kernel's refusals at isolation */
	if (json_object_object_get_ex(o, "isolation_refusals", &c)) {
		uint64_t err = 0;
		sb->probed = true;
		if (get_int(o, "isolation_refusals", UINT64_C(1) << 32, &sb->isolation_refusals, e) < 0)
			return -1;
		if (sb->isolation_refusals &&
		    (get_str(o, "isolation_refusal_caller", true, sb->refusal_caller, sizeof(sb->refusal_caller), e) < 0 ||
		     !json_object_object_get_ex(o, "isolation_refusal_error", &c) || !json_object_is_type(c, json_type_int) ||
		     (err = (uint64_t)-json_object_get_int64(c)) == 0 || err > 4095))
			return err_set(e, "isolation_refusals: the first refusal's \"isolation_refusal_error\" (-1..-4095) "
					  "and \"isolation_refusal_caller\" are needed");
		sb->refusal_error = -(int64_t)err;
	}
	return 0;
}

static int parse_evidence(struct json_object *msg, struct evidence_summary *ev, struct err *e)
{
	struct json_object *o, *v, *arr;
	if (!json_object_object_get_ex(msg, "evidence", &o))
		return 0;  /* optional */
	if (!json_object_is_type(o, json_type_object))
		return err_set(e, "\"evidence\" is not an object");
	const uint64_t max = UINT64_C(1) << 40;
	ev->present = true;
	ev->trace = json_object_object_get_ex(o, "trace", &v) && json_object_get_boolean(v);
	ev->dump_page = json_object_object_get_ex(o, "dump_page", &v) && json_object_get_boolean(v);
	if (get_int(o, "isolation_events", max, &ev->isolation_events, e) ||
	    get_int(o, "isolation_failures", max, &ev->isolation_failures, e) ||
	    get_int(o, "dumped_pages", max, &ev->dumped_pages, e) || get_array(o, "migrate", 16, &arr, e))
		return err_wrap(e, "evidence");
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *m = json_object_array_get_idx(arr, i);
		uint64_t s, f, ts, tf;
		if (!json_object_is_type(m, json_type_object) || get_int(m, "succeeded", max, &s, e) ||
		    get_int(m, "failed", max, &f, e) || get_int(m, "thp_succeeded", max, &ts, e) ||
		    get_int(m, "thp_failed", max, &tf, e))
			return err_wrap(e, "evidence.migrate[%zu]", i);
		ev->migrate_succeeded += s;
		ev->migrate_failed += f;
		ev->thp_succeeded += ts;
		ev->thp_failed += tf;
	}
	/* newer guests: the kprobes on start_isolate_page_range() */
	ev->isolate_probe = json_object_object_get_ex(o, "isolate_probe", &v) && json_object_get_boolean(v);
	if (json_object_object_get_ex(o, "isolate_calls", &v) && get_int(o, "isolate_calls", max, &ev->isolate_calls, e))
		return err_wrap(e, "evidence");
	if (json_object_object_get_ex(o, "isolation_refusals", &v)) {
		if (get_array(o, "isolation_refusals", 4096, &arr, e))
			return err_wrap(e, "evidence");
		for (size_t i = 0; i < json_object_array_length(arr); i++) {
			struct json_object *f = json_object_array_get_idx(arr, i);
			uint64_t n;
			if (!json_object_is_type(f, json_type_object) || get_int(f, "count", max, &n, e))
				return err_wrap(e, "evidence.isolation_refusals[%zu]", i);
			ev->isolation_refusals += n;
		}
	}
	/* newer guests: migration targets not found */
	ev->target_probe = json_object_object_get_ex(o, "target_probe", &v) && json_object_get_boolean(v);
	if ((json_object_object_get_ex(o, "target_calls", &v) && get_int(o, "target_calls", max, &ev->target_calls, e)) ||
	    (json_object_object_get_ex(o, "target_failures", &v) &&
	     get_int(o, "target_failures", max, &ev->target_failures, e)))
		return err_wrap(e, "evidence");
	if (ev->target_failures > ev->target_calls)
		return err_set(e, "evidence: more target_failures than target_calls");
	/* newer guests: offline_pages()'s failures and the driver giving up */
	ev->offline_pages = json_object_object_get_ex(o, "offline_pages", &v) && json_object_get_boolean(v);
	if (json_object_object_get_ex(o, "offline_failures", &v)) {
		if (get_array(o, "offline_failures", VMS_MAX_OFFLINE_FAILURES, &arr, e))
			return err_wrap(e, "evidence");
		for (size_t i = 0; i < json_object_array_length(arr); i++) {
			struct json_object *f = json_object_array_get_idx(arr, i);
			struct offline_failure_seen *of = &ev->offline[ev->noffline];
			if (!json_object_is_type(f, json_type_object) || get_int(f, "start", UINT64_C(1) << 52, &of->start, e) ||
			    get_int(f, "end", UINT64_C(1) << 52, &of->end, e) || get_int(f, "count", max, &of->count, e) ||
			    get_str(f, "reason", true, of->reason, sizeof(of->reason), e))
				return err_wrap(e, "evidence.offline_failures[%zu]", i);
			if (of->end < of->start)
				return err_set(e, "evidence.offline_failures[%zu]: end before start", i);
			ev->noffline++;
		}
	}
	if (get_str(o, "driver_broken", false, ev->driver_broken, sizeof(ev->driver_broken), e))
		return err_wrap(e, "evidence");
	return 0;
}

int proto_state(struct json_object *msg, const struct state_expect *x, struct guest_state *s, struct err *e)
{
	struct json_object *arr, *v;
	memset(s, 0, sizeof(*s));
	if (get_str(msg, "step", true, s->step, sizeof(s->step), e) < 0 ||
	    get_int(msg, "elapsed_ms", UINT64_C(1) << 40, &s->elapsed_ms, e) < 0)
		goto bad;
	if (json_object_object_get_ex(msg, "setup_ms", &v) &&
	    get_int(msg, "setup_ms", UINT64_C(1) << 40, &s->setup_ms, e) < 0)
		goto bad;
	if (json_object_object_get_ex(msg, "guest_rss_kb", &v) &&
	    get_int(msg, "guest_rss_kb", UINT64_C(1) << 40, &s->guest_rss_kb, e) < 0)
		goto bad;

	/* the block map */
	if (!json_object_object_get_ex(msg, "map", &v) || !json_object_is_type(v, json_type_string)) {
		err_set(e, "\"map\" is missing or not a string");
		goto bad;
	}
	const char *map = json_object_get_string(v);
	if ((uint64_t)json_object_get_string_len(v) != x->nblocks) {
		err_set(e, "\"map\" has %d entries, the region has %llu blocks", json_object_get_string_len(v),
			(unsigned long long)x->nblocks);
		goto bad;
	}
	s->nblocks = x->nblocks;
	s->map = xcalloc(x->nblocks + 1, 1);
	for (uint64_t i = 0; i < x->nblocks; i++) {
		if (map[i] != VMS_BLOCK_PLUGGED_C && map[i] != VMS_BLOCK_UNPLUGGED_C) {
			err_set(e, "\"map\"[%llu] is neither %c nor %c", (unsigned long long)i, VMS_BLOCK_PLUGGED_C,
				VMS_BLOCK_UNPLUGGED_C);
			goto bad;
		}
		s->map[i] = map[i];
		s->plugged += map[i] == VMS_BLOCK_PLUGGED_C;
	}

	/* populations, in scenario order */
	if (get_array(msg, "populations", VMS_MAX_POPULATIONS, &arr, e) < 0)
		goto bad;
	if ((int)json_object_array_length(arr) != x->npops) {
		err_set(e, "\"populations\" has %zu entries, the scenario has %d", json_object_array_length(arr), x->npops);
		goto bad;
	}
	s->npops = x->npops;
	s->pops = xcalloc((size_t)x->npops, sizeof(*s->pops));
	for (int i = 0; i < x->npops; i++)
		if (parse_pop(json_object_array_get_idx(arr, (size_t)i), x, i, &s->pops[i], e) < 0)
			goto bad;

	/* memory blocks of the region */
	uint64_t nmb = x->last_mblock - x->first_mblock + 1;
	if (get_array(msg, "memory_blocks", nmb, &arr, e) < 0)
		goto bad;
	s->nmblocks = json_object_array_length(arr);
	s->mblocks = xcalloc(s->nmblocks, sizeof(*s->mblocks));
	for (size_t i = 0; i < s->nmblocks; i++) {
		struct json_object *o = json_object_array_get_idx(arr, i);
		struct mem_block *m = &s->mblocks[i];
		if (!json_object_is_type(o, json_type_object) ||
		    get_int(o, "index", x->last_mblock, &m->index, e) < 0 ||
		    get_str(o, "state", true, m->state, sizeof(m->state), e) < 0 ||
		    get_str(o, "zone", true, m->zone, sizeof(m->zone), e) < 0) {
			err_wrap(e, "memory_blocks[%zu]", i);
			goto bad;
		}
		if (m->index < x->first_mblock) {
			err_set(e, "memory_blocks[%zu]: memory block %llu is outside the region", i,
				(unsigned long long)m->index);
			goto bad;
		}
		/* in order, each once: the report looks them up by index */
		if (i && m->index <= s->mblocks[i - 1].index) {
			err_set(e, "memory_blocks[%zu]: memory block %llu does not follow %llu", i,
				(unsigned long long)m->index, (unsigned long long)s->mblocks[i - 1].index);
			goto bad;
		}
	}

	/* which blocks hold which population's pages */
	if (get_array(msg, "held", x->nblocks, &arr, e) < 0)
		goto bad;
	size_t nentries = 0;
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *o = json_object_array_get_idx(arr, i), *pages;
		if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, "pages", &pages) ||
		    !json_object_is_type(pages, json_type_object) ||
		    json_object_object_length(pages) > x->npops) {
			err_set(e, "held[%zu] is not {\"block\":N,\"pages\":{POPULATION:N}}", i);
			goto bad;
		}
		nentries += (size_t)json_object_object_length(pages);
	}
	s->held = xcalloc(nentries, sizeof(*s->held));
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *o = json_object_array_get_idx(arr, i), *pages;
		uint64_t block;
		if (get_int(o, "block", x->nblocks - 1, &block, e) < 0) {
			err_wrap(e, "held[%zu]", i);
			goto bad;
		}
		/* in block order, each block once: the report finds a block's
		 * entries by binary search (held_find), never by a scan per block */
		if (s->nheld && block <= s->held[s->nheld - 1].block) {
			err_set(e, "held[%zu]: block %llu does not follow block %llu", i, (unsigned long long)block,
				(unsigned long long)s->held[s->nheld - 1].block);
			goto bad;
		}
		json_object_object_get_ex(o, "pages", &pages);
		json_object_object_foreach(pages, name, count)
		{
			int pop = -1;
			for (int p = 0; p < x->npops; p++)
				if (strcmp(x->pop_names[p], name) == 0)
					pop = p;
			char shown[64];
			sanitize(name, shown, sizeof(shown));
			if (pop < 0) {
				err_set(e, "held[%zu]: unknown population \"%s\"", i, shown);
				goto bad;
			}
			int64_t n = json_object_is_type(count, json_type_int) ? json_object_get_int64(count) : -1;
			uint64_t per_block = 1u << 20;  /* pages: block sizes stay far below 4 GiB */
			if (n <= 0 || (uint64_t)n > per_block) {
				err_set(e, "held[%zu].%s: bad page count", i, shown);
				goto bad;
			}
			s->held[s->nheld++] = (struct held){ .block = block, .pop = pop, .pages = (uint64_t)n };
		}
	}

	if (parse_evidence(msg, &s->evidence, e) < 0)
		goto bad;
	if (json_object_object_get_ex(msg, "stuck", &v)) {
		if (get_array(msg, "stuck", x->nblocks, &arr, e) < 0)
			goto bad;
		s->attributed = true;
		if (get_str(msg, "counters", false, s->counters, sizeof(s->counters), e) < 0)
			goto bad;
		if (!s->counters[0])
			snprintf(s->counters, sizeof(s->counters), "the guest did not say");
		if (json_object_object_get_ex(msg, "worker_stack", &v)) {
			if (get_str(msg, "worker_stack", true, s->worker_stack, sizeof(s->worker_stack), e) < 0)
				goto bad;
			s->have_worker_stack = true;
		}
		s->nstuck = json_object_array_length(arr);
		s->stuck = xcalloc(s->nstuck, sizeof(*s->stuck));
		for (size_t i = 0; i < s->nstuck; i++) {
			if (parse_stuck(json_object_array_get_idx(arr, i), x, &s->stuck[i], e) < 0) {
				err_wrap(e, "stuck[%zu]", i);
				goto bad;
			}
			if (s->map[s->stuck[i].block] != VMS_BLOCK_PLUGGED_C) {
				err_set(e, "stuck[%zu]: block %llu is not plugged in \"map\"", i,
					(unsigned long long)s->stuck[i].block);
				goto bad;
			}
		}
	}
	return 0;
bad:
	guest_state_free(s);
	return err_wrap(e, "guest state message");
}

int proto_offline(struct json_object *msg, const uint64_t *asked, int n, struct offline_result *out, struct err *e)
{
	struct json_object *arr;
	if (get_array(msg, "results", (size_t)n, &arr, e) < 0)
		return err_wrap(e, "guest offline answer");
	if ((int)json_object_array_length(arr) != n)
		return err_set(e, "guest offline answer: %zu results for %d memory blocks", json_object_array_length(arr), n);
	for (int i = 0; i < n; i++) {
		struct json_object *o = json_object_array_get_idx(arr, (size_t)i);
		if (!json_object_is_type(o, json_type_object) || get_int(o, "index", UINT64_C(1) << 40, &out[i].index, e) < 0 ||
		    get_str(o, "result", true, out[i].result, sizeof(out[i].result), e) < 0)
			return err_wrap(e, "guest offline answer, results[%d]", i);
		if (out[i].index != asked[i])
			return err_set(e, "guest offline answer: results[%d] is for memory block %llu, not %llu", i,
				       (unsigned long long)out[i].index, (unsigned long long)asked[i]);
	}
	return 0;
}

size_t held_find(const struct guest_state *s, uint64_t block, size_t *n)
{
	size_t lo = 0, hi = s->nheld;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->held[mid].block < block)
			lo = mid + 1;
		else
			hi = mid;
	}
	*n = 0;
	while (lo + *n < s->nheld && s->held[lo + *n].block == block)
		(*n)++;
	return lo;
}

const struct mem_block *mblock_find(const struct guest_state *s, uint64_t index)
{
	size_t lo = 0, hi = s->nmblocks;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->mblocks[mid].index < index)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->nmblocks && s->mblocks[lo].index == index ? &s->mblocks[lo] : NULL;
}

void proto_error_text(struct json_object *msg, char *buf, size_t len)
{
	struct json_object *v;
	char in[32] = "", text[400] = "";
	if (json_object_object_get_ex(msg, "in", &v) && json_object_is_type(v, json_type_string))
		sanitize(json_object_get_string(v), in, sizeof(in));
	if (json_object_object_get_ex(msg, "message", &v) && json_object_is_type(v, json_type_string))
		sanitize(json_object_get_string(v), text, sizeof(text));
	snprintf(buf, len, "guest error%s%s: %s", in[0] ? " in " : "", in, text[0] ? text : "(no message)");
}
