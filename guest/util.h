/* Small helpers shared by the guest program's files. */
#ifndef GUEST_UTIL_H
#define GUEST_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/err.h"


__attribute__((format(printf, 1, 2)))
void glog(const char *fmt, ...);  /* one line to the console, prefixed */

uint64_t now_ms(void);  /* CLOCK_MONOTONIC in milliseconds */
void sleep_ms(unsigned ms);

/* Read a small sysfs/procfs file into buf (NUL-terminated, trailing newline
 * stripped). Returns bytes read or -1. */
int read_small_file(const char *path, char *buf, size_t len);
int write_small_file(const char *path, const char *text);

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define PAGE_SIZE_4K 4096u

#endif
