#define _GNU_SOURCE
#include "vm/libvirt-xml.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Text for an XML attribute or element: & < > ' " escaped. */
static void put_esc(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '\'': fputs("&apos;", f); break;
		case '"': fputs("&quot;", f); break;
		default: fputc(*s, f);
		}
	}
}

char *lv_domain_xml(const struct lv_domain_spec *d)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		abort();
	uint64_t kib = 1024, total = d->boot_memory + d->node1_memory + d->region_size;
	fprintf(f, "<domain type='%s'>\n  <name>", d->type);
	put_esc(f, d->name);
	fprintf(f, "</name>\n");
	/* <maxMemory> with slots and a NUMA topology: libvirt's conditions for
	 * a memory device. */
	fprintf(f, "  <maxMemory slots='2' unit='KiB'>%" PRIu64 "</maxMemory>\n", total / kib);
	fprintf(f, "  <memory unit='KiB'>%" PRIu64 "</memory>\n", total / kib);
	fprintf(f, "  <vcpu>%d</vcpu>\n", d->cpus);
	fprintf(f, "  <os>\n    <type arch='x86_64' machine='q35'>hvm</type>\n    <kernel>");
	put_esc(f, d->kernel);
	fprintf(f, "</kernel>\n    <initrd>");
	put_esc(f, d->initrd);
	fprintf(f, "</initrd>\n    <cmdline>");
	put_esc(f, d->cmdline);
	fprintf(f, "</cmdline>\n  </os>\n");
	/* without <acpi/> libvirt passes -no-acpi: no memory hotplug */
	fprintf(f, "  <features><acpi/><apic/></features>\n");
	/* mode='maximum' is QEMU's -cpu max, as the QEMU backend uses */
	fprintf(f, "  <cpu mode='maximum'>\n    <numa>\n");
	fprintf(f, "      <cell id='0' cpus='0-%d' memory='%" PRIu64 "' unit='KiB'/>\n", d->cpus - 1, d->boot_memory / kib);
	fprintf(f, "      <cell id='1' memory='%" PRIu64 "' unit='KiB'/>\n", d->node1_memory / kib);
	fprintf(f, "    </numa>\n  </cpu>\n");
	/* The guest runs panic=-1: a panic resets it. Nothing restarts: a
	 * domain that stops is gone (it is transient) and the host says why. */
	fprintf(f, "  <on_poweroff>destroy</on_poweroff>\n  <on_reboot>destroy</on_reboot>\n"
		   "  <on_crash>destroy</on_crash>\n");
	fprintf(f, "  <devices>\n");
	if (d->emulator) {
		fprintf(f, "    <emulator>");
		put_esc(f, d->emulator);
		fprintf(f, "</emulator>\n");
	}
	fprintf(f,
		"    <memory model='virtio-mem'>\n      <target>\n"
		"        <size unit='KiB'>%" PRIu64 "</size>\n        <node>1</node>\n"
		"        <block unit='KiB'>%" PRIu64 "</block>\n        <requested unit='KiB'>%" PRIu64 "</requested>\n"
		"      </target>\n    </memory>\n",
		d->region_size / kib, d->block_size / kib, d->initial_size / kib);
	/* No path: libvirt makes one on its own host, which is what a remote
	 * daemon needs; the host reaches it with virDomainOpenChannel(). */
	fprintf(f, "    <channel type='unix'>\n      <source mode='bind'/>\n      <target type='virtio' name='");
	put_esc(f, d->port_name);
	fprintf(f, "'/>\n    </channel>\n");
	fprintf(f, "    <serial type='file'>\n      <source path='");
	put_esc(f, d->console);
	fprintf(f, "' append='off'/>\n      <target port='0'/>\n    </serial>\n");
	fprintf(f, "    <console type='file'>\n      <source path='");
	put_esc(f, d->console);
	fprintf(f, "' append='off'/>\n      <target type='serial' port='0'/>\n    </console>\n");
	fprintf(f, "    <memballoon model='none'/>\n  </devices>\n</domain>\n");
	fclose(f);
	return buf;
}

