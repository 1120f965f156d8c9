import XCTest
@testable import NSTEngine

/// The masked Gram paths visit only the positions of weight other than 0: shares balanced by those
/// positions, chunks gathering them, and a gradient that stays 0 (or unchanged) everywhere else.
final class WeightedPositionsTests: XCTestCase {
    /// A mask of `height × width` that is 1 left of column `split` and 0 right of it, with a fractional border column.
    private func leftRegion(height: Int, width: Int, split: Int) -> [Float] {
        (0..<(height * width)).map { p in p % width < split ? 1 : p % width == split ? 0.25 : 0 }
    }

    func testSharesHoldNearlyEqualNumbersOfWeightedPositionsAndCoverEveryPosition() {
        let onLastThird = (0..<900).map { $0 >= 600 && $0 % 4 != 0 ? Float(0.5) : 0 }
        for (weights, parts) in [(onLastThird, 1), (onLastThird, 2), (onLastThird, 3), (leftRegion(height: 30, width: 30, split: 7), 3),
                                 ([Float](repeating: 0, count: 50), 2), ([0, 0, 1, 0, 1] as [Float], 4)] {
            let shares = weights.withUnsafeBufferPointer {
                WeightedPositions.shares(weights: $0.baseAddress!, positions: weights.count, parts: parts)
            }
            XCTAssertEqual(shares.count, parts)
            XCTAssertEqual(shares.first?.lowerBound, 0)
            XCTAssertEqual(shares.last?.upperBound, weights.count)
            for (a, b) in zip(shares, shares.dropFirst()) { XCTAssertEqual(a.upperBound, b.lowerBound) }
            let counts = shares.map { share in share.filter { weights[$0] != 0 }.count }
            XCTAssertLessThanOrEqual(counts.max()! - counts.min()!, 1, "\(counts)")
        }
    }

    /// Every weighted position once, in order, in chunks of at most `chunk`; each column the features
    /// times the weight (or its root); consecutive positions flagged as such.
    func testChunksGatherTheWeightedPositionsScaled() {
        let (c, stride, positions) = (3, 1_100, 1_000)
        let features = randomFloats(c * stride, seed: 1)
        var weights = leftRegion(height: 20, width: 50, split: 30)
        for p in 400..<700 { weights[p] = 0.81 }  // a run longer than a chunk
        for root in [false, true] {
            var visited: [Int] = []
            features.withUnsafeBufferPointer { f in
                weights.withUnsafeBufferPointer { w in
                    WeightedPositions.forEachChunk(f.baseAddress!, channels: c, planeStride: stride, share: 10..<positions,
                                                   weights: w.baseAddress!, root: root) { chunk in
                        XCTAssertLessThanOrEqual(chunk.count, WeightedPositions.chunk)
                        let consecutive = chunk.positions.last! - chunk.positions.first! == chunk.count - 1
                        XCTAssertEqual(chunk.contiguousStart, consecutive ? chunk.positions.first : nil)
                        for (j, p) in chunk.positions.enumerated() {
                            let scale = root ? weights[p].squareRoot() : weights[p]
                            for channel in 0..<c {
                                XCTAssertEqual(chunk.columns[channel * chunk.count + j], features[channel * stride + p] * scale)
                            }
                        }
                        visited += chunk.positions
                    }
                }
            }
            XCTAssertEqual(visited, (10..<positions).filter { weights[$0] != 0 })
        }
    }

    /// The masked backward pass (scattered and consecutive chunks, three workers) against the naive
    /// `alpha (gradGram + gradGramᵀ) F diag(w)` (relative 1e-5, float32 sums of 4 terms): written, it is
    /// exactly 0 outside the region (the buffer held NaN); accumulated, it leaves those positions as they were.
    func testMaskedGradientIsZeroOrUnchangedOutsideTheRegion() {
        let (c, height, width) = (4, 40, 60)
        let positions = height * width
        let f = randomFloats(c * positions, seed: 2)
        let gradGram = randomFloats(c * c, seed: 3)
        let scattered = leftRegion(height: height, width: width, split: 20)
        let consecutive = (0..<positions).map { $0 < 1_000 || $0 >= 2_100 ? Float(0) : 0.5 }
        for weights in [scattered, consecutive] {
            let expected = NaiveWeightedGram.gradient(f, channels: c, gradGram: gradGram, weights: weights, alpha: 0.5)
            for accumulating in [false, true] {
                let before: Float = accumulating ? 1 : .nan
                var gradient = [Float](repeating: before, count: c * positions)
                Parallel.withThreadCount(3) {
                    f.withUnsafeBufferPointer { f in
                        weights.withUnsafeBufferPointer { w in
                            GramMatrix.backward(features: f.baseAddress!, gradGram: gradGram, channels: c, positions: positions,
                                                weights: w.baseAddress!, alpha: 0.5, accumulating: accumulating,
                                                gradFeatures: &gradient, scratch: ScratchSpace())
                        }
                    }
                }
                let offset = accumulating ? 1.0 : 0
                assertClose(gradient, expected.map { $0 + offset }, tolerance: 1e-5)
                for i in 0..<(c * positions) where weights[i % positions] == 0 { XCTAssertEqual(gradient[i], accumulating ? 1 : 0) }
            }
        }
    }

    /// A region on one side only: its Gram matrix from the chunks of its positions equals the naive
    /// one (relative 1e-5), on one worker and split between three (40² · 6000 multiply-adds: 4 × the
    /// threshold of `BLAS.parallelThreshold`).
    func testMaskedGramOfARegionOnOneSideMatchesTheNaiveProduct() {
        let (c, height, width) = (40, 100, 60)
        let f = randomFloats(c * height * width, seed: 4)
        let weights: [Float] = (0..<(height * width)).map { p in
            p / width >= 72 ? 0.3 + 0.35 * Float(p % 3) : 0
        }
        let expected = NaiveWeightedGram.gram(f, channels: c, weights: weights, alpha: 0.25)
        for workers in [1, 3] {
            var gram = [Float](repeating: .nan, count: c * c)
            Parallel.withThreadCount(workers) {
                f.withUnsafeBufferPointer { f in
                    weights.withUnsafeBufferPointer { w in
                        GramMatrix.forward(features: f.baseAddress!, channels: c, positions: height * width,
                                           weights: w.baseAddress!, alpha: 0.25, gram: &gram)
                    }
                }
            }
            assertClose(gram, expected, tolerance: 1e-5)
        }
    }
}
