import XCTest
@testable import NSTEngine

/// `HistogramLoss`: the quantile tables, the rank remap worked by hand, and the gradient (R(F) constant).
final class HistogramLossTests: XCTestCase {
    func quantiles(_ values: [Float], channels: Int, count: Int) -> [Float] {
        values.withUnsafeBufferPointer {
            HistogramLoss.quantiles(of: $0.baseAddress!, channels: channels, styleCount: values.count / channels, count: count)
        }
    }

    /// Equal counts: the sorted values. Fewer ranks: rank r reads (r + ½)·4/2 − ½ = 0.5, 2.5 of [0, 1, 2, 3]
    /// (interpolated); more ranks: (r + ½)·2/4 − ½ = −0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to 1).
    func testQuantileTables() {
        XCTAssertEqual(quantiles([3, 0, 2, 1, 9, 7, 8, 6], channels: 2, count: 4), [0, 1, 2, 3, 6, 7, 8, 9])
        XCTAssertEqual(quantiles([3, 0, 2, 1], channels: 1, count: 2), [0.5, 2.5])
        XCTAssertEqual(quantiles([10, 20], channels: 1, count: 4), [10, 12.5, 17.5, 20])
    }

    /// F = [3, 1, 2] against quantiles [10, 20, 30]: ranks 2, 0, 1 so R(F) = [30, 10, 20], F − R = [−27, −9, −18],
    /// loss = w · (27² + 9² + 18²) / 3 = w · 378, gradient 2w(F − R)/3.
    func testRemapByRank() throws {
        let loss = try HistogramLoss(weight: 0.5, channels: 1, positions: 3, quantiles: [10, 20, 30])
        let (value, gradient) = loss.evaluate(features: [3, 1, 2])
        XCTAssertEqual(value, 0.5 * 378, accuracy: 1e-9)
        XCTAssertEqual(gradient, [-9, -3, -6])
    }

    /// Equal values take ranks in order of position (zeros of a ReLU layer: their gradient is blocked by the
    /// ReLU, but the loss must be deterministic); negative values sort below positive ones (a conv layer).
    func testTiesAndSigns() throws {
        let loss = try HistogramLoss(weight: 1, channels: 1, positions: 4, quantiles: [-1, 1, 2, 3])
        let (_, gradient) = loss.evaluate(features: [0, -2, 0, 5])
        // Ranks: −2 → −1, first 0 → 1, second 0 → 2, 5 → 3; F − R = [−1, −1, −2, 2], gradient (2/4)(F − R).
        XCTAssertEqual(gradient, [-0.5, -0.5, -1, 1])
    }

    /// Distinct values keep their ranks under a small perturbation, so R(F) is locally constant and central
    /// differences of the loss equal the gradient up to rounding (1e-3 relative, h = 1e-3 on well-separated values).
    func testGradientMatchesFiniteDifferences() throws {
        let (c, p) = (3, 7)
        let features = (0..<(c * p)).map { Float(($0 * 37) % 23) * 0.25 }  // distinct within each channel, 0.25 apart
        let loss = try HistogramLoss(weight: 2, channels: c, positions: p,
                                     quantiles: quantiles(randomFloats(c * 11, in: 0...4, seed: 81), channels: c, count: p))
        let numeric = centralDifferences(at: features, h: 1e-3) { loss.evaluate(features: $0).loss }
        assertClose(loss.evaluate(features: features).gradient, numeric, tolerance: 1e-3)
    }

    func testBlendAveragesQuantileFunctions() throws {
        XCTAssertEqual(try HistogramLoss.blend([[0, 4], [2, 8]], weights: [1, 3]), [1.5, 7])
        XCTAssertEqual(try HistogramLoss.blend([[1, 2]], weights: [5]), [1, 2])
        XCTAssertThrowsError(try HistogramLoss(weight: 1, channels: 2, positions: 2, quantiles: [1, 2, 3]))
    }
}
