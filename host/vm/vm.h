/* A VM backend: starts the guest, resizes its virtio-mem device, reports
 * the device's size, and stops it. The run does not care which backend
 * (direct QEMU with QMP, or a libvirt domain) is behind it. */
#ifndef HOST_VM_H
#define HOST_VM_H

#include <stdint.h>
#include "util/util.h"

enum accel_pref { ACCEL_AUTO, ACCEL_KVM, ACCEL_TCG };

struct vm_config {
	const char *kernel, *initrd;
	const char *kernel_on_host, *initrd_on_host;  /* libvirt: booted in their place, or NULL */
	const char *cmdline;       /* full kernel command line */
	const char *qemu;          /* QEMU binary */
	const char *connect_uri;   /* libvirt backend: the daemon (NULL: qemu:///system) */
	enum accel_pref accel;
	int cpus;
	uint64_t boot_memory, region_size, initial_size, block_size;
	const char *mem_backend;   /* the region's backend: "ram", "memfd", "file" */
	int prealloc;              /* virtio-mem-pci prealloc: -1 QEMU's default */
	const char *unplugged_inaccessible;  /* "on", "off", "auto"; "" QEMU's default */
	const char *sockdir;       /* private 0700 directory for sockets */
	const char *outdir;        /* console.log, qemu.log, qmp.log go here */
	/* qemu backend: restore the VM from this migration stream (QEMU
	 * started with -incoming defer, then migrate-incoming) instead of
	 * booting it; NULL: boot */
	const char *incoming;
};

struct vm_region {
	uint64_t addr, size, block_size;
	int node;
};

struct vm;
struct vm_ops {
	const char *name;
	int (*start)(struct vm *vm, const struct vm_config *c, uint64_t deadline_ms, struct err *e);
	int (*region)(struct vm *vm, struct vm_region *r, struct err *e);
	int (*set_requested)(struct vm *vm, uint64_t bytes, struct err *e);
	int (*get_size)(struct vm *vm, uint64_t *size, struct err *e);
	/* Sleep up to timeout_ms, waking early on a size-change event. Fails
	 * when the VM is gone. */
	int (*wait_event)(struct vm *vm, int timeout_ms, struct err *e);
	/* false, with the reason, once the VM has stopped (crash, panic...) */
	bool (*alive)(struct vm *vm, char *why, size_t len);
	/* Bounded; always leaves no process behind. */
	void (*stop)(struct vm *vm);
	/* Save the running VM with QEMU's migration into the file at path
	 * (written whole, or not at all), then let it go on; bounded by
	 * deadline. NULL: the backend cannot. */
	int (*save)(struct vm *vm, const char *path, uint64_t deadline_ms, struct err *e);
};

struct vm {
	const struct vm_ops *ops;
	void *priv;
	int guest_fd;              /* connected to the guest's port */
	char accel[8];             /* "kvm" or "tcg", once started */
	char hypervisor[96];       /* e.g. "QEMU 7.2.22" */
};

extern const struct vm_ops vm_qemu_ops;
extern const struct vm_ops vm_libvirt_ops;

/* Connect to a libvirt URI (NULL: qemu:///system) and check it can run our
 * domain (libvirt version, a QEMU domain type); info says what it offers,
 * ending "; host N cpus, M MiB free" (a suite deals runs by it). */
int vm_libvirt_probe(const char *uri, char *info, size_t len, struct err *e);

/* Put the file at path on the daemon's host, in its storage pool
 * "vmemstress" (a transient directory pool in /var/lib/libvirt/images/
 * vmemstress, created when missing), as volume volname, uploaded with
 * virStorageVolUpload unless a volume of that name and size is there
 * (volname is the file's cache key: each file goes once). volpath: the
 * volume's path on that host; *uploaded: whether it was sent now. */
int vm_libvirt_upload(const char *uri, const char *path, const char *volname, char *volpath, size_t len,
		      bool *uploaded, struct err *e);

/* What makes a saved VM valid for config c with the qemu backend, as
 * text (malloc'd): QEMU's command line with every per-run path (sockets,
 * output directory) left out and the kernel and initrd named by the
 * SHA-256 of their bytes, QEMU's --version and its binary (path, size,
 * mtime), and, when KVM would be used, the host CPU. Two configs with the
 * same text start identical VMs. */
int vm_qemu_snapshot_material(const struct vm_config *c, char **out, struct err *e);

/* Whether /dev/kvm can be opened read-write. */
bool kvm_usable(void);

#endif
