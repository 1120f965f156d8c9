import XCTest
@testable import NSTEngine

final class ScratchSpaceTests: XCTestCase {
    func testBuffersGrowAndAreReused() {
        let scratch = ScratchSpace()
        let first = scratch.buffer(.im2colColumns, count: 10)
        XCTAssertEqual(scratch.buffer(.im2colColumns, count: 5), first, "a smaller request reuses the buffer")
        let other = scratch.buffer(.gramGradientSum, count: 100)
        XCTAssertNotEqual(other, first, "each purpose has its own buffer")
        XCTAssertGreaterThanOrEqual(scratch.capacity, 110)
        let grown = scratch.buffer(.im2colColumns, count: 1000)
        grown[999] = 1
        XCTAssertEqual(scratch.buffer(.im2colColumns, count: 1000)[999], 1)
    }
}
