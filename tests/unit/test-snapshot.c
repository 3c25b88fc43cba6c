/* Boot snapshots: what the key covers (run/snapshot.h, vm-qemu.c's
 * material) and when a stored snapshot is accepted. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "run/snapshot.h"
#include "util/digest.h"

static char dir[64];
static char kernel[128], initrd[128];

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/vms-test-snap.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(kernel, sizeof(kernel), "%s/vmlinuz", dir);
	snprintf(initrd, sizeof(initrd), "%s/initrd", dir);
	write_file(kernel, "kernel bytes");
	write_file(initrd, "initrd bytes");
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* "echo --version" stands in for QEMU's: it prints a line and exits 0 */
static struct vm_config config(const char *sockdir, const char *outdir)
{
	return (struct vm_config){
		.kernel = kernel, .initrd = initrd, .cmdline = "console=ttyS0 quiet", .qemu = "echo",
		.accel = ACCEL_TCG, .cpus = 2, .boot_memory = 512ull << 20, .region_size = 1ull << 30,
		.block_size = 2ull << 20, .sockdir = sockdir, .outdir = outdir, .mem_backend = "ram", .prealloc = -1,
	};
}

static char *material(const struct vm_config *c)
{
	struct err e = { "" };
	char *m = NULL;
	assert_int_equal(vm_qemu_snapshot_material(c, &m, &e), 0);
	assert_non_null(m);
	return m;
}

static void key_leaves_out_paths(void **state)
{
	struct vm_config a = config("/tmp/vmemstress.aaaaaa", "/out/one"), b = config("/tmp/vmemstress.bbbbbb", "/x/two");
	char *ma = material(&a), *mb = material(&b);
	assert_string_equal(ma, mb);
	assert_null(strstr(ma, "vmemstress.aaaaaa"));
	assert_null(strstr(ma, "/out/one"));
	assert_null(strstr(ma, kernel));  /* named by its bytes, not its path */
	assert_non_null(strstr(ma, "sha256:"));
	assert_non_null(strstr(ma, "qemu: "));
	/* the same bytes under another name: the same key */
	char other[160];
	snprintf(other, sizeof(other), "%s/other-vmlinuz", dir);
	write_file(other, "kernel bytes");
	b.kernel = other;
	char *mc = material(&b);
	assert_string_equal(ma, mc);
	free(ma);
	free(mb);
	free(mc);
}

static void key_covers_the_vm(void **state)
{
	struct vm_config a = config("/s", "/o");
	char *base = material(&a);
	struct vm_config v;
	char *m;
#define DIFFERS(change)                     \
	do {                                \
		v = a;                      \
		change;                     \
		m = material(&v);           \
		assert_string_not_equal(m, base); \
		free(m);                    \
	} while (0)
	DIFFERS(v.cmdline = "console=ttyS0 quiet vmemstress.fault=panic");
	DIFFERS(v.initial_size = 1ull << 30);
	DIFFERS(v.region_size = 2ull << 30);
	DIFFERS(v.cpus = 1);
	DIFFERS(v.mem_backend = "memfd");
	DIFFERS(v.qemu = "/bin/echo");  /* another binary */
	/* other kernel bytes at the same path */
	write_file(kernel, "kernel bytes, rebuilt");
	m = material(&a);
	assert_string_not_equal(m, base);
	free(m);
	write_file(kernel, "kernel bytes");
#undef DIFFERS
	free(base);
	/* a kernel that cannot be read: no key */
	struct err e = { "" };
	v = a;
	v.kernel = "/nonexistent/vmlinuz";
	m = NULL;
	assert_int_equal(vm_qemu_snapshot_material(&v, &m, &e), -1);
	assert_non_null(strstr(e.msg, "/nonexistent/vmlinuz"));
}

static struct json_object *meta(const char *key, const char *material_text, int64_t bytes, const char *sha)
{
	struct json_object *m = json_object_new_object();
	json_object_object_add(m, "format", json_object_new_int(1));
	json_object_object_add(m, "key", json_object_new_string(key));
	json_object_object_add(m, "material", json_object_new_string(material_text));
	json_object_object_add(m, "mig_bytes", json_object_new_int64(bytes));
	json_object_object_add(m, "mig_sha256", json_object_new_string(sha));
	struct json_object *h = json_object_new_object();
	json_object_object_add(h, "type", json_object_new_string("hello"));
	json_object_object_add(m, "hello", h);
	return m;
}

