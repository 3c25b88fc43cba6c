/* What a guest kernel's config allows, checked before booting: options
 * without which nothing can run (an error), options a population needs
 * (it is dropped and reported as not shown), and options the evidence
 * needs (the report says what is missing). */
#ifndef HOST_KCONFIG_H
#define HOST_KCONFIG_H

#include "scenario/scenario.h"
#include "util/util.h"

#define KCONFIG_MAX_NOTES 16

struct kconfig_check {
	bool checked;                            /* a config file was read */
	char not_shown[VMS_MAX_POPULATIONS][160];  /* "population x (thp-cow): needs CONFIG_..." */
	int n_not_shown;
	char notes[KCONFIG_MAX_NOTES][200];      /* weaker evidence, and why */
	int nnotes;
};

/* Value of CONFIG_name in a config text: 'y', 'm', or 0 (unset). */
char kconfig_value(const char *config_text, const char *name);
/* Check s against the config file at path; drop the populations it cannot
 * build from s. Fails (naming the missing options) when nothing can run. */
int kconfig_check(const char *path, struct scenario *s, struct kconfig_check *out, struct err *e);
/* The same, on config text (tests). */
int kconfig_check_text(const char *text, const char *path, struct scenario *s, struct kconfig_check *out,
		       struct err *e);

#endif
