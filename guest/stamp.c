#include "stamp.h"
#include "util.h"

static uint64_t stamp_seed(struct stamp_key k)
{
	/* splitmix64 finaliser over the packed key: nearby keys differ widely */
	uint64_t x = ((uint64_t)k.pop << 48) ^ ((uint64_t)k.buffer << 32) ^ k.gen ^ (k.page * 0x9E3779B97F4A7C15ull);
	x ^= x >> 30;
	x *= 0xBF58476D1CE4E5B9ull;
	x ^= x >> 27;
	x *= 0x94D049BB133111EBull;
	x ^= x >> 31;
	return x | 1;  /* never all-zero words */
}

void stamp_fill(void *page, struct stamp_key k)
{
	uint64_t *w = page, s = stamp_seed(k);
	for (unsigned i = 0; i < PAGE_SIZE_4K / 8; i++)
		w[i] = s ^ ((uint64_t)i << 52);
}

bool stamp_check(const void *page, struct stamp_key k)
{
	const uint64_t *w = page;
	uint64_t s = stamp_seed(k);
	for (unsigned i = 0; i < PAGE_SIZE_4K / 8; i++)
		if (w[i] != (s ^ ((uint64_t)i << 52)))
			return false;
	return true;
}
