/* Times every cblas_sgemm and cblas_ssyrk call of a process, grouped by shape; bench/blas_calls.py builds
 * this into a shared library and runs an evaluation loop under LD_PRELOAD. At exit each shape's line goes to
 * $SWIFTNST_BLAS_CALLS_OUT: routine, transpose flags, m, n, k, calls, seconds (summed over threads).
 *
 * The real routines come from libopenblas.so.0, the library the engine links; NumPy's own OpenBLAS uses
 * other symbol names and is not counted. */
#define _GNU_SOURCE
#include <cblas.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef void (*SgemmFunction)(CBLAS_ORDER, CBLAS_TRANSPOSE, CBLAS_TRANSPOSE, blasint, blasint, blasint, float,
                              const float *, blasint, const float *, blasint, float, float *, blasint);
typedef void (*SsyrkFunction)(CBLAS_ORDER, CBLAS_UPLO, CBLAS_TRANSPOSE, blasint, blasint, float, const float *,
                              blasint, float, float *, blasint);

enum { MAX_SHAPES = 4096 };
static struct Shape {
    const char *routine;
    int transposeA, transposeB;
    long m, n, k, calls;
    double seconds;
} shapes[MAX_SHAPES];
static int shapeCount;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void *openblas(const char *symbol) {
    static void *library;
    if (!library) library = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL);
    void *found = library ? dlsym(library, symbol) : NULL;
    if (!found) {
        fprintf(stderr, "blas_calls: %s not found in libopenblas.so.0\n", symbol);
        abort();
    }
    return found;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static void record(const char *routine, int transposeA, int transposeB, long m, long n, long k, double seconds) {
    pthread_mutex_lock(&lock);
    int i = 0;
    while (i < shapeCount && !(shapes[i].routine == routine && shapes[i].transposeA == transposeA &&
                               shapes[i].transposeB == transposeB && shapes[i].m == m && shapes[i].n == n &&
                               shapes[i].k == k))
        i++;
    if (i == shapeCount && shapeCount < MAX_SHAPES)
        shapes[shapeCount++] = (struct Shape){routine, transposeA, transposeB, m, n, k, 0, 0};
    if (i < shapeCount) {
        shapes[i].calls++;
        shapes[i].seconds += seconds;
    }
    pthread_mutex_unlock(&lock);
}

void cblas_sgemm(CBLAS_ORDER order, CBLAS_TRANSPOSE transA, CBLAS_TRANSPOSE transB, blasint m, blasint n, blasint k,
                 float alpha, const float *a, blasint lda, const float *b, blasint ldb, float beta, float *c,
                 blasint ldc) {
    static SgemmFunction real;
    if (!real) real = (SgemmFunction)openblas("cblas_sgemm");
    double start = now();
    real(order, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    record("sgemm", transA != CblasNoTrans, transB != CblasNoTrans, m, n, k, now() - start);
}

void cblas_ssyrk(CBLAS_ORDER order, CBLAS_UPLO uplo, CBLAS_TRANSPOSE trans, blasint n, blasint k, float alpha,
                 const float *a, blasint lda, float beta, float *c, blasint ldc) {
    static SsyrkFunction real;
    if (!real) real = (SsyrkFunction)openblas("cblas_ssyrk");
    double start = now();
    real(order, uplo, trans, n, k, alpha, a, lda, beta, c, ldc);
    record("ssyrk", trans != CblasNoTrans, 0, n, n, k, now() - start);
}

__attribute__((destructor)) static void report(void) {
    const char *path = getenv("SWIFTNST_BLAS_CALLS_OUT");
    FILE *out = path ? fopen(path, "w") : NULL;
    if (!out) return;
    for (int i = 0; i < shapeCount; i++)
        fprintf(out, "%s %d %d %ld %ld %ld %ld %.9f\n", shapes[i].routine, shapes[i].transposeA,
                shapes[i].transposeB, shapes[i].m, shapes[i].n, shapes[i].k, shapes[i].calls, shapes[i].seconds);
    fclose(out);
}
