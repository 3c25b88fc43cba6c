/* Decoding what the guest says. Everything from the guest is untrusted:
 * lines are bounded (linebuf), every field is checked for type and range,
 * strings are length-limited and stripped of control characters. */
#ifndef HOST_PROTOCOL_H
#define HOST_PROTOCOL_H

#include <json-c/json.h>
#include <stdint.h>
#include "../common/protocol.h"
#include "scenario.h"
#include "util.h"
#include "vm.h"

struct guest_hello {
	int proto;
	char program[64];
	char kernel[128];
	uint64_t memory_block_size;
	char thp[64];
};

struct pop_state {
	char name[VMS_MAX_NAME + 1];
	char type[32];
	uint64_t pages, in_region, absent, moved, verified, corrupted;
	int64_t thp_pages;         /* -1: not a THP population */
	char note[256];
	bool has_first_bad;
	char first_bad_mapping[16];
	uint64_t first_bad_page;
};

struct mem_block {
	uint64_t index;
	char state[16];
	char zone[64];
};

struct held {                  /* `pages` of population `pop` sit in `block` */
	uint64_t block;
	int pop;
	uint64_t pages;
};

struct guest_state {
	char step[VMS_MAX_NAME + 1];
	char *map;                 /* 'P'/'U' per device block */
	uint64_t nblocks, plugged;
	struct pop_state *pops;
	int npops;
	struct mem_block *mblocks;
	size_t nmblocks;
	struct held *held;
	size_t nheld;
	uint64_t elapsed_ms, setup_ms;
};

/* What the host knows that a state message must agree with. */
struct state_expect {
	uint64_t nblocks;
	uint64_t first_mblock, last_mblock;   /* memory blocks of the region */
	int npops;
	const char *const *pop_names;         /* in scenario order */
};

/* Commands to the guest (docs/protocol.md). */
struct json_object *proto_cmd_setup(const struct scenario *s, const struct vm_region *r);
struct json_object *proto_cmd_state(const char *step);
struct json_object *proto_cmd_poweroff(void);

/* Parse one line into a JSON object with a string "type". */
int proto_parse_line(const char *line, struct json_object **msg, const char **type, struct err *e);
int proto_hello(struct json_object *msg, struct guest_hello *h, struct err *e);
int proto_state(struct json_object *msg, const struct state_expect *x, struct guest_state *s, struct err *e);
/* An "error" message's text, sanitised, into buf. */
void proto_error_text(struct json_object *msg, char *buf, size_t len);
void guest_state_free(struct guest_state *s);

/* Copy s into buf (len bytes), replacing control and non-ASCII bytes. */
void sanitize(const char *s, char *buf, size_t len);

#endif
