#define _GNU_SOURCE
#include "run/snapshot.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/digest.h"

#define META_FORMAT 1

int snapshot_prepare(struct snapshot *s, const char *dir, const struct vm_config *c, struct err *e)
{
	memset(s, 0, sizeof(*s));
	if (strlen(dir) > 400)
		return err_set(e, "--snapshot-dir %.60s...: at most 400 characters", dir);
	if (vm_qemu_snapshot_material(c, &s->material, e) < 0)
		return err_wrap(e, "snapshot key");
	sha256_hex(s->material, strlen(s->material), s->key);
	snprintf(s->dir, sizeof(s->dir), "%s", dir);
	snprintf(s->path, sizeof(s->path), "%s/%s", dir, s->key);
	snprintf(s->mig, sizeof(s->mig), "%s/vm.mig", s->path);
	snprintf(s->meta, sizeof(s->meta), "%s/meta.json", s->path);
	return 0;
}

void snapshot_free(struct snapshot *s)
{
	free(s->material);
	s->material = NULL;
}

static const char *jstr(struct json_object *o, const char *k)
{
	struct json_object *v;
	return json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_string) ? json_object_get_string(v)
												 : NULL;
}

int snapshot_meta_check(struct json_object *meta, const char *key, const char *material, uint64_t mig_bytes,
			const char *mig_sha256, struct err *e)
{
	struct json_object *v;
	if (!meta || !json_object_is_type(meta, json_type_object))
		return err_set(e, "meta.json is not a JSON object");
	if (!json_object_object_get_ex(meta, "format", &v) || !json_object_is_type(v, json_type_int) ||
	    json_object_get_int(v) != META_FORMAT)
		return err_set(e, "meta.json: not format %d", META_FORMAT);
	const char *k = jstr(meta, "key"), *m = jstr(meta, "material"), *h = jstr(meta, "mig_sha256");
	if (!k || strcmp(k, key) != 0)
		return err_set(e, "meta.json names another key (%.16s)", k ? k : "none");
	if (!m || strcmp(m, material) != 0)
		return err_set(e, "meta.json was made for another VM (its material differs from this run's)");
	if (!json_object_object_get_ex(meta, "mig_bytes", &v) || !json_object_is_type(v, json_type_int) ||
	    (uint64_t)json_object_get_int64(v) != mig_bytes)
		return err_set(e, "vm.mig has %" PRIu64 " bytes, not the %" PRId64 " recorded", mig_bytes,
			       v && json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : -1);
	if (!h || strcmp(h, mig_sha256) != 0)
		return err_set(e, "vm.mig's SHA-256 does not match the one recorded (corrupt)");
	if (!json_object_object_get_ex(meta, "hello", &v) || !json_object_is_type(v, json_type_object))
		return err_set(e, "meta.json has no guest hello");
	return 0;
}

enum snapshot_found snapshot_lookup(const struct snapshot *s, struct json_object **hello, char *why, size_t len)
{
	*hello = NULL;
	struct stat st;
	if (stat(s->path, &st) < 0 && errno == ENOENT)
		return SNAPSHOT_NONE;
	struct err e = { "" };
	char *text = NULL;
	if (read_text_file(s->meta, 1 << 20, "snapshot", &text, &e) < 0) {
		snprintf(why, len, "%s", e.msg);
		return SNAPSHOT_REJECTED;
	}
	struct json_object *meta = json_tokener_parse(text);
	free(text);
	char sha[SHA256_HEX_LEN] = "";
	uint64_t bytes = 0;
	int fd = open(s->mig, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(why, len, "%s: %s", s->mig, fd < 0 ? strerror(errno) : "not a regular file");
		if (fd >= 0)
			close(fd);
		json_object_put(meta);
		return SNAPSHOT_REJECTED;
	}
	close(fd);
	if (sha256_file(s->mig, sha, &bytes, &e) < 0 ||
	    snapshot_meta_check(meta, s->key, s->material, bytes, sha, &e) < 0) {
		snprintf(why, len, "%s", e.msg);
		json_object_put(meta);
		return SNAPSHOT_REJECTED;
	}
	struct json_object *h;
	json_object_object_get_ex(meta, "hello", &h);
	*hello = json_object_get(h);
	json_object_put(meta);
	return SNAPSHOT_VALID;
}

/* rm -r of a snapshot directory (flat: its files only) */
static void remove_dir(const char *path)
{
	DIR *d = opendir(path);
	if (d) {
		struct dirent *de;
		while ((de = readdir(d))) {
			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			char p[1000];
			snprintf(p, sizeof(p), "%s/%s", path, de->d_name);
			unlink(p);
		}
		closedir(d);
	}
	rmdir(path);
}

void snapshot_discard(const struct snapshot *s)
{
	/* renamed away first: a concurrent run sees it whole or not at all */
	char tmp[760];
	snprintf(tmp, sizeof(tmp), "%s/.discard.%s.%d", s->dir, s->key, (int)getpid());
	if (rename(s->path, tmp) == 0)
		remove_dir(tmp);
}