static void meta_checked(void **state)
{
	struct err e = { "" };
	struct json_object *m = meta("k1", "material", 100, "abc");
	assert_int_equal(snapshot_meta_check(m, "k1", "material", 100, "abc", &e), 0);
	assert_int_equal(snapshot_meta_check(m, "k2", "material", 100, "abc", &e), -1);
	assert_non_null(strstr(e.msg, "another key"));
	assert_int_equal(snapshot_meta_check(m, "k1", "other material", 100, "abc", &e), -1);
	assert_non_null(strstr(e.msg, "another VM"));
	assert_int_equal(snapshot_meta_check(m, "k1", "material", 99, "abc", &e), -1);
	assert_non_null(strstr(e.msg, "99 bytes"));
	assert_int_equal(snapshot_meta_check(m, "k1", "material", 100, "abd", &e), -1);
	assert_non_null(strstr(e.msg, "SHA-256"));
	json_object_object_del(m, "hello");
	assert_int_equal(snapshot_meta_check(m, "k1", "material", 100, "abc", &e), -1);
	assert_non_null(strstr(e.msg, "hello"));
	json_object_put(m);
	m = meta("k1", "material", 100, "abc");
	json_object_object_add(m, "format", json_object_new_int(2));
	assert_int_equal(snapshot_meta_check(m, "k1", "material", 100, "abc", &e), -1);
	json_object_put(m);
	assert_int_equal(snapshot_meta_check(NULL, "k1", "material", 100, "abc", &e), -1);
}

static void lookup(void **state)
{
	struct err e = { "" };
	struct vm_config c = config("/s", "/o");
	struct snapshot s;
	char sdir[128], why[400];
	snprintf(sdir, sizeof(sdir), "%s/snaps", dir);
	assert_int_equal(snapshot_prepare(&s, sdir, &c, &e), 0);
	assert_int_equal(strlen(s.key), 64);
	struct json_object *hello = NULL;
	assert_int_equal(snapshot_lookup(&s, &hello, why, sizeof(why)), SNAPSHOT_NONE);
	/* a valid one */
	assert_int_equal(mkdir(sdir, 0755), 0);
	assert_int_equal(mkdir(s.path, 0755), 0);
	write_file(s.mig, "a migration stream");
	char sha[SHA256_HEX_LEN];
	sha256_hex("a migration stream", 18, sha);
	struct json_object *m = meta(s.key, s.material, 18, sha);
	write_file(s.meta, json_object_to_json_string(m));
	json_object_put(m);
	assert_int_equal(snapshot_lookup(&s, &hello, why, sizeof(why)), SNAPSHOT_VALID);
	assert_non_null(hello);
	json_object_put(hello);
	/* the stream changed: rejected */
	write_file(s.mig, "a migration streaM");
	assert_int_equal(snapshot_lookup(&s, &hello, why, sizeof(why)), SNAPSHOT_REJECTED);
	assert_null(hello);
	assert_non_null(strstr(why, "SHA-256"));
	/* garbage meta.json: rejected; discard removes the directory */
	write_file(s.meta, "{not json");
	assert_int_equal(snapshot_lookup(&s, &hello, why, sizeof(why)), SNAPSHOT_REJECTED);
	snapshot_discard(&s);
	assert_int_equal(access(s.path, F_OK), -1);
	assert_int_equal(snapshot_lookup(&s, &hello, why, sizeof(why)), SNAPSHOT_NONE);
	snapshot_free(&s);
}

static void prune_keeps_the_most_recently_used(void **state)
{
	char sdir[128], p[300];
	snprintf(sdir, sizeof(sdir), "%s/prune", dir);
	assert_int_equal(mkdir(sdir, 0755), 0);
	const char *hex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde";
	for (int i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s/%s%d", sdir, hex, i);
		assert_int_equal(mkdir(p, 0755), 0);
		snprintf(p, sizeof(p), "%s/%s%d/meta.json", sdir, hex, i);
		write_file(p, "{}");
		struct timespec t[2] = { { 1000000 + i * 10, 0 }, { 1000000 + i * 10, 0 } };
		assert_int_equal(utimensat(AT_FDCWD, p, t, 0), 0);
	}
	snprintf(p, sizeof(p), "%s/not-a-key", sdir);
	assert_int_equal(mkdir(p, 0755), 0);
	snapshot_prune(sdir, 2);
	snprintf(p, sizeof(p), "%s/%s0", sdir, hex);
	assert_int_equal(access(p, F_OK), -1);  /* the least recently used */
	snprintf(p, sizeof(p), "%s/%s1", sdir, hex);
	assert_int_equal(access(p, F_OK), 0);
	snprintf(p, sizeof(p), "%s/%s2", sdir, hex);
	assert_int_equal(access(p, F_OK), 0);
	snprintf(p, sizeof(p), "%s/not-a-key", sdir);
	assert_int_equal(access(p, F_OK), 0);  /* not ours: left alone */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(key_leaves_out_paths),
		cmocka_unit_test(key_covers_the_vm),
		cmocka_unit_test(meta_checked),
		cmocka_unit_test(lookup),
		cmocka_unit_test(prune_keeps_the_most_recently_used),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
