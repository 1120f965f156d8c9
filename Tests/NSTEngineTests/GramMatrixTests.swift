import XCTest
@testable import NSTEngine

final class GramMatrixTests: XCTestCase {
    func gram(_ f: [Float], _ c: Int, _ p: Int, alpha: Float = 1) -> [Float] {
        var g = [Float](repeating: .nan, count: c * c)
        f.withUnsafeBufferPointer { fp in
            g.withUnsafeMutableBufferPointer { GramMatrix.forward(features: fp.baseAddress!, channels: c, positions: p, alpha: alpha, gram: $0.baseAddress!) }
        }
        return g
    }

    func gramBackward(_ f: [Float], _ gg: [Float], _ c: Int, _ p: Int, alpha: Float, symmetric: Bool) -> [Float] {
        var out = [Float](repeating: .nan, count: c * p)
        let scratch = ScratchSpace()
        f.withUnsafeBufferPointer { fp in
            gg.withUnsafeBufferPointer { gp in
                out.withUnsafeMutableBufferPointer {
                    GramMatrix.backward(features: fp.baseAddress!, gradGram: gp.baseAddress!, channels: c, positions: p,
                                        alpha: alpha, symmetric: symmetric, gradFeatures: $0.baseAddress!, scratch: scratch)
                }
            }
        }
        return out
    }

    func testForwardHandComputed() {
        // F = [[1, 2, 3], [4, 5, 6]]: F Fᵀ = [[14, 32], [32, 77]].
        XCTAssertEqual(gram([1, 2, 3, 4, 5, 6], 2, 3), [14, 32, 32, 77])
        XCTAssertEqual(gram([1, 2, 3, 4, 5, 6], 2, 3, alpha: 0.5), [7, 16, 16, 38.5])
    }

    /// Large enough to be split between workers (3 of them, so one part is uneven): the parts' upper
    /// triangles summed and mirrored must match a float64 F Fᵀ.
    func testForwardSplitBetweenWorkersMatchesDirectSum() {
        let (c, p) = (40, 6_001)  // 40² · 6001 multiply-adds: 4 × BLAS.parallelThreshold
        let f = randomFloats(c * p, seed: 33)
        var expected = [Float](repeating: 0, count: c * c)
        for i in 0..<c {
            for j in 0..<c {
                var sum = 0.0
                for k in 0..<p { sum += Double(f[i * p + k]) * Double(f[j * p + k]) }
                expected[i * c + j] = Float(0.5 * sum)
            }
        }
        assertClose(Parallel.withThreadCount(3) { gram(f, c, p, alpha: 0.5) }, expected, tolerance: 1e-5)
    }

    func testBackwardMatchesFiniteDifferences() {
        let (c, p) = (3, 5)
        let f = randomFloats(c * p, seed: 31)
        let r = randomFloats(c * c, seed: 32)  // not symmetric: exercises the general path
        let numeric = centralDifferences(at: f, h: 1e-2) { dot(r, gram($0, c, p, alpha: 0.25)) }
        assertClose(gramBackward(f, r, c, p, alpha: 0.25, symmetric: false), numeric, tolerance: 1e-3)

        let symmetricR = (0..<(c * c)).map { r[($0 / c) * c + $0 % c] + r[($0 % c) * c + $0 / c] }
        assertClose(gramBackward(f, symmetricR, c, p, alpha: 0.25, symmetric: true),
                    gramBackward(f, symmetricR, c, p, alpha: 0.25, symmetric: false), tolerance: 1e-6, "symmetric shortcut")
    }
}
