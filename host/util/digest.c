#define _GNU_SOURCE
#include "util/digest.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void to_hex(const unsigned char *md, unsigned n, char *hex)
{
	for (unsigned i = 0; i < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	hex[2 * n] = 0;
}

void sha256_hex(const void *data, size_t len, char hex[SHA256_HEX_LEN])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	if (!EVP_Digest(data, len, md, &n, EVP_sha256(), NULL))
		abort();
	to_hex(md, n, hex);
}

int sha256_file(const char *path, char hex[SHA256_HEX_LEN], uint64_t *bytes, struct err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_sys(e, "open %s", path);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL))
		abort();
	size_t cap = 1 << 20;
	unsigned char *buf = xcalloc(1, cap);
	uint64_t total = 0;
	int r = 0;
	for (;;) {
		ssize_t n = read(fd, buf, cap);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = err_sys(e, "read %s", path);
			break;
		}
		if (n == 0)
			break;
		EVP_DigestUpdate(ctx, buf, (size_t)n);
		total += (uint64_t)n;
	}
	close(fd);
	free(buf);
	if (r == 0) {
		unsigned char md[EVP_MAX_MD_SIZE];
		unsigned n = 0;
		EVP_DigestFinal_ex(ctx, md, &n);
		to_hex(md, n, hex);
		if (bytes)
			*bytes = total;
	}
	EVP_MD_CTX_free(ctx);
	return r;
}
