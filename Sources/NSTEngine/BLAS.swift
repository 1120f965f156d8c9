import COpenBLAS

/// The one place the engine calls OpenBLAS: row-major single-precision matrix products.
public enum BLAS {
    /// `C = alpha * op(A) * op(B) + beta * C`, row-major, where `op(A)` is `m x k` and `op(B)` is `k x n`.
    /// - Parameters:
    ///   - lda, ldb, ldc: row strides (elements) of A, B and C as stored (before transposition).
    /// - Complexity: O(m·n·k), multithreaded by OpenBLAS.
    public static func sgemm(transposeA: Bool = false, transposeB: Bool = false,
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
        cblas_sgemm(CblasRowMajor,
                    transposeA ? CblasTrans : CblasNoTrans,
                    transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha,
                    a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// Number of threads OpenBLAS uses for each product.
    public static var threadCount: Int {
        get { Int(openblas_get_num_threads()) }
        set { openblas_set_num_threads(Int32(max(1, newValue))) }
    }
}