static uint64_t unit_scale(const char *u)
{
	static const struct {
		const char *name;
		uint64_t scale;
	} units[] = {
		{ "b", 1 },        { "bytes", 1 },          { "KB", 1000 },           { "k", 1024 },
		{ "KiB", 1024 },   { "MB", 1000000 },       { "M", 1ull << 20 },      { "MiB", 1ull << 20 },
		{ "GB", 1000000000 }, { "G", 1ull << 30 },  { "GiB", 1ull << 30 },    { "TB", 1000000000000ull },
		{ "T", 1ull << 40 }, { "TiB", 1ull << 40 },
	};
	if (!u)
		return 1024;  /* libvirt's default unit */
	for (size_t i = 0; i < ARRAY_SIZE(units); i++)
		if (strcmp(u, units[i].name) == 0)
			return units[i].scale;
	return 0;
}

/* The value of child element name of node, in bytes (its unit= applied). */
static int size_child(xmlNodePtr node, const char *name, uint64_t *out, struct err *e)
{
	for (xmlNodePtr c = node->children; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE || strcmp((const char *)c->name, name) != 0)
			continue;
		xmlChar *text = xmlNodeGetContent(c), *unit = xmlGetProp(c, (const xmlChar *)"unit");
		uint64_t scale = unit_scale((const char *)unit);
		char *end = NULL;
		unsigned long long v = text ? strtoull((const char *)text, &end, 10) : 0;
		bool ok = text && end != (char *)text && *end == 0 && scale;
		if (!ok)
			err_set(e, "libvirt's XML: virtio-mem <%s> \"%s\" unit \"%s\" is not a size", name,
				text ? (const char *)text : "", unit ? (const char *)unit : "");
		xmlFree(text);
		xmlFree(unit);
		if (!ok)
			return -1;
		*out = (uint64_t)v * scale;
		return 0;
	}
	return err_set(e, "libvirt's XML: the virtio-mem device has no <%s>", name);
}

static xmlNodePtr child(xmlNodePtr node, const char *name)
{
	for (xmlNodePtr c = node ? node->children : NULL; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE && strcmp((const char *)c->name, name) == 0)
			return c;
	return NULL;
}

static xmlDocPtr parse(const char *xml, struct err *e)
{
	xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), "libvirt.xml", NULL, XML_PARSE_NONET | XML_PARSE_NOERROR |
										  XML_PARSE_NOWARNING);
	if (!doc)
		err_set(e, "libvirt's XML cannot be parsed");
	return doc;
}

/* The <memory model='virtio-mem'> element with that alias (NULL: first). */
static xmlNodePtr find_memdev(xmlDocPtr doc, const char *alias, struct err *e)
{
	xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
	xmlXPathObjectPtr res = ctx ? xmlXPathEvalExpression((const xmlChar *)"/domain/devices/memory[@model='virtio-mem']",
							     ctx) : NULL;
	xmlNodePtr found = NULL;
	for (int i = 0; res && res->nodesetval && i < res->nodesetval->nodeNr && !found; i++) {
		xmlNodePtr n = res->nodesetval->nodeTab[i];
		if (!alias) {
			found = n;
			break;
		}
		xmlChar *name = xmlGetProp(child(n, "alias"), (const xmlChar *)"name");
		if (name && strcmp((const char *)name, alias) == 0)
			found = n;
		xmlFree(name);
	}
	xmlXPathFreeObject(res);
	xmlXPathFreeContext(ctx);
	if (!found)
		err_set(e, "libvirt's live XML has no virtio-mem device%s%s", alias ? " " : "", alias ? alias : "");
	return found;
}

int lv_find_memdev(const char *domain_xml, const char *alias, struct lv_memdev *m, struct err *e)
{
	memset(m, 0, sizeof(*m));
	m->node = -1;
	xmlDocPtr doc = parse(domain_xml, e);
	if (!doc)
		return -1;
	int r = -1;
	xmlNodePtr dev = find_memdev(doc, alias, e), target = child(dev, "target");
	if (dev && !target)
		err_set(e, "libvirt's XML: the virtio-mem device has no <target>");
	if (target && size_child(target, "size", &m->size, e) == 0 && size_child(target, "block", &m->block_size, e) == 0 &&
	    size_child(target, "requested", &m->requested, e) == 0) {
		/* <current> appears in the live XML once QEMU reported a size */
		if (child(target, "current") && size_child(target, "current", &m->current, e) < 0)
			goto out;
		xmlNodePtr node = child(target, "node");
		xmlChar *text = node ? xmlNodeGetContent(node) : NULL;
		m->node = text ? atoi((const char *)text) : 0;
		xmlFree(text);
		xmlChar *base = xmlGetProp(child(target, "address"), (const xmlChar *)"base");
		if (base) {
			m->addr = strtoull((const char *)base, NULL, 0);
			m->have_addr = true;
		}
		xmlFree(base);
		xmlChar *name = xmlGetProp(child(dev, "alias"), (const xmlChar *)"name");
		snprintf(m->alias, sizeof(m->alias), "%s", name ? (const char *)name : "");
		xmlFree(name);
		r = 0;
	}
out:
	xmlFreeDoc(doc);
	return r;
}

