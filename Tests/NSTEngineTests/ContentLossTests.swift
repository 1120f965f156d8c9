import XCTest
@testable import NSTEngine

final class ContentLossTests: XCTestCase {
    /// d = F − T = [1, 0, 0, −2]: mean(d²) = 5/4, so loss = 2 · 5/4; gradient 2·2·d/4 = d.
    func testHandComputed() throws {
        let loss = ContentLoss(weight: 2, target: [0, 2, 3, 6])
        let (value, gradient) = try loss.evaluate(features: [1, 2, 3, 4])
        XCTAssertEqual(value, 2.5, accuracy: 1e-12)
        XCTAssertEqual(gradient, [1, 0, 0, -2])
    }

    func testGradientMatchesFiniteDifferences() throws {
        let loss = ContentLoss(weight: 0.7, target: randomFloats(12, seed: 41))
        let f = randomFloats(12, seed: 42)
        let numeric = try centralDifferences(at: f, h: 1e-2) { try loss.evaluate(features: $0).loss }
        assertClose(try loss.evaluate(features: f).gradient, numeric, tolerance: 1e-4)
    }

    func testSizeMismatchThrows() {
        XCTAssertThrowsError(try ContentLoss(weight: 1, target: [1, 2]).evaluate(features: [1])) {
            guard case NSTError.shape = $0 else { return XCTFail("\($0)") }
        }
    }
}
