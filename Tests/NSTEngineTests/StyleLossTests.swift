import XCTest
@testable import NSTEngine

final class StyleLossTests: XCTestCase {
    /// C = 1, F = [1, 2]: G = 5, N = 2, G/N = 2.5; with T = 0.5, d = 2 and loss = w · d² = 4w.
    /// dL/dF = 2 · (1/N) · (2 w d / C²) · F = 4w · F.
    func testHandComputed() throws {
        let loss = try StyleLoss(weight: 1.5, channels: 1, target: [0.5])
        let (value, gradient) = try loss.evaluate(features: Tensor(channels: 1, height: 1, width: 2, storage: [1, 2]))
        XCTAssertEqual(value, 6, accuracy: 1e-6)
        assertClose(gradient, [6.0, 12.0], tolerance: 1e-6)
    }

    func testNormalizedGramDividesByElementCount() {
        // F = [[1, 2], [3, 4]]: F Fᵀ = [[5, 11], [11, 25]], N = 4.
        let gram = [Float]([1, 2, 3, 4]).withUnsafeBufferPointer {
            StyleLoss.normalizedGram(features: $0.baseAddress!, channels: 2, positions: 2)
        }
        XCTAssertEqual(gram, [1.25, 2.75, 2.75, 6.25])
    }

    func testGradientMatchesFiniteDifferences() throws {
        let (c, h, w) = (3, 2, 3)
        let loss = try StyleLoss(weight: 50, channels: c, target: randomFloats(c * c, in: 0...0.5, seed: 51))
        let f = randomFloats(c * h * w, seed: 52)
        let value = { (x: [Float]) throws -> Double in
            try loss.evaluate(features: Tensor(channels: c, height: h, width: w, storage: x)).loss
        }
        let numeric = try centralDifferences(at: f, h: 1e-2, value)
        assertClose(try loss.evaluate(features: Tensor(channels: c, height: h, width: w, storage: f)).gradient,
                    numeric, tolerance: 2e-3)
    }

    func testBlendNormalisesWeights() throws {
        XCTAssertEqual(try StyleLoss.blend([[0, 4], [2, 8]], weights: [1, 3]), [1.5, 7])
        XCTAssertEqual(try StyleLoss.blend([[0, 4], [2, 8]], weights: [10, 30]), [1.5, 7])
        XCTAssertThrowsError(try StyleLoss.blend([], weights: []))
        XCTAssertThrowsError(try StyleLoss.blend([[1]], weights: [0]))
        XCTAssertThrowsError(try StyleLoss.blend([[1]], weights: [.nan]))
        XCTAssertThrowsError(try StyleLoss.blend([[1], [1, 2]], weights: [1, 1]))
    }

    func testWrongShapesThrow() throws {
        XCTAssertThrowsError(try StyleLoss(weight: 1, channels: 2, target: [1]))
        let loss = try StyleLoss(weight: 1, channels: 2, target: [1, 0, 0, 1])
        XCTAssertThrowsError(try loss.evaluate(features: Tensor(zeros: 3, 1, 1)))
    }
}
