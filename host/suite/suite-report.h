/* Renderers of a suite result (schema "vmemstress-suite/1", the runner's
 * OUT/suite.json) into JUnit XML, KTAP, one self-contained HTML page and
 * KCIDB I/O JSON (suite-junit.c, suite-ktap.c, suite-html.c,
 * suite-kcidb.c).
 *
 * The suite object is read as untrusted: a missing field or one of the
 * wrong type is rendered as absent, never a crash; every string is escaped
 * for its format. Each writer returns 0, or -1 with e set when writing to
 * out failed. */
#ifndef HOST_SUITE_REPORT_H
#define HOST_SUITE_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <json-c/json.h>

#include "../common/err.h"

int suite_write_junit(struct json_object *suite, FILE *out, struct err *e);
int suite_write_ktap(struct json_object *suite, FILE *out, struct err *e);
int suite_write_html(struct json_object *suite, FILE *out, struct err *e);
/* KCIDB I/O JSON, schema 5.3; dir: the suite's output directory as an
 * absolute path, for file:// URLs of the runs' files (NULL: none). */
int suite_write_kcidb(struct json_object *suite, const char *dir, FILE *out, struct err *e);

/* Shared by the three writers (suite-report.c). */

/* Defensive getters: o may be NULL or not an object; a member of another
 * type reads as missing. */
struct json_object *sr_get(struct json_object *o, const char *key, json_type type);
const char *sr_str(struct json_object *o, const char *key, const char *dflt);
/* like sr_str, and an empty string reads as missing too */
const char *sr_text(struct json_object *o, const char *key, const char *dflt);
/* integers, or finite doubles truncated and clamped to int64 */
int64_t sr_int(struct json_object *o, const char *key, int64_t dflt);
bool sr_bool(struct json_object *o, const char *key, bool dflt);
/* the array member's length, 0 when it is not an array */
size_t sr_len(struct json_object *o, const char *key);
/* element i of the array member, NULL when absent or not of type */
struct json_object *sr_at(struct json_object *o, const char *key, size_t i, json_type type);
/* v itself when it is a string, else dflt */
const char *sr_strv(struct json_object *v, const char *dflt);

/* XML and HTML text and attribute values (double-quoted): &<>"' escaped;
 * characters XML 1.0 forbids (controls but tab/newline/CR, U+FFFE, U+FFFF)
 * and bytes that are not UTF-8 written as the text "\xNN", so they stay
 * visible. In attributes newline, CR and tab become character references
 * so they survive attribute normalisation. */
enum { SR_TEXT = 0, SR_ATTR = 1 };
void sr_put_markup(FILE *f, const char *s, int mode);
/* One line of plain text: line breaks and controls become spaces; with
 * no_hash, '#' becomes '_' (a KTAP description cannot hold one). */
void sr_put_line(FILE *f, const char *s, bool no_hash);

/* s as UTF-8 text: every byte that does not start a valid sequence
 * written as '?', everything else as it is (controls included). */
void sr_put_utf8(FILE *f, const char *s);

/* The kernel a run belongs to: kernel.name, else the id before its '/'. */
void sr_run_kernel(struct json_object *run, char *buf, size_t len);
/* The scenario a run belongs to: scenario.name, else the id after '/'. */
void sr_run_scenario(struct json_object *run, char *buf, size_t len);
/* The distinct kernels of the runs (as sr_run_kernel names them), in order
 * of first appearance: a new json array of strings, the caller's to put. */
struct json_object *sr_kernels(struct json_object *suite);
#define SR_NAME_MAX 256

/* A run of adjacent blocks that stayed in one step for the same owner,
 * reason, known bug and judgement: the unit the JUnit text and the HTML
 * list name. */
struct sr_stay_run {
	struct json_object *first;  /* the stayed[] entry of the first block */
	int64_t block_first, block_last;
	int64_t mblock_first, mblock_last;  /* -1 when unknown */
	int64_t addr_first, addr_end;        /* [first, end) bytes; -1 unknown */
	bool expected;
	size_t next;                         /* index after the run in stayed[] */
};
/* Fill r with the run starting at stayed[i] of step; false at the end. */
bool sr_stay_run(struct json_object *step, size_t i, int64_t block_size, struct sr_stay_run *r);

/* One line of plain text naming the run: "step S: device blocks 4-19
 * (0x100800000-0x102800000, memory blocks 32-33): owner vmsplice, reason
 * gup-reference, not expected; went when vmsplice was released". */
void sr_stay_text(FILE *f, struct json_object *step, const struct sr_stay_run *r);

/* The run's verdict: "pass", "fail", "error" or "skip"; anything else
 * reads as "error" (a run whose outcome is unknown did not finish). */
const char *sr_run_verdict(struct json_object *run);

/* "1.5 GiB", "512 MiB", "0 B" */
void sr_size(int64_t bytes, char *buf, size_t len);

#endif
