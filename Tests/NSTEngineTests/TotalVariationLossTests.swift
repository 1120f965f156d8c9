import XCTest
@testable import NSTEngine

final class TotalVariationLossTests: XCTestCase {
    /// [[1, 2], [4, 8]]: horizontal differences 1, 4; vertical 3, 6; Σd² = 62 → loss 0.5 · 62 · w.
    func testHandComputed() throws {
        let image = try Tensor(channels: 1, height: 2, width: 2, storage: [1, 2, 4, 8])
        let (loss, gradient) = TotalVariationLoss(weight: 2).evaluate(image: image)
        XCTAssertEqual(loss, 62, accuracy: 1e-9)
        // x00 starts both of its differences: −2·(1 + 3); x11 ends both: 2·(4 + 6);
        // x01 ends one (+2·1) and starts one (−2·6); x10 ends +2·3, starts −2·4.
        XCTAssertEqual(gradient, [-8, -10, -2, 20])
    }

    func testGradientMatchesFiniteDifferences() throws {
        for (c, h, w) in [(1, 1, 1), (1, 1, 4), (3, 4, 5), (2, 5, 1)] {
            let x = randomFloats(c * h * w, seed: UInt64(c + 10 * h + 100 * w))
            let tv = TotalVariationLoss(weight: 0.3)
            let numeric = try centralDifferences(at: x, h: 1e-2) {
                tv.evaluate(image: try Tensor(channels: c, height: h, width: w, storage: $0)).loss
            }
            assertClose(tv.evaluate(image: try Tensor(channels: c, height: h, width: w, storage: x)).gradient,
                        numeric, tolerance: 1e-4, "\(c)x\(h)x\(w)")
        }
    }
}
