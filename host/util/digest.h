/* SHA-256 (OpenSSL's libcrypto) of memory and of files, as hex. */
#ifndef HOST_DIGEST_H
#define HOST_DIGEST_H

#include <stddef.h>
#include <stdint.h>
#include "util/util.h"

#define SHA256_HEX_LEN 65  /* 64 hex digits and the NUL */

void sha256_hex(const void *data, size_t len, char hex[SHA256_HEX_LEN]);
/* The file's digest and its size in bytes (bytes may be NULL). */
int sha256_file(const char *path, char hex[SHA256_HEX_LEN], uint64_t *bytes, struct err *e);

#endif
