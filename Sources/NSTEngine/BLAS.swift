import COpenBLAS

/// The one place the engine calls OpenBLAS: row-major single-precision matrix products.
///
/// OpenBLAS always runs single-threaded here; `sgemm` spreads a large product over the engine's own
/// workers (`Parallel`) instead. With two thread pools, OpenBLAS's idle threads spin (`sched_yield`)
/// while the engine's workers run the convolutions, taking a core's time from them (measured:
/// bench/RESULTS.md, "One OpenBLAS thread").
public enum BLAS {
    /// Below this many multiply-adds a product runs on the calling thread (splitting costs more).
    static let parallelThreshold = 1 << 21

    /// `C = alpha * op(A) * op(B) + beta * C`, row-major, where `op(A)` is `m x k` and `op(B)` is `k x n`,
    /// split over `Parallel.threadCount` workers by columns of C (or by rows when C is taller than wide).
    /// Must not be called from inside a `Parallel` loop (use `serialSgemm` there).
    /// - Parameters:
    ///   - lda, ldb, ldc: row strides (elements) of A, B and C as stored (before transposition).
    /// - Complexity: O(m·n·k).
    public static func sgemm(transposeA: Bool = false, transposeB: Bool = false,
                             m: Int, n: Int, k: Int, alpha: Float = 1,
                             a: UnsafePointer<Float>, lda: Int,
                             b: UnsafePointer<Float>, ldb: Int,
                             beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        let workers = min(Parallel.threadCount, max(m, n) / 16)
        guard workers > 1, m * n * k >= parallelThreshold else {
            return serialSgemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                               a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
        }
        Parallel.forEach(workers) { chunk in
            // Chunk edges on multiples of 16 keep every chunk's columns (rows) aligned to the sgemm kernel's.
            if n >= m {
                let columns = Parallel.part(chunk, of: workers, splitting: n, alignment: 16)
                guard !columns.isEmpty else { return }
                serialSgemm(transposeA: transposeA, transposeB: transposeB, m: m, n: columns.count, k: k, alpha: alpha,
                            a: a, lda: lda, b: transposeB ? b + columns.lowerBound * ldb : b + columns.lowerBound,
                            ldb: ldb, beta: beta, c: c + columns.lowerBound, ldc: ldc)
            } else {
                let rows = Parallel.part(chunk, of: workers, splitting: m, alignment: 16)
                guard !rows.isEmpty else { return }
                serialSgemm(transposeA: transposeA, transposeB: transposeB, m: rows.count, n: n, k: k, alpha: alpha,
                            a: transposeA ? a + rows.lowerBound : a + rows.lowerBound * lda, lda: lda, b: b, ldb: ldb,
                            beta: beta, c: c + rows.lowerBound * ldc, ldc: ldc)
            }
        }
    }

    /// `sgemm` on the calling thread only; safe inside `Parallel` loops.
    public static func serialSgemm(transposeA: Bool = false, transposeB: Bool = false,
                                   m: Int, n: Int, k: Int, alpha: Float = 1,
                                   a: UnsafePointer<Float>, lda: Int,
                                   b: UnsafePointer<Float>, ldb: Int,
                                   beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        guard m > 0, n > 0 else { return }
        guard k > 0 else {
            // OpenBLAS handles k == 0 too, but scaling C here keeps the contract explicit.
            for row in 0..<m { for col in 0..<n { c[row * ldc + col] *= beta } }
            return
        }
        pinOpenBLASToOneThread()
        cblas_sgemm(CblasRowMajor,
                    transposeA ? CblasTrans : CblasNoTrans,
                    transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha,
                    a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// The upper triangle of `C = alpha · A Aᵀ + beta · C` for `A` `n x k` (row-major, row stride `lda`),
    /// on the calling thread only; the strict lower triangle of C is not touched.
    /// - Complexity: O(n²·k / 2).
    public static func serialSsyrkUpper(n: Int, k: Int, alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                                        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        guard n > 0, k > 0 else { return }
        pinOpenBLASToOneThread()
        cblas_ssyrk(CblasRowMajor, CblasUpper, CblasNoTrans, Int32(n), Int32(k), alpha, a, Int32(lda), beta, c, Int32(ldc))
    }

    /// The BLAS library in use and the kernels it picked for this CPU, e.g.
    /// `"OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY SkylakeX MAX_THREADS=64; core SkylakeX"`.
    ///
    /// Worth checking: a DYNAMIC_ARCH OpenBLAS older than the CPU falls back to generic SSE kernels
    /// ("Prescott"), several times slower on a newer CPU (measured: bench/RESULTS.md, "OpenBLAS kernels").
    public static let description: String = {
        let config = openblas_get_config().map { String(cString: $0) } ?? "OpenBLAS"
        let core = openblas_get_corename().map { String(cString: $0) } ?? "unknown"
        return "\(config); core \(core)"
    }()

    /// Process-wide: re-applied in case something else sharing this OpenBLAS changed it. Every call into
    /// OpenBLAS (BLAS or its LAPACK, `SymmetricMatrix`) goes after it.
    static func pinOpenBLASToOneThread() {
        if openblas_get_num_threads() != 1 { openblas_set_num_threads(1) }
    }
}
