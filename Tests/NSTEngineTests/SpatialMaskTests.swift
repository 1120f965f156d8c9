import XCTest
@testable import NSTEngine

/// Masks (Gatys et al. 2017 spatial control): their propagation to the layers, the masked Gram matrix
/// and content term against naive Double references, and their gradients against finite differences.
final class SpatialMaskTests: XCTestCase {
    /// A 5x7 mask reaches relu1_1 unchanged, pool1 as 2x2 block means (floor: the last row and column
    /// dropped), and conv2_1 as pool1's.
    func testMaskIsAveragedOverEachPoolingsBlocks() throws {
        let network = StyleTransferObjectiveTests.network
        let values = randomFloats(5 * 7, in: 0...1, seed: 1)
        let mask = try SpatialMask(values: values, height: 5, width: 7, "mask")
        let (relu, pool, conv) = (network.layerIndex("relu1_1")!, network.layerIndex("pool1")!, network.layerIndex("conv2_1")!)
        let layers = try mask.atLayers([relu, pool, conv], of: network)
        XCTAssertEqual(layers[relu]?.values, values)
        var expected: [Float] = []
        for y in 0..<2 {
            for x in 0..<3 {
                let block = [values[2 * y * 7 + 2 * x], values[2 * y * 7 + 2 * x + 1],
                             values[(2 * y + 1) * 7 + 2 * x], values[(2 * y + 1) * 7 + 2 * x + 1]]
                expected.append(block.reduce(0, +) / 4)
            }
        }
        assertClose(try XCTUnwrap(layers[pool]).values, expected, tolerance: 1e-6)
        XCTAssertEqual(layers[conv]?.values, layers[pool]?.values)
        XCTAssertEqual(try XCTUnwrap(layers[pool]).mass, expected.reduce(0.0) { $0 + Double($1) }, accuracy: 1e-5)
    }

    func testBadMasksAreRefusedNamingThem() {
        XCTAssertThrowsError(try SpatialMask(values: [0, 1, 0.5], height: 2, width: 2, "content mask")) {
            XCTAssertEqual($0 as? NSTError, .shape("content mask must hold 2x2 = 4 values, got 3"))
        }
        for bad: Float in [-0.1, 1.5, .nan, .infinity] {
            XCTAssertThrowsError(try SpatialMask(values: [0, 1, 0.5, bad], height: 2, width: 2, "style region")) {
                XCTAssertEqual($0 as? NSTError, .invalidArgument("style region values must be finite and in [0, 1]"))
            }
        }
        // Sides whose product overflows are a shape error, not a trap (the initialiser is public).
        XCTAssertThrowsError(try SpatialMask(values: [], height: Int.max, width: 2, "content mask")) {
            XCTAssertEqual($0 as? NSTError, .shape("content mask sides must be 1...\(StyleTransferObjective.maxImageSide), got \(Int.max)x2"))
        }
    }

    /// More positions than a chunk on several workers, fractional and zero weights: forward and backward
    /// equal the naive products (relative 1e-5, float32 sums of 700 terms).
    func testWeightedGramForwardAndBackwardMatchNaiveProducts() throws {
        let (c, positions) = (5, 700)
        let f = randomFloats(c * positions, seed: 2)
        var w = randomFloats(positions, in: 0...1, seed: 3)
        for p in stride(from: 0, to: positions, by: 7) { w[p] = 0 }
        let gradGram = randomFloats(c * c, seed: 4)
        var gram = [Float](repeating: 0, count: c * c)
        var grad = [Float](repeating: 0, count: c * positions)
        let norm = Parallel.withThreadCount(3) {
            f.withUnsafeBufferPointer { f in
                w.withUnsafeBufferPointer { w in
                    gradGram.withUnsafeBufferPointer { g in
                        GramMatrix.forward(features: f.baseAddress!, channels: c, positions: positions, weights: w.baseAddress!,
                                           alpha: 0.5, gram: &gram)
                        GramMatrix.backward(features: f.baseAddress!, gradGram: g.baseAddress!, channels: c, positions: positions,
                                            weights: w.baseAddress!, alpha: 0.5, gradFeatures: &grad, scratch: ScratchSpace())
                        return GramMatrix.backwardL1Norm(features: f.baseAddress!, gradGram: g.baseAddress!, channels: c,
                                                         positions: positions, weights: w.baseAddress!, alpha: 0.5,
                                                         scratch: ScratchSpace())
                    }
                }
            }
        }
        assertClose(gram, NaiveWeightedGram.gram(f, channels: c, weights: w, alpha: 0.5), tolerance: 1e-5)
        let expected = NaiveWeightedGram.gradient(f, channels: c, gradGram: gradGram, weights: w, alpha: 0.5)
        assertClose(grad, expected, tolerance: 1e-5)
        XCTAssertEqual(norm, expected.reduce(0) { $0 + abs($1) }, accuracy: 1e-5 * norm)
    }

    /// With `planeStride`, the weighted Gram matrix reads each channel's positions where the stride says
    /// (a strip's rows of a larger layer), as the unweighted one does.
    func testWeightedGramHonoursThePlaneStride() {
        let (c, positions, stride) = (4, 300, 520)
        let layer = randomFloats(c * stride, seed: 8)
        let w = randomFloats(positions, in: 0...1, seed: 9)
        let rows = (0..<c).flatMap { layer[($0 * stride)..<($0 * stride + positions)] }
        var gram = [Float](repeating: 0, count: c * c)
        layer.withUnsafeBufferPointer { f in
            w.withUnsafeBufferPointer { w in
                GramMatrix.forward(features: f.baseAddress!, channels: c, positions: positions, planeStride: stride,
                                   weights: w.baseAddress!, gram: &gram)
            }
        }
        assertClose(gram, NaiveWeightedGram.gram(rows, channels: c, weights: w, alpha: 1), tolerance: 1e-5)
    }

