import Foundation
import Synchronization
import XCTest
@testable import NSTEngine

/// WinogradConv3x3 against NaiveConv3x3, forward and input gradient.
///
/// Tolerance. Winograd F(4×4, 3×3) sums 36 transformed products whose terms are up to ~100× larger than
/// the output (the input and output transforms have entries 4, 5 and 8; 1/6 and 1/24 enter the kernel
/// side), so its float32 rounding error exceeds a direct sum's. Measured against the float64 direct
/// reference with ReLU-like inputs and He-scaled kernels, as max |error| / max |output|: 1e-6..7e-6 for
/// 1..64 channels, up to 1.5e-5 at 128..512 channels and VGG feature-map sizes. The tests use at most 64
/// channels and allow 2e-5 (3× margin); a wrong coefficient, lane, border or band gives errors of order
/// 1, and even a 1e-4 relative perturbation of one transform coefficient fails several cases.
final class WinogradConv3x3Tests: XCTestCase {
    private struct Case {
        let inChannels, outChannels, height, width: Int
    }

    private static let cases: [Case] = [
        Case(inChannels: 1, outChannels: 1, height: 1, width: 1),
        Case(inChannels: 1, outChannels: 1, height: 2, width: 3),
        Case(inChannels: 1, outChannels: 2, height: 4, width: 4),
        Case(inChannels: 2, outChannels: 1, height: 5, width: 5),
        Case(inChannels: 3, outChannels: 4, height: 7, width: 5),
        Case(inChannels: 2, outChannels: 3, height: 9, width: 33),    // crosses a SIMD group (32 pixels)
        Case(inChannels: 1, outChannels: 1, height: 3, width: 64),    // exactly two full groups
        Case(inChannels: 4, outChannels: 2, height: 13, width: 70),   // full group + ragged group
        Case(inChannels: 3, outChannels: 64, height: 11, width: 10),  // VGG's first layer
        Case(inChannels: 64, outChannels: 64, height: 9, width: 12),  // VGG's 64 → 64
        Case(inChannels: 64, outChannels: 8, height: 17, width: 15),
    ]

    private func data(_ count: Int, scale: Float, nonNegative: Bool, _ rng: inout SeededGenerator) -> [Float] {
        (0..<count).map { _ in Float.random(in: (nonNegative ? 0 : -scale)...scale, using: &rng) }
    }

    private let tolerance: Float = 2e-5

    /// max |a − b| / max |b|.
    private func relativeError(_ a: [Float], _ b: [Float]) -> Float {
        let scale = b.map(abs).max() ?? 0
        let error = zip(a, b).map { abs($0 - $1) }.max() ?? 0
        return scale > 0 ? error / scale : error
    }

    private struct Pair {
        let naive: NaiveConv3x3, winograd: WinogradConv3x3, bias: [Float]
    }

    private func kernels(_ c: Case, _ rng: inout SeededGenerator) throws -> Pair {
        // He scaling keeps outputs O(inputs), as in a trained VGG.
        let weight = data(c.outChannels * c.inChannels * 9, scale: (6 / Float(9 * c.inChannels)).squareRoot(),
                          nonNegative: false, &rng)
        let bias = data(c.outChannels, scale: 0.1, nonNegative: false, &rng)
        return Pair(
            naive: try NaiveConv3x3(weight: weight, bias: bias, inChannels: c.inChannels, outChannels: c.outChannels),
            winograd: try WinogradConv3x3(weight: weight, bias: bias, inChannels: c.inChannels,
                                          outChannels: c.outChannels),
            bias: bias)
    }

