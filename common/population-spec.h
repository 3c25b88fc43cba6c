/* What a population is, declared once at the top of its own
 * guest/pop-<name>.c and read by both programs: the host checks scenario
 * keys, kernel configs and prints --help from it; the guest probes the
 * running kernel for what it needs and reads its options through it.
 *
 * The host compiles each guest/pop-<name>.c with VMS_SPEC_ONLY defined,
 * which keeps the spec and drops the guest code after it (Makefile). The
 * list of populations is common/population-types.h. */
#ifndef VMEMSTRESS_POPULATION_SPEC_H
#define VMEMSTRESS_POPULATION_SPEC_H

#include <stdbool.h>

/* Kernel facilities a population may need: X(ID, "name", "CONFIG_ option
 * the host checks in a kernel config", "what it is, in words"). The guest
 * probes each one it needs on the running kernel (guest/probe.c): a config
 * says what was built, only the kernel says what is usable (secretmem
 * needs a boot option on 6.1, PREEMPT_RT kernels have no THP, io_uring can
 * be disabled by sysctl). */
#define VMS_FACILITIES(X)                                                                   \
	X(THP, "thp", "TRANSPARENT_HUGEPAGE", "transparent hugepages")                      \
	X(MADVISE, "madvise", "ADVISE_SYSCALLS", "madvise()")                               \
	X(MEMFD, "memfd", "MEMFD_CREATE", "memfd_create()")                                 \
	X(TMPFS, "tmpfs", "TMPFS", "tmpfs")                                                 \
	X(IO_URING, "io_uring", "IO_URING", "io_uring")                                     \
	X(SECRETMEM, "secretmem", "SECRETMEM", "memfd_secret()")                            \
	X(PROCESS_VM, "process_vm", "CROSS_MEMORY_ATTACH", "process_vm_readv()")           \
	X(SYSCTL, "sysctl", "PROC_SYSCTL", "/proc/sys (fs.pipe-max-size)")                 \
	X(MEM_NOTIFY_INJECT, "mem-notify-inject", "MEMORY_NOTIFIER_ERROR_INJECT",          \
	  "memory hotplug notifier error injection")                                         \
	X(HUGETLBFS, "hugetlbfs", "HUGETLBFS", "hugetlbfs with 2 MiB huge pages")

enum vms_facility {
#define VMS_FAC_ENUM(id, name, kconfig, words) VMS_FAC_##id,
	VMS_FACILITIES(VMS_FAC_ENUM)
#undef VMS_FAC_ENUM
	VMS_NFACILITIES
};
#define VMS_NEEDS(id) (1u << VMS_FAC_##id)

struct vms_facility_info {
	const char *name, *kconfig, *words;
};
extern const struct vms_facility_info vms_facilities[VMS_NFACILITIES];

#define VMS_MAX_POP_OPTIONS 4

/* A scenario key of one population type: `choices` (NULL-ended) or, when
 * there are none, a whole number from min to max. */
struct vms_pop_option {
	const char *key;
	const char *help;
	const char *def;           /* the value when the scenario does not set it */
	const char *const choices[4];
	long min, max;
};

struct population_spec {
	const char *name;          /* the scenario's `type =` */
	const char *summary;       /* one line for --help */
	unsigned needs;            /* VMS_NEEDS(x) | ...: the population cannot be built without */
	const char *holds;         /* what it holds on its pages on purpose, and how its release drops it */
	struct vms_pop_option options[VMS_MAX_POP_OPTIONS];
};

/* Every population, in the order of common/population-types.h; NULL-ended. */
extern const struct population_spec *const vms_population_specs[];
const struct population_spec *vms_population_spec(const char *name);
const struct vms_pop_option *vms_pop_option_find(const struct population_spec *s, const char *key);
/* Check one value against an option: NULL when it is good, else why not,
 * in words, written into buf. */
const char *vms_pop_option_check(const struct vms_pop_option *o, const char *value, char *buf, unsigned len);

#endif
