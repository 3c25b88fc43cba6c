/* anon: plain anonymous base pages in the region. The baseline: they must
 * always migrate away. */
#include "population.h"

const struct population_spec pop_spec_anon = {
	.name = "anon",
	.summary = "plain anonymous base pages; the baseline, always movable",
};

#ifndef VMS_SPEC_ONLY

static int anon_setup(struct population *p, const struct pop_env *env, struct err *e)
{
	return pop_base_pages(p, env, e) ? 0 : -1;
}

const struct population_type pop_anon = {
	.spec = &pop_spec_anon,
	.setup = anon_setup,
};
#endif /* VMS_SPEC_ONLY */
