/* Every page we own carries a stamp derived from (population, buffer, page,
 * generation) in all its 512 words, so a page that moved, was lost, was
 * zeroed or leaked between CoW parent and child is caught on verify. */
#ifndef GUEST_STAMP_H
#define GUEST_STAMP_H

#include <stdbool.h>
#include <stdint.h>

struct stamp_key {
	uint16_t pop;
	uint16_t buffer;
	uint32_t gen;
	uint64_t page;
};

void stamp_fill(void *page, struct stamp_key k);
bool stamp_check(const void *page, struct stamp_key k);

#endif
