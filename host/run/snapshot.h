/* Boot snapshots (--snapshot-dir): a VM saved with QEMU's migration right
 * after its guest said hello (idle, nothing plugged), restored by later
 * runs of the same VM instead of booting it.
 *
 * A snapshot lives in DIR/KEY/: vm.mig (the migration stream) and
 * meta.json (the key's full material, the stream's SHA-256 and size, and
 * the guest's hello). KEY is the SHA-256 of the material
 * (vm_qemu_snapshot_material: QEMU's command line without per-run paths,
 * the kernel's and initrd's SHA-256, QEMU's version and binary). A
 * snapshot is used only when its meta.json holds exactly this run's
 * material and vm.mig has the recorded size and SHA-256; anything else is
 * rejected and removed, and the run boots cold (and saves a new one). A
 * snapshot appears whole or not at all (written in a private directory,
 * renamed into place; the first of two concurrent writers wins). The
 * directory keeps the SNAPSHOT_KEEP most recently used (about 100 MB each
 * for the shipped scenarios). */
#ifndef HOST_RUN_SNAPSHOT_H
#define HOST_RUN_SNAPSHOT_H

#include <json-c/json.h>
#include "vm/vm.h"

struct snapshot {
	char key[65];              /* hex SHA-256 of material */
	char *material;
	char path[700];            /* DIR/KEY */
	char mig[720];             /* DIR/KEY/vm.mig */
	char meta[720];            /* DIR/KEY/meta.json */
	char dir[600];
};

enum snapshot_found { SNAPSHOT_NONE, SNAPSHOT_VALID, SNAPSHOT_REJECTED };

/* The key for config c under dir (dir need not exist yet). */
int snapshot_prepare(struct snapshot *s, const char *dir, const struct vm_config *c, struct err *e);
/* Whether DIR/KEY holds a usable snapshot; *hello (owned by the caller)
 * gets the guest's hello when it does, why the reason when rejected. */
enum snapshot_found snapshot_lookup(const struct snapshot *s, struct json_object **hello, char *why, size_t len);
/* Remove DIR/KEY (a rejected or failed snapshot), so the run saves anew. */
void snapshot_discard(const struct snapshot *s);
/* Save the running VM with its hello as DIR/KEY. Bounded by deadline.
 * Returns 0 when saved, 1 when another run saved the same key first. */
int snapshot_save(const struct snapshot *s, struct vm *vm, struct json_object *hello, uint64_t deadline_ms,
		  struct err *e);
void snapshot_free(struct snapshot *s);
/* A restored snapshot was used now (meta.json's mtime: pruning keeps the
 * most recently used). */
void snapshot_touch(const struct snapshot *s);
/* Keep the keep most recently used snapshots in dir, remove the others
 * (and what runs killed while saving left, after a day). snapshot_save
 * does it with SNAPSHOT_KEEP. */
#define SNAPSHOT_KEEP 16  /* the nightly suite has 11 VM shapes over its two kernels */
void snapshot_prune(const char *dir, int keep);

/* Pure helper (unit-tested): check a parsed meta.json against the key,
 * material and the stream's measured size and SHA-256. */
int snapshot_meta_check(struct json_object *meta, const char *key, const char *material, uint64_t mig_bytes,
			const char *mig_sha256, struct err *e);

#endif
