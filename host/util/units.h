/* Sizes ("512M", "2MiB", "1G", "4096") and durations ("90s", "2m", "500ms"). */
#ifndef HOST_UNITS_H
#define HOST_UNITS_H

#include <stdint.h>

/* Bytes; a bare number is bytes; K/M/G/T with optional "iB" or "B" are
 * binary multiples. Returns 0, or -1 on a malformed value or overflow. */
int parse_size(const char *s, uint64_t *out);
/* Milliseconds; a bare number is seconds; units ms, s, m. At most
 * VMS_MAX_DURATION_MS: beyond it is an error, not a wrap or "forever". */
#define VMS_MAX_DURATION_MS (7ull * 24 * 3600 * 1000)
int parse_duration_ms(const char *s, uint64_t *out);
/* "1 GiB", "512 MiB", "2.5 MiB", "4096 B" into buf. */
const char *format_size(uint64_t bytes, char *buf, unsigned len);

#endif
