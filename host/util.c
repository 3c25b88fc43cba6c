#define _GNU_SOURCE
#include "util.h"

#include <errno.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

volatile sig_atomic_t vms_interrupted;
int vms_verbosity = 1;
static uint64_t clock_start;

uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void on_signal(int sig)
{
	(void)sig;
	vms_interrupted = 1;
}

void install_signal_handlers(void)
{
	/* No SA_RESTART: a blocked poll() returns EINTR and the loop sees the
	 * flag at once. */
	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

void progress_start_clock(void)
{
	clock_start = now_ms();
}

static void vmsg(const char *fmt, va_list ap)
{
	char line[1200];
	vsnprintf(line, sizeof(line), fmt, ap);
	uint64_t t = now_ms() - clock_start;
	fprintf(stderr, "[%4llu.%llus] %s\n", (unsigned long long)(t / 1000),
		(unsigned long long)(t % 1000 / 100), line);
}

void progress(const char *fmt, ...)
{
	if (vms_verbosity < 1)
		return;
	va_list ap;
	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

void debug(const char *fmt, ...)
{
	if (vms_verbosity < 2)
		return;
	va_list ap;
	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

char *ini_next_line(const char **text, int *line, char *buf, int size)
{
	if (!**text)
		return NULL;
	const char *nl = strchr(*text, '\n');
	size_t len = nl ? (size_t)(nl - *text + 1) : strlen(*text);
	if (len >= (size_t)size)
		len = (size_t)size - 1;
	memcpy(buf, *text, len);
	buf[len] = 0;
	*text += len;
	(*line)++;
	return buf;
}

bool ini_section_header(const char *line, char *name, size_t len)
{
	while (*line == ' ' || *line == '\t')
		line++;
	const char *close = *line == '[' ? strchr(line, ']') : NULL;
	if (!close)
		return false;
	snprintf(name, len, "%.*s", (int)(close - line - 1), line + 1);
	return true;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p) {
		fprintf(stderr, "vmemstress: out of memory\n");
		abort();
	}
	return p;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s ? s : "");
	if (!p) {
		fprintf(stderr, "vmemstress: out of memory\n");
		abort();
	}
	return p;
}

int make_dirs(const char *path, struct err *e)
{
	char buf[512];
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return err_sys(e, "cannot create directory %s", buf);
		*p = '/';
	}
	if (mkdir(buf, 0755) < 0 && errno != EEXIST)
		return err_sys(e, "cannot create directory %s", buf);
	return 0;
}

int read_text_file(const char *path, size_t max, const char *what, char **text, struct err *e)
{
	*text = NULL;
	FILE *f = fopen(path, "r");
	if (!f)
		return err_sys(e, "cannot open %s %s", what, path);
	char *buf = malloc(max + 1);
	if (!buf) {
		fclose(f);
		return err_set(e, "out of memory");
	}
	size_t n = fread(buf, 1, max + 1, f);
	int rerr = ferror(f);
	fclose(f);
	if (rerr) {
		free(buf);
		return err_set(e, "cannot read %s %s", what, path);
	}
	if (n > max) {
		free(buf);
		return err_set(e, "%s: larger than %zu KiB: not a %s file", path, max >> 10, what);
	}
	if (memchr(buf, 0, n)) {
		free(buf);
		return err_set(e, "%s: contains a NUL byte: not a %s file", path, what);
	}
	buf[n] = 0;
	*text = buf;
	return 0;
}
