#define _GNU_SOURCE
#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
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

char *ini_next_line(const char **text, int *line, char *buf, int size, bool *too_long)
{
	*too_long = false;
	if (!**text)
		return NULL;
	const char *nl = strchr(*text, '\n');
	size_t len = nl ? (size_t)(nl - *text + 1) : strlen(*text);
	(*line)++;
	/* Cutting the line would hand inih its tail as a line of its own (a
	 * long comment ending in "size = 32M" would set the size): refuse it. */
	if (len >= (size_t)size) {
		*too_long = true;
		return NULL;
	}
	memcpy(buf, *text, len);
	buf[len] = 0;
	*text += len;
	return buf;
}

int ini_result(int r, const char *path, struct err *e)
{
	if (r > 0)
		return err_set(e, "%s:%d: not a \"key = value\" line or a [section] header", path, r);
	if (r < 0)
		return err_set(e, "%s: cannot parse", path);
	return 0;
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

/* Length of the well-formed UTF-8 sequence at s (at most len bytes) that
 * is printable: 0 for a malformed one or a C1 control (U+0080..U+009F). */
static size_t utf8_printable(const unsigned char *s, size_t len)
{
	size_t n = s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 && s[0] < 0xe0 ? 2 : 0;
	if (!n || n > len)
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if (n == 2 && s[0] == 0xc2 && s[1] < 0xa0)
		return 0;  /* C1: 0x9b is CSI to many terminals */
	if (n == 3 && ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0)))
		return 0;  /* overlong, surrogates */
	if (n == 4 && ((s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90)))
		return 0;
	return n;
}

void fput_text(FILE *f, const char *text, size_t len, bool keep_newlines)
{
	const unsigned char *s = (const unsigned char *)text;
	for (size_t i = 0; i < len;) {
		unsigned char ch = s[i];
		if ((ch >= 0x20 && ch < 0x7f) || ch == '\t' || (ch == '\n' && keep_newlines)) {
			fputc(ch, f);
			i++;
			continue;
		}
		size_t n = ch >= 0x80 ? utf8_printable(s + i, len - i) : 0;
		if (n) {
			fwrite(s + i, 1, n, f);
			i += n;
		} else {
			fprintf(f, "\\x%02x", ch);
			i++;
		}
	}
}

FILE *fopen_output(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return NULL;
	FILE *f = fdopen(fd, "w");
	if (!f)
		close(fd);
	return f;
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
	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return err_set(e, "cannot create directory %.60s...: the path is longer than %zu characters", path,
			       sizeof(buf) - 1);
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
	/* O_NONBLOCK: a FIFO would block the open until a writer comes */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return err_sys(e, "cannot open %s %s", what, path);
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return err_set(e, "%s %s: not a regular file", what, path);
	}
	fcntl(fd, F_SETFL, 0);
	FILE *f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return err_sys(e, "cannot open %s %s", what, path);
	}
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
