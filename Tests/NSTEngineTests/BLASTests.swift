import XCTest
@testable import NSTEngine

final class BLASTests: XCTestCase {
    func testRowMajorProductsWithTransposes() {
        let a: [Float] = [1, 2, 3, 4, 5, 6]       // 2x3
        let b: [Float] = [7, 8, 9, 10, 11, 12]    // 3x2
        var c = [Float](repeating: 1, count: 4)
        BLAS.sgemm(m: 2, n: 2, k: 3, a: a, lda: 3, b: b, ldb: 2, beta: 1, c: &c, ldc: 2)
        XCTAssertEqual(c, [59, 65, 140, 155], "A·B + C")
        var d = [Float](repeating: 0, count: 9)
        BLAS.sgemm(transposeA: true, m: 3, n: 3, k: 2, a: a, lda: 3, b: a, ldb: 3, c: &d, ldc: 3)
        XCTAssertEqual(d, [17, 22, 27, 22, 29, 36, 27, 36, 45], "Aᵀ·A")
    }
}
