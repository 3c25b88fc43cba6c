/* The population kinds, as one list both programs expand: the guest builds
 * its table of descriptors from it (guest/populations.c), the host checks
 * scenario files, prints --help and classifies stuck blocks from it.
 * Adding a population is one new guest/pop-<name>.c and one line here.
 *
 * X(c_identifier, "name", "summary")
 * What a population holds on its pages on purpose is declared by the guest
 * at run time (pop_hold() in its file) and compared there with what the
 * kernel's counters show (host/run/classify.c). */
#ifndef VMEMSTRESS_POPULATION_TYPES_H
#define VMEMSTRESS_POPULATION_TYPES_H

#define VMS_POPULATION_TYPES(X)                                                                       \
	X(anon, "anon", "plain anonymous base pages; the baseline, always movable")                 \
	X(thp_cow, "thp-cow",                                                                       \
	  "THPs shared with a forked child that writes one subpage of each (PMD-mapped in the "         \
	  "parent, PTE-mapped in the child); variant cow=mprotect splits the PMD without fork")         \
	X(vmsplice, "vmsplice",                                                        \
	  "pages vmspliced into a pipe that is not read until release (GUP references)")                \
	X(longterm_pin, "longterm-pin",                                                 \
	  "io_uring registered buffers (liburing): FOLL_LONGTERM pins until unregistered")              \
	X(high_mapcount, "high-mapcount",                                                           \
	  "memfd pages each mapped more than 1024 times (maps=N): a control that must not block")      \
	X(pagecache, "pagecache", "tmpfs file pages, written with write() and redirtied through a mapping") \
	X(transient_refs, "transient-refs",                                      \
	  "a child loops process_vm_readv over the buffer: short-lived extra references")               \
	X(secretmem, "secretmem",                                               \
	  "memfd_secret pages (needs secretmem.enable=1 on 6.1): never movable; zone=kernel only")      \
	X(lazyfree, "lazyfree",                                                                     \
	  "MADV_FREE pages, half redirtied: clean ones may be discarded (zeros legal), dirty ones not")

#endif
