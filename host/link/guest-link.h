/* The host's end of the guest channel: send a command, wait (bounded) for
 * the next message, noticing at once when the VM dies. Every line received
 * is kept in guest.log. */
#ifndef HOST_GUEST_LINK_H
#define HOST_GUEST_LINK_H

#include <json-c/json.h>
#include <stdio.h>
#include "util/linebuf.h"
#include "vm/vm.h"

struct guest_link {
	struct vm *vm;
	struct linebuf lb;
	FILE *log;
};

void guest_link_init(struct guest_link *g, struct vm *vm, FILE *log);
void guest_link_free(struct guest_link *g);
int guest_send(struct guest_link *g, struct json_object *cmd, struct err *e);  /* consumes cmd */
/* Wait for a message of type `want`. A guest "error" message, garbage, the
 * VM's end, the deadline or Ctrl-C end the wait with an error. */
int guest_expect(struct guest_link *g, const char *want, uint64_t deadline_ms, struct json_object **msg,
		 struct err *e);

#endif
