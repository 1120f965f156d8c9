import XCTest
@testable import NSTEngine

final class Im2colConv3x3Tests: XCTestCase {
    /// Single-precision sgemm vs the Double naive loop: errors stay within a few ulps of the
    /// accumulated magnitude (at most 3·3·3 = 27 terms of size <= 1 here), so 1e-5 relative.
    static let tolerance = 1e-5

    func testMatchesNaiveOnEveryTinyShape() throws {
        let sizes = [(1, 1), (1, 2), (2, 1), (2, 3), (3, 2), (5, 7), (4, 4), (7, 3)]
        var seed: UInt64 = 1
        for inChannels in [1, 2, 3] {
            for outChannels in [1, 2, 4] {
                for (height, width) in sizes {
                    seed += 3
                    let weight = randomFloats(outChannels * inChannels * 9, seed: seed)
                    let bias = randomFloats(outChannels, seed: seed + 1)
                    let input = randomFloats(inChannels * height * width, seed: seed + 2)
                    let gradOutput = randomFloats(outChannels * height * width, seed: seed + 3)
                    let fast = try Im2colConv3x3(weight: weight, bias: bias, inChannels: inChannels, outChannels: outChannels)
                    let naive = try NaiveConv3x3(weight: weight, bias: bias, inChannels: inChannels, outChannels: outChannels)
                    let label = "in \(inChannels) out \(outChannels) size \(height)x\(width)"
                    assertClose(runForward(fast, input, height: height, width: width),
                                runForward(naive, input, height: height, width: width), tolerance: Self.tolerance, "forward \(label)")
                    assertClose(runBackward(fast, gradOutput, height: height, width: width),
                                runBackward(naive, gradOutput, height: height, width: width), tolerance: Self.tolerance, "backward \(label)")
                }
            }
        }
    }

    /// 64 input channels at width 1024 give bands of 7 rows, so 9 rows need two bands; the seam
    /// between bands must not lose or double-count any tap.
    func testRowBandsMatchNaive() throws {
        let (inChannels, outChannels, height, width) = (64, 2, 9, 1024)
        XCTAssertLessThan(Im2colConv3x3.bandFloats / (inChannels * 9 * width), height, "test must cross a band boundary")
        let weight = randomFloats(outChannels * inChannels * 9, in: -0.1...0.1, seed: 7)
        let bias = randomFloats(outChannels, seed: 8)
        let input = randomFloats(inChannels * height * width, seed: 9)
        let fast = try Im2colConv3x3(weight: weight, bias: bias, inChannels: inChannels, outChannels: outChannels)
        let naive = try NaiveConv3x3(weight: weight, bias: bias, inChannels: inChannels, outChannels: outChannels)
        assertClose(runForward(fast, input, height: height, width: width),
                    runForward(naive, input, height: height, width: width), tolerance: 1e-4, "banded forward")
        let gradOutput = randomFloats(outChannels * height * width, seed: 10)
        assertClose(runBackward(fast, gradOutput, height: height, width: width),
                    runBackward(naive, gradOutput, height: height, width: width), tolerance: 1e-4, "banded backward")
    }

    func testBackwardMatchesFiniteDifferences() throws {
        let (inChannels, outChannels, height, width) = (2, 3, 4, 5)
        let kernel = try Im2colConv3x3(weight: randomFloats(outChannels * inChannels * 9, seed: 11),
                                       bias: randomFloats(outChannels, seed: 12), inChannels: inChannels, outChannels: outChannels)
        let input = randomFloats(inChannels * height * width, seed: 13)
        let r = randomFloats(outChannels * height * width, seed: 14)
        let numeric = centralDifferences(at: input, h: 1e-2) { dot(r, runForward(kernel, $0, height: height, width: width)) }
        // The convolution is linear, so central differences are exact up to float32 rounding of f.
        assertClose(runBackward(kernel, r, height: height, width: width), numeric, tolerance: 2e-3)
    }

    func testRejectsWrongSizes() {
        XCTAssertThrowsError(try Im2colConv3x3(weight: [Float](repeating: 0, count: 17), bias: [0], inChannels: 2, outChannels: 1)) {
            guard case NSTError.shape = $0 else { return XCTFail("expected shape error, got \($0)") }
        }
        XCTAssertThrowsError(try Im2colConv3x3(weight: [Float](repeating: 0, count: 18), bias: [], inChannels: 2, outChannels: 1))
    }
}
