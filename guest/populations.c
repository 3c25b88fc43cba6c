/* The table of population kinds, expanded from common/population-types.h:
 * each entry is the descriptor exported by guest/pop-<name>.c. */
#include "../common/population-types.h"
#include "population.h"

#define DECLARE(id) extern const struct population_type pop_##id;
VMS_POPULATION_TYPES(DECLARE)

#define ENTRY(id) &pop_##id,
const struct population_type *const population_types[] = {
	VMS_POPULATION_TYPES(ENTRY) NULL,
};
