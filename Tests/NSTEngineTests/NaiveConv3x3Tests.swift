import XCTest
@testable import NSTEngine

final class NaiveConv3x3Tests: XCTestCase {
    /// An all-ones kernel sums each 3x3 neighbourhood: on a 2x3 image of ones the corners see 4
    /// cells and the edge middles 6.
    func testForwardHandComputed() throws {
        let kernel = try NaiveConv3x3(weight: [Float](repeating: 1, count: 9), bias: [0.5], inChannels: 1, outChannels: 1)
        XCTAssertEqual(runForward(kernel, [Float](repeating: 1, count: 6), height: 2, width: 3),
                       [4.5, 6.5, 4.5, 4.5, 6.5, 4.5])
    }

    /// Centre tap only: output = weight · input of the other channel, checks OIHW indexing.
    func testChannelIndexing() throws {
        var weight = [Float](repeating: 0, count: 2 * 2 * 9)
        weight[(0 * 2 + 1) * 9 + 4] = 2  // out 0 reads in 1
        weight[(1 * 2 + 0) * 9 + 4] = 3  // out 1 reads in 0
        let kernel = try NaiveConv3x3(weight: weight, bias: [0, 0], inChannels: 2, outChannels: 2)
        XCTAssertEqual(runForward(kernel, [1, 2, 10, 20], height: 1, width: 2), [20, 40, 3, 6])
    }

    func testBackwardMatchesFiniteDifferences() throws {
        for (height, width) in [(1, 1), (2, 3), (3, 4)] {
            let kernel = try NaiveConv3x3(weight: randomFloats(2 * 3 * 9, seed: 21), bias: randomFloats(2, seed: 22),
                                          inChannels: 3, outChannels: 2)
            let input = randomFloats(3 * height * width, seed: 23)
            let r = randomFloats(2 * height * width, seed: 24)
            let numeric = centralDifferences(at: input, h: 1e-2) { dot(r, runForward(kernel, $0, height: height, width: width)) }
            assertClose(runBackward(kernel, r, height: height, width: width), numeric, tolerance: 1e-3, "\(height)x\(width)")
        }
    }
}
