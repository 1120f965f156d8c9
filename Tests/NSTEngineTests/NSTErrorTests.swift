import XCTest
@testable import NSTEngine

final class NSTErrorTests: XCTestCase {
    func testMessages() {
        XCTAssertEqual(NSTError.shape("bad size").message, "bad size")
        XCTAssertEqual(NSTError.unknownLayer("relu9_9").message, "unknown layer 'relu9_9'")
        XCTAssertFalse(NSTError.cancelled.message.isEmpty)
    }
}
