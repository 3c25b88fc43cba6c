/* The XML side of the libvirt backend, apart from the API calls so the unit
 * tests can check it: the domain we define, the virtio-mem device read from
 * the live XML, the device element rewritten with a new <requested>, what
 * the host's capabilities offer, and whether a URI names another host. */
#ifndef HOST_LIBVIRT_XML_H
#define HOST_LIBVIRT_XML_H

#include <stdbool.h>
#include <stdint.h>

#include "util/util.h"

struct lv_domain_spec {
	const char *name;
	const char *type;          /* "kvm" or "qemu" (TCG) */
	const char *kernel, *initrd, *cmdline;
	const char *console;       /* the serial console's file, on the daemon's host */
	const char *emulator;      /* NULL: the daemon's default QEMU */
	const char *port_name;     /* the virtio-serial port the guest program opens */
	int cpus;
	uint64_t boot_memory;      /* NUMA node 0, with the CPUs */
	uint64_t node1_memory;     /* NUMA node 1's own RAM (see LV_NODE1_MEMORY) */
	uint64_t region_size, initial_size, block_size;
};

/* libvirt 9.0 backs every NUMA cell with a memory object and QEMU refuses
 * one of size 0, so node 1 (the virtio-mem device's) cannot be memoryless as
 * with the QEMU backend: it gets this much RAM of its own, above Linux's 4
 * MiB minimum for a node. */
#define LV_NODE1_MEMORY (16ull << 20)

/* The domain XML (malloc'd); every value is escaped. */
char *lv_domain_xml(const struct lv_domain_spec *d);

struct lv_memdev {
	char alias[64];
	uint64_t size, block_size, requested, current;
	int node;
	bool have_addr;            /* <target><address base=...> (newer libvirt) */
	uint64_t addr;
};

/* The virtio-mem device named alias (NULL: the first one) in a live domain
 * XML. */
int lv_find_memdev(const char *domain_xml, const char *alias, struct lv_memdev *m, struct err *e);

/* That device's element, whole (it keeps <size> and the PCI <address>, by
 * which libvirt finds the device), with <requested> set to bytes: the input
 * of virDomainUpdateDeviceFlags(). malloc'd; NULL with e set. */
char *lv_memdev_with_requested(const char *domain_xml, const char *alias, uint64_t bytes, struct err *e);

/* Whether the capabilities XML offers an x86_64 hvm guest of domain type
 * type ("kvm", "qemu"). */
bool lv_caps_offer(const char *caps_xml, const char *type);

/* Whether a libvirt URI names another host (qemu+ssh://host/system); one
 * without a host, or with localhost, is local. */
bool lv_uri_is_remote(const char *uri);

/* The address of a QEMU memory device from query-memory-devices' JSON
 * answer ({"return":[...]}) by its id; -1 with e set when not found. */
int lv_qmp_memaddr(const char *json, const char *id, uint64_t *addr, struct err *e);

#endif
