/* example: the population README.md's "Adding a population" builds, used by
 * tests/population/run.sh to prove that a population is this one file plus
 * one line in common/population-types.h. Base pages stamped `rounds`
 * times; nothing held, so every block must go. */
#include <stdlib.h>

#include "population.h"

const struct population_spec pop_spec_example = {
	.name = "example",
	.summary = "base pages stamped `rounds` times: a template that must unplug",
	.needs = VMS_NEEDS(MADVISE),
	.holds = "nothing beyond its mappings",
	.options = {
		{ "rounds", "how many times each page is stamped", "1", { NULL }, 1, 8 },
	},
};

#ifndef VMS_SPEC_ONLY

static int example_setup(struct population *p, const struct pop_env *env, struct err *e)
{
	struct mapping *m = pop_base_pages(p, env, e);  /* stamped once */
	if (!m)
		return -1;
	long rounds = strtol(pop_option(p, "rounds"), NULL, 10);  /* checked against the spec */
	for (long r = 2; r <= rounds; r++)
		pop_stamp(p, m, (uint32_t)r);
	snprintf(p->note, sizeof(p->note), "stamped %ld times", rounds);
	return 0;
}

const struct population_type pop_example = {
	.spec = &pop_spec_example,
	.setup = example_setup,
};
#endif /* VMS_SPEC_ONLY */
