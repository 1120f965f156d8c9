import XCTest
@testable import NSTEngine

final class ReLUTests: XCTestCase {
    func testForwardAndBackwardValues() {
        let input: [Float] = [-2, -0.0, 0, 0.5, 3]
        var output = [Float](repeating: .nan, count: 5)
        var gradInput = [Float](repeating: .nan, count: 5)
        input.withUnsafeBufferPointer { x in
            output.withUnsafeMutableBufferPointer { ReLU.forward(input: x.baseAddress!, output: $0.baseAddress!, count: 5) }
            [Float](repeating: 7, count: 5).withUnsafeBufferPointer { g in
                gradInput.withUnsafeMutableBufferPointer {
                    ReLU.backward(activation: x.baseAddress!, gradOutput: g.baseAddress!, gradInput: $0.baseAddress!, count: 5)
                }
            }
        }
        XCTAssertEqual(output, [0, 0, 0, 0.5, 3])
        XCTAssertEqual(gradInput, [0, 0, 0, 7, 7], "zero counts as inactive")
    }

    /// Large enough to be split over several workers; in place (aliased) forward.
    func testParallelInPlaceForwardAndFiniteDifferences() {
        let count = 100_003
        let input = randomFloats(count, seed: 5).map { $0 > 0 ? $0 + 0.05 : $0 - 0.05 }  // away from the kink
        var data = input
        data.withUnsafeMutableBufferPointer { ReLU.forward(input: $0.baseAddress!, output: $0.baseAddress!, count: count) }
        XCTAssertEqual(data, input.map { max($0, 0) })

        let small = Array(input.prefix(40))
        let r = randomFloats(40, seed: 6)
        let numeric = centralDifferences(at: small, h: 1e-2) { x in dot(r, x.map { max($0, 0) }) }
        var analytic = [Float](repeating: 0, count: 40)
        small.withUnsafeBufferPointer { x in
            r.withUnsafeBufferPointer { g in
                analytic.withUnsafeMutableBufferPointer {
                    ReLU.backward(activation: x.baseAddress!, gradOutput: g.baseAddress!, gradInput: $0.baseAddress!, count: 40)
                }
            }
        }
        assertClose(analytic, numeric, tolerance: 1e-4)
    }
}
