#include "drl_kernels.h"

// Twelve independent FMA chains per iteration: enough to cover the FMA latency on current x86
// cores, so the loop runs at the FMA ports' throughput. Written in assembly so that the compiler
// can neither fold nor vectorise it differently.

#if defined(__x86_64__)
#define DRL_FMA12                                                                             \
    "vfmadd213ps %[c], %[b], %[a0]\n\t vfmadd213ps %[c], %[b], %[a1]\n\t"                          \
    "vfmadd213ps %[c], %[b], %[a2]\n\t vfmadd213ps %[c], %[b], %[a3]\n\t"                          \
    "vfmadd213ps %[c], %[b], %[a4]\n\t vfmadd213ps %[c], %[b], %[a5]\n\t"                          \
    "vfmadd213ps %[c], %[b], %[a6]\n\t vfmadd213ps %[c], %[b], %[a7]\n\t"                          \
    "vfmadd213ps %[c], %[b], %[a8]\n\t vfmadd213ps %[c], %[b], %[a9]\n\t"                          \
    "vfmadd213ps %[c], %[b], %[a10]\n\t vfmadd213ps %[c], %[b], %[a11]\n\t"

#define DRL_FMA_LOOP(vtype, set1)                                                                  \
    vtype a0 = set1(1.0f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0, \
          a9 = a0, a10 = a0, a11 = a0;                                                             \
    vtype b = set1(0.9999999f), c = set1(1e-7f);                                                   \
    for (long k = 0; k < iterations; k++) {                                                        \
        __asm__ volatile(DRL_FMA12                                                               \
                         : [a0] "+v"(a0), [a1] "+v"(a1), [a2] "+v"(a2), [a3] "+v"(a3),             \
                           [a4] "+v"(a4), [a5] "+v"(a5), [a6] "+v"(a6), [a7] "+v"(a7),             \
                           [a8] "+v"(a8), [a9] "+v"(a9), [a10] "+v"(a10), [a11] "+v"(a11)          \
                         : [b] "v"(b), [c] "v"(c));                                                \
    }

typedef float drl_v16 __attribute__((vector_size(64)));
typedef float drl_v8 __attribute__((vector_size(32)));
#define drl_set16(v) ((drl_v16){v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v})
#define drl_set8(v) ((drl_v8){v, v, v, v, v, v, v, v})

__attribute__((target("avx512f"))) static void drl_fma_avx512(long iterations) { DRL_FMA_LOOP(drl_v16, drl_set16) }
__attribute__((target("avx2,fma"))) static void drl_fma_avx2(long iterations) { DRL_FMA_LOOP(drl_v8, drl_set8) }
#endif

double drl_fma_loop(long iterations) {
#if defined(__x86_64__)
    if (drl_cpu_has_avx512_core()) {
        drl_fma_avx512(iterations);
        return 12.0 * 32.0 * (double)iterations;
    }
    if (drl_cpu_has_avx2_fma()) {
        drl_fma_avx2(iterations);
        return 12.0 * 16.0 * (double)iterations;
    }
#endif
    (void)iterations;
    return 0;
}
