import XCTest
@testable import NSTEngine

final class PairSweepsTests: XCTestCase {
    /// The SIMD sum against a sequential Double sum, for lengths around its 32-value stride (the tail
    /// loop alone, one stride, a stride plus a tail) and a long one: Float values are exact in Double, so
    /// the two differ only in the order of additions (1e-14 relative).
    func testSumMatchesSequentialSum() {
        for count in [1, 31, 32, 33, 1000] {
            let values = randomFloats(count, in: 0...3, seed: UInt64(90 + count))
            let expected = values.reduce(0.0) { $0 + Double($1) }
            let sum = values.withUnsafeBufferPointer { PairSweeps.sum($0.baseAddress!, count: count) }
            XCTAssertEqual(sum, expected, accuracy: 1e-14 * max(1, expected), "count \(count)")
        }
    }
}
