#include "reasons.h"

#include <string.h>

static const char *const names[] = {
#define NAME(id, name, text) name,
	VMS_REASONS(NAME)
#undef NAME
};

const char *vms_reason_name(enum vms_reason r)
{
	return (unsigned)r < VMS_REASON_COUNT ? names[r] : "?";
}

int vms_reason_from_name(const char *name)
{
	for (int i = 0; i < VMS_REASON_COUNT; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return -1;
}
