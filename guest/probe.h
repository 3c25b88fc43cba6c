/* Which kernel facilities (common/population-spec.h) the running kernel
 * really offers: a population that needs one it lacks is not built and is
 * reported NOT SHOWN with the reason, and the rest of the scenario runs. */
#ifndef GUEST_PROBE_H
#define GUEST_PROBE_H

#include <stddef.h>

/* NULL when every facility in `needs` (VMS_NEEDS bits) works; else what
 * is missing and how it failed, written into buf. Probes run once each. */
const char *probe_missing(unsigned needs, char *buf, size_t len);

#endif
