import XCTest
@testable import NSTEngine

final class Conv3x3KernelTests: XCTestCase {
    func testFactoryReturnsWinogradKernelWithChannelCounts() throws {
        let kernel = try makeConv3x3Kernel(weight: randomFloats(4 * 3 * 9, seed: 1), bias: [0, 0, 0, 0], inChannels: 3, outChannels: 4)
        XCTAssertTrue(kernel is WinogradConv3x3)
        XCTAssertEqual(kernel.inChannels, 3)
        XCTAssertEqual(kernel.outChannels, 4)
    }

    func testFactoryRejectsMismatchedParameters() {
        XCTAssertThrowsError(try makeConv3x3Kernel(weight: [1], bias: [0], inChannels: 1, outChannels: 1))
        XCTAssertThrowsError(try makeConv3x3Kernel(weight: [Float](repeating: 0, count: 9), bias: [0, 0], inChannels: 1, outChannels: 1))
        XCTAssertThrowsError(try makeConv3x3Kernel(weight: [], bias: [], inChannels: 0, outChannels: 0))
    }

    /// The flip swaps channels and rotates taps by 180°, and applying it twice is the identity.
    func testTransposedFlippedWeight() {
        let weight = (0..<(2 * 3 * 9)).map(Float.init)
        let flipped = transposedFlippedConv3x3Weight(weight, inChannels: 3, outChannels: 2)
        XCTAssertEqual(flipped[(1 * 2 + 0) * 9 + 0], weight[(0 * 3 + 1) * 9 + 8])
        XCTAssertEqual(transposedFlippedConv3x3Weight(flipped, inChannels: 2, outChannels: 3), weight)
    }
}
