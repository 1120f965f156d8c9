import XCTest
@testable import NSTEngine

final class MemoryBudgetTests: XCTestCase {
    func testMemoryBudgetRefusesAbsurdRequests() {
        XCTAssertNoThrow(try MemoryBudget.check(floats: 1000, for: "a test"))
        XCTAssertThrowsError(try MemoryBudget.check(floats: Int.max / 2, for: "a test")) {
            guard case NSTError.outOfMemory = $0 else { return XCTFail("\($0)") }
        }
    }
}
