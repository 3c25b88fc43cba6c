/* The guest's answer to "what is where now": the block map, the memory
 * blocks, which blocks hold which population's pages, each population's
 * verification counts, and on request the evidence about every block that
 * is still plugged. */
#ifndef GUEST_STATE_H
#define GUEST_STATE_H

#include <json-c/json.h>
#include "evidence.h"
#include "population.h"
#include "region.h"

struct json_object *state_build(const char *step, const struct region *r, struct population *pops,
				int npops, struct evidence *ev, bool attribute, size_t stride, struct err *e);

#endif