char *lv_memdev_with_requested(const char *domain_xml, const char *alias, uint64_t bytes, struct err *e)
{
	xmlDocPtr doc = parse(domain_xml, e);
	if (!doc)
		return NULL;
	char *out = NULL;
	xmlNodePtr dev = find_memdev(doc, alias, e), req = child(child(dev, "target"), "requested");
	if (dev && !req)
		err_set(e, "libvirt's XML: the virtio-mem device has no <requested>");
	if (req) {
		char v[32];
		snprintf(v, sizeof(v), "%" PRIu64, bytes / 1024);
		xmlNodeSetContent(req, (const xmlChar *)v);
		xmlSetProp(req, (const xmlChar *)"unit", (const xmlChar *)"KiB");
		xmlBufferPtr b = xmlBufferCreate();
		if (b && xmlNodeDump(b, doc, dev, 0, 0) > 0)
			out = strdup((const char *)xmlBufferContent(b));
		xmlBufferFree(b);
		if (!out)
			err_set(e, "cannot write the virtio-mem device's XML");
	}
	xmlFreeDoc(doc);
	return out;
}

bool lv_caps_offer(const char *caps_xml, const char *type)
{
	struct err e;
	xmlDocPtr doc = parse(caps_xml, &e);
	if (!doc)
		return false;
	char expr[200];
	snprintf(expr, sizeof(expr), "/capabilities/guest[os_type='hvm']/arch[@name='x86_64']/domain[@type='%s']", type);
	xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
	xmlXPathObjectPtr res = ctx ? xmlXPathEvalExpression((const xmlChar *)expr, ctx) : NULL;
	bool found = res && res->nodesetval && res->nodesetval->nodeNr > 0;
	xmlXPathFreeObject(res);
	xmlXPathFreeContext(ctx);
	xmlFreeDoc(doc);
	return found;
}

bool lv_uri_is_remote(const char *uri)
{
	const char *p = strstr(uri, "://");
	if (!p)
		return false;  /* an alias or "qemu:" without a host */
	p += 3;
	size_t n = strcspn(p, "/?");
	char host[256];
	snprintf(host, sizeof(host), "%.*s", (int)(n < sizeof(host) - 1 ? n : sizeof(host) - 1), p);
	char *h = strrchr(host, '@');
	h = h ? h + 1 : host;
	if (*h == '[') {  /* [::1]:port */
		char *end = strchr(h, ']');
		if (end)
			*end = 0;
		h++;
	} else {
		char *colon = strchr(h, ':');
		if (colon)
			*colon = 0;
	}
	return *h && strcmp(h, "localhost") != 0 && strcmp(h, "127.0.0.1") != 0 && strcmp(h, "::1") != 0;
}

int lv_qmp_memaddr(const char *json, const char *id, uint64_t *addr, struct err *e)
{
	struct json_object *root = json_tokener_parse(json), *ret, *d, *data, *v;
	int r = err_set(e, "QEMU's query-memory-devices does not list %s", id);
	if (root && json_object_object_get_ex(root, "return", &ret) && json_object_is_type(ret, json_type_array))
		for (size_t i = 0; i < json_object_array_length(ret); i++) {
			d = json_object_array_get_idx(ret, i);
			if (json_object_object_get_ex(d, "data", &data) && json_object_object_get_ex(data, "id", &v) &&
			    strcmp(json_object_get_string(v), id) == 0 && json_object_object_get_ex(data, "memaddr", &v) &&
			    json_object_is_type(v, json_type_int)) {
				*addr = (uint64_t)json_object_get_int64(v);
				r = 0;
				break;
			}
		}
	json_object_put(root);
	return r;
}
