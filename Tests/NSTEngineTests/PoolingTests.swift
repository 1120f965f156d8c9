import XCTest
@testable import NSTEngine

final class PoolingTests: XCTestCase {
    func pool(_ p: Pooling, _ x: [Float], _ c: Int, _ h: Int, _ w: Int) -> [Float] {
        var out = [Float](repeating: .nan, count: c * (h / 2) * (w / 2))
        x.withUnsafeBufferPointer { i in
            out.withUnsafeMutableBufferPointer { p.forward(input: i.baseAddress!, output: $0.baseAddress!, channels: c, height: h, width: w) }
        }
        return out
    }

    func poolBackward(_ p: Pooling, _ x: [Float], _ g: [Float], _ c: Int, _ h: Int, _ w: Int,
                      mask: Bool = false) -> [Float] {
        var out = [Float](repeating: .nan, count: c * h * w)
        x.withUnsafeBufferPointer { i in
            g.withUnsafeBufferPointer { go in
                out.withUnsafeMutableBufferPointer {
                    p.backward(input: i.baseAddress!, gradOutput: go.baseAddress!, gradInput: $0.baseAddress!, channels: c, height: h, width: w,
                               applyingReLUMask: mask)
                }
            }
        }
        return out
    }

    /// 3x5 input: the last row and column are dropped (floor), leaving a 1x2 output.
    func testForwardOddSizeHandComputed() {
        let x: [Float] = [1, 5, 2, 0, 9,
                          3, 4, 8, 6, 9,
                          9, 9, 9, 9, 9]
        XCTAssertEqual(pool(.max, x, 1, 3, 5), [5, 8])
        XCTAssertEqual(pool(.average, x, 1, 3, 5), [3.25, 4])
        XCTAssertEqual(pool(.max, [1, 2, 3], 1, 1, 3), [], "a single row pools to nothing")
    }

    func testBackwardRoutesToFirstMaximumAndZerosDroppedCells() {
        let x: [Float] = [2, 7, 7, 1, 0,
                          7, 3, 7, 7, 0,
                          0, 0, 0, 0, 0]
        XCTAssertEqual(poolBackward(.max, x, [10, 20], 1, 3, 5),
                       [0, 10, 20, 0, 0,
                        0, 0, 0, 0, 0,
                        0, 0, 0, 0, 0])
        XCTAssertEqual(poolBackward(.average, x, [4, 8], 1, 3, 5),
                       [1, 1, 2, 2, 0,
                        1, 1, 2, 2, 0,
                        0, 0, 0, 0, 0])
    }

    func testBackwardMatchesFiniteDifferencesOnSeveralChannels() {
        for p in Pooling.allCases {
            for (c, h, w) in [(1, 2, 2), (2, 5, 7), (3, 4, 6)] {
                let x = randomFloats(c * h * w, seed: UInt64(c * 100 + h * 10 + w))  // distinct values: no ties
                let r = randomFloats(c * (h / 2) * (w / 2), seed: 99)
                let numeric = centralDifferences(at: x, h: 1e-3) { dot(r, pool(p, $0, c, h, w)) }
                assertClose(poolBackward(p, x, r, c, h, w), numeric, tolerance: 1e-3, "\(p) \(c)x\(h)x\(w)")
            }
        }
    }

    /// The fused mask must equal pooling backward followed by ReLU backward on the pool's input,
    /// including windows whose maximum is zero or negative and odd trailing cells.
    func testReLUMaskMatchesSeparateReLUBackward() {
        for p in Pooling.allCases {
            for (c, h, w) in [(1, 2, 2), (2, 5, 7), (3, 4, 6)] {
                let x = randomFloats(c * h * w, seed: UInt64(c * 7 + h * 3 + w)).map { $0 < 0 ? ($0 < -0.5 ? 0 : $0) : $0 }
                let g = randomFloats(c * (h / 2) * (w / 2), seed: 5)
                var expected = poolBackward(p, x, g, c, h, w)
                x.withUnsafeBufferPointer { a in
                    expected.withUnsafeMutableBufferPointer {
                        ReLU.backward(activation: a.baseAddress!, gradOutput: $0.baseAddress!, gradInput: $0.baseAddress!, count: x.count)
                    }
                }
                XCTAssertEqual(poolBackward(p, x, g, c, h, w, mask: true), expected, "\(p) \(c)x\(h)x\(w)")
            }
        }
    }
}
