import XCTest
@testable import NSTEngine

final class TutorialCostsTests: XCTestCase {
    func content(_ a: [Float], _ b: [Float], _ c: Int, _ h: Int, _ w: Int) throws -> Double {
        try a.withUnsafeBufferPointer { x in
            try b.withUnsafeBufferPointer { y in try TutorialCosts.contentCost(content: x, generated: y, channels: c, height: h, width: w) }
        }
    }

    func style(_ a: [Float], _ b: [Float], _ c: Int, _ h: Int, _ w: Int) throws -> Double {
        try a.withUnsafeBufferPointer { x in
            try b.withUnsafeBufferPointer { y in try TutorialCosts.layerStyleCost(style: x, generated: y, channels: c, height: h, width: w) }
        }
    }

    /// Σ(a_C − a_G)² = 5 over n_H·n_W·n_C = 2: 5 / 8.
    func testContentCostHandComputed() throws {
        XCTAssertEqual(try content([1, 2], [0, 0], 1, 1, 2), 0.625, accuracy: 1e-12)
    }

    /// Gram(a_S) = 5, Gram(a_G) = 1: 16 / (4 · 1 · 2²) = 1. With two channels the normalisation
    /// has n_C² = 4: a_S = [[1, 0], [0, 1]] → G = I, a_G = 0 → Σ = 2, cost 2 / (4 · 4 · 4).
    func testStyleCostHandComputed() throws {
        XCTAssertEqual(try style([1, 2], [1, 0], 1, 1, 2), 1, accuracy: 1e-12)
        XCTAssertEqual(try style([1, 0, 0, 1], [0, 0, 0, 0], 2, 2, 1), 2.0 / 64, accuracy: 1e-12)
    }

    func testGram() throws {
        let gram = try [Float]([1, 2, 3, 4, 5, 6]).withUnsafeBufferPointer {
            try TutorialCosts.gram(features: $0, channels: 2, positions: 3)
        }
        XCTAssertEqual(gram, [14, 32, 32, 77])
    }

    func testShapeErrors() {
        XCTAssertThrowsError(try content([1, 2], [1], 1, 1, 2))
        XCTAssertThrowsError(try content([], [], 0, 1, 1))
        XCTAssertThrowsError(try style([1, 2, 3], [1, 2, 3], 1, 1, 2))
        XCTAssertThrowsError(try style([1], [1], Int.max, 2, 1)) {
            guard case NSTError.shape = $0 else { return XCTFail("\($0)") }
        }
    }
}
