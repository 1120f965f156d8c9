import XCTest
@testable import NSTEngine

final class ScratchSpaceTests: XCTestCase {
    func testBuffersGrowAndAreReused() {
        let scratch = ScratchSpace()
        let first = scratch.buffer(0, count: 10)
        XCTAssertEqual(scratch.buffer(0, count: 5), first, "a smaller request reuses the buffer")
        _ = scratch.buffer(2, count: 100)
        XCTAssertGreaterThanOrEqual(scratch.capacity, 110)
        let grown = scratch.buffer(0, count: 1000)
        grown[999] = 1
        XCTAssertEqual(scratch.buffer(0, count: 1000)[999], 1)
    }

    func testMemoryBudgetRefusesAbsurdRequests() {
        XCTAssertNoThrow(try MemoryBudget.check(floats: 1000, for: "a test"))
        XCTAssertThrowsError(try MemoryBudget.check(floats: Int.max / 2, for: "a test")) {
            guard case NSTError.outOfMemory = $0 else { return XCTFail("\($0)") }
        }
    }
}
