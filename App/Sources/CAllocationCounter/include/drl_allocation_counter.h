#ifndef DRLREC_ALLOCATION_COUNTER_H
#define DRLREC_ALLOCATION_COUNTER_H

// Counts heap allocations made by the whole process (malloc, calloc, realloc and the aligned
// allocators), by defining those functions in the executable that links this target; they count,
// then call glibc's implementations. Linked only into the `drlrec` tool, for `bench nn`'s
// "allocations per step": never into the libraries.

unsigned long drl_allocation_count(void);

#endif
