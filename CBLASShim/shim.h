#ifndef DRLREC_CBLAS_SHIM_H
#define DRLREC_CBLAS_SHIM_H

// OpenBLAS's CBLAS interface (include dir from `pkg-config --cflags openblas`).
#include <cblas.h>

// LAPACKE uses C99 `_Complex` by default, which Swift cannot import; plain structs keep every
// prototype importable. DRLRec calls only real-valued routines.
typedef struct { float real, imag; } drlrec_lapack_complex_float;
typedef struct { double real, imag; } drlrec_lapack_complex_double;
#define LAPACK_COMPLEX_CUSTOM
#define lapack_complex_float drlrec_lapack_complex_float
#define lapack_complex_double drlrec_lapack_complex_double
#include <lapacke.h>

#endif
