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
	/* where it lives, machine-readable: introduced-in (a version, "" not
	 * known) and fixed-in (the first fixed version of each series that has
	 * the fix: "6.5, 6.4.16"; a two-part version is mainline) */
	char introduced_in[24];
	char fixed_in[8][24];
	int nfixed_in;
	int line;
};

struct known_bugs {
	struct known_bug bugs[KB_MAX];
	int n;
};

int known_bugs_load(const char *path, struct known_bugs *kb, struct err *e);
int known_bugs_parse(const char *text, const char *path, struct known_bugs *kb, struct err *e);
/* Is a kernel of this version ("6.1.192") inside the bug's affected
 * range? 1 inside, 0 outside (a match there is a regression, a backport
 * gap or a vendor patch), -1 not known (no range, or no version). */
int known_bug_in_range(const struct known_bug *b, const char *version);
/* The same in words: "6.1.192 is inside its affected range (fixed in
 * 6.5, 6.4.16)", "... is OUTSIDE ...", or "" when not known. */
const char *known_bug_range_words(const struct known_bug *b, const char *version, char *buf, size_t len);
/* The bug the verdict's evidence matches, or -1. */
int known_bugs_match(const struct known_bugs *kb, const struct scenario *s, const struct block_verdict *v);

#endif