    /// The masked style term against its definition computed naively in Double, and its gradient
    /// against central differences (h 1e-2; relative 2e-3, the float32 loss's rounding over 2h).
    func testMaskedStyleLossMatchesReferenceAndFiniteDifferences() throws {
        let (c, h, w) = (3, 3, 4)
        let maskValues = randomFloats(h * w, in: 0...1, seed: 5).enumerated().map { $0.offset % 5 == 0 ? 0 : $0.element }
        let region = LayerMask(values: maskValues)
        let target = randomFloats(c * c, in: 0...0.5, seed: 6)
        let loss = try StyleLoss(weight: 40, channels: c, target: target, region: region, normalizesGradient: false)
        let f = randomFloats(c * h * w, seed: 7)
        let gram = NaiveWeightedGram.gram(f, channels: c, weights: maskValues, alpha: 1 / (Double(c) * region.mass))
        let reference = 40 * zip(gram, target).reduce(0) { $0 + ($1.0 - Double($1.1)) * ($1.0 - Double($1.1)) } / Double(c * c)
        let (value, gradient) = try loss.evaluate(features: Tensor(channels: c, height: h, width: w, storage: f))
        XCTAssertEqual(value, reference, accuracy: 1e-5 * reference)
        let numeric = try centralDifferences(at: f, h: 1e-2) {
            try loss.evaluate(features: Tensor(channels: c, height: h, width: w, storage: $0)).loss
        }
        assertClose(gradient, numeric, tolerance: 2e-3)
        // Positions outside the mask get no gradient.
        for p in stride(from: 0, to: h * w, by: 5) { XCTAssertEqual(gradient[p], 0) }
    }

    /// An all-ones region is no region; a region of mass 0 adds nothing.
    func testFullRegionEqualsNoRegionAndEmptyRegionIsZero() throws {
        let (c, h, w) = (2, 2, 3)
        let target = randomFloats(c * c, in: 0...0.5, seed: 8)
        let f = try Tensor(channels: c, height: h, width: w, storage: randomFloats(c * h * w, seed: 9))
        let plain = try StyleLoss(weight: 3, channels: c, target: target).evaluate(features: f)
        let full = try StyleLoss(weight: 3, channels: c, target: target, region: LayerMask(values: .init(repeating: 1, count: h * w)),
                                 normalizesGradient: false).evaluate(features: f)
        XCTAssertEqual(full.loss, plain.loss, accuracy: 1e-6 * plain.loss)
        assertClose(full.gradient, plain.gradient, tolerance: 1e-6)
        let empty = try StyleLoss(weight: 3, channels: c, target: target, region: LayerMask(values: .init(repeating: 0, count: h * w)),
                                  normalizesGradient: false).evaluate(features: f)
        XCTAssertEqual(empty.loss, 0)
        XCTAssertEqual(empty.gradient, [Float](repeating: 0, count: c * h * w))
    }

    /// The masked content term: `weight · Σ m (F − T)² / N` (naive Double), gradient by central differences.
    func testMaskedContentLossMatchesReferenceAndFiniteDifferences() throws {
        let (c, positions) = (3, 6)
        let mask = randomFloats(positions, in: 0...1, seed: 10)
        let target = randomFloats(c * positions, seed: 11)
        let f = randomFloats(c * positions, seed: 12)
        let loss = ContentLoss(weight: 5, target: target, mask: LayerMask(values: mask), normalizesGradient: false)
        var reference = 0.0
        for i in 0..<(c * positions) {
            reference += Double(mask[i % positions]) * pow(Double(f[i]) - Double(target[i]), 2)
        }
        reference *= 5 / Double(c * positions)
        let (value, gradient) = try loss.evaluate(features: f)
        XCTAssertEqual(value, reference, accuracy: 1e-6 * reference)
        assertClose(gradient, try centralDifferences(at: f, h: 1e-2) { try loss.evaluate(features: $0).loss }, tolerance: 1e-3)
    }

    /// neural-style's normalisation: the gradient is `weight · d / (‖d‖₁ + 1e-8)` with `d` the gradient at
    /// weight 1, for the content and the (masked) style term; the loss is unchanged.
    func testNormalizedGradientsAreTheUnitL1GradientTimesTheWeight() throws {
        let (c, h, w) = (3, 3, 4)
        let f = randomFloats(c * h * w, seed: 13)
        let region = LayerMask(values: randomFloats(h * w, in: 0...1, seed: 14))
        let target = randomFloats(c * c, in: 0...0.5, seed: 15)
        let tensor = try Tensor(channels: c, height: h, width: w, storage: f)
        func style(_ weight: Float, _ normalized: Bool) throws -> (loss: Double, gradient: [Float]) {
            try StyleLoss(weight: weight, channels: c, target: target, region: region, normalizesGradient: normalized)
                .evaluate(features: tensor)
        }
        let contentTarget = randomFloats(c * h * w, seed: 16)
        func content(_ weight: Float, _ normalized: Bool) throws -> (loss: Double, gradient: [Float]) {
            try ContentLoss(weight: weight, target: contentTarget, mask: region, normalizesGradient: normalized).evaluate(features: f)
        }
        for term in [style, content] {
            let unit = try term(1, false).gradient
            let norm = unit.reduce(0.0) { $0 + abs(Double($1)) }
            let normalized = try term(7, true)
            XCTAssertEqual(normalized.loss, try term(7, false).loss)
            assertClose(normalized.gradient, unit.map { 7 * Double($0) / (norm + 1e-8) }, tolerance: 1e-5)
        }
    }
}
