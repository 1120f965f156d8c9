import XCTest
@testable import NSTEngine

/// `HistogramRanking` through `HistogramLoss.uncheckedLoss`: its zero run, branch-free collection and
/// span-fitted radix sort give bitwise the remap and loss of a plain full stable sort by value, whether the
/// differences replace the features or go to another buffer.
final class HistogramRankingTests: XCTestCase {
    /// The remapped plane and the loss of a naive reference: each channel's positions sorted by value in
    /// IEEE total order (`−0.0` below `+0.0`), ties by position; `F − q[rank]`; squares summed in rank order.
    func reference(_ features: [Float], _ loss: HistogramLoss) -> (difference: [Float], loss: Double) {
        let p = loss.positions
        var difference = features, sums = [Double](repeating: 0, count: loss.channels)
        for c in 0..<loss.channels {
            let ranked = (0..<p).sorted { a, b in
                let (x, y) = (features[c * p + a], features[c * p + b])
                return x.bitPattern == y.bitPattern ? a < b : x.isTotallyOrdered(belowOrEqualTo: y)
            }
            for (rank, i) in ranked.enumerated() {
                difference[c * p + i] = features[c * p + i] - loss.quantiles[c * p + rank]
                sums[c] += Double(difference[c * p + i]) * Double(difference[c * p + i])
            }
        }
        return (difference, Double(loss.weight) * sums.reduce(0, +) / Double(loss.channels * p))
    }

    /// `features` `[channels, positions]` remapped against ascending random quantiles, compared bitwise.
    func assertMatchesReference(_ features: [Float], channels: Int, _ label: String,
                                file: StaticString = #filePath, line: UInt = #line) throws {
        let p = features.count / channels
        let table = (0..<channels).flatMap { c in randomFloats(p, in: -4...8, seed: UInt64(90 + c)).sorted() }
        let loss = try HistogramLoss(weight: 1.5, channels: channels, positions: p, quantiles: table)
        let expected = reference(features, loss)
        var inPlace = features, separate = [Float](repeating: .nan, count: features.count)
        let inPlaceLoss = inPlace.withUnsafeMutableBufferPointer {
            loss.uncheckedLoss(features: $0.baseAddress!, difference: $0.baseAddress!)
        }
        let separateLoss = separate.withUnsafeMutableBufferPointer { loss.uncheckedLoss(features: features, difference: $0.baseAddress!) }
        for (difference, value, how) in [(inPlace, inPlaceLoss, "in place"), (separate, separateLoss, "into another buffer")] {
            let mismatches = zip(difference, expected.difference).filter { $0.bitPattern != $1.bitPattern }.count
            XCTAssertEqual(mismatches, 0, "values whose F − R(F) differs from a full sort's, \(how): \(label)",
                           file: file, line: line)
            XCTAssertEqual(value.bitPattern, expected.loss.bitPattern, "loss \(value) vs \(expected.loss), \(how): \(label)",
                           file: file, line: line)
        }
    }

    /// A ReLU-like plane: `zeroTenths`/10 of it `+0.0`, the rest drawn from `values` (repeats make ties).
    func plane(_ count: Int, zeroTenths: UInt64, values: [Float], generator: inout SeededGenerator) -> [Float] {
        (0..<count).map { _ in generator.next() % 10 < zeroTenths ? 0 : values[Int(generator.next() % UInt64(values.count))] }
    }

    /// Many `+0.0` (none, some, most, all), `−0.0`, negatives, ties; several channels, so each worker reuses
    /// its buffers from one channel to the next.
    func testZerosSignsAndTies() throws {
        var generator = SeededGenerator(seed: 91)
        let values: [Float] = [-0.0, -3, -0.5, 0.25, 1, 1, 2.5, 7, 1e-6, 600, -1e-30]
        for zeroTenths: UInt64 in [0, 1, 5, 9, 10] {
            try assertMatchesReference(plane(6 * 700, zeroTenths: zeroTenths, values: values, generator: &generator),
                                       channels: 6, "\(zeroTenths)/10 zeros")
        }
        let positive = (0..<4000).map { _ in Float(generator.next() % 1000) * 0.37 }  // ReLU output: no negatives
        try assertMatchesReference(positive, channels: 4, "non-negative")
    }

    /// Tiny and degenerate channels: one position, two, all values equal (zero or not), one value that is
    /// not zero among zeros, and only negatives.
    func testDegenerateChannels() throws {
        try assertMatchesReference([3], channels: 1, "one position")
        try assertMatchesReference([0], channels: 1, "one zero")
        try assertMatchesReference([-0.0, 0, 0, -0.0], channels: 2, "signed zeros")
        try assertMatchesReference([2, 1, 1, 2], channels: 2, "two positions")
        try assertMatchesReference([Float](repeating: 5, count: 300), channels: 3, "all equal")
        try assertMatchesReference([Float](repeating: 0, count: 300) + [4] + [Float](repeating: 0, count: 299),
                                   channels: 2, "one non-zero")
        try assertMatchesReference((0..<500).map { -Float($0 % 37) - 1 }, channels: 1, "negatives only")
    }

    /// Value spans around the radix thresholds (1, 2 or 3 passes at 11, 22 bits): bit patterns from a base
    /// plus offsets below `2^bits` with both ends present, and both infinities (a 32-bit span).
    func testSpansAroundTheDigitThresholds() throws {
        var generator = SeededGenerator(seed: 92)
        for bits in [1, 2, 10, 11, 12, 21, 22, 23, 30] {
            let top = UInt32((UInt64(1) << bits) - 1)
            let offsets = [0, top] + (0..<1998).map { _ in UInt32(truncatingIfNeeded: generator.next()) & top }
            let features = offsets.map { Float(bitPattern: Float(1).bitPattern + $0) }
            try assertMatchesReference(features, channels: 1, "\(bits)-bit span")
            try assertMatchesReference(features.map { -$0 }, channels: 1, "\(bits)-bit span, negative")
        }
        let wide = [-Float.infinity, .infinity, 0, -0.0] + randomFloats(1996, in: -1e6...1e6, seed: 93)
        try assertMatchesReference(wide, channels: 2, "infinities")
    }
}
