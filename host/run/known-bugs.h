/* Known kernel bugs (known-bugs.ini): a stuck block is attributed to one
 * only when its evidence matches every field of the entry. */
#ifndef HOST_KNOWN_BUGS_H
#define HOST_KNOWN_BUGS_H

#include "run/classify.h"
#include "scenario/scenario.h"

#define KB_MAX 32

struct known_bug {
	char name[64], title[128], fixed_by[48], fix_title[160], affected[300];
	int reason;              /* -1: any */
	char owner_type[32];     /* "": any */
	uint64_t page_flags;     /* kpageflags bits that must all be set */
	char evidence[96];       /* text the verdict's evidence must contain (a stack frame...); "": any */
	bool by_release, by_sysfs;  /* confirmations that count; none set: no confirmation needed */
	int line;
};

struct known_bugs {
	struct known_bug bugs[KB_MAX];
	int n;
};

int known_bugs_load(const char *path, struct known_bugs *kb, struct err *e);
int known_bugs_parse(const char *text, const char *path, struct known_bugs *kb, struct err *e);
/* The bug the verdict's evidence matches, or -1. */
int known_bugs_match(const struct known_bugs *kb, const struct scenario *s, const struct block_verdict *v);

#endif