    private static func forward(_ k: any Conv3x3Kernel, _ x: [Float], _ c: Case, _ scratch: ScratchSpace) -> [Float] {
        var y = [Float](repeating: .nan, count: c.outChannels * c.height * c.width)
        x.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { yp in
                k.forward(input: xp.baseAddress!, output: yp.baseAddress!, height: c.height, width: c.width,
                          scratch: scratch)
            }
        }
        return y
    }

    private static func backward(_ k: any Conv3x3Kernel, _ g: [Float], _ c: Case, _ scratch: ScratchSpace) -> [Float] {
        var dx = [Float](repeating: .nan, count: c.inChannels * c.height * c.width)
        g.withUnsafeBufferPointer { gp in
            dx.withUnsafeMutableBufferPointer { dp in
                k.backwardInput(gradOutput: gp.baseAddress!, gradInput: dp.baseAddress!, height: c.height,
                                width: c.width, scratch: scratch)
            }
        }
        return dx
    }

    /// The Winograd path itself, whatever the width (the public kernel hands narrow planes to im2col).
    private static func winogradForward(_ pair: Pair, _ x: [Float], _ c: Case) -> [Float] {
        convolve(.forward, pair.winograd.coefficients(), pair.bias, x, c.inChannels, c.outChannels, c)
    }

    private static func winogradBackward(_ pair: Pair, _ g: [Float], _ c: Case) -> [Float] {
        convolve(.inputGradient, pair.winograd.coefficients(), nil, g, c.outChannels, c.inChannels, c)
    }

    private static func convolve(_ direction: WinogradConvolution.Direction, _ coefficients: [Float], _ bias: [Float]?,
                                 _ x: [Float], _ from: Int, _ to: Int, _ c: Case, bandRowLimit: Int = .max) -> [Float] {
        var y = [Float](repeating: .nan, count: to * c.height * c.width)
        x.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { yp in
                coefficients.withUnsafeBufferPointer { u in
                    (bias ?? []).withUnsafeBufferPointer { b in
                        WinogradConvolution.convolve(
                            direction, input: xp.baseAddress!, output: yp.baseAddress!, height: c.height, width: c.width,
                            inChannels: from, outChannels: to, coefficients: u.baseAddress!,
                            bias: bias == nil ? nil : b.baseAddress!, scratch: ScratchSpace(), bandRowLimit: bandRowLimit)
                    }
                }
            }
        }
        return y
    }

    func testForwardMatchesNaive() throws {
        var rng = SeededGenerator(seed: 10)
        let scratch = ScratchSpace()  // shared on purpose: buffers are reused across shapes
        for c in Self.cases {
            let pair = try kernels(c, &rng)
            let x = data(c.inChannels * c.height * c.width, scale: 1, nonNegative: true, &rng)
            let expected = Self.forward(pair.naive, x, c, ScratchSpace())
            XCTAssertLessThanOrEqual(relativeError(Self.winogradForward(pair, x, c), expected), tolerance,
                                     "Winograd forward \(c)")
            // The public entry point (Winograd, or im2col for narrow planes), with a reused scratch space.
            XCTAssertLessThanOrEqual(relativeError(Self.forward(pair.winograd, x, c, scratch), expected), tolerance,
                                     "forward \(c)")
        }
    }

    func testBackwardInputMatchesNaive() throws {
        var rng = SeededGenerator(seed: 11)
        let scratch = ScratchSpace()
        for c in Self.cases {
            let pair = try kernels(c, &rng)
            let g = data(c.outChannels * c.height * c.width, scale: 1, nonNegative: false, &rng)
            let expected = Self.backward(pair.naive, g, c, ScratchSpace())
            XCTAssertLessThanOrEqual(relativeError(Self.winogradBackward(pair, g, c), expected), tolerance,
                                     "Winograd backwardInput \(c)")
            XCTAssertLessThanOrEqual(relativeError(Self.backward(pair.winograd, g, c, scratch), expected), tolerance,
                                     "backwardInput \(c)")
        }
    }

    /// Bands of one tile row each: every band boundary and the first-come band scheduling are exercised.
    func testNarrowBandsGiveTheSameResult() throws {
        var rng = SeededGenerator(seed: 12)
        let c = Case(inChannels: 5, outChannels: 6, height: 23, width: 40)
        let pair = try kernels(c, &rng)
        let x = data(c.inChannels * c.height * c.width, scale: 1, nonNegative: false, &rng)
        let expected = Self.forward(pair.naive, x, c, ScratchSpace())
        let actual = Self.convolve(.forward, pair.winograd.coefficients(), pair.bias, x, c.inChannels,
                                   c.outChannels, c, bandRowLimit: 1)
        XCTAssertLessThanOrEqual(relativeError(actual, expected), tolerance)
        // The input gradient's bands cover the rotated plane: the last band holds the plane's first rows.
        let g = data(c.outChannels * c.height * c.width, scale: 1, nonNegative: false, &rng)
        let expectedDx = Self.backward(pair.naive, g, c, ScratchSpace())
        let actualDx = Self.convolve(.inputGradient, pair.winograd.coefficients(), nil, g, c.outChannels,
                                     c.inChannels, c, bandRowLimit: 1)
        XCTAssertLessThanOrEqual(relativeError(actualDx, expectedDx), tolerance)
    }

    /// More workers than bands: the output channels are split into groups (3 workers: uneven groups, with
    /// and without 16-channel alignment), in both directions.
    func testChannelGroupsGiveTheSameResult() throws {
        try Parallel.withThreadCount(3) {
            var rng = SeededGenerator(seed: 14)
            for c in [Case(inChannels: 24, outChannels: 64, height: 8, width: 40), Case(inChannels: 64, outChannels: 40, height: 12, width: 36)] {
                let pair = try kernels(c, &rng)
                let x = data(c.inChannels * c.height * c.width, scale: 1, nonNegative: true, &rng)
                let g = data(c.outChannels * c.height * c.width, scale: 1, nonNegative: false, &rng)
                XCTAssertLessThanOrEqual(relativeError(Self.winogradForward(pair, x, c), Self.forward(pair.naive, x, c, ScratchSpace())),
                                         tolerance, "forward \(c)")
                XCTAssertLessThanOrEqual(relativeError(Self.winogradBackward(pair, g, c), Self.backward(pair.naive, g, c, ScratchSpace())),
                                         tolerance, "backwardInput \(c)")
            }
        }
    }

    /// The ReLU fused into the output blocks (forward) and into the reads of the gradient (input gradient)
    /// against the naive kernel's separate passes.
    func testFusedReLUMatchesSeparatePasses() throws {
        var rng = SeededGenerator(seed: 15)
        for c in [Case(inChannels: 5, outChannels: 7, height: 9, width: 37), Case(inChannels: 4, outChannels: 6, height: 6, width: 12)] {
            let pair = try kernels(c, &rng)
            let x = data(c.inChannels * c.height * c.width, scale: 1, nonNegative: false, &rng)
            let expectedY = Self.run(c.outChannels, c) { pair.naive.forwardReLU(input: x, output: $0, height: c.height, width: c.width, scratch: ScratchSpace()) }
            let y = Self.run(c.outChannels, c) { pair.winograd.forwardReLU(input: x, output: $0, height: c.height, width: c.width, scratch: ScratchSpace()) }
            XCTAssertLessThanOrEqual(relativeError(y, expectedY), tolerance, "forwardReLU \(c)")
            XCTAssertTrue(y.allSatisfy { $0 >= 0 } && y.contains(0), "forwardReLU \(c) clamps")

            let g = data(c.outChannels * c.height * c.width, scale: 1, nonNegative: false, &rng)
            func through(_ kernel: any Conv3x3Kernel) -> [Float] {
                var gradient = g
                return Self.run(c.inChannels, c) { dx in
                    gradient.withUnsafeMutableBufferPointer { gp in
                        kernel.backwardInputThroughReLU(activation: expectedY, gradient: gp.baseAddress!, gradInput: dx,
                                                        height: c.height, width: c.width, scratch: ScratchSpace())
                    }
                }
            }
            XCTAssertLessThanOrEqual(relativeError(through(pair.winograd), through(pair.naive)), tolerance,
                                     "backwardInputThroughReLU \(c)")
        }
    }

    private static func run(_ channels: Int, _ c: Case, _ body: (UnsafeMutablePointer<Float>) -> Void) -> [Float] {
        var out = [Float](repeating: .nan, count: channels * c.height * c.width)
        out.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
        return out
    }

    /// One kernel shared by threads, each with its own ScratchSpace (as FeatureNetwork shares it between
    /// sessions): the lazily built coefficients are built once and every thread gets the same answer.
    func testConcurrentUseOfOneKernel() throws {
        var rng = SeededGenerator(seed: 13)
        let c = Case(inChannels: 8, outChannels: 16, height: 12, width: 20)
        let pair = try kernels(c, &rng)
        let x = data(c.inChannels * c.height * c.width, scale: 1, nonNegative: true, &rng)
        let g = data(c.outChannels * c.height * c.width, scale: 1, nonNegative: false, &rng)
        let expectedY = Self.forward(pair.winograd, x, c, ScratchSpace())
        let fresh = try WinogradConv3x3(weight: [Float](repeating: 0.25, count: 8 * 16 * 9),
                                    bias: [Float](repeating: 0, count: 16), inChannels: 8, outChannels: 16)
        let expectedFreshY = Self.forward(fresh, x, c, ScratchSpace())
        let expectedFreshDx = Self.backward(fresh, g, c, ScratchSpace())
        let mismatches = Mutex(0)
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            let scratch = ScratchSpace()
            let ok = Self.forward(pair.winograd, x, c, scratch) == expectedY
                && Self.forward(fresh, x, c, scratch) == expectedFreshY
                && Self.backward(fresh, g, c, scratch) == expectedFreshDx
            if !ok { mismatches.withLock { $0 += 1 } }
        }
        XCTAssertEqual(mismatches.withLock { $0 }, 0)
    }

    func testRejectsMismatchedShapes() {
        XCTAssertThrowsError(try WinogradConv3x3(weight: [Float](repeating: 0, count: 17), bias: [0, 0],
                                                 inChannels: 1, outChannels: 2))
        XCTAssertThrowsError(try WinogradConv3x3(weight: [Float](repeating: 0, count: 18), bias: [0],
                                                 inChannels: 1, outChannels: 2))
        XCTAssertThrowsError(try WinogradConv3x3(weight: [], bias: [], inChannels: 0, outChannels: 0))
    }
}
