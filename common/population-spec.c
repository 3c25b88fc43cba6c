/* The table of population specs, from the list in population-types.h, and
 * the checks both programs make with it. */
#include "population-spec.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "population-types.h"

const struct vms_facility_info vms_facilities[VMS_NFACILITIES] = {
#define VMS_FAC_INFO(id, name, kconfig, words) [VMS_FAC_##id] = { name, kconfig, words },
	VMS_FACILITIES(VMS_FAC_INFO)
#undef VMS_FAC_INFO
};

#define DECLARE(id) extern const struct population_spec pop_spec_##id;
VMS_POPULATION_TYPES(DECLARE)
#undef DECLARE

const struct population_spec *const vms_population_specs[] = {
#define ENTRY(id) &pop_spec_##id,
	VMS_POPULATION_TYPES(ENTRY)
#undef ENTRY
	NULL,
};

const struct population_spec *vms_population_spec(const char *name)
{
	for (size_t i = 0; name && vms_population_specs[i]; i++)
		if (strcmp(vms_population_specs[i]->name, name) == 0)
			return vms_population_specs[i];
	return NULL;
}

const struct vms_pop_option *vms_pop_option_find(const struct population_spec *s, const char *key)
{
	for (size_t i = 0; s && i < VMS_MAX_POP_OPTIONS && s->options[i].key; i++)
		if (strcmp(s->options[i].key, key) == 0)
			return &s->options[i];
	return NULL;
}

const char *vms_pop_option_check(const struct vms_pop_option *o, const char *value, char *buf, unsigned len)
{
	if (o->choices[0]) {
		int n = snprintf(buf, len, "\"%s\" is not one of: ", value);
		for (size_t i = 0; o->choices[i]; i++) {
			if (strcmp(o->choices[i], value) == 0)
				return NULL;
			if (n >= 0 && (unsigned)n < len)
				n += snprintf(buf + n, len - (unsigned)n, "%s%s", i ? ", " : "", o->choices[i]);
		}
		return buf;
	}
	char *end;
	errno = 0;
	long v = strtol(value, &end, 10);
	if (errno || *end || !*value || v < o->min || v > o->max) {
		snprintf(buf, len, "\"%s\" is not a whole number from %ld to %ld", value, o->min, o->max);
		return buf;
	}
	return NULL;
}
