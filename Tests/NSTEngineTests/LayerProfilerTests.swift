import XCTest
@testable import NSTEngine

final class LayerProfilerTests: XCTestCase {
    /// The report's seconds, which bench/profile_engine.py parses, print as `%.6f` would.
    func testSecondsPrintWithSixDecimals() {
        let cases: [(Double, String)] = [(0, "0.000000"), (0.412, "0.412000"), (0.000_000_4, "0.000000"),
                                         (0.000_000_6, "0.000001"), (12.345_678_9, "12.345679"), (3600.5, "3600.500000")]
        for (seconds, text) in cases {
            XCTAssertEqual(LayerProfiler.microsecondDecimal(seconds), text, "\(seconds)")
            XCTAssertEqual(String(format: "%.6f", seconds), text, "the reference disagrees for \(seconds)")
        }
    }
}