static bool is_key(const char *name)
{
	size_t n = strspn(name, "0123456789abcdef");
	return n == 64 && !name[n];
}

struct aged {
	char name[80];
	time_t used;
};

static int by_use(const void *a, const void *b)
{
	const struct aged *x = a, *y = b;
	return x->used < y->used ? 1 : x->used > y->used ? -1 : strcmp(x->name, y->name);
}

void snapshot_touch(const struct snapshot *s)
{
	utimensat(AT_FDCWD, s->meta, NULL, 0);
}

void snapshot_prune(const char *dir, int keep)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct aged *list = NULL;
	size_t n = 0, cap = 0;
	time_t now = time(NULL);
	struct dirent *de;
	while ((de = readdir(d))) {
		char p[1000];
		struct stat st;
		if (is_key(de->d_name)) {
			snprintf(p, sizeof(p), "%s/%s/meta.json", dir, de->d_name);
			if (stat(p, &st) < 0)
				st.st_mtime = 0;
			if (n == cap) {
				cap = cap ? 2 * cap : 16;
				list = realloc(list, cap * sizeof(*list));
				if (!list)
					abort();
			}
			snprintf(list[n].name, sizeof(list[n].name), "%s", de->d_name);
			list[n++].used = st.st_mtime;
		} else if ((strncmp(de->d_name, ".new.", 5) == 0 || strncmp(de->d_name, ".discard.", 9) == 0)) {
			/* left by a run killed while saving: gone after a day */
			snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
			if (stat(p, &st) == 0 && now - st.st_mtime > 86400)
				remove_dir(p);
		}
	}
	closedir(d);
	qsort(list, n, sizeof(*list), by_use);
	for (size_t i = (size_t)keep; i < n; i++) {
		char p[1000], tmp[1000];
		snprintf(p, sizeof(p), "%s/%s", dir, list[i].name);
		snprintf(tmp, sizeof(tmp), "%s/.discard.%s.%d", dir, list[i].name, (int)getpid());
		if (rename(p, tmp) == 0)
			remove_dir(tmp);
	}
	free(list);
}

int snapshot_save(const struct snapshot *s, struct vm *vm, struct json_object *hello, uint64_t deadline,
		  struct err *e)
{
	if (!vm->ops->save)
		return err_set(e, "the %s backend cannot save a VM", vm->ops->name);
	if (make_dirs(s->dir, e) < 0)
		return -1;
	char tmp[760], mig[800], meta[800];
	snprintf(tmp, sizeof(tmp), "%s/.new.%.16s.XXXXXX", s->dir, s->key);
	if (!mkdtemp(tmp))
		return err_sys(e, "mkdtemp %s", tmp);
	snprintf(mig, sizeof(mig), "%s/vm.mig", tmp);
	snprintf(meta, sizeof(meta), "%s/meta.json", tmp);
	uint64_t t = now_ms();
	if (vm->ops->save(vm, mig, deadline, e) < 0) {
		remove_dir(tmp);
		return -1;
	}
	uint64_t save_ms = now_ms() - t;
	char sha[SHA256_HEX_LEN];
	uint64_t bytes;
	if (sha256_file(mig, sha, &bytes, e) < 0) {
		remove_dir(tmp);
		return -1;
	}
	struct json_object *m = json_object_new_object();
	json_object_object_add(m, "format", json_object_new_int(META_FORMAT));
	json_object_object_add(m, "key", json_object_new_string(s->key));
	json_object_object_add(m, "material", json_object_new_string(s->material));
	json_object_object_add(m, "mig_bytes", json_object_new_int64((int64_t)bytes));
	json_object_object_add(m, "mig_sha256", json_object_new_string(sha));
	json_object_object_add(m, "save_ms", json_object_new_int64((int64_t)save_ms));
	char when[32];
	time_t now = time(NULL);
	struct tm tm;
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
	json_object_object_add(m, "saved_at", json_object_new_string(when));
	json_object_object_add(m, "hello", json_object_get(hello));
	FILE *f = fopen_output(meta);
	int r = 0;
	if (!f) {
		r = err_sys(e, "cannot write %s", meta);
	} else {
		fputs(json_object_to_json_string_ext(m, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE), f);
		fputc('\n', f);
		if (fclose(f) != 0)
			r = err_sys(e, "cannot write %s", meta);
	}
	json_object_put(m);
	if (r < 0) {
		remove_dir(tmp);
		return -1;
	}
	chmod(tmp, 0755);
	if (rename(tmp, s->path) < 0) {
		int errsv = errno;
		remove_dir(tmp);
		if (errsv == EEXIST || errsv == ENOTEMPTY)
			return 1;  /* another run saved it first */
		errno = errsv;
		return err_sys(e, "rename %s to %s", tmp, s->path);
	}
	snapshot_prune(s->dir, SNAPSHOT_KEEP);
	return 0;
}
