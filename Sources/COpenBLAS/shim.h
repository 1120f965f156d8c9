// OpenBLAS's CBLAS interface; Debian puts cblas.h under the pkg-config include path of libopenblas-dev.
#include <cblas.h>
#include <stddef.h>

// LAPACK's symmetric eigensolver (divide and conquer). OpenBLAS builds LAPACK into its own library
// (Debian's libopenblas exports dsyevd_; a wheel's auditwheel copy is that same library), but installs no
// LAPACK header, so the Fortran prototype is declared here: every argument by reference, 32-bit integers
// (OpenBLAS's default interface), then the hidden lengths of the two character arguments.
void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda, double *w,
             double *work, const int *lwork, int *iwork, const int *liwork, int *info,
             size_t jobz_length, size_t uplo_length);

// LAPACK's Cholesky factorisation, declared the same way.
void dpotrf_(const char *uplo, const int *n, double *a, const int *lda, int *info, size_t uplo_length);
