#include "drl_kernels.h"

#include <stdlib.h>

// Present only in OpenBLAS builds with DYNAMIC_ARCH (Debian's amd64 build is one). Weak, so that a
// static or single-architecture OpenBLAS still links and the reload reports -1 instead.
extern void gotoblas_dynamic_init(void) __attribute__((weak));
extern void gotoblas_dynamic_quit(void) __attribute__((weak));

int drl_openblas_reload_kernel(const char *coretype) {
    if (!gotoblas_dynamic_init || !gotoblas_dynamic_quit) return -1;
    // The variable also reaches child processes, which then load the same kernel at start-up.
    if (setenv("OPENBLAS_CORETYPE", coretype, 1) != 0) return -1;
    gotoblas_dynamic_quit();
    gotoblas_dynamic_init();
    return 0;
}
