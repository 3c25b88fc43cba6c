#define _GNU_SOURCE
#include "run/kconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/population-spec.h"

char kconfig_value(const char *text, const char *name)
{
	char key[96];
	snprintf(key, sizeof(key), "CONFIG_%s=", name);
	size_t klen = strlen(key);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, key, klen) == 0)
			return p[klen] == 'y' || p[klen] == 'm' ? p[klen] : 0;
	return 0;
}

/* Nothing runs without these (y or m). */
static const struct {
	const char *opt, *why;
} essential[] = {
	{ "VIRTIO_MEM", "the virtio-mem driver" },
	{ "VIRTIO_PCI", "virtio devices on PCI" },
	{ "VIRTIO_CONSOLE", "the virtio-serial port to the host" },
	{ "MEMORY_HOTPLUG", "adding the region's memory" },
	{ "MEMORY_HOTREMOVE", "unplugging memory at all" },
	{ "MIGRATION", "moving pages out of blocks" },
	{ "CONTIG_ALLOC", "virtio-mem's fake offlining (alloc_contig_range)" },
	{ "PROC_PAGE_MONITOR", "/proc/PID/pagemap and /proc/kpageflags: where pages are" },
	{ "NUMA", "the region on its own node" },
	{ "BLK_DEV_INITRD", "the initramfs with the guest program" },
	{ "DEVTMPFS", "device nodes in the guest" },
};

/* Evidence that is weaker without these. */
static const struct {
	const char *opt, *cost;
} evidence_needs[] = {
	{ "EVENT_TRACING", "no trace events: busy PFNs are not known, reasons rest on which population owns a block" },
	{ "MEMORY_ISOLATION", "no page_isolation trace event: busy PFNs are not known" },
	{ "DYNAMIC_DEBUG", "no dump of pages that failed migration (alloc_contig_dump_pages)" },
	{ "HUGETLB_PAGE", "pageblocks are MAX_ORDER-sized (4 MiB on x86): virtio-mem unplugs in 4 MiB units, so a free 2 MiB "
			  "block beside a busy one stays" },
};

int kconfig_check_text(const char *text, const char *path, struct scenario *s, struct kconfig_check *out,
		       struct err *e)
{
	memset(out, 0, sizeof(*out));
	out->checked = true;
	char missing[600] = "";
	for (size_t i = 0; i < sizeof(essential) / sizeof(essential[0]); i++)
		if (!kconfig_value(text, essential[i].opt))
			snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing), "%sCONFIG_%s (%s)",
				 missing[0] ? ", " : "", essential[i].opt, essential[i].why);
	if (missing[0])
		return err_set(e, "kernel config %s lacks what every run needs: %s", path, missing);

	for (int p = 0; p < s->npops; p++) {
		const char *lack = NULL;
		const struct population_spec *spec = vms_population_spec(s->pops[p].type);
		for (int f = 0; f < VMS_NFACILITIES && spec && !lack; f++)
			if ((spec->needs & (1u << f)) && !kconfig_value(text, vms_facilities[f].kconfig))
				lack = vms_facilities[f].kconfig;
		if (!lack)
			continue;
		snprintf(out->not_shown[out->n_not_shown++], sizeof(out->not_shown[0]),
			 "population %s (%s): the kernel lacks CONFIG_%s", s->pops[p].name, s->pops[p].type, lack);
		memmove(&s->pops[p], &s->pops[p + 1], (size_t)(s->npops - p - 1) * sizeof(s->pops[0]));
		s->npops--;
		p--;
	}
	for (int i = 0; i < s->nwhen; i++)  /* [expect config X] */
		if (s->when[i].kind == WHEN_CONFIG)
			s->when[i].config = kconfig_value(text, s->when[i].arg);
	for (size_t i = 0; i < sizeof(evidence_needs) / sizeof(evidence_needs[0]); i++)
		if (!kconfig_value(text, evidence_needs[i].opt) && out->nnotes < KCONFIG_MAX_NOTES)
			snprintf(out->notes[out->nnotes++], sizeof(out->notes[0]), "CONFIG_%s missing: %s",
				 evidence_needs[i].opt, evidence_needs[i].cost);
	return 0;
}

int kconfig_check(const char *path, struct scenario *s, struct kconfig_check *out, struct err *e)
{
	char *text;
	if (read_text_file(path, 8u << 20, "kernel config", &text, e) < 0)
		return -1;
	int r = kconfig_check_text(text, path, s, out, e);
	free(text);
	return r;
}
