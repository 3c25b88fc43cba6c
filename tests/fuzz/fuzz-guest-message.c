/* libFuzzer harness: any bytes as a line from the guest. The host's decoder
 * must reject or accept it without crashing, leaking or reading out of
 * bounds, whatever message type it claims to be. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "link/protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "anon", "thp-cow" };
	/* 8 blocks of 2 MiB at 4 GiB, memory block 32 */
	static const struct state_expect x = {
		.nblocks = 8, .first_mblock = 32, .last_mblock = 32, .npops = 2, .pop_names = names,
	};
	if (size > 1 << 20)
		return 0;
	char *line = malloc(size + 1);
	if (!line)
		return 0;
	memcpy(line, data, size);
	line[size] = 0;
	struct json_object *msg;
	const char *type;
	struct err e;
	if (proto_parse_line(line, &msg, &type, &e) == 0) {
		struct guest_hello h;
		struct guest_state st;
		struct offline_result res[2];
		const uint64_t asked[2] = { 32, 33 };
		int64_t events;
		char text[200];
		/* an accepted hello claims a memory block the host can count on */
		if (proto_hello(msg, &h, &e) == 0 && (h.memory_block_size < VMS_MIN_MEMORY_BLOCK ||
						     (h.memory_block_size & (h.memory_block_size - 1))))
			abort();
		if (proto_state(msg, &x, &st, &e) == 0) {
			/* what was accepted must be consistent */
			if (strlen(st.map) != x.nblocks)
				abort();
			for (size_t i = 0; i < st.nheld; i++)
				if (st.held[i].block >= x.nblocks || st.held[i].pop < 0 || st.held[i].pop >= x.npops ||
				    (i && st.held[i].block < st.held[i - 1].block))
					abort();  /* in block order: held_find() relies on it */
			for (size_t i = 1; i < st.nmblocks; i++)
				if (st.mblocks[i].index <= st.mblocks[i - 1].index)
					abort();
			for (size_t i = 0; i < st.nstuck; i++)
				if (st.map[st.stuck[i].block] != VMS_BLOCK_PLUGGED_C)
					abort();
			guest_state_free(&st);
		}
		proto_offline(msg, asked, 2, res, &e);
		bool broken;
		int64_t stalled;
		if (proto_activity(msg, &events, &broken, &stalled, &e) == 0 && stalled < -1)
			abort();  /* -1 (none under way) or a time */
		proto_error_text(msg, text, sizeof(text));
		json_object_put(msg);
	}
	free(line);
	return 0;
}
