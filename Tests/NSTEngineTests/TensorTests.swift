import XCTest
@testable import NSTEngine

final class TensorTests: XCTestCase {
    func testInitialisers() throws {
        let zeros = Tensor(zeros: 2, 3, 4)
        XCTAssertEqual(zeros.count, 24)
        XCTAssertEqual(zeros.storage, [Float](repeating: 0, count: 24))
        XCTAssertEqual(Tensor(zeros: -1, 3, 4).count, 0)
        let t = try Tensor(channels: 1, height: 2, width: 1, storage: [1, 2])
        XCTAssertTrue(t.isFinite)
        XCTAssertFalse(try Tensor(channels: 1, height: 1, width: 1, storage: [.nan]).isFinite)
    }

    func testShapeMismatchThrows() {
        XCTAssertThrowsError(try Tensor(channels: 2, height: 2, width: 2, storage: [1])) {
            XCTAssertEqual($0 as? NSTError, .shape("tensor [2, 2, 2] needs 8 values, got 1"))
        }
        XCTAssertThrowsError(try Tensor(channels: -1, height: 1, width: 1, storage: []))
        XCTAssertThrowsError(try Tensor(channels: Int.max, height: 2, width: 2, storage: []))
    }
}
