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

    /// Straight from the definition: window (y, x)'s maximum, its first position in row-major order, mean.
    private func referenceWindow(_ x: [Float], _ c: Int, _ h: Int, _ w: Int, _ y: Int, _ xo: Int)
        -> (max: Float, argmax: Int, mean: Float) {
        let cells = [(2 * y, 2 * xo), (2 * y, 2 * xo + 1), (2 * y + 1, 2 * xo), (2 * y + 1, 2 * xo + 1)]
            .map { c * h * w + $0.0 * w + $0.1 }
        var best = cells[0]
        for cell in cells.dropFirst() where x[cell] > x[best] { best = cell }
        return (x[best], best, cells.map { x[$0] }.reduce(0, +) / 4)
    }

    /// Widths from 16 up run eight windows per SIMD step, then a scalar tail: every width from 14 to 35
    /// (no step, one step, steps plus a tail of each length, odd trailing columns), on values drawn from
    /// {−1, 0, 1, 2} so that windows often tie, against the definition above.
    func testEightWindowStepsMatchTheDefinition() {
        var rng = SeededGenerator(seed: 11)
        for w in 14...35 {
            let (c, h) = (2, 5)
            let x = (0..<(c * h * w)).map { _ in Float(Int.random(in: -1...2, using: &rng)) }
            let g = (0..<(c * (h / 2) * (w / 2))).map { _ in Float.random(in: 0.5...1.5, using: &rng) }
            for p in Pooling.allCases {
                var forward = [Float](), backward = [Float](repeating: 0, count: x.count)
                var masked = [Float](repeating: 0, count: x.count)
                for ch in 0..<c {
                    for y in 0..<(h / 2) {
                        for xo in 0..<(w / 2) {
                            let window = referenceWindow(x, ch, h, w, y, xo)
                            let share = g[(ch * (h / 2) + y) * (w / 2) + xo]
                            forward.append(p == .max ? window.max : window.mean)
                            let cells = [0, 1, w, w + 1].map { ch * h * w + 2 * y * w + 2 * xo + $0 }
                            for cell in cells {
                                let value: Float = p == .max ? (cell == window.argmax ? share : 0) : share / 4
                                backward[cell] = value
                                masked[cell] = x[cell] > 0 ? value : 0
                            }
                        }
                    }
                }
                XCTAssertEqual(pool(p, x, c, h, w), forward, "\(p) forward, width \(w)")
                XCTAssertEqual(poolBackward(p, x, g, c, h, w), backward, "\(p) backward, width \(w)")
                XCTAssertEqual(poolBackward(p, x, g, c, h, w, mask: true), masked, "\(p) masked backward, width \(w)")
            }
        }
    }
}

