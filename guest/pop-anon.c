/* anon: plain anonymous base pages in the region. The baseline: they must
 * always migrate away. */
#include "population.h"

static int anon_setup(struct population *p, const struct pop_env *env, struct err *e)
{
	return pop_base_pages(p, env, e) ? 0 : -1;
}

const struct population_type pop_anon = {
	.name = "anon",
	.setup = anon_setup,
};
