import COpenBLAS

/// Dense symmetric matrices in Double, row-major `[order, order]`: the eigendecomposition (LAPACK `dsyevd`
/// from OpenBLAS), the Cholesky factor (`dpotrf`) and the triangular products (`dtrmm`, `dsyrk`) the
/// Wasserstein style loss builds from them. Every call runs on the calling thread only.
enum SymmetricMatrix {
    /// Eigenvalues (ascending) and eigenvectors of the symmetric `matrix` `[order, order]` (its lower
    /// triangle is read): row `k` of `vectors` is the eigenvector of `values[k]` (LAPACK returns
    /// column-major columns, which read row-major are rows).
    /// - Throws: `NSTError.numeric` when LAPACK does not converge, `.outOfMemory` for an order whose work
    ///   space does not fit.
    static func eigen(_ matrix: [Double], order n: Int) throws -> (values: [Double], vectors: [Double]) {
        precondition(matrix.count == n * n && n > 0, "eigen: a \(n)x\(n) matrix")
        // dsyevd's documented minimal work space for eigenvectors: 1 + 6n + 2n² doubles, 3 + 5n integers.
        let (lwork, liwork) = (1 + 6 * n + 2 * n * n, 3 + 5 * n)
        try MemoryBudget.check(floats: 2 * (lwork + 2 * n * n), for: "a \(n)x\(n) eigendecomposition")
        var vectors = matrix, values = [Double](repeating: 0, count: n)
        var work = [Double](repeating: 0, count: lwork), iwork = [Int32](repeating: 0, count: liwork)
        var info: Int32 = 0
        var (order, leading, lw, liw) = (Int32(n), Int32(n), Int32(lwork), Int32(liwork))
        BLAS.pinOpenBLASToOneThread()
        // Row-major symmetric = column-major symmetric; "U" reads the upper triangle of the column-major view.
        dsyevd_("V", "U", &order, &vectors, &leading, &values, &work, &lw, &iwork, &liw, &info, 1, 1)
        guard info == 0 else {
            throw NSTError.numeric("symmetric eigendecomposition of a \(n)x\(n) matrix failed (LAPACK info \(info))")
        }
        return (values, vectors)
    }

    /// The lower triangular `L` with `L Lᵀ = matrix` (Cholesky), zeros above the diagonal.
    /// - Throws: `NSTError.numeric` when `matrix` is not positive definite.
    static func choleskyFactor(_ matrix: [Double], order n: Int) throws -> [Double] {
        precondition(matrix.count == n * n && n > 0, "choleskyFactor: a \(n)x\(n) matrix")
        var factor = matrix
        var (order, leading, info) = (Int32(n), Int32(n), Int32(0))
        BLAS.pinOpenBLASToOneThread()
        // The column-major upper factor U (A = Uᵀ U), read row-major, is the lower L = Uᵀ.
        dpotrf_("U", &order, &factor, &leading, &info, 1)
        guard info == 0 else {
            throw NSTError.numeric("Cholesky factorisation of a \(n)x\(n) matrix failed (LAPACK info \(info))")
        }
        for i in 0..<n { for j in (i + 1)..<n { factor[i * n + j] = 0 } }
        return factor
    }

    /// `Lᵀ A L` for the symmetric `a` and the lower triangular `lower` (two triangular products, each half
    /// a full product's multiply-adds).
    static func congruence(_ a: [Double], lower: [Double], order n: Int) -> [Double] {
        precondition(a.count == n * n && lower.count == n * n, "congruence: \(n)x\(n) matrices")
        var result = a
        let n32 = Int32(n)
        BLAS.pinOpenBLASToOneThread()
        cblas_dtrmm(CblasRowMajor, CblasRight, CblasLower, CblasNoTrans, CblasNonUnit, n32, n32, 1, lower, n32, &result, n32)
        cblas_dtrmm(CblasRowMajor, CblasLeft, CblasLower, CblasTrans, CblasNonUnit, n32, n32, 1, lower, n32, &result, n32)
        return result
    }

    /// `L f(K) Lᵀ = Σ_k f(λ_k) (L v_k)(L v_k)ᵀ` from the eigenvalues `λ` and eigenvectors `v` (rows of
    /// `vectors`, as `eigen` returns them) of a symmetric `K`, for `f ≥ 0` and the lower triangular
    /// `lower` (nil: `L = I`, the matrix function `f(K)`): the rows `√f(λ_k) (L v_k)ᵀ` by one triangular
    /// product, then their Gram matrix (`dsyrk`).
    static func congruentFunction(values: [Double], vectors: [Double], lower: [Double]?, order n: Int,
                                  _ f: (Double) -> Double) -> [Double] {
        precondition(values.count == n && vectors.count == n * n && (lower?.count ?? n * n) == n * n,
                     "congruentFunction: order \(n)")
        var rows = vectors, result = [Double](repeating: 0, count: n * n)
        let n32 = Int32(n)
        BLAS.pinOpenBLASToOneThread()
        if let lower {
            cblas_dtrmm(CblasRowMajor, CblasRight, CblasLower, CblasTrans, CblasNonUnit, n32, n32, 1, lower, n32, &rows, n32)
        }
        for k in 0..<n {
            let s = f(values[k]).squareRoot()
            for j in 0..<n { rows[k * n + j] *= s }
        }
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, n32, n32, 1, rows, n32, 0, &result, n32)
        for i in 0..<n { for j in 0..<i { result[i * n + j] = result[j * n + i] } }
        return result
    }
}
