/* What the virtio-mem driver and memory hotplug really run with, read back
 * from the kernel (never assumed from what the host asked): the driver's
 * mode from its own probe messages, its module parameters and memory
 * hotplug's. */
#ifndef GUEST_DRIVER_H
#define GUEST_DRIVER_H

#include <json-c/json.h>

/* {"mode":"sbm"|"bbm"|"","unit":BYTES (sub-block or big block size),
 *  "params":{"virtio_mem.force_bbm":"N",...}} */
struct json_object *driver_readback(void);

/* Online every offline memory block in [addr, addr+size) into `how`
 * ("online_movable", "online_kernel"): online-policy = guest. Returns how
 * many were onlined, or -1 with errno of the first failure. */
int driver_online_blocks(unsigned long long addr, unsigned long long size, unsigned long long memory_block_size,
			 const char *how);

#endif
