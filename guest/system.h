/* What PID 1 must do before anything else: file systems, console, kernel
 * modules, power off. */
#ifndef GUEST_SYSTEM_H
#define GUEST_SYSTEM_H

#include "util.h"

int system_mount(struct err *e);
/* Load every *.ko in dir; see system.c for the ordering rule. */
int system_load_modules(const char *dir, struct err *e);
/* Value of "key=value" on the kernel command line, or NULL. */
const char *system_cmdline_param(const char *key, char *buf, size_t len);
__attribute__((noreturn)) void system_power_off(void);

#endif
