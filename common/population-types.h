/* The population kinds, as one list both programs expand: the guest builds
 * its table of descriptors from it (guest/populations.c), the host checks
 * scenario files and prints --help from it. Adding a population is one new
 * guest/pop-<name>.c and one line here. X(c_identifier, "name", "summary") */
#ifndef VMEMSTRESS_POPULATION_TYPES_H
#define VMEMSTRESS_POPULATION_TYPES_H

#define VMS_POPULATION_TYPES(X)                                                        \
	X(anon, "anon", "plain anonymous base pages; the baseline, always movable")      \
	X(thp_cow, "thp-cow",                                                            \
	  "THPs shared with a forked child that writes one subpage of each "             \
	  "(PMD-mapped in the parent, PTE-mapped in the child)")

#endif
