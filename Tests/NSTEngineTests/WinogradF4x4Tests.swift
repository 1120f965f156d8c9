import XCTest
@testable import NSTEngine

/// The F(4×4, 3×3) transforms against the textbook matrices (Lavin & Gray 2016), multiplied out in
/// `Double`, and the identity they exist for: Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A is the 4×4 correlation of d with g.
final class WinogradF4x4Tests: XCTestCase {
    private let bT: [[Double]] = [
        [4, 0, -5, 0, 1, 0],
        [0, -4, -4, 1, 1, 0],
        [0, 4, -4, -1, 1, 0],
        [0, -2, -1, 2, 1, 0],
        [0, 2, -1, -2, 1, 0],
        [0, 4, 0, -5, 0, 1],
    ]
    private let g: [[Double]] = [
        [1.0 / 4, 0, 0],
        [-1.0 / 6, -1.0 / 6, -1.0 / 6],
        [-1.0 / 6, 1.0 / 6, -1.0 / 6],
        [1.0 / 24, 1.0 / 12, 1.0 / 6],
        [1.0 / 24, -1.0 / 12, 1.0 / 6],
        [0, 0, 1],
    ]
    private let aT: [[Double]] = [
        [1, 1, 1, 1, 1, 0],
        [0, 1, -1, 2, -2, 0],
        [0, 1, 1, 4, 4, 0],
        [0, 1, -1, 8, -8, 1],
    ]

    private func multiply(_ x: [[Double]], _ y: [[Double]]) -> [[Double]] {
        x.map { row in (0..<y[0].count).map { j in zip(row, y).reduce(0) { $0 + $1.0 * $1.1[j] } } }
    }

    private func transpose(_ x: [[Double]]) -> [[Double]] {
        (0..<x[0].count).map { j in x.map { $0[j] } }
    }

    private func randomMatrix(_ rows: Int, _ columns: Int, _ rng: inout SeededGenerator) -> [[Double]] {
        (0..<rows).map { _ in (0..<columns).map { _ in Double(Float.random(in: -1...1, using: &rng)) } }
    }

    func testKernelTransformMatchesGgGt() {
        var rng = SeededGenerator(seed: 1)
        let kernel = randomMatrix(3, 3, &rng)
        let flat = kernel.flatMap { $0.map(Float.init) }
        var u = [Float](repeating: .nan, count: 72)
        flat.withUnsafeBufferPointer { k in
            u.withUnsafeMutableBufferPointer { out in
                WinogradF4x4.transformKernel(k.baseAddress!, into: out.baseAddress!, stride: 2)
            }
        }
        let expected = multiply(multiply(g, kernel), transpose(g))
        for r in 0..<6 {
            for c in 0..<6 {
                // One rounding to Float: half an ulp of the value.
                XCTAssertEqual(Double(u[(r * 6 + c) * 2]), expected[r][c],
                               accuracy: abs(expected[r][c]) * 0x1p-24 + 1e-30, "coefficient (\(r), \(c))")
                XCTAssertTrue(u[(r * 6 + c) * 2 + 1].isNaN, "wrote outside its stride")
            }
        }
    }

    func testInputAndOutputTransformsMatchMatrices() {
        var rng = SeededGenerator(seed: 2)
        // A different tile in every lane, so that a lane mix-up cannot pass.
        let tiles = (0..<WinogradLanes.scalarCount).map { _ in randomMatrix(6, 6, &rng) }
        var lanes = WinogradTile(repeating: .zero)
        for i in 0..<36 {
            for l in 0..<WinogradLanes.scalarCount { lanes[i][l] = Float(tiles[l][i / 6][i % 6]) }
        }
        // The driver's order: Bᵀ on each row as it is gathered, then on the columns.
        var input = lanes
        for r in 0..<6 {
            let t = WinogradF4x4.inputColumn(input[r * 6], input[r * 6 + 1], input[r * 6 + 2],
                                             input[r * 6 + 3], input[r * 6 + 4], input[r * 6 + 5])
            (input[r * 6], input[r * 6 + 1], input[r * 6 + 2]) = (t.0, t.1, t.2)
            (input[r * 6 + 3], input[r * 6 + 4], input[r * 6 + 5]) = (t.3, t.4, t.5)
        }
        WinogradF4x4.transformColumns(&input)
        let output = WinogradF4x4.transformOutput { lanes[$0] }
        for l in 0..<WinogradLanes.scalarCount {
            let v = multiply(multiply(bT, tiles[l]), transpose(bT))
            let y = multiply(multiply(aT, tiles[l]), transpose(aT))
            // Inputs are O(1) and the matrices' rows have at most 4 terms of size ≤ 8 (two passes):
            // a few hundred float ulps of 1 bound the rounding of the float32 evaluation.
            for i in 0..<36 {
                XCTAssertEqual(Double(input[i][l]), v[i / 6][i % 6], accuracy: 1e-4, "BᵀdB lane \(l) entry \(i)")
            }
            for i in 0..<16 {
                XCTAssertEqual(Double(output[i][l]), y[i / 4][i % 4], accuracy: 1e-4,
                               "AᵀmA lane \(l) entry \(i)")
            }
        }
    }

    func testMinimalFilteringIdentity() {
        var rng = SeededGenerator(seed: 3)
        let d = randomMatrix(6, 6, &rng), kernel = randomMatrix(3, 3, &rng)
        let u = multiply(multiply(g, kernel), transpose(g))
        let v = multiply(multiply(bT, d), transpose(bT))
        let product = (0..<6).map { r in (0..<6).map { c in u[r][c] * v[r][c] } }
        let y = multiply(multiply(aT, product), transpose(aT))
        for r in 0..<4 {
            for c in 0..<4 {
                var direct = 0.0
                for dy in 0..<3 { for dx in 0..<3 { direct += kernel[dy][dx] * d[r + dy][c + dx] } }
                XCTAssertEqual(y[r][c], direct, accuracy: 1e-12, "output (\(r), \(c))")
            }
        }
    }
}
