/* Helpers every host module uses: errors with context, time, progress. */
#ifndef HOST_UTIL_H
#define HOST_UTIL_H

#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../common/err.h"


uint64_t now_ms(void);  /* CLOCK_MONOTONIC */

/* Set by SIGINT/SIGTERM; every wait loop checks it. */
extern volatile sig_atomic_t vms_interrupted;
void install_signal_handlers(void);

/* Progress on stderr: "[  3.1s] message", relative to the run's start. */
extern int vms_verbosity;  /* 0 quiet, 1 progress (default), 2 debug */
void progress_start_clock(void);
__attribute__((format(printf, 1, 2))) void progress(const char *fmt, ...);
__attribute__((format(printf, 1, 2))) void debug(const char *fmt, ...);

void *xcalloc(size_t n, size_t size);
/* fopen(path, "w") for the files a run writes, without following a
 * symbolic link at path (errno ELOOP): nothing else gets overwritten. */
FILE *fopen_output(const char *path);
/* Write len bytes of text to f so that a terminal or editor shows them and
 * obeys none: printable ASCII, tab, newline (keep_newlines) and printable
 * UTF-8 stay; control bytes (ESC, CR, C1 controls such as U+009B) and
 * malformed bytes become "\xNN". For guest.log and kernel.log. */
void fput_text(FILE *f, const char *text, size_t len, bool keep_newlines);
/* Read a whole text file of at most max bytes into *text (malloc'd,
 * NUL-terminated). what names it in errors ("scenario", "kernel config"):
 * unreadable, too large and NUL bytes are errors. */
int read_text_file(const char *path, size_t max, const char *what, char **text, struct err *e);
/* The longest output directory a run takes (--outdir): its files' paths
 * must fit the buffers they are built in, never be cut. A suite's own
 * directory is shorter, as its runs go in OUTDIR/runs/KERNEL/SCENARIO. */
#define VMS_MAX_OUTDIR 440
#define VMS_MAX_SUITE_OUTDIR (VMS_MAX_OUTDIR - 110)
/* mkdir -p; a path too long is an error, not cut */
int make_dirs(const char *path, struct err *e);
char *xstrdup(const char *s);

/* inih's ini_parse_stream does not tell the handler the line number, so the
 * INI readers (scenario, suite, known bugs) hand it lines through this:
 * the next line of *text into buf, counted in *line; NULL at the end. A
 * line that does not fit in buf (size - 2 characters and its newline) is
 * never cut: NULL with *too_long set, *line its number; the reader stops
 * with an error naming file and line. */
char *ini_next_line(const char **text, int *line, char *buf, int size, bool *too_long);
/* the longest line (without its newline) a buffer of size bytes takes */
#define INI_LINE_MAX(size) ((size) - 2)
/* Is line a "[name]" section header? Its name into name. */
bool ini_section_header(const char *line, char *name, size_t len);
/* What ini_parse_stream's result r means for file path: 0 when it read
 * every line, else -1 with the line that is not INI named in e. */
int ini_result(int r, const char *path, struct err *e);

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
