import COpenBLAS

/// Dense symmetric matrices in Double, row-major `[order, order]`: the eigendecomposition (LAPACK `dsyevd`
/// from OpenBLAS) and what the Wasserstein style loss builds from it.
enum SymmetricMatrix {
    /// Eigenvalues (ascending) and eigenvectors of the symmetric `matrix` `[order, order]`: row `k` of
    /// `vectors` is the eigenvector of `values[k]` (LAPACK returns column-major columns, which read
    /// row-major are rows).
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

    /// `Vᵀ diag(f(λ)) V` for the eigenvectors `V` (rows) and eigenvalues `λ` of `eigen`: the matrix function
    /// `f` of the decomposed matrix.
    static func function(values: [Double], vectors: [Double], order n: Int, _ f: (Double) -> Double) -> [Double] {
        var scaled = vectors
        for k in 0..<n {
            let s = f(values[k])
            for j in 0..<n { scaled[k * n + j] *= s }
        }
        return product(vectors, transposeA: true, scaled, transposeB: false, order: n)
    }

    /// `op(a) · op(b)` of two `[order, order]` matrices.
    static func product(_ a: [Double], transposeA: Bool = false, _ b: [Double], transposeB: Bool = false,
                        order n: Int) -> [Double] {
        var c = [Double](repeating: 0, count: n * n)
        let n32 = Int32(n)
        BLAS.pinOpenBLASToOneThread()
        cblas_dgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    n32, n32, n32, 1, a, n32, b, n32, 0, &c, n32)
        return c
    }

    /// The principal square root of a symmetric positive semi-definite matrix; eigenvalues below zero
    /// (rounding of a semi-definite one) count as zero.
    static func squareRoot(_ matrix: [Double], order n: Int) throws -> [Double] {
        let (values, vectors) = try eigen(matrix, order: n)
        return function(values: values, vectors: vectors, order: n) { $0 > 0 ? $0.squareRoot() : 0 }
    }
}
