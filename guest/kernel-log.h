#ifndef GUEST_KERNEL_LOG_H
#define GUEST_KERNEL_LOG_H

#include <json-c/json.h>

/* {"type":"kernel-log","text":"[    0.000000] Linux version ...\n...","truncated":false} */
struct json_object *kernel_log_message(void);

#endif
