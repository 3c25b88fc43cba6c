/* The list of populations: one line per guest/pop-<name>.c, whose spec
 * (common/population-spec.h) says everything else: its name, --help line,
 * options, the kernel facilities it needs and what it holds. Adding a
 * population is one new guest/pop-<name>.c and one line here. */
#ifndef VMEMSTRESS_POPULATION_TYPES_H
#define VMEMSTRESS_POPULATION_TYPES_H

#define VMS_POPULATION_TYPES(X)                                                                       \
	X(anon)                                                                                     \
	X(thp_cow)                                                                                  \
	X(vmsplice)                                                                                 \
	X(longterm_pin)                                                                             \
	X(high_mapcount)                                                                            \
	X(pagecache)                                                                                \
	X(transient_refs)                                                                           \
	X(secretmem)                                                                                \
	X(lazyfree)                                                                                 \
	X(offline_nack)                                                                             \
	X(hugetlb)

#endif
