import XCTest
@testable import NSTEngine

/// `SymmetricMatrix` against its defining identities and against naive Double loops (no BLAS).
final class SymmetricMatrixTests: XCTestCase {
    /// A random symmetric positive definite `[n, n]`: `B Bᵀ + shift · I`.
    static func positiveDefinite(order n: Int, shift: Double, seed: UInt64) -> [Double] {
        let b = randomFloats(n * n, seed: seed).map(Double.init)
        var a = naiveProduct(b, transposed(b, order: n), order: n)
        for i in 0..<n { a[i * n + i] += shift }
        return a
    }

    func testEigenDecomposition() throws {
        let a: [Double] = [2, 1, 0, 1, 2, 0, 0, 0, 5]  // eigenvalues 1, 3, 5
        let (values, vectors) = try SymmetricMatrix.eigen(a, order: 3)
        assertClose(values, [1.0, 3, 5], tolerance: 1e-12)
        for k in 0..<3 {
            let v = Array(vectors[(k * 3)..<(k * 3 + 3)])
            let av = (0..<3).map { i in (0..<3).reduce(0.0) { $0 + a[i * 3 + $1] * v[$1] } }
            assertClose(av, v.map { $0 * values[k] }, tolerance: 1e-12)
        }
    }

    /// `L Lᵀ = A` with `L` lower triangular (1e-12 relative: Double throughout, order 9).
    func testCholeskyFactorMultipliesBack() throws {
        let n = 9
        let a = Self.positiveDefinite(order: n, shift: 0.1, seed: 81)
        let l = try SymmetricMatrix.choleskyFactor(a, order: n)
        for i in 0..<n { for j in (i + 1)..<n { XCTAssertEqual(l[i * n + j], 0) } }
        let scale = a.map(abs).max()!
        assertClose(naiveProduct(l, transposed(l, order: n), order: n).map { $0 / scale }, a.map { $0 / scale }, tolerance: 1e-12)
    }

    func testCholeskyOfAnIndefiniteMatrixThrows() {
        XCTAssertThrowsError(try SymmetricMatrix.choleskyFactor([1, 2, 2, 1], order: 2)) {
            guard case NSTError.numeric = $0 else { return XCTFail("\($0)") }
        }
    }

    /// `congruence` = `Lᵀ A L` and `congruentFunction` = `L V diag(f(λ)) Vᵀ Lᵀ` (and `V diag(λ) Vᵀ` = K
    /// without `L`) by naive loops, at an order past OpenBLAS's blocking (70) so the triangular kernels'
    /// block edges are exercised (1e-12 relative).
    func testTriangularProductsMatchNaiveLoops() throws {
        let n = 70
        let a = Self.positiveDefinite(order: n, shift: 0.5, seed: 82)
        let l = try SymmetricMatrix.choleskyFactor(Self.positiveDefinite(order: n, shift: 0.2, seed: 83), order: n)
        let expectedK = naiveProduct(naiveProduct(transposed(l, order: n), a, order: n), l, order: n)
        let k = SymmetricMatrix.congruence(a, lower: l, order: n)
        let scaleK = expectedK.map(abs).max()!
        assertClose(k.map { $0 / scaleK }, expectedK.map { $0 / scaleK }, tolerance: 1e-12)

        let (values, vectors) = try SymmetricMatrix.eigen(k, order: n)
        let f = { (x: Double) in 1 / x.squareRoot() }
        var middle = [Double](repeating: 0, count: n * n)  // Vᵀ diag(f(λ)) V with the eigenvectors as rows of V
        for i in 0..<n { for j in 0..<n { middle[i * n + j] = (0..<n).reduce(0.0) { $0 + vectors[$1 * n + i] * f(values[$1]) * vectors[$1 * n + j] } } }
        let expected = naiveProduct(naiveProduct(l, middle, order: n), transposed(l, order: n), order: n)
        let result = SymmetricMatrix.congruentFunction(values: values, vectors: vectors, lower: l, order: n, f)
        let scale = expected.map(abs).max()!
        assertClose(result.map { $0 / scale }, expected.map { $0 / scale }, tolerance: 1e-12)
        for i in 0..<n { for j in 0..<n { XCTAssertEqual(result[i * n + j], result[j * n + i]) } }
        // Without a factor: the matrix function itself, here the identity function giving K back.
        let kBack = SymmetricMatrix.congruentFunction(values: values, vectors: vectors, lower: nil, order: n) { $0 }
        assertClose(kBack.map { $0 / scaleK }, expectedK.map { $0 / scaleK }, tolerance: 1e-12)
    }
}

/// `a · b` of two `[order, order]` row-major matrices by three loops.
func naiveProduct(_ a: [Double], _ b: [Double], order n: Int) -> [Double] {
    var c = [Double](repeating: 0, count: n * n)
    for i in 0..<n { for k in 0..<n { for j in 0..<n { c[i * n + j] += a[i * n + k] * b[k * n + j] } } }
    return c
}

func transposed(_ a: [Double], order n: Int) -> [Double] {
    (0..<(n * n)).map { a[($0 % n) * n + $0 / n] }
}
